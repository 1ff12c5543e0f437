"""Who performs an action: a staff user in the UI, an API client, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    kind: str  # user | api | system
    user_id: int | None
    label: str
    ip_address: str | None = None

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(kind="system", user_id=None, label=label)
