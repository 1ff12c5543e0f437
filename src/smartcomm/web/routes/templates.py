"""Templates: the library per channel, the editors (visual MJML, MJML or HTML code, SMS, Viber, push),
previews for a customer or the test customer, and versions.

Rendered e-mails are never put into the back office's own pages: they are served by `…/frame` routes
with a Content-Security-Policy of their own (a sandbox without scripts) and shown in `sandbox=""`
iframes, so a template's HTML can neither run code nor reach the signed-in session.
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.channels.base import EmailContent, PushContent, SmsContent, ViberContent
from smartcomm.customers.service import customer_service
from smartcomm.kit.errors import Conflict, DomainError, NotFound
from smartcomm.kit.http import CONTENT_SECURITY_POLICY, DbSession
from smartcomm.kit.i18n import gettext_, lazy
from smartcomm.kit.pagination import PageParams
from smartcomm.models import MessageTemplate, MessageTemplateVersion
from smartcomm.personalization.engine import compile_draft, render_part
from smartcomm.personalization.errors import Problem, RenderError, TemplateInvalid
from smartcomm.personalization.preparation import content_of, version_fields
from smartcomm.personalization.renderer import (
    CHANNEL_PARTS,
    RenderedContent,
    VersionSource,
    compile_version,
    render_compiled,
)
from smartcomm.personalization.runtime import RenderState
from smartcomm.personalization.sample import sample_customer_context
from smartcomm.personalization.schemas import (
    ContentIn,
    Description,
    EmailContentIn,
    Name,
    PushContentIn,
    SmsContentIn,
    TemplateCreate,
    TemplateUpdate,
    ViberContentIn,
)
from smartcomm.personalization.service import TemplateRow, template_service
from smartcomm.personalization.sms_parts import count_parts
from smartcomm.personalization.snippets import snippets, starter
from smartcomm.web.deps import requires
from smartcomm.web.forms import FormErrors, PostedForm, errors_from_validation, rejected
from smartcomm.web.templating import flash, redirect, render

router = APIRouter(prefix="/templates")
Viewer = Annotated[Principal, Depends(requires(Permission.TEMPLATES_VIEW))]
Editor = Annotated[Principal, Depends(requires(Permission.TEMPLATES_EDIT))]

CHANNELS = ("email", "sms", "viber", "push")
CHANNEL_LABELS = {"email": lazy("E-mail"), "sms": lazy("SMS"), "viber": lazy("Viber"), "push": lazy("Push")}
CHANNEL_ICONS = {"email": "ti-mail", "sms": "ti-message", "viber": "ti-message-circle", "push": "ti-bell"}
EDITOR_LABELS = {
    "visual": lazy("Visual editor"),
    "mjml": lazy("MJML code"),
    "html": lazy("HTML code"),
    "text": lazy("Text"),
}
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
PAGE_SIZE = 24
REFUSED = 422
# The rendered message inside an iframe: no scripts, no forms, no requests but images and fonts; it may
# be framed by the back office only.
FRAME_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src https: http: data:; "
    "style-src 'unsafe-inline' https:; font-src https: data:; sandbox; frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
    "Cache-Control": "no-store",
}
# The visual editor draws the e-mail in its own page: its pictures may come from the shop's servers.
EDITOR_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY.replace(
        "img-src 'self' data:", "img-src 'self' data: https: http:"
    )
}
CONTENT_MODELS: dict[str, type[BaseModel]] = {
    "email": EmailContentIn,
    "sms": SmsContentIn,
    "viber": ViberContentIn,
    "push": PushContentIn,
}


# --- the library ---------------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def library(request: Request, _: Viewer) -> Response:
    return redirect(request, "/templates/email")


@router.get("/customers", response_class=HTMLResponse)
def find_customers(
    request: Request, session: DbSession, _: Viewer, q: str = "", template: int = 0
) -> Response:
    """Customers for the preview's search box (a fragment of links to the preview for each)."""
    found = []
    if len(q.strip()) >= 2:
        params = PageParams(page=1, size=8)
        country = request.state.general.sms_default_country
        found = customer_service.search(session, params, query=q.strip()[:100], default_country=country).items
    context = {"customers": found, "template_id": template, "q": q.strip()}
    return render(request, "templates/_customer_results.html", context)


