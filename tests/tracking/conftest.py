"""Event sources and Segment-style requests for the tracking tests."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy.orm import Session

from smartcomm.models import EventSource


def add_source(session: Session, code: str = "web-shop", *, active: bool = True) -> EventSource:
    source = EventSource(code=code, name="Web shop", is_active=active, write_key=f"wk-{code}")
    session.add(source)
    session.flush()
    return source


def basic(write_key: str) -> dict[str, str]:
    """The header the Segment SDKs send: the write key as the user name, no password."""
    return {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}


@pytest.fixture
def shop(session: Session) -> EventSource:
    return add_source(session)
