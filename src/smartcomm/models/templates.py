"""The template library: message templates and their immutable versions.

Saving a template adds a version; a version never changes afterwards, so a mailing or a campaign
that was given a version sends exactly what was approved, and the renderer may cache its compiled
form for as long as the process lives.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from smartcomm.kit.models import Base
from smartcomm.kit.time import utcnow

TEMPLATE_CHANNELS = ("email", "sms", "viber", "push")
# How an e-mail template is edited: the visual editor (GrapesJS with MJML), MJML code or HTML code.
# SMS, Viber and push templates are plain text forms.
EMAIL_EDITORS = ("visual", "mjml", "html")


class MessageTemplate(Base):
    __tablename__ = "message_templates"
    __table_args__ = (Index("ix_message_templates_channel_updated", "channel", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    editor: Mapped[str] = mapped_column(String(16))  # visual | mjml | html (e-mail) | text
    description: Mapped[str | None] = mapped_column(String(1000))
    version_count: Mapped[int] = mapped_column(default=0)  # = the number of the latest version
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<MessageTemplate {self.id} {self.channel} {self.name!r}>"


class MessageTemplateVersion(Base):
    """One saved state of a template. E-mail: subject, preheader, the source (MJML or HTML), the
    compiled HTML (MJML compiled, CSS inlined) and the text part; SMS: `body`; Viber: `body`, button
    and image; push: `title`, `body`, image and `link` (a web address or a deep link)."""

    __tablename__ = "message_template_versions"
    # Ids are never reused, even after a delete on SQLite: the renderer caches compiled versions by id.
    __table_args__ = (UniqueConstraint("template_id", "number"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("message_templates.id", ondelete="CASCADE"))
    number: Mapped[int]
    channel: Mapped[str] = mapped_column(String(16))
    editor: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(500))
    preheader: Mapped[str | None] = mapped_column(String(500))
    mjml: Mapped[str | None] = mapped_column(Text)
    html_source: Mapped[str | None] = mapped_column(Text)  # as written in the HTML code editor
    html: Mapped[str | None] = mapped_column(Text)  # compiled: what is rendered for each recipient
    text: Mapped[str | None] = mapped_column(Text)  # the text part: written, or derived from the HTML
    text_derived: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(String(200))
    button_text: Mapped[str | None] = mapped_column(String(100))
    button_url: Mapped[str | None] = mapped_column(String(2000))
    image_url: Mapped[str | None] = mapped_column(String(2000))
    link: Mapped[str | None] = mapped_column(String(2000))
    utm: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<MessageTemplateVersion {self.id} template={self.template_id} v{self.number}>"


class VersionIsImmutable(Exception):
    """A saved template version was about to be changed: save a new version instead."""


@event.listens_for(MessageTemplateVersion, "before_update")
def _refuse_changes(_mapper: Mapper[Any], _connection: Any, version: MessageTemplateVersion) -> None:
    raise VersionIsImmutable(f"template version {version.id} cannot change; save a new version")
