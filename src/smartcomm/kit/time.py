"""Time helpers: everything is stored in UTC and shown in the project time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones


def utcnow() -> datetime:
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Attach UTC to naive values (SQLite returns them naive) and convert aware ones."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_zone(value: datetime, zone: str) -> datetime:
    return ensure_utc(value).astimezone(ZoneInfo(zone))


def start_of_day(day: date, zone: str) -> datetime:
    """The UTC instant at which `day` begins in `zone`."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def end_of_day(day: date, zone: str) -> datetime:
    return start_of_day(day + timedelta(days=1), zone)


@lru_cache(maxsize=1)
def known_time_zones() -> frozenset[str]:
    """Every IANA zone name (reading the zone database costs tens of milliseconds: read it once)."""
    return frozenset(available_timezones())


def time_zone_names() -> list[str]:
    return sorted(name for name in known_time_zones() if "/" in name and not name.startswith("Etc/"))
