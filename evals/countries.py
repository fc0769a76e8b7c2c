"""Score country detection on the dev set, GeoWebNews and country_converter's name variants.

    python -m evals.countries [--fixtures PATH] [--dev PATH] [--min-dev 0.95]
                              [--min-gwn-p X] [--min-gwn-r X] [--min-cc X]
                              [--max-cc-negatives 0]

- dev: ``dev.jsonl`` sentences; document-level micro precision and recall over (document,
  country) pairs; countries a line lists as ``allowed`` count neither way.
- geowebnews: 200 real news articles; gold per document is the union of
  ``countries_literal_or_metonymic`` and ``countries_adjectival_or_demonym``. Only mentions of
  kind ``name`` or ``demonym`` are predictions, since the gold leaves out countries reached only
  through a city. Span-level figures are printed alongside (a predicted span matches a gold
  span of the same country it overlaps; spans inside Embedded_Non_Lit ones count neither way).
- country_converter: table-style names ("Korea, Republic of") resolved to the country of the
  longest name, demonym or capital mention; the share resolved correctly, and the strings of
  ``should_not_match.txt`` that resolve to anything (none allowed unless --max-cc-negatives).

A missing input is skipped with a note, or is an error when CI=true. Exit status 1 when a
threshold is missed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from extractors.countries import Mention, detect

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DEFAULT_DEV = SHARED / "countries" / "dev.jsonl"
DEFAULT_FIXTURES = SHARED / "fixtures" / "countries-data"
COUNTRIES_DATA = "countries-data"
GEOWEBNEWS = "geowebnews_gold.jsonl"
CONVERTER = "country_converter"

# What each evaluation counts as a prediction.
GWN_KINDS = frozenset({"name", "demonym"})
RESOLVE_KINDS = frozenset({"name", "demonym", "capital"})
# GeoWebNews spans whose country the document-level gold leaves out ("Bank of Japan").
GWN_EXCLUDED_TYPES = frozenset({"Embedded_Non_Lit"})
NOT_FOUND = "XXX"  # country_converter's name_short for "must not resolve"
SHOWN = 15

Detector = Callable[[str], Sequence[Mention]]


# --- scoring ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Miss:
    """A false positive or negative: the document, the country and the words behind it."""

    doc_id: str
    country: str
    surface: str


@dataclass(slots=True)
class Counts:
    """Micro counts of (document, country) pairs, with the misses behind fp and fn."""

    tp: int = 0
    false_positives: list[Miss] = field(default_factory=list)
    false_negatives: list[Miss] = field(default_factory=list)

    @property
    def fp(self) -> int:
        return len(self.false_positives)

    @property
    def fn(self) -> int:
        return len(self.false_negatives)

    @property
    def precision(self) -> float:
        """tp / (tp + fp); 1.0 when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """tp / (tp + fn); 1.0 when there was nothing to find."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.false_positives += other.false_positives
        self.false_negatives += other.false_negatives


def first_surfaces(
    mentions: Iterable[Mention], kinds: Collection[str] | None = None
) -> dict[str, str]:
    """Country -> surface of its first mention, keeping only mentions of `kinds` (None: all)."""
    found: dict[str, str] = {}
    for mention in sorted(mentions, key=lambda m: (m.start, m.end)):
        if kinds is None or mention.kind in kinds:
            found.setdefault(mention.country, mention.surface)
    return found


def score_document(
    doc_id: str,
    predicted: Mapping[str, str],
    gold: Collection[str],
    allowed: Collection[str] = (),
    gold_surfaces: Mapping[str, str] | None = None,
) -> Counts:
    """Counts for one document. `predicted` maps country -> surface; an allowed country is
    neither a false positive when predicted nor a false negative when missed."""
    found = set(predicted) - set(allowed)
    wanted = set(gold) - set(allowed)
    surfaces = gold_surfaces or {}
    return Counts(
        tp=len(found & wanted),
        false_positives=[Miss(doc_id, code, predicted[code]) for code in sorted(found - wanted)],
        false_negatives=[
            Miss(doc_id, code, surfaces.get(code, "")) for code in sorted(wanted - found)
        ],
    )


def micro(documents: Iterable[Counts]) -> Counts:
    total = Counts()
    for counts in documents:
        total.add(counts)
    return total


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    country: str


def score_spans(
    predicted: Sequence[Span], gold: Sequence[Span], ignored: Sequence[Span] = ()
) -> tuple[int, int, int]:
    """(matched, predicted, gold) spans of one document: a predicted span matches an unmatched
    gold span of the same country that it overlaps (one to one). Predicted spans that overlap
    an `ignored` span and match nothing are left out of the count."""
    used: set[int] = set()
    matched = counted = 0
    for span in predicted:
        hit = next(
            (
                i
                for i, want in enumerate(gold)
                if i not in used
                and want.country == span.country
                and span.start < want.end
                and want.start < span.end
            ),
            None,
        )
        if hit is not None:
            used.add(hit)
            matched += 1
            counted += 1
        elif not any(span.start < skip.end and skip.start < span.end for skip in ignored):
            counted += 1
    return matched, counted, len(gold)


def ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


# --- dev set ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DevDoc:
    id: str
    text: str
    countries: frozenset[str]
    allowed: frozenset[str]


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, object]]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError(f"{path}:{number}: not a JSON object")
                yield number, row


def _codes(value: object) -> frozenset[str]:
    return frozenset(str(code) for code in value) if isinstance(value, list) else frozenset()


def load_dev(path: Path) -> list[DevDoc]:
    return [
        DevDoc(
            str(row["id"]),
            str(row["text"]),
            _codes(row["countries"]),
            _codes(row.get("allowed", [])),
        )
        for _, row in read_jsonl(path)
    ]


def evaluate_dev(docs: Iterable[DevDoc], detector: Detector = detect) -> Counts:
    return micro(
        score_document(doc.id, first_surfaces(detector(doc.text)), doc.countries, doc.allowed)
        for doc in docs
    )


# --- GeoWebNews ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GwnMention:
    start: int
    end: int
    surface: str
    country: str
    type: str
    offset_ok: bool = True


@dataclass(frozen=True, slots=True)
class GwnDoc:
    id: str
    text: str
    countries: frozenset[str]  # literal or metonymic, adjectival or demonym
    mentions: tuple[GwnMention, ...]

    def gold_surfaces(self) -> dict[str, str]:
        surfaces: dict[str, str] = {}
        for mention in self.mentions:
            if mention.type not in GWN_EXCLUDED_TYPES:
                surfaces.setdefault(mention.country, mention.surface)
        return surfaces


def load_geowebnews(path: Path) -> list[GwnDoc]:
    docs = []
    for _, row in read_jsonl(path):
        spans = row.get("country_mentions")
        docs.append(
            GwnDoc(
                str(row["doc_id"]),
                str(row["text"]),
                _codes(row["countries_literal_or_metonymic"])
                | _codes(row["countries_adjectival_or_demonym"]),
                tuple(
                    GwnMention(
                        int(span["start"]),
                        int(span["end"]),
                        str(span["surface"]),
                        str(span["iso2"]),
                        str(span["type"]),
                        bool(span.get("offset_ok", True)),
                    )
                    for span in (spans if isinstance(spans, list) else [])
                ),
            )
        )
    return docs


@dataclass(slots=True)
class GwnResult:
    documents: Counts
    spans_matched: int = 0
    spans_predicted: int = 0
    spans_gold: int = 0

    @property
    def span_precision(self) -> float:
        return ratio(self.spans_matched, self.spans_predicted)

    @property
    def span_recall(self) -> float:
        return ratio(self.spans_matched, self.spans_gold)


def evaluate_geowebnews(docs: Iterable[GwnDoc], detector: Detector = detect) -> GwnResult:
    result = GwnResult(Counts())
    for doc in docs:
        mentions = [m for m in detector(doc.text) if m.kind in GWN_KINDS]
        result.documents.add(
            score_document(
                doc.id,
                first_surfaces(mentions),
                doc.countries,
                gold_surfaces=doc.gold_surfaces(),
            )
        )
        usable = [m for m in doc.mentions if m.offset_ok]
        matched, predicted, gold = score_spans(
            [Span(m.start, m.end, m.country) for m in mentions],
            [Span(m.start, m.end, m.country) for m in usable if m.type not in GWN_EXCLUDED_TYPES],
            [Span(m.start, m.end, m.country) for m in usable if m.type in GWN_EXCLUDED_TYPES],
        )
        result.spans_matched += matched
        result.spans_predicted += predicted
        result.spans_gold += gold
    return result


# --- country_converter -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NameCase:
    source: str  # file:line
    name: str
    expected: str | None  # ISO2, or None: must not resolve


@dataclass(frozen=True, slots=True)
class NameResult:
    case: NameCase
    resolved: str | None
    surface: str

    @property
    def ok(self) -> bool:
        return self.resolved == self.case.expected


def resolve(name: str, detector: Detector = detect) -> tuple[str | None, str]:
    """The country of the longest name, demonym or capital mention in `name` (the earliest of
    equally long ones) and its surface, or (None, "")."""
    best: Mention | None = None
    for mention in detector(name):
        if mention.kind in RESOLVE_KINDS and (
            best is None
            or (mention.end - mention.start, -mention.start) > (best.end - best.start, -best.start)
        ):
            best = mention
    return (best.country, best.surface) if best else (None, "")


def load_country_codes(path: Path) -> dict[str, str]:
    """country_data.tsv: name_short -> ISO2, obsolete entries included as in upstream's test
    ("" for the few without an ISO2 code: Zanzibar, Tanganjika, Channel Islands). A few ISO2
    cells are input patterns ("^GB$|^UK$", "^GR$|^EL$"): the first alternative is the code."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return {row["name_short"]: iso2_code(row.get("ISO2") or "") for row in rows}


