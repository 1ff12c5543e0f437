"""Shapes of the template library: content per channel in, templates, versions and previews out."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from smartcomm.kit.types import JsonObject, RowId

_TEMPLATE_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


def unescape_template_tags(source: str) -> str:
    """The visual editor writes `>`, `<`, `&` and quotes of its texts as entities; inside template tags
    they must stay themselves (`{% if n &gt; 3 %}` is not a template)."""
    return _TEMPLATE_TAG.sub(lambda match: html.unescape(match.group(0)), source)


MAX_SOURCE = 500_000  # characters of an e-mail's MJML or HTML
MAX_TEXT_PART = 200_000

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None
Channel = Literal["email", "sms", "viber", "push"]


class Strict(BaseModel):
    """Unknown fields are refused, and so is the NUL character in any text (PostgreSQL cannot store it)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, value in data.items():
                if isinstance(value, str) and "\x00" in value:
                    raise ValueError(f"{name}: must not contain the NUL character")
        return data


UtmValue = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None


class Utm(Strict):
    """UTM parameters appended to every web link of the message (a link's own values are kept)."""

    utm_source: UtmValue = None
    utm_medium: UtmValue = None
    utm_campaign: UtmValue = None
    utm_term: UtmValue = None
    utm_content: UtmValue = None

    def values(self) -> dict[str, str]:
        return {key: value for key, value in self.model_dump().items() if value}


class EmailContentIn(Strict):
    """An e-mail: subject, the body as MJML (visual editor, MJML code) or HTML, an optional text part
    (derived from the HTML when absent)."""

    channel: Literal["email"] = "email"
    editor: Literal["visual", "mjml", "html"] = "html"
    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    preheader: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    mjml: Annotated[str, StringConstraints(max_length=MAX_SOURCE)] | None = None
    html: Annotated[str, StringConstraints(max_length=MAX_SOURCE)] | None = None
    text: Annotated[str, StringConstraints(max_length=MAX_TEXT_PART)] | None = None
    utm: Utm = Field(default_factory=Utm)

    @model_validator(mode="after")
    def _body_for_the_editor(self) -> EmailContentIn:
        wanted = "html" if self.editor == "html" else "mjml"
        if not (getattr(self, wanted) or "").strip():
            raise ValueError(f"`{wanted}` is required for the {self.editor} editor")
        if self.editor == "visual" and self.mjml:
            self.mjml = unescape_template_tags(self.mjml)
        return self


class SmsContentIn(Strict):
    channel: Literal["sms"] = "sms"
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class ViberContentIn(Strict):
    """A Viber message: text, at most one button (its text and link), an optional image."""

    channel: Literal["viber"] = "viber"
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
    button_text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] | None = None
    button_url: Url = None
    image_url: Url = None
    utm: Utm = Field(default_factory=Utm)

    @model_validator(mode="after")
    def _button_complete(self) -> ViberContentIn:
        if bool(self.button_text) != bool(self.button_url):
            raise ValueError("a button needs both its text and its link")
        return self


class PushContentIn(Strict):
    """A push notification: title, text, optional image and link (a web address or a deep link)."""

    channel: Literal["push"] = "push"
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
    image_url: Url = None
    link: Url = None
    utm: Utm = Field(default_factory=Utm)


ContentIn = Annotated[
    EmailContentIn | SmsContentIn | ViberContentIn | PushContentIn, Field(discriminator="channel")
]


class TemplateCreate(Strict):
    name: Name
    description: Description = None
    content: ContentIn


class TemplateUpdate(Strict):
    name: Name | None = None
    description: Description = None


class VersionCreate(Strict):
    content: ContentIn


class PreviewRequest(Strict):
    """Whom to render for: a customer by platform id or external id, or (neither) the test customer."""

    customer_id: RowId | None = None
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    version: Annotated[int, Field(ge=1, le=1_000_000)] | None = Field(
        default=None, description="The version's number; the latest when omitted"
    )
    event: JsonObject | None = Field(default=None, description="The triggering event's context: `event.*`")
    utm: Utm | None = None


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: int
    channel: str
    editor: str
    subject: str | None
    preheader: str | None
    mjml: str | None
    html_source: str | None
    html: str | None = Field(description="The compiled HTML: MJML compiled, CSS inlined")
    text: str | None
    text_derived: bool
    body: str | None
    title: str | None
    button_text: str | None
    button_url: str | None
    image_url: str | None
    link: str | None
    utm: dict[str, str]
    created_by_id: int | None
    created_at: datetime


class TemplateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    channel: str
    editor: str
    description: str | None
    version_count: int
    created_by_id: int | None
    updated_by_id: int | None
    created_at: datetime
    updated_at: datetime
    latest: VersionOut | None = None


class SmsPartsOut(BaseModel):
    encoding: str
    units: int
    parts: int
    per_part: int
    remaining: int


class PreviewOut(BaseModel):
    template_id: int
    version_id: int
    version: int
    channel: str
    customer_id: int | None = Field(description="null: the test customer")
    subject: str | None = None
    html: str | None = None
    text: str | None = None
    title: str | None = None
    body: str | None = None
    button_text: str | None = None
    button_url: str | None = None
    image_url: str | None = None
    link: str | None = None
    sms: SmsPartsOut | None = Field(default=None, description="SMS only: encoding and number of parts")
