"""Country mentions in text: a curated gazetteer matched with Aho-Corasick on word boundaries."""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import ahocorasick
import yaml

import config

logger = logging.getLogger(__name__)

Kind = Literal["name", "demonym", "capital", "city"]

_KINDS: tuple[Kind, ...] = ("name", "demonym", "capital", "city")  # strongest first
_GAZETTEER_DIR = Path(config.__file__).parent / "gazetteer"
_LEAD_CHARS = 300
_ALL_LANGUAGES = "*"

# Priorities when two sources give the same (lower-cased) alias: the higher one wins.
_BABEL, _PYCOUNTRY, _CURATED, _BLOCKER = range(4)

# Scripts written without spaces between words: a name there is matched inside a run of
# letters ("日本外务省"), so the word-boundary check is skipped for aliases in them.
_UNSPACED_RANGES = ((0x0E00, 0x0EFF), (0x3040, 0x30FF), (0x3400, 0x9FFF), (0xAC00, 0xD7AF))

# A sentence ends at a newline, or at . ! ? (and closing quotes) followed by space and a
# character that is not a lower-case ASCII letter ("U.S. officials" does not end one).
_SENTENCE_END = re.compile(r"\n|[.!?…]+[\"'”’»)\]]*\s+(?=[^\sa-z])")


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


@dataclass(frozen=True, slots=True)
class _Alias:
    text: str
    country: str | None  # None: a blocker that hides shorter aliases inside it
    kind: Kind
    case_sensitive: bool = False
    given_name: bool = False


def _fold(text: str) -> str:
    """Lower-case `text` without changing its length, so offsets stay aligned."""
    lowered = text.lower()
    if len(lowered) == len(text):  # str.lower never shortens a character
        return lowered
    return "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    )


def _is_unspaced(text: str) -> bool:
    return any(lo <= ord(ch) <= hi for ch in text for lo, hi in _UNSPACED_RANGES)


@functools.cache
def _read(name: str) -> dict[str, Any]:
    with (_GAZETTEER_DIR / name).open(encoding="utf-8") as handle:
        return cast(dict[str, Any], yaml.safe_load(handle))


def _parse(entry: str | Mapping[str, Any], country: str | None, kind: Kind) -> tuple[_Alias, bool]:
    """One YAML entry -> alias, and whether to add its accent-stripped variant."""
    if isinstance(entry, str):
        return _Alias(entry, country, kind), True
    alias = _Alias(
        str(entry["text"]),
        country,
        cast(Kind, entry.get("kind", kind)),
        bool(entry.get("case_sensitive", False)),
        bool(entry.get("given_name", False)),
    )
    return alias, bool(entry.get("accent_variant", True))


def _section(
    groups: Mapping[str, Sequence[str | Mapping[str, Any]]], kind: Kind
) -> Iterator[tuple[_Alias, bool]]:
    for code, entries in groups.items():
        country = None if code == "none" else code
        for entry in entries:
            yield _parse(entry, country, kind)


def _variants(alias: _Alias, accents: bool) -> Iterator[_Alias]:
    texts = {alias.text, _strip_accents(alias.text)} if accents else {alias.text}
    for text in list(texts):
        texts.add(text.replace("'", "’"))
        texts.add(text.replace("’", "'"))
    for text in sorted(texts):
        yield _Alias(text, alias.country, alias.kind, alias.case_sensitive, alias.given_name)


def _plurals(alias: _Alias) -> Iterator[_Alias]:
    yield alias
    if alias.text.endswith(("an", "i")):
        yield _Alias(alias.text + "s", alias.country, alias.kind, alias.case_sensitive)


def _pycountry_names() -> Iterator[tuple[_Alias, bool]]:
    import pycountry  # only needed while the gazetteer is built (as is babel)

    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            if name := getattr(country, attr, None):
                yield _Alias(str(name), str(country.alpha_2), "name"), True


def _inflect(name: str, spec: Mapping[str, Any]) -> Iterator[str]:
    if " " in name or "-" in name:
        return
    for rule in spec["rules"]:
        ending = str(rule["ending"])
        if ending and name.endswith(ending):
            stem = name[: -len(ending)]
        elif not ending and name[-1] not in str(spec.get("invariable", "")):
            stem = name
        else:
            continue
        yield from (stem + str(form) for form in rule["forms"])
        return


