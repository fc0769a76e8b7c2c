"""Find a site's feeds and sitemaps from its home page and robots.txt (pure: no fetching).

trafilatura.feeds.determine_feed() is not reused: it keeps <a> feed links only when a page
advertises none (here both are kept, advertised first), counts any ``application/json``
alternate as a feed (WordPress advertises its REST API that way) and runs courlan's
clean_url() on each link. trafilatura.sitemaps.extract_robots_sitemaps() gives up silently on
a robots.txt above 10,000 characters, which large sites exceed; both are done here instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from extractors.listings import (
    base_url,
    element_text,
    html_root,
    resolve_link,
    same_site,
)

__all__ = ["COMMON_FEED_PATHS", "Discovered", "common_feed_urls", "discover"]

# Paths the caller may probe when a page advertises nothing (feeds and sitemaps alike).
COMMON_FEED_PATHS: tuple[str, ...] = (
    "/feed",
    "/rss",
    "/rss.xml",
    "/feed.xml",
    "/atom.xml",
    "/index.xml",
    "/feeds/posts/default",
    "/news/rss",
    "/sitemap.xml",
    "/news-sitemap.xml",
    "/sitemap_index.xml",
)


@dataclass(frozen=True, slots=True)
class Discovered:
    """Feeds and sitemaps a site points to."""

    # Absolute, deduplicated: <link rel="alternate"> feeds first (any host), then same-site
    # <a> links that look like feeds (plus feedburner-style hosts); comment feeds left out.
    feeds: tuple[str, ...]
    # Absolute, deduplicated: robots.txt "Sitemap:" lines first, then the page's
    # <link rel="sitemap"> and same-site <a> links to *sitemap*.xml files.
    sitemaps: tuple[str, ...]
    # The page's <title>, else its og:title.
    title: str | None


_FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/rdf+xml",
        "application/x-rss+xml",
        "application/x-atom+xml",
    }
)
# A path ending in a feed extension, or a path segment named feed(s)/rss/atom.
_FEED_PATH = re.compile(r"\.(?:rss|atom|xml|rdf)$|(?:^|/)(?:feeds?|rss|atom)(?:[/.]|$)", re.I)
_FEED_QUERY = re.compile(r"(?:^|&)(?:feed|format|type)=(?:rss2?|atom|rdf|feed)\b", re.I)
_FEED_HOSTS = re.compile(r"(?:^|\.)(?:feedburner\.com|feedproxy\.google\.com)$", re.I)
_COMMENTS = re.compile(r"\bcomments?\b", re.I)
_SITEMAP_PATH = re.compile(r"sitemap[^/]*\.xml(?:\.gz)?$", re.I)


def _looks_like_feed(link: str) -> bool:
    parts = urlsplit(link)
    return bool(_FEED_PATH.search(parts.path) or _FEED_QUERY.search(parts.query))


def robots_sitemaps(robots_txt: str, *, url: str) -> tuple[str, ...]:
    """Absolute URLs of the ``Sitemap:`` lines of a robots.txt (relative ones resolved)."""
    found: dict[str, None] = {}
    for line in robots_txt.splitlines():
        key, sep, value = line.partition(":")
        if not sep or key.strip().lower() != "sitemap":
            continue
        # A comment after the URL; "#" never starts a sitemap URL's useful part.
        value = value.split("#", 1)[0].strip()
        link = resolve_link(value, url)
        if link is not None:
            found.setdefault(link, None)
    return tuple(found)


def common_feed_urls(url: str) -> tuple[str, ...]:
    """COMMON_FEED_PATHS made absolute on the origin of ``url``."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return tuple(origin + path for path in COMMON_FEED_PATHS)


def _rel_tokens(value: str | None) -> list[str]:
    return (value or "").lower().split()


def discover(html: bytes | str, *, url: str, robots_txt: str | None = None) -> Discovered:
    """The feeds, sitemaps and title a page at ``url`` (usually a home page) points to.

    ``robots_txt`` is the site's robots.txt text, when the caller fetched it. A page that
    cannot be parsed yields only the robots.txt sitemaps.
    """
    sitemaps: dict[str, None] = dict.fromkeys(robots_sitemaps(robots_txt or "", url=url))
    root = html_root(html)
    if root is None:
        return Discovered(feeds=(), sitemaps=tuple(sitemaps), title=None)
    base = base_url(root, url)

    advertised: dict[str, None] = {}
    for link_element in root.iter("link"):
        rel = _rel_tokens(link_element.get("rel"))
        link = resolve_link(link_element.get("href"), base)
        if link is None:
            continue
        if "sitemap" in rel:
            sitemaps.setdefault(link, None)
            continue
        media_type = (link_element.get("type") or "").split(";")[0].strip().lower()
        if "alternate" in rel and media_type in _FEED_TYPES and not _COMMENTS.search(link):
            advertised.setdefault(link, None)

    linked: dict[str, None] = {}
    for anchor in root.iter("a"):
        link = resolve_link(anchor.get("href"), base)
        if link is None or _COMMENTS.search(link):
            continue
        parts = urlsplit(link)
        feed_host = bool(_FEED_HOSTS.search(parts.hostname or ""))
        if not feed_host and not same_site(link, url):
            continue
        if _SITEMAP_PATH.search(parts.path):
            sitemaps.setdefault(link, None)
        elif feed_host or _looks_like_feed(link):
            linked.setdefault(link, None)

    feeds = dict(advertised)
    for link in linked:
        feeds.setdefault(link, None)

    title = None
    for title_element in root.iter("title"):
        title = element_text(title_element)
        break
    if title is None:
        for meta in root.iter("meta"):
            if (meta.get("property") or meta.get("name") or "").lower() == "og:title":
                title = " ".join((meta.get("content") or "").split()) or None
                break
    return Discovered(feeds=tuple(feeds), sitemaps=tuple(sitemaps), title=title)
