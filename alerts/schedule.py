"""When a subscriber's daily digest is due, in their own time zone."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(name: str) -> ZoneInfo:
    """The IANA zone, or ValueError with a clear message."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as Europe/Paris)"
        ) from exc


def digest_slot(now: datetime, *, hour: int, timezone: str) -> datetime:
    """Today's digest time (aware) in the subscriber's zone, e.g. 08:00 Asia/Karachi."""
    local = now.astimezone(zone(timezone))
    return datetime.combine(local.date(), time(hour), tzinfo=local.tzinfo)


def digest_due(now: datetime, last_sent: datetime | None, *, hour: int, timezone: str) -> bool:
    """True once the local digest hour has come today and today's digest has not gone out."""
    slot = digest_slot(now, hour=hour, timezone=timezone)
    return now >= slot and (last_sent is None or last_sent < slot)


def local_day(now: datetime, timezone: str) -> date:
    return now.astimezone(zone(timezone)).date()
