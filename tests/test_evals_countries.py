"""The scoring behind ``python -m evals.countries``, on small inputs written here."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from evals import countries as ev
from extractors.countries import Kind, Mention


def mention(country: str, start: int, surface: str, kind: Kind = "name") -> Mention:
    return Mention(country, start, start + len(surface), surface, kind)


class FakeDetector:
    """Finds the given surfaces (whole words, any case) and nothing else."""

    def __init__(self, table: dict[str, tuple[str, Kind]]) -> None:
        self.table = table
        ordered = sorted(table, key=len, reverse=True)
        self.pattern = re.compile(
            r"\b(?:" + "|".join(map(re.escape, ordered)) + r")\b", re.IGNORECASE
        )

    def __call__(self, text: str) -> Sequence[Mention]:
        found = []
        for match in self.pattern.finditer(text):
            country, kind = self.table[match.group().lower()]
            found.append(mention(country, match.start(), match.group(), kind))
        return found


def test_micro_precision_and_recall_add_up_pairs_over_documents() -> None:
    total = ev.micro(
        [
            ev.score_document("a", {"FR": "France", "DE": "Germany"}, {"FR", "DE", "IT"}),
            ev.score_document("b", {"SY": "Syria", "PK": "Pakistan"}, {"SY", "IR"}),
            ev.score_document("c", {}, set()),
        ]
    )
    assert (total.tp, total.fp, total.fn) == (3, 1, 2)
    assert total.precision == pytest.approx(3 / 4)
    assert total.recall == pytest.approx(3 / 5)
    assert total.false_positives == [ev.Miss("b", "PK", "Pakistan")]
    assert [(m.doc_id, m.country) for m in total.false_negatives] == [("a", "IT"), ("b", "IR")]


def test_nothing_predicted_and_nothing_to_find_scores_one() -> None:
    empty = ev.micro([ev.score_document("a", {}, set())])
    assert (empty.precision, empty.recall) == (1.0, 1.0)
    missed = ev.score_document("a", {}, {"FR"})
    assert (missed.precision, missed.recall) == (1.0, 0.0)


def test_allowed_countries_count_neither_way() -> None:
    counts = ev.score_document(
        "a", {"FR": "France", "GE": "Georgia"}, gold={"FR", "US"}, allowed={"GE", "US"}
    )
    assert (counts.tp, counts.fp, counts.fn) == (1, 0, 0)
    # Allowed does not turn a wrong country into a right one, nor hide a real miss.
    counts = ev.score_document("a", {"GE": "Georgia"}, gold={"GE", "FR"}, allowed={"GE"})
    assert (counts.tp, counts.fp, counts.fn) == (0, 0, 1)


def test_dev_documents_are_scored_on_every_mention_kind() -> None:
    detector = FakeDetector({"paris": ("FR", "capital"), "syrian": ("SY", "demonym")})
    docs = [
        ev.DevDoc("d1", "Paris welcomed the Syrian envoy.", frozenset({"FR"}), frozenset()),
        ev.DevDoc("d2", "Nothing here.", frozenset({"PK"}), frozenset()),
    ]
    counts = ev.evaluate_dev(docs, detector)
    assert (counts.tp, counts.fp, counts.fn) == (1, 1, 1)
    assert counts.false_positives == [ev.Miss("d1", "SY", "Syrian")]


def test_first_surfaces_keeps_the_first_mention_of_the_wanted_kinds() -> None:
    mentions = [
        mention("FR", 30, "French", "demonym"),
        mention("FR", 10, "Paris", "capital"),
        mention("DE", 0, "Germany"),
        mention("US", 50, "Chicago", "city"),
    ]
    assert ev.first_surfaces(mentions) == {"DE": "Germany", "FR": "Paris", "US": "Chicago"}
    assert ev.first_surfaces(mentions, ev.GWN_KINDS) == {"DE": "Germany", "FR": "French"}


def _gwn_doc(text: str, gold: set[str], spans: list[tuple[str, str, str]]) -> ev.GwnDoc:
    mentions = []
    for surface, country, kind in spans:
        start = text.index(surface)
        mentions.append(ev.GwnMention(start, start + len(surface), surface, country, kind))
    return ev.GwnDoc("g", text, frozenset(gold), tuple(mentions))


def test_geowebnews_counts_only_names_and_demonyms() -> None:
    text = "Officials in Paris and Chicago met Irish diplomats at the Bank of Japan."
    doc = _gwn_doc(
        text,
        {"IE"},
        [("Irish", "IE", "Non_Literal_Modifier"), ("Japan", "JP", "Embedded_Non_Lit")],
    )
    detector = FakeDetector(
        {
            "paris": ("FR", "capital"),
            "chicago": ("US", "city"),
            "irish": ("IE", "demonym"),
            "japan": ("JP", "name"),
        }
    )
    result = ev.evaluate_geowebnews([doc], detector)
    # Paris and Chicago are not predictions; Japan is one the gold leaves out.
    assert (result.documents.tp, result.documents.fp, result.documents.fn) == (1, 1, 0)
    assert result.documents.false_positives == [ev.Miss("g", "JP", "Japan")]
    # At span level the mention inside an Embedded_Non_Lit span counts neither way.
    assert (result.spans_matched, result.spans_predicted, result.spans_gold) == (1, 1, 1)


def test_geowebnews_false_negatives_carry_the_gold_surface() -> None:
    doc = _gwn_doc(
        "The Dutch side won in Rotterdam.", {"NL"}, [("Dutch", "NL", "Literal_Modifier")]
    )
    result = ev.evaluate_geowebnews([doc], FakeDetector({"rotterdam": ("NL", "city")}))
    assert result.documents.false_negatives == [ev.Miss("g", "NL", "Dutch")]
    assert result.documents.false_positives == []


def test_spans_match_one_to_one_on_overlap_and_country() -> None:
    gold = [ev.Span(0, 11, "KR"), ev.Span(20, 25, "FR")]
    predicted = [
        ev.Span(6, 11, "KR"),  # overlaps the first gold span
        ev.Span(7, 11, "KR"),  # the same gold span again: not a second match
        ev.Span(20, 25, "BE"),  # right place, wrong country
    ]
    assert ev.score_spans(predicted, gold) == (1, 3, 2)
    assert ev.score_spans([ev.Span(40, 45, "JP")], [], [ev.Span(30, 50, "JP")]) == (0, 0, 0)


def test_resolver_takes_the_longest_name_demonym_or_capital() -> None:
    detector = FakeDetector(
        {
            "congo": ("CG", "name"),
            "democratic republic of the congo": ("CD", "name"),
            "korea": ("KR", "name"),
            "dpr of korea": ("KP", "name"),
            "hong kong": ("HK", "name"),
            "china": ("CN", "name"),
            "seoul": ("KR", "capital"),
            "chicago": ("US", "city"),
        }
    )
    assert ev.resolve("Congo (Democratic Republic of the)", detector) == ("CG", "Congo")
    assert ev.resolve("Democratic Republic of the Congo", detector) == (
        "CD",
        "Democratic Republic of the Congo",
    )
    assert ev.resolve('"DPR of Korea"', detector) == ("KP", "DPR of Korea")
    assert ev.resolve("Korea, Republic of", detector) == ("KR", "Korea")
    assert ev.resolve("Hong Kong, China", detector) == ("HK", "Hong Kong")
    assert ev.resolve("Seoul", detector) == ("KR", "Seoul")
    # Cities do not resolve a table entry; equally long mentions: the first wins.
    assert ev.resolve("Chicago", detector) == (None, "")
    assert ev.resolve("China, Korea", detector) == ("CN", "China")


def test_resolver_with_the_real_detector_on_plain_table_names() -> None:
    assert ev.resolve("Democratic Republic of the Congo")[0] == "CD"
    assert ev.resolve("France")[0] == "FR"
    assert ev.resolve("Nowhere Land")[0] is None


def test_country_converter_scores_and_negatives() -> None:
    detector = FakeDetector({"korea": ("KR", "name"), "holland": ("NL", "name")})
    cases = [
        ev.NameCase("f:2", "Korea, Rep.", "KR"),
        ev.NameCase("f:3", "N Korea", "KP"),
        ev.NameCase("f:4", "Asia without Korea", None),
        ev.NameCase("f:5", "Asia", None),
    ]
    result = ev.evaluate_converter(cases, ["New Holland", "New Jersey"], detector)
    assert (result.correct, len(result.names)) == (2, 4)
    assert result.share == pytest.approx(0.5)
    assert [r.case.source for r in result.names if not r.ok] == ["f:3", "f:4"]
    assert result.negatives == [("New Holland", "NL", "Holland")]


def test_country_converter_files_are_read_as_upstream_reads_them(tmp_path: Path) -> None:
    (tmp_path / "country_converter").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "country_converter" / "country_data.tsv").write_text(
        "name_short\tname_official\tregex\tISO2\tISO3\n"
        "South Korea\tRepublic of Korea\tkorea\tKR\tKOR\n"
        'United Kingdom\tUnited Kingdom\t"britain\t^GB$|^UK$\tGBR\n'
        "Zanzibar\tZanzibar\tzanz\t\tEAZ\n",
        encoding="utf-8",
    )
    (tmp_path / "tests" / "test_regex_a.txt").write_text(
        "name_short\tname_test\n"
        'South Korea\t"Korea, Republic of"\n'
        "United Kingdom\tUK\n"
        "\n"
        "XXX\t    Asia without Korea\n"
        "Zanzibar\tTanzania: Zanzibar\n",
        encoding="utf-8",
    )
    (tmp_path / "tests" / "should_not_match.txt").write_text(
        "# a comment\n\nNew Mexico\nWest Papua \n", encoding="utf-8"
    )
    cases, skipped = ev.load_name_cases(tmp_path)
    assert cases == [
        ev.NameCase("test_regex_a.txt:2", "Korea, Republic of", "KR"),
        ev.NameCase("test_regex_a.txt:3", "UK", "GB"),
        ev.NameCase("test_regex_a.txt:5", "    Asia without Korea", None),
    ]
    assert skipped == ["test_regex_a.txt:6 Zanzibar"]
    assert ev.load_negatives(tmp_path) == ["New Mexico", "West Papua"]


def _write_shared(root: Path) -> tuple[Path, Path]:
    dev = root / "dev.jsonl"
    dev.write_text(
        json.dumps({"id": "d1", "text": "France and Germany met.", "countries": ["FR", "DE"]})
        + "\n"
        + json.dumps(
            {"id": "d2", "text": "Rain in Georgia.", "countries": [], "allowed": ["GE", "US"]}
        )
        + "\n",
        encoding="utf-8",
    )
    fixtures = root / "countries-data"
    (fixtures / "country_converter" / "country_converter").mkdir(parents=True)
    (fixtures / "country_converter" / "tests").mkdir()
    text = "Syria said Pakistan would attend."
    row = {
        "doc_id": "0",
        "text": text,
        "countries_literal_or_metonymic": ["SY", "PK"],
        "countries_adjectival_or_demonym": [],
        "country_mentions": [
            {"start": 0, "end": 5, "surface": "Syria", "iso2": "SY", "type": "Metonymic"},
            {"start": 11, "end": 19, "surface": "Pakistan", "iso2": "PK", "type": "Literal"},
        ],
    }
    (fixtures / ev.GEOWEBNEWS).write_text(json.dumps(row) + "\n", encoding="utf-8")
    (fixtures / "country_converter" / "country_converter" / "country_data.tsv").write_text(
        "name_short\tname_official\tregex\tISO2\nFrance\tFrench Republic\tfrance\tFR\n",
        encoding="utf-8",
    )
    (fixtures / "country_converter" / "tests" / "test_regex_x.txt").write_text(
        "name_short\tname_test\nFrance\tFrench Republic\nFrance\tFrance\n", encoding="utf-8"
    )
    (fixtures / "country_converter" / "tests" / "should_not_match.txt").write_text(
        "# none of these is a country\nNowhere Land\n", encoding="utf-8"
    )
    return dev, fixtures


def test_main_runs_all_three_and_prints_the_final_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dev, fixtures = _write_shared(tmp_path)
    code = ev.main(["--dev", str(dev), "--fixtures", str(fixtures), "--min-cc", "0.5"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.splitlines()[-1] == (
        "countries: dev P=1.000 R=1.000 | geowebnews P=1.000 R=1.000 | "
        "country_converter 2/2 (100.0%), negatives matched 0"
    )


def test_main_fails_below_a_threshold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dev, fixtures = _write_shared(tmp_path)
    (fixtures / "country_converter" / "tests" / "should_not_match.txt").write_text(
        "Mexico\n", encoding="utf-8"
    )
    assert ev.main(["--dev", str(dev), "--fixtures", str(fixtures)]) == 1
    assert "FAIL: country_converter negatives matched 1 > 0" in capsys.readouterr().err
    assert ev.main(["--dev", str(dev), "--fixtures", str(fixtures), "--max-cc-negatives", "1"]) == 0


def test_missing_inputs_skip_locally_and_fail_under_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--dev", str(tmp_path / "none.jsonl"), "--fixtures", str(tmp_path)]
    monkeypatch.delenv("CI", raising=False)
    assert ev.main(args) == 0
    out = capsys.readouterr().out
    assert "skipped: dev set not found at" in out
    assert "skipped: GeoWebNews gold not found at" in out
    monkeypatch.setenv("CI", "true")
    assert ev.main(args) == 1
    assert "error: dev set not found at" in capsys.readouterr().err
