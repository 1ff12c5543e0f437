"""Signed tokens of the public links in messages, and the addresses built from them.

A token is short and URL-safe: the numbers it names (a message id, a link id…) as unsigned LEB128
varints, then the first 10 bytes of their HMAC-SHA256, all in unpadded base64url — 20 to 27 characters.
The HMAC key is derived from the installation's secret key with HKDF for this purpose alone, and every
kind of link signs a purpose letter of its own, so an open token cannot be used as a click or an
unsubscribe token. Tokens do not expire: an unsubscribe link must keep working for as long as the message
can be read. A token that does not verify is simply unknown (the public pages answer 404, never 5xx).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from enum import StrEnum
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from smartcomm.config import config

MAC_BYTES = 10  # 80 bits: forging one needs ~2^79 online guesses
MAX_TOKEN_LENGTH = 64
MAX_NUMBER = 2**63 - 1
_PURPOSE_INFO = b"smartcomm public link tokens v1"
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class Purpose(StrEnum):
    OPEN = "o"  # the open pixel: message id
    CLICK = "c"  # a tracked link: message id, link id
    UNSUBSCRIBE = "u"  # message id
    PREFERENCES = "p"  # message id
    VIEW = "v"  # the message in a browser: message id
    CONFIRM = "k"  # double opt-in: confirmation id
    POLL = "q"  # a customer's poll link: poll id, customer id, message id (0: none)


@lru_cache(maxsize=4)
def _keyed_for(secret: str) -> hmac.HMAC:
    """An HMAC already keyed (copied per token, which saves setting the key up every time)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE_INFO).derive(secret.encode())
    return hmac.new(key, digestmod=hashlib.sha256)


@lru_cache(maxsize=1)
def _keyed() -> hmac.HMAC:
    return _keyed_for(config.effective_secret_key)


def _mac(purpose: Purpose, body: bytes, keyed: hmac.HMAC | None = None) -> bytes:
    mac = (keyed or _keyed()).copy()
    mac.update(purpose.value.encode() + body)
    return mac.digest()[:MAC_BYTES]


def _encoded(body: bytes, mac: bytes) -> str:
    return binascii.b2a_base64(body + mac, newline=False).rstrip(b"=").translate(_URL_SAFE).decode("ascii")


# base64 → base64url (what `base64.urlsafe_b64encode` does, without its Python-level wrapping).
_URL_SAFE = bytes.maketrans(b"+/", b"-_")
_SMALL = [bytes([number]) for number in range(0x80)]  # the one-byte varints, made once


def _varint(number: int) -> bytes:
    if 0 <= number < 0x80:
        return _SMALL[number]
    if not 0 <= number <= MAX_NUMBER:
        raise ValueError(f"cannot sign {number}")
    out = bytearray()
    while True:
        byte, number = number & 0x7F, number >> 7
        out.append(byte | (0x80 if number else 0))
        if not number:
            return bytes(out)


def _numbers(body: bytes) -> list[int] | None:
    numbers, value, shift = [], 0, 0
    for byte in body:
        value |= (byte & 0x7F) << shift
        shift += 7
        if shift > 63:
            return None
        if not byte & 0x80:
            numbers.append(value)
            value, shift = 0, 0
    return numbers if shift == 0 and value <= MAX_NUMBER else None


def sign(purpose: Purpose, *numbers: int, secret: str | None = None) -> str:
    """The token naming `numbers` for `purpose` (signed with this installation's key, or with the key
    derived from `secret` — for a tool that makes links for another installation)."""
    body = b"".join(map(_varint, numbers))
    keyed = _keyed_for(secret) if secret is not None else None
    return _encoded(body, _mac(purpose, body, keyed))


