"""Sources without feeds: sitemaps (index, gzip) and listing pages, end to end; discovery."""

from __future__ import annotations

import gzip
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from config.settings import HttpSettings
from config.sources import ListingOptions, SourceConfig
from flows.local import run_cycle
from flows.runtime import Runtime, get_runtime
from flows.source_tools import check_sources
from storage.models import FeedState, Item
from tests.httpserver import Scripted, TestServer
from tests.test_pipeline import page, quick

BuildRuntime = Callable[..., Runtime]


def catalogue(path: Path, entries: list[str]) -> Path:
    path.write_text("sources:\n" + "".join(entries), encoding="utf-8")
    return path


def entry(source_id: str, source_type: str, url: str, extra: str = "") -> str:
    return (
        f"  - id: {source_id}\n    name: {source_id}\n    kind: foreign_office\n"
        f"    country: FR\n    language: en\n    type: {source_type}\n"
        f'    url: "{url}"\n    poll_interval: 15m\n{extra}'
    )


def runtime_for(database_url: str, path: Path) -> Runtime:
    from config.settings import load_settings

    return get_runtime(load_settings(database_url=database_url, sources_path=path, **quick()))


def urls(rt: Runtime) -> set[str]:
    with rt.sessions() as session:
        return set(session.scalars(select(Item.url)))


def test_sitemap_index_with_gzip_children_yields_items(
    server: TestServer, database_url: str, tmp_path: Path
) -> None:
    for n in range(3):
        server.write(f"a/{n}.html", page(f"Story {n}", "Morocco and Spain met in Rabat."))
    child = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>{base}/a/0.html</loc><lastmod>2026-11-27</lastmod></url>"
        "<url><loc>{base}/a/1.html</loc></url></urlset>"
    ).replace("{base}", server.url("").rstrip("/"))
    server.write("sm/child-1.xml.gz", gzip.compress(child.encode()))
    server.write(
        "sm/child-2.xml",
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>{base}/a/2.html</loc></url></urlset>",
    )
    index = server.write(
        "sm/index.xml",
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<sitemap><loc>{base}/sm/child-1.xml.gz</loc></sitemap>"
        "<sitemap><loc>{base}/sm/child-2.xml</loc></sitemap></sitemapindex>",
    )
    rt = runtime_for(
        database_url, catalogue(tmp_path / "s.yaml", [entry("fr-sm", "sitemap", index)])
    )

    report = run_cycle(rt)

    assert report.new_items == 3
    assert urls(rt) == {server.url(f"a/{n}.html") for n in range(3)}
    assert dict(report.countries) == {"MA": 3, "ES": 3}


def test_listing_with_relative_links_and_pagination(
    server: TestServer, database_url: str, tmp_path: Path
) -> None:
    for n in range(4):
        server.write(f"press/2026/{n}.html", page(f"Release {n}", "Chile and Peru met."))
    server.write(
        "press/index.html",
        '<html><body><nav><a href="/about.html">About</a></nav><ul>'
        '<li><time datetime="2026-11-27">27 Nov</time> <a href="2026/0.html">Release 0</a></li>'
        '<li><a href="2026/1.html">Release 1</a></li></ul>'
        '<a rel="next" href="/press/page-2.html">Next</a></body></html>',
    )
    server.write(
        "press/page-2.html",
        '<html><body><ul><li><a href="/press/2026/2.html">Release 2</a></li>'
        '<li><a href="2026/3.html">Release 3</a></li></ul></body></html>',
    )
    listing = 'listing:\n      link_pattern: "/press/2026/[0-9]+[.]html$"\n      max_pages: 2\n'
    rt = runtime_for(
        database_url,
        catalogue(
            tmp_path / "s.yaml",
            [entry("fr-list", "listing", server.url("press/index.html"), "    " + listing)],
        ),
    )

    report = run_cycle(rt)

    assert report.new_items == 4
    assert urls(rt) == {server.url(f"press/2026/{n}.html") for n in range(4)}
    with rt.sessions() as session:
        titled = session.scalars(select(Item).where(Item.url == server.url("press/2026/0.html")))
        item = titled.one()
        assert item.title == "Release 0"
        assert item.published_at is not None
        assert item.published_at.date().isoformat() == "2026-11-27"


