"""The pipeline's steps as plain functions: what each Prefect task runs, callable without it."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter
from typing import Literal

import httpx
from sqlalchemy.exc import SQLAlchemyError

from config.errors import (
    ExtractionCrash,
    ExtractionTimeout,
    FeedParseError,
    FetchError,
    HardFetchError,
    SoftFetchError,
)
from config.sources import load_sources
from extractors.articles import Article, extract_article
from extractors.countries import Mention, detect, summarize
from extractors.feeds import FeedEntry
from extractors.http import FetchResult, HostLimiter, build_client, fetch
from extractors.urls import canonical_url
from flows.reading import SourceRead, read_source
from flows.runtime import Runtime
from storage import repository as repo
from storage.records import (
    ClaimedItem,
    CountryRow,
    FeedToPoll,
    NewItem,
    ProcessedItem,
    SourceWork,
)

log = logging.getLogger(__name__)

PollStatus = Literal["fetched", "not_modified", "failed"]


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What polling one feed did."""

    source_id: str
    status: PollStatus
    entries: int = 0
    new_item_ids: tuple[int, ...] = ()
    problem: str | None = None
    http_status: int | None = None
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class ProcessOutcome:
    """What processing one source's pending items did."""

    source_id: str
    done: tuple[int, ...] = ()
    from_summary: tuple[int, ...] = ()
    failed: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True, slots=True)
class _ItemResult:
    item: ClaimedItem
    processed: ProcessedItem | None = None
    error: str | None = None


@dataclass
class _Counters:
    done: list[int] = field(default_factory=list)
    from_summary: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


# --- catalogue ------------------------------------------------------------------------------


def sync_catalogue(rt: Runtime) -> tuple[int, int, int]:
    """Load sources.yaml and mirror it into the database: (added, updated, disabled)."""
    catalogue = load_sources(rt.settings.sources_path, base_url=rt.settings.sources_base_url)
    with rt.sessions.begin() as session:
        return repo.sync_sources(session, catalogue)


def due_feeds(
    rt: Runtime, only: Collection[str] | None = None, *, force: bool = False
) -> list[FeedToPoll]:
    with rt.sessions() as session:
        return repo.due_feeds(session, rt.now(), only, force=force)


# --- poll -----------------------------------------------------------------------------------


def poll_feed_blocking(
    rt: Runtime, feed: FeedToPoll, limiter: HostLimiter | None = None
) -> PollOutcome:
    """Read a source (raising FetchError for the caller's retry policy) and store it."""

    async def run() -> SourceRead:
        host_slots = limiter or HostLimiter(rt.settings.http.per_host_limit)
        async with (
            build_client(rt.settings.http) as client,
            host_slots,
            host_slots.slot(feed.feed_url),
        ):
            return await read_source(client, rt.settings.http, feed)

    started = perf_counter()
    outcome = store_read(rt, feed, asyncio.run(run()))
    return replace(outcome, seconds=perf_counter() - started)


def store_read(rt: Runtime, feed: FeedToPoll, read: SourceRead) -> PollOutcome:
    """Insert a source's new entries as pending items and remember the validators.

    A 304 costs no parsing (read_source stopped there).
    """
    now = rt.now()
    first = read.first
    if first.not_modified:
        with rt.sessions.begin() as session:
            repo.record_poll_success(session, feed, now, status=304, etag=None, last_modified=None)
        return PollOutcome(feed.source_id, "not_modified", http_status=304)
    rows = to_new_items(read.entries, default_language=read.language)
    with rt.sessions.begin() as session:
        new_ids = repo.insert_new_items(session, feed.source_id, rows, now)
        repo.record_poll_success(
            session,
            feed,
            now,
            status=first.status,
            etag=first.etag,
            last_modified=first.last_modified,
            problem=read.problem,
        )
    return PollOutcome(
        feed.source_id,
        "fetched",
        entries=len(read.entries),
        new_item_ids=tuple(new_ids),
        problem=read.problem,
        http_status=first.status,
    )


def to_new_items(entries: Sequence[FeedEntry], *, default_language: str | None) -> list[NewItem]:
    """Entries with a usable link, keyed by canonical URL; entries without one are skipped."""
    rows: list[NewItem] = []
    for entry in entries:
        url = canonical_url(entry.link) if entry.link else None
        if url is None:
            continue
        rows.append(
            NewItem(
                url=url,
                guid=entry.guid,
                title=entry.title,
                summary=entry.summary,
                author=entry.author,
                published_at=entry.published,
                language=entry.language or default_language,
            )
        )
    return rows


