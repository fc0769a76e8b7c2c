"""The scheduled service's deployments, built from settings (no server needed to build them)."""

from __future__ import annotations

import os

import pytest

from config.settings import ScheduleSettings, load_settings


def test_four_stages_with_intervals_from_settings_and_no_overlap() -> None:
    from prefect.client.schemas.objects import ConcurrencyLimitStrategy

    from flows.serve import deployments

    CANCEL_NEW = ConcurrencyLimitStrategy.CANCEL_NEW  # noqa: N806

    settings = load_settings(schedule=ScheduleSettings(poll_minutes=7, digest_minutes=30))

    built = {d.name: d for d in deployments(settings)}

    assert set(built) == {"newsdesk-poll", "newsdesk-process", "newsdesk-alert", "newsdesk-digest"}
    intervals = {
        name: [s.schedule.interval.total_seconds() for s in d.schedules]  # type: ignore[union-attr]
        for name, d in built.items()
    }
    assert intervals == {
        "newsdesk-poll": [420.0],
        "newsdesk-process": [60.0],
        "newsdesk-alert": [60.0],
        "newsdesk-digest": [1800.0],
    }
    assert all(d.concurrency_limit == 1 for d in built.values())
    # A run due while the last is still going is cancelled rather than queued behind it.
    options = [d.concurrency_options for d in built.values()]
    assert [o.collision_strategy if o else None for o in options] == [CANCEL_NEW] * 4
    # Anchored at midnight: every run falls on a round time whenever the service started.
    anchors = {s.schedule.anchor_date for d in built.values() for s in d.schedules}  # type: ignore[union-attr]
    assert {(a.hour, a.minute, a.second) for a in anchors} == {(0, 0, 0)}
    assert built["newsdesk-alert"].parameters == {"include_digests": False}


def test_the_server_keeps_its_ui_unless_the_operator_turned_it_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flows import prefect_env

    monkeypatch.delenv("PREFECT_UI_ENABLED", raising=False)
    monkeypatch.setattr(prefect_env, "_applied", set())
    prefect_env.apply_offline_defaults()
    # Off for the temporary servers of one-off runs, on for `newsdesk server`.
    assert os.environ["PREFECT_UI_ENABLED"] == "false"
    assert "PREFECT_UI_ENABLED" not in prefect_env.server_environment()
    assert prefect_env.server_environment()["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"

    monkeypatch.setenv("PREFECT_UI_ENABLED", "false")
    monkeypatch.setattr(prefect_env, "_applied", set())
    prefect_env.apply_offline_defaults()
    assert prefect_env.server_environment()["PREFECT_UI_ENABLED"] == "false"
