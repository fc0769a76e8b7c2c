"""Read the article links off an HTML listing page (a ministry's press-release index).

Pure: takes the page's bytes or text and returns entries; the caller fetches pages and
follows ``Listing.next_page``. Links are chosen by a CSS selector and/or a URL regex given in
the source's configuration; titles come from the link text, dates from the link's container.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html  # type: ignore[import-untyped]  # lxml ships no type hints
from courlan import extract_domain
from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector  # type: ignore[import-untyped]

from extractors.feeds import FeedEntry
from extractors.sitemaps import to_utc_datetime

__all__ = [
    "Listing",
    "html_root",
    "no_links_problem",
    "parse_listing",
    "resolve_link",
    "same_site",
]

# lxml elements are untyped; the alias only documents intent.
Element = Any


@dataclass(frozen=True, slots=True)
class Listing:
    """The article links of one listing page and where the next page is."""

    # One per distinct article link (absolute, without fragment), in page order. title: the
    # link text or its title attribute; published: from the link's container when it shows a
    # date; language: the page's <html lang>.
    entries: tuple[FeedEntry, ...]
    # Absolute URL of the next page of the listing, if the page links to one.
    next_page: str | None


def no_links_problem(url: str, selector: str | None, pattern: str | None) -> str:
    """The problem to report when a listing page yielded no article link at all."""
    criteria = []
    if selector is not None:
        criteria.append(f"selector {selector!r}")
    if pattern is not None:
        criteria.append(f"pattern {pattern!r}")
    how = " and ".join(criteria) or "no selector or pattern"
    return f"layout changed: no article links matched {how} on {url}"


# ---------------------------------------------------------------------------------------
# HTML and URL helpers (shared with extractors.discovery)

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")


def html_root(html: bytes | str) -> Element | None:
    """The root element of an HTML document, or ``None`` if there is nothing to parse."""
    if isinstance(html, bytes):
        # Valid UTF-8 wins over a declared charset, as in extractors.feeds; other bytes go
        # to libxml2 as they are, which honours the page's <meta charset>.
        with contextlib.suppress(UnicodeDecodeError):
            html = html.decode("utf-8")
    if isinstance(html, str):
        # lxml refuses text that still carries an encoding declaration (XHTML pages).
        html = _XML_DECLARATION.sub("", html, count=1)
    if not html.strip():
        return None
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
    try:
        return lxml.html.document_fromstring(html, parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None


def base_url(root: Element, url: str) -> str:
    """The URL relative links resolve against: ``url``, or the page's <base href>."""
    for base in root.iter("base"):
        href = base.get("href")
        if href and href.strip():
            return resolve_link(href, url) or url
        break  # only the first <base> counts
    return url


def resolve_link(href: str | None, base: str) -> str | None:
    """``href`` made absolute against ``base``, fragment dropped; None unless http(s)."""
    if not href:
        return None
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    try:
        link = urldefrag(urljoin(base, href)).url
        parts = urlsplit(link)
    except ValueError:  # malformed, e.g. an unclosed IPv6 bracket
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return link


def _host(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def same_site(url: str, reference: str) -> bool:
    """Whether ``url`` belongs to the same site as ``reference``.

    Same registrable domain (courlan's public-suffix lookup: press.mfa.gov.pk and
    www.mfa.gov.pk are one site, two *.gov.pk ministries are not); for hosts the suffix list
    does not know, one host must equal the other or be a subdomain of it (ignoring "www.").
    """
    host, ref_host = _host(url), _host(reference)
    if not host or not ref_host:
        return False
    if host == ref_host or host.endswith("." + ref_host) or ref_host.endswith("." + host):
        return True
    domain, ref_domain = extract_domain(url), extract_domain(reference)
    return domain is not None and domain == ref_domain


def _collapse(text: str | None) -> str | None:
    if text is None:
        return None
    collapsed = " ".join(text.split())
    return collapsed or None


def element_text(element: Element) -> str | None:
    """The collapsed text of an element, without script/style content."""
    return _collapse(" ".join(_texts(element, skip=None)))


def _texts(element: Element, skip: Element | None) -> Iterator[str]:
    """Text pieces of ``element``'s subtree, leaving out ``skip``'s subtree (not its tail)."""
    if element is skip or not isinstance(element.tag, str):
        return
    if element.tag in ("script", "style", "template"):
        return
    if element.text:
        yield element.text
    for child in element:
        yield from _texts(child, skip)
        if child.tail:
            yield child.tail


# ---------------------------------------------------------------------------------------
# Dates

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "january jan janvier janv enero ene januar jän janeiro gennaio",
        "february feb février fevrier févr fevr febrero februar fevereiro fev febbraio",
        "march mar mars marzo märz maerz março marco",
        "april apr avril avr abril abr aprile",
        "may mai mayo maio maggio mag",
        "june jun juin junio juni junho giugno giu",
        "july jul juillet juil julio juli julho luglio lug",
        "august aug août aout agosto ago",
        "september sep sept septembre septiembre setiembre set settembre",
        "october oct octobre octubre oktober okt outubro out ottobre ott",
        "november nov novembre noviembre novembro",
        "december dec décembre decembre déc diciembre dic dezember dez dezembro dicembre",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _number

_MONTH = r"([^\W\d_]{3,10})\.?"
_DATE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # 2026-11-28, 2026/11/28
    (re.compile(r"(?<!\d)(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?!\d)"), "ymd"),
    # 28/11/2026, 28.11.2026, 28-11-2026 (day first unless that cannot be)
    (re.compile(r"(?<!\d)(\d{1,2})[./-](\d{1,2})[./-](\d{4})(?!\d)"), "dmy"),
    # 28 November 2026, 28th Nov. 2026, 28 de noviembre de 2026, 28. November 2026
    (
        re.compile(
            r"(?<!\d)(\d{1,2})(?:st|nd|rd|th|er|º)?\.?\s+(?:de\s+)?" + _MONTH + r",?\s+(?:de\s+)?"
            r"(\d{4})(?!\d)",
            re.IGNORECASE,
        ),
        "d-name-y",
    ),
    # November 28, 2026
    (
        re.compile(
            r"(?<![^\W\d_])" + _MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})(?!\d)",
            re.IGNORECASE,
        ),
        "name-d-y",
    ),
)


