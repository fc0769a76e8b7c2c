"""The alert stage as plain functions: match items to subscribers, send immediate emails and
daily digests through the outbox. The Prefect flow and the in-process runner both call these.

Exactly-once rests on the database: one delivery row per (subscriber, item) under a unique
constraint; rows are claimed with a lease; a row is marked ``sending`` in its own commit just
before SMTP is given the message, so a worker killed before that point leaves a row that is
safely sent later, and one killed after it leaves a row marked ``unknown``, never resent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr

from sqlalchemy.orm import Session

from alerts.match import hits_for, matches
from alerts.records import AlertItem, CountryHit, RenderedEmail, Rule
from alerts.render import render_digest, render_immediate
from alerts.schedule import digest_due, local_day
from alerts.smtp import SmtpSender, build_message, message_id_for
from config.errors import DeliveryRejected, DeliveryRetryable, DeliveryUnknown, NewsdeskError
from config.settings import SmtpSettings
from extractors.countries.names import country_name
from flows.runtime import Runtime
from storage import outbox
from storage.models import Item, Mention, Source, Subscriber
from storage.outbox import ClaimedDelivery

log = logging.getLogger(__name__)

_MATCH_BATCH = 500


@dataclass
class AlertOutcome:
    """What one alert pass did."""

    matched_items: int = 0
    queued: int = 0
    sent: int = 0
    digests: int = 0
    to_digest: int = 0  # immediate alerts over the hourly cap, moved to the digest
    retrying: int = 0
    failed: int = 0
    unknown: int = 0
    subjects: list[str] = field(default_factory=list)
    server_down: bool = False  # the SMTP server could not be reached: stop trying this run

    def add(self, other: AlertOutcome) -> None:
        for name in ("matched_items", "queued", "sent", "digests", "to_digest", "retrying"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failed += other.failed
        self.unknown += other.unknown
        self.subjects += other.subjects
        self.server_down = self.server_down or other.server_down


# --- conversions ----------------------------------------------------------------------------


def to_rule(subscriber: Subscriber) -> Rule:
    return Rule(
        subscriber_id=subscriber.id,
        email=subscriber.email,
        name=subscriber.name,
        countries=frozenset(subscriber.countries),
        mode="digest" if subscriber.mode == "digest" else "immediate",
        source_kinds=frozenset(subscriber.source_kinds),
        source_ids=frozenset(subscriber.source_ids),
        min_salience=subscriber.min_salience,
        keywords=tuple(subscriber.keywords),
        digest_hour=subscriber.digest_hour,
        timezone=subscriber.timezone,
        unsubscribe_token=subscriber.unsubscribe_token,
    )


def to_alert_item(item: Item, source: Source, mentions: Sequence[Mention]) -> AlertItem:
    text = item.text or ""
    hits = []
    for mention in sorted(mentions, key=lambda m: -m.salience):
        surface = ""
        if mention.spans:
            start, end = int(mention.spans[0][0]), int(mention.spans[0][1])
            surface = text[start:end]
        hits.append(
            CountryHit(
                code=mention.country,
                name=country_name(mention.country),
                salience=mention.salience,
                snippet=mention.snippet,
                surface=surface,
            )
        )
    return AlertItem(
        item_id=item.id,
        title=item.title or item.url,
        url=item.url,
        source_id=source.id,
        source_name=source.name,
        source_kind=source.kind,
        published_at=item.published_at,
        countries=tuple(hits),
        text=text,
        content_hash=item.content_hash,
    )


# --- match ----------------------------------------------------------------------------------


def match_new_items(rt: Runtime) -> AlertOutcome:
    """Queue one delivery per (subscriber, matching item) for items not matched yet."""
    outcome = AlertOutcome()
    while True:
        now = rt.now()
        with rt.sessions.begin() as session:
            rules = [to_rule(s) for s in outbox.list_subscribers(session, active_only=True)]
            batch = outbox.items_to_match(session, _MATCH_BATCH)
            if not batch:
                return outcome
            # The same text reached through another URL is not news to the same reader.
            seen = outbox.delivered_hashes(session, [r.subscriber_id for r in rules])
            rows: list[tuple[int, int, str]] = []
            for item, source in batch:
                alert = to_alert_item(item, source, item.mentions)
                for rule in rules:
                    if not matches(rule, alert):
                        continue
                    key = (rule.subscriber_id, alert.content_hash or f"item:{item.id}")
                    if key in seen:
                        continue
                    seen.add(key)
                    rows.append((rule.subscriber_id, item.id, rule.mode))
            outcome.queued += len(outbox.queue_deliveries(session, rows, now))
            outbox.mark_matched(session, [item.id for item, _ in batch], now)
            outcome.matched_items += len(batch)


# --- send -----------------------------------------------------------------------------------


SenderFactory = Callable[[SmtpSettings], SmtpSender]


def send_immediate(rt: Runtime, sender_factory: SenderFactory = SmtpSender) -> AlertOutcome:
    """Send due immediate alerts, one email per item, within each subscriber's hourly cap."""
    settings = rt.settings.alerts
    outcome = AlertOutcome()
    now = rt.now()
    lease = timedelta(seconds=settings.claim_lease_seconds)
    with rt.sessions.begin() as session:
        outbox.recover_stale_sends(session, now)
        claimed = outbox.claim_deliveries(
            session, now, channel="immediate", lease=lease, limit=settings.batch_size
        )
        # In the claim's own transaction: every immediate delivery left claimed is within its
        # subscriber's cap, which is what lets another worker count it as good as sent.
        to_send = _apply_hourly_cap(rt, session, claimed, outcome)
    if not to_send:
        return outcome
    with rt.sessions() as session:
        subscribers = {s.id: to_rule(s) for s in outbox.list_subscribers(session)}
        loaded = outbox.load_for_render(session, [d.item_id for d in to_send])
    done: set[int] = set()
    try:
        with sender_factory(rt.settings.smtp) as sender:
            for delivery in to_send:
                done.add(delivery.id)
                try:
                    rule = subscribers[delivery.subscriber_id]
                    alert = to_alert_item(*loaded[delivery.item_id])
                    email = render_immediate(
                        rule,
                        alert,
                        hits_for(rule, alert),
                        unsubscribe_base_url=settings.unsubscribe_base_url,
                        sender=rt.settings.smtp.sender,
                    )
                    message = build_message(
                        email, message_id=message_id_for(delivery.id, _domain(rt))
                    )
                except Exception as exc:  # this delivery cannot be built: fail it, go on
                    log.exception("delivery %s cannot be rendered", delivery.id)
                    _fail_claimed(rt, [delivery], f"cannot render: {type(exc).__name__}: {exc}")
                    outcome.failed += 1
                    continue
                if _send(rt, sender, [delivery], message, outcome):
                    outcome.sent += 1
                    outcome.subjects.append(email.subject)
                elif outcome.server_down:
                    break  # every other delivery would fail the same way: leave them waiting
    finally:
        _release(rt, [d for d in to_send if d.id not in done])
    return outcome


