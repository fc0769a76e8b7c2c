"""Country detection in the languages foreign offices publish in: inflections, clitics,
scripts without spaces, accents, and the language hint."""

import pytest

from extractors.countries import detect


def found(text: str, *, language: str | None = None) -> list[tuple[str, str, str]]:
    return [(m.surface, m.country, m.kind) for m in detect(text, language=language)]


def codes(text: str, *, language: str | None = None) -> list[str]:
    return [m.country for m in detect(text, language=language)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Делегация России прибыла.", ["RU"]),
        ("Переговоры с Россией и визит в Россию.", ["RU", "RU"]),
        ("МИД Украины, помощь Украине, удар по Украине, с Украиной.", ["UA"] * 4),
        ("Встреча с Израилем; посол Израиля; в Израиле.", ["IL"] * 3),
        ("Выборы в Казахстане; граница Казахстана; с Казахстаном.", ["KZ"] * 3),
        ("Посол Южной Кореи и Соединенных Штатов.", ["KR", "US"]),
        ("МИД РФ и США.", ["RU", "US"]),
    ],
)
def test_russian_inflections(text: str, expected: list[str]) -> None:
    assert codes(text) == expected


def test_russian_city_inflection_is_a_place() -> None:
    assert found("Удар по Одессе и Киеву.") == [
        ("Одессе", "UA", "city"),
        ("Киеву", "UA", "capital"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("العراقي", ("IQ", "demonym")),
        ("العراقية", ("IQ", "demonym")),
        ("العراقيين", ("IQ", "demonym")),
        ("العراقيون", ("IQ", "demonym")),
        ("مصري", ("EG", "demonym")),
        ("بالأردن", ("JO", "name")),
        ("والسعودية", ("SA", "name")),
        ("لإسرائيل", ("IL", "name")),
        ("للبنان", ("LB", "name")),
        ("فلسطيني", ("PS", "demonym")),
        ("وحلب", ("SY", "city")),
    ],
)
def test_arabic_proclitics_and_nisba(text: str, expected: tuple[str, str]) -> None:
    sentence = f"قال الوزير إن {text} اليوم"
    assert [(m.country, m.kind) for m in detect(sentence)] == [expected]
    assert [m.surface for m in detect(sentence)] == [text]


def test_arabic_sentence() -> None:
    text = "وزير الخارجية الأردني يلتقي نظيره العراقي في بغداد."
    assert found(text) == [
        ("الأردني", "JO", "demonym"),
        ("العراقي", "IQ", "demonym"),
        ("بغداد", "IQ", "capital"),
    ]


def test_arabic_words_that_only_look_like_names() -> None:
    assert codes("الوضع المالي صعب") == []  # مالي is "financial" here, not Mali
    assert codes("ماليزيا") == ["MY"]  # no Mali inside Malaysia


def test_chinese_without_spaces() -> None:
    assert found("以色列和叙利亚人在朝鲜。") == [
        ("以色列", "IL", "name"),
        ("叙利亚人", "SY", "demonym"),
        ("朝鲜", "KP", "name"),
    ]
    assert codes("美国总统访问北京和上海。") == ["US", "CN", "CN"]
    # longest match: Indonesia is not India, South Sudan is not Sudan
    assert codes("印度尼西亚和南苏丹") == ["ID", "SS"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("La France et la Côte d’Ivoire, le Sénégal et les États-Unis.", ["FR", "CI", "SN", "US"]),
        ("Les Etats-Unis et le Senegal.", ["US", "SN"]),
        ("Au Maroc, en Algérie et en Tunisie.", ["MA", "DZ", "TN"]),
        ("España y México; Alemania y Perú.", ["ES", "MX", "DE", "PE"]),
        ("Los EE. UU. y Francia.", ["US", "FR"]),
        ("Deutschland und Österreich sowie die Türkei.", ["DE", "AT", "TR"]),
        ("O Brasil, Moçambique e Angola; a Alemanha.", ["BR", "MZ", "AO", "DE"]),
    ],
)
def test_romance_and_german_names_with_and_without_accents(text: str, expected: list[str]) -> None:
    assert codes(text) == expected


def test_demonyms_i18n_missing_file_is_empty() -> None:
    # The file is optional; whether or not it exists, loading never fails and French names
    # still match.
    assert codes("Le Maroc.") == ["MA"]


def test_language_hint_limits_languages() -> None:
    assert codes("Россия и Украина.", language="fr") == []
    assert codes("Россия и Украина.", language="ru") == ["RU", "UA"]
    assert codes("Россия и Украина.", language="ru-RU") == ["RU", "UA"]
    assert codes("Le Maroc et la Tunisie.", language="en") == []
    assert codes("Le Maroc and Syria.", language="fr") == ["MA", "SY"]  # English always on
    assert codes("以色列", language="ar") == []
    assert codes("以色列", language="zh-CN") == ["IL"]
