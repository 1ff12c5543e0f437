"""Fixtures of the promo code tests: compiled templates are forgotten between tests, as in the mailing tests
(each test rolls back, so the next one may get the same template version ids)."""

from __future__ import annotations

from tests.mailings.conftest import fresh_renderer

__all__ = ["fresh_renderer"]
