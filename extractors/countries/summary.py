"""Per-country summaries of a document's mentions: count, first offset, snippet, salience."""

from __future__ import annotations

import re
from collections.abc import Sequence

from extractors.countries.matcher import detect
from extractors.countries.records import KINDS, CountrySummary, Mention

_LEAD_CHARS = 300

# A sentence ends at a newline, or at . ! ? (and closing quotes) followed by space and a
# character that is not a lower-case ASCII letter ("U.S. officials" does not end one).
_SENTENCE_END = re.compile(r"\n|[.!?…]+[\"'”’»)\]]*\s+(?=[^\sa-z])")


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
                kind=min((m.kind for m in found), key=KINDS.index),
                salience=round(salience, 4),
            )
        )
    summaries.sort(key=lambda s: (-s.salience, s.first_offset, s.country))
    return summaries