def iso2_code(cell: str) -> str:
    for alternative in cell.split("|"):
        if re.fullmatch(r"[A-Z]{2}", code := alternative.strip("^$ ")):
            return code
    return ""


def load_name_cases(folder: Path) -> tuple[list[NameCase], list[str]]:
    """tests/test_regex_*.txt, read as upstream does (pandas' defaults: quoted fields unquoted,
    surrounding spaces kept), and the source of each case skipped because its expected
    entity has no ISO2 code."""
    codes = load_country_codes(folder / CONVERTER / "country_data.tsv")
    cases: list[NameCase] = []
    skipped: list[str] = []
    for path in sorted((folder / "tests").glob("test_regex_*.txt")):
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, delimiter="\t")
            header = next(reader, [])
            if header[:2] != ["name_short", "name_test"]:
                raise ValueError(f"{path}: unexpected header {header}")
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                short, name = row[0], row[1]
                source = f"{path.name}:{reader.line_num}"
                if short == NOT_FOUND:
                    cases.append(NameCase(source, name, None))
                elif short not in codes:
                    raise ValueError(f"{source}: {short!r} is not in country_data.tsv")
                elif not codes[short]:
                    skipped.append(f"{source} {short}")
                else:
                    cases.append(NameCase(source, name, codes[short]))
    return cases, skipped