def _date(year: int, month: int, day: int) -> datetime | None:
    if not 1900 <= year <= 2200:
        return None
    try:
        return datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None


def _from_match(match: re.Match[str], kind: str) -> datetime | None:
    if kind == "ymd":
        return _date(int(match[1]), int(match[2]), int(match[3]))
    if kind == "dmy":
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        if second > 12 >= first:  # 11/28/2026 can only be month first
            first, second = second, first
        return _date(year, second, first)
    if kind == "d-name-y":
        month = _MONTHS.get(match[2].lower())
        return _date(int(match[3]), month, int(match[1])) if month else None
    month = _MONTHS.get(match[1].lower())
    return _date(int(match[3]), month, int(match[2])) if month else None


def find_date(text: str | None) -> datetime | None:
    """The first date written in ``text`` in a common form, as midnight UTC, else ``None``.

    Recognises 2026-11-28, 28/11/2026 (day first unless the second number is above 12),
    28.11.2026, 28 November 2026, November 28, 2026, with English, French, Spanish, German,
    Portuguese and Italian month names and abbreviations.
    """
    if not text:
        return None
    best: tuple[int, datetime] | None = None
    for pattern, kind in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            if best is not None and match.start() >= best[0]:
                break
            found = _from_match(match, kind)
            if found is not None:
                best = (match.start(), found)
                break
    return best[1] if best else None


# A <div> holding more links than this is a list, not one item's container.
_MAX_CONTAINER_LINKS = 3
_CONTAINER_TAGS = frozenset({"li", "article", "tr", "dd"})
_MAX_CONTAINER_DEPTH = 6


def _container(anchor: Element) -> Element | None:
    """The element that holds one listing item around ``anchor``, if there is one."""
    element = anchor.getparent()
    for _ in range(_MAX_CONTAINER_DEPTH):
        if element is None or element.tag in ("body", "html", "ul", "ol", "table", "tbody"):
            return None
        if element.tag in _CONTAINER_TAGS:
            return element
        if element.tag in ("div", "section"):
            links = sum(1 for _ in element.iter("a"))
            return element if links <= _MAX_CONTAINER_LINKS else None
        element = element.getparent()
    return None


def _published(anchor: Element) -> datetime | None:
    scopes = [anchor]
    container = _container(anchor)
    if container is not None:
        scopes.insert(0, container)
    for scope in scopes:
        for time_element in scope.iter("time"):
            found = to_utc_datetime(time_element.get("datetime")) or find_date(
                element_text(time_element)
            )
            if found is not None:
                return found
    if container is not None:
        # Text around the link first: a title may itself mention a date.
        outside = _collapse(" ".join(_texts(container, skip=anchor)))
        found = find_date(outside)
        if found is not None:
            return found
    return find_date(element_text(anchor))


# ---------------------------------------------------------------------------------------
# Next page

_NEXT_WORDS = frozenset(
    {
        "next", "next page", "suivant", "suivante", "page suivante", "siguiente",
        "página siguiente", "weiter", "nächste", "nächste seite", "próxima", "próximo",
        "seguinte", "successivo", "successiva", "avanti",
    }
)  # fmt: skip
_ARROWS = "›»→>"


def _is_next_label(label: str | None) -> bool:
    if not label:
        return False
    label = label.lower()
    if label in ("›", "»", "→", ">"):
        return True
    words = label.strip(_ARROWS + " ").strip()
    return words in _NEXT_WORDS


def _rel_has(element: Element, token: str) -> bool:
    return token in (element.get("rel") or "").lower().split()


