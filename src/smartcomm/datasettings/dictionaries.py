"""Settings → Dictionaries: key–value lists; the system one holds the reasons offered on unsubscribing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from pydantic import BaseModel, StringConstraints
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import diff
from smartcomm.datasettings.common import (
    NAME_CODE,
    NAME_CODE_RULE,
    check_code,
    check_permutation,
    duplicate_code,
    record,
    snapshot,
)
from smartcomm.kit.errors import Conflict, NotFound
from smartcomm.kit.i18n import lazy
from smartcomm.kit.repository import Repository
from smartcomm.models import Dictionary, DictionaryItem

OBJECT_TYPE = "dictionary"
AUDITED = ("code", "name")
Code = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Value = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class DictionaryCreate(BaseModel):
    code: Code
    name: Name


class DictionaryUpdate(BaseModel):
    name: Name


class ItemCreate(BaseModel):
    code: Code
    value: Value


class ItemUpdate(BaseModel):
    value: Value


class DictionaryRepository(Repository[Dictionary]):
    model = Dictionary

    def with_item_counts(self) -> list[tuple[Dictionary, int]]:
        counts = (
            select(DictionaryItem.dictionary_id, func.count().label("item_count"))
            .group_by(DictionaryItem.dictionary_id)
            .subquery()
        )
        statement = (
            select(Dictionary, func.coalesce(counts.c.item_count, 0))
            .outerjoin(counts, counts.c.dictionary_id == Dictionary.id)
            .order_by(Dictionary.is_system.desc(), Dictionary.name)
        )
        return [(dictionary, int(items)) for dictionary, items in self.session.execute(statement)]

    def by_code(self, code: str) -> Dictionary | None:
        return self.session.scalar(select(Dictionary).where(Dictionary.code == code))

    def items(self, dictionary_id: int) -> list[DictionaryItem]:
        statement = select(DictionaryItem).where(DictionaryItem.dictionary_id == dictionary_id)
        return list(self.session.scalars(statement.order_by(DictionaryItem.position, DictionaryItem.id)))

    def item(self, dictionary_id: int, item_id: int) -> DictionaryItem | None:
        statement = select(DictionaryItem).where(
            DictionaryItem.dictionary_id == dictionary_id, DictionaryItem.id == item_id
        )
        return self.session.scalar(statement)

    def item_by_code(self, dictionary_id: int, code: str) -> DictionaryItem | None:
        statement = select(DictionaryItem).where(
            DictionaryItem.dictionary_id == dictionary_id, DictionaryItem.code == code
        )
        return self.session.scalar(statement)

    def next_position(self, dictionary_id: int) -> int:
        statement = select(func.coalesce(func.max(DictionaryItem.position), 0)).where(
            DictionaryItem.dictionary_id == dictionary_id
        )
        return int(self.session.scalar(statement) or 0) + 1

    def delete_items(self, dictionary_id: int) -> None:
        self.session.execute(delete(DictionaryItem).where(DictionaryItem.dictionary_id == dictionary_id))


def _label(dictionary: Dictionary) -> str:
    return f"{dictionary.name} ({dictionary.code})"


class DictionaryService:
    def overview(self, session: Session) -> list[tuple[Dictionary, int]]:
        """Every dictionary with its number of items, the system one first."""
        return DictionaryRepository(session).with_item_counts()

    def get(self, session: Session, dictionary_id: int) -> Dictionary:
        dictionary = DictionaryRepository(session).get(dictionary_id)
        if dictionary is None:
            raise NotFound("Dictionary", dictionary_id)
        return dictionary

    def items(self, session: Session, dictionary_id: int) -> list[DictionaryItem]:
        """The items of a dictionary in their order."""
        return DictionaryRepository(session).items(self.get(session, dictionary_id).id)

    def create(self, session: Session, actor: Actor, data: DictionaryCreate) -> Dictionary:
        """Add a custom dictionary; its code is what the API and templates use."""
        repository = DictionaryRepository(session)
        code = check_code(data.code, NAME_CODE, NAME_CODE_RULE)
        if repository.by_code(code) is not None:
            raise duplicate_code(lazy("A dictionary with this code already exists"))
        dictionary = repository.add(Dictionary(code=code, name=data.name, is_system=False))
        changes = diff({}, snapshot(dictionary, AUDITED))
        record(session, actor, OBJECT_TYPE, dictionary.id, "create", changes, _label(dictionary))
        return dictionary

    def rename(
        self, session: Session, actor: Actor, dictionary_id: int, data: DictionaryUpdate
    ) -> Dictionary:
        """Rename a custom dictionary (the system one keeps its name)."""
        dictionary = self.get(session, dictionary_id)
        if dictionary.is_system:
            raise Conflict("The system dictionary cannot be renamed")
        before = snapshot(dictionary, AUDITED)
        dictionary.name = data.name
        session.flush()
        changes = diff(before, snapshot(dictionary, AUDITED))
        if changes:
            record(session, actor, OBJECT_TYPE, dictionary.id, "update", changes, _label(dictionary))
        return dictionary

    def delete(self, session: Session, actor: Actor, dictionary_id: int) -> None:
        """Delete a custom dictionary with its items."""
        repository = DictionaryRepository(session)
        dictionary = self.get(session, dictionary_id)
        if dictionary.is_system:
            raise Conflict("The system dictionary cannot be deleted")
        items = {f"items.{item.code}": [item.value, None] for item in repository.items(dictionary.id)}
        changes = diff(snapshot(dictionary, AUDITED), {}) | items
        record(session, actor, OBJECT_TYPE, dictionary.id, "delete", changes, _label(dictionary))
        repository.delete_items(dictionary.id)
        repository.delete(dictionary)

    def add_item(
        self, session: Session, actor: Actor, dictionary_id: int, data: ItemCreate
    ) -> DictionaryItem:
        """Append an item (code + value) to a dictionary."""
        repository = DictionaryRepository(session)
        dictionary = self.get(session, dictionary_id)
        code = check_code(data.code, NAME_CODE, NAME_CODE_RULE)
        if repository.item_by_code(dictionary.id, code) is not None:
            raise duplicate_code(lazy("This dictionary already has an item with this code"))
        item = DictionaryItem(
            dictionary_id=dictionary.id,
            code=code,
            value=data.value,
            position=repository.next_position(dictionary.id),
        )
        session.add(item)
        session.flush()
        self._audit_items(session, actor, dictionary, {f"items.{code}": [None, item.value]})
        return item

    def update_item(
        self, session: Session, actor: Actor, dictionary_id: int, item_id: int, data: ItemUpdate
    ) -> DictionaryItem:
        """Change the value of an item (its code stays: stored answers refer to it)."""
        dictionary = self.get(session, dictionary_id)
        item = self._item(session, dictionary.id, item_id)
        before = item.value
        item.value = data.value
        session.flush()
        if before != item.value:
            self._audit_items(session, actor, dictionary, {f"items.{item.code}": [before, item.value]})
        return item

    def delete_item(self, session: Session, actor: Actor, dictionary_id: int, item_id: int) -> None:
        """Remove an item from a dictionary."""
        dictionary = self.get(session, dictionary_id)
        item = self._item(session, dictionary.id, item_id)
        self._audit_items(session, actor, dictionary, {f"items.{item.code}": [item.value, None]})
        session.delete(item)
        session.flush()

    def reorder_items(self, session: Session, actor: Actor, dictionary_id: int, ids: Sequence[int]) -> None:
        """Rewrite the order of a dictionary's items from the complete list of ids."""
        dictionary = self.get(session, dictionary_id)
        items = DictionaryRepository(session).items(dictionary.id)
        check_permutation([item.id for item in items], ids)
        by_id = {item.id: item for item in items}
        for position, item_id in enumerate(ids, start=1):
            by_id[item_id].position = position
        session.flush()
        before, after = [item.code for item in items], [by_id[i].code for i in ids]
        if before != after:
            record(
                session,
                actor,
                OBJECT_TYPE,
                dictionary.id,
                "reorder",
                {"items": [before, after]},
                _label(dictionary),
            )

    def _item(self, session: Session, dictionary_id: int, item_id: int) -> DictionaryItem:
        item = DictionaryRepository(session).item(dictionary_id, item_id)
        if item is None:
            raise NotFound("Dictionary item", item_id)
        return item

    def _audit_items(
        self, session: Session, actor: Actor, dictionary: Dictionary, changes: dict[str, list[object]]
    ) -> None:
        record(session, actor, OBJECT_TYPE, dictionary.id, "update", changes, _label(dictionary))


dictionary_service = DictionaryService()
