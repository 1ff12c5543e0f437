"""The brand of the public pages and of the confirmation e-mail (Settings → Design), and the language a
customer reads them in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.kit import i18n
from smartcomm.kit.i18n import LazyString, lazy
from smartcomm.models import Customer
from smartcomm.settings.schemas import DesignSettings, GeneralSettings
from smartcomm.settings.service import settings_service

PAGES = ("unsubscribe", "preferences", "confirmation", "thanks")
# A customer's language, when the base keeps one: a custom field of this code ("ru", "en").
LANGUAGE_FIELD = "language"

DEFAULT_TEXTS: dict[str, tuple[LazyString, LazyString]] = {
    "unsubscribe": (
        lazy("Unsubscribe"),
        lazy("We are sorry to see you go. Choose what you no longer want to receive."),
    ),
    "preferences": (
        lazy("Your subscriptions"),
        lazy("Choose which messages you want to receive and on which channels."),
    ),
    "confirmation": (
        lazy("Confirm your e-mail address"),
        lazy("Confirm that this address is yours and that you want to receive our e-mails."),
    ),
    "thanks": (lazy("Thank you"), lazy("Your choice has been saved.")),
}


@dataclass(frozen=True)
class Brand:
    company: str
    logo_url: str | None
    primary: str
    background: str
    text: str
    settings: DesignSettings

    def title(self, page: str) -> str:
        return self._text(page, "title", 0)

    def body(self, page: str) -> str:
        return self._text(page, "text", 1)

    def _text(self, page: str, kind: str, index: int) -> str:
        own = getattr(self.settings, f"{page}_{kind}_{i18n.current_language()}", None)
        return str(own) if own else str(DEFAULT_TEXTS[page][index])

    @property
    def on_primary(self) -> str:
        """Black or white, whichever reads better on the primary colour (buttons)."""
        return "#ffffff" if _luminance(self.primary) < 0.55 else "#1d273b"

    def as_css(self) -> str:
        """The brand as CSS custom properties (the colours are validated hex values)."""
        return (
            f":root{{--brand:{self.primary};--brand-text:{self.on_primary};"
            f"--page-bg:{self.background};--page-text:{self.text}}}"
        )


def _luminance(colour: str) -> float:
    red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def brand_of(general: GeneralSettings, design: DesignSettings) -> Brand:
    logo = design.logo_file_id or general.logo_file_id
    return Brand(
        company=general.company_name,
        logo_url=f"/files/{logo}" if logo else None,
        primary=design.primary_color,
        background=design.background_color,
        text=design.text_color,
        settings=design,
    )


def brand(session: Session) -> Brand:
    return brand_of(
        settings_service.read(session, GeneralSettings), settings_service.read(session, DesignSettings)
    )


def customer_language(customer: Customer | None) -> str | None:
    value = (customer.custom or {}).get(LANGUAGE_FIELD) if customer is not None else None
    code = str(value).strip().lower()[:2] if value else ""
    return code if code in i18n.LANGUAGES else None


def page_language(
    customer: Customer | None, accept_language: str | None, default: str, chosen: str | None = None
) -> str:
    """The language of a public page: the one the visitor chose on it, else the customer's (a custom field
    `language`), else the browser's, else the project's default."""
    for candidate in (chosen, customer_language(customer), *_accepted(accept_language)):
        if candidate in i18n.LANGUAGES:
            return str(candidate)
    return default if default in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


def _accepted(header: str | None) -> list[str]:
    """The languages of an Accept-Language header, most wanted first."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")):
        code, _, quality = part.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            weight = 0.0
        weighted.append((-weight, index, code.strip()[:2].lower()))
    return [code for _, _, code in sorted(weighted) if code]


def template_values(brand: Brand) -> dict[str, Any]:
    return {"brand": brand, "brand_css": brand.as_css()}