def load_negatives(folder: Path) -> list[str]:
    """tests/should_not_match.txt without comments and blank lines, stripped as upstream."""
    lines = (folder / "tests" / "should_not_match.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@dataclass(frozen=True, slots=True)
class ConverterResult:
    names: list[NameResult]
    negatives: list[tuple[str, str, str]]  # (string, country, surface) that resolved

    @property
    def correct(self) -> int:
        return sum(result.ok for result in self.names)

    @property
    def share(self) -> float:
        return ratio(self.correct, len(self.names))


def evaluate_converter(
    cases: Iterable[NameCase], negatives: Iterable[str], detector: Detector = detect
) -> ConverterResult:
    names = [NameResult(case, *resolve(case.name, detector)) for case in cases]
    matched = []
    for text in negatives:
        country, surface = resolve(text, detector)
        if country is not None:
            matched.append((text, country, surface))
    return ConverterResult(names, matched)


# --- command line ----------------------------------------------------------------------------


def _locate(fixtures: Path) -> Path:
    """Accept the shared fixtures root or the countries-data folder itself."""
    if (fixtures / GEOWEBNEWS).is_file() or (fixtures / CONVERTER).is_dir():
        return fixtures
    return fixtures / COUNTRIES_DATA


def _missing(what: str, path: Path) -> bool:
    """Report a missing input; True when that is an error (under CI=true)."""
    if os.environ.get("CI", "").lower() == "true":
        print(f"error: {what} not found at {path}", file=sys.stderr)
        return True
    print(f"skipped: {what} not found at {path}")
    return False


def _print_misses(
    label: str, misses: Sequence[Miss], texts: Mapping[str, str] | None = None
) -> None:
    """The misses; a miss without a surface (a gold country not found) shows its text."""
    if not misses:
        return
    print(f"  {label} ({len(misses)}):")
    for miss in misses[:SHOWN]:
        shown = (
            repr(miss.surface)
            if miss.surface or texts is None
            else f"in {texts[miss.doc_id][:90]!r}"
        )
        print(f"    {miss.doc_id}  {miss.country}  {shown}")
    if len(misses) > SHOWN:
        print(f"    ... and {len(misses) - SHOWN} more")


def _print_top(label: str, misses: Sequence[Miss], top: int = 10) -> None:
    if not misses:
        return
    counted = Counter((miss.country, miss.surface) for miss in misses)
    shown = ", ".join(f"{code} {surface!r} x{n}" for (code, surface), n in counted.most_common(top))
    print(f"  top {label} ({len(misses)}): {shown}")


def _run_dev(path: Path, minimum: float) -> tuple[str, bool]:
    docs = load_dev(path)
    counts = evaluate_dev(docs)
    print(
        f"dev: {len(docs)} documents  P={counts.precision:.4f}  R={counts.recall:.4f}  "
        f"(tp {counts.tp}, fp {counts.fp}, fn {counts.fn})"
    )
    _print_misses("false positives", counts.false_positives)
    _print_misses("false negatives", counts.false_negatives, {doc.id: doc.text for doc in docs})
    ok = counts.precision >= minimum and counts.recall >= minimum
    if not ok:
        print(f"FAIL: dev P/R below {minimum}", file=sys.stderr)
    return f"dev P={counts.precision:.3f} R={counts.recall:.3f}", ok


def _run_geowebnews(path: Path, min_p: float, min_r: float) -> tuple[str, bool]:
    docs = load_geowebnews(path)
    result = evaluate_geowebnews(docs)
    counts = result.documents
    print(
        f"geowebnews: {len(docs)} documents  P={counts.precision:.4f}  R={counts.recall:.4f}  "
        f"(tp {counts.tp}, fp {counts.fp}, fn {counts.fn}; name and demonym mentions)  "
        f"spans P={result.span_precision:.4f} R={result.span_recall:.4f} "
        f"({result.spans_matched} matched, {result.spans_predicted} predicted, "
        f"{result.spans_gold} gold)"
    )
    _print_top("false positives", counts.false_positives)
    _print_top("false negatives", counts.false_negatives)
    ok = True
    if counts.precision < min_p:
        print(f"FAIL: geowebnews P {counts.precision:.4f} < {min_p}", file=sys.stderr)
        ok = False
    if counts.recall < min_r:
        print(f"FAIL: geowebnews R {counts.recall:.4f} < {min_r}", file=sys.stderr)
        ok = False
    return f"geowebnews P={counts.precision:.3f} R={counts.recall:.3f}", ok


def _run_converter(folder: Path, minimum: float, max_negatives: int) -> tuple[str, bool]:
    cases, skipped = load_name_cases(folder)
    negatives = load_negatives(folder)
    result = evaluate_converter(cases, negatives)
    summary = (
        f"{result.correct}/{len(result.names)} ({100 * result.share:.1f}%), "
        f"negatives matched {len(result.negatives)}"
    )
    print(
        f"country_converter: names resolved {summary} of {len(negatives)}"
        f"  ({len(skipped)} skipped: no ISO2 code for {', '.join(skipped)})"
    )
    failures = [r for r in result.names if not r.ok]
    if failures:
        print(f"  wrong ({len(failures)}):")
        for r in failures:
            got = f"{r.resolved} via {r.surface!r}" if r.resolved else "nothing"
            want = r.case.expected or "nothing"
            print(f"    {r.case.source}  {r.case.name!r}: want {want}, got {got}")
    for text, country, surface in result.negatives:
        print(f"  negative matched: {text!r} -> {country} via {surface!r}")
    ok = True
    if result.share < minimum:
        print(f"FAIL: country_converter share {result.share:.4f} < {minimum}", file=sys.stderr)
        ok = False
    if len(result.negatives) > max_negatives:
        print(
            f"FAIL: country_converter negatives matched {len(result.negatives)} > {max_negatives}",
            file=sys.stderr,
        )
        ok = False
    return f"country_converter {summary}", ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument("--dev", type=Path, default=DEFAULT_DEV)
    parser.add_argument("--min-dev", type=float, default=0.95, help="dev P and R at least")
    parser.add_argument("--min-gwn-p", type=float, default=0.0, help="GeoWebNews P at least")
    parser.add_argument("--min-gwn-r", type=float, default=0.0, help="GeoWebNews R at least")
    parser.add_argument(
        "--min-cc", type=float, default=0.0, help="share of country_converter names right"
    )
    parser.add_argument(
        "--max-cc-negatives",
        type=int,
        default=0,
        help="should_not_match strings allowed to resolve to a country",
    )
    args = parser.parse_args(argv)

    fixtures = _locate(args.fixtures)
    parts: list[str] = []
    ok = True
    if args.dev.is_file():
        part, passed = _run_dev(args.dev, args.min_dev)
        parts.append(part)
        ok &= passed
    else:
        ok &= not _missing("dev set", args.dev)
    if (fixtures / GEOWEBNEWS).is_file():
        part, passed = _run_geowebnews(fixtures / GEOWEBNEWS, args.min_gwn_p, args.min_gwn_r)
        parts.append(part)
        ok &= passed
    else:
        ok &= not _missing("GeoWebNews gold", fixtures / GEOWEBNEWS)
    if (fixtures / CONVERTER / "tests").is_dir():
        part, passed = _run_converter(fixtures / CONVERTER, args.min_cc, args.max_cc_negatives)
        parts.append(part)
        ok &= passed
    else:
        ok &= not _missing("country_converter data", fixtures / CONVERTER)
    if parts:
        print("countries: " + " | ".join(parts))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
