"""The values alert matching and rendering work on, free of the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Mode = Literal["immediate", "digest"]


@dataclass(frozen=True, slots=True)
class Rule:
    """A subscriber's watch list and filters."""

    subscriber_id: int
    email: str
    name: str
    countries: frozenset[str]  # ISO alpha-2; the item must mention at least one
    mode: Mode = "immediate"
    source_kinds: frozenset[str] = frozenset()  # empty: any kind
    source_ids: frozenset[str] = frozenset()  # empty: any source
    min_salience: float = 0.0  # a watched country must reach it in the item
    keywords: tuple[str, ...] = ()  # empty: no keyword needed; else any one, case-insensitive
    digest_hour: int = 8  # local hour of the daily digest
    timezone: str = "UTC"  # IANA name
    unsubscribe_token: str = ""


@dataclass(frozen=True, slots=True)
class CountryHit:
    """One country an item mentions, as an alert shows it."""

    code: str
    name: str  # English short name, e.g. "Syria"
    salience: float
    snippet: str  # the sentence of the first mention
    surface: str = ""  # how the text names it there (highlighted in the snippet), if known


@dataclass(frozen=True, slots=True)
class AlertItem:
    """A processed item as alerts see it."""

    item_id: int
    title: str
    url: str
    source_id: str
    source_name: str
    source_kind: str
    published_at: datetime | None
    countries: tuple[CountryHit, ...]  # most salient first
    text: str = ""  # for keyword filters
    content_hash: str | None = None


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """A message ready for SMTP: plain-text and HTML bodies plus headers."""

    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)