def send_digests(rt: Runtime, sender_factory: SenderFactory = SmtpSender) -> AlertOutcome:
    """Send each subscriber whose local digest hour has come one email with their items."""
    outcome = AlertOutcome()
    with rt.sessions() as session:
        waiting = outbox.subscribers_with_digest_work(session, rt.now())
    if not waiting:
        return outcome
    with sender_factory(rt.settings.smtp) as sender:
        for subscriber in waiting:
            try:
                _send_digest(rt, sender, subscriber.id, outcome)
            except Exception:  # one subscriber's digest must not stop the others
                log.exception("digest for subscriber %s failed", subscriber.id)
                outcome.failed += 1
            if outcome.server_down:
                break
    return outcome


def _send_digest(
    rt: Runtime, sender: SmtpSender, subscriber_id: int, outcome: AlertOutcome
) -> None:
    settings = rt.settings.alerts
    now = rt.now()
    # Decide and claim under a lock on the subscriber, stamping today's digest at once, so
    # two workers never both find it due; a send that fails puts the old stamp back.
    with rt.sessions.begin() as session:
        subscriber = outbox.lock_subscriber(session, subscriber_id)
        if subscriber is None or not digest_due(
            now,
            subscriber.last_digest_at,
            hour=subscriber.digest_hour,
            timezone=subscriber.timezone,
        ):
            return
        previous = subscriber.last_digest_at
        rule = to_rule(subscriber)
        claimed = outbox.claim_deliveries(
            session,
            now,
            channel="digest",
            lease=timedelta(seconds=settings.claim_lease_seconds),
            limit=1000,
            subscriber_id=subscriber_id,
        )
        if not claimed:
            return
        outbox.record_digest(session, subscriber_id, now)
    try:
        with rt.sessions() as session:
            loaded = outbox.load_for_render(session, [d.item_id for d in claimed])
        entries = []
        for delivery in claimed:
            alert = to_alert_item(*loaded[delivery.item_id])
            entries.append((alert, hits_for(rule, alert)))
        email = render_digest(
            rule,
            entries,
            day=local_day(now, rule.timezone),
            unsubscribe_base_url=settings.unsubscribe_base_url,
            sender=rt.settings.smtp.sender,
        )
        message = build_message(email, message_id=message_id_for(claimed[0].id, _domain(rt)))
    except Exception as exc:
        _fail_claimed(rt, claimed, f"cannot render the digest: {type(exc).__name__}: {exc}")
        raise
    if _send(rt, sender, claimed, message, outcome):
        outcome.digests += 1
        outcome.subjects.append(email.subject)
        return
    with rt.sessions.begin() as session:
        outbox.record_digest(session, subscriber_id, previous)


