"""Header lines for messages assembled by hand: RFC 2047 encoded words for non-ASCII text (Cyrillic
subjects and names), RFC 5322 folding at 78 characters, CRLF line endings.

A header line is returned as bytes ending in CRLF, ready to be joined into a message.
"""

from __future__ import annotations

import binascii
import re
from functools import lru_cache

MAX_LINE = 78
# 42 bytes of UTF-8 make 56 base64 characters: an encoded word of 68 (RFC 2047 allows 75), which fits on
# a line after any header name we write.
WORD_BYTES = 42
_PHRASE_SAFE = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]*")
_LINE_BREAKS = re.compile(r"[\r\n]+")


def single_line(value: str) -> str:
    """A value can never carry a line break into the header block (header injection)."""
    if "\r" in value or "\n" in value:
        return _LINE_BREAKS.sub(" ", value).strip()
    return value.strip()


def encoded_words(text: str) -> list[str]:
    """`text` as RFC 2047 'B' words in UTF-8, never cutting a character in two."""
    data = text.encode("utf-8")
    words: list[str] = []
    start = 0
    while start < len(data):
        end = min(start + WORD_BYTES, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a continuation byte: step back
            end -= 1
        chunk = binascii.b2a_base64(data[start:end], newline=False).decode("ascii")
        words.append(f"=?utf-8?b?{chunk}?=")
        start = end
    return words


def fold(name: str, tokens: list[str]) -> bytes:
    """`Name: token token …` folded before a token that would pass 78 characters."""
    lines: list[str] = []
    line = f"{name}:"
    for token in tokens:
        if len(line) + 1 + len(token) > MAX_LINE and line.strip() and line != f"{name}:":
            lines.append(line)
            line = ""
        line += f" {token}"
    lines.append(line)
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def text_tokens(text: str) -> list[str]:
    """Unstructured text as foldable tokens: words when ASCII, encoded words otherwise."""
    value = single_line(text)
    return value.split() if value.isascii() else encoded_words(value)


@lru_cache(maxsize=1024)
def unstructured(name: str, text: str) -> bytes:
    """A free-text header (Subject, …); cached because a mass send repeats the same subject."""
    return fold(name, text_tokens(text) or [""])


def phrase_tokens(phrase: str) -> list[str]:
    """A display name: plain words when safe, quoted when ASCII with specials, encoded otherwise."""
    value = single_line(phrase)
    if not value:
        return []
    if not value.isascii():
        return encoded_words(value)
    if _PHRASE_SAFE.fullmatch(value):
        return value.split()
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return [f'"{escaped}"']


def ascii_address(address: str) -> str:
    """An address whose domain is written in IDNA; a non-ASCII local part needs SMTPUTF8 (refused)."""
    value = single_line(address)
    local, _, domain = value.rpartition("@")
    if not local or not domain or not local.isascii():
        raise ValueError(f"cannot write the address {address!r} in a message header")
    return f"{local}@{domain.encode('idna').decode('ascii')}" if not domain.isascii() else value


@lru_cache(maxsize=256)
def address_header(name: str, display_name: str | None, address: str) -> bytes:
    """From / Reply-To: `Name <address>`, the name encoded when it is not ASCII."""
    tokens = phrase_tokens(display_name or "")
    return fold(name, [*tokens, f"<{ascii_address(address)}>"] if tokens else [ascii_address(address)])


@lru_cache(maxsize=256)
def list_id(value: str) -> bytes:
    """List-ID: `Phrase <id.domain>` with the phrase encoded when it is not ASCII (RFC 2919)."""
    phrase, bracket, rest = single_line(value).rpartition("<")
    if not bracket:
        return fold("List-ID", [f"<{rest.strip('<> ')}>"])
    return fold("List-ID", [*phrase_tokens(phrase), f"<{rest.strip('<> ')}>"])


def list_tokens(value: str) -> list[str]:
    """Comma-separated values (List-Unsubscribe's `<https://…>, <mailto:…>`) folded after each comma."""
    items = [item.strip() for item in single_line(value).split(",") if item.strip()]
    return [f"{item}," for item in items[:-1]] + items[-1:]


def generic(name: str, value: str) -> bytes:
    """Any other header a caller passes: structured lists fold at commas, text is encoded if needed."""
    if value.isascii() and len(name) + len(value) < MAX_LINE - 2 and "\r" not in value and "\n" not in value:
        return f"{name}: {value.strip()}\r\n".encode("ascii")  # the common case: short and plain
    lowered = name.lower()
    if lowered == "list-id":
        return list_id(value)
    if lowered in ("list-unsubscribe", "list-help", "list-subscribe"):
        return fold(name, list_tokens(value))
    return fold(name, text_tokens(value) or [""])


@lru_cache(maxsize=256)
def valid_name(name: str) -> bool:
    """A header field name: printable ASCII without colon or space (RFC 5322 ftext)."""
    return bool(name) and name.isascii() and all(33 <= ord(c) <= 126 and c != ":" for c in name)