@router.post("/draft-preview", response_class=HTMLResponse)
def draft_preview(session: DbSession, _: Editor, form: PostedForm) -> Response:
    """The e-mail being edited, rendered for the test customer (shown in the editor's preview frame)."""
    form["subject"] = form.get("subject") or "—"  # a preview needs no subject yet
    content, errors = _content_from_form("email", form)
    if content is None:
        return _frame_message("; ".join(f"{name}: {text}" for name, text in errors.items()))
    fields, problems = version_fields(content)
    if problems:
        return _frame_message(_problem_text(problems[0]))
    source = VersionSource(
        "email",
        {name: fields.get(name) for name in CHANNEL_PARTS["email"]},
        fields["utm"],
        fields["text_derived"],
    )
    try:
        rendered = render_compiled(
            compile_version(source, draft=True), sample_customer_context(session), preview=True
        )
    except RenderError as error:
        return _frame_message(str(error))
    assert isinstance(rendered, EmailContent)
    return HTMLResponse(rendered.html, headers=FRAME_HEADERS)


@router.get("/{template_id:int}", response_class=HTMLResponse)
def open_template(request: Request, session: DbSession, principal: Viewer, template_id: int) -> Response:
    template = template_service.get(session, template_id)
    target = "edit" if principal.can(Permission.TEMPLATES_EDIT) else "preview"
    return redirect(request, f"/templates/{template.id}/{target}")


@router.get("/{template_id:int}/edit", response_class=HTMLResponse)
def edit_template(request: Request, session: DbSession, _: Editor, template_id: int) -> Response:
    """The editor with the latest version."""
    template = template_service.get(session, template_id)
    content = content_of(template_service.latest(session, template))
    values = _values_of(content) | {"name": template.name, "description": template.description or ""}
    return _editor(request, session, template.channel, template.editor, template, values, {})


@router.post("/{template_id:int}/edit")
def save_template(
    request: Request, session: DbSession, principal: Editor, template_id: int, form: PostedForm
) -> Response:
    """Save the editor's content as a new version (and the name and description when they changed)."""
    template = template_service.get(session, template_id)
    content, errors = _content_from_form(template.channel, form, template.editor)
    details, detail_errors = _details(form)
    errors |= detail_errors
    if content is None or details is None or errors:
        return _editor(
            request, session, template.channel, template.editor, template, form, errors, status=REFUSED
        )
    try:
        template_service.update(
            session,
            principal.actor,
            template.id,
            TemplateUpdate(name=details.name, description=details.description),
        )
        version = template_service.save_version(session, principal.actor, template.id, content)
    except DomainError as error:
        problems = error.problems if isinstance(error, TemplateInvalid) else []
        errors = rejected(session, error)
        return _editor(
            request,
            session,
            template.channel,
            template.editor,
            template,
            form,
            errors,
            problems,
            status=REFUSED,
        )
    flash(request, gettext_("Version %(number)s was saved.") % {"number": version.number})
    return redirect(request, f"/templates/{template.id}/edit")


@router.get("/{template_id:int}/preview", response_class=HTMLResponse)
def preview_page(
    request: Request,
    session: DbSession,
    _: Viewer,
    template_id: int,
    version: int = 0,
    customer: int = 0,
    device: str = "desktop",
) -> Response:
    """The message rendered for a chosen customer or the test customer, at desktop or mobile width."""
    template = template_service.get(session, template_id)
    shown = template_service.version(session, template, version or template.version_count)
    chosen = customer_service.get(session, customer) if customer > 0 else None
    context: dict[str, Any] = {
        "template": template,
        "version": shown,
        "versions": template_service.versions(session, template.id),
        "customer": chosen,
        "device": "mobile" if device == "mobile" else "desktop",
        "query": _preview_query(shown, chosen),
    }
    context |= _rendered(session, shown, chosen.id if chosen else None)
    response = render(request, "templates/preview.html", _page_context(template.channel) | context)
    response.headers.update(EDITOR_HEADERS)  # Viber and push pictures come from the shop's servers
    return response


@router.get("/{template_id:int}/preview/frame", response_class=HTMLResponse)
def preview_frame(
    session: DbSession, _: Viewer, template_id: int, version: int = 0, customer: int = 0
) -> Response:
    """The rendered e-mail alone, for the preview's and the library's sandboxed iframes."""
    template = template_service.get(session, template_id)
    shown = template_service.version(session, template, version or template.version_count)
    try:
        context = template_service.preview_context(session, customer if customer > 0 else None)
        rendered = template_service.render_preview(shown, context)
    except RenderError as error:
        return _frame_message(str(error))
    html = rendered.html if isinstance(rendered, EmailContent) else escape(getattr(rendered, "text", ""))
    return HTMLResponse(html, headers=FRAME_HEADERS)


@router.get("/{template_id:int}/versions", response_class=HTMLResponse)
def versions_page(request: Request, session: DbSession, _: Viewer, template_id: int) -> Response:
    """Every version of the template, newest first, with who saved it and when."""
    template = template_service.get(session, template_id)
    versions = template_service.versions(session, template.id)
    authors = template_service.user_names(session, [v.created_by_id for v in versions])
    context = {"template": template, "versions": versions, "authors": authors}
    return render(request, "templates/versions.html", _page_context(template.channel) | context)


