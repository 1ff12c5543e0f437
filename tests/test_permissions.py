"""Every route declares a permission, and every role gets exactly what the matrix grants on every route."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from smartcomm.auth.permissions import ROLE_PERMISSIONS, Permission, Role
from smartcomm.auth.principal import RouteGuard
from smartcomm.kit.security import issue_api_token
from tests.conftest import UIClient
from tests.factories import make_user

# Routes that end the session are visited last, so the walk keeps its sign-in until then.
SESSION_ENDING = {"/logout"}
NON_API_ROUTES_ALLOWED = {
    "/api/openapi.json",
    "/api/docs",
    "/docs/oauth2-redirect",
    # The open pixel and the click redirect: public by definition, authenticated by their signed tokens
    # (tests/tracking_public/test_tracking_endpoints.py).
    "/t/o/{token}.gif",
    "/t/c/{token}",
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    guard: RouteGuard | None

    @property
    def url(self) -> str:
        return re.sub(r"\{[^}]+\}", "999999", self.path)


def find_guard(dependant: Dependant) -> RouteGuard | None:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, RouteGuard):
            return dependency.call
        found = find_guard(dependency)
        if found is not None:
            return found
    return None


def endpoints(app: FastAPI) -> Iterator[Endpoint]:
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        for method in sorted(context.methods or ()):
            yield Endpoint(method, str(context.path), find_guard(context.dependant))


def ordered(app: FastAPI) -> list[Endpoint]:
    return sorted(endpoints(app), key=lambda e: (e.path in SESSION_ENDING, e.path, e.method))


def test_every_route_declares_its_permission(app: FastAPI) -> None:
    undeclared = [f"{e.method} {e.path}" for e in endpoints(app) if e.guard is None]
    assert undeclared == []


def test_plain_starlette_routes_are_only_the_documentation(app: FastAPI) -> None:
    others = {
        getattr(r, "path", "")
        for r in app.routes
        if not isinstance(r, APIRoute) and r.__class__.__name__ == "Route"
    }
    assert others <= NON_API_ROUTES_ALLOWED


def test_the_matrix_matches_the_product_roles() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    admin = ROLE_PERMISSIONS[Role.ADMINISTRATOR]
    assert all(ROLE_PERMISSIONS[role] - admin <= ROLE_PERMISSIONS[Role.API] for role in Role)
    assert not any(p.startswith("settings") or p == "users.manage" for p in ROLE_PERMISSIONS[Role.ANALYST])
    assert ROLE_PERMISSIONS[Role.API] == {
        p
        for p in ROLE_PERMISSIONS[Role.API]
        if p.startswith(("api.", "mailings.", "campaigns.", "control_groups."))
    }


def test_the_outbox_is_for_every_role_that_sends_or_supports_customers() -> None:
    seeing = {role for role, granted in ROLE_PERMISSIONS.items() if Permission.MESSAGES_VIEW in granted}
    assert seeing == {Role.ADMINISTRATOR, Role.SENIOR_MARKETER, Role.MARKETER, Role.ANALYST, Role.OPERATOR}
    simulating = {role for role, grants in ROLE_PERMISSIONS.items() if Permission.MESSAGES_SIMULATE in grants}
    assert simulating == seeing - {Role.ANALYST}  # the Analyst only reads


def test_a_marketer_prepares_mailings_and_a_senior_marketer_launches_them() -> None:
    def holding(permission: Permission) -> set[Role]:
        return {role for role, granted in ROLE_PERMISSIONS.items() if permission in granted}

    assert holding(Permission.MAILINGS_LAUNCH) == {Role.ADMINISTRATOR, Role.SENIOR_MARKETER, Role.API}
    assert holding(Permission.MAILINGS_EDIT) == {
        Role.ADMINISTRATOR,
        Role.SENIOR_MARKETER,
        Role.MARKETER,
        Role.API,
    }
    assert holding(Permission.MAILINGS_VIEW) == holding(Permission.MAILINGS_EDIT) | {Role.ANALYST}


def test_a_marketer_edits_campaigns_and_a_senior_marketer_activates_them() -> None:
    def holding(permission: Permission) -> set[Role]:
        return {role for role, granted in ROLE_PERMISSIONS.items() if permission in granted}

    assert holding(Permission.CAMPAIGNS_ACTIVATE) == {Role.ADMINISTRATOR, Role.SENIOR_MARKETER, Role.API}
    assert holding(Permission.CAMPAIGNS_EDIT) == {
        Role.ADMINISTRATOR,
        Role.SENIOR_MARKETER,
        Role.MARKETER,
        Role.API,
    }
    assert holding(Permission.CAMPAIGNS_VIEW) == holding(Permission.CAMPAIGNS_EDIT) | {Role.ANALYST}


def test_marketers_run_the_global_control_group_and_an_analyst_reads_it() -> None:
    def holding(permission: Permission) -> set[Role]:
        return {role for role, granted in ROLE_PERMISSIONS.items() if permission in granted}

    assert holding(Permission.CONTROL_GROUPS_EDIT) == {
        Role.ADMINISTRATOR,
        Role.SENIOR_MARKETER,
        Role.MARKETER,
        Role.API,
    }
    assert holding(Permission.CONTROL_GROUPS_VIEW) == holding(Permission.CONTROL_GROUPS_EDIT) | {Role.ANALYST}
    # Marketers reach it without the administrators' settings.
    assert Permission.SETTINGS_VIEW not in ROLE_PERMISSIONS[Role.MARKETER]


def is_refused_ui(response) -> bool:
    return response.status_code == 403 or (
        response.status_code == 303 and response.headers["location"].startswith("/login")
    )


def call(client: TestClient, endpoint: Endpoint, headers: dict[str, str]):
    return client.request(endpoint.method, endpoint.url, headers=headers)


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_what_the_matrix_grants(
    role: Role, app: FastAPI, client: UIClient, session: Session
) -> None:
    user, password = make_user(session, role=role)
    granted = ROLE_PERMISSIONS[role]
    token, _ = issue_api_token(user.id, user.session_version)
    if role is not Role.API:
        client.sign_in(user.email, password)
    mistakes: list[str] = []
    for endpoint in ordered(app):
        assert endpoint.guard is not None
        if endpoint.guard.permission is None:
            continue
        allowed = endpoint.guard.permission in granted
        if role is Role.API and endpoint.guard.surface != "api":
            allowed = False  # an integration's user never signs in to the interface
        if endpoint.guard.surface == "api":
            response = call(client, endpoint, {"Authorization": f"Bearer {token}"})
            refused = response.status_code == 403
        else:
            response = call(client, endpoint, {"X-CSRF-Token": client.csrf})
            # Signing out answers with a redirect to the sign-in page: only a 403 is a refusal there.
            refused = (
                response.status_code == 403 if endpoint.path in SESSION_ENDING else is_refused_ui(response)
            )
        if allowed == refused:
            mistakes.append(f"{endpoint.method} {endpoint.path}: {response.status_code} (allowed={allowed})")
    assert mistakes == []


def test_anonymous_visitors_are_sent_to_sign_in_or_refused(app: FastAPI, client: UIClient) -> None:
    for endpoint in ordered(app):
        assert endpoint.guard is not None
        if endpoint.guard.permission is None:
            continue
        response = call(client, endpoint, {})
        if endpoint.guard.surface == "api":
            assert response.status_code == 401, endpoint
        else:
            assert response.status_code in (303, 403), endpoint
