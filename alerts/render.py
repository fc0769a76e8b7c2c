"""Alert emails as subject, plain-text and HTML bodies and headers (no MIME, no I/O).

The only files read are the bundled Jinja2 templates in ``alerts/templates``. HTML templates
autoescape everything; text templates do not escape. Everything that comes from a feed
(titles, source names, snippets) is cleaned of control characters before use, and header
values are also collapsed onto one line, so a hostile title can never add a header.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from email.utils import formataddr
from functools import cache
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from alerts.match import hits_for
from alerts.records import AlertItem, CountryHit, RenderedEmail, Rule

__all__ = ["MAX_SUBJECT", "clean_header", "render_digest", "render_immediate"]

MAX_SUBJECT = 200
SUBJECT_PREFIX = "[newsdesk]"
IMMEDIATE_SUBJECT_COUNTRIES = 3
DIGEST_SUBJECT_COUNTRIES = 5
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
KIND_LABELS = {"foreign_office": "foreign ministry", "news": "news"}

_WHITESPACE = re.compile(r"\s+")
# Bidirectional embeddings, overrides and isolates: they can disguise what a line says.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


# --- cleaning -------------------------------------------------------------------------------


def clean_line(value: str) -> str:
    """`value` on one line: control, bidi and line-separator characters become spaces,
    runs of whitespace one space, no leading or trailing space."""
    chars = [
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI else ch for ch in value
    ]
    return _WHITESPACE.sub(" ", "".join(chars)).strip()


def clean_header(value: str, limit: int | None = None) -> str:
    """A header value: one clean line, cut to `limit` characters with an ellipsis."""
    line = clean_line(value)
    if limit is not None and len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line


def _safe_url(url: str) -> str | None:
    """`url` if it is an absolute http(s) URL (never javascript: and the like), else None."""
    cleaned = clean_line(url)
    parts = urlsplit(cleaned)
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return cleaned
    return None


# --- pieces of the message -------------------------------------------------------------------


def _country_list(hits: Sequence[CountryHit], limit: int, counts: Sequence[int] = ()) -> str:
    names = [clean_line(hit.name) or hit.code for hit in hits]
    if counts:
        names = [f"{name} {count}" for name, count in zip(names, counts, strict=True)]
    shown = ", ".join(names[:limit])
    if len(names) > limit:
        shown += f" +{len(names) - limit}"
    return shown


def _headers(rule: Rule, *, unsubscribe_url: str, sender: str) -> dict[str, str]:
    return {
        "From": clean_header(sender),
        "To": formataddr((clean_header(rule.name), clean_header(rule.email).replace(" ", ""))),
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _unsubscribe_url(rule: Rule, base_url: str) -> str:
    token = clean_line(rule.unsubscribe_token)
    if not token:
        raise ValueError(f"subscriber {rule.subscriber_id} has no unsubscribe token")
    base = clean_line(base_url).replace(" ", "%20").rstrip("/")
    return f"{base}/{quote(token, safe='')}"


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC  # an unknown zone must not stop the mail: show UTC


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _format_day(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _format_time(moment: datetime | None, zone: tzinfo) -> str:
    """'28 Nov 2026 14:05 UTC', or with a local zone '28 Nov 2026 19:05 PKT (14:05 UTC)'."""
    if moment is None:
        return "time unknown"
    utc = _as_utc(moment)
    utc_text = f"{_format_day(utc)} {utc:%H:%M} UTC"
    if zone is UTC:
        return utc_text
    local = utc.astimezone(zone)
    if local.utcoffset() == utc.utcoffset() and local.tzname() in ("UTC", "GMT"):
        return utc_text
    return f"{_format_day(local)} {local:%H:%M} {local.tzname()} ({utc:%H:%M} UTC)"


def _highlight_span(snippet: str, surface: str) -> tuple[int, int] | None:
    """Where `surface` is in `snippet`: as a whole word if possible, any case; None if absent."""
    if not surface:
        return None
    word = re.search(rf"(?<!\w){re.escape(surface)}(?!\w)", snippet, re.IGNORECASE)
    if word:
        return word.span()
    folded, needle = snippet.casefold(), surface.casefold()
    found = folded.find(needle)
    if found < 0 or len(folded) != len(snippet):  # casefold changed offsets ("ß"): give up
        return None
    return found, found + len(needle)


def highlight_html(snippet: str, surface: str) -> Markup:
    """`snippet` escaped, with the mention of `surface` in <mark>; the feed text is escaped
    piece by piece before any markup is added, so it can never inject markup itself."""
    span = _highlight_span(snippet, surface)
    if span is None:
        return escape(snippet)
    start, end = span
    return (
        escape(snippet[:start])
        + Markup("<mark>")
        + escape(snippet[start:end])
        + Markup("</mark>")
        + escape(snippet[end:])
    )


def highlight_text(snippet: str, surface: str) -> str:
    """`snippet` with the mention of `surface` wrapped in *asterisks*."""
    span = _highlight_span(snippet, surface)
    if span is None:
        return snippet
    start, end = span
    return f"{snippet[:start]}*{snippet[start:end]}*{snippet[end:]}"


@dataclass(frozen=True, slots=True)
class _HitView:
    code: str
    name: str
    snippet_html: Markup
    snippet_text: str


@dataclass(frozen=True, slots=True)
class _ItemView:
    title: str
    url: str | None
    raw_url: str
    source: str
    kind: str
    published: str
    hits: tuple[_HitView, ...]


def _hit_view(hit: CountryHit) -> _HitView:
    snippet, surface = clean_line(hit.snippet), clean_line(hit.surface or hit.name)
    return _HitView(
        code=hit.code,
        name=clean_line(hit.name) or hit.code,
        snippet_html=highlight_html(snippet, surface),
        snippet_text=highlight_text(snippet, surface),
    )


def _item_view(item: AlertItem, hits: Sequence[CountryHit], zone: tzinfo) -> _ItemView:
    kind = clean_line(item.source_kind)
    return _ItemView(
        title=clean_line(item.title) or "(no title)",
        url=_safe_url(item.url),
        raw_url=clean_line(item.url),
        source=clean_line(item.source_name) or clean_line(item.source_id),
        kind=KIND_LABELS.get(kind, kind),
        published=_format_time(item.published_at, zone),
        hits=tuple(_hit_view(hit) for hit in hits),
    )


# --- templates -------------------------------------------------------------------------------


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("alerts", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _render(name: str, **context: Any) -> str:
    return _environment().get_template(name).render(**context)


def _email(
    rule: Rule, template: str, subject: str, context: dict[str, Any], *, base: str, sender: str
) -> RenderedEmail:
    unsubscribe_url = _unsubscribe_url(rule, base)
    context = {**context, "subject": subject, "unsubscribe_url": unsubscribe_url}
    return RenderedEmail(
        subject=subject,
        text=_render(f"{template}.txt", **context),
        html=_render(f"{template}.html", **context),
        headers=_headers(rule, unsubscribe_url=unsubscribe_url, sender=sender),
    )


# --- the two kinds of email ------------------------------------------------------------------


def render_immediate(
    rule: Rule,
    item: AlertItem,
    hits: Sequence[CountryHit] | None = None,
    *,
    unsubscribe_base_url: str,
    sender: str,
) -> RenderedEmail:
    """One alert for one item. `hits` defaults to ``hits_for(rule, item)``."""
    if hits is None:
        hits = hits_for(rule, item)
    view = _item_view(item, hits, _zone(rule.timezone))
    countries = _country_list(hits, IMMEDIATE_SUBJECT_COUNTRIES)
    prefix = f"{SUBJECT_PREFIX} {countries}:" if countries else SUBJECT_PREFIX
    subject = clean_header(f"{prefix} {view.title}", MAX_SUBJECT)
    context = {"rule_name": clean_line(rule.name), "item": view, "countries": countries}
    return _email(rule, "immediate", subject, context, base=unsubscribe_base_url, sender=sender)


@dataclass(frozen=True, slots=True)
class _Section:
    code: str
    name: str
    entries: tuple[_ItemView, ...]


def _newest_first(entry: tuple[AlertItem, CountryHit]) -> tuple[bool, float]:
    published = entry[0].published_at
    return (published is None, 0.0 if published is None else -_as_utc(published).timestamp())


def render_digest(
    rule: Rule,
    items: Sequence[tuple[AlertItem, tuple[CountryHit, ...]]],
    *,
    day: date,
    unsubscribe_base_url: str,
    sender: str,
) -> RenderedEmail:
    """The daily digest: one section per country hit (most items first), each listing its
    items newest first (unknown times last); an item hit for two countries is in both."""
    if not items:
        raise ValueError("a digest needs at least one item")
    zone = _zone(rule.timezone)
    grouped: dict[str, list[tuple[AlertItem, CountryHit]]] = {}
    for item, hits in items:
        for hit in hits:
            entries = grouped.setdefault(hit.code.upper(), [])
            if all(seen.item_id != item.item_id for seen, _ in entries):
                entries.append((item, hit))
    ordered = sorted(grouped.values(), key=len, reverse=True)  # stable: ties keep first-seen
    sections = []
    for entries in ordered:
        entries.sort(key=_newest_first)
        first_hit = entries[0][1]
        sections.append(
            _Section(
                code=first_hit.code.upper(),
                name=clean_line(first_hit.name) or first_hit.code,
                entries=tuple(_item_view(item, (hit,), zone) for item, hit in entries),
            )
        )
    summary = _country_list(
        [entries[0][1] for entries in ordered],
        DIGEST_SUBJECT_COUNTRIES,
        [len(entries) for entries in ordered],
    )
    subject = clean_header(
        f"{SUBJECT_PREFIX} Digest for {_format_day(day)}: {summary}", MAX_SUBJECT
    )
    context = {
        "rule_name": clean_line(rule.name),
        "day": _format_day(day),
        "timezone": rule.timezone if zone is not UTC else "UTC",
        "sections": sections,
        "item_count": len({item.item_id for item, _ in items}),
    }
    return _email(rule, "digest", subject, context, base=unsubscribe_base_url, sender=sender)