def record_feed_failure(rt: Runtime, feed: FeedToPoll, error: Exception) -> PollOutcome:
    """Count the failure against the feed and back its next poll off.

    Any exception counts, not only FetchError: a feed that breaks something unexpected must
    back off like one that is down, or it would fail the same way on every run.
    """
    if isinstance(error, FetchError):
        reason, status = error.reason, error.status
    elif isinstance(error, FeedParseError):  # fetched fine, but not what the source should be
        reason, status = str(error), 200
    else:
        log.error("feed %s: unexpected %s", feed.source_id, type(error).__name__, exc_info=error)
        reason, status = f"unexpected {type(error).__name__}: {error}", None
    with rt.sessions.begin() as session:
        failures = repo.record_poll_failure(
            session,
            feed,
            rt.now(),
            error=reason,
            status=status,
            max_backoff_seconds=rt.settings.poll.max_backoff_seconds,
        )
    log.warning("feed %s failed (%d in a row): %s", feed.source_id, failures, reason)
    return PollOutcome(feed.source_id, "failed", problem=reason, http_status=status)


# --- process --------------------------------------------------------------------------------


def sources_with_work(rt: Runtime, only: Collection[str] | None = None) -> list[SourceWork]:
    """Sources with claimable items (among ``only``, when given)."""
    with rt.sessions() as session:
        found = repo.sources_with_work(session, rt.now(), rt.settings.process.max_attempts)
    return [work for work in found if only is None or work.source_id in only]


def claim_items(rt: Runtime, source_id: str | None = None) -> list[ClaimedItem]:
    settings = rt.settings.process
    with rt.sessions.begin() as session:
        return repo.claim_items(
            session,
            rt.now(),
            lease=timedelta(seconds=settings.claim_lease_seconds),
            limit=settings.batch_size,
            max_attempts=settings.max_attempts,
            source_id=source_id,
        )


async def process_source(
    rt: Runtime,
    source_id: str,
    *,
    client: httpx.AsyncClient | None = None,
    limiter: HostLimiter | None = None,
    on_item: Callable[[], None] | None = None,
) -> ProcessOutcome:
    """Claim a source's pending items, fetch and analyse them concurrently, store each."""
    items = claim_items(rt, source_id)
    if not items:
        return ProcessOutcome(source_id)
    limiter = limiter or HostLimiter(rt.settings.http.per_host_limit)
    counters = _Counters()
    deadline = rt.settings.process.source_deadline
    try:
        async with asyncio.timeout(deadline):
            if client is None:
                async with build_client(rt.settings.http) as own_client:
                    await _process_items(rt, own_client, limiter, items, counters, on_item)
            else:
                await _process_items(rt, client, limiter, items, counters, on_item)
    except TimeoutError:
        # What is stored stays stored; the rest keep their lease and are taken again later.
        finished = set(counters.done) | {item_id for item_id, _ in counters.failed}
        reason = f"batch stopped after {deadline:g} s; retried when its lease expires"
        counters.failed.extend((i.id, reason) for i in items if i.id not in finished)
        log.warning("source %s: %s", source_id, reason)
    return ProcessOutcome(
        source_id,
        done=tuple(counters.done),
        from_summary=tuple(counters.from_summary),
        failed=tuple(counters.failed),
    )


def process_source_blocking(
    rt: Runtime,
    source_id: str,
    limiter: HostLimiter | None = None,
    *,
    on_item: Callable[[], None] | None = None,
) -> ProcessOutcome:
    async def run() -> ProcessOutcome:
        host_slots = limiter or HostLimiter(rt.settings.http.per_host_limit)
        async with host_slots:
            return await process_source(rt, source_id, limiter=host_slots, on_item=on_item)

    return asyncio.run(run())


async def _process_items(
    rt: Runtime,
    client: httpx.AsyncClient,
    limiter: HostLimiter,
    items: Sequence[ClaimedItem],
    counters: _Counters,
    on_item: Callable[[], None] | None = None,
) -> None:
    async def one(item: ClaimedItem) -> None:
        try:
            result = await analyse_item(rt, client, limiter, item)
        except Exception as exc:  # one bad item must not sink its batch
            log.exception("item %s crashed", item.id)
            result = _ItemResult(item, error=f"{type(exc).__name__}: {exc}")
        await asyncio.to_thread(_store_result, rt, result, counters)
        if on_item is not None:  # a progress report may call an API: not on the loop
            await asyncio.to_thread(on_item)

    await asyncio.gather(*(one(item) for item in items))


