"""Settings → Dictionaries: the protected system dictionary, custom dictionaries, items and their order."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from smartcomm.datasettings.dictionaries import (
    DictionaryCreate,
    DictionaryUpdate,
    ItemCreate,
    ItemUpdate,
    dictionary_service,
)
from smartcomm.kit.errors import Conflict, InvalidInput
from smartcomm.models import Dictionary, DictionaryItem
from smartcomm.models.data_settings import UNSUBSCRIBE_REASONS_CODE
from tests.datasettings.helpers import ACTOR, audit_rows, count


def reasons(session: Session) -> Dictionary:
    return next(d for d, _ in dictionary_service.overview(session) if d.code == UNSUBSCRIBE_REASONS_CODE)


def values(session: Session, dictionary: Dictionary) -> list[str]:
    return [item.value for item in dictionary_service.items(session, dictionary.id)]


def test_the_system_dictionary_ships_with_two_reasons(session: Session) -> None:
    overview = dictionary_service.overview(session)
    assert [(d.code, d.is_system, items) for d, items in overview] == [(UNSUBSCRIBE_REASONS_CODE, True, 2)]
    assert values(session, reasons(session)) == [
        "I receive messages too often",
        "The messages are not relevant to me",
    ]


def test_the_system_dictionary_cannot_be_renamed_or_deleted(session: Session) -> None:
    system = reasons(session)
    with pytest.raises(Conflict, match="cannot be renamed"):
        dictionary_service.rename(session, ACTOR, system.id, DictionaryUpdate(name="Reasons"))
    with pytest.raises(Conflict, match="cannot be deleted"):
        dictionary_service.delete(session, ACTOR, system.id)
    assert (system.name, count(session, DictionaryItem)) == ("Unsubscribe reasons", 2)


def test_items_of_the_system_dictionary_can_be_added_edited_and_deleted(session: Session) -> None:
    system = reasons(session)
    added = dictionary_service.add_item(
        session, ACTOR, system.id, ItemCreate(code="too_expensive", value="Too pricey")
    )
    first = dictionary_service.items(session, system.id)[0]
    dictionary_service.update_item(session, ACTOR, system.id, first.id, ItemUpdate(value="Too many messages"))
    dictionary_service.delete_item(
        session, ACTOR, system.id, dictionary_service.items(session, system.id)[1].id
    )

    assert values(session, system) == ["Too many messages", "Too pricey"]
    assert added.position == 3
    changes = [entry.changes for entry in audit_rows(session, "dictionary")]
    assert changes == [
        {"items.too_expensive": [None, "Too pricey"]},
        {"items.too_often": ["I receive messages too often", "Too many messages"]},
        {"items.not_relevant": ["The messages are not relevant to me", None]},
    ]


def test_a_custom_dictionary_is_created_renamed_and_deleted_with_its_items(session: Session) -> None:
    formats = dictionary_service.create(
        session, ACTOR, DictionaryCreate(code="store_formats", name="Formats")
    )
    dictionary_service.add_item(session, ACTOR, formats.id, ItemCreate(code="hyper", value="Hypermarket"))
    dictionary_service.rename(session, ACTOR, formats.id, DictionaryUpdate(name="Store formats"))
    assert formats.name == "Store formats"

    dictionary_service.delete(session, ACTOR, formats.id)

    assert session.get(Dictionary, formats.id) is None
    assert count(session, DictionaryItem) == 2
    deleted = audit_rows(session, "dictionary")[-1]
    assert deleted.action == "delete"
    assert deleted.changes["items.hyper"] == ["Hypermarket", None]


@pytest.mark.parametrize(
    ("code", "field", "message"),
    [
        ("Store-Formats", "code", "lowercase Latin letters"),
        (UNSUBSCRIBE_REASONS_CODE, "code", "already exists"),
    ],
)
def test_a_bad_dictionary_code_names_the_field_and_writes_nothing(
    session: Session, code: str, field: str, message: str
) -> None:
    with pytest.raises((InvalidInput, Conflict)) as refused:
        dictionary_service.create(session, ACTOR, DictionaryCreate(code=code, name="Formats"))
    assert refused.value.errors[0].field == field  # type: ignore[attr-defined]
    assert message in refused.value.errors[0].message  # type: ignore[attr-defined]
    assert count(session, Dictionary) == 1
    assert audit_rows(session, "dictionary") == []


def test_item_codes_are_checked_and_unique_within_a_dictionary(session: Session) -> None:
    system = reasons(session)
    with pytest.raises(Conflict) as duplicate:
        dictionary_service.add_item(session, ACTOR, system.id, ItemCreate(code="too_often", value="Again"))
    with pytest.raises(InvalidInput) as malformed:
        dictionary_service.add_item(session, ACTOR, system.id, ItemCreate(code="too often", value="Again"))
    assert duplicate.value.errors[0].field == malformed.value.errors[0].field == "code"
    assert count(session, DictionaryItem) == 2


def test_items_are_reordered_from_the_whole_list(session: Session) -> None:
    system = reasons(session)
    dictionary_service.add_item(session, ACTOR, system.id, ItemCreate(code="moved", value="I moved away"))
    ids = [item.id for item in dictionary_service.items(session, system.id)]

    dictionary_service.reorder_items(session, ACTOR, system.id, [ids[2], ids[0], ids[1]])

    assert [i.code for i in dictionary_service.items(session, system.id)] == [
        "moved",
        "too_often",
        "not_relevant",
    ]
    entry = audit_rows(session, "dictionary")[-1]
    assert entry.action == "reorder"
    assert entry.changes == {
        "items": [["too_often", "not_relevant", "moved"], ["moved", "too_often", "not_relevant"]]
    }
    with pytest.raises(InvalidInput):
        dictionary_service.reorder_items(session, ACTOR, system.id, ids[:2])
