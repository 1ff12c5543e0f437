"""Password hashing, API bearer tokens and CSRF tokens."""

from __future__ import annotations

import hmac
import secrets
import string
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


@lru_cache(maxsize=1)
def _password_hash() -> PasswordHash:
    hasher = Argon2Hasher(time_cost=config.argon2_time_cost, memory_cost=config.argon2_memory_cost)
    return PasswordHash((hasher,))


def hash_password(password: str) -> str:
    return str(_password_hash().hash(password))


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return bool(_password_hash().verify(password, password_hash))
    except Exception:  # a malformed stored hash is a failed login, not a crash
        return False


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
