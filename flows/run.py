"""The ``run`` flow: poll, process, alert, with a summary artifact for the Prefect UI."""

from __future__ import annotations

import time
from typing import Any

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.task_runners import ThreadPoolTaskRunner

from flows.alert import alert
from flows.labels import run_name
from flows.poll import poll
from flows.process import process
from flows.report import CycleReport, build_report, markdown
from flows.runtime import get_runtime
from flows.stage import stage


@flow(name="run", flow_run_name=run_name("cycle"))
@stage
def run(sources: list[str] | None = None, force: bool = False) -> CycleReport:
    """One full cycle: sync the catalogue, poll due feeds, process pending items."""
    started = time.perf_counter()
    rt = get_runtime()
    # How many feeds are fetched at once is a setting, so the task runner is chosen here.
    runner: ThreadPoolTaskRunner[Any] = ThreadPoolTaskRunner(
        max_workers=rt.settings.poll.concurrency
    )
    polling = poll.with_options(task_runner=runner)  # type: ignore[arg-type]
    polls = polling(sources=sources, force=force)
    processes = process(sources=sources)
    alerts = alert()
    report = build_report(
        rt,
        polls=polls,
        processes=processes,
        alerts=alerts,
        seconds=time.perf_counter() - started,
        orchestrator="prefect",
    )
    create_markdown_artifact(
        key="newsdesk-cycle", markdown=markdown(report), description="newsdesk cycle summary"
    )
    return report
