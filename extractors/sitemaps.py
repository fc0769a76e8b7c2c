"""Parse sitemap bytes (XML urlset/sitemapindex, Google News, gzip, plain text) into entries.

Pure: the caller fetches (and follows ``Sitemap.children``); this module only reads bytes.
trafilatura.sitemaps is not reused for the parsing itself: it keeps only ``<loc>`` (no
lastmod, no news: fields) and its gzip helper returns the compressed bytes unchanged when the
size cap is hit instead of failing, so XML is read with lxml directly here.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type hints

from config.errors import FeedParseError
from extractors.feeds import FeedEntry

__all__ = ["MAX_DECOMPRESSED_BYTES", "Sitemap", "parse_sitemap", "to_utc_datetime"]

# A gzip sitemap may hold at most 50 MB uncompressed (sitemaps.org); more is a bomb or junk.
MAX_DECOMPRESSED_BYTES = 50 * 1024 * 1024

_GZIP_MAGIC = b"\x1f\x8b"
# "&" not starting a character or entity reference: CMSs often leave query strings unescaped
# in <loc>, and libxml2's recovery would silently drop the "&b" of "?a=1&b=2".
_BARE_AMPERSAND = re.compile(rb"&(?!(?:[A-Za-z][A-Za-z0-9._-]*|#[0-9]+|#[xX][0-9A-Fa-f]+);)")
_YEAR_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_YEAR = re.compile(r"\d{4}")


@dataclass(frozen=True, slots=True)
class Sitemap:
    """What one sitemap document lists."""

    # Article URLs, absolute, in document order, each once (the first occurrence wins). For
    # Google News entries: title from news:title, published from news:publication_date (else
    # lastmod), language from news:publication/news:language.
    entries: tuple[FeedEntry, ...]
    # Absolute URLs of child sitemaps when this is a sitemap index, in document order.
    children: tuple[str, ...]


def to_utc_datetime(text: str | None) -> datetime | None:
    """An aware UTC datetime from a W3C/ISO 8601 date (or an RFC 822 one), else ``None``.

    A date without a time is midnight UTC; a time without an offset is taken as UTC.
    Accepts the W3C reduced forms ``2026-11`` and ``2026``.
    """
    if not text:
        return None
    text = text.strip()
    if not text:
        return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        if match := _YEAR_MONTH.fullmatch(text):
            parsed = _safe_datetime(int(match[1]), int(match[2]), 1)
        elif _YEAR.fullmatch(text):
            parsed = _safe_datetime(int(text), 1, 1)
        else:
            try:
                parsed = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                parsed = None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 with an offset
        return None


def _safe_datetime(year: int, month: int, day: int) -> datetime | None:
    try:
        return datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None


def _gunzip(data: bytes, limit: int) -> bytes:
    """Decompress every gzip member of ``data``, failing once the output passes ``limit``."""
    out = bytearray()
    rest = data
    while rest.startswith(_GZIP_MAGIC):
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pending = rest
        try:
            while pending and not decompressor.eof:
                out += decompressor.decompress(pending, limit - len(out) + 1)
                if len(out) > limit:
                    raise FeedParseError(
                        f"not a sitemap: gzip data decompresses to more than {limit} bytes"
                    )
                pending = decompressor.unconsumed_tail
        except zlib.error as exc:
            raise FeedParseError(f"not a sitemap: corrupt gzip data ({exc})") from exc
        if not decompressor.eof:
            raise FeedParseError("not a sitemap: truncated gzip data")
        # Concatenated members are one stream; anything else after the end is ignored.
        rest = decompressor.unused_data
    return bytes(out)


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    collapsed = " ".join(text.split())
    return collapsed or None


def _absolute(raw: str | None, base: str) -> str | None:
    """``raw`` without its whitespace (any, even inside), resolved; None unless http(s)."""
    if not raw:
        return None
    # Pretty-printed or wrapped <loc> values carry newlines and indentation; a real URL has
    # no whitespace at all.
    text = "".join(raw.split())
    if not text:
        return None
    try:
        link = urljoin(base, text) if base else text
        parts = urlsplit(link)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return link


def _local(element: etree._Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):  # comments, processing instructions
        return ""
    return str(etree.QName(tag).localname).lower()


def _child_text(element: etree._Element, name: str) -> str | None:
    for child in element:
        if _local(child) == name:
            return "".join(child.itertext())
    return None


def _loc(element: etree._Element) -> str | None:
    """The <loc> text; None when it holds markup or an entity reference (not a URL)."""
    for child in element:
        if _local(child) == "loc":
            return None if len(child) else str(child.text or "")
    return None


def _url_entry(element: etree._Element, base: str) -> FeedEntry | None:
    link = _absolute(_loc(element), base)
    if link is None:
        return None
    published = to_utc_datetime(_child_text(element, "lastmod"))
    title: str | None = None
    language: str | None = None
    for child in element:
        if _local(child) != "news":
            continue
        title = _clean(_child_text(child, "title")) or title
        published = to_utc_datetime(_child_text(child, "publication_date")) or published
        for publication in child:
            if _local(publication) == "publication":
                language = _clean(_child_text(publication, "language")) or language
    return FeedEntry(
        link=link,
        guid=None,
        title=title,
        summary=None,
        author=None,
        published=published,
        language=language,
    )


def _parse_xml(data: bytes, url: str) -> Sitemap:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        recover=True,
        remove_comments=True,
        remove_pis=True,
        huge_tree=False,
    )
    try:
        root = etree.fromstring(_BARE_AMPERSAND.sub(b"&amp;", data), parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise FeedParseError(f"not a sitemap: unreadable XML ({exc})") from exc
    if root is None:
        raise FeedParseError("not a sitemap: unreadable XML")
    kind = _local(root)
    if kind not in ("urlset", "sitemapindex"):
        raise FeedParseError(
            f"not a sitemap: root element is <{kind or '?'}>, not <urlset> or <sitemapindex>"
        )
    entries: dict[str, FeedEntry] = {}
    children: dict[str, datetime | None] = {}
    # Both kinds of child are read under either root: mixed documents exist in the wild.
    for element in root:
        name = _local(element)
        if name == "url":
            entry = _url_entry(element, url)
            if entry is not None and entry.link is not None:
                entries.setdefault(entry.link, entry)
        elif name == "sitemap":
            child = _absolute(_loc(element), url)
            if child is not None:
                children.setdefault(child, to_utc_datetime(_child_text(element, "lastmod")))
    # Newest children first: indexes often list their oldest archives first, and a caller
    # that reads only a few children wants the ones with new articles.
    oldest = datetime.min.replace(tzinfo=UTC)
    ordered = sorted(children, key=lambda child: children[child] or oldest, reverse=True)
    return Sitemap(entries=tuple(entries.values()), children=tuple(ordered))


def _decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")  # text sitemaps must be UTF-8
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _parse_text(data: bytes) -> Sitemap:
    links: dict[str, None] = {}
    others = 0
    for line in _decode_text(data).splitlines():
        line = line.strip()
        if not line:
            continue
        link = _absolute(line, "") if " " not in line else None
        if link is None:
            others += 1
        else:
            links.setdefault(link, None)
    if not links or others > len(links):
        raise FeedParseError("not a sitemap: neither XML nor a text list of URLs")
    return Sitemap(
        entries=tuple(
            FeedEntry(
                link=link,
                guid=None,
                title=None,
                summary=None,
                author=None,
                published=None,
                language=None,
            )
            for link in links
        ),
        children=(),
    )


def parse_sitemap(
    data: bytes, *, url: str, max_decompressed: int = MAX_DECOMPRESSED_BYTES
) -> Sitemap:
    """Parse sitemap bytes fetched from ``url`` (which resolves relative locations).

    Gzip-compressed bytes are recognised by their magic number (whatever the URL or the
    headers said) and inflated up to ``max_decompressed`` bytes. Raises FeedParseError when
    the bytes are not a sitemap: another XML document, HTML, garbage, an empty body, corrupt
    or oversized gzip. A valid sitemap listing nothing returns no entries and no children.
    """
    if data.startswith(_GZIP_MAGIC):
        data = _gunzip(data, max_decompressed)
    body = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not body:
        raise FeedParseError("not a sitemap: empty document")
    if body.startswith(b"<"):
        return _parse_xml(body, url)
    # Text sitemaps list absolute URLs only (sitemaps.org): they are not resolved.
    return _parse_text(body)