def test_listing_whose_layout_changed_reports_a_clear_problem(
    server: TestServer, database_url: str, tmp_path: Path
) -> None:
    server.write(
        "press/index.html", "<html><body><div class='new-layout'>No links</div></body></html>"
    )
    listing = '    listing:\n      link_pattern: "/press/2026/"\n'
    rt = runtime_for(
        database_url,
        catalogue(
            tmp_path / "s.yaml",
            [entry("fr-list", "listing", server.url("press/index.html"), listing)],
        ),
    )

    report = run_cycle(rt)

    [poll] = report.polls
    assert poll.status == "failed"
    assert poll.problem is not None
    assert poll.problem.startswith("layout changed: no article links matched")
    with rt.sessions() as session:
        state = session.get(FeedState, "fr-list")
        assert state is not None
        assert state.consecutive_failures == 1


def test_sources_check_reports_without_storing(server: TestServer, tmp_path: Path) -> None:
    server.write("a/1.html", page("One", "Text."))
    feed = server.write(
        "feed.xml",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>One</title><link>{base}/a/1.html</link>"
        "<pubDate>Thu, 26 Nov 2026 10:00:00 GMT</pubDate></item></channel></rss>",
    )
    server.scripted["/down.xml"] = Scripted(status=503)
    sources = [
        SourceConfig(id="ok", name="ok", kind="news", country="FR", language="en", feed_url=feed),
        SourceConfig(
            id="down",
            name="down",
            kind="news",
            country="FR",
            language="en",
            feed_url=server.url("down.xml"),
        ),
        SourceConfig(
            id="list",
            name="list",
            kind="news",
            country="FR",
            language="en",
            type="listing",
            feed_url=server.url("a/1.html"),
            listing=ListingOptions(link_pattern="/nothing/"),
        ),
    ]

    rows = {row.source_id: row for row in check_sources(HttpSettings(), sources)}

    assert (rows["ok"].reachable, rows["ok"].format, rows["ok"].items) == ("HTTP 200", "rss20", 1)
    assert rows["ok"].newest is not None
    assert rows["down"].reachable == "HTTP 503"
    assert rows["list"].problem is not None
    assert "layout changed" in rows["list"].problem
    assert not (tmp_path / "newsdesk.db").exists()


