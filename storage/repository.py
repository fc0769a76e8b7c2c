"""Every SQL statement newsdesk runs, behind functions named for what they do."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from config.sources import SourceConfig
from storage.claims import claimable_ids
from storage.models import FeedState, Item, Mention, Source
from storage.records import (
    ClaimedItem,
    FeedToPoll,
    ItemView,
    NewItem,
    ProcessedItem,
    SourceWork,
)


def sync_sources(session: Session, catalogue: Sequence[SourceConfig]) -> tuple[int, int, int]:
    """Make the sources table match the catalogue; returns (added, updated, disabled).

    Sources that left the catalogue are disabled, not deleted: their items keep their origin.
    """
    existing = {source.id: source for source in session.scalars(select(Source))}
    added = updated = disabled = 0
    wanted = {entry.id for entry in catalogue}
    for entry in catalogue:
        values = {
            "name": entry.name,
            "kind": entry.kind,
            "country": entry.country,
            "language": entry.language,
            "feed_url": entry.feed_url,
            "source_type": entry.type,
            "options": entry.listing.model_dump() if entry.listing else None,
            "poll_interval": entry.poll_interval,
            "enabled": entry.enabled,
        }
        row = existing.get(entry.id)
        if row is None:
            session.add(Source(id=entry.id, **values))
            added += 1
            continue
        read_differently = (
            row.feed_url != entry.feed_url
            or row.source_type != values["source_type"]
            or (row.options or None) != values["options"]
        )
        if read_differently and row.state is not None:
            # Validators and backoff earned by another URL (or another way of reading it, such
            # as a fixed listing selector) mean nothing now: poll it afresh.
            row.state.etag = row.state.last_modified = None
            row.state.consecutive_failures = 0
            row.state.next_poll_at = None
        changed = False
        for key, value in values.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
                changed = True
        updated += changed
    for source_id, row in existing.items():
        if source_id not in wanted and row.enabled:
            row.enabled = False
            disabled += 1
    session.flush()
    return added, updated, disabled


def list_sources(session: Session) -> list[Source]:
    return list(
        session.scalars(select(Source).options(selectinload(Source.state)).order_by(Source.id))
    )


def due_feeds(
    session: Session,
    now: datetime,
    only: Collection[str] | None = None,
    *,
    force: bool = False,
) -> list[FeedToPoll]:
    """Enabled sources whose next poll time has come (all enabled ones with ``force``)."""
    query = (
        select(Source, FeedState)
        .outerjoin(FeedState, FeedState.source_id == Source.id)
        .where(Source.enabled.is_(True))
        .order_by(Source.id)
    )
    if not force:
        query = query.where(or_(FeedState.next_poll_at.is_(None), FeedState.next_poll_at <= now))
    if only is not None:
        query = query.where(Source.id.in_(list(only)))
    return [
        FeedToPoll(
            source_id=source.id,
            feed_url=source.feed_url,
            poll_interval=source.poll_interval,
            etag=state.etag if state else None,
            last_modified=state.last_modified if state else None,
            source_type=source.source_type,
            options=dict(source.options or {}),
            kind=source.kind,
            country=source.country,
        )
        for source, state in session.execute(query)
    ]


def _state(session: Session, source_id: str) -> FeedState:
    state = session.get(FeedState, source_id)
    if state is None:
        state = FeedState(source_id=source_id, consecutive_failures=0)
        session.add(state)
    return state


def record_poll_success(
    session: Session,
    feed: FeedToPoll,
    now: datetime,
    *,
    status: int,
    etag: str | None,
    last_modified: str | None,
    problem: str | None = None,
) -> None:
    """Remember the validators for the next conditional GET and schedule the next poll."""
    state = _state(session, feed.source_id)
    if status != 304:
        # A 304 carries no new validators worth trusting over the ones that earned it.
        state.etag = etag
        state.last_modified = last_modified
    state.last_status = status
    state.last_error = problem
    state.last_polled_at = now
    state.last_success_at = now
    state.consecutive_failures = 0
    state.next_poll_at = now + timedelta(seconds=feed.poll_interval)


def record_poll_failure(
    session: Session,
    feed: FeedToPoll,
    now: datetime,
    *,
    error: str,
    status: int | None,
    max_backoff_seconds: int,
) -> int:
    """Count a failure and push the next poll back exponentially; returns the failure count."""
    state = _state(session, feed.source_id)
    failures = (state.consecutive_failures or 0) + 1
    state.consecutive_failures = failures
    state.last_status = status
    state.last_error = error[:2000]
    state.last_polled_at = now
    delay = min(feed.poll_interval * 2 ** min(failures, 16), max_backoff_seconds)
    state.next_poll_at = now + timedelta(seconds=max(delay, feed.poll_interval))
    return failures


_INSERT_CHUNK = 1000


def _insert(session: Session) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert


def insert_new_items(
    session: Session, source_id: str, entries: Sequence[NewItem], now: datetime
) -> list[int]:
    """Insert entries not seen before (by canonical URL) as pending; returns the new ids."""
    unique: dict[str, NewItem] = {}
    for entry in entries:
        unique.setdefault(entry.url, entry)
    if not unique:
        return []
    rows = [
        {
            "source_id": source_id,
            "url": entry.url,
            "guid": entry.guid,
            "title": entry.title,
            "summary": entry.summary,
            "author": entry.author,
            "published_at": entry.published_at,
            "language": entry.language,
            "discovered_at": now,
            "status": "pending",
            "attempts": 0,
        }
        for entry in unique.values()
    ]
    new_ids: list[int] = []
    # PostgreSQL takes at most 65,535 bind parameters per statement; 11 columns a row.
    for start in range(0, len(rows), _INSERT_CHUNK):
        statement = (
            _insert(session)(Item)
            .values(rows[start : start + _INSERT_CHUNK])
            .on_conflict_do_nothing(index_elements=[Item.url])
            .returning(Item.id)
        )
        new_ids.extend(session.scalars(statement))
    return new_ids


def _claimable(now: datetime, max_attempts: int) -> ColumnElement[bool]:
    return or_(
        Item.status == "pending",
        and_(Item.status == "failed", Item.attempts < max_attempts),
        # A worker that died mid-batch leaves its lease to expire.
        and_(Item.status == "processing", Item.claimed_until < now),
    )


def sources_with_work(session: Session, now: datetime, max_attempts: int) -> list[SourceWork]:
    """Sources with claimable items, and how many each has waiting."""
    query = (
        select(Item.source_id, func.count(Item.id), Source.kind, Source.country)
        .join(Source, Source.id == Item.source_id)
        .where(_claimable(now, max_attempts))
        .group_by(Item.source_id, Source.kind, Source.country)
        .order_by(Item.source_id)
    )
    return [
        SourceWork(source_id, pending, kind, country)
        for source_id, pending, kind, country in session.execute(query)
    ]


def claim_items(
    session: Session,
    now: datetime,
    *,
    lease: timedelta,
    limit: int,
    max_attempts: int,
    source_id: str | None = None,
) -> list[ClaimedItem]:
    """Lease up to ``limit`` claimable items to this worker and count the attempt.

    Concurrent workers take disjoint batches; the UPDATE repeats the condition so a row
    claimed meanwhile is never taken twice.
    """
    candidates = select(Item.id).where(_claimable(now, max_attempts)).order_by(Item.id).limit(limit)
    if source_id is not None:
        candidates = candidates.where(Item.source_id == source_id)
    ids = claimable_ids(session, candidates)
    if isinstance(ids, list) and not ids:
        return []
    token = uuid.uuid4().hex
    claimed = session.execute(
        update(Item)
        .where(Item.id.in_(ids), _claimable(now, max_attempts))
        .values(
            status="processing",
            claimed_until=now + lease,
            claim_token=token,
            attempts=Item.attempts + 1,
        )
        .returning(
            Item.id,
            Item.source_id,
            Item.url,
            Item.title,
            Item.summary,
            Item.language,
            Item.attempts,
        )
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(
        (
            ClaimedItem(
                id=row.id,
                source_id=row.source_id,
                url=row.url,
                title=row.title,
                summary=row.summary,
                language=row.language,
                attempts=row.attempts,
                claim_token=token,
            )
            for row in claimed
        ),
        key=lambda item: item.id,
    )


def _held(item: ClaimedItem) -> ColumnElement[bool]:
    """The item is still leased by this claim (not expired and re-claimed by another worker)."""
    return and_(
        Item.id == item.id, Item.status == "processing", Item.claim_token == item.claim_token
    )


def complete_item(
    session: Session, item: ClaimedItem, result: ProcessedItem, now: datetime
) -> bool:
    """Store the text, its mentions and the done status together.

    Returns False, storing nothing, when the claim was lost to another worker.
    """
    held = session.execute(
        update(Item)
        .where(_held(item))
        .values(
            text=result.text,
            text_source=result.text_source,
            content_hash=result.content_hash,
            fetched_at=now,
            status="done",
            claimed_until=None,
            claim_token=None,
            error=result.note,
            # The page knows its own metadata better than a feed that left it out.
            title=func.coalesce(Item.title, result.title),
            author=func.coalesce(Item.author, result.author),
            published_at=func.coalesce(Item.published_at, result.published_at),
            language=func.coalesce(result.language, Item.language),
        )
        .returning(Item.id)
        .execution_options(synchronize_session=False)
    ).first()
    if held is None:
        return False
    session.execute(delete(Mention).where(Mention.item_id == item.id))
    session.add_all(
        Mention(
            item_id=item.id,
            country=row.country,
            count=row.count,
            first_offset=row.first_offset,
            snippet=row.snippet,
            kind=row.kind,
            salience=row.salience,
            spans=row.spans,
        )
        for row in result.countries
    )
    return True


def fail_item(session: Session, item: ClaimedItem, error: str, now: datetime) -> bool:
    """Mark an item failed with its reason; it is claimable again while attempts remain.

    Returns False when the claim was lost to another worker.
    """
    held = session.execute(
        update(Item)
        .where(_held(item))
        .values(
            status="failed",
            error=error[:2000],
            claimed_until=None,
            claim_token=None,
            fetched_at=now,
        )
        .returning(Item.id)
        .execution_options(synchronize_session=False)
    ).first()
    return held is not None


def find_items(
    session: Session,
    *,
    country: str | None = None,
    since: datetime | None = None,
    source_id: str | None = None,
    limit: int = 100,
) -> list[ItemView]:
    """Items newest first, optionally only those mentioning ``country``."""
    query = select(Item).options(selectinload(Item.mentions)).order_by(Item.id.desc()).limit(limit)
    if country is not None:
        query = query.where(
            Item.id.in_(select(Mention.item_id).where(Mention.country == country.upper()))
        )
    if since is not None:
        query = query.where(Item.discovered_at >= since)
    if source_id is not None:
        query = query.where(Item.source_id == source_id)
    return [
        ItemView(
            id=item.id,
            source_id=item.source_id,
            url=item.url,
            title=item.title,
            published_at=item.published_at,
            discovered_at=item.discovered_at,
            status=item.status,
            text_source=item.text_source,
            countries=tuple(m.country for m in sorted(item.mentions, key=lambda m: -m.salience)),
            error=item.error,
        )
        for item in session.scalars(query)
    ]


def country_counts(session: Session, item_ids: Collection[int]) -> list[tuple[str, int]]:
    """How many of the given items mention each country, most first."""
    if not item_ids:
        return []
    query = (
        select(Mention.country, func.count(Mention.item_id))
        .where(Mention.item_id.in_(list(item_ids)))
        .group_by(Mention.country)
        .order_by(func.count(Mention.item_id).desc(), Mention.country)
    )
    return [(country, count) for country, count in session.execute(query)]


def source_health(session: Session) -> list[tuple[Source, FeedState | None, datetime | None]]:
    """Every enabled source with its fetch state and when it last brought a new item."""
    latest = dict(
        session.execute(
            select(Item.source_id, func.max(Item.discovered_at)).group_by(Item.source_id)
        ).all()
    )
    rows = session.scalars(
        select(Source).options(selectinload(Source.state)).where(Source.enabled.is_(True))
    )
    return [(source, source.state, latest.get(source.id)) for source in rows]


def country_days(session: Session, since: datetime) -> list[tuple[str, datetime]]:
    """(country, discovered_at) of every mention in items discovered since ``since``."""
    query = (
        select(Mention.country, Item.discovered_at)
        .join(Item, Item.id == Mention.item_id)
        .where(Item.discovered_at >= since)
    )
    return [(country, discovered) for country, discovered in session.execute(query)]


def recent_items(
    session: Session, item_ids: Collection[int]
) -> list[tuple[int, str | None, str, list[str]]]:
    """(id, title, url, countries) of the given items, newest first."""
    if not item_ids:
        return []
    query = (
        select(Item)
        .options(selectinload(Item.mentions))
        .where(Item.id.in_(list(item_ids)))
        .order_by(Item.id.desc())
    )
    return [
        (item.id, item.title, item.url, [m.country for m in item.mentions])
        for item in session.scalars(query)
    ]
