"""What the campaign pages share: the guards of the three permissions, and answering the editor (which asks
for JSON) and the list's forms (which want a page) from the same route."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.kit.errors import DomainError
from smartcomm.kit.i18n import gettext_
from smartcomm.web.deps import requires
from smartcomm.web.templating import flash, redirect

Viewer = Annotated[Principal, Depends(requires(Permission.CAMPAIGNS_VIEW))]
Editor = Annotated[Principal, Depends(requires(Permission.CAMPAIGNS_EDIT))]
Activator = Annotated[Principal, Depends(requires(Permission.CAMPAIGNS_ACTIVATE))]


async def read_json(request: Request) -> Any:
    """The request's JSON body (None when it is not JSON: each route says what it expected)."""
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        return None


JsonBody = Annotated[Any, Depends(read_json)]


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def problems_json(errors: Any) -> list[dict[str, str]]:
    """Problems as the editor pins them: the node's path and the message in the interface language."""
    return [{"field": error.field, "message": gettext_(error.message)} for error in errors]


def answer(request: Request, message: str, url: str, **extra: Any) -> Response:
    """Done: JSON for the editor, a toast and a redirect for a form."""
    if wants_json(request):
        return JSONResponse({"ok": True, "message": gettext_(message), "redirect": url, **extra})
    flash(request, message)
    return redirect(request, url)


def refusal(request: Request, error: DomainError, url: str) -> Response:
    """Refused: the reason (and the graph's problems) as JSON for the editor, or a toast and a redirect."""
    if wants_json(request):
        body = {"ok": False, "message": gettext_(error.message), "problems": problems_json(error.errors)}
        return JSONResponse(body, status_code=error.status_code)
    flash(request, error.message, "danger")
    return redirect(request, url)
