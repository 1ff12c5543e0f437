"""SQL of field definitions."""

from __future__ import annotations

from sqlalchemy import select

from smartcomm.kit.repository import Repository
from smartcomm.models import FieldDefinition


class FieldRepository(Repository[FieldDefinition]):
    model = FieldDefinition

    def for_object(self, obj: str) -> list[FieldDefinition]:
        statement = select(FieldDefinition).where(FieldDefinition.object == obj)
        return list(
            self.session.scalars(statement.order_by(FieldDefinition.profile_order, FieldDefinition.id))
        )

    def custom_types(self, obj: str) -> dict[str, str]:
        statement = select(FieldDefinition.code, FieldDefinition.type).where(
            FieldDefinition.object == obj, FieldDefinition.is_system.is_(False)
        )
        return dict(self.session.execute(statement).all())
