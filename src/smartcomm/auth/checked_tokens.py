"""API bearer tokens checked recently, with their users: a busy client costs one user read every few
seconds instead of one per request.

A change to a user (disabling, a new role, a password reset or change, deletion) empties the memory of
the process that made it when it commits; other web processes drop a token at the latest
`TRUST_SECONDS` later.
"""

from __future__ import annotations

import time

from smartcomm.models import User

TRUST_SECONDS = 5.0
# More distinct tokens than this within a few seconds start the memory afresh (it never grows unbounded).
MAX_TOKENS = 10_000


class CheckedTokens:
    def __init__(self, trust_seconds: float = TRUST_SECONDS, max_tokens: int = MAX_TOKENS) -> None:
        self.trust_seconds = trust_seconds
        self.max_tokens = max_tokens
        self._users: dict[str, tuple[float, User]] = {}

    def user(self, token: str) -> User | None:
        """The user of a token checked less than `trust_seconds` ago (and not expired since), else None."""
        entry = self._users.get(token)
        if entry is None:
            return None
        trusted_until, user = entry
        if time.time() >= trusted_until:
            self._users.pop(token, None)
            return None
        return user

    def remember(self, token: str, user: User, expires_at: float) -> None:
        """Trust `token` (valid until the epoch second `expires_at`) for the next few seconds."""
        if len(self._users) >= self.max_tokens:
            self._users.clear()
        self._users[token] = (min(time.time() + self.trust_seconds, expires_at), user)

    def forget_all(self) -> None:
        self._users.clear()


checked_tokens = CheckedTokens()
