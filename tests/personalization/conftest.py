"""Every test starts with an empty cache of compiled versions: rolled-back tests reuse version ids."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smartcomm.personalization.renderer import renderer


@pytest.fixture(autouse=True)
def _fresh_renderer() -> Iterator[None]:
    renderer.forget()
    yield
    renderer.forget()
