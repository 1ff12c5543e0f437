"""Schemathesis against the mailing routes with a Senior marketer's token (the suite's fuzz run uses an API
user's, which these routes refuse with 403 before reading anything): generated valid and invalid requests
never answer 5xx and only answer statuses the schema documents. SQLite only, like the suite's run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance
from sqlalchemy.orm import Session

from smartcomm.app import create_app
from smartcomm.auth.permissions import Role
from tests.conftest import UIClient
from tests.delivery.helpers import email_template
from tests.mailings.helpers import audience_of, customers, hold_dispatch, staff_api

schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app(rate_limit="1000000/minute")).include(
    path_regex="^/api/v1/mailings"
)


@pytest.fixture
def headers(
    backend: str, client: UIClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    if backend != "sqlite":
        pytest.skip("the schema is fuzzed on SQLite only")
    hold_dispatch(monkeypatch)
    token = staff_api(client, session, Role.SENIOR_MARKETER).token
    audience_of(session, customers(session, 2))
    email_template(session)
    session.commit()
    yield {"Authorization": f"Bearer {token}"}


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_mailing_routes_never_fail_and_answer_only_documented_statuses(
    case: schemathesis.Case, headers: dict[str, str]
) -> None:
    case.call_and_validate(headers=headers, checks=[not_a_server_error, status_code_conformance])
