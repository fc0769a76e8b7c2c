"""Every SQL statement about subscribers and their deliveries (the alert outbox)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from storage.claims import claimable_ids
from storage.models import Delivery, Item, Mention, Source, Subscriber


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery a worker holds: which subscriber, which item, through which channel."""

    id: int
    subscriber_id: int
    item_id: int
    channel: str
    attempts: int
    claim_token: str


# --- subscribers ----------------------------------------------------------------------------


def add_subscriber(session: Session, email: str, now: datetime, **fields: Any) -> Subscriber:
    subscriber = Subscriber(
        email=email.lower(),
        unsubscribe_token=secrets.token_urlsafe(24),
        created_at=now,
        **fields,
    )
    session.add(subscriber)
    session.flush()
    return subscriber


def find_subscriber(session: Session, email: str) -> Subscriber | None:
    return session.scalars(select(Subscriber).where(Subscriber.email == email.lower())).first()


def list_subscribers(session: Session, *, active_only: bool = False) -> list[Subscriber]:
    query = select(Subscriber).order_by(Subscriber.email)
    if active_only:
        query = query.where(Subscriber.active.is_(True))
    return list(session.scalars(query))


def subscriber_by_token(session: Session, token: str) -> Subscriber | None:
    return session.scalars(select(Subscriber).where(Subscriber.unsubscribe_token == token)).first()


def unsubscribe(session: Session, token: str) -> Subscriber | None:
    """Deactivate the subscriber with this token (what the one-click link does)."""
    subscriber = session.scalars(
        select(Subscriber).where(Subscriber.unsubscribe_token == token)
    ).first()
    if subscriber is not None:
        subscriber.active = False
        cancel_waiting(session, subscriber.id, "unsubscribed")
    return subscriber


# --- matching -------------------------------------------------------------------------------


def items_to_match(session: Session, limit: int) -> list[tuple[Item, Source]]:
    """Processed items alert matching has not looked at yet, oldest first."""
    query = (
        select(Item, Source)
        .join(Source, Source.id == Item.source_id)
        .options(selectinload(Item.mentions))
        .where(Item.status == "done", Item.alerted_at.is_(None))
        .order_by(Item.id)
        .limit(limit)
    )
    return [(item, source) for item, source in session.execute(query)]


def mark_matched(session: Session, item_ids: Collection[int], now: datetime) -> None:
    if item_ids:
        session.execute(update(Item).where(Item.id.in_(list(item_ids))).values(alerted_at=now))


def delivered_hashes(session: Session, subscriber_ids: Collection[int]) -> set[tuple[int, str]]:
    """(subscriber, content hash) of every item already queued for them: same text, no repeat."""
    if not subscriber_ids:
        return set()
    query = (
        select(Delivery.subscriber_id, Item.content_hash)
        .join(Item, Item.id == Delivery.item_id)
        .where(Delivery.subscriber_id.in_(list(subscriber_ids)), Item.content_hash.is_not(None))
    )
    return {(sid, str(content_hash)) for sid, content_hash in session.execute(query)}


