"""Settings → Fields: system and custom fields per object, and their two orders (profile, segment builder)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, StringConstraints
from sqlalchemy import JSON, cast, func, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB
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
from smartcomm.fields.repository import FieldRepository
from smartcomm.kit.errors import Conflict, FieldError, NotFound
from smartcomm.kit.i18n import lazy
from smartcomm.models import Category, Customer, FieldDefinition, Product, Receipt, ReceiptLine
from smartcomm.models.data_settings import FIELD_OBJECTS

OBJECT_TYPE = "field"
AUDITED = ("object", "code", "name", "type", "group", "show_in_profile")
FieldObject = Literal["customer", "receipt", "receipt_line", "product", "category"]
FieldType = Literal["string", "integer", "decimal", "boolean", "date", "datetime"]
OrderKind = Literal["profile", "builder"]
ORDER_COLUMNS: dict[str, str] = {"profile": "profile_order", "builder": "builder_order"}
# The table behind each object: its columns are reserved, and custom values live in its `custom` JSON.
OBJECT_MODELS: dict[str, type[Customer | Receipt | ReceiptLine | Product | Category]] = {
    "customer": Customer,
    "receipt": Receipt,
    "receipt_line": ReceiptLine,
    "product": Product,
    "category": Category,
}

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Group = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None


class FieldCreate(BaseModel):
    object: FieldObject
    code: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    name: Name
    type: FieldType
    group: Group = None
    show_in_profile: bool = True


class FieldUpdate(BaseModel):
    name: Name
    group: Group = None
    show_in_profile: bool = True
    # Only custom fields may change type, and only while no record holds a value.
    type: FieldType | None = None


class FieldSettingsRepository(FieldRepository):
    def ordered(self, obj: str, kind: str) -> list[FieldDefinition]:
        column = getattr(FieldDefinition, ORDER_COLUMNS[kind])
        statement = select(FieldDefinition).where(FieldDefinition.object == obj)
        return list(self.session.scalars(statement.order_by(column, FieldDefinition.id)))

    def by_code(self, obj: str, code: str) -> FieldDefinition | None:
        statement = select(FieldDefinition).where(FieldDefinition.object == obj, FieldDefinition.code == code)
        return self.session.scalar(statement)

    def next_positions(self, obj: str) -> tuple[int, int]:
        statement = select(
            func.coalesce(func.max(FieldDefinition.profile_order), 0),
            func.coalesce(func.max(FieldDefinition.builder_order), 0),
        ).where(FieldDefinition.object == obj)
        profile, builder = self.session.execute(statement).one()
        return int(profile) + 1, int(builder) + 1

    def counts_by_object(self) -> dict[str, int]:
        statement = select(FieldDefinition.object, func.count()).group_by(FieldDefinition.object)
        return {obj: int(count) for obj, count in self.session.execute(statement)}

    def groups(self, obj: str) -> list[str]:
        statement = (
            select(FieldDefinition.group)
            .where(FieldDefinition.object == obj, FieldDefinition.group.is_not(None))
            .distinct()
            .order_by(FieldDefinition.group)
        )
        return [group for group in self.session.scalars(statement) if group]

    def has_values(self, obj: str, code: str) -> bool:
        model = OBJECT_MODELS[obj]
        statement = select(literal(1)).where(model.custom[code].as_string().is_not(None)).limit(1)
        return self.session.scalar(statement) is not None

    def remove_values(self, obj: str, code: str) -> int:
        """Strip one custom key from every record of the object that holds a value for it."""
        model = OBJECT_MODELS[obj]
        column = model.custom
        if self.session.get_bind().dialect.name == "postgresql":
            stripped: Any = cast(cast(column, JSONB).op("-")(code), JSON)
        else:
            stripped = func.json_remove(column, f'$."{code}"')
        statement = (
            update(model)
            .where(column[code].as_string().is_not(None))
            .values(custom=stripped)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(self.session.execute(statement), "rowcount", 0) or 0)


def reserved_codes(obj: str) -> set[str]:
    """Column names of the object's table: a custom field must not shadow them in the API."""
    return {column.name for column in OBJECT_MODELS[obj].__table__.columns}


def _label(field: FieldDefinition) -> str:
    return f"{field.name} ({field.object}.{field.code})"