@router.post("/{template_id:int}/versions/{number:int}/restore")
def restore_version(
    request: Request, session: DbSession, principal: Editor, template_id: int, number: int
) -> Response:
    """Save an earlier version's content again as the newest version."""
    template = template_service.get(session, template_id)
    old = template_service.version(session, template, number)
    try:
        template_service.save_version(session, principal.actor, template.id, content_of(old))
    except DomainError as error:
        rejected(session, error)
        flash(request, error.message, "danger")
        return redirect(request, f"/templates/{template.id}/versions")
    flash(request, "The earlier version was saved as the newest one.")
    return redirect(request, f"/templates/{template.id}/versions")


@router.get("/{template_id:int}/delete", response_class=HTMLResponse)
def confirm_delete(request: Request, session: DbSession, _: Editor, template_id: int) -> Response:
    template = template_service.get(session, template_id)
    return render(request, "templates/_delete.html", {"template": template})


@router.post("/{template_id:int}/delete")
def delete_template(request: Request, session: DbSession, principal: Editor, template_id: int) -> Response:
    template = template_service.get(session, template_id)
    try:
        template_service.delete(session, principal.actor, template.id)
    except Conflict as refused:
        flash(request, refused.message, "danger")
        return redirect(request, f"/templates/{template.channel}")
    flash(request, "The template was deleted.")
    return redirect(request, f"/templates/{template.channel}")


@router.get("/{channel}", response_class=HTMLResponse)
def channel_library(
    request: Request, session: DbSession, _: Viewer, channel: str, q: str = "", page: int = 1
) -> Response:
    """The templates of a channel as cards, most recently edited first."""
    _check_channel(channel)
    found = template_service.search(session, channel, PageParams(page=max(page, 1), size=PAGE_SIZE), q[:200])
    context = {
        "page": found,
        "q": q.strip(),
        "counts": template_service.counts(session),
        "thumbnails": _thumbnails(session, found.items) if channel != "email" else {},
    }
    return render(
        request, "templates/list.html", _page_context(channel) | context, fragment="templates/_cards.html"
    )


@router.get("/{channel}/new", response_class=HTMLResponse)
def new_template(
    request: Request, session: DbSession, _: Editor, channel: str, editor: str = "visual"
) -> Response:
    """The editor of a new template: e-mails in the visual editor, MJML or HTML code; the other
    channels in their form."""
    _check_channel(channel)
    kind = _editor_kind(channel, editor)
    return _editor(request, session, channel, kind, None, starter(channel, kind), {})


@router.post("/{channel}/new")
def create_template(
    request: Request, session: DbSession, principal: Editor, channel: str, form: PostedForm
) -> Response:
    _check_channel(channel)
    kind = _editor_kind(channel, str(form.get("editor") or "visual"))
    content, errors = _content_from_form(channel, form, kind)
    details, detail_errors = _details(form)
    errors |= detail_errors
    if content is None or details is None or errors:
        return _editor(request, session, channel, kind, None, form, errors, status=REFUSED)
    data = TemplateCreate(name=details.name, description=details.description, content=content)
    try:
        template, _version = template_service.create(session, principal.actor, data)
    except DomainError as error:
        problems = error.problems if isinstance(error, TemplateInvalid) else []
        return _editor(
            request, session, channel, kind, None, form, rejected(session, error), problems, status=REFUSED
        )
    flash(request, "The template was created.")
    return redirect(request, f"/templates/{template.id}/edit")


# --- helpers -------------------------------------------------------------------------------------------


class TemplateDetails(BaseModel):
    name: Name
    description: Description = None


def _details(form: dict[str, Any]) -> tuple[TemplateDetails | None, FormErrors]:
    try:
        return TemplateDetails.model_validate(
            {"name": form.get("name"), "description": form.get("description")}
        ), {}
    except ValidationError as error:
        return None, errors_from_validation(error)


def _thumbnails(session: Session, rows: list[TemplateRow]) -> dict[int, RenderedContent]:
    """SMS, Viber and push cards show their latest version rendered for the test customer (e-mail cards
    load theirs in a sandboxed frame); a version that cannot be rendered shows its text as written."""
    if not rows:
        return {}
    context = sample_customer_context(session)
    shown: dict[int, RenderedContent] = {}
    for row in rows:
        if row.latest is not None:
            try:
                shown[row.template.id] = template_service.render_preview(row.latest, context)
            except RenderError:
                continue
    return shown


def _check_channel(channel: str) -> None:
    if channel not in CHANNELS:
        raise NotFound("Channel", channel)