async def analyse_item(
    rt: Runtime, client: httpx.AsyncClient, limiter: HostLimiter, item: ClaimedItem
) -> _ItemResult:
    """Fetch the page and extract it, or fall back to the feed summary; then detect."""
    http = rt.settings.http
    settings = rt.settings.process
    note: str | None = None
    try:
        async with limiter.slot(item.url):
            page = await fetch(
                client, item.url, max_bytes=http.max_page_bytes, deadline=http.total_deadline
            )
    except SoftFetchError as exc:
        if item.attempts < settings.max_attempts:
            return _ItemResult(item, error=f"page: {exc.reason} (will retry)")
        note = f"page: {exc.reason} after {item.attempts} attempts"
    except HardFetchError as exc:
        note = f"page: {exc.reason}"
    else:
        try:
            article = await asyncio.to_thread(extract_page, rt, page)
        except ExtractionTimeout:
            article = None
            note = f"page: extraction took over {settings.extract_timeout:g} s and was stopped"
        except ExtractionCrash as exc:
            article = None
            note = f"page: extraction failed ({exc})"
        if article is not None:
            return _ItemResult(
                item,
                processed=analyse_text(
                    rt,
                    article.text,
                    text_source="page",
                    title=item.title or article.title,
                    language=article.language or item.language,
                    author=article.author,
                    published=_midnight_utc(article.published),
                ),
            )
        note = note or "page: no article text could be extracted"
    fallback = item.summary or item.title
    if not fallback:
        return _ItemResult(item, error=f"{note}; the feed gave no summary to fall back on")
    return _ItemResult(
        item,
        processed=analyse_text(
            rt,
            fallback,
            text_source="summary",
            title=item.title,
            language=item.language,
            note=note,
        ),
    )


def extract_page(rt: Runtime, page: FetchResult) -> Article | None:
    """The article in a page, extracted in a killable worker process unless turned off."""
    settings = rt.settings.process
    if not settings.isolate_extraction:
        return extract_article(
            page.body, url=page.url, max_chars=settings.max_extract_chars, charset=page.charset
        )
    return rt.extraction.extract(
        page.body,
        url=page.url,
        max_chars=settings.max_extract_chars,
        timeout=settings.extract_timeout,
        charset=page.charset,
    )


def analyse_text(
    rt: Runtime,
    text: str,
    *,
    text_source: str,
    title: str | None,
    language: str | None,
    author: str | None = None,
    published: datetime | None = None,
    note: str | None = None,
) -> ProcessedItem:
    """Detect countries in a text and package what will be stored."""
    monitored = rt.settings.countries or None
    mentions = detect(
        text,
        title=title,
        language=language,
        countries=monitored,
        kinds=rt.settings.mention_kinds,
    )
    summaries = summarize(
        text, mentions, title=title, snippet_chars=rt.settings.process.snippet_chars
    )
    return ProcessedItem(
        text=text,
        text_source=text_source,
        content_hash=content_hash(text),
        countries=tuple(
            CountryRow(
                country=s.country,
                count=s.count,
                first_offset=s.first_offset,
                snippet=s.snippet,
                kind=s.kind,
                salience=s.salience,
                spans=_spans(mentions, s.country),
            )
            for s in summaries
        ),
        title=title,
        author=author,
        published_at=published,
        language=language,
        note=note,
    )


def _midnight_utc(day: date | None) -> datetime | None:
    """Pages give a publication day, rarely a reliable time and zone."""
    return datetime.combine(day, time(), tzinfo=UTC) if day else None


def _spans(mentions: Sequence[Mention], country: str) -> list[list[int | str]]:
    return [[m.start, m.end, m.kind] for m in mentions if m.country == country]


def content_hash(text: str) -> str:
    """Hash of the text with case and spacing normalised: equal for the same text republished.

    Stored and indexed for the alert stage, which groups copies of one story.
    """
    normalised = " ".join(text.casefold().split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def _store_result(rt: Runtime, result: _ItemResult, counters: _Counters) -> None:
    item = result.item
    now = rt.now()
    try:
        with rt.sessions.begin() as session:
            if result.processed is not None:
                held = repo.complete_item(session, item, result.processed, now)
            else:
                held = repo.fail_item(session, item, result.error or "unknown error", now)
    except SQLAlchemyError as exc:
        # The claim's lease expires and a later run takes the item again.
        log.error("item %s: could not store the result: %s", item.id, exc)
        counters.failed.append((item.id, f"storage: {type(exc).__name__}"))
        return
    if not held:
        log.warning("item %s: lease expired and another worker took it; result dropped", item.id)
        return
    if result.processed is None:
        counters.failed.append((item.id, result.error or "unknown error"))
        return
    counters.done.append(item.id)
    if result.processed.text_source == "summary":
        counters.from_summary.append(item.id)
