"""Country detection: gazetteer matching, blockers, case rules, offsets and summaries."""

from collections.abc import Collection

import pycountry
import pytest

from extractors.countries import CountrySummary, Mention, detect, summarize
from extractors.countries.gazetteer import load_gazetteer

# A paraphrase of a foreign-office briefing covering the cases a desk cares about.
BRIEFING = (
    "ISLAMABAD: Pakistan voiced concern on Thursday about fighting in Syria, with "
    "consequences for the Middle East. Rebels entered Aleppo as the Syrian army pulled back; "
    "in 2016 forces backed by Russia and Iran had retaken Aleppo’s east.\n"
    "Islamabad also welcomed a UN vote asking Israel to leave Palestinian land. "
    "“The killing in Gaza must stop,” the spokesperson said."
)


def codes(
    text: str, *, language: str | None = None, countries: Collection[str] | None = None
) -> list[str]:
    return [m.country for m in detect(text, language=language, countries=countries)]


def test_briefing_countries() -> None:
    mentions = detect(BRIEFING)
    assert {m.country for m in mentions} == {"PK", "SY", "RU", "IR", "IL", "PS"}
    by_surface = {m.surface: (m.country, m.kind) for m in mentions}
    assert by_surface["ISLAMABAD"] == ("PK", "capital")
    assert by_surface["Aleppo"] == ("SY", "city")
    assert by_surface["Gaza"] == ("PS", "city")
    assert by_surface["Palestinian"] == ("PS", "demonym")
    assert by_surface["Syrian"] == ("SY", "demonym")
    middle_east = BRIEFING.index("Middle East")
    assert not [m for m in mentions if m.start <= middle_east < m.end]


def test_mentions_sorted_and_offsets_match_surface() -> None:
    mentions = detect(BRIEFING)
    assert [m.start for m in mentions] == sorted(m.start for m in mentions)
    assert all(BRIEFING[m.start : m.end] == m.surface for m in mentions)
    assert mentions[0] == Mention("PK", 0, 9, "ISLAMABAD", "capital")


def test_names_inside_words_do_not_match() -> None:
    assert codes("A woman from Somalia spoke about Romania.") == ["SO", "RO"]
    assert codes("The woman said so.") == []
    assert codes("Oman and Mali signed.") == ["OM", "ML"]


def test_blockers_hide_shorter_names() -> None:
    assert codes("Michael Jordan's sneakers sold well.") == []
    assert codes("Jordan's king met Egypt's president.") == ["JO", "EG"]
    assert codes("Voters in New Mexico and New Jersey.") == []
    assert codes("Oil spills in the Niger Delta.") == ["NG"]
    assert codes("Floods in Papua New Guinea.") == ["PG"]
    assert codes("Talks between Sudan and South Sudan.") == ["SD", "SS"]
    assert codes("South Sudan's oil resumed.") == ["SS"]
    assert codes("The Dominican Republic and Haiti.") == ["DO", "HT"]
    assert codes("Elections in Northern Ireland and Ireland.") == ["GB", "IE"]
    assert codes("Equatorial Guinea and Guinea-Bissau, not Guinea.") == ["GQ", "GW", "GN"]
    assert codes("The Georgia state legislature met in Washington state.") == []
    assert codes("She flew to Washington, then to Lebanon, Ohio.") == ["US"]
    assert codes("Pilgrims in Jerusalem.") == []
    assert codes("He kept a guinea pig.") == []


def test_leftmost_longest_mention_surface() -> None:
    (mention,) = detect("Aid reached Papua New Guinea.")
    assert (mention.surface, mention.start, mention.end) == ("Papua New Guinea", 12, 28)


def test_case_sensitive_aliases() -> None:
    assert codes("Let us talk to them.") == []
    assert codes("The US and the UK agreed; the UAE did not.") == ["US", "GB", "AE"]
    assert codes("a turkey sandwich and china plates") == []
    assert codes("Turkey sandwiches were served.") == []
    assert codes("Turkey and China held talks.") == ["TR", "CN"]
    assert codes("TURKEY BLOCKS ACCESS") == ["TR"]


