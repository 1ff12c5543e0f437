"""Message templates over the API: the library, its versions, and previews for a customer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from smartcomm.api.deps import api_requires
from smartcomm.api.schemas import ErrorBody, PageOut, PageSize, SearchText, error_responses
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.channels.base import EmailContent, PushContent, SmsContent, ViberContent
from smartcomm.customers.service import customer_service
from smartcomm.kit.errors import FieldError, InvalidInput
from smartcomm.kit.http import DbSession
from smartcomm.kit.pagination import PageParams
from smartcomm.kit.types import PageNumber, PathId
from smartcomm.models import MessageTemplate, MessageTemplateVersion
from smartcomm.personalization.errors import RenderError
from smartcomm.personalization.renderer import RenderedContent
from smartcomm.personalization.schemas import (
    PreviewOut,
    PreviewRequest,
    SmsPartsOut,
    TemplateCreate,
    TemplateOut,
    TemplateUpdate,
    VersionCreate,
    VersionOut,
)
from smartcomm.personalization.service import template_service
from smartcomm.personalization.sms_parts import count_parts

router = APIRouter(tags=["message templates"])

Reader = Annotated[Principal, Depends(api_requires(Permission.API_READ))]
Writer = Annotated[Principal, Depends(api_requires(Permission.API_WRITE))]
ChannelFilter = Annotated[
    str | None, Query(pattern="^(email|sms|viber|push)$", description="Only this channel")
]
NOT_FOUND = error_responses(404)
CONFLICT = error_responses(409)
INVALID: dict[int | str, dict[str, Any]] = {
    422: {
        "model": ErrorBody,
        "description": "Invalid input, or a template with errors: each error names its field "
        "(`content.subject`, `content.mjml`, …) and the line of the template",
    }
}


def _out(template: MessageTemplate, latest: MessageTemplateVersion | None) -> TemplateOut:
    out = TemplateOut.model_validate(template)
    out.latest = VersionOut.model_validate(latest) if latest is not None else None
    return out


@router.get("/templates", response_model=PageOut[TemplateOut])
def list_templates(
    session: DbSession,
    _: Reader,
    channel: ChannelFilter = None,
    q: SearchText = "",
    page: PageNumber = 1,
    size: PageSize = 50,
) -> PageOut[TemplateOut]:
    """Templates, most recently edited first, each with its latest version; `q` finds them by name."""
    found = template_service.search(session, channel, PageParams(page=page, size=size), q)
    items = [_out(row.template, row.latest) for row in found.items]
    return PageOut[TemplateOut](
        items=items, total=found.total, page=found.page, size=found.size, pages=found.pages
    )


@router.post(
    "/templates",
    response_model=TemplateOut,
    status_code=status.HTTP_201_CREATED,
    responses={**CONFLICT, **INVALID},
)
def create_template(session: DbSession, principal: Writer, body: TemplateCreate) -> TemplateOut:
    """Create a template with its first version. The content is checked first (syntax, unknown variables
    and filters, a trial render for the test customer); nothing is stored when it has errors."""
    template, version = template_service.create(session, principal.actor, body)
    return _out(template, version)


@router.get("/templates/{template_id}", response_model=TemplateOut, responses=NOT_FOUND)
def get_template(session: DbSession, _: Reader, template_id: PathId) -> TemplateOut:
    """One template with its latest version."""
    template = template_service.get(session, template_id)
    return _out(template, template_service.latest(session, template))


@router.patch("/templates/{template_id}", response_model=TemplateOut, responses={**NOT_FOUND, **CONFLICT})
def update_template(
    session: DbSession, principal: Writer, template_id: PathId, body: TemplateUpdate
) -> TemplateOut:
    """Rename a template or change its description (its content changes only by a new version)."""
    template = template_service.update(session, principal.actor, template_id, body)
    return _out(template, template_service.latest(session, template))


@router.delete(
    "/templates/{template_id}", status_code=status.HTTP_204_NO_CONTENT, responses={**NOT_FOUND, **CONFLICT}
)
def delete_template(session: DbSession, principal: Writer, template_id: PathId) -> Response:
    """Delete a template with all its versions."""
    template_service.delete(session, principal.actor, template_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/templates/{template_id}/versions", response_model=list[VersionOut], responses=NOT_FOUND)
def list_versions(session: DbSession, _: Reader, template_id: PathId) -> list[VersionOut]:
    """Every version of a template, newest first."""
    template = template_service.get(session, template_id)
    return [VersionOut.model_validate(v) for v in template_service.versions(session, template.id)]


@router.get("/templates/{template_id}/versions/{number}", response_model=VersionOut, responses=NOT_FOUND)
def get_version(session: DbSession, _: Reader, template_id: PathId, number: PathId) -> VersionOut:
    """One version of a template by its number."""
    template = template_service.get(session, template_id)
    return VersionOut.model_validate(template_service.version(session, template, number))


@router.post(
    "/templates/{template_id}/versions",
    response_model=VersionOut,
    status_code=status.HTTP_201_CREATED,
    responses={**NOT_FOUND, **INVALID},
)
def create_version(
    session: DbSession, principal: Writer, template_id: PathId, body: VersionCreate
) -> VersionOut:
    """Save new content as the template's next version (earlier versions never change: a mailing keeps
    sending the version it was given)."""
    return VersionOut.model_validate(
        template_service.save_version(session, principal.actor, template_id, body.content)
    )


@router.post(
    "/templates/{template_id}/preview", response_model=PreviewOut, responses={**NOT_FOUND, **INVALID}
)
def preview(session: DbSession, _: Reader, template_id: PathId, body: PreviewRequest) -> PreviewOut:
    """Render a version (the latest unless `version` is given) for a customer — by `customer_id` or
    `external_id` — or for the built-in test customer when neither is given. Nothing is sent or stored;
    a render error answers 422 with the part and the line."""
    template = template_service.get(session, template_id)
    version = template_service.version(session, template, body.version or template.version_count)
    customer_id = _customer_id(session, body)
    context = template_service.preview_context(session, customer_id, {"event": body.event or {}})
    try:
        content = template_service.render_preview(version, context, body.utm.values() if body.utm else None)
    except RenderError as error:
        where = f"line {error.line}: " if error.line else ""
        raise InvalidInput(
            str(error), [FieldError(f"content.{error.part}", f"{where}{error.message}", error.reason)]
        ) from None
    return _preview_out(template, version, customer_id, content)


def _customer_id(session: DbSession, body: PreviewRequest) -> int | None:
    if body.customer_id is not None:
        return customer_service.get(session, body.customer_id).id
    if body.external_id is not None:
        return customer_service.get_by_external_id(session, body.external_id).id
    return None


def _preview_out(
    template: MessageTemplate,
    version: MessageTemplateVersion,
    customer_id: int | None,
    content: RenderedContent,
) -> PreviewOut:
    out = PreviewOut(
        template_id=template.id,
        version_id=version.id,
        version=version.number,
        channel=template.channel,
        customer_id=customer_id,
    )
    if isinstance(content, EmailContent):
        out.subject, out.html, out.text = content.subject, content.html, content.text
    elif isinstance(content, SmsContent):
        out.text = content.text
        out.sms = SmsPartsOut.model_validate(count_parts(content.text), from_attributes=True)
    elif isinstance(content, ViberContent):
        out.text, out.button_text, out.button_url, out.image_url = (
            content.text,
            content.button_text,
            content.button_url,
            content.image_url,
        )
    elif isinstance(content, PushContent):
        out.title, out.body, out.image_url, out.link = (
            content.title,
            content.body,
            content.image_url,
            content.link,
        )
    return out
