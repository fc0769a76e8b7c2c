"""Which items a subscriber's rule selects, and reading the countries of a watch list.

Pure functions: no database, no network. Keyword semantics (``Rule.keywords``): blank
keywords are ignored; matching is case-insensitive (casefold) over the title and the text;
a keyword without whitespace must occur as a whole word ("Iran" does not match "Iranian",
"cease-fire" and "U.S." work as written); a keyword containing whitespace is a phrase,
matched as a substring with runs of whitespace treated as one space ("peace talks" matches
"Peace\\n talks" and "peace talkshow"). Any one keyword is enough.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable

import pycountry

from alerts.records import AlertItem, CountryHit, Rule
from extractors.countries import detect

__all__ = ["keyword_matches", "matches", "parse_countries"]

# ISO 3166-1 user-assigned codes that newsdesk knows as countries (pycountry does not).
EXTRA_CODES = frozenset({"XK"})

_WHITESPACE = re.compile(r"\s+")
_FILLER = set(string.whitespace + string.punctuation + "“”‘’«»")


def matches(rule: Rule, item: AlertItem) -> tuple[CountryHit, ...]:
    """The watched countries of `item` that satisfy `rule`, most salient first; () if none."""
    if rule.source_kinds and item.source_kind not in rule.source_kinds:
        return ()
    if rule.source_ids and item.source_id not in rule.source_ids:
        return ()
    watched = {code.upper() for code in rule.countries}
    hits = [
        hit
        for hit in item.countries
        if hit.code.upper() in watched and hit.salience >= rule.min_salience
    ]
    if not hits:
        return ()
    if rule.keywords and not keyword_matches(rule.keywords, f"{item.title}\n{item.text}"):
        return ()
    hits.sort(key=lambda hit: hit.salience, reverse=True)  # stable: ties keep item order
    return tuple(hits)


def hits_for(rule: Rule, item: AlertItem) -> tuple[CountryHit, ...]:
    """What an email about ``item`` names for this subscriber.

    The matching countries; for a delivery queued before the rule changed, the watched ones
    the item still mentions, or else every country it mentions.
    """
    watched = {code.upper() for code in rule.countries}
    return (
        matches(rule, item)
        or tuple(hit for hit in item.countries if hit.code.upper() in watched)
        or item.countries
    )


def keyword_matches(keywords: Iterable[str], text: str) -> bool:
    """True when any non-blank keyword occurs in `text` (see the module docstring)."""
    haystack = _WHITESPACE.sub(" ", text).casefold()
    wanted = [_WHITESPACE.sub(" ", keyword).strip().casefold() for keyword in keywords]
    wanted = [keyword for keyword in wanted if keyword]
    if not wanted:
        return True  # only blank keywords: no keyword condition
    for keyword in wanted:
        if " " in keyword:
            if keyword in haystack:
                return True
        elif re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", haystack):
            return True
    return False


def parse_countries(values: Iterable[str]) -> list[str]:
    """ISO alpha-2 codes for codes ("SY", "sy") or English names ("Syria"), deduplicated.

    Raises ValueError naming the first value that is neither a known code nor exactly one
    country's name.
    """
    codes: list[str] = []
    for value in values:
        code = _parse_country(value)
        if code not in codes:
            codes.append(code)
    return codes


def _parse_country(value: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise ValueError(f"empty country value {value!r}")
    if len(cleaned) == 2 and cleaned.isascii() and cleaned.isalpha():
        code = cleaned.upper()
        if _known_code(code):
            return code
    mentions = detect(cleaned, kinds=["name"])
    if len(mentions) == 1:  # one name, covering the value but for "the" and punctuation
        mention = mentions[0]
        rest = f"{cleaned[: mention.start]} {cleaned[mention.end :]}".casefold()
        if "".join(ch for ch in rest if ch not in _FILLER) in ("", "the"):
            return mention.country
    raise ValueError(f"unknown country {value!r}")


def _known_code(code: str) -> bool:
    if code in EXTRA_CODES:
        return True
    try:
        return pycountry.countries.get(alpha_2=code) is not None
    except (KeyError, LookupError):  # older pycountry raised instead of returning None
        return False
