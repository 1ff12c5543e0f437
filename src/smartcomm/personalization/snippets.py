"""What the editors start from and offer: a new e-mail's first layout, and the snippets of the
personalization panel (variables, links and macros, with the customer's custom fields).

The words are in the designer's interface language (they are the first words a designer replaces).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from smartcomm.kit.i18n import lazy
from smartcomm.personalization.context_repository import ContextRepository

STARTERS = {
    "mjml": """<mjml>
  <mj-body background-color="#f4f5f7">
    <mj-section background-color="#ffffff" padding="24px">
      <mj-column>
        <mj-text font-size="22px" font-weight="700">{{ client.first_name }}, %(hello)s</mj-text>
        <mj-text font-size="15px" line-height="1.5">%(write)s</mj-text>
        <mj-button background-color="#4f46e5" href="https://example.com">%(shop)s</mj-button>
      </mj-column>
    </mj-section>
    <mj-section padding="12px">
      <mj-column>
        <mj-text align="center" font-size="12px" color="#6b7280">
          <a href="{{ unsubscribe_url }}">%(unsubscribe)s</a>
        </mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>""",
    "html": """<!doctype html>
<html>
<head>
  <meta charset="utf-8">
  <style>
    body { margin: 0; background: #f4f5f7; font-family: Arial, sans-serif; }
    .box { max-width: 600px; margin: 0 auto; background: #ffffff; padding: 24px; }
    h1 { font-size: 22px; }
  </style>
</head>
<body>
  <div class="box">
    <h1>{{ client.first_name }}, %(hello)s</h1>
    <p>%(write)s</p>
    <p><a href="{{ unsubscribe_url }}">%(unsubscribe)s</a></p>
  </div>
</body>
</html>""",
}


STARTER_WORDS = {
    "hello": lazy("hello!"),
    "write": lazy("Write your message here."),
    "shop": lazy("Open the shop"),
    "unsubscribe": lazy("Unsubscribe"),
}


def starter(channel: str, kind: str) -> dict[str, Any]:
    """A new e-mail starts from a small layout in the user's language (the first words they replace)."""
    if channel != "email":
        return {}
    words = {key: str(word) for key, word in STARTER_WORDS.items()}
    body = STARTERS["html" if kind == "html" else "mjml"] % words
    return {"subject": "", "html" if kind == "html" else "mjml": body}


def snippets(session: Session) -> list[tuple[str, list[tuple[Any, str]]]]:
    """The snippets the editors offer for insertion, grouped, with the customer's custom fields."""
    custom = [
        (field.name, f"{{{{ client.custom.{field.code} }}}}")
        for field in ContextRepository(session).custom_fields()
    ]
    return [
        (
            str(lazy("Customer")),
            [
                (lazy("First name"), "{{ client.first_name }}"),
                (lazy("Last name"), "{{ client.last_name }}"),
                (lazy("Full name"), "{{ client.full_name }}"),
                (lazy("E-mail"), "{{ client.email }}"),
                (lazy("City"), "{{ client.city }}"),
                (lazy("Birth date"), "{{ client.birth_date|date('long') }}"),
                (lazy("Loyalty card number"), "{{ client.card_number }}"),
                *custom,
            ],
        ),
        (
            str(lazy("Purchases")),
            [
                (lazy("Purchase amount"), "{{ client.total_amount|money }}"),
                (lazy("Number of receipts"), "{{ client.receipt_count }}"),
                (lazy("Last purchase"), "{{ client.last_purchase_at|date }}"),
                (lazy("RFM cell"), "{{ client.rfm.cell }}"),
                (lazy("Last receipt number"), "{{ receipts[0].number }}"),
                (
                    lazy("Cart products"),
                    "{% for p in containers.cart.products %}{{ p.name }} — {{ p.price|money }}\n{% endfor %}",
                ),
            ],
        ),
        (
            str(lazy("Links and codes")),
            [
                (lazy("Unsubscribe link"), "{{ unsubscribe_url }}"),
                (lazy("Preferences link"), "{{ preferences_url }}"),
                (lazy("View in browser link"), "{{ view_in_browser_url }}"),
                (lazy("Random code"), "{{ string('A-Z0-9', 6) }}"),
                (lazy("Promo code"), "{{ client.promocode('GROUP') }}"),
                (lazy("Last promo code issued"), "{{ client.last_promocode('GROUP') }}"),
                (lazy("Poll link"), "{{ client.poll('POLL-1') }}"),
            ],
        ),
    ]