def run_alerts(rt: Runtime, sender_factory: SenderFactory = SmtpSender) -> AlertOutcome:
    """The whole stage: match, immediate alerts, due digests."""
    outcome = match_new_items(rt)
    outcome.add(send_immediate(rt, sender_factory))
    if not outcome.server_down:
        outcome.add(send_digests(rt, sender_factory))
    return outcome


def _apply_hourly_cap(
    rt: Runtime, session: Session, claimed: Sequence[ClaimedDelivery], outcome: AlertOutcome
) -> list[ClaimedDelivery]:
    """Keep each subscriber within the cap; the rest waits for their next digest.

    Runs in the transaction that claimed ``claimed``. The subscribers stay locked until it
    commits, so two workers work out one subscriber's budget one after the other, and each
    counts what the other holds as sent.
    """
    if not claimed:
        return []
    cap = rt.settings.alerts.hourly_cap
    now = rt.now()
    token = claimed[0].claim_token
    subscriber_ids = {d.subscriber_id for d in claimed}
    outbox.lock_subscribers(session, subscriber_ids)
    already = outbox.sent_since(
        session, subscriber_ids, now - timedelta(hours=1), now=now, own_token=token
    )
    kept: list[ClaimedDelivery] = []
    excess: list[int] = []
    budget = {sid: cap - count for sid, count in already.items()}
    for delivery in claimed:
        left = budget.get(delivery.subscriber_id, cap)
        if left > 0:
            kept.append(delivery)
            budget[delivery.subscriber_id] = left - 1
        else:
            excess.append(delivery.id)
    outbox.move_to_digest(session, excess, token)
    outcome.to_digest += len(excess)
    return kept


