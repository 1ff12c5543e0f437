"""The renderer: a template version and a recipient's context in, the channel's content out.

`renderer.render(version_id, context)` is what delivery calls for every message. A version's parts are
compiled once and kept in an LRU cache for the life of the process (versions never change); every part
renders within its own budget, and a failure is a `RenderError` naming the part, the line and the
reason. UTM parameters — the template's, overridden by the send's — are appended to the web links of
the rendered message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from smartcomm.channels.base import Content, EmailContent, PushContent, SmsContent, ViberContent
from smartcomm.kit.db import session_scope
from smartcomm.kit.i18n import lazy
from smartcomm.models import MessageTemplateVersion
from smartcomm.personalization.context import LINK_VARIABLES, RenderContext
from smartcomm.personalization.email_html import utm_in_html, utm_in_text, with_utm
from smartcomm.personalization.engine import CompiledPart, LruCache, compile_draft, compile_part, render_part
from smartcomm.personalization.errors import RenderError
from smartcomm.personalization.runtime import RenderState

RenderedContent = Content
# The parts of each channel; the first of each pair is the version's field, `html` parts autoescape.
CHANNEL_PARTS: dict[str, tuple[str, ...]] = {
    "email": ("subject", "html", "text"),
    "sms": ("body",),
    "viber": ("body", "button_text", "button_url", "image_url"),
    "push": ("title", "body", "image_url", "link"),
}
HTML_PARTS = frozenset({"html"})


@dataclass(frozen=True)
class VersionSource:
    """What is rendered of a version: its parts' sources (already compiled MJML, inlined CSS) and UTM."""

    channel: str
    parts: Mapping[str, str | None]
    utm: Mapping[str, str] = field(default_factory=dict)
    text_derived: bool = False

    @classmethod
    def of(cls, version: MessageTemplateVersion) -> VersionSource:
        names = CHANNEL_PARTS[version.channel]
        parts = {name: getattr(version, name) for name in names}
        return cls(version.channel, parts, dict(version.utm or {}), version.text_derived)


@dataclass(frozen=True)
class CompiledVersion:
    source: VersionSource
    parts: Mapping[str, CompiledPart]


def compile_version(source: VersionSource, *, draft: bool = False) -> CompiledVersion:
    """Compile every non-empty part (a draft's parts go through the small cache of drafts)."""
    make = compile_draft if draft else compile_part
    parts = {name: make(name, text, html=name in HTML_PARTS) for name, text in source.parts.items() if text}
    return CompiledVersion(source, parts)


class Renderer:
    def __init__(self, cache_size: int = 512) -> None:
        self._versions: LruCache[int, CompiledVersion] = LruCache(cache_size)

    def render(
        self,
        version_id: int,
        context: RenderContext,
        *,
        utm: Mapping[str, str] | None = None,
        message_key: str | None = None,
        preview: bool = False,
        session: Session | None = None,
    ) -> RenderedContent:
        """The content of one message: `version_id` rendered for `context`. The send's `utm` values
        override the template's; `message_key` identifies the message for the macros of later areas."""
        compiled = self.compiled(version_id, session)
        return render_compiled(compiled, context, utm=utm, message_key=message_key, preview=preview)

    def compiled(self, version_id: int, session: Session | None = None) -> CompiledVersion:
        found = self._versions.get(version_id)
        if found is None:
            found = compile_version(self._load(version_id, session))
            self._versions.put(version_id, found)
        return found

    def forget(self) -> None:
        self._versions.clear()

    @staticmethod
    def _load(version_id: int, session: Session | None) -> VersionSource:
        if session is not None:
            return _source_of(session, version_id)
        with session_scope(read_only=True) as own:
            return _source_of(own, version_id)


def _source_of(session: Session, version_id: int) -> VersionSource:
    version = session.get(MessageTemplateVersion, version_id)
    if version is None:
        raise RenderError(lazy("template version %(id)s does not exist"), "no_template", id=version_id)
    return VersionSource.of(version)


def render_compiled(
    compiled: CompiledVersion,
    context: RenderContext,
    *,
    utm: Mapping[str, str] | None = None,
    message_key: str | None = None,
    preview: bool = False,
) -> RenderedContent:
    state = RenderState(context.settings, message_key=message_key, preview=preview)
    texts = {name: render_part(part, context.variables, state) for name, part in compiled.parts.items()}
    merged_utm = {**compiled.source.utm, **(utm or {})}
    skip = frozenset(str(context.variables.get(name) or "") for name in LINK_VARIABLES)
    return _content(compiled.source, texts, merged_utm, skip)


def with_subject(
    content: RenderedContent, subject: str, context: RenderContext, message_key: str | None = None
) -> RenderedContent:
    """An e-mail with a subject of its own (an A/B variant's), personalised like the template's."""
    if not isinstance(content, EmailContent):
        return content
    state = RenderState(context.settings, message_key=message_key)
    text = render_part(compile_draft("subject", subject), context.variables, state)
    return EmailContent(subject=_one_line(text), html=content.html, text=content.text)


def _content(
    source: VersionSource, texts: dict[str, str], utm: Mapping[str, str], skip: frozenset[str]
) -> RenderedContent:
    if source.channel == "email":
        text = texts.get("text", "")
        if source.text_derived:
            text = re.sub(r"\n[ \t]*(?:\n[ \t]*){2,}", "\n\n", text).strip() + "\n"
        return EmailContent(
            subject=_one_line(texts.get("subject", "")),
            html=utm_in_html(texts.get("html", ""), utm, skip),
            text=utm_in_text(text, utm, skip),
        )
    if source.channel == "sms":
        return SmsContent(text=texts.get("body", "").strip())
    if source.channel == "viber":
        return ViberContent(
            text=texts.get("body", "").strip(),
            button_text=_optional(texts.get("button_text")),
            button_url=_url(texts.get("button_url"), utm),
            image_url=_optional(texts.get("image_url")),
        )
    return PushContent(
        title=_one_line(texts.get("title", "")),
        body=texts.get("body", "").strip(),
        image_url=_optional(texts.get("image_url")),
        link=_url(texts.get("link"), utm),
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _optional(text: str | None) -> str | None:
    cleaned = (text or "").strip()
    return cleaned or None


def _url(text: str | None, utm: Mapping[str, str]) -> str | None:
    url = _optional(text)
    return with_utm(url, utm) if url else None


renderer = Renderer()
