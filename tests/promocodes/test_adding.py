"""Adding lists of codes: pasted or uploaded as a stream; repeats and codes stored in any group are
reported with their line numbers and nothing of the list is kept."""

from __future__ import annotations

import io

import pytest
from sqlalchemy.orm import Session

from smartcomm.promocodes.importing import CodesRejected, file_lines, text_lines
from smartcomm.promocodes.service import promocode_service
from tests.promocodes.helpers import ACTOR, actions, add, codes_of, count_codes, make_group


def where(line: int) -> str:
    return f"line {line}"


def test_pasted_codes_are_stripped_and_added_with_a_history_row(session: Session) -> None:
    group = make_group(session)
    result = promocode_service.add_codes(
        session, ACTOR, group.id, text_lines("  AB-1 \n\nab-1\nAB-2\n"), where, "paste"
    )
    assert result.added == 3 and set(codes_of(session, group.id)) == {"AB-1", "ab-1", "AB-2"}
    assert actions(session) == ["create", "add_codes"]


def test_repeats_and_stored_codes_are_reported_by_line_and_nothing_is_written(session: Session) -> None:
    other = make_group(session)
    add(session, other, "TAKEN")
    group = make_group(session)
    text = "NEW-1\nNEW-2\nNEW-1\nTAKEN\nhas space\n" + "x" * 65 + "\n"
    with pytest.raises(CodesRejected) as raised:
        promocode_service.add_codes(session, ACTOR, group.id, text_lines(text), where, "paste")
    found = {(e.field, e.code) for e in raised.value.errors}
    assert found == {
        ("line 3", "repeated"),
        ("line 4", "exists"),
        ("line 5", "invalid"),
        ("line 6", "too_long"),
    }
    assert raised.value.status_code == 422
    session.rollback()
    assert codes_of(session, group.id) == {}


def test_a_problem_after_a_written_batch_still_leaves_nothing(session: Session) -> None:
    group = make_group(session)
    session.commit()
    lines = [f"C{n:06d}" for n in range(12_000)] + ["C000001"]
    with pytest.raises(CodesRejected) as raised:
        promocode_service.add_codes(session, ACTOR, group.id, text_lines("\n".join(lines)), where, "paste")
    assert [(e.field, e.code) for e in raised.value.errors] == [("line 12001", "repeated")]
    session.rollback()
    assert count_codes(session) == 0


def test_a_csv_file_gives_its_first_column_and_skips_a_header() -> None:
    data = b'code;nominal\nA-1;500\n"B;2";300\nC-3\n'
    assert [(n, c) for n, c in file_lines(io.BytesIO(data), "codes.CSV") if c] == [
        (2, "A-1"),
        (3, "B;2"),
        (4, "C-3"),
    ]


def test_a_txt_file_gives_its_lines_and_a_bom_is_dropped() -> None:
    data = "\ufeffA-1\r\nB-2\n".encode()
    assert [(n, c.strip()) for n, c in file_lines(io.BytesIO(data), "codes.txt")] == [(1, "A-1"), (2, "B-2")]


def test_a_file_that_is_not_utf8_is_refused_naming_the_field(session: Session) -> None:
    group = make_group(session)
    with pytest.raises(Exception) as raised:
        promocode_service.add_codes(
            session, ACTOR, group.id, file_lines(io.BytesIO(b"\xff\xfeA\x00"), "x.txt"), where, "file"
        )
    assert getattr(raised.value, "errors", [None])[0].field == "file"
