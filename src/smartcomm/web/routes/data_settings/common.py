"""What every data-settings page shares: the two permissions and the form handling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from smartcomm.audit.service import audit_service
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.kit.errors import DomainError
from smartcomm.kit.pagination import PageParams
from smartcomm.models import AuditEntry
from smartcomm.web.deps import requires
from smartcomm.web.forms import FormErrors, rejected, validate_form
from smartcomm.web.templating import flash, redirect

Viewer = Annotated[Principal, Depends(requires(Permission.SETTINGS_VIEW))]
Editor = Annotated[Principal, Depends(requires(Permission.SETTINGS_EDIT))]
SchemaT = TypeVar("SchemaT", bound=BaseModel)


def apply_form(
    session: Session, schema: type[SchemaT], form: dict[str, Any], action: Callable[[SchemaT], Any]
) -> tuple[Any, FormErrors, int]:
    """Validate the posted form and run the action: (result, {}, 200), or (None, field errors, status)."""
    data, errors = validate_form(schema, form)
    if data is None:
        return None, errors, 422
    try:
        return action(data), {}, 200
    except DomainError as error:
        return None, rejected(session, error), error.status_code


def refuse(request: Request, session: Session, error: DomainError, url: str) -> Response:
    """Undo the refused action, explain why in a toast and go back to `url`."""
    rejected(session, error)
    flash(request, error.message, "danger")
    return redirect(request, url)


def recent_history(session: Session, object_type: str, object_id: int | str) -> list[AuditEntry]:
    params = PageParams(size=6)
    return audit_service.search(session, params, object_type=object_type, object_id=str(object_id)).items


def posted_ids(form: dict[str, Any]) -> list[int]:
    """The posted `ids[]` list; anything that is not a number makes the list invalid (an empty list)."""
    values = form.get("ids") or []
    return [int(v) for v in values] if all(str(v).isdigit() for v in values) else []
