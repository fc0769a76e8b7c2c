"""The scheduled service: each stage a Prefect deployment with its own interval.

``newsdesk serve`` (or ``python -m flows.serve``) registers the deployments and runs them
from this process. Each deployment has a concurrency limit of one, so a slow run is never
overlapped by the next; stopping the process leaves the schedules active.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import Flow, serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Interval

from config.settings import Settings, load_settings
from flows.alert import alert, digest
from flows.poll import poll
from flows.process import process

# Schedules count from midnight, so runs fall on round times (poll at 10:00, 10:05...) and
# keep them across restarts, instead of counting from whenever the service started.
ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)


def deployments(settings: Settings) -> list[RunnerDeployment]:
    """poll, process, alert and digest, on the intervals from settings.schedule."""
    schedule = settings.schedule
    plan: list[tuple[Flow[..., Any], str, int, dict[str, Any], str]] = [
        (poll, "newsdesk-poll", schedule.poll_minutes, {}, "Poll due sources."),
        (process, "newsdesk-process", schedule.process_minutes, {}, "Process new items."),
        (
            alert,
            "newsdesk-alert",
            schedule.alert_minutes,
            {"include_digests": False},
            "Match new items and send immediate alerts.",
        ),
        (digest, "newsdesk-digest", schedule.digest_minutes, {}, "Send daily digests."),
    ]
    built = []
    for flow, name, minutes, parameters, description in plan:
        deployment = flow.to_deployment(
            name=name,
            schedule=Interval(minutes * 60, anchor_date=ANCHOR),
            parameters=parameters,
            tags=["newsdesk"],
            description=description,
            # One run at a time; a run due while the last is still going is cancelled, not
            # queued, so a slow stage never leaves a backlog of runs behind it.
            concurrency_limit=ConcurrencyLimitConfig(
                limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
            ),
        )
        assert isinstance(deployment, RunnerDeployment)  # the sync call returns it directly
        built.append(deployment)
    return built


def main() -> None:
    # pause_on_shutdown=False: stopping (or restarting) the service leaves schedules active.
    serve(*deployments(load_settings()), pause_on_shutdown=False)


if __name__ == "__main__":
    main()
