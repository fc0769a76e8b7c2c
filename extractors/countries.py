"""Country mentions in text: a gazetteer matched with Aho-Corasick on word boundaries.

The gazetteer is `config/gazetteer/generated.tsv` (library names, demonyms, capitals and
cities with their inflections; rebuilt by `python -m config.gazetteer.generate`) plus the
hand-written YAML next to it: aliases, demonyms, capitals and cities the libraries lack,
blockers (longer phrases that hide a shorter name: "Niger Delta", "New Mexico"), exclusions,
case rules and given names, and `demonyms_i18n.yaml` when present. It is loaded once, lazily.

Matching runs on a copy of the text that is lower-cased and has every character that is not a
letter, digit or space replaced by a space, without changing its length. Aliases are stored
with a space on each side, so the automaton reports only whole-word matches and Python sees
few candidates ("oman" in "woman" is never reported). Aliases in scripts written without spaces
(Chinese, Japanese, Thai, Korean) are stored bare and may match inside a run of letters.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
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
_GENERATED = "generated.tsv"
_I18N_DEMONYMS = "demonyms_i18n.yaml"
_LEAD_CHARS = 300
_ANY = ""  # language of entries valid in every language (blockers)
_ENGLISH = "en"

# Scripts written without spaces between words: a name there is matched inside a run of
# letters ("日本外务省"), so its key gets no boundary spaces.
_UNSPACED = re.compile("[\u0e00-\u0eff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")

# Everything but letters, digits, "_" and the space becomes a space (one for one).
_NON_WORD = re.compile(r"[^\w ]")
# After that, a character past Latin (Greek, Cyrillic, Arabic, Han...) is a letter of another
# script. The second automaton runs only over runs of such words (with their neighbours).
_OTHER_SCRIPT = re.compile(r"[^\x00-\u036f]")
_OTHER_RUN = re.compile(r"[^\x00-\u036f]+(?: +[^\x00-\u036f]+)*")

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


class _Entry:
    """One reading of a key: which country (None for a blocker), how, in which language."""

    __slots__ = (
        "case_sensitive",
        "country",
        "given_name",
        "kind",
        "language",
        "shadowed",
        "shape",
        "surname",
        "upper",
    )

    def __init__(
        self,
        text: str,
        country: str | None,
        kind: Kind,
        language: str,
        case_sensitive: bool = False,
        given_name: bool = False,
    ) -> None:
        self.country = country
        self.kind = kind
        self.language = language
        self.upper = text.isupper()
        self.case_sensitive = case_sensitive or self.upper  # "US" is never "us"
        self.given_name = given_name
        self.surname = False
        self.shadowed = False  # another language's reading of an English key: needs its hint
        self.shape = _NON_WORD.sub(" ", text)  # compared with the surface when case matters

    def _identity(self) -> tuple[Any, ...]:
        return (
            self.country,
            self.kind,
            self.language,
            self.case_sensitive,
            self.given_name,
            self.shape,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Entry) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def __repr__(self) -> str:
        return f"_Entry({self.shape!r}, {self.country}, {self.kind}, {self.language!r})"


@dataclass(frozen=True, slots=True)
class _Gazetteer:
    latin: Any  # automaton of keys in Latin script (and digits): run on every text
    other: Any  # automaton of keys in other scripts: run only when the text has such letters
    keys: Mapping[str, tuple[_Entry, ...]]  # normalised alias (no padding) -> readings
    languages: frozenset[str]
    sentence_words: frozenset[str]  # capitalised words that do not make a name a surname


def _fold(text: str) -> str:
    """Lower-case `text` without changing its length, so offsets stay aligned."""
    lowered = text.lower()
    if len(lowered) == len(text):  # str.lower never shortens a character
        return lowered
    return "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)


def _normalise(text: str) -> str:
    return _NON_WORD.sub(" ", _fold(text))


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    )


def _read(name: str) -> dict[str, Any]:
    path = _GAZETTEER_DIR / name
    if not path.exists():
        return {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available
    with path.open(encoding="utf-8") as handle:
        return cast(dict[str, Any], yaml.load(handle, Loader=loader) or {})  # noqa: S506


def _generated() -> Iterator[tuple[str, str, Kind, str, bool]]:
    with (_GAZETTEER_DIR / _GENERATED).open(encoding="utf-8") as handle:
        next(handle)  # header
        for line in handle:
            alias, country, kind, language, flags = line.rstrip("\n").split("\t")
            yield alias, country, cast(Kind, kind), language, "cs" in flags.split(",")


def _english_plural(word: str) -> str | None:
    from config.gazetteer.generate import EN_PLURALS  # a table only; no library imports

    for ending, plural in EN_PLURALS:
        if word.endswith(ending):
            return word[: -len(ending)] + plural
    return None


def _curated_entries(
    data: Mapping[str, Sequence[str | Mapping[str, Any]]], kind: Kind, *, plurals: bool = False
) -> Iterator[tuple[str, _Entry]]:
    """YAML groups (code -> entries; code "none" for blockers) -> (alias text, entry)."""
    for code, items in data.items():
        country = None if code == "none" else str(code)
        for item in items:
            if isinstance(item, str):
                item = {"text": item}
            text = str(item["text"])
            entry_kind = cast(Kind, item.get("kind", kind))
            language = str(item.get("language", _ANY if country is None else _ENGLISH))
            flags = (bool(item.get("case_sensitive", False)), bool(item.get("given_name", False)))
            texts = {text}
            if plurals and entry_kind == "demonym" and (plural := _english_plural(text)):
                texts.add(plural)
            if item.get("accent_variant", True):
                texts |= {_strip_accents(t) for t in texts}
            for form in sorted(texts):
                yield form, _Entry(form, country, entry_kind, language, *flags)


def _language_uses(spec: Mapping[str, Sequence[str]]) -> Iterator[tuple[str, _Entry]]:
    """Blockers for a demonym used as a language name: "in Spanish", "Portuguese-language"."""
    for word in spec.get("words", []):
        phrases = [f"{cue} {word}" for cue in spec.get("before", [])]
        phrases += [f"{word}{cue}" for cue in spec.get("after", [])]
        for phrase in phrases:
            yield phrase, _Entry(phrase, None, "city", _ANY, False, False)


def _curated() -> Iterator[tuple[str, _Entry]]:
    blockers = _read("blockers.yaml")
    yield from _curated_entries(blockers.get("blockers", {}), "city")
    yield from _language_uses(blockers.get("language_uses", {}))
    yield from _curated_entries(_read("aliases.yaml").get("names", {}), "name")
    yield from _curated_entries(_read("demonyms.yaml").get("demonyms", {}), "demonym", plurals=True)
    capitals = _read("capitals.yaml")
    yield from _curated_entries(capitals.get("capitals", {}), "capital")
    yield from _curated_entries(capitals.get("cities", {}), "city")


def _i18n_demonyms() -> Iterator[tuple[str, _Entry]]:
    for language, groups in sorted(_read(_I18N_DEMONYMS).items()):
        for code, forms in sorted((groups or {}).items()):
            for form in forms or []:
                yield str(form), _Entry(str(form), str(code), "demonym", str(language))


def _load() -> _Gazetteer:
    rules = _read("case_rules.yaml")
    case_sensitive = {_normalise(t) for t in rules.get("case_sensitive", [])}
    given_names = {_normalise(t) for t in rules.get("given_names", [])}
    surnames = {_normalise(t) for t in rules.get("surnames", [])}
    excluded = {_normalise(t) for t in _read("aliases.yaml").get("exclude", [])}

    table: dict[str, list[_Entry]] = {}
    curated_keys: set[str] = set()

    def add(text: str, entry: _Entry, key: str | None = None) -> None:
        key = _normalise(text) if key is None else key
        if not key.strip():
            return
        held = table.setdefault(key, [])
        if entry not in held:
            held.append(entry)

    # Hand-written entries come first and replace whatever the generated file says about the
    # same key; demonyms_i18n next; the generated rows last.
    for text, entry in _curated():
        add(text, entry)
    curated_keys.update(table)
    for text, entry in _i18n_demonyms():
        if _normalise(text) not in curated_keys:
            add(text, entry)
    languages = {_ENGLISH}
    for alias, country, kind, language, cs in _generated():
        key = _normalise(alias)
        languages.add(language)
        if key in curated_keys or key in excluded:
            continue
        add(alias, _Entry(alias, country, kind, language, cs), key)

    latin, other = ahocorasick.Automaton(), ahocorasick.Automaton()
    keys: dict[str, tuple[_Entry, ...]] = {}
    for key, entries in table.items():
        if key in excluded and key not in curated_keys:
            continue
        english = any(e.language in (_ENGLISH, _ANY) for e in entries)
        for entry in entries:
            # "china" (Spanish for Chinese) is only read so when the text is said to be Spanish:
            # the English reading of the key decides otherwise.
            entry.shadowed = english and entry.language not in (_ENGLISH, _ANY)
            if key in case_sensitive:
                entry.case_sensitive = True
            if key in given_names:
                entry.given_name = True
            if key in surnames:
                entry.surname = True
        # Blockers first, then English, then names before demonyms before places.
        ordered = tuple(
            sorted(
                entries,
                key=lambda e: (
                    e.country is not None,
                    e.language not in (_ENGLISH, _ANY),
                    _KINDS.index(e.kind),
                ),
            )
        )
        keys[key] = ordered
        length = len(key)
        automaton = other if _OTHER_SCRIPT.search(key) else latin
        if automaton is other and _UNSPACED.search(key):
            automaton.add_word(key, (length, 0, ordered))
        else:
            automaton.add_word(f" {key} ", (length, -1, ordered))
    latin.make_automaton()
    if len(other):
        other.make_automaton()
    logger.debug("country gazetteer: %d keys", len(keys))
    sentence_words = frozenset(str(word) for word in rules.get("sentence_words", []))
    return _Gazetteer(latin, other, keys, frozenset(languages), sentence_words)


@functools.cache
def _gazetteer() -> _Gazetteer:
    return _load()


def _allowed(language: str | None, known: frozenset[str]) -> frozenset[str] | None:
    """Languages whose entries may match: all (None) without a hint, else English + hint."""
    if not language:
        return None
    code = language.replace("_", "-").split("-")[0].lower()
    return frozenset({_ENGLISH, _ANY} | ({code} & known))


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
    entries: Iterable[_Entry],
    allowed: frozenset[str] | None,
    sentence_words: frozenset[str],
) -> _Entry | None:
    surface = text[start:end]
    for entry in entries:
        if (entry.language not in allowed) if allowed is not None else entry.shadowed:
            continue
        # Headlines in capitals still match "TURKEY", but "US" never matches "us".
        if (
            entry.case_sensitive
            and surface != entry.shape
            and _NON_WORD.sub(" ", surface) != entry.shape
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
) -> list[Mention]:
    """Mentions in `text` (title is accepted for API stability and ignored here), sorted by
    start; `countries` restricts output to those codes (None = all). With a `language` hint
    ("fr", "pt-BR") English and that language are searched, without one every language."""
    del title
    gazetteer = _gazetteer()
    allowed = _allowed(language, gazetteer.languages)
    wanted = None if countries is None else {code.upper() for code in countries}
    candidates: list[tuple[int, int, _Entry]] = []
    haystack = f" {_normalise(text)} "
    # (automaton, piece of the haystack, offset of the piece in the haystack)
    passes: list[tuple[Any, str, int]] = [(gazetteer.latin, haystack, 0)]
    if len(gazetteer.other):
        passes += [
            (gazetteer.other, haystack[run.start() - 1 : run.end() + 1], run.start() - 1)
            for run in _OTHER_RUN.finditer(haystack)
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
        mentions.append(Mention(entry.country, start, reached, text[start:reached], entry.kind))
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
