"""Tests for extractors.listings: link selection, titles, dates, pagination, bad config."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from extractors.listings import find_date, no_links_problem, parse_listing, same_site

PAGE_URL = "https://www.mfa.example/en/press-releases/?page=1#top"

PRESS_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Press releases – Ministry of Foreign Affairs</title>
  <link rel="next" href="/en/press-releases/?page=2">
</head>
<body>
  <nav class="menu">
    <a href="/en/">Home</a>
    <a href="/en/ministry/">The Ministry</a>
    <a href="/en/press-releases/">Press releases</a>
  </nav>
  <main>
    <ul class="releases">
      <li class="release">
        <a href="/en/press-releases/2026/11/statement-sudan#main">
          Statement  on the situation
          in Sudan
        </a>
        <time datetime="2026-11-28T10:00:00+01:00">28 November 2026</time>
      </li>
      <li class="release">
        <a href="/en/press-releases/2026/11/minister-meets-counterpart-from-chile"
           title="Minister meets counterpart from Chile"><img src="/img/chile.jpg" alt=""></a>
        <h3><a href="/en/press-releases/2026/11/minister-meets-counterpart-from-chile">
          Minister meets counterpart from Chile</a></h3>
        <span class="date">Published 27/11/2026</span>
      </li>
      <li class="release">
        <div class="teaser">
          <a href="/en/press-releases/2026/11/joint-statement-on-the-2026-10-12-summit">
            Joint statement on the 2026-10-12 summit</a>
          <p>Posted on November 25, 2026</p>
        </div>
      </li>
      <li class="release">
        <a href="/en/press-releases/2026/11/statement-sudan">Statement on Sudan (again)</a>
      </li>
      <li class="release">
        <a href="https://other.example/en/press-releases/2026/11/syndicated">Syndicated copy</a>
      </li>
      <li class="release">
        <a href="/en/press-releases/2026/11/no-date">A release without a date</a>
      </li>
    </ul>
    <div class="pager">
      <a href="/en/press-releases/?page=1">1</a>
      <a href="/en/press-releases/?page=2">2</a>
      <a href="/en/press-releases/?page=2">Next »</a>
    </div>
  </main>
  <footer><a href="/en/contact/">Contact</a> <a href="mailto:press@mfa.example">Mail</a></footer>
</body>
</html>
"""

ARTICLES = [
    "https://www.mfa.example/en/press-releases/2026/11/statement-sudan",
    "https://www.mfa.example/en/press-releases/2026/11/minister-meets-counterpart-from-chile",
    "https://www.mfa.example/en/press-releases/2026/11/joint-statement-on-the-2026-10-12-summit",
    "https://www.mfa.example/en/press-releases/2026/11/no-date",
]


def test_listing_by_pattern() -> None:
    listing = parse_listing(PRESS_PAGE, url=PAGE_URL, link_pattern=r"/press-releases/\d{4}/")

    # Relative links resolved, fragment dropped, the repeated link kept once, nav and the
    # off-site copy excluded.
    assert [e.link for e in listing.entries] == ARTICLES
    sudan, chile, summit, undated = listing.entries
    assert sudan.title == "Statement on the situation in Sudan"
    assert sudan.published == datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    assert sudan.language == "en"
    assert sudan.guid is None
    # The image link comes first; the title is its title attribute.
    assert chile.title == "Minister meets counterpart from Chile"
    assert chile.published == datetime(2026, 11, 27, tzinfo=UTC)
    # The date in the surrounding text wins over the one in the title.
    assert summit.published == datetime(2026, 11, 25, tzinfo=UTC)
    assert undated.published is None
    assert listing.next_page == "https://www.mfa.example/en/press-releases/?page=2"


def test_listing_by_selector_as_bytes() -> None:
    listing = parse_listing(
        PRESS_PAGE.encode(), url=PAGE_URL, link_selector="ul.releases li.release"
    )
    # Elements containing <a> are taken too; nav, pager and footer are outside the selector.
    assert [e.link for e in listing.entries] == ARTICLES
    assert listing.entries[1].title == "Minister meets counterpart from Chile"


def test_selector_and_pattern_together() -> None:
    listing = parse_listing(
        PRESS_PAGE,
        url=PAGE_URL,
        link_selector="li.release h3 a, li.release > a",
        link_pattern="sudan",
    )
    assert [e.link for e in listing.entries] == [ARTICLES[0]]


def test_pattern_naming_the_host_allows_other_sites() -> None:
    listing = parse_listing(
        PRESS_PAGE, url=PAGE_URL, link_pattern=r"^https://other\.example/en/press-releases/"
    )
    assert [e.link for e in listing.entries] == [
        "https://other.example/en/press-releases/2026/11/syndicated"
    ]


def test_base_href_and_subdomains() -> None:
    html = """<html><head><base href="https://press.mfa.example/archive/"></head><body>
      <article><h2><a href="2026/statement-42.html">Statement 42</a></h2>
        <p class="meta">28.11.2026 · Press office</p></article>
      <article><h2><a href="https://www.mfa.example/en/other.html">Other</a></h2></article>
    </body></html>"""
    listing = parse_listing(html, url="https://www.mfa.example/en/news", link_selector="article a")

    assert [e.link for e in listing.entries] == [
        "https://press.mfa.example/archive/2026/statement-42.html",
        "https://www.mfa.example/en/other.html",
    ]
    assert listing.entries[0].published == datetime(2026, 11, 28, tzinfo=UTC)
    assert listing.entries[0].language is None