class ClickTokens:
    """The click tokens of one message (an e-mail has dozens of links): the MAC of the purpose and the
    message id is computed once, and each link adds only its own id. The same tokens as `sign`."""

    def __init__(self, message_id: int) -> None:
        self.message = _varint(message_id)
        self.keyed = _keyed().copy()
        self.keyed.update(Purpose.CLICK.value.encode() + self.message)
        self.prefix = f"{base_url()}/t/c/"

    def url(self, link_id: int) -> str:
        """The same address as `click_url(message_id, link_id)`."""
        link = _varint(link_id)
        mac = self.keyed.copy()
        mac.update(link)
        return self.prefix + _encoded(self.message + link, mac.digest()[:MAC_BYTES])


def verify(purpose: Purpose, token: str, count: int) -> tuple[int, ...] | None:
    """The `count` numbers a genuine token of `purpose` names; None for anything else (tampered, of
    another purpose, malformed)."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not _ALPHABET.issuperset(token):
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    # Unpadded base64 leaves a few spare bits in its last character; only the one spelling `sign` makes is
    # accepted, so no two tokens name the same thing.
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != token:
        return None
    body, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
    if len(raw) <= MAC_BYTES or not hmac.compare_digest(mac, _mac(purpose, body)):
        return None
    numbers = _numbers(body)
    if numbers is None or len(numbers) != count:
        return None
    return tuple(numbers)


def verify_one(purpose: Purpose, token: str) -> int | None:
    found = verify(purpose, token, 1)
    return found[0] if found else None


# --- the public addresses --------------------------------------------------------------------------


def base_url() -> str:
    return config.public_base_url.rstrip("/")


def open_pixel_url(message_id: int) -> str:
    return f"{base_url()}/t/o/{sign(Purpose.OPEN, message_id)}.gif"


def click_url(message_id: int, link_id: int) -> str:
    return f"{base_url()}/t/c/{sign(Purpose.CLICK, message_id, link_id)}"


def unsubscribe_url(message_id: int) -> str:
    return f"{base_url()}/u/{sign(Purpose.UNSUBSCRIBE, message_id)}"


def preferences_url(message_id: int) -> str:
    return f"{base_url()}/p/{sign(Purpose.PREFERENCES, message_id)}"


def view_url(message_id: int) -> str:
    return f"{base_url()}/v/{sign(Purpose.VIEW, message_id)}"


def poll_url(poll_id: int, customer_id: int, message_id: int | None) -> str:
    """A customer's personal link to a poll; `customer_id` 0 makes a preview link that records nothing."""
    return f"{base_url()}/q/{sign(Purpose.POLL, poll_id, customer_id, message_id or 0)}"


def confirm_url(confirmation_id: int) -> str:
    return f"{base_url()}/confirm/{sign(Purpose.CONFIRM, confirmation_id)}"


# Paths of our own public pages: links to them in a message are never rewritten for click tracking.
PUBLIC_PATHS = ("/t/", "/u/", "/p/", "/v/", "/q/", "/confirm/")


def is_public_page(url: str) -> bool:
    base = base_url()
    return url.startswith(base) and url[len(base) :].startswith(PUBLIC_PATHS)


def message_links(message_id: int) -> dict[str, str]:
    """The link variables of a message's render context (`unsubscribe_url`, `preferences_url`,
    `view_in_browser_url`)."""
    return {
        "unsubscribe_url": unsubscribe_url(message_id),
        "preferences_url": preferences_url(message_id),
        "view_in_browser_url": view_url(message_id),
    }


def list_unsubscribe_headers(message_id: int, mailto: str | None = None) -> dict[str, str]:
    """`List-Unsubscribe` (the https address, and a mailto when an inbound mailbox is given) and the RFC 8058
    `List-Unsubscribe-Post` that lets a mailbox provider unsubscribe with one POST to that address. The
    mailto's subject carries the token so that a mail hook could act on it; nothing reads that mailbox."""
    https = f"<{unsubscribe_url(message_id)}>"
    if mailto:
        token = sign(Purpose.UNSUBSCRIBE, message_id)
        https += f", <mailto:{mailto}?subject=unsubscribe-{token}>"
    return {"List-Unsubscribe": https, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
