"""Reading and changing settings groups; every change is audited key by key."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service, diff
from smartcomm.channels.secrets import MASK, SEALED_PREFIX, seal
from smartcomm.kit.errors import FieldError, InvalidInput, NotFound
from smartcomm.models import StoredFile
from smartcomm.settings.repository import SettingsRepository, StoredFileRepository
from smartcomm.settings.schemas import SettingsGroup

GroupT = TypeVar("GroupT", bound=SettingsGroup)

# Keys holding secrets (a webhook's signing key, …): stored encrypted with the secret key, never written
# to the action history in clear; `channels.secrets.unseal` reads them back.
SECRET_SUFFIX = "_secret"  # noqa: S105 (a key suffix, not a password)

MAX_LOGO_BYTES = 512 * 1024
LOGO_TYPES = {"image/png", "image/jpeg", "image/svg+xml", "image/webp", "image/gif"}


class SettingsService:
    def read(self, session: Session, group: type[GroupT]) -> GroupT:
        """The group's current values (defaults for keys never set)."""
        stored = SettingsRepository(session).values_with_prefix(group.prefix)
        values = {key.split(".", 1)[1]: value for key, value in stored.items()}
        known = {name: value for name, value in values.items() if name in group.model_fields}
        try:
            return group.model_validate(known)
        except ValidationError:
            # A value that no longer validates (e.g. a removed time zone) falls back to the default.
            return group.model_validate({})

    def update(self, session: Session, actor: Actor, group: type[GroupT], values: dict[str, Any]) -> GroupT:
        """Validate and store changed keys of one group."""
        current = self.read(session, group)
        merged = current.model_dump() | values
        try:
            updated = group.model_validate(merged)
        except ValidationError as error:
            problems = [(str(e["loc"][0]), str(e["msg"])) for e in error.errors()]
            raise InvalidInput("Some settings are not valid", [FieldError(*p) for p in problems]) from error
        changes = diff(current.model_dump(), updated.model_dump())
        repository = SettingsRepository(session)
        stored = updated.model_dump(mode="json")
        for name in changes:
            if name.endswith(SECRET_SUFFIX):
                stored[name] = _sealed(stored[name])
                changes[name] = [MASK if value else None for value in changes[name]]
            repository.put(f"{group.prefix}.{name}", stored[name])
        updated = group.model_validate(stored)
        if changes:
            audit_service.record(
                session,
                actor,
                object_type="settings",
                object_id=group.prefix,
                action="update",
                changes=changes,
                object_label=group.prefix,
            )
        return updated

    def store_file(self, session: Session, name: str, content_type: str, data: bytes) -> StoredFile:
        if content_type not in LOGO_TYPES:
            raise InvalidInput.for_field("logo", "Upload a PNG, JPEG, SVG, WebP or GIF image")
        if len(data) > MAX_LOGO_BYTES:
            raise InvalidInput.for_field("logo", "The image must be at most 512 KB")
        return StoredFileRepository(session).add(
            StoredFile(name=name[:255], content_type=content_type, data=data)
        )

    def get_file(self, session: Session, file_id: int) -> StoredFile:
        stored = StoredFileRepository(session).get(file_id)
        if stored is None:
            raise NotFound("File", file_id)
        return stored


settings_service = SettingsService()


def _sealed(value: Any) -> Any:
    if not value or str(value).startswith(SEALED_PREFIX):
        return value
    return seal(str(value))
