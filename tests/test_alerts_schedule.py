"""Digest timing in the subscriber's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alerts.schedule import digest_due, digest_slot, local_day


def test_digest_slot_is_the_local_hour_in_utc() -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    # 08:00 in Karachi (UTC+5) is 03:00 UTC; 08:00 in New York (UTC-5 in November) is 13:00.
    assert digest_slot(now, hour=8, timezone="Asia/Karachi") == datetime(
        2026, 11, 28, 3, 0, tzinfo=UTC
    )
    assert digest_slot(now, hour=8, timezone="America/New_York") == datetime(
        2026, 11, 28, 13, 0, tzinfo=UTC
    )


def test_digest_is_due_once_per_local_day() -> None:
    noon = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert digest_due(noon, None, hour=8, timezone="Asia/Karachi")
    assert not digest_due(noon, None, hour=8, timezone="America/New_York")  # 07:00 there
    sent = datetime(2026, 11, 28, 3, 5, tzinfo=UTC)
    assert not digest_due(noon, sent, hour=8, timezone="Asia/Karachi")
    next_day = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    assert digest_due(next_day, sent, hour=8, timezone="Asia/Karachi")


def test_local_day_crosses_midnight_by_zone() -> None:
    late = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)
    assert str(local_day(late, "Asia/Tokyo")) == "2026-11-29"
    assert str(local_day(late, "UTC")) == "2026-11-28"


def test_unknown_zone_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        digest_slot(datetime(2026, 1, 1, tzinfo=UTC), hour=8, timezone="Mars/Olympus")
