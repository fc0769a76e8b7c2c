"""Canonical article URLs, so the same article reached through two feeds is one item."""

from __future__ import annotations

from urllib.parse import urldefrag, urlsplit

from courlan import normalize_url


def canonical_url(url: str) -> str | None:
    """Canonical form of an article link, or ``None`` if it is not an http(s) URL.

    courlan lower-cases the scheme and host, drops default ports, sorts the query and
    removes tracking parameters (``utm_*``, ``fbclid``...). Its strict mode also drops
    ordinary parameters such as ``?id=123`` that identify articles on many sites, so it
    is not used; fragments never identify a different article, so they are dropped here.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return None
        normalised = normalize_url(url)
    except ValueError:  # malformed, e.g. an unclosed IPv6 bracket
        return None
    return urldefrag(normalised).url


def host_of(url: str) -> str:
    """The lower-cased host[:port] a URL points at: the unit of politeness limits."""
    return urlsplit(url).netloc.lower()
