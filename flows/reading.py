"""Reading a source of any type: a feed, a sitemap (and its children) or listing pages.

The first URL is fetched conditionally; a 304 ends the read. A sitemap index's children and
a listing's further pages are fetched within the same read, bounded, and parsed with the
pure parsers in extractors/.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from config.errors import FeedParseError, FetchError, FetchTimeout
from config.settings import HttpSettings
from extractors.feeds import FeedEntry, parse_feed
from extractors.http import FetchResult, fetch
from extractors.listings import no_links_problem, parse_listing, same_site
from extractors.sitemaps import parse_sitemap
from storage.records import FeedToPoll

# A sitemap index of a big site lists hundreds of children, newest usually first.
MAX_SITEMAP_CHILDREN = 10


@dataclass(frozen=True, slots=True)
class SourceRead:
    """What reading a source gave: the first response, and the entries found."""

    first: FetchResult
    entries: tuple[FeedEntry, ...] = ()
    language: str | None = None
    problem: str | None = None
    format: str = ""  # rss20, atom10, sitemap, sitemap index, listing...


async def read_source(
    client: httpx.AsyncClient, http: HttpSettings, feed: FeedToPoll
) -> SourceRead:
    """Fetch and parse a source; raises FetchError (network) or FeedParseError (content).

    The whole read ends after ``http.source_deadline``, however many pages it takes.
    """
    try:
        async with asyncio.timeout(http.source_deadline):
            return await _read(client, http, feed)
    except TimeoutError as exc:
        reason = f"reading the source took over {http.source_deadline:g} s"
        raise FetchTimeout(feed.feed_url, reason) from exc


async def _read(client: httpx.AsyncClient, http: HttpSettings, feed: FeedToPoll) -> SourceRead:
    first = await _get(
        client,
        http,
        feed.feed_url,
        feed.etag,
        feed.last_modified,
        page=feed.source_type == "listing",
    )
    if first.not_modified:
        return SourceRead(first)
    if feed.source_type == "sitemap":
        return await _read_sitemap(client, http, first)
    if feed.source_type == "listing":
        return await _read_listing(client, http, feed, first)
    parsed = parse_feed(first.body, url=first.url, content_type=first.content_type)
    return SourceRead(first, parsed.entries, parsed.language, parsed.problem, parsed.format)


async def _get(
    client: httpx.AsyncClient,
    http: HttpSettings,
    url: str,
    etag: str | None = None,
    last_modified: str | None = None,
    *,
    page: bool = False,
) -> FetchResult:
    return await fetch(
        client,
        url,
        max_bytes=http.max_page_bytes if page else http.max_feed_bytes,
        deadline=http.total_deadline,
        etag=etag,
        last_modified=last_modified,
    )


async def _read_sitemap(
    client: httpx.AsyncClient, http: HttpSettings, first: FetchResult
) -> SourceRead:
    """The sitemap's entries, its newest children's, and (budget allowing) theirs."""
    sitemap = parse_sitemap(first.body, url=first.url)
    entries = list(sitemap.entries)
    problems: list[str] = []
    queue = list(sitemap.children)
    fetched = 0
    while queue and fetched < MAX_SITEMAP_CHILDREN:
        child = queue.pop(0)
        fetched += 1
        try:
            page = await _get(client, http, child)
            parsed = parse_sitemap(page.body, url=page.url)
        except (FetchError, FeedParseError) as exc:  # one bad child does not lose the others
            problems.append(f"{child}: {exc}")
            continue
        entries.extend(parsed.entries)
        queue.extend(parsed.children)  # an index of indexes: one level further, same budget
    if sitemap.children and not entries:
        problems.insert(0, "the sitemap index led to no article URL")
    kind = "sitemap index" if sitemap.children else "sitemap"
    problem = "; ".join(problems[:3]) or None
    return SourceRead(first, tuple(entries), problem=problem, format=kind)


async def _read_listing(
    client: httpx.AsyncClient, http: HttpSettings, feed: FeedToPoll, first: FetchResult
) -> SourceRead:
    options = feed.options
    selector, pattern = options.get("link_selector"), options.get("link_pattern")
    entries: list[FeedEntry] = []
    problem: str | None = None
    page, seen = first, {first.url}
    for _ in range(int(options.get("max_pages", 1))):
        listing = parse_listing(
            page.body,
            url=page.url,
            link_selector=selector,
            link_pattern=pattern,
            next_selector=options.get("next_selector"),
        )
        entries.extend(listing.entries)
        following = listing.next_page
        # Never wander off the source's own site, nor in circles.
        if following is None or following in seen or not same_site(following, first.url):
            break
        seen.add(following)
        try:
            page = await _get(client, http, following, page=True)
        except FetchError as exc:  # keep what the first pages gave; say what was missed
            problem = f"stopped at {following}: {exc.reason}"
            break
    if not entries:
        # A listing that yields nothing has almost always changed its layout: say so loudly.
        raise FeedParseError(no_links_problem(first.url, selector, pattern))
    return SourceRead(first, tuple(entries), problem=problem, format="listing")
