"""Alembic environment: runs migrations against the configured database (or a connection passed in)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, TypeDecorator

from smartcomm.config import config as app_config
from smartcomm.kit.db import create_db_engine
from smartcomm.models import Base

target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write our column types as the plain SQLAlchemy types they wrap, so migrations never import the app."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url") or app_config.effective_database_url
    engine = create_db_engine(url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


run_migrations_online()
