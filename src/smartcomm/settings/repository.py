"""SQL of the settings table and stored files."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from smartcomm.kit.repository import Repository
from smartcomm.models import SettingValue, StoredFile


class SettingsRepository(Repository[SettingValue]):
    model = SettingValue

    def values_with_prefix(self, prefix: str) -> dict[str, Any]:
        statement = select(SettingValue).where(SettingValue.key.startswith(f"{prefix}.", autoescape=True))
        return {row.key: row.value for row in self.session.scalars(statement)}

    def put(self, key: str, value: Any) -> None:
        row = self.get(key)
        if row is None:
            self.add(SettingValue(key=key, value=value))
        else:
            row.value = value
        self.session.flush()


class StoredFileRepository(Repository[StoredFile]):
    model = StoredFile
