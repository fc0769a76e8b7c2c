"""Parse RSS, Atom and RDF feed bytes into typed, plain-text entries (wraps feedparser)."""

from __future__ import annotations

import io
import re
import time
import xml.sax
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import feedparser

from config.errors import FeedParseError

__all__ = ["FeedEntry", "ParsedFeed", "parse_feed"]


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a feed, with every text field reduced to plain text."""

    # Absolute when the feed's link is absolute or could be resolved against the feed URL
    # (or xml:base); it stays relative only when parse_feed() was given no URL. Not canonicalised.
    link: str | None
    guid: str | None
    title: str | None
    # Plain text of the summary/description, or of the first content block when the entry has
    # no summary (Atom entries often carry only <content>).
    summary: str | None
    author: str | None
    # Timezone-aware UTC: from the published date, else the updated date.
    published: datetime | None
    # The entry's own xml:lang when it declares one, else the feed's language.
    language: str | None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed's channel-level fields and all of its entries, in document order."""

    title: str | None
    link: str | None
    language: str | None
    # feedparser's version string ("rss20", "atom10", "rss10", ...), or "unknown".
    format: str
    entries: tuple[FeedEntry, ...]
    # Set when feedparser flagged the feed as malformed (bozo) but it was still readable.
    problem: str | None


# Elements whose text feedparser runs through its author e-mail regex, which is quadratic
# in the length of the text (a 16 KB author took seconds; a feed can repeat it per item).
_AUTHOR_TAG = re.compile(
    rb"<(/?)((?:[A-Za-z_][\w.-]{0,63}:)?"
    rb"(?:author|creator|name|email|managingeditor|webmaster|publisher|owner))"
    # Attributes are bounded so the scan stays linear on hostile input.
    rb"(?=[\s/>])[^<>]{0,1024}?(/?)>",
    re.IGNORECASE,
)
# No real author, name or e-mail needs more; anything longer is dropped as garbage.
_MAX_AUTHOR_BYTES = 1024


def _defuse_long_authors(data: bytes) -> bytes:
    """Empty author-like elements whose raw content is absurdly long.

    Works on the raw bytes, so it sees every ASCII-compatible encoding (UTF-8, Latin-*,
    windows-*, KOI8, GB*); UTF-16/32 feeds pass through unguarded. Measuring the raw content
    up to the closing tag (not runs of letters) also bounds entity- or CDATA-padded text. The
    whole content is removed rather than cut so the document stays well-formed.
    """
    if len(data) <= _MAX_AUTHOR_BYTES:
        return data
    open_ends: dict[bytes, list[int]] = {}
    spans: list[tuple[int, int]] = []
    for match in _AUTHOR_TAG.finditer(data):
        closing, qname, self_closing = match.group(1), match.group(2).lower(), match.group(3)
        if self_closing:
            continue
        if not closing:
            open_ends.setdefault(qname, []).append(match.end())
        elif open_ends.get(qname):
            content_start = open_ends[qname].pop()
            if match.start() - content_start > _MAX_AUTHOR_BYTES:
                spans.append((content_start, match.start()))
    if not spans:
        return data
    # An inner element's span (<name> in <author>) is recorded before its parent's: keep
    # only the outermost of nested spans.
    spans.sort()
    pieces: list[bytes] = []
    position = 0
    for start, end in spans:
        if start < position:
            continue
        pieces.append(data[position:start])
        position = end
    pieces.append(data[position:])
    return b"".join(pieces)


def _strip_before_declaration(data: bytes) -> bytes:
    # Whitespace before "<?xml" is a fatal error for the strict parser, and feedparser's
    # lenient fallback reads such feeds less well; it is a common CMS template slip.
    stripped = data.lstrip()
    return stripped if stripped.startswith(b"<?xml") else data


def _is_non_ascii_utf8(data: bytes) -> bool:
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _with_charset(content_type: str, charset: str) -> str:
    params = [p.strip() for p in content_type.split(";")]
    kept = [p for p in params[1:] if p and not p.lower().startswith("charset=")]
    return "; ".join([params[0], *kept, f"charset={charset}"])


