"""Fixtures of the mailing tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smartcomm.delivery.tracking import links
from smartcomm.personalization.renderer import renderer


@pytest.fixture(autouse=True)
def fresh_renderer() -> Iterator[None]:
    """Compiled templates are cached by version id for the life of a process; each test rolls back, so the
    next one may get the same ids for other templates."""
    renderer.forget()
    links.forget()
    yield
    renderer.forget()
    links.forget()
