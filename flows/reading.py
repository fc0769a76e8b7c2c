"""Reading a source of any type: a feed, a sitemap (and its children) or listing pages.

The first URL is fetched conditionally; a 304 ends the read. A sitemap index's children and
a listing's further pages are fetched within the same read, bounded, and parsed with the
pure parsers in extractors/.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from config.errors import FeedParseError
from config.settings import HttpSettings
from extractors.feeds import FeedEntry, parse_feed
from extractors.http import FetchResult, fetch
from extractors.listings import no_links_problem, parse_listing
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
    """Fetch and parse a source; raises FetchError (network) or FeedParseError (content)."""
    first = await _get(client, http, feed.feed_url, feed.etag, feed.last_modified)
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
) -> FetchResult:
    return await fetch(
        client,
        url,
        max_bytes=http.max_feed_bytes,
        deadline=http.total_deadline,
        etag=etag,
        last_modified=last_modified,
    )


async def _read_sitemap(
    client: httpx.AsyncClient, http: HttpSettings, first: FetchResult
) -> SourceRead:
    sitemap = parse_sitemap(first.body, url=first.url)
    entries = list(sitemap.entries)
    problems = []
    for child in sitemap.children[:MAX_SITEMAP_CHILDREN]:
        try:
            page = await _get(client, http, child)
            entries.extend(parse_sitemap(page.body, url=page.url).entries)
        except (FeedParseError, Exception) as exc:  # one bad child does not lose the others
            problems.append(f"{child}: {exc}")
    if sitemap.children and not entries and problems:
        raise FeedParseError("; ".join(problems[:3]))
    kind = "sitemap index" if sitemap.children else "sitemap"
    return SourceRead(first, tuple(entries), problem="; ".join(problems[:3]) or None, format=kind)


async def _read_listing(
    client: httpx.AsyncClient, http: HttpSettings, feed: FeedToPoll, first: FetchResult
) -> SourceRead:
    options = feed.options
    selector, pattern = options.get("link_selector"), options.get("link_pattern")
    entries: list[FeedEntry] = []
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
        if listing.next_page is None or listing.next_page in seen:
            break
        seen.add(listing.next_page)
        page = await _get(client, http, listing.next_page)
    if not entries:
        # A listing that yields nothing has almost always changed its layout: say so loudly.
        raise FeedParseError(no_links_problem(first.url, selector, pattern))
    return SourceRead(first, tuple(entries), format="listing")