def test_given_name_followed_by_surname_is_not_a_country() -> None:
    assert codes("Chad Smith and Mali Ahmed scored.") == []
    assert codes("Chad's army and Mali's junta.") == ["TD", "ML"]
    assert codes("Students at Georgia Tech.") == []


def test_demonyms_and_plurals() -> None:
    assert codes("A Nigerien soldier and a Nigerian trader.") == ["NE", "NG"]
    assert codes("Syrians, Pakistanis, Afghans and Israelis.") == ["SY", "PK", "AF", "IL"]
    assert codes("Filipino, Dutch, Emirati and Saudi officials.") == ["PH", "NL", "AE", "SA"]
    assert codes("American and British envoys.") == ["US", "GB"]
    assert [m.kind for m in detect("Chinese diplomats")] == ["demonym"]


def test_possessives_with_straight_and_curly_apostrophes() -> None:
    assert codes("Pakistan's envoy and Syria’s minister.") == ["PK", "SY"]
    assert codes("Côte d’Ivoire, Cote d'Ivoire and Côte d'Ivoire.") == ["CI", "CI", "CI"]


def test_accent_stripped_variants() -> None:
    assert codes("Flights from Bogota and Bogotá to Asuncion.") == ["CO", "CO", "PY"]


def test_offsets_survive_length_changing_case_mappings() -> None:
    # "İ".lower() is two characters; "ß" and "ẞ" fold differently from casefold().
    text = "İİİ Straße ẞ: İstanbul talks; Syria’s envoy met Pakistan's. İ Iran"
    mentions = detect(text)
    assert [m.country for m in mentions] == ["TR", "SY", "PK", "IR"]
    assert all(text[m.start : m.end] == m.surface for m in mentions)
    assert [m.surface for m in mentions] == ["İstanbul", "Syria", "Pakistan", "Iran"]


def test_countries_filter() -> None:
    assert codes("France, Germany and Ukraine.", countries=["UA", "FR"]) == ["FR", "UA"]
    assert detect("France and Germany.", countries=[]) == []


def test_capitals_and_cities() -> None:
    assert codes("Kyiv, Kiev, Odesa and Kharkiv.") == ["UA"] * 4
    assert codes("From London to New Delhi via St Petersburg.") == ["GB", "IN", "RU"]
    assert codes("A tour of St. Petersburg, Florida.") == []
    assert codes("Ankara and Athens resumed talks.") == ["TR", "GR"]


def test_other_languages_and_language_hint() -> None:
    assert codes("日本外务省对朝鲜发射导弹表示抗议。") == ["JP", "KP"]
    assert codes("Le Maroc et la Tunisie ont rappelé leurs ambassadeurs.") == ["MA", "TN"]
    assert codes("МИД Украины осудил удар.") == ["UA"]
    assert codes("Le Maroc et la Tunisie.", language="en") == []
    assert codes("Le Maroc et la Tunisie.", language="fr-FR") == ["MA", "TN"]


def test_gazetteer_maps_only_to_iso_codes() -> None:
    valid = {c.alpha_2 for c in pycountry.countries} | {"XK"}
    table = load_gazetteer().keys
    mapped = {entry.country for entries in table.values() for entry in entries}
    assert mapped - {None} <= valid
    assert {"XK", "PS", "SS", "GB", "US"} <= mapped
    assert None in mapped  # blockers are present
    # one country per key and language
    for entries in table.values():
        per_language: dict[str, set[str | None]] = {}
        for entry in entries:
            per_language.setdefault(entry.language, set()).add(entry.country)
        assert all(len(found) == 1 for found in per_language.values()), entries


