"""Promo codes: the groups with their stock, a group's page (add, import, generate, the codes table),
blocking and redeeming. A Marketer changes; an Analyst reads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import lazy
from smartcomm.kit.pagination import PageParams
from smartcomm.models import PromoCodeGroup
from smartcomm.promocodes import redemption
from smartcomm.promocodes.importing import file_lines, text_lines
from smartcomm.promocodes.repository import STATUSES
from smartcomm.promocodes.schemas import MAX_QUANTITY, GenerateIn, GroupCreate
from smartcomm.promocodes.service import promocode_service
from smartcomm.web.deps import requires
from smartcomm.web.forms import FormErrors, PostedForm, rejected, validate_form
from smartcomm.web.templating import flash, redirect, render

router = APIRouter(prefix="/promocodes")
Viewer = Annotated[Principal, Depends(requires(Permission.PROMOCODES_VIEW))]
Editor = Annotated[Principal, Depends(requires(Permission.PROMOCODES_EDIT))]
PAGE_SIZE = 50
DEFAULT_FORMAT = "{string('A-Z', 3)}-{string('0-9', 4)}"
CHOOSE_FILE = lazy("Choose a CSV or TXT file.")
GENERATING = lazy("Generating %(count)s codes in the background: the page shows the progress.")
STATUS_LABELS = {
    "active": lazy("Active"),
    "issued": lazy("Issued"),
    "redeemed": lazy("Redeemed"),
    "blocked": lazy("Blocked"),
}


@router.get("", response_class=HTMLResponse)
def list_groups(request: Request, session: DbSession, _: Viewer) -> Response:
    """Every group with its stock: totals as cards, a bar of code states per group."""
    groups = promocode_service.groups(session)
    totals = {key: sum(getattr(g.counts, key) for g in groups) for key in ("active", "issued", "redeemed")}
    return render(request, "promocodes/list.html", {"groups": groups, "totals": totals})


@router.get("/new", response_class=HTMLResponse)
def new_group(request: Request, session: DbSession, _: Editor) -> Response:
    return _group_form(request, session, None, {}, {})


@router.post("")
def create_group(request: Request, session: DbSession, principal: Editor, form: PostedForm) -> Response:
    data, errors = validate_form(GroupCreate, form)
    if data is None:
        return _group_form(request, session, None, form, errors, status=422)
    try:
        group = promocode_service.create(session, principal.actor, data)
    except DomainError as error:
        return _group_form(request, session, None, form, rejected(session, error), status=error.status_code)
    flash(request, "The promo code group was created.")
    return redirect(request, f"/promocodes/{group.id}")


@router.get("/format-preview", response_class=HTMLResponse)
def format_preview(request: Request, _: Editor, format: str = "", quantity: str = "") -> Response:
    """Five example codes of a format and the number of different codes it makes (as the user types)."""
    amount = int(quantity) if quantity.isdigit() and 0 < int(quantity) <= MAX_QUANTITY else None
    preview = promocode_service.preview(format[:600], amount)
    return render(request, "promocodes/_preview.html", {"preview": preview})


@router.post("/redeem-file")
def redeem_file(request: Request, session: DbSession, principal: Editor, form: PostedForm) -> Response:
    """Redeem the codes of an uploaded file (a CSV's first column or one code per line)."""
    upload, back = form.get("file"), _back(form.get("back"))
    if not isinstance(upload, UploadFile) or not upload.filename:
        flash(request, str(CHOOSE_FILE), "danger")
        return redirect(request, back)
    try:
        report = redemption.redeem_lines(
            session, principal.actor, file_lines(upload.file, upload.filename), upload.filename
        )
    except DomainError as error:
        rejected(session, error)
        flash(request, error.message, "danger")
        return redirect(request, back)
    flash(request, _redeemed_message(report))
    return redirect(request, back)


@router.get("/{group_id}", response_class=HTMLResponse)
def group_page(
    request: Request,
    session: DbSession,
    _: Viewer,
    group_id: int,
    q: str = "",
    status: str = "",
    page: int = 1,
) -> Response:
    """A group: its totals and chart, adding codes, the codes table (searched, filtered, paged)."""
    group = promocode_service.get(session, group_id)
    status = status if status in STATUSES else ""
    codes = promocode_service.codes(
        session, group.id, PageParams(page=max(page, 1), size=PAGE_SIZE), status, q
    )
    context: dict[str, Any] = {
        "group": group,
        "out": promocode_service.group_out(session, group),
        "codes": codes,
        "q": q.strip(),
        "status": status,
        "statuses": STATUS_LABELS,
        "format": group.last_format or DEFAULT_FORMAT,
        "tab": request.query_params.get("tab", "paste"),
    }
    return render(request, "promocodes/detail.html", context, fragment="promocodes/_codes.html")


@router.get("/{group_id}/generation", response_class=HTMLResponse)
def generation_progress(request: Request, session: DbSession, _: Viewer, group_id: int) -> Response:
    """The progress of a background generation, which the group page polls; once it has ended, the page
    reloads to show the new counts."""
    group = promocode_service.get(session, group_id)
    out = promocode_service.group_out(session, group)
    if out.generation is None or not out.generation.running:
        return Response(status_code=200, headers={"HX-Refresh": "true"})
    return render(request, "promocodes/_generation.html", {"group": group, "out": out})


@router.get("/{group_id}/edit", response_class=HTMLResponse)
def edit_group(request: Request, session: DbSession, _: Editor, group_id: int) -> Response:
    group = promocode_service.get(session, group_id)
    values = {name: getattr(group, name) for name in GroupCreate.model_fields}
    return _group_form(request, session, group, values, {})


@router.post("/{group_id}/edit")
def update_group(
    request: Request, session: DbSession, principal: Editor, group_id: int, form: PostedForm
) -> Response:
    group = promocode_service.get(session, group_id)
    data, errors = validate_form(GroupCreate, form)
    if data is None:
        return _group_form(request, session, group, form, errors, status=422)
    try:
        promocode_service.update(session, principal.actor, group_id, data.model_copy())
    except DomainError as error:
        return _group_form(request, session, group, form, rejected(session, error), status=error.status_code)
    flash(request, "The promo code group was saved.")
    return redirect(request, f"/promocodes/{group_id}")


@router.post("/{group_id}/delete")
def delete_group(request: Request, session: DbSession, principal: Editor, group_id: int) -> Response:
    try:
        promocode_service.delete(session, principal.actor, group_id)
    except DomainError as error:
        rejected(session, error)
        flash(request, error.message, "danger")
        return redirect(request, f"/promocodes/{group_id}")
    flash(request, "The promo code group was deleted.")
    return redirect(request, "/promocodes")


@router.post("/{group_id}/block")
def block_group(request: Request, session: DbSession, principal: Editor, group_id: int) -> Response:
    promocode_service.set_blocked(session, principal.actor, group_id, True)
    flash(request, "The group is blocked: it issues no codes and its codes do not redeem.")
    return redirect(request, f"/promocodes/{group_id}")


@router.post("/{group_id}/unblock")
def unblock_group(request: Request, session: DbSession, principal: Editor, group_id: int) -> Response:
    promocode_service.set_blocked(session, principal.actor, group_id, False)
    flash(request, "The group is unblocked.")
    return redirect(request, f"/promocodes/{group_id}")


@router.post("/{group_id}/paste")
def paste_codes(
    request: Request, session: DbSession, principal: Editor, group_id: int, form: PostedForm
) -> Response:
    """Add pasted codes, one per line: all of them, or none when any line has a problem."""
    text = str(form.get("codes") or "")
    return _add(request, session, principal, group_id, "paste", lambda: text_lines(text), "paste")


@router.post("/{group_id}/import")
def import_codes(
    request: Request, session: DbSession, principal: Editor, group_id: int, form: PostedForm
) -> Response:
    """Add the codes of a CSV (first column, header optional) or TXT file, read as a stream."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _add_refused(request, session, group_id, "import", {"file": str(CHOOSE_FILE)})
    name = upload.filename
    return _add(request, session, principal, group_id, "import", lambda: file_lines(upload.file, name), name)


@router.post("/{group_id}/generate")
def generate_codes(
    request: Request, session: DbSession, principal: Editor, group_id: int, form: PostedForm
) -> Response:
    """Generate random codes of a format (a thousand take a moment; a million some seconds)."""
    data, errors = validate_form(GenerateIn, form)
    if data is None:
        return _add_refused(request, session, group_id, "generate", errors, form)
    try:
        result = promocode_service.generate(session, principal.actor, group_id, data)
    except DomainError as error:
        return _add_refused(request, session, group_id, "generate", rejected(session, error), form)
    flash(request, _generating_message(result.queued) if result.queued else _added_message(result.added))
    return redirect(request, f"/promocodes/{group_id}?tab=generate")


@router.post("/{group_id}/codes/{code_id}/{action}")
def code_action(
    request: Request,
    session: DbSession,
    principal: Editor,
    group_id: int,
    code_id: int,
    action: str,
    form: PostedForm,
) -> Response:
    """A row action on one code: block, unblock or redeem."""
    try:
        code = promocode_service.code(session, code_id, group_id)
        if action == "redeem":
            redemption.redeem(session, principal.actor, code.code)
            flash(request, "The code was redeemed.")
        elif action in ("block", "unblock"):
            promocode_service.set_code_blocked(session, principal.actor, code, action == "block")
            if action == "block":
                flash(request, "The code is blocked.")
            else:
                flash(request, "The code is unblocked.")
    except DomainError as error:
        rejected(session, error)
        flash(request, error.message, "danger")
    return redirect(request, _back(form.get("back") or f"/promocodes/{group_id}"))


# --- helpers --------------------------------------------------------------------------------------------


def _add(
    request: Request,
    session: DbSession,
    principal: Principal,
    group_id: int,
    tab: str,
    lines: Any,
    source: str,
) -> Response:
    where = lambda line: f"line {line}"  # noqa: E731
    try:
        result = promocode_service.add_codes(session, principal.actor, group_id, lines(), where, source)
    except DomainError as error:
        return _add_refused(request, session, group_id, tab, rejected(session, error), problems=error)
    flash(request, _added_message(result.added))
    return redirect(request, f"/promocodes/{group_id}?tab={tab}")


def _add_refused(
    request: Request,
    session: DbSession,
    group_id: int,
    tab: str,
    errors: FormErrors,
    form: dict[str, Any] | None = None,
    problems: DomainError | None = None,
) -> Response:
    """The group page again with the tab's form, its values and what was wrong; nothing was added."""
    group = promocode_service.get(session, group_id)
    codes = promocode_service.codes(session, group.id, PageParams(page=1, size=PAGE_SIZE))
    context: dict[str, Any] = {
        "group": group,
        "out": promocode_service.group_out(session, group),
        "codes": codes,
        "q": "",
        "status": "",
        "statuses": STATUS_LABELS,
        "format": (form or {}).get("format") or group.last_format or DEFAULT_FORMAT,
        "quantity": (form or {}).get("quantity"),
        "tab": tab,
        "errors": errors,
        "problems": problems,
    }
    return render(request, "promocodes/detail.html", context, status_code=422)


def _group_form(
    request: Request,
    session: DbSession,
    group: PromoCodeGroup | None,
    values: dict[str, Any],
    errors: FormErrors,
    *,
    status: int = 200,
) -> Response:
    context = {
        "group": group,
        "values": values,
        "errors": errors,
        "default_threshold": promocode_service.default_threshold(session),
    }
    return render(request, "promocodes/form.html", context, status_code=status)


def _back(value: object) -> str:
    """Where to go after a redeem upload: a page of this section, never another site."""
    text = str(value or "")
    return text if text.startswith("/promocodes") and "//" not in text else "/promocodes"


def _generating_message(count: int) -> str:
    return str(GENERATING) % {"count": f"{count:,}"}


def _added_message(count: int) -> str:
    return str(lazy("Codes added: %(count)s.")) % {"count": f"{count:,}"}


def _redeemed_message(report: redemption.RedeemReport) -> str:
    text = lazy("Redeemed: %(redeemed)s. Unknown: %(unknown)s. Already redeemed or blocked: %(refused)s.")
    return str(text) % {"redeemed": report.redeemed, "unknown": report.unknown, "refused": report.refused}