def _editor_kind(channel: str, editor: str) -> str:
    if channel != "email":
        return "text"
    return editor if editor in ("visual", "mjml", "html") else "visual"


def _content_from_form(
    channel: str, form: dict[str, Any], editor: str | None = None
) -> tuple[ContentIn | None, FormErrors]:
    """The posted editor fields as the channel's content model, or the errors per field."""
    data: dict[str, Any] = {
        name: form.get(name) for name in CONTENT_MODELS[channel].model_fields if name in form
    }
    data["channel"] = channel
    if "utm" in CONTENT_MODELS[channel].model_fields:
        data["utm"] = {name: form.get(name) for name in UTM_FIELDS}
    if channel == "email":
        data["editor"] = editor or form.get("editor") or "visual"
    try:
        return CONTENT_MODELS[channel].model_validate(data), {}  # type: ignore[return-value]
    except ValidationError as error:
        return None, errors_from_validation(error)


def _values_of(content: ContentIn) -> dict[str, Any]:
    values = content.model_dump(exclude={"utm"})
    utm = getattr(content, "utm", None)
    return values | (utm.model_dump() if utm is not None else {})


PART_LABELS = {
    "subject": lazy("Subject"),
    "preheader": lazy("Preheader"),
    "html": lazy("HTML code"),
    "mjml": lazy("MJML code"),
    "text": lazy("Text"),
    "body": lazy("Text"),
    "title": lazy("Title"),
    "button_text": lazy("Button text"),
    "button_url": lazy("Button link"),
    "image_url": lazy("Image address"),
    "link": lazy("Link or deep link"),
}
PROBLEM_AT_LINE = lazy("%(part)s, line %(line)s: %(message)s")


def _problem_text(problem: Problem) -> str:
    """A problem as the designer reads it: the field by its label, the line, the reason."""
    part = str(PART_LABELS.get(problem.part, problem.part))
    if problem.line:
        return str(PROBLEM_AT_LINE) % {"part": part, "line": problem.line, "message": problem.message}
    return f"{part}: {problem.message}"


def _frame_message(message: str) -> HTMLResponse:
    body = (
        '<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#b42318;padding:24px">'
        f"<p><strong>⚠</strong> {escape(message)}</p></body></html>"
    )
    return HTMLResponse(body, headers=FRAME_HEADERS)


def _page_context(channel: str) -> dict[str, Any]:
    return {
        "channel": channel,
        "channels": CHANNELS,
        "channel_labels": CHANNEL_LABELS,
        "channel_icons": CHANNEL_ICONS,
        "editor_labels": EDITOR_LABELS,
    }


def _editor(
    request: Request,
    session: Session,
    channel: str,
    kind: str,
    template: MessageTemplate | None,
    values: dict[str, Any],
    errors: FormErrors,
    problems: list[Problem] | None = None,
    *,
    status: int = 200,
) -> Response:
    names = {"email": "templates/email_visual.html" if kind == "visual" else "templates/email_code.html"}
    context = _page_context(channel) | {
        "template": template,
        "editor": kind,
        "values": values,
        "errors": _form_errors(errors),
        "problems": [_problem_text(p) for p in problems or []],
        "variables": snippets(session),
        "utm_fields": UTM_FIELDS,
    }
    response = render(request, names.get(channel, "templates/text_editor.html"), context, status_code=status)
    response.headers.update(EDITOR_HEADERS)  # the visual editor and the phones show the shop's pictures
    return response


def _form_errors(errors: FormErrors) -> FormErrors:
    # Problems of the content come named as the API's fields (content.subject): the form's names are bare.
    return {name.removeprefix("content."): message for name, message in errors.items()}


def _preview_query(version: MessageTemplateVersion, customer: Any) -> str:
    query = f"version={version.number}"
    return f"{query}&customer={customer.id}" if customer is not None else query


def _rendered(session: Session, version: MessageTemplateVersion, customer_id: int | None) -> dict[str, Any]:
    """The rendered message (or why it cannot be rendered), with the SMS parts and the preheader."""
    try:
        context = template_service.preview_context(session, customer_id)
        rendered = template_service.render_preview(version, context)
        preheader = _preheader(version, context)
    except RenderError as error:
        return {"rendered": None, "render_error": str(error)}
    return {
        "rendered": rendered,
        "render_error": None,
        "preheader": preheader,
        "parts": count_parts(rendered.text) if isinstance(rendered, SmsContent) else None,
        "is_push": isinstance(rendered, PushContent),
        "is_viber": isinstance(rendered, ViberContent),
    }


def _preheader(version: MessageTemplateVersion, context: Any) -> str:
    if not version.preheader:
        return ""
    state = RenderState(context.settings, preview=True)
    return render_part(compile_draft("preheader", version.preheader), context.variables, state)
