"""The ``process`` flow: one task per source fetches, extracts and analyses its pending items."""

from __future__ import annotations

from uuid import UUID

from prefect import flow, get_run_logger, tags, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE

from flows import artifacts, steps
from flows.host_limits import host_limiter
from flows.labels import count, run_name, source_tags
from flows.runtime import get_runtime
from flows.stage import stage


@task(name="process-source", task_run_name="extract items from {source_id}", cache_policy=NO_CACHE)
def process_source(source_id: str) -> steps.ProcessOutcome:
    # No task retries: each item's own failures are recorded and retried on a later run.
    rt = get_runtime()
    return steps.process_source_blocking(rt, source_id, host_limiter(rt))


def _log_outcome(outcome: steps.ProcessOutcome) -> None:
    """One line per source, in words; the failures' reasons are in the items' records."""
    line = "%s: %d processed (%d from the feed summary), %d to retry"
    log = get_run_logger().warning if outcome.failed else get_run_logger().info
    log(line, outcome.source_id, len(outcome.done), len(outcome.from_summary), len(outcome.failed))


@flow(name="process", flow_run_name=run_name("process"), log_prints=False)
@stage
def process(sources: list[str] | None = None) -> list[steps.ProcessOutcome]:
    """Process every claimable item (of ``sources`` if given), one task per source."""
    logger = get_run_logger()
    rt = get_runtime()
    work = steps.sources_with_work(rt, sources)
    batch = rt.settings.process.batch_size
    futures = []
    for source in work:
        # What this task will claim, unless another worker gets there first.
        items = count(min(source.pending, batch), "item")
        # No Prefect timeout: it cannot interrupt a task in a thread; the step's own
        # deadline (process.source_deadline) does.
        task = process_source.with_options(task_run_name=f"extract {items} from {source.source_id}")
        with tags(*source_tags(source.source_id, source.kind, source.country)):
            futures.append(task.submit(source.source_id))
    # Moves as sources finish, so a long run shows how far it got.
    progress = create_progress_artifact(0.0, key="process-progress", description="Sources done")
    assert isinstance(progress, UUID)  # the sync call path returns the id directly
    outcomes = []
    stopped = 0
    for n, (source, future) in enumerate(zip(work, futures, strict=True), 1):
        try:
            outcome = future.result()
        except Exception as exc:  # e.g. the database went away; its leased items wait
            stopped += 1
            logger.warning("%s stopped: %s", source.source_id, exc or type(exc).__name__)
        else:
            outcomes.append(outcome)
            _log_outcome(outcome)
        update_progress_artifact(progress, 100.0 * n / len(futures))
    done = sum(len(o.done) for o in outcomes)
    failed = sum(len(o.failed) for o in outcomes)
    message = "processed %d items from %d sources, %d failed, %d sources stopped"
    (logger.warning if failed or stopped else logger.info)(
        message, done, len(work), failed, stopped
    )
    artifacts.publish_latest(rt)
    return outcomes
