"""Tracking tests write each hit in the request's own thread (the tests' connection is shared and
rolled back); the process's writer thread is tested apart, against a live server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smartcomm.delivery.tracking import links, recorder


@pytest.fixture(autouse=True)
def hits_written_inline() -> Iterator[None]:
    recorder.inline = True
    links.forget()  # link ids of rolled-back tests must not be remembered
    yield
    recorder.inline = False
    links.forget()
