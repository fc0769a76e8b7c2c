"""The poll + process cycle end to end, against a real local server, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from config.settings import HttpSettings, ProcessSettings
from flows import steps
from flows.local import run_cycle
from flows.runtime import Runtime
from storage.models import FeedState, Item, Mention
from tests.httpserver import Scripted, TestServer

BuildRuntime = Callable[..., Runtime]

ARTICLE = """<!doctype html><html lang="en"><head><title>{title}</title>
<meta name="author" content="Desk Reporter"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<article><h1>{title}</h1>
<p>{body}</p>
<p>Officials said talks would continue next week, and that both delegations had agreed to
meet again in the spring to review progress on the agreement and its implementation.</p>
<p>Observers described the meeting as constructive, noting that the two sides had not held
talks at this level for several years and that a joint statement was expected shortly.</p>
</article>
<footer>Copyright 2026 Example News. All rights reserved. Cookie settings.</footer>
</body></html>"""


def rss(*items: tuple[str, str, str]) -> str:
    """An RSS 2.0 feed of (title, link, description) items."""
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
        f"<description>{description}</description>"
        "<pubDate>Thu, 26 Nov 2026 10:00:00 GMT</pubDate></item>"
        for title, link, description in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Test feed</title><link>{{base}}/</link><description>t</description>{entries}"
        "</channel></rss>"
    )


def atom(*items: tuple[str, str, str]) -> str:
    entries = "".join(
        f'<entry><title>{title}</title><link rel="alternate" href="{link}"/><id>{link}</id>'
        f"<updated>2026-11-26T10:00:00Z</updated><summary>{summary}</summary></entry>"
        for title, link, summary in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Atom test</title><id>urn:test</id><updated>2026-11-26T10:00:00Z</updated>"
        f"{entries}</feed>"
    )


def page(title: str, body: str) -> str:
    return ARTICLE.format(title=title, body=body)


def quick(**process: object) -> dict[str, object]:
    """Settings for tests: no waiting between retries, short deadlines."""
    return {
        "http": HttpSettings(retry_delays=[0.01], total_deadline=5, read_timeout=5),
        "process": ProcessSettings(**process),  # type: ignore[arg-type]
    }


def count(rt: Runtime, model: type[Item] | type[Mention]) -> int:
    with rt.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_cycle_stores_items_with_text_and_countries(
    server: TestServer, make_runtime: BuildRuntime
) -> None:
    server.write("a/1.html", page("Talks in Islamabad", "Pakistan and Syria held talks today."))
    server.write("a/2.html", page("Kenya votes", "Voters in Kenya went to the polls on Sunday."))
    feed = server.write(
        "feed.xml",
        rss(
            ("Talks in Islamabad", "{base}/a/1.html", "Pakistan hosts talks."),
            ("Kenya votes", "{base}/a/2.html", "Kenya holds an election."),
        ),
    )
    rt = make_runtime({"wire": feed}, **quick())

    report = run_cycle(rt)

    assert report.new_items == 2
    assert report.processed == 2
    assert report.from_summary == 0
    with rt.sessions() as session:
        items = {i.title: i for i in session.scalars(select(Item))}
        talks = items["Talks in Islamabad"]
        assert talks.status == "done"
        assert talks.text_source == "page"
        assert talks.text is not None and "Pakistan and Syria held talks" in talks.text
        assert "Cookie settings" not in talks.text
        assert talks.content_hash is not None and len(talks.content_hash) == 64
        countries = {m.country for m in talks.mentions}
        assert {"PK", "SY"} <= countries
        pakistan = next(m for m in talks.mentions if m.country == "PK")
        assert "Pakistan" in pakistan.snippet
        assert talks.text[pakistan.first_offset :].startswith("Pakistan")
        assert {m.country for m in items["Kenya votes"].mentions} == {"KE"}
    assert dict(report.countries)["PK"] == 1


def test_second_poll_is_conditional_and_inserts_nothing(
    server: TestServer, make_runtime: BuildRuntime
) -> None:
    server.write("a/1.html", page("One", "Nigeria and Ghana signed a trade deal."))
    feed = server.write("feed.xml", rss(("One", "{base}/a/1.html", "Nigeria trade.")))
    rt = make_runtime({"wire": feed}, **quick())

    first = run_cycle(rt)
    second = run_cycle(rt, force=True)

    assert first.new_items == 1
    assert second.new_items == 0
    assert [p.status for p in second.polls] == ["not_modified"]
    feed_requests = server.requests_to("feed.xml")
    assert len(feed_requests) == 2
    assert "if-none-match" not in feed_requests[0].headers
    assert feed_requests[1].headers["if-none-match"].startswith('"')
    assert feed_requests[1].headers["if-modified-since"] == "Sat, 28 Nov 2026 08:00:00 GMT"
    assert count(rt, Item) == 1
    # The page was fetched once: a done item is not processed again.
    assert len(server.requests_to("a/1.html")) == 1


def test_not_due_sources_are_not_polled(server: TestServer, make_runtime: BuildRuntime) -> None:
    feed = server.write("feed.xml", rss())
    rt = make_runtime({"wire": feed}, **quick())

    run_cycle(rt)
    again = run_cycle(rt)

    assert again.polls == ()
    assert len(server.requests_to("feed.xml")) == 1


def test_same_article_in_two_feeds_is_one_item(
    server: TestServer, make_runtime: BuildRuntime
) -> None:
    server.write("a/shared.html", page("Shared", "Egypt and Jordan met in Cairo."))
    first = server.write("one.xml", rss(("Shared", "{base}/a/shared.html", "Egypt.")))
    second = server.write(
        "two.xml",
        atom(("Shared", "{base}/a/shared.html?utm_source=rss&amp;utm_medium=feed#top", "Egypt.")),
    )
    rt = make_runtime({"one": first, "two": second}, **quick())

    report = run_cycle(rt)

    assert report.new_items == 1
    assert count(rt, Item) == 1
    with rt.sessions() as session:
        item = session.scalars(select(Item)).one()
    assert item.url == server.url("a/shared.html")


def test_tracking_parameters_are_removed_but_identifying_ones_kept(
    server: TestServer, make_runtime: BuildRuntime
) -> None:
    server.write("story.html", page("Q", "Chile and Peru agreed on fishing quotas."))
    feed = server.write(
        "feed.xml",
        rss(("Q", "{base}/story.html?id=7&amp;utm_campaign=x&amp;fbclid=abc", "Chile.")),
    )
    rt = make_runtime({"wire": feed}, **quick())

    run_cycle(rt)

    with rt.sessions() as session:
        assert session.scalars(select(Item.url)).one() == server.url("story.html?id=7")


def test_page_that_404s_falls_back_to_feed_summary(
    server: TestServer, make_runtime: BuildRuntime
) -> None:
    feed = server.write(
        "feed.xml", rss(("Gone", "{base}/missing.html", "Talks between Iran and Iraq resumed."))
    )
    rt = make_runtime({"wire": feed}, **quick())

    report = run_cycle(rt)

    assert report.from_summary == 1
    with rt.sessions() as session:
        item = session.scalars(select(Item)).one()
        assert item.status == "done"
        assert item.text_source == "summary"
        assert item.text == "Talks between Iran and Iraq resumed."
        assert item.error == "page: HTTP 404"
        assert {m.country for m in item.mentions} == {"IR", "IQ"}


def test_soft_failure_is_retried_on_a_later_run_then_succeeds(
    server: TestServer, make_runtime: BuildRuntime
) -> None:
    server.scripted["/flaky.html"] = Scripted(status=503)
    feed = server.write("feed.xml", rss(("Flaky", "{base}/flaky.html", "Cuba news.")))
    rt = make_runtime({"wire": feed}, **quick(max_attempts=3))

    first = run_cycle(rt)
    with rt.sessions() as session:
        item = session.scalars(select(Item)).one()
        assert item.status == "failed"
        assert item.error is not None and "HTTP 503" in item.error
        assert item.attempts == 1
    assert first.item_failures[0][1] == "page: HTTP 503 (will retry)"

    del server.scripted["/flaky.html"]
    server.write("flaky.html", page("Flaky", "Cuba and Mexico signed a migration accord."))
    run_cycle(rt)

    with rt.sessions() as session:
        item = session.scalars(select(Item)).one()
        assert item.status == "done"
        assert item.text_source == "page"
        assert item.attempts == 2
        assert {m.country for m in item.mentions} >= {"CU", "MX"}


def test_retries_are_bounded_then_the_summary_is_used(
    server: TestServer, make_runtime: BuildRuntime
) -> None:
    server.scripted["/down.html"] = Scripted(status=502)
    feed = server.write("feed.xml", rss(("Down", "{base}/down.html", "Peru election.")))
    rt = make_runtime({"wire": feed}, **quick(max_attempts=2))

    run_cycle(rt)
    run_cycle(rt)
    third = run_cycle(rt)

    with rt.sessions() as session:
        item = session.scalars(select(Item)).one()
        assert item.status == "done"
        assert item.text_source == "summary"
        assert item.attempts == 2
        assert item.error == "page: HTTP 502 after 2 attempts"
    assert third.processed == 0
    assert len(server.requests_to("down.html")) == 2


def test_item_with_no_page_and_no_summary_fails_with_reason(
    server: TestServer, make_runtime: BuildRuntime
) -> None:
    feed = server.write(
        "feed.xml",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        "<item><link>{base}/nothing.html</link></item></channel></rss>",
    )
    rt = make_runtime({"wire": feed}, **quick(max_attempts=1))

    report = run_cycle(rt)

    assert report.item_failures
    with rt.sessions() as session:
        item = session.scalars(select(Item)).one()
        assert item.status == "failed"
        assert item.error is not None and item.error.startswith("page: HTTP 404")


def test_feed_in_a_broken_encoding_still_yields_items(
    server: TestServer, make_runtime: BuildRuntime
) -> None:
    # Declared UTF-8, written in windows-1252: the kind of feed real publishers serve.
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Caf\xe9</title>'
        "<item><title>Pr\xe9sident du S\xe9n\xe9gal</title><link>{base}/x.html</link>"
        "<description>Le S\xe9n\xe9gal et la France.</description></item></channel></rss>"
    )
    server.write("x.html", page("Senegal", "Senegal and France signed an accord."))
    feed = server.write(
        "feed.xml", body.replace("{base}", server.url("").rstrip("/")).encode("cp1252")
    )
    rt = make_runtime({"wire": feed}, **quick())

    report = run_cycle(rt)

    assert report.new_items == 1
    with rt.sessions() as session:
        title = session.scalars(select(Item.title)).one()
    assert title == "Président du Sénégal"


def test_failing_feed_backs_off_and_others_go_on(
    server: TestServer, make_runtime: BuildRuntime
) -> None:
    server.scripted["/broken.xml"] = Scripted(status=500)
    server.write("a.html", page("Fine", "Norway and Sweden opened a border crossing."))
    good = server.write("good.xml", rss(("Fine", "{base}/a.html", "Norway.")))
    rt = make_runtime({"bad": server.url("broken.xml"), "good": good}, **quick())

    report = run_cycle(rt)

    assert [(p.source_id, p.status) for p in report.polls] == [
        ("bad", "failed"),
        ("good", "fetched"),
    ]
    # One try plus one in-run retry.
    assert len(server.requests_to("broken.xml")) == 2
    with rt.sessions() as session:
        state = session.get(FeedState, "bad")
        assert state is not None
        assert state.consecutive_failures == 1
        assert state.last_status == 500
        assert state.last_error == "HTTP 500"
        assert state.next_poll_at is not None and state.last_polled_at is not None
        # Backed off beyond the normal 15-minute interval.
        assert (state.next_poll_at - state.last_polled_at).total_seconds() > 900


def test_body_that_is_not_a_feed_is_a_feed_failure(
    server: TestServer, make_runtime: BuildRuntime
) -> None:
    server.write("notfeed.xml", b"<html><body>Maintenance</body></html>")
    rt = make_runtime({"odd": server.url("notfeed.xml")}, **quick())

    report = run_cycle(rt)

    assert report.polls[0].status == "failed"
    assert report.polls[0].problem is not None
    assert count(rt, Item) == 0


def test_page_whose_extraction_overruns_is_stopped_and_the_summary_used(
    server: TestServer, make_runtime: BuildRuntime
) -> None:
    # 100,000 unclosed paragraphs keep trafilatura busy for seconds.
    server.write("slow.html", "<html><body>" + "<p>x" * 100_000 + "</body></html>")
    feed = server.write("feed.xml", rss(("Slow", "{base}/slow.html", "Malawi and Zambia.")))
    rt = make_runtime({"wire": feed}, **quick(extract_timeout=0.5))

    report = run_cycle(rt)

    assert report.from_summary == 1
    with rt.sessions() as session:
        item = session.scalars(select(Item)).one()
    assert item.status == "done"
    assert item.error == "page: extraction took over 0.5 s and was stopped"
    assert item.text == "Malawi and Zambia."


def test_a_feed_with_a_corrupt_gzip_body_fails_alone(
    server: TestServer, make_runtime: BuildRuntime
) -> None:
    server.scripted["/corrupt.xml"] = Scripted(
        body=b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03not deflate data at all",
        headers={"Content-Encoding": "gzip"},
    )
    server.write("a.html", page("Fine", "Finland and Estonia opened a ferry line."))
    good = server.write("good.xml", rss(("Fine", "{base}/a.html", "Finland.")))
    rt = make_runtime({"bad": server.url("corrupt.xml"), "good": good}, **quick())

    report = run_cycle(rt)

    outcomes = {p.source_id: p for p in report.polls}
    assert outcomes["bad"].status == "failed"
    assert outcomes["bad"].problem is not None
    assert outcomes["bad"].problem.startswith("corrupt compressed body")
    assert outcomes["good"].status == "fetched"
    assert report.processed == 1


def test_run_limited_to_a_source_processes_only_that_source(
    server: TestServer, make_runtime: BuildRuntime
) -> None:
    server.write("a.html", page("A", "Ghana and Togo agreed on a border survey."))
    server.write("b.html", page("B", "Nepal and Bhutan agreed on hydropower."))
    one = server.write("one.xml", rss(("A", "{base}/a.html", "Ghana.")))
    two = server.write("two.xml", rss(("B", "{base}/b.html", "Nepal.")))
    rt = make_runtime({"one": one, "two": two}, **quick())
    run_cycle(rt, only=["one"])
    # Poll "two" without processing it, so its item waits as pending.
    run_cycle(rt, only=["two"], process=False)

    report = run_cycle(rt, only=["one"], force=True)

    assert report.processed == 0
    assert len(server.requests_to("b.html")) == 0
    with rt.sessions() as session:
        statuses = dict(session.execute(select(Item.url, Item.status)).all())
    assert statuses[server.url("a.html")] == "done"
    assert statuses[server.url("b.html")] == "pending"


def test_page_charset_from_the_http_header_is_used(
    server: TestServer, make_runtime: BuildRuntime
) -> None:
    text = "Россия и Казахстан подписали договор о транзите грузов через Каспий."
    server.scripted["/ru.html"] = Scripted(
        body=f"<html><body><article><p>{text}</p></article></body></html>".encode("koi8-r"),
        headers={"Content-Type": "text/html; charset=KOI8-R"},
    )
    feed = server.write("feed.xml", rss(("Транзит", "{base}/ru.html", "Транзит.")))
    rt = make_runtime({"wire": feed}, **quick())

    run_cycle(rt)

    with rt.sessions() as session:
        item = session.scalars(select(Item)).one()
        assert item.text_source == "page"
        assert item.text == text
        assert {m.country for m in item.mentions} == {"RU", "KZ"}


def test_mention_kinds_setting_drops_cities(server: TestServer, make_runtime: BuildRuntime) -> None:
    server.write("a.html", page("Port", "Dockers in Karachi went on strike over wages."))
    feed = server.write("feed.xml", rss(("Port", "{base}/a.html", "Dockers strike.")))
    rt = make_runtime({"wire": feed}, mention_kinds=["name", "demonym", "capital"], **quick())

    run_cycle(rt)

    with rt.sessions() as session:
        item = session.scalars(select(Item)).one()
        assert item.text is not None
        assert "Karachi" in item.text
        assert item.mentions == []


def test_a_batch_past_its_deadline_keeps_what_it_stored_and_leaves_the_rest_leased(
    server: TestServer, make_runtime: BuildRuntime
) -> None:
    server.write("quick.html", page("Quick", "Chile and Peru signed a fisheries accord."))
    stuck = page("Stuck", "Bolivia and Paraguay met.").encode()
    server.scripted["/stuck.html"] = Scripted(body=stuck, delay=3.0)
    feed = server.write(
        "feed.xml",
        rss(("Quick", "{base}/quick.html", "Chile."), ("Stuck", "{base}/stuck.html", "Bolivia.")),
    )
    rt = make_runtime({"wire": feed}, **quick(source_deadline=1.0))

    report = run_cycle(rt)

    with rt.sessions() as session:
        items = {item.title: item for item in session.scalars(select(Item))}
    assert items["Quick"].status == "done"
    assert items["Stuck"].text is None
    assert items["Stuck"].claimed_until is not None
    assert items["Stuck"].claimed_until > rt.now()  # taken again once the lease expires
    assert report.item_failures == [
        (items["Stuck"].id, "batch stopped after 1 s; retried when its lease expires")
    ]


def test_a_source_read_past_its_deadline_is_a_soft_failure(
    server: TestServer, make_runtime: BuildRuntime
) -> None:
    slow = rss(("Talks", "{base}/a.html", "Chad.")).replace("{base}", server.url("").rstrip("/"))
    server.scripted["/slow.xml"] = Scripted(
        body=slow.encode(), headers={"Content-Type": "application/rss+xml"}, delay=3.0
    )
    http = HttpSettings(retry_delays=[], total_deadline=5, source_deadline=0.5)
    rt = make_runtime({"slow": server.url("slow.xml")}, http=http)

    report = run_cycle(rt)

    assert [(p.status, p.problem) for p in report.polls] == [
        ("failed", "reading the source took over 0.5 s")
    ]


def test_the_claim_lease_must_outlast_a_batch() -> None:
    with pytest.raises(ValidationError, match="must be shorter than claim_lease_seconds"):
        ProcessSettings(source_deadline=900, claim_lease_seconds=600)


def test_each_processed_item_is_reported_as_it_is_done(
    server: TestServer, make_runtime: BuildRuntime
) -> None:
    server.write("a.html", page("A", "Chile and Peru met."))
    server.scripted["/gone.html"] = Scripted(status=404)
    feed = server.write(
        "feed.xml", rss(("A", "{base}/a.html", "Chile."), ("B", "{base}/gone.html", "Peru."))
    )
    rt = make_runtime({"wire": feed}, **quick())
    run_cycle(rt, process=False)
    reported: list[int] = []

    outcome = steps.process_source_blocking(rt, "wire", on_item=lambda: reported.append(1))

    # The page and the summary fallback alike: every item counts once.
    assert len(outcome.done) == 2
    assert len(reported) == 2
