"""Rules shared by every data-settings object: code formats, ordering, snapshots and the audit row."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service
from smartcomm.kit.errors import Conflict, FieldError, InvalidInput
from smartcomm.kit.i18n import lazy

# Codes that templates and segment conditions use as names: no hyphens, they must read as identifiers.
NAME_CODE = re.compile(r"[a-z][a-z0-9_]*")
NAME_CODE_RULE = lazy("Use lowercase Latin letters, digits and underscores, starting with a letter")
# Codes that other systems send (API, tracker, catalogue import): hyphens are common there.
INTEGRATION_CODE = re.compile(r"[a-z0-9][a-z0-9_-]*")
INTEGRATION_CODE_RULE = lazy("Use lowercase Latin letters, digits, hyphens and underscores")
MAX_CODE_LENGTH = 64


def check_code(value: str, pattern: re.Pattern[str], rule: str, field: str = "code") -> str:
    """The code stripped, or an error naming `field` that explains the allowed characters."""
    code = value.strip()
    if not code:
        raise InvalidInput.for_field(field, "Enter a code")
    if len(code) > MAX_CODE_LENGTH:
        raise InvalidInput.for_field(field, "The code is too long (at most 64 characters)")
    if not pattern.fullmatch(code):
        raise InvalidInput.for_field(field, rule)
    return code


def duplicate_code(message: str, field: str = "code") -> Conflict:
    return Conflict(message, [FieldError(field, message, "duplicate")])


def check_permutation(current_ids: Sequence[int], ordered_ids: Sequence[int], field: str = "ids") -> None:
    """A reorder must name every row of the list exactly once (a stale page must not lose rows)."""
    if len(ordered_ids) != len(set(ordered_ids)) or set(ordered_ids) != set(current_ids):
        raise InvalidInput.for_field(
            field, "The list has changed since the page was opened; reload the page and try again"
        )


def snapshot(instance: object, names: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in names}


def record(
    session: Session,
    actor: Actor,
    object_type: str,
    object_id: object,
    action: str,
    changes: dict[str, list[Any]],
    label: str,
) -> None:
    audit_service.record(
        session,
        actor,
        object_type=object_type,
        object_id=object_id,
        action=action,
        changes=changes,
        object_label=label,
    )
