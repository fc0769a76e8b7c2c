"""Score the country detector on labelled sentences and time it: python -m bench.countries_dev."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

from extractors.countries import detect

DEFAULT_DEV = Path(__file__).resolve().parents[2] / "shared" / "countries" / "dev.jsonl"
SHOWN = 40


@dataclass(frozen=True, slots=True)
class Doc:
    id: str
    text: str
    countries: frozenset[str]
    allowed: frozenset[str]


def load(path: Path) -> list[Doc]:
    docs = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                docs.append(
                    Doc(
                        str(row["id"]),
                        str(row["text"]),
                        frozenset(row["countries"]),
                        frozenset(row.get("allowed", [])),
                    )
                )
    return docs


def score(docs: list[Doc]) -> None:
    tp = 0
    false_pos: list[str] = []
    false_neg: list[str] = []
    for doc in docs:
        found = {m.country for m in detect(doc.text)} - doc.allowed
        gold = doc.countries - doc.allowed
        tp += len(found & gold)
        false_pos += [f"{doc.id} {code}: {doc.text[:100]}" for code in sorted(found - gold)]
        false_neg += [f"{doc.id} {code}: {doc.text[:100]}" for code in sorted(gold - found)]
    precision = tp / (tp + len(false_pos)) if tp + len(false_pos) else 1.0
    recall = tp / (tp + len(false_neg)) if tp + len(false_neg) else 1.0
    print(f"documents {len(docs)}  pairs found {tp + len(false_pos)}  gold {tp + len(false_neg)}")
    print(
        f"precision {precision:.3f}  recall {recall:.3f}  (tp {tp}, fp {len(false_pos)}, "
        f"fn {len(false_neg)})"
    )
    for label, rows in (("false positives", false_pos), ("false negatives", false_neg)):
        print(f"\n{label} ({len(rows)}):")
        for row in rows[:SHOWN]:
            print("  " + row)


def speed(docs: list[Doc], target_bytes: int = 5_000_000) -> None:
    corpus = "\n".join(doc.text for doc in docs)
    size = len(corpus.encode("utf-8"))
    text = "\n".join([corpus] * max(1, target_bytes // max(1, size)))
    detect("warm-up: build the gazetteer before timing")
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        found = detect(text)
        best = min(best, time.perf_counter() - began)
    megabytes = len(text.encode("utf-8")) / 1e6
    print(
        f"\nspeed: {megabytes:.1f} MB, {len(found)} mentions, best of 3 {best:.3f} s, "
        f"{megabytes / best:.1f} MB/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dev", nargs="?", type=Path, default=DEFAULT_DEV)
    args = parser.parse_args()
    docs = load(args.dev)
    began = time.perf_counter()
    detect("")
    print(f"gazetteer built in {time.perf_counter() - began:.2f} s")
    score(docs)
    speed(docs)


if __name__ == "__main__":
    main()
