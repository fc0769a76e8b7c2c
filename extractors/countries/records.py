"""The records country detection returns: mentions and per-country summaries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["name", "demonym", "capital", "city"]

KINDS: tuple[Kind, ...] = ("name", "demonym", "capital", "city")  # strongest first


@dataclass(frozen=True, slots=True)
class Mention:
    """One country mention; `surface` is `text[start:end]` of the text given to detect()."""

    country: str
    start: int
    end: int
    surface: str
    kind: Kind


@dataclass(frozen=True, slots=True)
class CountrySummary:
    """Per-country digest of a document's mentions, for ranking and display."""

    country: str
    count: int
    first_offset: int
    snippet: str
    kind: Kind
    salience: float