def _babel_names(languages: Sequence[str]) -> Iterator[tuple[_Alias, bool]]:
    import pycountry
    from babel import Locale

    data = _read("languages.yaml")
    excluded = {_fold(name) for name in data.get("exclude", [])}
    inflections: Mapping[str, Mapping[str, Any]] = data.get("inflections", {})
    # CLDR also names regions, pseudo-locales and non-ISO territories ("Diego Garcia").
    codes = {str(country.alpha_2) for country in pycountry.countries} | {"XK"}
    for language in languages:
        spec = inflections.get(language)
        for code, label in Locale.parse(language).territories.items():
            if code not in codes:
                continue
            # CLDR writes "Myanmar (Burma)", "Congo - Kinshasa", "Saint-Martin (partie ...)".
            base, _, extra = str(label).replace(" - ", "-").partition(" (")
            extra = extra.rstrip(")").strip()
            for name in (base.strip(), extra if extra[:1].isupper() else ""):
                if not name or _fold(name) in excluded:
                    continue
                yield _Alias(name, code, "name", case_sensitive=True), False
                if spec is not None:
                    for form in _inflect(name, spec):
                        yield _Alias(form, code, spec["kind"], case_sensitive=True), False


def _curated() -> Iterator[tuple[int, _Alias, bool]]:
    for alias, accents in _section(_read("aliases.yaml")["names"], "name"):
        yield _CURATED, alias, accents
    for alias, accents in _section(_read("demonyms.yaml")["demonyms"], "demonym"):
        for plural in _plurals(alias):
            yield _CURATED, plural, accents
    capitals = _read("capitals.yaml")
    for alias, accents in _section(capitals["capitals"], "capital"):
        yield _CURATED, alias, accents
    for alias, accents in _section(capitals["cities"], "city"):
        yield _CURATED, alias, accents
    for alias, accents in _section(_read("blockers.yaml")["blockers"], "city"):
        yield _BLOCKER, alias, accents


def _build_table(languages: Sequence[str]) -> dict[str, list[_Alias]]:
    """Folded alias -> its entries, after priorities and exclusions are applied."""
    excluded = {_fold(name) for name in _read("aliases.yaml").get("exclude", [])}
    table: dict[str, tuple[int, list[_Alias]]] = {}

    def add(priority: int, alias: _Alias, accents: bool) -> None:
        for variant in _variants(alias, accents):
            key = _fold(variant.text)
            if priority < _CURATED and key in excluded:
                continue
            held = table.get(key)
            if held is None or priority > held[0]:
                table[key] = (priority, [variant])
            elif priority == held[0] and variant not in held[1]:
                if all(other.country == variant.country for other in held[1]):
                    held[1].append(variant)  # same country, another casing or flag set
                elif priority >= _CURATED:
                    raise ValueError(f"gazetteer: {variant.text!r} maps to two countries")

    for alias, accents in _babel_names(languages):
        add(_BABEL, alias, accents)
    for alias, accents in _pycountry_names():
        add(_PYCOUNTRY, alias, accents)
    for priority, alias, accents in _curated():
        add(priority, alias, accents)
    return {key: entries for key, (_, entries) in table.items()}


@functools.cache
def _automaton(language: str) -> Any:
    configured: list[str] = list(_read("languages.yaml")["languages"])
    languages = configured if language == _ALL_LANGUAGES else [language]
    table = _build_table([code for code in languages if code in configured])
    automaton = ahocorasick.Automaton()
    for key, entries in table.items():
        automaton.add_word(key, (len(key), not _is_unspaced(key), tuple(entries)))
    automaton.make_automaton()
    logger.debug("country gazetteer for %s: %d aliases", language, len(table))
    return automaton


def _language_key(language: str | None) -> str:
    if not language:
        return _ALL_LANGUAGES
    return language.replace("_", "-").split("-")[0].lower()


