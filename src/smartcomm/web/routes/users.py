"""Settings → Users: staff accounts, their roles, status and passwords (administrators only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from smartcomm.audit.service import audit_service
from smartcomm.auth.permissions import Permission, Role
from smartcomm.auth.principal import Principal
from smartcomm.auth.schemas import UserCreate, UserUpdate
from smartcomm.auth.service import user_service
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession
from smartcomm.kit.pagination import PageParams
from smartcomm.models import User
from smartcomm.web.deps import requires
from smartcomm.web.forms import FormErrors, PostedForm, rejected, validate_form
from smartcomm.web.templating import flash, redirect, render

router = APIRouter(prefix="/settings/users")
Admin = Annotated[Principal, Depends(requires(Permission.USERS_MANAGE))]


def _role_options() -> list[tuple[str, str]]:
    return [(role.value, str(role.label)) for role in Role]


@router.get("", response_class=HTMLResponse)
def list_users(
    request: Request, session: DbSession, _: Admin, q: str = "", role: str = "", page: int = 1
) -> Response:
    """Staff users with their status, role and registration date."""
    users = user_service.search(session, PageParams(page=max(page, 1)), query=q.strip(), role=role or None)
    context = {"page": users, "q": q, "role": role, "roles": _role_options()}
    return render(request, "settings/users/list.html", context, fragment="settings/users/_table.html")


@router.get("/new", response_class=HTMLResponse)
def new_user(request: Request, _: Admin) -> Response:
    return _form(request, None, {"role": Role.MARKETER.value, "language": "en", "is_active": True}, {})


@router.post("")
def create_user(request: Request, session: DbSession, principal: Admin, form: PostedForm) -> Response:
    data, errors = validate_form(UserCreate, form)
    if data is None:
        return _form(request, None, form, errors, status=422)
    try:
        user, password = user_service.create(session, principal.actor, data)
    except DomainError as error:
        return _form(request, None, form, rejected(session, error), status=error.status_code)
    return _password_page(request, user, password, created=True)


@router.get("/{user_id}", response_class=HTMLResponse)
def edit_user(request: Request, session: DbSession, _: Admin, user_id: int) -> Response:
    user = user_service.get(session, user_id)
    return _form(request, user, _values(user), {}, session=session)


@router.post("/{user_id}")
def update_user(
    request: Request, session: DbSession, principal: Admin, user_id: int, form: PostedForm
) -> Response:
    user = user_service.get(session, user_id)
    form.setdefault("expires_on", None)
    data, errors = validate_form(UserUpdate, form)
    if data is None:
        return _form(request, user, form, errors, status=422, session=session)
    try:
        user_service.update(session, principal.actor, user_id, data)
    except DomainError as error:
        return _form(request, user, form, rejected(session, error), status=error.status_code, session=session)
    flash(request, "The user was saved.")
    return redirect(request, "/settings/users")


@router.post("/{user_id}/active")
def set_active(
    request: Request, session: DbSession, principal: Admin, user_id: int, form: PostedForm
) -> Response:
    active = form.get("active") == "true"
    try:
        user_service.set_active(session, principal.actor, user_id, active)
    except DomainError as error:
        rejected(session, error)
        flash(request, error.message, "danger")
        return redirect(request, f"/settings/users/{user_id}")
    if active:
        flash(request, "The user was enabled.")
    else:
        flash(request, "The user was disabled.")
    return redirect(request, "/settings/users")


@router.post("/{user_id}/password", response_class=HTMLResponse)
def reset_password(request: Request, session: DbSession, principal: Admin, user_id: int) -> Response:
    password = user_service.reset_password(session, principal.actor, user_id)
    return _password_page(request, user_service.get(session, user_id), password, created=False)


@router.post("/{user_id}/delete")
def delete_user(request: Request, session: DbSession, principal: Admin, user_id: int) -> Response:
    try:
        user_service.delete(session, principal.actor, user_id)
    except DomainError as error:
        rejected(session, error)
        flash(request, error.message, "danger")
        return redirect(request, f"/settings/users/{user_id}")
    flash(request, "The user was deleted.")
    return redirect(request, "/settings/users")


def _values(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role,
        "language": user.language,
        "is_active": user.is_active,
        "expires_on": user.expires_on.isoformat() if user.expires_on else "",
    }


def _form(
    request: Request,
    user: User | None,
    values: dict[str, Any],
    errors: FormErrors,
    *,
    status: int = 200,
    session: Session | None = None,
) -> HTMLResponse:
    history = []
    if user is not None and session is not None:
        history = audit_service.search(
            session, PageParams(size=8), object_type="user", object_id=str(user.id)
        ).items
    context = {
        "edited": user,
        "values": values,
        "errors": errors,
        "roles": _role_options(),
        "history": history,
    }
    return render(request, "settings/users/form.html", context, status_code=status)


def _password_page(request: Request, user: User, password: str, *, created: bool) -> HTMLResponse:
    return render(
        request, "settings/users/password.html", {"edited": user, "password": password, "created": created}
    )
