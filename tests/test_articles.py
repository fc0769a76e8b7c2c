"""Tests for extractors.articles: boilerplate removal, metadata, charsets and refusals."""

from __future__ import annotations

from datetime import date

from extractors.articles import extract_article

PARAGRAPHS = [
    "The foreign ministers of Kenya and Tanzania met in Nairobi on Monday to discuss the "
    "reopening of the border crossing at Namanga, which has been closed to freight since March.",
    "Officials said the two governments agreed a timetable for joint customs inspections and "
    "would ask the East African Community secretariat to monitor the arrangement.",
    "Traders on both sides welcomed the news, saying the closure had doubled the cost of moving "
    "maize and cement between the two countries over the past six months.",
    "A further meeting is planned in Dar es Salaam next month, where the ministers expect to "
    "sign a memorandum covering rail freight and the shared fibre-optic backbone.",
]

BOILERPLATE = [
    "We use cookies to improve your experience. Accept all cookies",
    "Home World Politics Business Sport Subscribe",
    "Copyright 2025 Example Media Group. All rights reserved. Privacy policy",
    "Most read: Ten best beaches of the coast you must visit this summer",
]


def news_page(charset: str = "utf-8", extra: str = "") -> str:
    body = "\n".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
  <meta charset="{charset}">
  <title>Kenya and Tanzania agree to reopen border | Example News</title>
  <meta property="og:title" content="Kenya and Tanzania agree to reopen border">
  <meta name="author" content="Amina Odhiambo">
  <meta property="article:published_time" content="2025-05-12T09:30:00+03:00">
  <meta name="description" content="Ministers set a timetable for joint customs checks.">
  <meta property="og:site_name" content="Example News">
</head>
<body>
  <div id="cookie-banner" class="cookie-consent">
    <p>{BOILERPLATE[0]}</p><button>Accept</button>
  </div>
  <header><nav><ul>
    <li><a href="/">Home</a></li><li><a href="/world">World</a></li>
    <li><a href="/politics">Politics</a></li><li><a href="/business">Business</a></li>
    <li><a href="/sport">Sport</a></li><li><a href="/subscribe">Subscribe</a></li>
  </ul></nav></header>
  <main>
    <article>
      <h1>Kenya and Tanzania agree to reopen border</h1>
      <p class="byline">By Amina Odhiambo</p>
      {body}
      {extra}
    </article>
    <aside class="most-read"><h2>Most read</h2><ul>
      <li><a href="/travel/beaches">{BOILERPLATE[3]}</a></li>
    </ul></aside>
  </main>
  <footer><p>{BOILERPLATE[2]}</p><a href="/privacy">Privacy policy</a></footer>
</body>
</html>"""


def test_article_text_without_boilerplate_and_with_metadata() -> None:
    article = extract_article(news_page(), url="https://news.example.com/2025/05/border")

    assert article is not None
    for paragraph in PARAGRAPHS:
        assert paragraph in article.text
    for chrome in BOILERPLATE:
        assert chrome not in article.text
    assert "cookies" not in article.text.lower()
    assert article.title == "Kenya and Tanzania agree to reopen border"
    # The headline is in .title, not repeated as the first line of the body.
    assert not article.text.startswith(article.title)
    assert article.author == "Amina Odhiambo"
    assert article.published == date(2025, 5, 12)
    assert article.language == "en-GB"
    assert article.description == "Ministers set a timetable for joint customs checks."
    assert article.sitename == "Example News"


def test_bytes_in_a_charset_declared_by_meta() -> None:
    extra = (
        "<p>La ministre française s'est rendue à Genève puis à Zürich, où elle a évoqué "
        "la coopération avec la Côte d'Ivoire et le Bénin lors d'une réunion élargie.</p>"
    )
    html = news_page(charset="windows-1252", extra=extra).encode("windows-1252")

    article = extract_article(html)

    assert article is not None
    assert "à Genève puis à Zürich" in article.text
    assert "Côte d'Ivoire et le Bénin" in article.text
    assert "\ufffd" not in article.text


def test_latin1_meta_label_decodes_as_windows_1252() -> None:
    # Browsers read "iso-8859-1" as windows-1252, where 0x93/0x94 are curly quotes.
    extra = "<p>The spokesman called the deal \u201ca turning point\u201d for the region.</p>"
    html = news_page(charset="iso-8859-1", extra=extra).encode("windows-1252")

    article = extract_article(html)

    assert article is not None
    assert "\u201ca turning point\u201d" in article.text


def test_utf8_bytes_are_extracted() -> None:
    extra = "<p>Die Außenministerin reiste weiter nach Côte d’Ivoire und São Tomé.</p>"

    article = extract_article(news_page(extra=extra).encode("utf-8"))

    assert article is not None
    assert "Côte d’Ivoire und São Tomé" in article.text


def test_empty_page_gives_none() -> None:
    assert extract_article("") is None
    assert extract_article(b"   \n") is None
    assert extract_article("<html><head><title>Nothing</title></head><body></body></html>") is None


def test_oversize_page_gives_none() -> None:
    page = news_page()

    assert extract_article(page, max_chars=len(page) - 1) is None
    assert extract_article(page.encode(), max_chars=1_000) is None
    assert extract_article(page, max_chars=len(page)) is not None


def test_charset_from_the_http_header_decodes_a_page_without_a_meta_charset() -> None:
    text = "Россия и Казахстан подписали договор о транзите грузов через Каспий."
    body = f"<html><body><article><p>{text}</p></article></body></html>".encode("koi8-r")

    article = extract_article(body, charset="koi8-r")

    assert article is not None
    assert article.text == text
