"""T1: the sandboxed render of a personalised e-mail (about 9 KB rendered), in one process (one core),
beside unsandboxed Jinja2 rendering the same template in the same run.

The template is a promotional e-mail written in MJML and prepared as the template library prepares
it on save (MRML compiles it, CSS is inlined, the text part is derived): a greeting, a block that
depends on the RFM cell, the last three receipts with their lines, the cart's products with pictures,
prices and links, bonus points with Russian plural forms, dates, and the footer's links. Contexts for
500 different customers are made beforehand (loading them is the context builder's work, not the
render's); each repetition renders 5,000 messages (subject, HTML and text part) through the product's
renderer — the sandbox with all its guards and budgets — and 5,000 through a plain
`jinja2.Environment` with the same filters (the reference). Both are timed in CPU seconds of the process
(`time.process_time`), which is what "per core" means on a machine shared with other work.

Check: for several customers both produce the same subject and HTML; otherwise the figure is an error.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from jinja2 import Environment, select_autoescape

from bench.results import Figure, Target
from bench.run import BenchError, Run
from smartcomm.channels.base import EmailContent
from smartcomm.personalization.context import RenderContext
from smartcomm.personalization.formatting import FILTERS
from smartcomm.personalization.preparation import version_fields
from smartcomm.personalization.renderer import VersionSource, compile_version, render_compiled
from smartcomm.personalization.runtime import RenderSettings, RenderState, running
from smartcomm.personalization.schemas import EmailContentIn
from smartcomm.personalization.views import (
    ClientView,
    ContainerView,
    LineView,
    ProductView,
    ReceiptView,
    RfmView,
)

TARGET = Target(8000, True, "≥ 8 k/s per core")
CUSTOMERS = 500
RENDERS = 5_000
SETTINGS = RenderSettings("ru", "Europe/Moscow", "RUB")
NAMES = ("Анна", "Борис", "Светлана", "Дмитрий", "Ольга", "Игорь", "Наталья", "Павел", "Мария", "Юлия")
PRODUCTS = (
    "Кофе в зёрнах, 1 кг",
    "Чай улун, 100 г",
    "Кружка «Утро»",
    "Свеча ароматическая",
    "Плед шерстяной",
)
SUBJECT = (
    "{{ client.first_name }}, для вас {{ containers.cart.count }} "
    "{{ containers.cart.count|plural('подарок', 'подарка', 'подарков') }} в корзине"
)
MJML = """<mjml>
  <mj-head>
    <mj-attributes>
      <mj-all font-family="Arial, sans-serif" />
      <mj-text font-size="15px" line-height="1.5" color="#1f2937" />
    </mj-attributes>
    <mj-style>
      .price { color: #4f46e5; font-weight: bold; }
      .muted { color: #6b7280; font-size: 12px; }
    </mj-style>
  </mj-head>
  <mj-body background-color="#f4f5f7">
    <mj-section background-color="#ffffff" padding="24px">
      <mj-column>
        <mj-text color="#4f46e5" font-size="13px">Уют · {{ today|date('d MMMM') }}</mj-text>
        <mj-text font-size="22px" font-weight="bold">{{ client.first_name }}, здравствуйте!</mj-text>
        <mj-raw>{% if client.rfm and client.rfm.r >= 4 %}</mj-raw>
        <mj-text>Спасибо, что вы с нами: за {{ client.receipt_count }}
          {{ client.receipt_count|plural('покупку', 'покупки', 'покупок') }}
          на {{ client.total_amount|money }}
          вы стали одним из самых близких нам покупателей ({{ client.rfm.cell }}).</mj-text>
        <mj-raw>{% else %}</mj-raw>
        <mj-text>Мы давно вас не видели — последняя покупка была {{ client.last_purchase_at|date('long') }}.
          Возвращайтесь!</mj-text>
        <mj-raw>{% endif %}</mj-raw>
        <mj-text>На вашей карте {{ client.card_number }} — {{ bonus }}
          {{ bonus|plural('бонус', 'бонуса', 'бонусов') }}.</mj-text>
        <mj-text font-size="17px" font-weight="bold">В вашей корзине</mj-text>
        <mj-table>
          {% for p in containers.cart.products %}
          <tr><td width="90">
            <a href="{{ p.link }}"><img src="{{ p.image }}" alt="{{ p.name }}" width="80"></a></td>
            <td><a href="{{ p.link }}">{{ p.name }}</a><br><span class="muted">арт. {{ p.sku }}</span></td>
            <td style="text-align:right"><span class="price">{{ p.price|money }}</span></td></tr>
          {% endfor %}
        </mj-table>
        <mj-text font-size="17px" font-weight="bold">Ваши последние покупки</mj-text>
        <mj-table>
          <tr style="text-align:left"><th>Чек</th><th>Дата</th><th>Магазин</th><th>Сумма</th></tr>
          {% for r in receipts[:3] %}
          <tr><td>{{ r.number }}</td><td>{{ r.purchased_at|date('short') }}</td><td>{{ r.store }}</td>
            <td style="text-align:right">{{ r.total|money }}</td></tr>
          {% for line in r.lines %}
          <tr class="muted"><td colspan="3">{{ line.name }} × {{ line.quantity|number }}</td>
            <td style="text-align:right">{{ line.amount|money }}</td></tr>
          {% endfor %}
          {% endfor %}
        </mj-table>
      </mj-column>
    </mj-section>
    <mj-section padding="16px 24px">
      <mj-column>
        <mj-text align="center" css-class="muted">Вы получили это письмо как участник программы «Уют».<br />
          <a href="{{ unsubscribe_url }}">Отписаться</a> ·
          <a href="{{ preferences_url }}">Настроить рассылки</a> ·
          <a href="{{ view_in_browser_url }}">Открыть в браузере</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>"""


def prepared() -> VersionSource:
    """The template as the library stores it after a save."""
    content = EmailContentIn(editor="mjml", subject=SUBJECT, mjml=MJML)
    fields, problems = version_fields(content)
    if problems:
        raise BenchError(f"the benchmark's template does not compile: {problems[0].message}")
    parts = {name: fields.get(name) for name in ("subject", "html", "text")}
    return VersionSource("email", parts, {}, bool(fields["text_derived"]))


def _receipt(number: int, index: int, now: datetime) -> ReceiptView:
    lines = [
        LineView(
            sku=f"SKU-{n}",
            name=PRODUCTS[(number + n) % 5],
            quantity=Decimal(1 + n % 2),
            price=Decimal("290.00") + n * 40,
            amount=Decimal("290.00") + n * 40,
            position=n,
        )
        for n in range(1 + (number + index) % 3)
    ]
    return ReceiptView(
        number=f"R-{number}-{index}",
        purchased_at=now - timedelta(days=7 * index + number % 5),
        status="paid",
        total=sum((line.amount for line in lines), Decimal(0)),
        store="Магазин на Тверской",
        lines=lines,
    )


def customer(number: int, now: datetime) -> RenderContext:
    """A customer with three receipts, three products in the cart and an RFM cell."""
    name = NAMES[number % len(NAMES)]
    client = ClientView(
        {
            "id": number,
            "first_name": name,
            "last_name": "Иванова",
            "full_name": f"Иванова {name}",
            "card_number": f"27750000{number:05d}",
            "receipt_count": 3 + number % 20,
            "total_amount": Decimal("1234.50") * (1 + number % 7),
            "last_purchase_at": now - timedelta(days=number % 90),
        },
        {"shoe_size": 38},
        RfmView(1 + number % 5, 3, 4, 10, 5, Decimal("5000")),
    )
    products = [
        ProductView(
            f"SKU-{n}",
            PRODUCTS[(number + n) % 5],
            Decimal("490.00") + n * 100,
            f"https://cdn.shop.example/p/{n}.jpg",
            f"https://shop.example/p/{n}",
            Decimal(1),
        )
        for n in range(3)
    ]
    variables: dict[str, Any] = {
        "client": client,
        "receipts": [_receipt(number, index, now) for index in range(3)],
        "containers": {"cart": ContainerView("cart", "Корзина", products, now)},
        "event": {},
        "bonus": 100 + number * 7 % 900,
        "today": now.date(),
        "now": now,
        "company": "Уют",
        "unsubscribe_url": f"https://sc.example/u/tok{number}",
        "preferences_url": f"https://sc.example/p/tok{number}",
        "view_in_browser_url": f"https://sc.example/v/tok{number}",
    }
    return RenderContext(number, variables, SETTINGS)


def reference_environment() -> Environment:
    """Plain Jinja2 with the product's filters: what rendering costs without the sandbox."""
    plain = Environment(autoescape=select_autoescape(["html"], default_for_string=False), finalize=_finalize)
    plain.filters.update(FILTERS)
    return plain


def _finalize(value: Any) -> Any:
    return "" if value is None else value


def timed(render: Any, contexts: list[RenderContext], count: int) -> float:
    """Renders per second of the process's CPU time: per core, whatever else the machine runs."""
    started = time.process_time()
    for index in range(count):
        render(contexts[index % len(contexts)])
    return count / (time.process_time() - started)


def measure(run: Run) -> list[Figure]:
    figure = Figure(
        "T1",
        "sandboxed render of a personalised e-mail",
        "—",
        "renders/s",
        TARGET,
        reference_title="unsandboxed Jinja2",
    )
    try:
        source = prepared()
        compiled = compile_version(source)
        plain = reference_environment()
        templates = {name: _compiled(plain, name, text or "") for name, text in source.parts.items()}
        now = datetime.now(UTC)
        contexts = [customer(number, now) for number in range(CUSTOMERS)]

        def sandboxed(context: RenderContext) -> EmailContent:
            content = render_compiled(compiled, context)
            assert isinstance(content, EmailContent)
            return content

        def unsandboxed(context: RenderContext) -> tuple[str, str, str]:
            with running(RenderState(context.settings)):  # the filters read the project's formats
                return tuple(
                    templates[name].render(context.variables) for name in ("subject", "html", "text")
                )  # type: ignore[return-value]

        _check(sandboxed, unsandboxed, contexts)
        sample = sandboxed(contexts[0])
        figure.details = {
            "template_html_bytes": len((source.parts["html"] or "").encode()),
            "rendered_html_bytes": len(sample.html.encode()),
            "rendered_text_bytes": len(sample.text.encode()),
            "customers": CUSTOMERS,
            "renders_per_repetition": RENDERS,
        }
        timed(sandboxed, contexts, 1_000)  # warm-up of both, untimed
        timed(unsandboxed, contexts, 1_000)
        for _ in range(run.repeat):
            figure.values.append(timed(sandboxed, contexts, RENDERS))
            figure.reference.append(timed(unsandboxed, contexts, RENDERS))
    except BenchError as error:
        figure.error = str(error)
    run.console.print(
        f"T1: {figure.median or 0:,.0f} renders/s (unsandboxed {figure.reference_median or 0:,.0f})"
    )
    return [figure]


def _compiled(plain: Environment, part: str, text: str) -> Any:
    """A part compiled as the renderer compiles it: the HTML part under a name that autoescapes."""
    code = plain.compile(text, name=f"{part}.html" if part == "html" else part)
    return plain.template_class.from_code(plain, code, plain.make_globals(None), None)


def _check(sandboxed: Any, unsandboxed: Any, contexts: list[RenderContext]) -> None:
    for context in contexts[:7]:
        ours, theirs = sandboxed(context), unsandboxed(context)
        if (ours.subject, ours.html) != (" ".join(theirs[0].split()), theirs[1]):
            raise BenchError(
                f"the sandboxed render of customer {context.customer_id} differs from plain Jinja2"
            )
