"""Deployment configuration read from the environment (prefix SMARTCOMM_) and `.env`.

Only what an operator sets when deploying lives here. Everything a user edits in the UI is stored
in the database (see `smartcomm.settings`).
"""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Config(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTCOMM_", env_file=".env", extra="ignore")

    environment: Literal["production", "development", "test"] = "development"
    var_dir: Path = PROJECT_ROOT / "var"
    database_url: str = ""
    redis_url: str | None = None
    secret_key: str = ""
    public_base_url: str = "http://127.0.0.1:8000"
    bind_host: str = "127.0.0.1"
    bind_port: int = 8000
    web_workers: int = 1
    worker_threads: int = 4
    # A running job whose worker is on another machine and has not renewed its lease for this long is
    # taken for interrupted (on the same machine the worker's process is checked directly).
    job_lease_seconds: int = 120
    # An idle worker of the embedded queue is woken at once by every enqueue; it looks at the queue by
    # itself after this long too, in case a wake-up was lost.
    queue_wait_seconds: float = 1.0
    # Domain events (kit/outbox/): how long a missing event id may hold back the events after it (its
    # transaction may still commit; after this long it is taken for rolled back), and how many days the
    # events every subscriber has handled are kept.
    outbox_gap_seconds: float = 10.0
    outbox_retention_days: int = 7

    # Front-end libraries installed by `npm ci`; served under /vendor.
    node_modules_dir: Path = PROJECT_ROOT / "node_modules"

    api_token_ttl_minutes: int = 60
    # The largest request body /api and the Segment-compatible /v1 read; larger ones get a 413. A batch of
    # 1,000 customers or 100 events with their context takes well under 1 MB; Segment SDK batches 500 KB.
    api_max_body_bytes: int = 4 * 1024 * 1024
    api_rate_limit: str = "1000/minute"
    # Sign-in attempts (POST /login and POST /api/v1/token), counted per client address and per account.
    sign_in_rate_limit: str = "10/minute"
    # The Segment-compatible intake /v1: per client address, and per write key (one site's visitors all
    # send with the same key, so its limit is a site's total).
    intake_rate_limit: str = "1000/minute"
    intake_key_rate_limit: str = "60000/minute"
    # Addresses (or CIDR networks) of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are
    # believed, comma-separated. Empty: nobody's ("*" believes everybody's: only behind a proxy that
    # overwrites the header, never when clients can reach the app directly).
    trusted_proxies: str = ""
    # Password hashes computed at once per process (0: half the cores, at least one).
    password_hash_concurrency: int = 0
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    session_max_age_hours: int = 12

    # Argon2 cost. Tests lower it: a default hash costs ~120 ms on our machines.
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536

    # The sending domain's check (Settings → Channels → E-mail → Deliverability) asks this DNS server
    # ("host" or "host:port"); empty: the system's resolver.
    dns_nameserver: str = ""
    dns_timeout_seconds: float = 3.0

    default_admin_email: str = "admin@example.com"
    log_sql: bool = Field(default=False)

    @cached_property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'smartcomm.db'}"

    @cached_property
    def effective_secret_key(self) -> str:
        """The configured key, or one generated once and kept under var/ so sessions survive restarts."""
        if self.secret_key:
            return self.secret_key
        key_file = self.var_dir / "secret.key"
        if not key_file.exists():
            self.var_dir.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        return key_file.read_text().strip()

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [item.strip() for item in self.trusted_proxies.split(",") if item.strip()]

    @property
    def effective_password_hash_concurrency(self) -> int:
        return self.password_hash_concurrency or max(1, (os.cpu_count() or 2) // 2)

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")


config = Config()
