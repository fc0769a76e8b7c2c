"""Plain records passed into and out of the repository, free of ORM sessions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class FeedToPoll:
    """A due source with the validators its last successful fetch returned."""

    source_id: str
    feed_url: str
    poll_interval: int
    etag: str | None = None
    last_modified: str | None = None
    source_type: str = "feed"  # feed | sitemap | listing
    options: dict[str, Any] = field(default_factory=dict, compare=False)
    # For labels (Prefect tags): what kind of publisher, and from where.
    kind: str = field(default="", compare=False)
    country: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class SourceWork:
    """A source with items waiting to be processed, labelled like FeedToPoll."""

    source_id: str
    pending: int
    kind: str = ""
    country: str = ""


@dataclass(frozen=True, slots=True)
class NewItem:
    """A feed entry ready to be stored as a pending item."""

    url: str
    guid: str | None
    title: str | None
    summary: str | None
    author: str | None
    published_at: datetime | None
    language: str | None


@dataclass(frozen=True, slots=True)
class ClaimedItem:
    """An item a worker holds a lease on."""

    id: int
    source_id: str
    url: str
    title: str | None
    summary: str | None
    language: str | None
    attempts: int
    claim_token: str


@dataclass(frozen=True, slots=True)
class CountryRow:
    """One country an item mentions, as stored."""

    country: str
    count: int
    first_offset: int
    snippet: str
    kind: str
    salience: float
    spans: list[list[int | str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ProcessedItem:
    """What processing learnt about an item; stored in one transaction."""

    text: str
    text_source: str
    content_hash: str
    countries: tuple[CountryRow, ...]
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    language: str | None = None
    # Why the page was not used, when the text is the feed summary.
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ItemView:
    """An item as the CLI shows it."""

    id: int
    source_id: str
    url: str
    title: str | None
    published_at: datetime | None
    discovered_at: datetime
    status: str
    text_source: str | None
    countries: tuple[str, ...]
    error: str | None
