"""Schemathesis against the app's own OpenAPI document: every operation of /api/v1 and of the
Segment-compatible /v1, with generated valid and invalid requests, must never answer 5xx and must answer
only status codes its schema documents.

Runs in-process (ASGI) with a real API token and a real write key, a bounded number of examples per
operation, on SQLite only (the database makes no difference to what is checked here, and the run is the
longest of the API tests).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance
from sqlalchemy.orm import Session

from smartcomm.app import create_app
from tests.api.conftest import api_client
from tests.conftest import UIClient
from tests.tracking.conftest import add_source, basic

EXAMPLES_PER_OPERATION = 25
# The rule tree's schema is recursive (groups of groups): drawing from it nests Hypothesis's strategies
# deeper than Python's default limit of 1,000 frames.
GENERATION_RECURSION_LIMIT = 10_000
# Generous enough that the run itself is never rate-limited (the limits have tests of their own).
schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app(rate_limit="1000000/minute"))


@pytest.fixture
def credentials(backend: str, client: UIClient, session: Session) -> Iterator[dict[str, dict[str, str]]]:
    """Headers that authenticate a request: a bearer token for /api/v1, a write key for /v1."""
    if backend != "sqlite":
        pytest.skip("the schema is fuzzed on SQLite only")
    token = api_client(client, session, "Fuzzer").token
    source = add_source(session, "fuzz")
    session.commit()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, GENERATION_RECURSION_LIMIT))
    try:
        yield {"api": {"Authorization": f"Bearer {token}"}, "tracking": basic(source.write_key or "")}
    finally:
        sys.setrecursionlimit(limit)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    derandomize=True,  # the same examples on every run: `make test` stays reproducible
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_no_server_error_and_only_documented_statuses(
    case: schemathesis.Case, credentials: dict[str, dict[str, str]]
) -> None:
    headers = credentials["tracking" if case.path.startswith("/v1/") else "api"]
    case.call_and_validate(headers=headers, checks=[not_a_server_error, status_code_conformance])
