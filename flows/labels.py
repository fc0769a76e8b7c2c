"""Names and tags that make runs readable in the Prefect UI."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from prefect.runtime import flow_run


def run_name(stage: str) -> Callable[[], str]:
    """A flow-run namer: ``poll 2026-11-28 10:05`` (UTC), so runs sort and read by time.

    The time is the run's scheduled start: a run due at 10:05 that starts a moment early
    is still the 10:05 run.
    """

    def name() -> str:
        when: datetime = flow_run.scheduled_start_time
        return f"{stage} {when.astimezone(UTC):%Y-%m-%d %H:%M}"

    return name


def source_tags(source_id: str, kind: str, country: str) -> tuple[str, ...]:
    """Tags to filter the UI by publisher kind, source and country of origin."""
    return (kind or "source", f"source:{source_id}", f"from:{country}")


def count(n: int, noun: str) -> str:
    """``1 item``, ``40 items``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
