"""Secret provider settings (passwords, tokens, private keys) encrypted at rest with Fernet.

The key is derived from the installation's secret key (HKDF-SHA256 with a purpose of its own), so a
database copy alone reveals no secret. A stored secret is shown back only as "••••" and its last four
characters. Changing the secret key makes stored secrets unreadable: they must be entered again.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from smartcomm.config import config

SEALED_PREFIX = "fernet:"
MASK = "••••"
_PURPOSE = b"smartcomm channel provider secrets v1"


class SecretUnreadable(Exception):
    """A stored secret was sealed with another secret key."""


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(value: str) -> str:
    """The value encrypted, as stored in the settings JSON."""
    token = _fernet(config.effective_secret_key).encrypt(value.encode("utf-8"))
    return SEALED_PREFIX + token.decode("ascii")


def unseal(stored: str) -> str:
    if not stored.startswith(SEALED_PREFIX):
        raise SecretUnreadable("the stored value is not sealed")
    try:
        plain = _fernet(config.effective_secret_key).decrypt(stored[len(SEALED_PREFIX) :].encode("ascii"))
    except InvalidToken as error:
        raise SecretUnreadable("sealed with another secret key") from error
    return plain.decode("utf-8")


def masked(value: str | None) -> str | None:
    """How a secret is shown back: "••••" and its last four characters; only the mask for a short value
    or a key file (whose last characters are its fixed footer)."""
    if not value:
        return None
    text = value.strip()
    if len(text) < 12 or "\n" in text or text.startswith("{"):
        return MASK
    return MASK + text[-4:]