def _accept(text: str, start: int, end: int, entries: tuple[_Alias, ...]) -> _Alias | None:
    surface = text[start:end]
    for alias in entries:
        # Headlines in capitals still match "TURKEY", but "US" never matches "us".
        if (
            alias.case_sensitive
            and surface != alias.text
            and (alias.text.isupper() or not surface.isupper())
        ):
            continue
        if alias.given_name and text[end : end + 1] == " " and text[end + 1 : end + 2].isupper():
            continue  # "Chad Smith", "Georgia Tech": a name followed by a surname
        return alias
    return None


def detect(
    text: str,
    *,
    title: str | None = None,
    language: str | None = None,
    countries: Collection[str] | None = None,
) -> list[Mention]:
    """Mentions in `text` (title is accepted for API stability and ignored here), sorted by
    start; `countries` restricts output to those codes (None = all)."""
    del title
    automaton = _automaton(_language_key(language))
    wanted = None if countries is None else {code.upper() for code in countries}
    size = len(text)
    candidates: list[tuple[int, int, _Alias]] = []
    for last, (length, bounded, entries) in automaton.iter(_fold(text)):
        end = last + 1
        start = end - length
        if bounded and (
            (start > 0 and text[start - 1].isalnum()) or (end < size and text[end].isalnum())
        ):
            continue
        alias = _accept(text, start, end, entries)
        if alias is not None:
            candidates.append((start, -end, alias))
    candidates.sort(key=lambda c: (c[0], c[1]))
    mentions: list[Mention] = []
    reached = 0
    for start, neg_end, alias in candidates:
        if start < reached:
            continue  # overlaps a longer (or earlier) match: leftmost-longest wins
        reached = -neg_end
        if alias.country is None or (wanted is not None and alias.country not in wanted):
            continue
        mentions.append(Mention(alias.country, start, reached, text[start:reached], alias.kind))
    return mentions


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    lo = 0
    for boundary in _SENTENCE_END.finditer(text, max(0, start - 2000), start + 1):
        if boundary.end() <= start:
            lo = boundary.end()
    after = _SENTENCE_END.search(text, end)
    hi = after.start() + len(after.group().rstrip()) if after else len(text)
    while lo < start and text[lo].isspace():
        lo += 1
    while hi > end and text[hi - 1].isspace():
        hi -= 1
    return lo, hi


def _snippet(text: str, mention: Mention, max_chars: int) -> str:
    lo, hi = _sentence(text, mention.start, mention.end)
    if hi - lo > max_chars:
        budget = max(max_chars - 2, mention.end - mention.start)  # room for two ellipses
        left = max(lo, mention.start - (budget - (mention.end - mention.start)) // 2)
        right = min(hi, left + budget)
        left = max(lo, right - budget)
        # Cut at spaces so words are not split, as long as the mention stays inside.
        if left > lo and (space := text.find(" ", left, mention.start)) != -1:
            left = space + 1
        if right < hi and (space := text.rfind(" ", mention.end, right)) != -1:
            right = space
        body = text[left:right].strip()
        text_out = ("…" if left > lo else "") + body + ("…" if right < hi else "")
        return " ".join(text_out.split())
    return " ".join(text[lo:hi].split())


def summarize(
    text: str,
    mentions: Sequence[Mention],
    *,
    title: str | None = None,
    snippet_chars: int = 240,
) -> list[CountrySummary]:
    """One summary per country, most salient first."""
    by_country: dict[str, list[Mention]] = {}
    for mention in sorted(mentions, key=lambda m: (m.start, m.end)):
        by_country.setdefault(mention.country, []).append(mention)
    if not by_country:
        return []
    in_title = {m.country for m in detect(title)} if title else set()
    most = max(len(found) for found in by_country.values())
    summaries = []
    for country, found in by_country.items():
        first = found[0]
        # Title 0.35, lead 0.25, frequency relative to the most mentioned country 0.4.
        salience = (
            0.35 * (country in in_title)
            + 0.25 * (first.start < _LEAD_CHARS)
            + 0.4 * len(found) / most
        )
        summaries.append(
            CountrySummary(
                country=country,
                count=len(found),
                first_offset=first.start,
                snippet=_snippet(text, first, snippet_chars),
                kind=min((m.kind for m in found), key=_KINDS.index),
                salience=round(salience, 4),
            )
        )
    summaries.sort(key=lambda s: (-s.salience, s.first_offset, s.country))
    return summaries
