"""MIME assembly per recipient from pre-built byte parts.

The stdlib `EmailMessage` builds and serialises about 450 messages a second: far slower than the SMTP
hop. Here everything that does not change between recipients (part headers, boundaries, the sender's
header, a repeated subject) is bytes made once, and a message is a join of byte strings: the bodies
encoded by C codecs (quoted-printable for mostly-ASCII text, base64 otherwise), RFC 2047 words for
non-ASCII headers, CRLF line endings and lines within the RFC 5322 limits.

The boundary starts with "=_", which can never occur in quoted-printable or base64 output, so one
boundary serves every message.
"""

from __future__ import annotations

import binascii
import secrets
import time
from collections.abc import Mapping
from email.utils import formatdate
from functools import lru_cache

from smartcomm.channels.base import EmailContent, OutgoingMessage, SenderIdentity
from smartcomm.channels.email import headers

BOUNDARY = b"=_sc_" + secrets.token_hex(8).encode("ascii")
CRLF = b"\r\n"
_B64_LINE = 76
# Headers the builder writes itself; a caller's copy of them is ignored.
_OWN_HEADERS = frozenset(
    {"from", "to", "subject", "date", "mime-version", "content-type", "content-transfer-encoding", "reply-to"}
)


def _part_head(subtype: bytes, encoding: bytes) -> bytes:
    return (
        b"Content-Type: text/" + subtype + b"; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: " + encoding + b"\r\n\r\n"
    )


PART_HEADS = {
    (subtype, encoding): _part_head(subtype, encoding)
    for subtype in (b"plain", b"html")
    for encoding in (b"quoted-printable", b"base64")
}
ALTERNATIVE = b'Content-Type: multipart/alternative; boundary="' + BOUNDARY + b'"\r\n'
DELIMITER = b"--" + BOUNDARY + CRLF
CLOSE = b"--" + BOUNDARY + b"--" + CRLF
MIME_VERSION = b"MIME-Version: 1.0\r\n"


def crlf_lines(text: str) -> bytes:
    """UTF-8 bytes with every line break as CRLF, ending in one (so the QP codec writes CRLF soft breaks)."""
    return _crlf(text.encode("utf-8"))


def _crlf(data: bytes) -> bytes:
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    data = data.replace(b"\n", CRLF)
    return data if data.endswith(CRLF) else data + CRLF


def encode_body(text: str) -> tuple[bytes, bytes]:
    """(transfer encoding, encoded body): quoted-printable when mostly ASCII, base64 when not (Cyrillic
    in quoted-printable triples in size)."""
    raw = text.encode("utf-8")
    # Bytes beyond one per character are the continuation bytes of non-ASCII characters: about half of
    # their bytes for Cyrillic. Counted for free from the two lengths.
    if (len(raw) - len(text)) * 12 > len(raw):
        return b"base64", base64_lines(_crlf(raw))
    data = _crlf(raw)
    # The CRLF before a boundary belongs to the boundary: one more keeps the text's own last line break.
    return b"quoted-printable", binascii.b2a_qp(data, quotetabs=False, istext=True, header=False) + CRLF


def base64_lines(data: bytes) -> bytes:
    encoded = binascii.b2a_base64(data, newline=False)
    return CRLF.join(map(encoded.__getitem__, _line_slices(len(encoded)))) + CRLF


@lru_cache(maxsize=1024)
def _line_slices(length: int) -> list[slice]:
    """Where to cut a base64 text of this length into 76-character lines (bodies repeat their sizes)."""
    return [slice(start, start + _B64_LINE) for start in range(0, length, _B64_LINE)]


class _DateHeader:
    """The Date header, formatted once per second (every message of that second shares it)."""

    def __init__(self) -> None:
        self.second = -1
        self.line = b""

    def current(self) -> bytes:
        now = int(time.time())
        if now != self.second:
            self.second, self.line = now, f"Date: {formatdate(now, usegmt=True)}\r\n".encode("ascii")
        return self.line


class MimeBuilder:
    """Builds the bytes of one message per recipient; one builder serves a whole batch."""

    def __init__(self, default_sender: SenderIdentity, message_id_domain: str) -> None:
        self.default_sender = default_sender
        self.message_id_domain = message_id_domain
        self._date = _DateHeader()

    def build(self, message: OutgoingMessage) -> bytes:
        content = message.content
        if not isinstance(content, EmailContent):
            raise TypeError(f"an e-mail needs EmailContent, not {type(content).__name__}")
        return self.head(message, content) + self.body(content)

    def head(self, message: OutgoingMessage, content: EmailContent) -> bytes:
        sender = self.sender_of(message)
        assert sender.address is not None
        lines = [
            headers.address_header("From", sender.name, sender.address),
            headers.fold("To", [headers.ascii_address(message.recipient)]),
            headers.unstructured("Subject", content.subject),
            self._date.current(),
        ]
        if sender.reply_to:
            lines.append(headers.address_header("Reply-To", None, sender.reply_to))
        lines.append(self._message_id(message))
        lines.extend(self._extra(message.headers))
        lines.append(MIME_VERSION)
        return b"".join(lines)

    def body(self, content: EmailContent) -> bytes:
        parts = [(b"plain", content.text), (b"html", content.html)]
        present = [(subtype, text) for subtype, text in parts if text]
        if len(present) == 1:
            subtype, text = present[0]
            encoding, encoded = encode_body(text)
            return PART_HEADS[(subtype, encoding)] + encoded
        chunks = [ALTERNATIVE, CRLF]
        for subtype, text in present or [(b"plain", " ")]:
            encoding, encoded = encode_body(text)
            chunks += [DELIMITER, PART_HEADS[(subtype, encoding)], encoded]
        chunks.append(CLOSE)
        return b"".join(chunks)

    def sender_of(self, message: OutgoingMessage) -> SenderIdentity:
        """The message's own sender, completed by the provider's defaults."""
        given, default = message.sender, self.default_sender
        return SenderIdentity(
            name=given.name if given.name is not None else default.name,
            address=given.address or default.address,
            reply_to=given.reply_to or default.reply_to,
        )

    def _message_id(self, message: OutgoingMessage) -> bytes:
        for name, value in message.headers.items():
            if name.lower() == "message-id" and value.isascii():
                return f"Message-ID: {headers.single_line(value)}\r\n".encode("ascii")
        token = secrets.token_hex(6)
        return f"Message-ID: <{message.message_id}.{token}@{self.message_id_domain}>\r\n".encode("ascii")

    @staticmethod
    def _extra(given: Mapping[str, str]) -> list[bytes]:
        return [
            headers.generic(name, value)
            for name, value in given.items()
            if name.lower() not in _OWN_HEADERS and name.lower() != "message-id" and headers.valid_name(name)
        ]


def message_id_of(data: bytes) -> str | None:
    """The Message-ID written into a built message (without the angle brackets)."""
    start = data.find(b"\r\nMessage-ID: ")
    if start < 0:
        return None
    end = data.find(CRLF, start + 2)
    return data[start + 14 : end].decode("ascii").strip().strip("<>")
