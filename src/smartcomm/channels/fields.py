"""How a provider's settings field appears on the Settings → Channels form.

Each provider kind describes its settings as a pydantic model whose fields carry a `FormField` in their
`Annotated` metadata; the page builds the form from it, and `secret=True` fields are encrypted at rest
and never shown back in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from smartcomm.kit.i18n import LazyString

Widget = Literal["text", "password", "textarea", "number", "checkbox", "select", "url"]


@dataclass(frozen=True)
class FormField:
    label: LazyString
    hint: LazyString | None = None
    widget: Widget = "text"
    secret: bool = False
    placeholder: str = ""
    choices: tuple[tuple[str, LazyString], ...] = ()
    section: LazyString | None = None  # the first field of a group of fields starts a titled section


@dataclass(frozen=True)
class DescribedField:
    name: str
    form: FormField
    required: bool
    default: object


def form_fields(schema: type[BaseModel]) -> list[DescribedField]:
    """The fields of a settings schema in declaration order, with their form description."""
    described: list[DescribedField] = []
    for name, info in schema.model_fields.items():
        form = next((item for item in info.metadata if isinstance(item, FormField)), None)
        if form is not None:
            described.append(DescribedField(name, form, info.is_required(), info.get_default()))
    return described


def secret_names(schema: type[BaseModel]) -> frozenset[str]:
    return frozenset(field.name for field in form_fields(schema) if field.form.secret)


@dataclass
class FieldGroup:
    title: LazyString | None
    fields: list[DescribedField]


# Sections in the order a form shows them, whatever order a schema (or its base class) declares them in.
SECTION_ORDER = (
    "Server",
    "Sender",
    "Request",
    "Fields of the request",
    "Answer",
    "Delivery-status callback",
    "DKIM signature",
)


def sections(fields: list[DescribedField]) -> list[FieldGroup]:
    """Fields grouped under their section titles: a field without one joins the section before it."""
    groups: dict[str, FieldGroup] = {}
    current: LazyString | None = None
    for field in fields:
        current = field.form.section or current
        key = str.__str__(current) if current is not None else ""
        groups.setdefault(key, FieldGroup(current, [])).fields.append(field)
    ordered = sorted(groups.items(), key=lambda item: _section_rank(item[0]))
    return [group for _, group in ordered]


def _section_rank(title: str) -> int:
    return SECTION_ORDER.index(title) if title in SECTION_ORDER else len(SECTION_ORDER)
