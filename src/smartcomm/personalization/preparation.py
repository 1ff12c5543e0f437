"""From the content a designer wrote to the fields of a version row, and back.

An e-mail's MJML is compiled to HTML, its CSS inlined, its preheader put at the top of the body as
hidden text, and its text part derived from the HTML when none was written. The other channels keep
what was written.
"""

from __future__ import annotations

import re
from typing import Any

from smartcomm.models import MessageTemplateVersion
from smartcomm.personalization.email_html import compile_mjml, html_to_text, inline_css, mjml_styles
from smartcomm.personalization.errors import Problem
from smartcomm.personalization.schemas import (
    ContentIn,
    EmailContentIn,
    PushContentIn,
    SmsContentIn,
    Utm,
    ViberContentIn,
)

_BODY_OPEN = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
PREHEADER = (
    '<div style="display:none;font-size:1px;line-height:1px;max-height:0;max-width:0;opacity:0;'
    'overflow:hidden;mso-hide:all">{}</div>'
)


def parts_as_written(content: ContentIn) -> dict[str, str | None]:
    """The template parts of the content, named as its fields, as the designer wrote them."""
    if isinstance(content, EmailContentIn):
        body = {"html": content.html} if content.editor == "html" else {"mjml": content.mjml}
        return {"subject": content.subject, "preheader": content.preheader, **body, "text": content.text}
    if isinstance(content, SmsContentIn):
        return {"text": content.text}
    if isinstance(content, ViberContentIn):
        return {
            "text": content.text,
            "button_text": content.button_text,
            "button_url": content.button_url,
            "image_url": content.image_url,
        }
    return {
        "title": content.title,
        "body": content.body,
        "image_url": content.image_url,
        "link": content.link,
    }


def version_fields(content: ContentIn) -> tuple[dict[str, Any], list[Problem]]:
    """The columns of a new version for this content, and the problems of compiling it."""
    fields: dict[str, Any] = {"channel": content.channel, "editor": "text", "utm": {}}
    if isinstance(content, EmailContentIn):
        return _email_fields(content, fields)
    if isinstance(content, SmsContentIn):
        return fields | {"body": content.text}, []
    if isinstance(content, ViberContentIn):
        return fields | {
            "body": content.text,
            "button_text": content.button_text or None,
            "button_url": content.button_url or None,
            "image_url": content.image_url or None,
            "utm": content.utm.values(),
        }, []
    return fields | {
        "title": content.title,
        "body": content.body,
        "image_url": content.image_url or None,
        "link": content.link or None,
        "utm": content.utm.values(),
    }, []


def _email_fields(content: EmailContentIn, fields: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    problems: list[Problem] = []
    if content.editor == "html":
        html = content.html or ""
    else:
        html, problems = compile_mjml(content.mjml or "")
    if problems:
        return fields, problems
    designed = mjml_styles(content.mjml or "") if content.editor != "html" else None
    inlined = html if designed == "" else inline_css(html, only=designed)
    compiled = with_preheader(inlined, content.preheader)
    text = (content.text or "").strip()
    return fields | {
        "editor": content.editor,
        "subject": content.subject,
        "preheader": content.preheader or None,
        "mjml": content.mjml if content.editor != "html" else None,
        "html_source": content.html if content.editor == "html" else None,
        "html": compiled,
        "text": text or html_to_text(compiled),
        "text_derived": not text,
        "utm": content.utm.values(),
    }, []


def with_preheader(html: str, preheader: str | None) -> str:
    """Put the preheader (the line inboxes show after the subject) first in the body, hidden."""
    if not preheader:
        return html
    hidden = PREHEADER.format(preheader)
    found = _BODY_OPEN.search(html)
    if found is None:
        return hidden + html
    return html[: found.end()] + hidden + html[found.end() :]


def content_of(version: MessageTemplateVersion) -> ContentIn:
    """The content a version was made from (to edit it again, or to save it again as a new version)."""
    utm = Utm.model_validate(version.utm or {})
    if version.channel == "email":
        return EmailContentIn(
            editor=version.editor,
            subject=version.subject or "",
            preheader=version.preheader,
            mjml=version.mjml,
            html=version.html_source,
            text=None if version.text_derived else version.text,
            utm=utm,
        )
    if version.channel == "sms":
        return SmsContentIn(text=version.body or "")
    if version.channel == "viber":
        return ViberContentIn(
            text=version.body or "",
            button_text=version.button_text,
            button_url=version.button_url,
            image_url=version.image_url,
            utm=utm,
        )
    return PushContentIn(
        title=version.title or "",
        body=version.body or "",
        image_url=version.image_url,
        link=version.link,
        utm=utm,
    )
