"""alerts.match: which items a rule selects, and parsing watch lists."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from alerts.match import keyword_matches, matches, parse_countries
from alerts.records import AlertItem, CountryHit, Rule

SYRIA = CountryHit("SY", "Syria", 0.3, "Fighting in Syria.", "Syria")
PAKISTAN = CountryHit("PK", "Pakistan", 0.8, "Pakistan said.", "Pakistan")
RUSSIA = CountryHit("RU", "Russia", 0.5, "Russia too.", "Russia")


def _item(**changes: Any) -> AlertItem:
    item = AlertItem(
        item_id=1,
        title='Pakistan "deeply concerned" about escalation in Syria',
        url="https://mofa.example/pk/1",
        source_id="mofa-pk",
        source_name="Ministry of Foreign Affairs of Pakistan",
        source_kind="foreign_office",
        published_at=datetime(2026, 11, 28, 9, 30, tzinfo=UTC),
        countries=(PAKISTAN, RUSSIA, SYRIA),
        text="Islamabad called for a ceasefire and for peace talks in Geneva.",
    )
    return replace(item, **changes)


def _rule(**changes: Any) -> Rule:
    rule = Rule(subscriber_id=7, email="ann@example.com", name="Ann", countries=frozenset({"SY"}))
    return replace(rule, **changes)


def test_watched_country_matches() -> None:
    assert matches(_rule(), _item()) == (SYRIA,)


def test_unwatched_countries_do_not_match() -> None:
    assert matches(_rule(countries=frozenset({"IR", "IQ"})), _item()) == ()
    assert matches(_rule(countries=frozenset()), _item()) == ()


def test_hits_are_most_salient_first_whatever_the_rule_order() -> None:
    item = _item(countries=(SYRIA, PAKISTAN, RUSSIA))  # deliberately not sorted
    assert matches(_rule(countries=frozenset({"SY", "RU", "PK"})), item) == (
        PAKISTAN,
        RUSSIA,
        SYRIA,
    )


def test_lower_case_rule_codes_match() -> None:
    assert matches(_rule(countries=frozenset({"sy"})), _item()) == (SYRIA,)


def test_min_salience_drops_weak_mentions() -> None:
    rule = _rule(countries=frozenset({"SY", "RU"}), min_salience=0.5)
    assert matches(rule, _item()) == (RUSSIA,)  # exactly at the threshold counts
    assert matches(_rule(min_salience=0.31), _item()) == ()
    assert matches(_rule(min_salience=0.3), _item()) == (SYRIA,)


def test_source_kind_filter() -> None:
    assert matches(_rule(source_kinds=frozenset({"foreign_office"})), _item()) == (SYRIA,)
    assert matches(_rule(source_kinds=frozenset({"news"})), _item()) == ()


def test_source_id_filter() -> None:
    assert matches(_rule(source_ids=frozenset({"mofa-pk", "bbc"})), _item()) == (SYRIA,)
    assert matches(_rule(source_ids=frozenset({"bbc"})), _item()) == ()


def test_keyword_in_text_or_title_any_case() -> None:
    assert matches(_rule(keywords=("CEASEFIRE",)), _item()) == (SYRIA,)
    assert matches(_rule(keywords=("escalation",)), _item(text="")) == (SYRIA,)
    assert matches(_rule(keywords=("sanctions", "Geneva")), _item()) == (SYRIA,)
    assert matches(_rule(keywords=("sanctions",)), _item()) == ()


def test_single_word_keyword_is_whole_word() -> None:
    assert matches(_rule(keywords=("cease",)), _item()) == ()  # not inside "ceasefire"
    assert matches(_rule(keywords=("Islam",)), _item()) == ()  # not inside "Islamabad"
    assert keyword_matches(["U.S."], "The U.S. said")
    assert keyword_matches(["cease-fire"], "A cease-fire, at last")


def test_phrase_keyword_is_substring_across_whitespace() -> None:
    assert matches(_rule(keywords=("Peace  Talks",)), _item()) == (SYRIA,)
    assert keyword_matches(["peace talks"], "the peace\n talks resumed")
    assert not keyword_matches(["talks peace"], "peace talks")


def test_blank_keywords_impose_nothing() -> None:
    assert matches(_rule(keywords=(" ",)), _item()) == (SYRIA,)


def test_all_conditions_must_hold() -> None:
    rule = _rule(
        countries=frozenset({"SY", "PK"}),
        source_kinds=frozenset({"foreign_office"}),
        source_ids=frozenset({"mofa-pk"}),
        keywords=("ceasefire",),
        min_salience=0.5,
    )
    assert matches(rule, _item()) == (PAKISTAN,)
    assert matches(rule, _item(source_id="mofa-tr")) == ()
    assert matches(rule, _item(text="no keyword here")) == ()


def test_parse_countries_codes() -> None:
    assert parse_countries(["SY", "sy", " pk ", "XK"]) == ["SY", "PK", "XK"]


def test_parse_countries_names() -> None:
    assert parse_countries(["Syria", "United States", "Côte d'Ivoire", "the United States"]) == [
        "SY",
        "US",
        "CI",
    ]


def test_parse_countries_name_that_is_not_a_code() -> None:
    assert parse_countries(["UK"]) == ["GB"]  # not an ISO code, but a name of Britain


@pytest.mark.parametrize("value", ["Atlantis", "ZZ", "Syria and Iraq", "Syrian", "Syria is"])
def test_parse_countries_unknown_value(value: str) -> None:
    with pytest.raises(ValueError, match=f"unknown country '{value}'"):
        parse_countries(["SY", value])


def test_parse_countries_empty_value() -> None:
    with pytest.raises(ValueError, match="empty country"):
        parse_countries([" "])