class _TextCollector(HTMLParser):
    """Collects the visible text of an HTML fragment."""

    # Tags that break a line when rendered: their boundaries must become spaces.
    _BLOCK_TAGS = frozenset(
        {
            "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
            "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header",
            "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td",
            "tfoot", "th", "thead", "tr", "ul",
        }
    )  # fmt: skip
    _HIDDEN_TAGS = frozenset({"script", "style", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN_TAGS:
            self._hidden_depth += 1
        elif tag in self._BLOCK_TAGS:
            # Without a separator "<p>a</p><p>b</p>" would read "ab".
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN_TAGS:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in self._BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.parts.append(data)


def _collapse(text: str | None) -> str | None:
    if text is None:
        return None
    collapsed = " ".join(text.split())
    return collapsed or None


def _html_to_text(fragment: str) -> str | None:
    collector = _TextCollector()
    collector.feed(fragment)
    collector.close()
    return _collapse("".join(collector.parts))


def _plain(value: Any, detail: Any) -> str | None:
    """Plain text of a feedparser text construct, honouring its declared type."""
    if not isinstance(value, str):
        return None
    content_type = detail.get("type") if isinstance(detail, Mapping) else None
    # feedparser has already decoded entities in text/plain values: parsing them as HTML
    # again would turn a literal "&amp;" or "<b>" into something the feed did not say.
    if content_type == "text/plain":
        return _collapse(value)
    return _html_to_text(value)


def _text(value: Any) -> str | None:
    return _collapse(value) if isinstance(value, str) else None


def _utc(parsed: Any) -> datetime | None:
    # feedparser normalises every date it understands to a UTC struct_time.
    if not isinstance(parsed, time.struct_time):
        return None
    try:
        return datetime(*parsed[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _entry_published(entry: Mapping[str, Any]) -> datetime | None:
    published = _utc(entry.get("published_parsed"))
    # The membership test first: feedparser answers a missing "updated_parsed" with the
    # published date plus a DeprecationWarning.
    if published is None and "updated_parsed" in entry:
        return _utc(entry["updated_parsed"])
    return published


def _entry_language(entry: Mapping[str, Any], feed_language: str | None) -> str | None:
    for key in ("title_detail", "summary_detail"):
        detail = entry.get(key)
        if isinstance(detail, Mapping) and detail.get("language"):
            return _text(detail["language"])
    return feed_language


def _entry_summary(entry: Mapping[str, Any]) -> str | None:
    summary = _plain(entry.get("summary"), entry.get("summary_detail"))
    if summary:
        return summary
    for content in entry.get("content") or ():
        if isinstance(content, Mapping):
            text = _plain(content.get("value"), content)
            if text:
                return text
    return None


def _entry_author(entry: Mapping[str, Any]) -> str | None:
    # author_detail.name is the name without the e-mail that RSS puts in <author>.
    detail = entry.get("author_detail")
    if isinstance(detail, Mapping) and detail.get("name"):
        return _text(detail["name"])
    return _text(entry.get("author"))


def _to_entry(entry: Mapping[str, Any], feed_language: str | None) -> FeedEntry:
    return FeedEntry(
        link=_text(entry.get("link")),
        guid=_text(entry.get("id")),
        title=_plain(entry.get("title"), entry.get("title_detail")),
        summary=_entry_summary(entry),
        author=_entry_author(entry),
        published=_entry_published(entry),
        language=_entry_language(entry, feed_language),
    )


def _describe(exc: object) -> str:
    if isinstance(exc, xml.sax.SAXParseException):
        return (
            f"not well-formed XML at line {exc.getLineNumber()}, "
            f"column {exc.getColumnNumber()}: {exc.getMessage()}"
        )
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def parse_feed(
    data: bytes, *, url: str | None = None, content_type: str | None = None
) -> ParsedFeed:
    """Parse feed bytes; ``url`` resolves relative links, ``content_type`` its charset.

    Raises FeedParseError when the bytes are not a feed at all (no RSS/Atom/RDF root, no
    channel title and no entries). A valid feed with no items returns zero entries.
    """
    data = _strip_before_declaration(data)
    headers: dict[str, str] = {}
    if url:
        headers["content-location"] = url
    if _is_non_ascii_utf8(data):
        # Valid multi-byte UTF-8 is next to impossible in real single-byte text, so it beats a
        # declared charset (CMSs often keep a stale windows-1252 prolog on UTF-8 output).
        content_type = _with_charset(content_type or "application/xml", "utf-8")
    if content_type:
        headers["content-type"] = content_type
    elif headers:
        # Any header dict without a Content-Type makes feedparser assume ISO-8859-1 and flag
        # "no Content-type specified"; application/xml keeps its no-header default (the XML
        # declaration, else UTF-8).
        headers["content-type"] = "application/xml"
    # A stream, not bytes: feedparser tries open() on a bytes argument first, so a body that
    # happens to be a local path (b"/etc/passwd") would be read from disk.
    stream = io.BytesIO(_defuse_long_authors(data))
    try:
        result = feedparser.parse(stream, response_headers=headers or None)
    except Exception as exc:  # a third-party parser on untrusted bytes: never let it escape
        raise FeedParseError(f"not a feed: feedparser failed: {_describe(exc)}") from exc

    feed: Mapping[str, Any] = result.get("feed") or {}
    raw_entries: list[Mapping[str, Any]] = list(result.get("entries") or [])
    version = result.get("version") or ""
    title = _plain(feed.get("title"), feed.get("title_detail"))
    problem = _describe(result["bozo_exception"]) if result.get("bozo") else None

    if not raw_entries and not version and not title:
        # Well-formed non-feeds (an HTML page, any other XML) are not bozo for feedparser.
        reason = problem or ("empty document" if not data.strip() else "no RSS, Atom or RDF root")
        raise FeedParseError(f"not a feed: {reason}")

    language = _text(feed.get("language"))
    return ParsedFeed(
        title=title,
        link=_text(feed.get("link")),
        language=language,
        format=version or "unknown",
        entries=tuple(_to_entry(entry, language) for entry in raw_entries),
        problem=problem,
    )
