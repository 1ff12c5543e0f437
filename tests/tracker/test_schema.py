"""The site tracker's migration creates exactly what the pop-up model declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from smartcomm.kit.db import Database
from smartcomm.models import Base


def test_the_migrated_table_matches_the_model(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert [d for d in differences if "popups" in repr(d)] == []
