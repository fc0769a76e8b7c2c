"""Score extract_article on the Zyte article-extraction benchmark (word 4-gram P/R/F1)."""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from extractors.articles import extract_article

DEFAULT_FIXTURES = Path(__file__).resolve().parents[1].parent / "shared/fixtures"
BENCHMARK = "extraction-benchmark"
SHINGLE_WORDS = 4


@dataclass(frozen=True, slots=True)
class PageScore:
    page_id: str
    precision: float
    recall: float


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[tuple[str, ...]]:
    """The set of word n-grams of lower-cased, whitespace-split text.

    A text shorter than ``size`` words is one shingle of all its words (as the official
    benchmark scorer does), so a short truth is still scored on its exact words rather than
    being dropped or matched word by word.
    """
    words = text.lower().split()
    if not words:
        return set()
    if len(words) < size:
        return {tuple(words)}
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def score_page(predicted: str, truth: str) -> tuple[float, float]:
    """Precision and recall of one page; an empty prediction scores 0 for both."""
    predicted_set, truth_set = shingles(predicted), shingles(truth)
    if not predicted_set or not truth_set:
        return 0.0, 0.0
    shared = len(predicted_set & truth_set)
    return shared / len(predicted_set), shared / len(truth_set)


def _score_one(job: tuple[Path, str, str, str | None]) -> PageScore:
    path, page_id, truth, url = job
    # Bytes, as the pipeline receives them: charset handling is part of what is measured.
    html = gzip.decompress(path.read_bytes())
    article = extract_article(html, url=url)
    precision, recall = score_page(article.text if article else "", truth)
    return PageScore(page_id, precision, recall)


def _quiet_workers() -> None:
    # trafilatura logs a warning for every page it discards; the scores already say so.
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)


def _locate(fixtures: Path) -> Path:
    """Accept the shared fixtures root or the benchmark folder itself."""
    return fixtures if (fixtures / "ground-truth.json").is_file() else fixtures / BENCHMARK


def run(benchmark: Path, workers: int) -> list[PageScore]:
    truth = json.loads((benchmark / "ground-truth.json").read_text(encoding="utf-8"))
    jobs = [
        (benchmark / "html" / f"{page_id}.html.gz", page_id, item["articleBody"], item.get("url"))
        for page_id, item in sorted(truth.items())
    ]
    if workers <= 1:
        _quiet_workers()
        return [_score_one(job) for job in jobs]
    with ProcessPoolExecutor(max_workers=workers, initializer=_quiet_workers) as pool:
        return list(pool.map(_score_one, jobs, chunksize=4))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument("--min-f1", type=float, default=0.95)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--worst", type=int, default=0, help="list the N lowest-F1 pages")
    args = parser.parse_args(argv)

    benchmark = _locate(args.fixtures)
    if not (benchmark / "ground-truth.json").is_file():
        if os.environ.get("CI", "").lower() == "true":
            print(f"error: fixtures not found at {benchmark}", file=sys.stderr)
            return 1
        print(f"skipped: fixtures not found at {benchmark}")
        return 0

    started = time.perf_counter()
    scores = run(benchmark, args.workers)
    seconds = time.perf_counter() - started

    pages = len(scores)
    precision = sum(s.precision for s in scores) / pages if pages else 0.0
    recall = sum(s.recall for s in scores) / pages if pages else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(
        f"extraction: {pages} pages  P={precision:.4f}  R={recall:.4f}  F1={f1:.4f}  "
        f"{seconds:.1f} s  {pages / seconds:.1f} pages/s  workers={args.workers}"
    )
    for s in sorted(scores, key=lambda s: s.precision + s.recall)[: args.worst]:
        print(f"  {s.page_id[:16]}  P={s.precision:.3f}  R={s.recall:.3f}")
    if f1 < args.min_f1:
        print(f"FAIL: F1 {f1:.4f} < {args.min_f1}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
