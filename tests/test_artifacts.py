"""The Markdown an operator reads on the Prefect Artifacts page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flows.alerting import AlertOutcome
from flows.artifacts import (
    alerts_markdown,
    countries_markdown,
    health_markdown,
    new_items_markdown,
    sparkline,
)
from storage.models import FeedState, Source

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_sparkline_scales_to_the_largest_value() -> None:
    assert sparkline([0, 0, 0]) == "▁▁▁"
    assert sparkline([1, 2, 4, 8]) == "▂▃▅█"
    assert sparkline([]) == ""


def test_countries_show_today_and_a_week_trend() -> None:
    today = date(2026, 11, 28)
    mentions = (
        [("SY", NOW)] * 3 + [("SY", NOW - timedelta(days=3))] + [("PK", NOW - timedelta(days=6))]
    )

    table = countries_markdown(mentions, today)

    lines = table.splitlines()
    assert lines[2] == "| Syria (SY) | 3 | `▁▁▁▃▁▁█` |"
    assert lines[3] == "| Pakistan (PK) | 0 | `█▁▁▁▁▁▁` |"


def test_health_lists_failing_and_quiet_sources() -> None:
    ok = Source(
        id="ok",
        name="ok",
        kind="news",
        country="FR",
        language="fr",
        feed_url="u",
        poll_interval=900,
        enabled=True,
    )
    bad = Source(
        id="bad",
        name="bad",
        kind="news",
        country="FR",
        language="fr",
        feed_url="u",
        poll_interval=900,
        enabled=True,
    )
    rows = [
        (ok, FeedState(source_id="ok", consecutive_failures=0), NOW - timedelta(hours=2)),
        (
            bad,
            FeedState(source_id="bad", consecutive_failures=4, last_error="HTTP 503"),
            NOW - timedelta(days=5),
        ),
    ]

    text = health_markdown(rows, NOW)

    assert "**2** enabled sources: **1** failing, **1** with no new item" in text
    assert "| bad | 4 | HTTP 503 |" in text
    assert "| bad | 2026-11-23 12:00 |" in text
    assert "| ok |" not in text


def test_new_items_are_grouped_by_country_with_links() -> None:
    text = new_items_markdown(
        [(2, "Talks", "https://x.org/2", ["SY", "RU"]), (1, None, "https://x.org/1", ["SY"])]
    )
    assert text.index("### Syria (2)") < text.index("### Russia (1)")
    assert "- [Talks](https://x.org/2)" in text
    assert "- [https://x.org/1](https://x.org/1)" in text


def test_alerts_say_what_was_sent_and_flag_an_unreachable_server() -> None:
    quiet = alerts_markdown(AlertOutcome(), "alerts")
    assert "| alerts sent | 0 |" in quiet
    assert "SMTP" not in quiet

    busy = AlertOutcome(
        queued=3, sent=2, unknown=1, subjects=["[newsdesk] Syria: talks"], server_down=True
    )
    text = alerts_markdown(busy, "alerts")
    assert "| alerts sent | 2 |" in text
    assert "| deliveries queued | 3 |" in text
    assert "`newsdesk alerts list --status unknown`) | 1 |" in text
    assert "- [newsdesk] Syria: talks" in text
    assert "could not be reached" in text