def _send(
    rt: Runtime,
    sender: SmtpSender,
    deliveries: Sequence[ClaimedDelivery],
    message: EmailMessage,
    outcome: AlertOutcome,
) -> bool:
    """Hand one message to SMTP for these deliveries and record what happened."""
    settings = rt.settings.alerts
    ids = [d.id for d in deliveries]
    token = deliveries[0].claim_token
    now = rt.now()
    with rt.sessions() as session:
        lease = timedelta(seconds=settings.claim_lease_seconds)
        if not outbox.mark_sending(session, ids, token, now, lease):
            session.rollback()  # some of the claim was lost to another worker: send nothing
            return False
        session.commit()
    try:
        sender.send(message)
    except DeliveryUnknown as exc:
        log.error("deliveries %s: outcome unknown: %s", ids, exc)
        _record(rt, ids, token, status="unknown", error=str(exc))
        outcome.unknown += len(ids)
        return False
    except DeliveryRejected as exc:
        _record(rt, ids, token, status="failed", error=str(exc))
        outcome.failed += len(ids)
        return False
    except DeliveryRetryable as exc:
        if exc.code is None:
            # No SMTP reply at all (refused, unreachable, timed out): the server is down, not
            # this message at fault, so the try is not counted and the batch stops.
            outcome.server_down = True
            _record(
                rt,
                ids,
                token,
                status="pending",
                error=str(exc),
                next_attempt_at=rt.now() + timedelta(seconds=(settings.retry_delays or [60.0])[0]),
                attempts=max(d.attempts for d in deliveries),
            )
            outcome.retrying += len(ids)
            return False
        attempts = max(d.attempts for d in deliveries) + 1
        if attempts >= settings.max_attempts:
            _record(rt, ids, token, status="failed", error=f"{exc} (after {attempts} tries)")
            outcome.failed += len(ids)
        else:
            delays = settings.retry_delays or [60.0]
            delay = delays[min(attempts - 1, len(delays) - 1)]
            _record(
                rt,
                ids,
                token,
                status="pending",
                error=str(exc),
                next_attempt_at=rt.now() + timedelta(seconds=delay),
            )
            outcome.retrying += len(ids)
        return False
    with rt.sessions.begin() as session:
        outbox.mark_sent(session, ids, token, rt.now(), message_id=str(message["Message-ID"]))
    return True


def _record(
    rt: Runtime,
    ids: list[int],
    token: str,
    *,
    status: str,
    error: str,
    next_attempt_at: datetime | None = None,
    attempts: int | None = None,
) -> None:
    with rt.sessions.begin() as session:
        outbox.mark_outcome(
            session,
            ids,
            token,
            status=status,
            error=error,
            next_attempt_at=next_attempt_at,
            attempts=attempts,
        )


def _fail_claimed(rt: Runtime, deliveries: Sequence[ClaimedDelivery], error: str) -> None:
    with rt.sessions.begin() as session:
        outbox.fail_claimed(session, [d.id for d in deliveries], deliveries[0].claim_token, error)


def _release(rt: Runtime, deliveries: Sequence[ClaimedDelivery]) -> None:
    """Give back what this worker claimed but did not reach, for the next run."""
    if deliveries:
        with rt.sessions.begin() as session:
            outbox.release(session, [d.id for d in deliveries], deliveries[0].claim_token)


def _domain(rt: Runtime) -> str:
    address = parseaddr(rt.settings.smtp.sender)[1]
    return address.rpartition("@")[2] or "newsdesk.invalid"


def preview_emails(rt: Runtime, email: str) -> list[RenderedEmail]:
    """What a subscriber would get now: one email per waiting immediate alert, and the digest."""
    settings = rt.settings.alerts
    with rt.sessions() as session:
        subscriber = outbox.find_subscriber(session, email)
        if subscriber is None:
            raise NewsdeskError(f"no subscriber {email.lower()}")
        rule = to_rule(subscriber)
        waiting = outbox.waiting_deliveries(session, subscriber.id)
        loaded = outbox.load_for_render(session, [d.item_id for d in waiting])
    emails: list[RenderedEmail] = []
    digest: list[tuple[AlertItem, tuple[CountryHit, ...]]] = []
    for delivery in waiting:
        alert = to_alert_item(*loaded[delivery.item_id])
        hits = hits_for(rule, alert)
        if delivery.channel == "immediate":
            emails.append(
                render_immediate(
                    rule,
                    alert,
                    hits,
                    unsubscribe_base_url=settings.unsubscribe_base_url,
                    sender=rt.settings.smtp.sender,
                )
            )
        else:
            digest.append((alert, hits))
    if digest:
        emails.append(
            render_digest(
                rule,
                digest,
                day=local_day(rt.now(), rule.timezone),
                unsubscribe_base_url=settings.unsubscribe_base_url,
                sender=rt.settings.smtp.sender,
            )
        )
    return emails
