"""Tests for extractors.discovery: advertised and linked feeds, robots.txt sitemaps, title."""

from __future__ import annotations

from extractors.discovery import COMMON_FEED_PATHS, common_feed_urls, discover

HOME_URL = "https://www.mfa.example/en/"

HOME = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>
    Ministry of Foreign Affairs  – Home
  </title>
  <link rel="alternate" type="application/rss+xml" title="Press releases" href="/en/press/rss.xml">
  <link rel="alternate" type="application/atom+xml; charset=utf-8" href="news/atom">
  <link rel="alternate" type="application/rss+xml" title="Comments" href="/en/comments/feed/">
  <link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/12">
  <link rel="alternate" hreflang="fr" href="https://www.mfa.example/fr/">
  <link rel="sitemap" type="application/xml" href="/sitemap-pages.xml">
</head>
<body>
  <nav>
    <a href="/en/feedback/">Feedback</a>
    <a href="/en/rss-feeds.html">All our RSS feeds</a>
    <a href="/feed/">Latest news (RSS)</a>
    <a href="/en/press/rss.xml#latest">Press releases feed</a>
    <a href="https://feeds.feedburner.com/mfa-example-speeches">Speeches</a>
    <a href="https://elsewhere.example/feed/">A partner's feed</a>
    <a href="/news-sitemap.xml">News sitemap</a>
  </nav>
</body>
</html>
"""

ROBOTS = """# robots.txt for www.mfa.example
User-agent: *
Disallow: /admin/

Sitemap: https://www.mfa.example/sitemap_index.xml
sitemap:/news-sitemap.xml   # relative, lower-case
Sitemap: https://www.mfa.example/sitemap_index.xml
"""


def test_discover_feeds_sitemaps_and_title() -> None:
    found = discover(HOME.encode(), url=HOME_URL, robots_txt=ROBOTS)

    assert found.feeds == (
        # Advertised first, relative hrefs resolved; comment and JSON API alternates left out.
        "https://www.mfa.example/en/press/rss.xml",
        "https://www.mfa.example/en/news/atom",
        # Then feed-looking links: /feed/ and feedburner; not /feedback/, not an off-site feed,
        # not the already advertised one again.
        "https://www.mfa.example/feed/",
        "https://feeds.feedburner.com/mfa-example-speeches",
    )
    assert found.sitemaps == (
        "https://www.mfa.example/sitemap_index.xml",
        "https://www.mfa.example/news-sitemap.xml",
        "https://www.mfa.example/sitemap-pages.xml",
    )
    assert found.title == "Ministry of Foreign Affairs – Home"


def test_discover_without_robots_or_title() -> None:
    html = '<html><head><meta property="og:title" content="MFA"></head><body></body></html>'
    found = discover(html, url=HOME_URL)
    assert found == type(found)(feeds=(), sitemaps=(), title="MFA")


def test_discover_on_empty_page_keeps_robots_sitemaps() -> None:
    found = discover("", url=HOME_URL, robots_txt="Sitemap: /sitemap.xml\n")
    assert found.feeds == ()
    assert found.sitemaps == ("https://www.mfa.example/sitemap.xml",)
    assert found.title is None


def test_common_feed_urls() -> None:
    urls = common_feed_urls("https://www.mfa.example/en/home?x=1")
    assert len(urls) == len(COMMON_FEED_PATHS)
    assert urls[0] == "https://www.mfa.example/feed"
    assert "https://www.mfa.example/sitemap_index.xml" in urls
