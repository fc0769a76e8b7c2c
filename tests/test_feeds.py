"""Tests for extractors.feeds: formats, links, text cleaning, dates, encodings, bad input."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from config.errors import FeedParseError
from extractors.feeds import parse_feed

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>Ministry of Foreign Affairs</title>
    <link>https://mfa.example.org/</link>
    <language>en-gb</language>
    <item>
      <title>Statement on  the
        summit</title>
      <link>https://mfa.example.org/news/1</link>
      <guid isPermaLink="false">mfa-1</guid>
      <description>&lt;p&gt;The minister met &lt;b&gt;counterparts&lt;/b&gt; from Chile&lt;/p&gt;
        &lt;p&gt;and Peru &amp;amp; Bolivia.&lt;/p&gt;&lt;script&gt;track()&lt;/script&gt;
      </description>
      <dc:creator>Press Office</dc:creator>
      <pubDate>Tue, 10 Jun 2025 14:30:00 +0200</pubDate>
    </item>
    <item>
      <title>An item with no link</title>
      <description>Plain text</description>
    </item>
  </channel>
</rss>
"""


def test_rss20_fields() -> None:
    feed = parse_feed(RSS, url="https://mfa.example.org/rss.xml")

    assert feed.format == "rss20"
    assert feed.title == "Ministry of Foreign Affairs"
    assert feed.link == "https://mfa.example.org/"
    assert feed.language == "en-gb"
    assert feed.problem is None
    first, second = feed.entries
    assert first.title == "Statement on the summit"
    assert first.link == "https://mfa.example.org/news/1"
    assert first.guid == "mfa-1"
    assert first.author == "Press Office"
    assert first.language == "en-gb"
    # Entries without a link are kept: deciding what to do with them is not the parser's job.
    assert second.link is None
    assert second.title == "An item with no link"


def test_summary_html_is_stripped_to_plain_text() -> None:
    entry = parse_feed(RSS).entries[0]

    assert entry.summary == "The minister met counterparts from Chile and Peru & Bolivia."


def test_dates_are_aware_utc() -> None:
    entry = parse_feed(RSS).entries[0]

    assert entry.published == datetime(2025, 6, 10, 12, 30, tzinfo=UTC)
    assert entry.published.tzinfo is UTC


def test_atom10() -> None:
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">
  <title type="html">Minist&#xE8;re &lt;em&gt;des&lt;/em&gt; Affaires</title>
  <link href="https://diplomatie.example.fr/"/>
  <id>urn:uuid:feed</id>
  <updated>2025-03-01T08:00:00Z</updated>
  <entry>
    <title>Communiqu\xc3\xa9</title>
    <link rel="alternate" href="https://diplomatie.example.fr/a/1"/>
    <id>urn:uuid:1</id>
    <updated>2025-03-01T09:15:00-05:00</updated>
    <author><name>Porte-parole</name><email>presse@example.fr</email></author>
    <content type="html">&lt;p&gt;Le ministre &lt;i&gt;salue&lt;/i&gt; l'accord.&lt;/p&gt;</content>
  </entry>
</feed>
"""
    feed = parse_feed(atom)

    assert feed.format == "atom10"
    assert feed.title == "Ministère des Affaires"
    entry = feed.entries[0]
    assert entry.title == "Communiqué"
    assert entry.link == "https://diplomatie.example.fr/a/1"
    assert entry.guid == "urn:uuid:1"
    assert entry.author == "Porte-parole"
    # Only <updated> is given: it stands in for the publication date.
    assert entry.published == datetime(2025, 3, 1, 14, 15, tzinfo=UTC)
    # No <summary>: the content is the best plain-text description there is.
    assert entry.summary == "Le ministre salue l'accord."
    assert entry.language == "fr"


def test_rdf_rss10() -> None:
    rdf = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://news.example.de/rss">
    <title>Nachrichten</title>
    <link>https://news.example.de/</link>
    <description>Neues</description>
    <dc:language>de</dc:language>
  </channel>
  <item rdf:about="https://news.example.de/1">
    <title>Treffen in Berlin</title>
    <link>https://news.example.de/1</link>
    <description>Kurzmeldung</description>
    <dc:date>2024-11-05T10:00:00+01:00</dc:date>
  </item>
</rdf:RDF>
"""
    feed = parse_feed(rdf)

    assert feed.format == "rss10"
    assert feed.language == "de"
    (entry,) = feed.entries
    assert entry.title == "Treffen in Berlin"
    assert entry.link == "https://news.example.de/1"
    assert entry.published == datetime(2024, 11, 5, 9, 0, tzinfo=UTC)


def test_relative_links_resolve_against_the_feed_url() -> None:
    feed = b"""<rss version="2.0"><channel><title>t</title>
      <item><title>a</title><link>/press/2025/statement.html</link></item>
      <item><title>b</title><link>detail?id=7</link></item>
    </channel></rss>"""

    entries = parse_feed(feed, url="https://gov.example.org/feeds/en/rss.xml").entries

    assert entries[0].link == "https://gov.example.org/press/2025/statement.html"
    assert entries[1].link == "https://gov.example.org/feeds/en/detail?id=7"


