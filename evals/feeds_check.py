"""Run every fixture feed through parse_feed and compare item counts with other parsers'."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.errors import FeedParseError
from extractors.feeds import parse_feed

DEFAULT_FIXTURES = Path(__file__).resolve().parents[1].parent / "shared/fixtures"
FEEDS = "feeds"
FOLDERS = ("real", "edge_cases")


@dataclass(frozen=True, slots=True)
class Outcome:
    file: str
    format: str
    entries: int | None
    expected: int | None
    # "ok", "rejected" (an edge case raised FeedParseError), "crash", "count mismatch" or
    # "real feed rejected".
    status: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status in {"ok", "rejected"}


def expected_count(path: Path) -> int:
    """Item count in an upstream parser's expected output.

    feed-rs serde JSON has a top-level ``entries`` list; rss-parser output has
    ``feed.items``. Some rss-parser files are Latin-1, not UTF-8: only the structure matters
    here, so undecodable bytes are replaced.
    """
    document: Any = json.loads(path.read_bytes().decode("utf-8", errors="replace"))
    if isinstance(document.get("entries"), list):
        return len(document["entries"])
    feed = document.get("feed")
    if isinstance(feed, dict) and isinstance(feed.get("items"), list):
        return len(feed["items"])
    raise ValueError(f"{path.name}: neither a feed-rs nor an rss-parser expected output")


def read_manifest(feeds: Path) -> dict[str, str]:
    """Feed file (relative to feeds/) -> expected-output file, where the manifest gives one."""
    with (feeds / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return {row["file"]: row["expected_output"] for row in rows if row.get("expected_output")}


def check_file(feeds: Path, name: str, expected_file: str | None) -> Outcome:
    expected = expected_count(feeds / expected_file) if expected_file else None
    try:
        parsed = parse_feed((feeds / name).read_bytes())
    except FeedParseError as exc:
        # Rejecting a broken edge case is a correct outcome; a real feed must parse.
        status = "rejected" if name.startswith("edge_cases/") else "real feed rejected"
        return Outcome(name, "-", None, expected, status, str(exc))
    except Exception as exc:  # the point of this check is to catch exactly these
        return Outcome(name, "-", None, expected, "crash", f"{type(exc).__name__}: {exc}")
    count = len(parsed.entries)
    status = "ok" if expected is None or expected == count else "count mismatch"
    return Outcome(name, parsed.format, count, expected, status, parsed.problem or "")


def _locate(fixtures: Path) -> Path:
    """Accept the shared fixtures root or the feeds folder itself."""
    return fixtures if (fixtures / "MANIFEST.tsv").is_file() else fixtures / FEEDS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    args = parser.parse_args(argv)

    feeds = _locate(args.fixtures)
    if not (feeds / "MANIFEST.tsv").is_file():
        if os.environ.get("CI", "").lower() == "true":
            print(f"error: fixtures not found at {feeds}", file=sys.stderr)
            return 1
        print(f"skipped: fixtures not found at {feeds}")
        return 0

    manifest = read_manifest(feeds)
    names = sorted(
        path.relative_to(feeds).as_posix()
        for folder in FOLDERS
        for path in (feeds / folder).iterdir()
        if path.is_file()
    )
    missing = sorted(set(manifest) - set(names))
    outcomes = [check_file(feeds, name, manifest.get(name)) for name in names]

    width = max(len(o.file) for o in outcomes)
    print(f"{'file':<{width}}  {'format':<8} {'entries':>7} {'expected':>8}  ok")
    for o in outcomes:
        entries = "-" if o.entries is None else str(o.entries)
        expected = "-" if o.expected is None else str(o.expected)
        mark = "yes" if o.status == "ok" else o.status if o.ok else f"NO ({o.status})"
        note = f"  {o.detail[:70]}" if o.detail and not o.ok else ""
        print(f"{o.file:<{width}}  {o.format:<8} {entries:>7} {expected:>8}  {mark}{note}")
    for name in missing:
        print(f"missing: {name} is in MANIFEST.tsv but not on disk")

    crashed = sum(o.status == "crash" for o in outcomes)
    rejected = sum(o.status == "rejected" for o in outcomes)
    with_expected = [o for o in outcomes if o.expected is not None]
    matched = sum(o.entries == o.expected for o in with_expected)
    print(
        f"feeds: {len(outcomes)} parsed, {crashed} crashed, "
        f"{matched}/{len(with_expected)} counts match"
        f" ({rejected} edge cases rejected as not a feed)"
    )
    return 0 if all(o.ok for o in outcomes) and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