def queue_deliveries(
    session: Session, rows: Sequence[tuple[int, int, str]], now: datetime
) -> list[int]:
    """Insert (subscriber, item, channel) rows not queued before; returns the new ids."""
    if not rows:
        return []
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    values = [
        {
            "subscriber_id": subscriber_id,
            "item_id": item_id,
            "channel": channel,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for subscriber_id, item_id, channel in rows
    ]
    new_ids: list[int] = []
    # PostgreSQL takes at most 65,535 bind parameters per statement; 7 columns a row.
    for start in range(0, len(values), 1000):
        statement = (
            insert(Delivery)
            .values(values[start : start + 1000])
            .on_conflict_do_nothing(index_elements=[Delivery.subscriber_id, Delivery.item_id])
            .returning(Delivery.id)
        )
        new_ids.extend(session.scalars(statement))
    return new_ids


# --- claiming -------------------------------------------------------------------------------


def _claimable(now: datetime) -> ColumnElement[bool]:
    return and_(
        or_(
            and_(Delivery.status == "pending", Delivery.next_attempt_at <= now),
            # Claimed by a worker that stopped before handing the message to SMTP: safe to redo.
            and_(Delivery.status == "claimed", Delivery.claimed_until < now),
        ),
        Delivery.subscriber_id.in_(select(Subscriber.id).where(Subscriber.active.is_(True))),
    )


def cancel_waiting(session: Session, subscriber_id: int, reason: str) -> int:
    """Fail what still waits for a subscriber who stopped their alerts."""
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.subscriber_id == subscriber_id,
            Delivery.status.in_(["pending", "claimed"]),
        )
        .values(status="failed", last_error=reason, claim_token=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def recover_stale_sends(session: Session, now: datetime) -> int:
    """Sends whose worker stopped while talking to SMTP: their outcome is unknown.

    They are never resent blindly; an operator decides (`newsdesk alerts list --status`).
    """
    result = session.execute(
        update(Delivery)
        .where(Delivery.status == "sending", Delivery.claimed_until < now)
        .values(
            status="unknown",
            last_error="the worker stopped while sending; delivery unknown",
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def claim_deliveries(
    session: Session,
    now: datetime,
    *,
    channel: str,
    lease: timedelta,
    limit: int,
    subscriber_id: int | None = None,
) -> list[ClaimedDelivery]:
    """Lease due deliveries of a channel to this worker (SKIP LOCKED on PostgreSQL)."""
    candidates = (
        select(Delivery.id)
        .where(_claimable(now), Delivery.channel == channel)
        .order_by(Delivery.id)
        .limit(limit)
    )
    if subscriber_id is not None:
        candidates = candidates.where(Delivery.subscriber_id == subscriber_id)
    ids = claimable_ids(session, candidates)
    if isinstance(ids, list) and not ids:
        return []
    token = uuid.uuid4().hex
    rows = session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), _claimable(now))
        .values(status="claimed", claimed_until=now + lease, claim_token=token)
        .returning(
            Delivery.id,
            Delivery.subscriber_id,
            Delivery.item_id,
            Delivery.channel,
            Delivery.attempts,
        )
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(
        (
            ClaimedDelivery(
                row.id, row.subscriber_id, row.item_id, row.channel, row.attempts, token
            )
            for row in rows
        ),
        key=lambda d: d.id,
    )


def _held(ids: Collection[int], token: str, *statuses: str) -> ColumnElement[bool]:
    return and_(
        Delivery.id.in_(list(ids)), Delivery.status.in_(statuses), Delivery.claim_token == token
    )


def mark_sending(
    session: Session, ids: Collection[int], token: str, now: datetime, lease: timedelta
) -> bool:
    """Record that these deliveries are about to be handed to SMTP; False if the claim is lost."""
    result = session.execute(
        update(Delivery)
        .where(_held(ids, token, "claimed"))
        # sent_at: when it was handed over, which is what the hourly cap counts.
        .values(
            status="sending",
            claimed_until=now + lease,
            attempts=Delivery.attempts + 1,
            sent_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == len(ids)


def mark_sent(
    session: Session, ids: Collection[int], token: str, now: datetime, message_id: str
) -> None:
    session.execute(
        update(Delivery)
        # "unknown" too: recovery may have given up on a send that was only slow.
        .where(_held(ids, token, "sending", "unknown"))
        .values(
            status="sent",
            sent_at=now,
            message_id=message_id,
            claim_token=None,
            claimed_until=None,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )


def mark_outcome(
    session: Session,
    ids: Collection[int],
    token: str,
    *,
    status: str,
    error: str,
    next_attempt_at: datetime | None = None,
    attempts: int | None = None,
) -> None:
    """After a failed send: back to pending (with a later try), failed, or unknown.

    ``attempts`` overrides the count mark_sending raised (a try that never reached a server).
    """
    values: dict[str, Any] = {
        "status": status,
        "last_error": error[:2000],
        "claim_token": None,
        "claimed_until": None,
    }
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    if attempts is not None:
        values["attempts"] = attempts
    if status != "unknown":  # it may have reached the inbox: it still counts against the cap
        values["sent_at"] = None
    session.execute(
        update(Delivery)
        .where(_held(ids, token, "sending", "unknown"))
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def release(session: Session, ids: Collection[int], token: str) -> None:
    """Give claimed deliveries back untouched (the batch stopped before reaching them)."""
    session.execute(
        update(Delivery)
        .where(_held(ids, token, "claimed"))
        .values(status="pending", claim_token=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )


def fail_claimed(session: Session, ids: Collection[int], token: str, error: str) -> None:
    """Claimed deliveries that cannot be built (e.g. a broken address): failed, with why."""
    session.execute(
        update(Delivery)
        .where(_held(ids, token, "claimed"))
        .values(status="failed", last_error=error[:2000], claim_token=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )


def move_to_digest(session: Session, ids: Collection[int], token: str) -> None:
    """Over the hourly cap: these immediate deliveries wait for the next digest instead."""
    session.execute(
        update(Delivery)
        .where(_held(ids, token, "claimed"))
        .values(channel="digest", status="pending", claim_token=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )


def lock_subscribers(session: Session, subscriber_ids: Collection[int]) -> None:
    """Hold these subscribers' rows until the transaction ends (PostgreSQL; SQLite has one
    writer at a time anyway), so two workers work out their hourly budgets one after the
    other. Locked in id order, so two workers never wait on each other in a circle."""
    if subscriber_ids:
        session.execute(
            select(Subscriber.id)
            .where(Subscriber.id.in_(list(subscriber_ids)))
            .order_by(Subscriber.id)
            .with_for_update()
        )


def sent_since(
    session: Session,
    subscriber_ids: Collection[int],
    since: datetime,
    *,
    now: datetime | None = None,
    own_token: str | None = None,
) -> dict[int, int]:
    """How many immediate emails each subscriber was sent since ``since``.

    With ``now`` and ``own_token``, also those another worker holds under a live claim: it
    kept them within the cap and is about to send them.
    """
    if not subscriber_ids:
        return {}
    counted = and_(Delivery.status.in_(["sent", "sending", "unknown"]), Delivery.sent_at >= since)
    if now is not None and own_token is not None:
        in_flight = and_(
            Delivery.status == "claimed",
            Delivery.claimed_until > now,
            Delivery.claim_token != own_token,
        )
        counted = or_(counted, in_flight)
    query = (
        select(Delivery.subscriber_id, func.count())
        .where(
            Delivery.subscriber_id.in_(list(subscriber_ids)),
            Delivery.channel == "immediate",
            counted,
        )
        .group_by(Delivery.subscriber_id)
    )
    return {sid: int(count) for sid, count in session.execute(query)}


def subscribers_with_digest_work(session: Session, now: datetime) -> list[Subscriber]:
    """Active subscribers with digest deliveries ready to claim (the caller checks the hour)."""
    pending = select(Delivery.subscriber_id).where(Delivery.channel == "digest", _claimable(now))
    query = (
        select(Subscriber)
        .where(Subscriber.active.is_(True), Subscriber.id.in_(pending))
        .order_by(Subscriber.id)
    )
    return list(session.scalars(query))


def record_digest(session: Session, subscriber_id: int, when: datetime | None) -> None:
    session.execute(
        update(Subscriber).where(Subscriber.id == subscriber_id).values(last_digest_at=when)
    )


def lock_subscriber(session: Session, subscriber_id: int) -> Subscriber | None:
    """The subscriber row, locked until the transaction ends (PostgreSQL), to decide once."""
    return session.scalars(
        select(Subscriber).where(Subscriber.id == subscriber_id).with_for_update()
    ).first()


def load_for_render(
    session: Session, item_ids: Collection[int]
) -> dict[int, tuple[Item, Source, list[Mention]]]:
    query = (
        select(Item, Source)
        .join(Source, Source.id == Item.source_id)
        .options(selectinload(Item.mentions))
        .where(Item.id.in_(list(item_ids)))
    )
    return {item.id: (item, source, list(item.mentions)) for item, source in session.execute(query)}


def deliveries_by_status(
    session: Session, status: str | None = None, limit: int = 100
) -> list[tuple[Delivery, Subscriber, Item]]:
    query = (
        select(Delivery, Subscriber, Item)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .join(Item, Item.id == Delivery.item_id)
        .order_by(Delivery.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(Delivery.status == status)
    return [(d, s, i) for d, s, i in session.execute(query)]


def waiting_deliveries(session: Session, subscriber_id: int) -> list[Delivery]:
    """A subscriber's deliveries not handed to SMTP yet (pending or claimed), oldest first."""
    query = (
        select(Delivery)
        .where(
            Delivery.subscriber_id == subscriber_id,
            Delivery.status.in_(["pending", "claimed"]),
        )
        .order_by(Delivery.id)
    )
    return list(session.scalars(query))


def requeue(session: Session, ids: Collection[int], now: datetime) -> int:
    """An operator's decision to send failed or unknown deliveries again; returns how many."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.id.in_(list(ids)), Delivery.status.in_(["failed", "unknown"]))
        .values(status="pending", next_attempt_at=now, attempts=0, sent_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
