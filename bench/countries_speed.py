"""Time the country detector: python -m bench.countries_speed [--mb 10] [--regex-mb 0.5].

Prints figures, asserts nothing:
- load: a fresh process imports extractors.countries and calls detect() on a tiny text
  (building the full multilingual gazetteer), then detect(..., language="en"); its peak
  memory (ru_maxrss) with the full gazetteer loaded.
- throughput on English news text (GeoWebNews article texts, or the dev sentences when that
  file is missing, repeated to --mb MB of UTF-8), one core, best of 3, for
  (a) detect(text, language="en"), (b) detect(text), (c) a bare pyahocorasick scan over the
  same alias strings (lower-casing included, every match counted, no filtering) and (d) one
  compiled ``re`` alternation of those strings (longest first, IGNORECASE, word boundaries),
  timed on a --regex-mb slice and extrapolated (a single run when it takes over 10 s).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ahocorasick

import extractors.countries as countries
from extractors.countries.gazetteer import ANY, ENGLISH, load_gazetteer

SHARED = Path(__file__).resolve().parents[2] / "shared"
DEFAULT_GWN = SHARED / "fixtures" / "countries-data" / "geowebnews_gold.jsonl"
DEFAULT_DEV = SHARED / "countries" / "dev.jsonl"

TARGET_MBPS = 10.0
TARGET_VS_AC = 0.5
TARGET_VS_REGEX = 20.0
TARGET_LOAD_S = 1.0
TARGET_MEMORY_MB = 150.0

# Run in a fresh interpreter: the cold cost of the first detect() and the peak memory.
_COLD = """
import json, resource, sys, time
began = time.perf_counter()
import extractors.countries as countries
from extractors.countries.gazetteer import ANY, ENGLISH, load_gazetteer
imported = time.perf_counter()
countries.detect("Talks in Islamabad: Pakistan and Syria agreed.")
loaded = time.perf_counter()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
countries.detect("Talks in Islamabad: Pakistan and Syria agreed.", language="en")
english = time.perf_counter()
json.dump({"import_s": imported - began, "load_s": loaded - imported,
           "english_s": english - loaded, "rss_kb": rss}, sys.stdout)
