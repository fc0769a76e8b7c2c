"""The ``process`` flow: one task per source fetches, extracts and analyses its pending items."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE

from flows import artifacts, steps
from flows.runtime import get_runtime


@task(name="process-source", task_run_name="extract items from {source_id}", cache_policy=NO_CACHE)
def process_source(source_id: str) -> steps.ProcessOutcome:
    # No task retries: each item's own failures are recorded and retried on a later run.
    return steps.process_source_blocking(get_runtime(), source_id)


def _run_name() -> str:
    return f"process {datetime.now(UTC):%Y-%m-%d %H:%M}"


@flow(name="process", flow_run_name=_run_name, log_prints=False)
def process(sources: list[str] | None = None) -> list[steps.ProcessOutcome]:
    """Process every claimable item (of ``sources`` if given), one task per source."""
    logger = get_run_logger()
    rt = get_runtime()
    sources = steps.sources_with_work(rt, sources)
    # A stuck source must not hold the run forever: its items are leased and retried later.
    task = process_source.with_options(timeout_seconds=rt.settings.process.task_timeout_seconds)
    futures = [task.submit(source_id) for source_id in sources]
    # Moves as sources finish, so a long run shows how far it got.
    progress = create_progress_artifact(0.0, key="process-progress", description="Sources done")
    assert isinstance(progress, UUID)  # the sync call path returns the id directly
    outcomes = []
    for n, future in enumerate(futures, 1):
        outcomes.append(future.result())
        update_progress_artifact(progress, 100.0 * n / len(futures))
    done = sum(len(o.done) for o in outcomes)
    failed = sum(len(o.failed) for o in outcomes)
    logger.info("processed %d items from %d sources, %d failed", done, len(sources), failed)
    artifacts.publish_latest(rt)
    return outcomes
