"""Tests for extractors.sitemaps: urlset, index, Google News, gzip, text, bad input."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from config.errors import FeedParseError
from extractors.sitemaps import parse_sitemap, to_utc_datetime

SITEMAP_URL = "https://www.mfa.example/sitemap.xml"

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url>
    <loc>https://www.mfa.example/en/press/statement-on-the-ceasefire</loc>
    <lastmod>2026-11-28T09:15:00+01:00</lastmod>
    <changefreq>never</changefreq>
  </url>
  <url>
    <loc>
      https://www.mfa.example/en/press/minister-visits-dakar
    </loc>
    <lastmod>2026-11-27</lastmod>
  </url>
  <url><loc>/en/press/relative-location?id=7&page=2</loc></url>
  <url><loc>https://www.mfa.example/en/press/statement-on-the-ceasefire</loc></url>
  <url><lastmod>2026-11-01</lastmod></url>
</urlset>
"""


def test_urlset_with_lastmod() -> None:
    sitemap = parse_sitemap(URLSET, url=SITEMAP_URL)

    assert sitemap.children == ()
    assert [e.link for e in sitemap.entries] == [
        "https://www.mfa.example/en/press/statement-on-the-ceasefire",
        "https://www.mfa.example/en/press/minister-visits-dakar",
        # Relative, with a bare "&": resolved against the sitemap URL and kept intact.
        "https://www.mfa.example/en/press/relative-location?id=7&page=2",
    ]
    first, second, third = sitemap.entries
    assert first.published == datetime(2026, 11, 28, 8, 15, tzinfo=UTC)
    assert second.published == datetime(2026, 11, 27, tzinfo=UTC)
    assert third.published is None
    assert first.title is None
    assert first.guid is None


def test_urlset_without_namespace() -> None:
    data = (
        b"<urlset><url><loc>https://news.example/a</loc><lastmod>2026-11</lastmod></url></urlset>"
    )
    (entry,) = parse_sitemap(data, url="https://news.example/sitemap.xml").entries
    assert entry.link == "https://news.example/a"
    assert entry.published == datetime(2026, 11, 1, tzinfo=UTC)


def test_sitemap_index_lists_children() -> None:
    data = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap>
    <loc>https://www.mfa.example/sitemap-press-2026.xml</loc>
    <lastmod>2026-11-28</lastmod>
  </sitemap>
  <sitemap><loc>/sitemap-press-2025.xml.gz</loc></sitemap>
  <sitemap><loc>https://www.mfa.example/sitemap-press-2026.xml</loc></sitemap>
</sitemapindex>
"""
    sitemap = parse_sitemap(data, url=SITEMAP_URL)

    assert sitemap.entries == ()
    assert sitemap.children == (
        "https://www.mfa.example/sitemap-press-2026.xml",
        "https://www.mfa.example/sitemap-press-2025.xml.gz",
    )


def test_gzip_bytes_are_inflated() -> None:
    sitemap = parse_sitemap(gzip.compress(URLSET), url=SITEMAP_URL + ".gz")
    assert len(sitemap.entries) == 3
    assert sitemap.entries[0].link == "https://www.mfa.example/en/press/statement-on-the-ceasefire"


def test_google_news_sitemap() -> None:
    data = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url>
    <loc>https://www.mfa.example/fr/presse/declaration-liban</loc>
    <lastmod>2026-11-28T12:00:00Z</lastmod>
    <news:news>
      <news:publication>
        <news:name>Ministère des Affaires étrangères</news:name>
        <news:language>fr</news:language>
      </news:publication>
      <news:publication_date>2026-11-28T10:30:00+01:00</news:publication_date>
      <news:title>Liban – Déclaration  de la porte-parole</news:title>
    </news:news>
  </url>
</urlset>
""".encode()
    (entry,) = parse_sitemap(data, url=SITEMAP_URL).entries

    assert entry.link == "https://www.mfa.example/fr/presse/declaration-liban"
    assert entry.title == "Liban – Déclaration de la porte-parole"
    # publication_date wins over lastmod.
    assert entry.published == datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
    assert entry.language == "fr"


def test_plain_text_sitemap() -> None:
    data = b"\xef\xbb\xbfhttps://www.mfa.example/en/a\r\n\r\n  https://www.mfa.example/en/b  \n"
    sitemap = parse_sitemap(data, url="https://www.mfa.example/sitemap.txt")
    assert [e.link for e in sitemap.entries] == [
        "https://www.mfa.example/en/a",
        "https://www.mfa.example/en/b",
    ]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty document"),
        (b"\x00\x01\x02 binary junk \xff\xfe", "neither XML nor"),
        (b"<!DOCTYPE html><html><body><p>Not found</p></body></html>", "root element is <html>"),
        (b'<rss version="2.0"><channel><title>x</title></channel></rss>', "<rss>"),
        (b"This page has moved.\nPlease update your bookmarks.\n", "neither XML nor"),
        (b"\x1f\x8b\x08\x00garbage", "gzip"),
        (gzip.compress(URLSET)[:40], "gzip"),
    ],
)
def test_not_a_sitemap(data: bytes, reason: str) -> None:
    with pytest.raises(FeedParseError, match="not a sitemap") as info:
        parse_sitemap(data, url=SITEMAP_URL)
    assert reason in str(info.value)


def test_gzip_bomb_is_refused() -> None:
    # 60 MB of spaces compress to about 60 KB.
    bomb = gzip.compress(b"<urlset>" + b" " * (60 * 1024 * 1024) + b"</urlset>")
    assert len(bomb) < 200_000
    with pytest.raises(FeedParseError, match="more than 52428800 bytes"):
        parse_sitemap(bomb, url=SITEMAP_URL + ".gz")


def test_decompression_cap_is_configurable() -> None:
    data = gzip.compress(URLSET)
    with pytest.raises(FeedParseError, match="more than 100 bytes"):
        parse_sitemap(data, url=SITEMAP_URL, max_decompressed=100)
    assert parse_sitemap(data, url=SITEMAP_URL, max_decompressed=len(URLSET)).entries


def test_concatenated_gzip_members() -> None:
    head, tail = URLSET[:200], URLSET[200:]
    sitemap = parse_sitemap(gzip.compress(head) + gzip.compress(tail), url=SITEMAP_URL)
    assert len(sitemap.entries) == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-28", datetime(2026, 11, 28, tzinfo=UTC)),
        ("2026-11-28T23:30:00-02:00", datetime(2026, 11, 29, 1, 30, tzinfo=UTC)),
        ("2026-11-28T10:00:00.250Z", datetime(2026, 11, 28, 10, 0, 0, 250000, tzinfo=UTC)),
        ("2026-11-28 10:00", datetime(2026, 11, 28, 10, 0, tzinfo=UTC)),
        ("2026", datetime(2026, 1, 1, tzinfo=UTC)),
        ("Sat, 28 Nov 2026 10:00:00 +0000", datetime(2026, 11, 28, 10, 0, tzinfo=UTC)),
        ("yesterday", None),
        ("2026-13-45", None),
        ("", None),
        (None, None),
    ],
)
def test_to_utc_datetime(text: str | None, expected: datetime | None) -> None:
    assert to_utc_datetime(text) == expected


def test_external_entities_are_not_resolved() -> None:
    data = b"""<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY secret SYSTEM "file:///etc/hostname">]>
<urlset><url><loc>https://www.mfa.example/&secret;</loc></url>
<url><loc>https://www.mfa.example/kept</loc></url></urlset>"""
    sitemap = parse_sitemap(data, url=SITEMAP_URL)
    assert [e.link for e in sitemap.entries] == ["https://www.mfa.example/kept"]
