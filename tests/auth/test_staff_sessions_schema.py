"""The staff_sessions migration creates exactly what the model declares."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from smartcomm.kit.db import Database
from smartcomm.models import Base


# SQLite cannot reflect expression indexes of other tables; they are not compared here anyway.
@pytest.mark.filterwarnings("ignore:autogenerate skipping")
def test_the_migrated_table_matches_the_model(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)

    def about_sessions(difference: object) -> bool:
        return "staff_sessions" in repr(difference)

    assert [d for d in differences if about_sessions(d)] == []