def test_next_page_from_next_link_text() -> None:
    html = """<html><body><div class="list">
      <div class="item"><a href="/communiques/1">Communiqué un</a>
        <span>28 novembre 2026</span></div>
      <div class="item"><a href="/communiques/2">Communiqué deux</a></div>
    </div>
    <p class="pages"><a href="/communiques?p=1">«</a> <a href="/communiques?p=3">Suivant ›</a></p>
    </body></html>"""
    listing = parse_listing(
        html, url="https://mae.example/communiques?p=2", link_pattern=r"/communiques/\d+$"
    )
    assert [e.title for e in listing.entries] == ["Communiqué un", "Communiqué deux"]
    assert listing.entries[0].published == datetime(2026, 11, 28, tzinfo=UTC)
    assert listing.next_page == "https://mae.example/communiques?p=3"


def test_next_page_by_a_rel_and_by_selector() -> None:
    html = """<html><body>
      <a href="/news/7">Item</a>
      <a rel="nofollow next" href="/news?page=2">2</a>
      <span class="older"><a href="/news/archive/2025">Older</a></span>
    </body></html>"""
    url = "https://gov.example/news"
    assert parse_listing(html, url=url, link_pattern="/news/").next_page == (
        "https://gov.example/news?page=2"
    )
    by_selector = parse_listing(html, url=url, link_pattern="/news/", next_selector=".older")
    assert by_selector.next_page == "https://gov.example/news/archive/2025"
    # The next page is never one of the articles.
    assert [e.link for e in by_selector.entries] == ["https://gov.example/news/7"]


def test_no_next_page() -> None:
    html = '<html><body><a href="/news/7">Item</a><a href="/news">News</a></body></html>'
    listing = parse_listing(html, url="https://gov.example/news", link_pattern="/news")
    assert listing.next_page is None


def test_layout_changed_gives_empty_listing_and_problem() -> None:
    listing = parse_listing(PRESS_PAGE, url=PAGE_URL, link_selector="div.press-list a")

    assert listing.entries == ()
    problem = no_links_problem(PAGE_URL, "div.press-list a", None)
    assert problem.startswith("layout changed: no article links matched")
    assert "div.press-list a" in problem
    assert PAGE_URL in problem


def test_empty_page() -> None:
    listing = parse_listing(b"", url=PAGE_URL, link_pattern="x")
    assert listing.entries == ()
    assert listing.next_page is None


def test_selector_or_pattern_is_required() -> None:
    with pytest.raises(ValueError, match="link_selector, a link_pattern or both"):
        parse_listing(PRESS_PAGE, url=PAGE_URL)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"link_selector": "li[[["},
        {"link_pattern": "(unclosed"},
        {"link_pattern": "x", "next_selector": "::"},
    ],
)
def test_invalid_selector_or_pattern(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="invalid"):
        parse_listing(PRESS_PAGE, url=PAGE_URL, **kwargs)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Published 2026-11-28 at noon", datetime(2026, 11, 28, tzinfo=UTC)),
        ("28 November 2026", datetime(2026, 11, 28, tzinfo=UTC)),
        ("1st Dec. 2026", datetime(2026, 12, 1, tzinfo=UTC)),
        ("November 28, 2026", datetime(2026, 11, 28, tzinfo=UTC)),
        ("28/11/2026", datetime(2026, 11, 28, tzinfo=UTC)),
        ("11/28/2026", datetime(2026, 11, 28, tzinfo=UTC)),
        ("03/04/2026", datetime(2026, 4, 3, tzinfo=UTC)),
        ("28.11.2026", datetime(2026, 11, 28, tzinfo=UTC)),
        ("28 de noviembre de 2026", datetime(2026, 11, 28, tzinfo=UTC)),
        ("28. März 2026", datetime(2026, 3, 28, tzinfo=UTC)),
        ("le 1er février 2026", datetime(2026, 2, 1, tzinfo=UTC)),
        ("Updated 2 Jan 2026, first published 28 November 2025", datetime(2026, 1, 2, tzinfo=UTC)),
        ("31/02/2026", None),
        ("Room 12 of 2026 attendees", None),
        ("", None),
    ],
)
def test_find_date(text: str, expected: datetime | None) -> None:
    assert find_date(text) == expected


def test_same_site() -> None:
    assert same_site("https://press.mfa.example/a", "https://www.mfa.example/")
    assert same_site("https://www.diplomatie.gouv.fr/a", "https://diplomatie.gouv.fr/")
    assert same_site("https://en.diplomatie.gouv.fr/a", "https://www.diplomatie.gouv.fr/")
    assert not same_site("https://interieur.gouv.fr/a", "https://www.diplomatie.gouv.fr/")
    assert not same_site("https://other.example/a", "https://www.mfa.example/")
