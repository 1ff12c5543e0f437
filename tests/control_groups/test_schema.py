"""The global control group's migration creates exactly what the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from smartcomm.kit.db import Database
from smartcomm.models import Base

TABLES = ("global_control_draws", "global_control_members")


def test_the_migrated_tables_match_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert [d for d in differences if any(f"'{table}'" in repr(d) for table in TABLES)] == []
