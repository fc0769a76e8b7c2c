"""The source catalogue: valid files load, invalid ones name the line at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.errors import ConfigError
from config.settings import CONFIG_DIR
from config.sources import load_sources, parse_sources

GOOD = """\
sources:
  - id: mofa-pk
    name: Ministry of Foreign Affairs of Pakistan
    kind: foreign_office
    country: pk
    language: en
    feed_url: "https://mofa.example/feeds/mofa.xml"
    poll_interval: 15m
  - id: wire
    name: A wire
    kind: news
    country: GB
    language: en-GB
    feed_url: https://example.org/rss
"""


def test_catalogue_loads_with_defaults_and_base_url(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(GOOD.replace("https://mofa.example", "{base_url}"), encoding="utf-8")

    sources = load_sources(path, base_url="http://127.0.0.1:9999/")

    assert [s.id for s in sources] == ["mofa-pk", "wire"]
    assert sources[0].country == "PK"
    assert sources[0].poll_interval == 900
    assert sources[0].feed_url == "http://127.0.0.1:9999/feeds/mofa.xml"
    assert sources[1].poll_interval == 900
    assert sources[1].enabled is True


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("kind: news", "kind: newspaper"), "sources.yaml:11: sources.1.kind: Input should be"),
        (("country: GB", "country: XX"), ":12: sources.1.country: 'XX' is not an ISO 3166-1"),
        (("url: https://example.org/rss", "url: example.org/rss"), ":14: sources.1.feed_url: must"),
        (("poll_interval: 15m", "poll_interval: 10s"), ":8: sources.0.poll_interval: poll"),
        (("poll_interval: 15m", "poll_interval: soon"), ":8: sources.0.poll_interval: 'soon'"),
        (("id: wire", "id: Wire Service"), ":9: sources.1.id: must be"),
        (("id: wire", "id: mofa-pk"), ":9: duplicate source id 'mofa-pk'"),
        (("language: en-GB\n", "language: en-GB\n    colour: red\n"), ":14: sources.1.colour"),
    ],
)
def test_invalid_entries_name_the_line(change: tuple[str, str], message: str) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD

    with pytest.raises(ConfigError) as raised:
        parse_sources(text)

    assert message in str(raised.value)


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(ConfigError, match=r"sources.yaml:4: invalid YAML"):
        parse_sources("sources:\n  - id: a\n    name: [unclosed\n  - id: b\n")


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the source catalogue"):
        load_sources(tmp_path / "nope.yaml")


def test_shipped_catalogues_are_valid() -> None:
    assert load_sources(CONFIG_DIR / "sources.yaml")
    samples = load_sources(CONFIG_DIR / "samples" / "sources.yaml", base_url="http://x.invalid")
    assert len(samples) >= 3
    assert {s.kind for s in samples} == {"foreign_office", "news"}


def test_norway_is_a_country_code_not_false() -> None:
    text = GOOD.replace("country: GB", "country: NO").replace("language: en-GB", "language: no")

    [_, wire] = parse_sources(text + "    enabled: false\n")

    assert wire.country == "NO"
    assert wire.language == "no"
    assert wire.enabled is False


def test_shipped_catalogue_covers_ministries_and_newsrooms_with_citations() -> None:
    sources = load_sources(CONFIG_DIR / "sources.yaml")
    ministries = {s.country for s in sources if s.kind == "foreign_office"}
    assert sum(s.kind == "foreign_office" for s in sources) >= 40
    assert sum(s.kind == "news" for s in sources) >= 30
    for required in (
        "PK",
        "IN",
        "CN",
        "RU",
        "US",
        "GB",
        "FR",
        "DE",
        "IR",
        "TR",
        "SA",
        "QA",
        "EG",
        "IL",
        "JP",
        "KR",
        "BR",
        "ZA",
        "NG",
        "UA",
        "BE",
    ):
        assert required in ministries, required
    for source in sources:
        assert source.citation, source.id
        assert source.verified, source.id
        assert source.verified.startswith(("unverified", "stored copy", "third-party")), source.id
