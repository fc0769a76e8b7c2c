"""Tools for a desk's own network: check every catalogue source once, discover a site's feeds.

Neither stores anything: they read, parse and report.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

import httpx

from config.errors import FeedParseError, FetchError
from config.settings import HttpSettings
from config.sources import SourceConfig
from extractors.discovery import COMMON_FEED_PATHS, discover
from extractors.feeds import parse_feed
from extractors.http import HostLimiter, build_client, fetch
from extractors.sitemaps import parse_sitemap
from flows.reading import read_source
from storage.records import FeedToPoll

# Advertised feeds and sitemaps come first; big sites list hundreds of sitemaps.
MAX_PROBES = 20


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One source's health, as `newsdesk sources check` prints it."""

    source_id: str
    type: str
    reachable: str  # "HTTP 200", or why not
    format: str
    items: int
    newest: datetime | None
    problem: str | None


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A feed or sitemap found on a site, ready for the catalogue."""

    url: str
    type: str  # feed | sitemap
    format: str
    items: int
    title: str | None


def check_sources(http: HttpSettings, sources: Sequence[SourceConfig]) -> list[CheckRow]:
    return asyncio.run(_check_all(http, sources))


async def _check_all(http: HttpSettings, sources: Sequence[SourceConfig]) -> list[CheckRow]:
    limiter = HostLimiter(http.per_host_limit)
    async with build_client(http) as client:
        return list(await asyncio.gather(*(_check(client, limiter, http, s) for s in sources)))


async def _check(
    client: httpx.AsyncClient, limiter: HostLimiter, http: HttpSettings, source: SourceConfig
) -> CheckRow:
    feed = FeedToPoll(
        source_id=source.id,
        feed_url=source.feed_url,
        poll_interval=source.poll_interval,
        source_type=source.type,
        options=source.listing.model_dump() if source.listing else {},
    )
    try:
        async with limiter.slot(source.feed_url):
            read = await read_source(client, http, feed)
    except FetchError as exc:
        reachable = f"HTTP {exc.status}" if exc.status else "no"
        return CheckRow(source.id, source.type, reachable, "", 0, None, exc.reason)
    except FeedParseError as exc:
        return CheckRow(source.id, source.type, "yes", "", 0, None, str(exc))
    except Exception as exc:  # one odd source must not hide the report on the others
        return CheckRow(source.id, source.type, "?", "", 0, None, f"{type(exc).__name__}: {exc}")
    dates = [e.published for e in read.entries if e.published is not None]
    return CheckRow(
        source.id,
        source.type,
        f"HTTP {read.first.status}",
        read.format,
        len(read.entries),
        max(dates) if dates else None,
        read.problem,
    )


def discover_feeds(http: HttpSettings, url: str) -> list[Suggestion]:
    return asyncio.run(_discover(http, url))


async def _discover(http: HttpSettings, url: str) -> list[Suggestion]:
    async with build_client(http) as client:
        page = await fetch(client, url, max_bytes=http.max_page_bytes, deadline=http.total_deadline)
        robots: str | None = None
        try:
            robots_page = await fetch(
                client,
                urljoin(url, "/robots.txt"),
                max_bytes=1_000_000,
                deadline=http.total_deadline,
            )
            robots = robots_page.body.decode("utf-8", errors="replace")
        except FetchError:
            pass
        found = discover(page.body, url=page.url, robots_txt=robots)
        candidates = [*found.feeds, *found.sitemaps]
        candidates += [urljoin(page.url, path) for path in COMMON_FEED_PATHS]
        unique = list(dict.fromkeys(candidates))[:MAX_PROBES]
        limiter = HostLimiter(http.per_host_limit)

        async def probe(candidate: str) -> Suggestion | None:
            async with limiter.slot(candidate):
                return await _probe(client, http, candidate)

        found_all = await asyncio.gather(*(probe(c) for c in unique))
        return [suggestion for suggestion in found_all if suggestion is not None]


async def _probe(client: httpx.AsyncClient, http: HttpSettings, url: str) -> Suggestion | None:
    """A suggestion if ``url`` answers with a feed or a sitemap."""
    try:
        result = await fetch(
            client, url, max_bytes=http.max_feed_bytes, deadline=http.total_deadline
        )
    except FetchError:
        return None
    try:
        feed = parse_feed(result.body, url=result.url, content_type=result.content_type)
        if feed.format not in ("", "unknown"):
            return Suggestion(result.url, "feed", feed.format, len(feed.entries), feed.title)
    except FeedParseError:
        pass
    try:
        sitemap = parse_sitemap(result.body, url=result.url)
    except FeedParseError:
        return None
    kind = "sitemap index" if sitemap.children else "sitemap"
    count = len(sitemap.entries) or len(sitemap.children)
    return Suggestion(result.url, "sitemap", kind, count, None)
