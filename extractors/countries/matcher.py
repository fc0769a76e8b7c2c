"""Finding country mentions in a text with the gazetteer: leftmost-longest, with case rules."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from extractors.countries.gazetteer import (
    ANY,
    ENGLISH,
    NON_WORD,
    OTHER_RUN,
    Entry,
    load_gazetteer,
    normalise,
)
from extractors.countries.records import Kind, Mention


def _allowed(language: str | None, known: frozenset[str]) -> frozenset[str] | None:
    """Languages whose entries may match: all (None) without a hint, else English + hint."""
    if not language:
        return None
    code = language.replace("_", "-").split("-")[0].lower()
    return frozenset({ENGLISH, ANY} | ({code} & known))


def _after_name(text: str, start: int, sentence_words: frozenset[str]) -> bool:
    """Whether the word before `start` is a capitalised word such as a given name."""
    if start < 2 or text[start - 1] != " ":
        return False
    begin = start - 1
    while begin > 0 and text[begin - 1].isalpha():
        begin -= 1
    word = text[begin : start - 1]
    return bool(word) and word[0].isupper() and word not in sentence_words


def _accept(
    text: str,
    start: int,
    end: int,
    entries: Iterable[Entry],
    allowed: frozenset[str] | None,
    sentence_words: frozenset[str],
) -> Entry | None:
    surface = text[start:end]
    for entry in entries:
        if (entry.language not in allowed) if allowed is not None else entry.shadowed:
            continue
        # Headlines in capitals still match "TURKEY", but "US" never matches "us".
        if (
            entry.case_sensitive
            and surface != entry.shape
            and NON_WORD.sub(" ", surface) != entry.shape
            and (entry.upper or not surface.isupper())
        ):
            continue
        if entry.given_name and text[end : end + 1] == " " and text[end + 1 : end + 2].isupper():
            continue  # "Chad Smith", "Georgia Tech": a name followed by a surname
        if entry.surname and _after_name(text, start, sentence_words):
            continue  # "Andrew Jordan": a surname after a given name
        return entry
    return None


def detect(
    text: str,
    *,
    title: str | None = None,
    language: str | None = None,
    countries: Collection[str] | None = None,
    kinds: Collection[Kind] | None = None,
) -> list[Mention]:
    """Mentions in `text`, sorted by start.

    `countries` and `kinds` restrict the output (None: all). With a `language` hint ("fr",
    "pt-BR") English and that language are searched, without one every language. `title` is
    accepted for API stability; summarize() is what weighs the title.
    """
    del title
    gazetteer = load_gazetteer()
    allowed = _allowed(language, gazetteer.languages)
    wanted = None if countries is None else {code.upper() for code in countries}
    wanted_kinds = None if kinds is None else frozenset(kinds)
    candidates: list[tuple[int, int, Entry]] = []
    haystack = f" {normalise(text)} "
    # (automaton, piece of the haystack, offset of the piece in the haystack)
    passes: list[tuple[Any, str, int]] = [(gazetteer.latin, haystack, 0)]
    if len(gazetteer.other):
        passes += [
            (gazetteer.other, haystack[run.start() - 1 : run.end() + 1], run.start() - 1)
            for run in OTHER_RUN.finditer(haystack)
        ]
    for automaton, piece, offset in passes:
        for last, (length, shift, entries) in automaton.iter(piece):
            end = offset + last + shift
            start = end - length
            entry = _accept(text, start, end, entries, allowed, gazetteer.sentence_words)
            if entry is not None:
                candidates.append((start, -end, entry))
    candidates.sort(key=lambda c: (c[0], c[1]))
    mentions: list[Mention] = []
    reached = 0
    for start, neg_end, entry in candidates:
        if start < reached:
            continue  # overlaps a longer (or earlier) match: leftmost-longest wins
        reached = -neg_end
        if entry.country is None or (wanted is not None and entry.country not in wanted):
            continue
        if wanted_kinds is not None and entry.kind not in wanted_kinds:
            continue  # filtered after the overlap check: "New Delhi" never turns into "Delhi"
        mentions.append(Mention(entry.country, start, reached, text[start:reached], entry.kind))
    return mentions
