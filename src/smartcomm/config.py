"""Deployment configuration read from the environment (prefix SMARTCOMM_) and `.env`.

Only what an operator sets when deploying lives here. Everything a user edits in the UI is stored
in the database (see `smartcomm.settings`).
"""

from __future__ import annotations

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

    # Front-end libraries installed by `npm ci`; served under /vendor.
    node_modules_dir: Path = PROJECT_ROOT / "node_modules"

    api_token_ttl_minutes: int = 60
    api_rate_limit: str = "1000/minute"
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    session_max_age_hours: int = 12

    # Argon2 cost. Tests lower it: a default hash costs ~120 ms on our machines.
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536

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
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")


config = Config()
