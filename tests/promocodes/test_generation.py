"""Code formats and generation: errors name their position, a too small space is refused, no duplicates,
and exactly the asked number is added even when drawn codes collide with stored ones."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from smartcomm.kit.errors import Conflict, InvalidInput
from smartcomm.promocodes.generation import FormatError, parse_format, parse_ranges
from smartcomm.promocodes.schemas import GenerateIn
from smartcomm.promocodes.service import promocode_service
from tests.promocodes.helpers import ACTOR, actions, add, codes_of, count_codes, make_group


def test_a_format_makes_codes_of_its_shape() -> None:
    code_format = parse_format("{string('A-Z', 3)}-{string('0-9', 4)}")
    assert code_format.space == 26**3 * 10**4
    assert all(re.fullmatch(r"[A-Z]{3}-[0-9]{4}", code) for code in code_format.sample(200))


def test_ranges_mix_spans_and_lists() -> None:
    assert parse_ranges("0-9A-F") == "0123456789ABCDEF"
    assert parse_ranges("ABCDEF") == "ABCDEF"
    assert parse_ranges("a-cA") == "abcA"


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("{string('A-Z', 3)", 1),  # no closing brace
        ("AB}", 3),
        ("X-{strng('A-Z', 3)}", 3),
        ("{string('Z-A', 2)}", 10),
        ("{string('A-Z', 0)}", 16),
        ("AB CD", 3),
        ("{string('', 3)}", 10),
    ],
)
def test_a_format_error_names_its_position(text: str, position: int) -> None:
    with pytest.raises(FormatError) as raised:
        parse_format(text)
    assert raised.value.position == position
    assert raised.value.errors[0].field == "format"
    assert f"position {position}" in raised.value.errors[0].message


def test_a_space_smaller_than_twice_the_quantity_is_refused_and_nothing_is_written(session: Session) -> None:
    group = make_group(session)
    with pytest.raises(InvalidInput) as raised:
        promocode_service.generate(
            session, ACTOR, group.id, GenerateIn(format="X{string('0-9', 2)}", quantity=51)
        )
    assert raised.value.errors[0].field == "format"
    assert "100" in raised.value.errors[0].message and "102" in raised.value.errors[0].message
    assert count_codes(session) == 0


def test_generation_adds_exactly_the_quantity_without_duplicates(session: Session) -> None:
    group = make_group(session)
    result = promocode_service.generate(
        session, ACTOR, group.id, GenerateIn(format="{string('A-Z', 3)}-{string('0-9', 4)}", quantity=1000)
    )
    codes = codes_of(session, group.id)
    assert result.added == 1000 and len(codes) == 1000 and result.counts.active == 1000
    assert group.last_format == "{string('A-Z', 3)}-{string('0-9', 4)}"
    assert actions(session)[-1] == "generate_codes"


def test_codes_colliding_with_stored_ones_are_topped_up_to_the_exact_quantity(session: Session) -> None:
    # A tiny space: 100 codes, 30 of them stored already (in another group); 40 new ones are asked for.
    other = make_group(session)
    add(session, other, *[f"Q{n:02d}" for n in range(30)])
    group = make_group(session)
    result = promocode_service.generate(
        session, ACTOR, group.id, GenerateIn(format="Q{string('0-9', 2)}", quantity=40)
    )
    new = codes_of(session, group.id)
    assert result.added == 40 and len(new) == 40
    assert not set(new) & set(codes_of(session, other.id))
    assert count_codes(session) == 70


def test_a_format_whose_codes_are_nearly_all_taken_is_refused_as_a_whole(session: Session) -> None:
    other = make_group(session)
    add(session, other, *[f"{n}" for n in range(10)])
    group = make_group(session)
    with pytest.raises(Conflict):
        # Every code of the format is stored already: the bounded rounds give up instead of looping.
        promocode_service.generate(
            session, ACTOR, group.id, GenerateIn(format="{string('0-9', 1)}", quantity=5)
        )
    assert codes_of(session, group.id) == {}