"""


def gazetteer_aliases(language: str | None = None) -> list[str]:
    """The normalised alias strings detect() matches for `language` (None: all languages)."""
    gazetteer = load_gazetteer()
    if language is None:
        return sorted(gazetteer.keys)
    allowed = {ENGLISH, ANY, language}
    return sorted(
        key
        for key, entries in gazetteer.keys.items()
        if any(entry.language in allowed for entry in entries)
    )


def load_corpus(gwn: Path, dev: Path) -> tuple[str, str]:
    """News text to repeat, and where it came from."""
    for path, field in ((gwn, "text"), (dev, "text")):
        if path.is_file():
            with path.open(encoding="utf-8") as handle:
                texts = [str(json.loads(line)[field]) for line in handle if line.strip()]
            return "\n\n".join(texts), path.name
    raise SystemExit(f"error: neither {gwn} nor {dev} found")


def repeat_to(corpus: str, megabytes: float) -> str:
    """`corpus` repeated (and cut at a paragraph) to about `megabytes` MB of UTF-8."""
    target = int(megabytes * 1e6)
    size = len(corpus.encode("utf-8"))
    text = "\n\n".join([corpus] * max(1, -(-target // size)))
    cut = text.rfind("\n\n", 0, int(len(text) * target / len(text.encode("utf-8"))) + 1)
    return text[:cut] if cut > 0 else text


def megabytes(text: str) -> float:
    return len(text.encode("utf-8")) / 1e6


def best_of(runs: int, work: Callable[[], int], budget: float = float("inf")) -> tuple[float, int]:
    """Fastest wall time of up to `runs` calls (no further call once `budget` seconds have
    been spent: the regex baseline takes long enough that its noise does not matter), and
    what the last call returned."""
    best, result, spent = float("inf"), 0, 0.0
    for _ in range(runs):
        began = time.perf_counter()
        result = work()
        elapsed = time.perf_counter() - began
        best, spent = min(best, elapsed), spent + elapsed
        if spent > budget:
            break
    return best, result


def bare_automaton(aliases: list[str]) -> Any:
    automaton = ahocorasick.Automaton()
    for alias in aliases:
        automaton.add_word(alias, len(alias))
    automaton.make_automaton()
    return automaton


def alternation(aliases: list[str]) -> re.Pattern[str]:
    ordered = sorted(set(aliases), key=lambda alias: (-len(alias), alias))
    return re.compile(r"\b(?:" + "|".join(map(re.escape, ordered)) + r")\b", re.IGNORECASE)


def cold_load() -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", _COLD],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return {key: float(value) for key, value in json.loads(result.stdout).items()}


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mb", type=float, default=10.0, help="MB of text for (a) to (c)")
    parser.add_argument("--regex-mb", type=float, default=0.5, help="MB of text for (d)")
    parser.add_argument("--gwn", type=Path, default=DEFAULT_GWN)
    parser.add_argument("--dev", type=Path, default=DEFAULT_DEV)
    args = parser.parse_args(argv)

    cold = cold_load()
    memory = cold["rss_kb"] / 1024  # Linux reports kilobytes
    print(
        f"load (fresh process): import {cold['import_s']:.2f} s, first detect() with every "
        f"language {cold['load_s']:.2f} s [target < {TARGET_LOAD_S:g} s: "
        f"{_mark(cold['load_s'] < TARGET_LOAD_S)}], then language='en' {cold['english_s']:.2f} s"
    )
    print(
        f"memory: peak RSS {memory:.0f} MB with the full gazetteer loaded "
        f"[target < {TARGET_MEMORY_MB:g} MB: {_mark(memory < TARGET_MEMORY_MB)}]"
    )

    corpus, origin = load_corpus(args.gwn, args.dev)
    text = repeat_to(corpus, args.mb)
    size = megabytes(text)
    aliases = gazetteer_aliases()
    english = gazetteer_aliases("en")
    countries.detect("warm-up", language="en")
    countries.detect("warm-up")
    print(
        f"text: {size:.1f} MB of {origin}; {len(aliases)} aliases "
        f"({len(english)} for English); one core, best of 3"
    )

    rates: dict[str, float] = {}

    def report(label: str, seconds: float, mb: float, found: int, note: str = "") -> float:
        rate = mb / seconds
        print(f"  {label:<34} {rate:7.2f} MB/s  {seconds:7.3f} s  {found:>8} matches{note}")
        return rate

    seconds, found = best_of(3, lambda: len(countries.detect(text, language="en")))
    rates["en"] = report('(a) detect(language="en")', seconds, size, found)
    seconds, found = best_of(3, lambda: len(countries.detect(text)))
    rates["all"] = report("(b) detect() every language", seconds, size, found)

    automaton = bare_automaton(aliases)

    def scan() -> int:
        return sum(1 for _ in automaton.iter(text.lower()))

    seconds, found = best_of(3, scan)
    rates["ac"] = report("(c) bare pyahocorasick scan", seconds, size, found)

    pattern = alternation(aliases)
    piece = repeat_to(corpus, args.regex_mb)
    piece_mb = megabytes(piece)
    seconds, found = best_of(3, lambda: sum(1 for _ in pattern.finditer(piece)), budget=10)
    rates["re"] = report(
        "(d) re alternation",
        seconds,
        piece_mb,
        found,
        f"  (on {piece_mb:.2f} MB; {seconds * size / piece_mb:.1f} s for {size:.1f} MB)",
    )

    for key, label in (("en", "(a) en"), ("all", "(b) all")):
        rate = rates[key]
        print(
            f"{label}: {rate:.2f} MB/s [target >= {TARGET_MBPS:g}: {_mark(rate >= TARGET_MBPS)}]"
            f"  ours/bare-AC {rate / rates['ac']:.2f} [target >= {TARGET_VS_AC:g}: "
            f"{_mark(rate / rates['ac'] >= TARGET_VS_AC)}]"
            f"  ours/regex {rate / rates['re']:.1f}x [target >= {TARGET_VS_REGEX:g}x: "
            f"{_mark(rate / rates['re'] >= TARGET_VS_REGEX)}]"
        )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this process peaked at {own:.0f} MB, holding the text and every automaton)")


if __name__ == "__main__":
    main()
