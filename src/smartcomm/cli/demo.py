"""`smartcomm demo`: realistic demo data (filled in by its feature)."""

from __future__ import annotations
