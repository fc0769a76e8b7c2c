"""The ``poll`` flow: one task per due source fetches its feed and stores new items."""

from __future__ import annotations

from prefect import flow, get_run_logger, tags, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.context import TaskRunContext
from prefect.states import Failed
from prefect.tasks import Task

from config.errors import FeedParseError, FetchError, SoftFetchError
from flows import artifacts, steps
from flows.host_limits import host_limiter
from flows.labels import run_name, source_tags
from flows.runtime import get_runtime
from flows.stage import stage
from storage.records import FeedToPoll


def _soft_failure(_task: Task[..., object], _run: TaskRun, state: State[object]) -> bool:
    """Retry only failures that may pass (timeouts, 5xx, 429); a 404 will not."""
    error = state.result(raise_on_failure=False)
    return isinstance(error, SoftFetchError)


@task(
    name="poll-source",
    task_run_name="fetch {feed.source_id}",
    cache_policy=NO_CACHE,
    retry_condition_fn=_soft_failure,
)
def poll_source(feed: FeedToPoll) -> steps.PollOutcome | State[steps.PollOutcome]:
    rt = get_runtime()
    try:
        return steps.poll_feed_blocking(rt, feed, host_limiter(rt))
    except (FetchError, FeedParseError) as exc:
        if isinstance(exc, SoftFetchError) and _retries_left():
            raise  # Prefect retries it after a delay, with one line in the log
        outcome = steps.record_feed_failure(rt, feed, exc)
        # Failed in the UI with the reason, and no traceback: the fault is the source's.
        return Failed(message=f"{feed.source_id}: {outcome.problem}", data=outcome)


def _retries_left() -> bool:
    context = TaskRunContext.get()
    if context is None:
        return False
    return context.task_run.run_count <= context.task.retries


@flow(name="poll", flow_run_name=run_name("poll"), log_prints=False)
@stage
def poll(sources: list[str] | None = None, force: bool = False) -> list[steps.PollOutcome]:
    """Sync the catalogue and poll every due feed (or only ``sources``)."""
    logger = get_run_logger()
    rt = get_runtime()
    added, updated, disabled = steps.sync_catalogue(rt)
    logger.info("catalogue: %d added, %d updated, %d disabled", added, updated, disabled)
    feeds = steps.due_feeds(rt, sources, force=force)
    delays = rt.settings.http.retry_delays
    # No Prefect timeout: it cannot interrupt a task in a thread. Each request has its own
    # deadline (http.total_deadline) and each whole read another (http.source_deadline).
    task_with_retries = poll_source.with_options(
        retries=len(delays), retry_delay_seconds=list(delays)
    )
    futures = []
    for feed in feeds:
        with tags(*source_tags(feed.source_id, feed.kind, feed.country)):
            futures.append((feed, task_with_retries.submit(feed)))
    outcomes: list[steps.PollOutcome] = []
    for feed, future in futures:
        result = future.result(raise_on_failure=False)
        if isinstance(result, steps.PollOutcome):  # fetched, or failed and recorded
            outcomes.append(result)
        else:  # the task itself crashed: record it against the feed; the others go on
            error = result if isinstance(result, Exception) else RuntimeError(str(result))
            outcomes.append(steps.record_feed_failure(rt, feed, error))
    for outcome in outcomes:
        if outcome.status == "failed":
            logger.warning("%s failed: %s", outcome.source_id, outcome.problem)
        else:
            new = len(outcome.new_item_ids)
            logger.info("%s: %s, %d new items", outcome.source_id, outcome.status, new)
    new = sum(len(o.new_item_ids) for o in outcomes)
    failed = sum(o.status == "failed" for o in outcomes)
    message = "polled %d sources: %d new items, %d failed"
    (logger.warning if failed else logger.info)(message, len(outcomes), new, failed)
    artifacts.publish_poll(rt, outcomes)
    return outcomes