def test_sources_discover_prints_entries_to_paste(server: TestServer) -> None:
    server.write(
        "index.html",
        "<html><head><title>Ministry</title>"
        '<link rel="alternate" type="application/rss+xml" href="/news/rss.xml"></head>'
        "<body>Welcome</body></html>",
    )
    server.write(
        "news/rss.xml",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Ministry news</title>'
        "<item><title>x</title><link>{base}/x</link></item></channel></rss>",
    )
    server.write("robots.txt", "User-agent: *\nSitemap: {base}/sitemap.xml\n")
    server.write(
        "sitemap.xml",
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>{base}/x</loc></url></urlset>",
    )

    result = subprocess.run(
        [sys.executable, "-m", "flows", "sources", "discover", server.url("index.html")],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert f"url: {server.url('news/rss.xml')}" in result.stdout
    assert "type: feed" in result.stdout
    assert f"url: {server.url('sitemap.xml')}" in result.stdout
    assert "type: sitemap" in result.stdout


def test_listing_never_follows_next_off_site_and_keeps_pages_it_read(
    server: TestServer, database_url: str, tmp_path: Path
) -> None:
    server.write("press/2026/0.html", page("Release 0", "Chile and Peru met."))
    server.write(
        "press/index.html",
        '<html><body><a href="2026/0.html">Release 0</a>'
        '<a rel="next" href="https://elsewhere.example/press/2.html">Next</a></body></html>',
    )
    server.write(
        "other/index.html",
        '<html><body><a href="/press/2026/0.html">R</a>'
        '<a rel="next" href="/other/2.html">Next</a></body></html>',
    )
    server.scripted["/other/2.html"] = Scripted(status=503)
    listing = '    listing:\n      link_pattern: "/press/2026/"\n      max_pages: 3\n'
    rt = runtime_for(
        database_url,
        catalogue(
            tmp_path / "s.yaml",
            [
                entry("off-site", "listing", server.url("press/index.html"), listing),
                entry("page-two-down", "listing", server.url("other/index.html"), listing),
            ],
        ),
    )

    report = run_cycle(rt)

    outcomes = {p.source_id: p for p in report.polls}
    assert outcomes["off-site"].status == "fetched"
    assert outcomes["page-two-down"].status == "fetched"
    assert outcomes["page-two-down"].problem is not None
    assert "HTTP 503" in outcomes["page-two-down"].problem
    assert urls(rt) == {server.url("press/2026/0.html")}


def test_invalid_listing_selector_is_caught_when_the_catalogue_loads(tmp_path: Path) -> None:
    import pytest

    from config.errors import ConfigError
    from config.sources import load_sources

    listing = '    listing:\n      link_selector: "div[[broken"\n'
    path = catalogue(tmp_path / "s.yaml", [entry("bad", "listing", "https://x.example/", listing)])

    with pytest.raises(ConfigError, match="link_selector is not a valid CSS selector"):
        load_sources(path)


def test_a_changed_listing_rule_forgets_the_old_validators(
    server: TestServer, database_url: str, tmp_path: Path
) -> None:
    server.write("press/2026/0.html", page("Release 0", "Chile and Peru met."))
    server.write(
        "press/index.html", '<html><body><a href="2026/0.html">Release 0</a></body></html>'
    )
    broken = '    listing:\n      link_pattern: "/communiques/"\n'
    fixed = '    listing:\n      link_pattern: "/press/2026/"\n'
    path = tmp_path / "s.yaml"
    rt = runtime_for(
        database_url,
        catalogue(path, [entry("fr", "listing", server.url("press/index.html"), broken)]),
    )
    assert run_cycle(rt).polls[0].status == "failed"

    catalogue(path, [entry("fr", "listing", server.url("press/index.html"), fixed)])
    report = run_cycle(rt)

    assert report.polls[0].status == "fetched"
    assert report.new_items == 1


def test_sitemap_children_newest_first_and_an_index_of_indexes(
    server: TestServer, database_url: str, tmp_path: Path
) -> None:
    server.write("a/new.html", page("New", "Fiji and Tonga met."))
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    server.write("sm/new.xml", f"<urlset {ns}><url><loc>{{base}}/a/new.html</loc></url></urlset>")
    server.write(
        "sm/inner.xml",
        f"<sitemapindex {ns}><sitemap><loc>{{base}}/sm/new.xml</loc></sitemap></sitemapindex>",
    )
    # The archive comes first in the document but is older: the newest child is read first.
    server.scripted["/sm/archive-2019.xml"] = Scripted(status=404)
    index = server.write(
        "sm/index.xml",
        f"<sitemapindex {ns}>"
        "<sitemap><loc>{base}/sm/archive-2019.xml</loc><lastmod>2019-01-01</lastmod></sitemap>"
        "<sitemap><loc>{base}/sm/inner.xml</loc><lastmod>2026-11-27</lastmod></sitemap>"
        "</sitemapindex>",
    )
    rt = runtime_for(database_url, catalogue(tmp_path / "s.yaml", [entry("sm", "sitemap", index)]))

    run_cycle(rt)

    assert urls(rt) == {server.url("a/new.html")}
    requested = [s.path for s in server.seen if s.path.startswith("/sm/")]
    assert requested.index("/sm/inner.xml") < requested.index("/sm/archive-2019.xml")