def test_plain_text_title_is_not_parsed_as_html() -> None:
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
      <entry><title type="text">Tags like &lt;b&gt; &amp;amp; entities</title><id>x</id></entry>
    </feed>"""

    assert parse_feed(atom).entries[0].title == "Tags like <b> &amp; entities"


def test_unparsable_date_gives_none() -> None:
    feed = b"""<rss version="2.0"><channel><title>t</title>
      <item><title>a</title><pubDate>sometime last week</pubDate></item>
    </channel></rss>"""

    assert parse_feed(feed).entries[0].published is None


def test_declared_iso_8859_1_with_latin1_bytes() -> None:
    feed = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>'
        '<rss version="2.0"><channel><title>Notícias</title>'
        "<item><title>Visita à Côte d'Ivoire e ao México</title></item>"
        "</channel></rss>"
    ).encode("latin-1")

    parsed = parse_feed(feed)

    assert parsed.title == "Notícias"
    assert parsed.entries[0].title == "Visita à Côte d'Ivoire e ao México"
    assert parsed.problem is None


def test_http_charset_is_honoured() -> None:
    feed = (
        '<rss version="2.0"><channel><title>t</title>'
        "<item><title>Новости из Киева</title></item></channel></rss>"
    ).encode("windows-1251")

    parsed = parse_feed(feed, content_type="application/rss+xml; charset=windows-1251")

    assert parsed.entries[0].title == "Новости из Киева"


def test_declared_utf8_but_windows_1252_bytes_still_reads() -> None:
    feed = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0"><channel><title>Actualités</title>'
        "<item><title>Réunion à Genève – “accord” conclu</title><link>https://x.example/1</link></item>"
        "</channel></rss>"
    ).encode("windows-1252")

    parsed = parse_feed(feed)

    assert parsed.entries[0].title == "Réunion à Genève – “accord” conclu"
    assert "\ufffd" not in (parsed.title or "")
    # Readable, but the broken declaration is reported.
    assert parsed.problem is not None
    assert "windows-1252" in parsed.problem


def test_utf8_bytes_under_a_stale_windows_1252_declaration() -> None:
    feed = (
        '<?xml version="1.0" encoding="windows-1252"?>'
        '<rss version="2.0"><channel><title>Euro €</title></channel></rss>'
    ).encode()

    assert parse_feed(feed).title == "Euro €"


def test_leading_whitespace_before_the_xml_declaration_is_tolerated() -> None:
    feed = b'\n  <?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'

    parsed = parse_feed(feed)

    assert parsed.format == "rss20"
    assert parsed.problem is None


@pytest.mark.parametrize(
    "data",
    [
        b"<html>not a feed",
        b"<!DOCTYPE html><html><head><title>Moved</title></head><body>gone</body></html>",
        b'<?xml version="1.0"?><note><to>you</to></note>',
        b"\x00\x01\x02 binary \xff\xfe",
        b"",
    ],
)
def test_non_feeds_raise_feed_parse_error(data: bytes) -> None:
    with pytest.raises(FeedParseError, match=r"^not a feed: "):
        parse_feed(data)


def test_a_local_path_as_body_is_not_read_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(b'<rss version="2.0"><channel><title>LOCAL</title></channel></rss>')

    with pytest.raises(FeedParseError):
        parse_feed(str(path).encode())


def test_empty_valid_feed_has_no_entries() -> None:
    feed = parse_feed(b'<rss version="2.0"><channel><title>Quiet</title></channel></rss>')

    assert feed.entries == ()
    assert feed.title == "Quiet"
    assert feed.problem is None


def test_malformed_feed_with_entries_reports_a_problem() -> None:
    feed = b"""<rss version="2.0"><channel><title>t</title>
      <item><title>first &amp; only</title><link>https://x.example/1</link></item>
      <item><title>cut off"""

    parsed = parse_feed(feed)

    assert parsed.entries[0].title == "first & only"
    assert parsed.problem is not None


def test_hostile_author_field_does_not_stall_the_parser() -> None:
    # feedparser's author e-mail regex is quadratic: unguarded, this feed takes minutes.
    hostile = "a" * 50_000
    items = "".join(
        f"<item><title>item {i}</title><link>https://x.example/{i}</link>"
        f"<author>{hostile}</author><dc:creator><![CDATA[{hostile}]]></dc:creator></item>"
        for i in range(20)
    )
    feed = (
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>t</title>{items}"
        "<item><title>normal</title><author>ed@example.org (Ed Itor)</author></item>"
        "</channel></rss>"
    ).encode()

    started = time.perf_counter()
    parsed = parse_feed(feed)
    elapsed = time.perf_counter() - started

    assert len(parsed.entries) == 21
    assert parsed.entries[0].title == "item 0"
    assert parsed.entries[0].link == "https://x.example/0"
    assert parsed.entries[0].author is None
    # Ordinary authors are untouched.
    assert parsed.entries[-1].author == "Ed Itor"
    # Generous bound: unguarded, this input takes well over a minute.
    assert elapsed < 30


def test_hostile_atom_author_name() -> None:
    entries = "".join(
        f"<entry><id>{i}</id><title>e{i}</title>"
        f"<author><name>{'b' * 40_000}</name><email>x@example.org</email></author></entry>"
        for i in range(10)
    )
    feed = f'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>{entries}</feed>'

    parsed = parse_feed(feed.encode())

    assert [e.title for e in parsed.entries] == [f"e{i}" for i in range(10)]
