"""The country gazetteer: every alias with its readings, in two Aho-Corasick automata.

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

import logging
import re
import threading
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import ahocorasick
import yaml

import config
from extractors.countries.records import KINDS, Kind

logger = logging.getLogger(__name__)

GAZETTEER_DIR = Path(config.__file__).parent / "gazetteer"
_GENERATED = "generated.tsv"
_I18N_DEMONYMS = "demonyms_i18n.yaml"
ANY = ""  # language of entries valid in every language (blockers)
ENGLISH = "en"

# Scripts written without spaces between words: a name there is matched inside a run of
# letters ("日本外务省"), so its key gets no boundary spaces.
_UNSPACED = re.compile("[\u0e00-\u0eff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")

# Everything but letters, digits, "_" and the space becomes a space (one for one).
NON_WORD = re.compile(r"[^\w ]")
# After that, a character past Latin (Greek, Cyrillic, Arabic, Han...) is a letter of another
# script. The second automaton runs only over runs of such words (with their neighbours).
_OTHER_SCRIPT = re.compile(r"[^\x00-\u036f]")
OTHER_RUN = re.compile(r"[^\x00-\u036f]+(?: +[^\x00-\u036f]+)*")


class Entry:
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
        self.shape = NON_WORD.sub(" ", text)  # compared with the surface when case matters

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
        return isinstance(other, Entry) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def __repr__(self) -> str:
        return f"Entry({self.shape!r}, {self.country}, {self.kind}, {self.language!r})"


@dataclass(frozen=True, slots=True)
class Gazetteer:
    latin: Any  # automaton of keys in Latin script (and digits): run on every text
    other: Any  # automaton of keys in other scripts: run only when the text has such letters
    keys: Mapping[str, tuple[Entry, ...]]  # normalised alias (no padding) -> readings
    languages: frozenset[str]
    sentence_words: frozenset[str]  # capitalised words that do not make a name a surname


def _fold(text: str) -> str:
    """Lower-case `text` without changing its length, so offsets stay aligned."""
    lowered = text.lower()
    if len(lowered) == len(text):  # str.lower never shortens a character
        return lowered
    return "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)


def normalise(text: str) -> str:
    return NON_WORD.sub(" ", _fold(text))


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    )


def _read(name: str) -> dict[str, Any]:
    path = GAZETTEER_DIR / name
    if not path.exists():
        return {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available
    with path.open(encoding="utf-8") as handle:
        return cast(dict[str, Any], yaml.load(handle, Loader=loader) or {})  # noqa: S506


def _generated() -> Iterator[tuple[str, str, Kind, str, bool]]:
    with (GAZETTEER_DIR / _GENERATED).open(encoding="utf-8") as handle:
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
) -> Iterator[tuple[str, Entry]]:
    """YAML groups (code -> entries; code "none" for blockers) -> (alias text, entry)."""
    for code, items in data.items():
        country = None if code == "none" else str(code)
        for item in items:
            if isinstance(item, str):
                item = {"text": item}
            text = str(item["text"])
            entry_kind = cast(Kind, item.get("kind", kind))
            language = str(item.get("language", ANY if country is None else ENGLISH))
            flags = (bool(item.get("case_sensitive", False)), bool(item.get("given_name", False)))
            texts = {text}
            if plurals and entry_kind == "demonym" and (plural := _english_plural(text)):
                texts.add(plural)
            if item.get("accent_variant", True):
                texts |= {_strip_accents(t) for t in texts}
            for form in sorted(texts):
                yield form, Entry(form, country, entry_kind, language, *flags)


def _language_uses(spec: Mapping[str, Sequence[str]]) -> Iterator[tuple[str, Entry]]:
    """Blockers for a demonym used as a language name: "in Spanish", "Portuguese-language"."""
    for word in spec.get("words", []):
        phrases = [f"{cue} {word}" for cue in spec.get("before", [])]
        phrases += [f"{word}{cue}" for cue in spec.get("after", [])]
        for phrase in phrases:
            yield phrase, Entry(phrase, None, "city", ANY, False, False)


def _curated() -> Iterator[tuple[str, Entry]]:
    blockers = _read("blockers.yaml")
    yield from _curated_entries(blockers.get("blockers", {}), "city")
    yield from _language_uses(blockers.get("language_uses", {}))
    yield from _curated_entries(_read("aliases.yaml").get("names", {}), "name")
    yield from _curated_entries(_read("demonyms.yaml").get("demonyms", {}), "demonym", plurals=True)
    capitals = _read("capitals.yaml")
    yield from _curated_entries(capitals.get("capitals", {}), "capital")
    yield from _curated_entries(capitals.get("cities", {}), "city")


def _i18n_demonyms() -> Iterator[tuple[str, Entry]]:
    for language, groups in sorted(_read(_I18N_DEMONYMS).items()):
        for code, forms in sorted((groups or {}).items()):
            for form in forms or []:
                yield str(form), Entry(str(form), str(code), "demonym", str(language))


_build_lock = threading.Lock()
_built: Gazetteer | None = None


def load_gazetteer() -> Gazetteer:
    """The gazetteer, built from config/gazetteer/ on first use (about half a second).

    Built once per process: the tasks of a Prefect run ask for it from several threads at
    the same moment, and each would otherwise build its own copy, holding the GIL seconds.
    Once built, a call (one per detect()) is a plain read, no lock.
    """
    global _built
    if _built is None:
        with _build_lock:
            if _built is None:
                _built = _build_gazetteer()
    return _built


def _build_gazetteer() -> Gazetteer:
    rules = _read("case_rules.yaml")
    case_sensitive = {normalise(t) for t in rules.get("case_sensitive", [])}
    given_names = {normalise(t) for t in rules.get("given_names", [])}
    surnames = {normalise(t) for t in rules.get("surnames", [])}
    excluded = {normalise(t) for t in _read("aliases.yaml").get("exclude", [])}

    table: dict[str, list[Entry]] = {}
    curated_keys: set[str] = set()

    def add(text: str, entry: Entry, key: str | None = None) -> None:
        key = normalise(text) if key is None else key
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
        if normalise(text) not in curated_keys:
            add(text, entry)
    languages = {ENGLISH}
    for alias, country, kind, language, cs in _generated():
        key = normalise(alias)
        languages.add(language)
        if key in curated_keys or key in excluded:
            continue
        add(alias, Entry(alias, country, kind, language, cs), key)

    latin, other = ahocorasick.Automaton(), ahocorasick.Automaton()
    keys: dict[str, tuple[Entry, ...]] = {}
    for key, entries in table.items():
        if key in excluded and key not in curated_keys:
            continue
        english = any(e.language in (ENGLISH, ANY) for e in entries)
        for entry in entries:
            # "china" (Spanish for Chinese) is only read so when the text is said to be Spanish:
            # the English reading of the key decides otherwise.
            entry.shadowed = english and entry.language not in (ENGLISH, ANY)
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
                    e.language not in (ENGLISH, ANY),
                    KINDS.index(e.kind),
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
    return Gazetteer(latin, other, keys, frozenset(languages), sentence_words)