TEXT = (
    "Talks in Cairo were brief. Egypt and Sudan discussed the dam, and Egypt said little. "
    "Later, Egyptian officials met again.\nSudan left early."
)


def test_summarize_counts_offsets_snippets_and_kind() -> None:
    summaries = summarize(TEXT, detect(TEXT))
    by_code = {s.country: s for s in summaries}
    assert set(by_code) == {"EG", "SD"}
    egypt = by_code["EG"]
    assert (egypt.count, egypt.first_offset, egypt.kind) == (4, 9, "name")
    assert egypt.snippet == "Talks in Cairo were brief."
    sudan = by_code["SD"]
    assert (sudan.count, sudan.first_offset) == (2, TEXT.index("Sudan"))
    assert sudan.snippet == "Egypt and Sudan discussed the dam, and Egypt said little."
    assert [s.country for s in summaries] == ["EG", "SD"]
    assert all(0.0 <= s.salience <= 1.0 for s in summaries)


def test_title_mention_raises_salience() -> None:
    mentions = detect(TEXT)
    plain = {s.country: s.salience for s in summarize(TEXT, mentions)}
    titled = summarize(TEXT, mentions, title="Sudan walks out")
    assert titled[0].country == "SD"
    assert {s.country: s.salience for s in titled}["SD"] > plain["SD"]
    assert {s.country: s.salience for s in titled}["EG"] == plain["EG"]


def test_lead_mention_outranks_deep_single_mention() -> None:
    text = "Chile held talks. " + "Nothing else happened here. " * 30 + "Peru was mentioned."
    summaries = summarize(text, detect(text))
    assert [s.country for s in summaries] == ["CL", "PE"]
    assert summaries[0].salience > summaries[1].salience


def test_snippet_trimmed_around_mention() -> None:
    text = "Words " * 100 + "then Kenya appeared " + "and more words " * 100 + "."
    (summary,) = summarize(text, detect(text), snippet_chars=60)
    assert isinstance(summary, CountrySummary)
    assert len(summary.snippet) <= 60
    assert "Kenya" in summary.snippet
    assert summary.snippet.startswith("…")
    assert summary.snippet.endswith("…")


def test_summarize_nothing() -> None:
    assert summarize("No countries here.", []) == []


@pytest.mark.parametrize(
    "text",
    [
        "In the video a man speaks in Spanish.",
        "She is studying Portuguese in Lisbon.",
        "a French-language daily",
        "Dane guns were seized at the checkpoint.",
    ],
)
def test_a_language_or_a_thing_named_after_a_country_is_not_the_country(text: str) -> None:
    assert {m.country for m in detect(text)} <= {"PT"}  # Lisbon is still Portugal's capital


def test_a_demonym_after_in_is_still_the_country() -> None:
    found = {m.country for m in detect("The crew was held in Russian custody near Chinese waters.")}
    assert found == {"RU", "CN"}


def test_kinds_filter_keeps_only_those_kinds_and_longest_match_still_wins() -> None:
    text = "Officials in New Delhi and Karachi spoke to Pakistani and Indian reporters."

    everything = {(m.surface, m.kind) for m in detect(text)}
    places = {(m.surface, m.kind) for m in detect(text, kinds=["capital", "city"])}
    names = {(m.country, m.kind) for m in detect(text, kinds=["demonym"])}

    assert ("New Delhi", "capital") in everything
    assert places == {("New Delhi", "capital"), ("Karachi", "city")}
    assert names == {("PK", "demonym"), ("IN", "demonym")}


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("Saint-Martin", "MF"),
        ("St. Maarten", "SX"),
        ("Saint Helena", "SH"),
        ("Macau", "MO"),
        ("N. Korea fired a missile", "KP"),
        ("British Guiana", "GY"),
        ("Dutch Guiana", "SR"),
    ],
)
def test_territories_and_former_names_resolve_to_one_country(text: str, country: str) -> None:
    assert [m.country for m in detect(text)] == [country]