def _href_of(element: Element) -> str | None:
    href = element.get("href")
    if href is not None or element.tag in ("a", "link"):
        return str(href) if href is not None else None
    for anchor in element.iter("a"):
        if anchor.get("href") is not None:
            return str(anchor.get("href"))
    return None


def _next_page(root: Element, base: str, url: str, next_selector: Element | None) -> str | None:
    candidates: list[str | None] = []
    if next_selector is not None:
        candidates.extend(_href_of(element) for element in next_selector(root))
    else:
        candidates.extend(link.get("href") for link in root.iter("link") if _rel_has(link, "next"))
        anchors = [a for a in root.iter("a") if a.get("href") is not None]
        candidates.extend(a.get("href") for a in anchors if _rel_has(a, "next"))
        candidates.extend(
            a.get("href")
            for a in anchors
            if _is_next_label(element_text(a))
            or _is_next_label(_collapse(a.get("aria-label")))
            or _is_next_label(_collapse(a.get("title")))
        )
    current = urldefrag(url).url
    for href in candidates:
        link = resolve_link(href, base)
        if link is not None and link != current:
            return link
    return None


# ---------------------------------------------------------------------------------------
# Links


def _compile(
    link_selector: str | None, link_pattern: str | None, next_selector: str | None
) -> tuple[Element | None, re.Pattern[str] | None, Element | None]:
    if link_selector is None and link_pattern is None:
        raise ValueError("a listing needs a link_selector, a link_pattern or both")
    selectors: list[Element | None] = []
    for selector in (link_selector, next_selector):
        try:
            selectors.append(CSSSelector(selector) if selector is not None else None)
        except SelectorError as exc:
            raise ValueError(f"invalid CSS selector {selector!r}: {exc}") from exc
    try:
        pattern = re.compile(link_pattern) if link_pattern is not None else None
    except re.error as exc:
        raise ValueError(f"invalid link pattern {link_pattern!r}: {exc}") from exc
    return selectors[0], pattern, selectors[1]


def _candidate_anchors(root: Element, selector: Element | None) -> Iterator[Element]:
    if selector is None:
        yield from root.iter("a")
        return
    for element in selector(root):
        if element.tag == "a":
            yield element
        else:
            yield from element.iter("a")


def _authority_end(link: str) -> int:
    """Index just past ``scheme://host[:port]`` in ``link``."""
    parts = urlsplit(link)
    return len(parts.scheme) + 3 + len(parts.netloc)


def _title(anchor: Element) -> str | None:
    return (
        element_text(anchor)
        or _collapse(anchor.get("title"))
        or _collapse(anchor.get("aria-label"))
    )


def parse_listing(
    html: bytes | str,
    *,
    url: str,
    link_selector: str | None = None,
    link_pattern: str | None = None,
    next_selector: str | None = None,
) -> Listing:
    """The article links of a listing page fetched from ``url``.

    ``link_selector`` (CSS) picks <a> elements, or elements whose descendant <a> are taken;
    ``link_pattern`` (a regex searched in the absolute URL) keeps only matching links; with
    both, a link must satisfy both. At least one is required (ValueError otherwise, also for
    an invalid selector or regex). Links to other sites are dropped unless the pattern's
    match reaches into the scheme or host part of the URL (``^https://``, ``cdn\\.example``):
    then the pattern, which names the host, decides. Links to the page itself and to the
    next page are not articles. An empty page or one where nothing matches returns no
    entries: report ``no_links_problem()``.

    ``next_selector`` (CSS) finds the next-page link; without it: <link rel="next">, then
    <a rel="next">, then an <a> reading "Next", "Next page", "›", "»", "Suivant",
    "Siguiente", "Weiter"... (arrows around the word are ignored).
    """
    selector, pattern, next_css = _compile(link_selector, link_pattern, next_selector)
    root = html_root(html)
    if root is None:
        return Listing(entries=(), next_page=None)
    base = base_url(root, url)
    next_page = _next_page(root, base, url, next_css)
    language = _collapse(root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang"))
    excluded = {urldefrag(url).url, next_page}

    found: dict[str, tuple[str | None, Element]] = {}
    for anchor in _candidate_anchors(root, selector):
        link = resolve_link(anchor.get("href"), base)
        if link is None or link in excluded:
            continue
        if pattern is not None:
            match = pattern.search(link)
            if match is None:
                continue
            host_named = match.start() < _authority_end(link)
        else:
            host_named = False
        if not host_named and not same_site(link, url):
            continue
        title = _title(anchor)
        if link not in found:
            found[link] = (title, anchor)
        elif found[link][0] is None and title is not None:
            # An image link first, its text link second: keep the first position, take the
            # text; the date is looked up around the first anchor.
            found[link] = (title, found[link][1])

    entries = tuple(
        FeedEntry(
            link=link,
            guid=None,
            title=title,
            summary=None,
            author=None,
            published=_published(anchor),
            language=language,
        )
        for link, (title, anchor) in found.items()
    )
    return Listing(entries=entries, next_page=next_page)
