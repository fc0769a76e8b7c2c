"""The ``process`` flow: one task per source fetches, extracts and analyses its pending items."""

from __future__ import annotations

from prefect import flow, get_run_logger, tags, task
from prefect.cache_policies import NO_CACHE

from flows import artifacts, steps
from flows.host_limits import host_limiter
from flows.labels import count, run_name, source_tags
from flows.progress import RunProgress
from flows.runtime import get_runtime
from flows.stage import stage


@task(name="process-source", task_run_name="extract items from {source_id}", cache_policy=NO_CACHE)
def process_source(source_id: str, progress: RunProgress | None = None) -> steps.ProcessOutcome:
    # No task retries: each item's own failures are recorded and retried on a later run.
    rt = get_runtime()
    on_item = progress.advance if progress is not None else None
    return steps.process_source_blocking(rt, source_id, host_limiter(rt), on_item=on_item)


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
    total = sum(min(source.pending, batch) for source in work)
    # Moves as items are done, so a long run shows how far it got.
    description = f"Items done, of {count(total, 'item')} from {count(len(work), 'source')}"
    progress = RunProgress(total, description)
    futures = []
    for source in work:
        # What this task will claim, unless another worker gets there first.
        items = count(min(source.pending, batch), "item")
        # No Prefect timeout: it cannot interrupt a task in a thread; the step's own
        # deadline (process.source_deadline) does.
        task = process_source.with_options(task_run_name=f"extract {items} from {source.source_id}")
        with tags(*source_tags(source.source_id, source.kind, source.country)):
            futures.append(task.submit(source.source_id, progress))
    outcomes = []
    stopped = 0
    for source, future in zip(work, futures, strict=True):
        try:
            outcome = future.result()
        except Exception as exc:  # e.g. the database went away; its leased items wait
            stopped += 1
            logger.warning("%s stopped: %s", source.source_id, exc or type(exc).__name__)
        else:
            outcomes.append(outcome)
            _log_outcome(outcome)
    progress.finish()
    done = sum(len(o.done) for o in outcomes)
    failed = sum(len(o.failed) for o in outcomes)
    message = "processed %d items from %d sources, %d failed, %d sources stopped"
    (logger.warning if failed or stopped else logger.info)(
        message, done, len(work), failed, stopped
    )
    artifacts.publish_latest(rt)
    return outcomes
