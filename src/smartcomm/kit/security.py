"""Password hashing, API bearer tokens and CSRF tokens."""

from __future__ import annotations

import hmac
import secrets
import string
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import lru_cache
from typing import Any

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from smartcomm.config import config
from smartcomm.kit.time import utcnow

JWT_ALGORITHM = "HS256"
JWT_AUDIENCE = "smartcomm-api"


# One lane per hash (argon2's default is 4, each a thread of its own), so one password check uses one core.
ARGON2_PARALLELISM = 1


@lru_cache(maxsize=1)
def _password_hash() -> PasswordHash:
    hasher = Argon2Hasher(
        time_cost=config.argon2_time_cost,
        memory_cost=config.argon2_memory_cost,
        parallelism=ARGON2_PARALLELISM,
    )
    return PasswordHash((hasher,))


@lru_cache(maxsize=1)
def _hashing_slots() -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(config.effective_password_hash_concurrency)


@contextmanager
def password_hashing_slot() -> Iterator[None]:
    """Hold one of the process's few password-hashing slots: sign-in attempts queue here instead of
    running on every core at once."""
    with _hashing_slots():
        yield


def hash_password(password: str) -> str:
    with password_hashing_slot():
        return str(_password_hash().hash(password))


def verify_password(password: str, password_hash: str) -> bool:
    return verify_and_update_password(password, password_hash)[0]


def verify_and_update_password(password: str, password_hash: str) -> tuple[bool, str | None]:
    """Whether the password matches, and a new hash when the stored one was made with other parameters
    (a hash of 4 lanes still costs 4 threads per check until it is replaced)."""
    try:
        with password_hashing_slot():
            valid, updated = _password_hash().verify_and_update(password, password_hash)
    except Exception:  # a malformed stored hash is a failed login, not a crash
        return False, None
    return bool(valid), (str(updated) if updated else None)


# Computed once so that a login for an unknown user costs as much as one for a known user.
@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def burn_password_check(password: str) -> None:
    verify_password(password, _dummy_hash())


def generate_password(length: int = 14) -> str:
    """A readable random password: letters and digits, at least one of each kind."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c.isdigit() for c in candidate) and any(c.isupper() for c in candidate):
            return candidate


def issue_api_token(user_id: int, session_version: int) -> tuple[str, int]:
    """A signed bearer token for the REST API; returns the token and its lifetime in seconds."""
    lifetime = timedelta(minutes=config.api_token_ttl_minutes)
    now = utcnow()
    claims = {
        "sub": str(user_id),
        "ver": session_version,
        "aud": JWT_AUDIENCE,
        "iat": now,
        "exp": now + lifetime,
    }
    token = jwt.encode(claims, config.effective_secret_key, algorithm=JWT_ALGORITHM)
    return token, int(lifetime.total_seconds())


def read_api_token(token: str) -> dict[str, Any] | None:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            config.effective_secret_key,
            algorithms=[JWT_ALGORITHM],
            audience=JWT_AUDIENCE,
            options={"require": ["exp", "sub"]},  # a token without an end is never trusted
        )
    except jwt.PyJWTError:
        return None
    return claims


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