class FieldSettingsService:
    def ordered(self, session: Session, obj: str, kind: str = "profile") -> list[FieldDefinition]:
        """The fields of one object in the profile or the segment-builder order."""
        if obj not in FIELD_OBJECTS:
            raise NotFound("Object", obj)
        if kind not in ORDER_COLUMNS:
            raise NotFound("Order", kind)
        return FieldSettingsRepository(session).ordered(obj, kind)

    def counts(self, session: Session) -> dict[str, int]:
        return FieldSettingsRepository(session).counts_by_object()

    def groups(self, session: Session, obj: str) -> list[str]:
        return FieldSettingsRepository(session).groups(obj)

    def get(self, session: Session, field_id: int) -> FieldDefinition:
        field = FieldSettingsRepository(session).get(field_id)
        if field is None:
            raise NotFound("Field", field_id)
        return field

    def create(self, session: Session, actor: Actor, data: FieldCreate) -> FieldDefinition:
        """Add a custom field at the end of both orders."""
        repository = FieldSettingsRepository(session)
        code = check_code(data.code, NAME_CODE, NAME_CODE_RULE)
        self._ensure_code_free(repository, data.object, code)
        profile_order, builder_order = repository.next_positions(data.object)
        field = repository.add(
            FieldDefinition(
                object=data.object,
                code=code,
                name=data.name,
                type=data.type,
                group=data.group or None,
                is_system=False,
                show_in_profile=data.show_in_profile,
                profile_order=profile_order,
                builder_order=builder_order,
            )
        )
        record(
            session, actor, OBJECT_TYPE, field.id, "create", diff({}, snapshot(field, AUDITED)), _label(field)
        )
        return field

    def update(self, session: Session, actor: Actor, field_id: int, data: FieldUpdate) -> FieldDefinition:
        """Rename a field, move it to another group, show or hide it in the profile, retype a custom one."""
        field = self.get(session, field_id)
        before = snapshot(field, AUDITED)
        if data.type is not None and data.type != field.type:
            self._ensure_retypable(FieldSettingsRepository(session), field)
            field.type = data.type
        field.name = data.name
        field.group = data.group or None
        field.show_in_profile = data.show_in_profile
        session.flush()
        changes = diff(before, snapshot(field, AUDITED))
        if changes:
            record(session, actor, OBJECT_TYPE, field.id, "update", changes, _label(field))
        return field

    def delete(self, session: Session, actor: Actor, field_id: int) -> None:
        """Delete a custom field and the values records hold for it."""
        repository = FieldSettingsRepository(session)
        field = self.get(session, field_id)
        if field.is_system:
            raise Conflict("System fields cannot be deleted")
        removed = repository.remove_values(field.object, field.code)
        changes = diff(snapshot(field, AUDITED), {}) | {"stored_values": [removed, 0]}
        record(session, actor, OBJECT_TYPE, field.id, "delete", changes, _label(field))
        repository.delete(field)

    def reorder(self, session: Session, actor: Actor, obj: str, kind: str, ids: Sequence[int]) -> None:
        """Rewrite one order of an object's fields from the complete list of ids, first to last."""
        fields = self.ordered(session, obj, kind)
        check_permutation([field.id for field in fields], ids)
        column = ORDER_COLUMNS[kind]
        by_id = {field.id: field for field in fields}
        for position, field_id in enumerate(ids, start=1):
            setattr(by_id[field_id], column, position)
        session.flush()
        before, after = [f.code for f in fields], [by_id[i].code for i in ids]
        if before != after:
            record(session, actor, OBJECT_TYPE, obj, "reorder", {column: [before, after]}, f"{obj} fields")

    def _ensure_code_free(self, repository: FieldSettingsRepository, obj: str, code: str) -> None:
        existing = repository.by_code(obj, code)
        if code in reserved_codes(obj) or (existing is not None and existing.is_system):
            raise duplicate_code(lazy("This code belongs to a system field"))
        if existing is not None:
            raise duplicate_code(lazy("A field with this code already exists"))

    def _ensure_retypable(self, repository: FieldSettingsRepository, field: FieldDefinition) -> None:
        if field.is_system:
            raise Conflict(
                "System fields keep their type", [FieldError("type", "System fields keep their type")]
            )
        if repository.has_values(field.object, field.code):
            message = lazy("Records already hold values of this field, so its type cannot change")
            raise Conflict(message, [FieldError("type", message)])


field_settings = FieldSettingsService()
