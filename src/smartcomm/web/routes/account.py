"""My account: every staff user's own name, interface language and password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.auth.schemas import AccountUpdate, PasswordChange
from smartcomm.auth.service import user_service
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession
from smartcomm.web.deps import requires
from smartcomm.web.forms import FormErrors, PostedForm, rejected, validate_form
from smartcomm.web.templating import flash, redirect, render

router = APIRouter(prefix="/account")
Account = Annotated[Principal, Depends(requires(Permission.ACCOUNT))]


def _page(
    request: Request,
    principal: Principal,
    *,
    profile_errors: FormErrors | None = None,
    password_errors: FormErrors | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {
        "profile_errors": profile_errors or {},
        "password_errors": password_errors or {},
        "me": principal.user,
    }
    return render(request, "account/index.html", context, status_code=status)


@router.get("", response_class=HTMLResponse)
def account(request: Request, principal: Account) -> Response:
    """The signed-in user's own account."""
    return _page(request, principal)


@router.post("")
def update_account(request: Request, session: DbSession, principal: Account, form: PostedForm) -> Response:
    data, errors = validate_form(AccountUpdate, form)
    if data is None:
        return _page(request, principal, profile_errors=errors, status=422)
    user_service.update_account(session, principal.actor, principal.user, data)
    request.session["lang"] = data.language
    flash(request, "Your account was saved.")
    return redirect(request, "/account")


@router.post("/password")
def change_password(request: Request, session: DbSession, principal: Account, form: PostedForm) -> Response:
    data, errors = validate_form(PasswordChange, form)
    if data is None:
        return _page(request, principal, password_errors=errors, status=422)
    try:
        user_service.change_own_password(session, principal.actor, principal.user, data)
    except DomainError as error:
        return _page(request, principal, password_errors=rejected(session, error), status=error.status_code)
    # The password change ended every other session; keep this one signed in.
    request.session["ver"] = principal.user.session_version
    flash(request, "Your password was changed.")
    return redirect(request, "/account")
