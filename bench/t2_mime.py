"""T2: MIME assembly per recipient, in one process (one core), beside the stdlib's `EmailMessage`.

The message is a personalised promotional e-mail of about 9 KB of HTML in Russian (a greeting, a dozen
product rows with prices and links) with its text part, a Cyrillic subject and sender name, and the
headers a mass send carries (Message-ID, List-Unsubscribe with an https URL and a mailto,
List-Unsubscribe-Post, List-ID). Contents for 500 recipients are made beforehand (rendering is T1's
figure); each repetition times building the bytes of 20,000 messages with the product's builder
(`channels/email/mime.py`), and of 1,000 with `EmailMessage` + `as_bytes(policy=SMTP)` (the reference,
~450/s). No DKIM (a signature is an RSA operation per message, measured apart) and no SMTP.

Check: a message of each kind is parsed back with the stdlib and must give the same subject, sender,
recipient, headers, text and HTML; otherwise the figure is an error.
"""

from __future__ import annotations

import email
import time
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from bench.results import Figure, Target
from bench.run import BenchError, Run
from smartcomm.channels.base import Channel, EmailContent, OutgoingMessage, SenderIdentity
from smartcomm.channels.email.mime import MimeBuilder

TARGET = Target(8000, True, "≥ 8 k/s per core")
RECIPIENTS = 500
FIGURE_COUNT = 20_000
REFERENCE_COUNT = 1_000
SENDER = SenderIdentity("Магазин «Ромашка»", "news@shop.example", "care@shop.example")
NAMES = ("Анна", "Борис", "Светлана", "Дмитрий", "Ольга", "Игорь", "Наталья", "Pavel", "Maria", "Юлия")
PRODUCT_ROW = (
    '<tr><td style="padding:8px"><img src="https://cdn.shop.example/p/{n}.jpg" width="80" alt=""></td>'
    '<td style="padding:8px"><a href="https://shop.example/t/c/{token}-{n}">Товар №{n}: свежий урожай</a>'
    '<br><span style="color:#888">Артикул SKU-{n:05d}</span></td>'
    '<td style="padding:8px;text-align:right"><b>{price} ₽</b> <s>{old} ₽</s></td></tr>\n'
)


def _content(number: int) -> tuple[EmailContent, dict[str, str], str]:
    name = NAMES[number % len(NAMES)]
    token = f"tok{number:06d}x9"
    rows = "".join(
        PRODUCT_ROW.format(n=n, token=token, price=199 + n * 7, old=299 + n * 9)
        for n in range(number % 3, 24)
    )
    html = (
        '<!doctype html><html><body style="font-family:Arial,sans-serif">'
        f"<h1>{name}, скидки до 50 % только до воскресенья!</h1>"
        "<p>Мы подобрали товары, которые вы смотрели, и добавили к ним персональную скидку. "
        "Предложение действует во всех магазинах сети и в интернет-магазине.</p>"
        f'<table width="100%" cellpadding="0" cellspacing="0">{rows}</table>'
        f'<p><a href="https://shop.example/u/{token}">Отписаться</a> · '
        f'<a href="https://shop.example/v/{token}">Открыть в браузере</a></p></body></html>'
    )
    text = f"{name}, скидки до 50 % только до воскресенья!\n\n" + "\n".join(
        f"Товар №{n}: {199 + n * 7} ₽ — https://shop.example/t/c/{token}-{n}" for n in range(12)
    )
    headers = {
        "Message-ID": f"<m{number}.{token}@shop.example>",
        "List-Unsubscribe": (
            f"<https://shop.example/u/{token}>, <mailto:unsubscribe@shop.example?subject={token}>"
        ),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-ID": "Акции и скидки <promotions.shop.example>",
    }
    subject = f"{name}, ваша персональная скидка до 50 % — только до воскресенья"
    return EmailContent(subject, html, text), headers, f"customer{number}@example.com"


def messages() -> list[OutgoingMessage]:
    made = []
    for number in range(RECIPIENTS):
        content, headers, recipient = _content(number)
        made.append(OutgoingMessage(number, Channel.EMAIL, recipient, content, SENDER, headers))
    return made


def stdlib_bytes(message: OutgoingMessage) -> bytes:
    """The reference: the same message made with the standard library's EmailMessage."""
    content = message.content
    assert isinstance(content, EmailContent)
    built = EmailMessage()
    built["From"] = formataddr((SENDER.name or "", SENDER.address or ""))
    built["To"] = message.recipient
    built["Subject"] = content.subject
    built["Date"] = formatdate(usegmt=True)
    built["Reply-To"] = SENDER.reply_to or ""
    for name, value in message.headers.items():
        built[name] = value
    built.set_content(content.text)
    built.add_alternative(content.html, subtype="html")
    return built.as_bytes(policy=policy.SMTP)


def timed(build: object, batch: list[OutgoingMessage], count: int) -> float:
    """Messages per second building `count` messages, cycling through the prepared contents."""
    assert callable(build)
    started = time.perf_counter()
    for index in range(count):
        build(batch[index % len(batch)])
    return count / (time.perf_counter() - started)


def check(builder: MimeBuilder, message: OutgoingMessage) -> None:
    """The product's bytes and the stdlib's must read back as the same message."""
    ours, theirs = (
        email.message_from_bytes(data, policy=policy.default)
        for data in (builder.build(message), stdlib_bytes(message))
    )
    for header in ("Subject", "From", "To", "Reply-To", "Message-ID", "List-Unsubscribe", "List-ID"):
        if str(ours[header]) != str(theirs[header]):
            raise BenchError(f"{header} differs: {ours[header]!r} vs {theirs[header]!r}")
    for ours_part, their_part in zip(ours.iter_parts(), theirs.iter_parts(), strict=True):  # type: ignore[attr-defined]
        if _normalised(ours_part.get_content()) != _normalised(their_part.get_content()):
            raise BenchError(f"the {ours_part.get_content_type()} part differs from the stdlib's")


def _normalised(text: str) -> str:
    return text.replace("\r\n", "\n").rstrip()


def measure(run: Run) -> list[Figure]:
    figure = Figure(
        "T2", "MIME assembly per recipient", "—", "msg/s", TARGET, reference_title="stdlib EmailMessage"
    )
    try:
        batch = messages()
        builder = MimeBuilder(SENDER, "shop.example")
        check(builder, batch[0])
        check(builder, batch[7])
        sample = builder.build(batch[0])
        figure.details = {
            "message_bytes": len(sample),
            "html_bytes": len(batch[0].content.html.encode()),  # type: ignore[union-attr]
            "messages_per_repetition": FIGURE_COUNT,
            "reference_messages_per_repetition": REFERENCE_COUNT,
        }
        timed(builder.build, batch, 2_000)  # warm-up of both, untimed
        timed(stdlib_bytes, batch, 100)
        for _ in range(run.repeat):
            figure.values.append(timed(builder.build, batch, FIGURE_COUNT))
            figure.reference.append(timed(stdlib_bytes, batch, REFERENCE_COUNT))
    except BenchError as error:
        figure.error = str(error)
    run.console.print(f"T2: {figure.median or 0:,.0f} msg/s (stdlib {figure.reference_median or 0:,.0f})")
    return [figure]
