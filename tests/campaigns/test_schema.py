"""The campaigns migration creates exactly what the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from smartcomm.kit.db import Database
from smartcomm.models import Base

CAMPAIGN_TABLES = (
    "campaigns",
    "campaign_versions",
    "journeys",
    "campaign_messages",
    "campaign_node_stats",
    "campaign_node_counters",
    "notifications",
)


def test_the_migrated_tables_match_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert [d for d in differences if any(f"'{table}'" in repr(d) for table in CAMPAIGN_TABLES)] == []
