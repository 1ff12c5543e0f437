"""The template library: templates, their immutable versions, validation on save and previews."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service, diff
from smartcomm.customers.service import customer_service
from smartcomm.kit.errors import Conflict, FieldError, InvalidInput, NotFound
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.time import utcnow
from smartcomm.models import MessageTemplate, MessageTemplateVersion
from smartcomm.personalization.context import RenderContext, context_builder
from smartcomm.personalization.context_repository import ContextRepository
from smartcomm.personalization.errors import TemplateInvalid
from smartcomm.personalization.preparation import parts_as_written, version_fields
from smartcomm.personalization.renderer import (
    RenderedContent,
    VersionSource,
    compile_version,
    render_compiled,
)
from smartcomm.personalization.repository import TemplateRepository
from smartcomm.personalization.sample import sample_customer_context
from smartcomm.personalization.schemas import ContentIn, TemplateCreate, TemplateUpdate
from smartcomm.personalization.validation import problems_in

OBJECT_TYPE = "message_template"
# Version fields whose old and new values are written to the action history in full; the long ones
# (HTML, MJML, text part) only as "changed", with their sizes.
SHORT_FIELDS = (
    "subject",
    "preheader",
    "title",
    "body",
    "button_text",
    "button_url",
    "image_url",
    "link",
    "utm",
)
LONG_FIELDS = ("mjml", "html_source", "text")


@dataclass(frozen=True)
class TemplateRow:
    """A template with its latest version and who last changed it, for lists."""

    template: MessageTemplate
    latest: MessageTemplateVersion | None
    updated_by: str | None


class TemplateService:
    # --- reading -------------------------------------------------------------------------------------

    def get(self, session: Session, template_id: int) -> MessageTemplate:
        template = TemplateRepository(session).get(template_id)
        if template is None:
            raise NotFound("Template", template_id)
        return template

    def search(
        self, session: Session, channel: str | None, params: PageParams, query: str = ""
    ) -> Page[TemplateRow]:
        """Templates of a channel, last edited first, each with its latest version."""
        repository = TemplateRepository(session)
        found = repository.search(channel, query.strip(), params)
        latest = repository.latest_versions(found.items)
        names = repository.user_names([t.updated_by_id for t in found.items])
        rows = [TemplateRow(t, latest.get(t.id), names.get(t.updated_by_id or 0)) for t in found.items]
        return Page(items=rows, total=found.total, page=found.page, size=found.size)

    def counts(self, session: Session) -> dict[str, int]:
        """The number of templates per channel."""
        return TemplateRepository(session).counts_by_channel()

    def latest(self, session: Session, template: MessageTemplate) -> MessageTemplateVersion:
        return self.version(session, template, template.version_count)

    def version(self, session: Session, template: MessageTemplate, number: int) -> MessageTemplateVersion:
        found = TemplateRepository(session).version(template.id, number)
        if found is None:
            raise NotFound(f"Version {number} of template", template.id)
        return found

    def version_by_id(self, session: Session, version_id: int) -> MessageTemplateVersion:
        found = TemplateRepository(session).version_by_id(version_id)
        if found is None:
            raise NotFound("Template version", version_id)
        return found

    def versions(self, session: Session, template_id: int) -> list[MessageTemplateVersion]:
        """Every version of a template, newest first."""
        return TemplateRepository(session).versions(template_id)

    def user_names(self, session: Session, ids: list[int | None]) -> dict[int, str]:
        return TemplateRepository(session).user_names(ids)

    # --- changing ------------------------------------------------------------------------------------

    def create(
        self, session: Session, actor: Actor, data: TemplateCreate
    ) -> tuple[MessageTemplate, MessageTemplateVersion]:
        """Create a template with its first version (the content is checked first; nothing is written
        when it has errors)."""
        self._check_name_free(session, data.content.channel, data.name, None)
        fields = self.checked_fields(session, data.content)
        template = MessageTemplate(
            name=data.name,
            channel=data.content.channel,
            editor=fields["editor"],
            description=data.description or None,
            created_by_id=actor.user_id,
            updated_by_id=actor.user_id,
        )
        TemplateRepository(session).add(template)
        version = self._add_version(session, actor, template, fields)
        changes = diff({}, {"name": template.name, "channel": template.channel, "version": 1})
        self._audit(session, actor, template, "create", changes)
        return template, version

    def save_version(
        self, session: Session, actor: Actor, template_id: int, content: ContentIn
    ) -> MessageTemplateVersion:
        """Save the content as the template's next version; earlier versions stay as they were."""
        template = self.get(session, template_id)
        if content.channel != template.channel:
            message = f"this is a {template.channel} template; send {template.channel} content"
            raise InvalidInput.for_field("content.channel", message)
        fields = self.checked_fields(session, content)
        previous = self.latest(session, template)
        version = self._add_version(session, actor, template, fields)
        changes = {"version": [previous.number, version.number], **_content_changes(previous, version)}
        self._audit(session, actor, template, "update", changes)
        return version

    def update(
        self, session: Session, actor: Actor, template_id: int, data: TemplateUpdate
    ) -> MessageTemplate:
        """Rename a template or change its description (its versions stay)."""
        template = self.get(session, template_id)
        before = {"name": template.name, "description": template.description}
        if data.name is not None and data.name != template.name:
            self._check_name_free(session, template.channel, data.name, template.id)
            template.name = data.name
        if "description" in data.model_fields_set:
            template.description = data.description or None
        changes = diff(before, {"name": template.name, "description": template.description})
        if changes:
            template.updated_by_id, template.updated_at = actor.user_id, utcnow()
            session.flush()
            self._audit(session, actor, template, "update", changes)
        return template

    def delete(self, session: Session, actor: Actor, template_id: int) -> None:
        """Delete a template and its versions; refused while messages of it wait to be sent (they would
        have nothing to render). Messages already sent keep their history and status."""
        template = self.get(session, template_id)
        if TemplateRepository(session).messages_waiting(template.id):
            raise Conflict("Messages of this template are waiting to be sent; delete it once they have gone")
        self._audit(session, actor, template, "delete", diff({"name": template.name}, {}))
        TemplateRepository(session).delete(template)

    def checked_fields(self, session: Session, content: ContentIn) -> dict[str, Any]:
        """The version fields of `content`, or TemplateInvalid with every problem and its line."""
        parts = parts_as_written(content)
        custom = [field.code for field in ContextRepository(session).custom_fields()]
        problems = problems_in(parts, sample_customer_context(session), custom)
        if not problems:
            fields, problems = version_fields(content)
        if problems:
            raise TemplateInvalid(problems)
        return fields

    # --- previews ------------------------------------------------------------------------------------

    def preview_context(
        self, session: Session, customer_id: int | None, extra: Mapping[str, Any] | None = None
    ) -> RenderContext:
        """The context of a customer, or of the test customer when `customer_id` is None."""
        if customer_id is None:
            return sample_customer_context(session, extra)
        customer = customer_service.get(session, customer_id)
        found = context_builder.for_customer(session, customer.id, extra)
        if found is None:
            raise NotFound("Customer", customer_id)
        return found

    def render_preview(
        self,
        version: MessageTemplateVersion,
        context: RenderContext,
        utm: Mapping[str, str] | None = None,
    ) -> RenderedContent:
        """Render a saved version for a preview (the macros of later areas issue nothing real)."""
        compiled = compile_version(VersionSource.of(version), draft=True)
        return render_compiled(compiled, context, utm=utm, preview=True)

    # --- helpers -------------------------------------------------------------------------------------

    def _add_version(
        self, session: Session, actor: Actor, template: MessageTemplate, fields: dict[str, Any]
    ) -> MessageTemplateVersion:
        template.version_count += 1
        template.updated_by_id, template.updated_at = actor.user_id, utcnow()
        version = MessageTemplateVersion(
            template_id=template.id, number=template.version_count, created_by_id=actor.user_id, **fields
        )
        return TemplateRepository(session).add_version(version)

    def _check_name_free(self, session: Session, channel: str, name: str, own_id: int | None) -> None:
        wanted = name.strip().casefold()
        for template_id, existing in TemplateRepository(session).names(channel):
            if existing.casefold() == wanted and template_id != own_id:
                raise Conflict(
                    "A template of this channel already has this name",
                    [FieldError("name", "A template of this channel already has this name", "duplicate")],
                )

    @staticmethod
    def _audit(
        session: Session, actor: Actor, template: MessageTemplate, action: str, changes: dict[str, list[Any]]
    ) -> None:
        audit_service.record(
            session,
            actor,
            object_type=OBJECT_TYPE,
            object_id=template.id,
            action=action,
            changes=changes,
            object_label=template.name,
        )


def _content_changes(before: MessageTemplateVersion, after: MessageTemplateVersion) -> dict[str, list[Any]]:
    changes = diff(
        {name: getattr(before, name) for name in SHORT_FIELDS},
        {name: getattr(after, name) for name in SHORT_FIELDS},
    )
    for name in LONG_FIELDS:
        old, new = getattr(before, name) or "", getattr(after, name) or ""
        if old != new:
            changes[name] = [f"{len(old):,} characters", f"{len(new):,} characters"]
    return changes


template_service = TemplateService()
