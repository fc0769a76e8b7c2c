"""The ``alert`` flow: match processed items to subscribers, then send what is due."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import alerting, artifacts
from flows.labels import run_name
from flows.runtime import get_runtime
from flows.stage import stage

# No task retries: the outbox retries deliveries itself with backoff, and a retried task
# must never resend what it already handed to SMTP.


@task(name="match-items", task_run_name="match new items", cache_policy=NO_CACHE)
def match_items() -> alerting.AlertOutcome:
    return alerting.match_new_items(get_runtime())


@task(name="send-immediate", task_run_name="send immediate alerts", cache_policy=NO_CACHE)
def send_immediate() -> alerting.AlertOutcome:
    return alerting.send_immediate(get_runtime())


@task(name="send-digests", task_run_name="send due digests", cache_policy=NO_CACHE)
def send_digests() -> alerting.AlertOutcome:
    return alerting.send_digests(get_runtime())


@flow(name="alert", flow_run_name=run_name("alert"), log_prints=False)
@stage
def alert(include_digests: bool = True) -> alerting.AlertOutcome:
    """Queue deliveries for new matches, send immediate alerts (and digests that are due)."""
    outcome = match_items()
    outcome.add(send_immediate())
    if include_digests:
        outcome.add(send_digests())
    _log(outcome)
    artifacts.publish_alerts(outcome, "alerts")
    return outcome


@flow(name="digest", flow_run_name=run_name("digest"), log_prints=False)
@stage
def digest() -> alerting.AlertOutcome:
    """Send each subscriber whose local digest hour has come their daily digest."""
    outcome = send_digests()
    _log(outcome)
    artifacts.publish_alerts(outcome, "digests")
    return outcome


def _log(outcome: alerting.AlertOutcome) -> None:
    """One summary line; a warning when something needs a look."""
    logger = get_run_logger()
    if outcome.server_down:
        logger.warning("the SMTP server could not be reached: deliveries wait for the next run")
    trouble = outcome.failed or outcome.unknown or outcome.retrying
    (logger.warning if trouble else logger.info)(
        "alerts: %d queued, %d sent, %d digests, %d to retry, %d failed, %d unknown",
        outcome.queued,
        outcome.sent,
        outcome.digests,
        outcome.retrying,
        outcome.failed,
        outcome.unknown,
    )
