"""The alert stage end to end: real SMTP server (aiosmtpd), SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from alerts.sink import SmtpSink
from config.settings import AlertSettings, SmtpSettings
from config.subscribers import SubscriberConfig
from flows import alerting, steps, subscriptions
from flows.local import run_cycle
from flows.runtime import Runtime
from storage import outbox
from storage.models import Delivery
from tests.httpserver import TestServer
from tests.test_pipeline import page, quick, rss

BuildRuntime = Callable[..., Runtime]
NOON = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as running:
        yield running


class Clock:
    """A settable now() for the runtime: digests and backoff depend on the hour."""

    def __init__(self, start: datetime) -> None:
        self.value = start

    def __call__(self) -> datetime:
        return self.value


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    current = Clock(NOON)
    monkeypatch.setattr(Runtime, "now", staticmethod(current))
    return current


def alert_runtime(
    make_runtime: BuildRuntime,
    sink: SmtpSink,
    feeds: dict[str, str],
    *,
    hourly_cap: int = 10,
    batch_size: int = 200,
) -> Runtime:
    return make_runtime(
        feeds,
        smtp=SmtpSettings(host=sink.host, port=sink.port, sender="newsdesk <alerts@desk.test>"),
        alerts=AlertSettings(
            retry_delays=[0.0],
            unsubscribe_base_url="https://desk.test/u",
            hourly_cap=hourly_cap,
            batch_size=batch_size,
        ),
        **quick(),
    )


def processed_without_alerts(rt: Runtime) -> None:
    """Poll and process the feeds, stopping before the alert stage."""
    run_cycle(rt, process=False)
    for work in steps.sources_with_work(rt):
        asyncio.run(steps.process_source(rt, work.source_id))


def claimed_by_a_worker(
    server: TestServer, make_runtime: BuildRuntime, sink: SmtpSink
) -> tuple[Runtime, list[outbox.ClaimedDelivery]]:
    """One queued alert, claimed at noon by a worker that is about to die."""
    feed = stories(server, ("Summit", "Ghana and Togo held a summit."))
    rt = alert_runtime(make_runtime, sink, {"wire": feed})
    processed_without_alerts(rt)
    subscribe(rt, "desk@example.org", ["GH"])
    alerting.match_new_items(rt)
    with rt.sessions.begin() as session:
        claimed = outbox.claim_deliveries(
            session, NOON, channel="immediate", lease=timedelta(minutes=10), limit=10
        )
    return rt, claimed


def subscribe(rt: Runtime, email: str, countries: list[str], **fields: object) -> None:
    subscriptions.add(rt, SubscriberConfig(email=email, countries=countries, **fields))  # type: ignore[arg-type]


def statuses(rt: Runtime) -> list[tuple[str, str]]:
    with rt.sessions() as session:
        return [
            (d.channel, d.status) for d in session.scalars(select(Delivery).order_by(Delivery.id))
        ]


def stories(server: TestServer, *texts: tuple[str, str]) -> str:
    """Pages and one feed listing them; returns the feed URL."""
    entries = []
    for n, (title, body) in enumerate(texts):
        server.write(f"s/{n}.html", page(title, body))
        entries.append((title, f"{{base}}/s/{n}.html", body))
    return server.write("feed.xml", rss(*entries))


def test_immediate_alert_is_received_with_headers_parts_and_escaping(
    server: TestServer, make_runtime: BuildRuntime, sink: SmtpSink, clock: Clock
) -> None:
    hostile = '&lt;script&gt;alert("x")&lt;/script&gt; Syria talks'
    feed = stories(server, (hostile, "Syria and Russia held talks in Damascus on Monday."))
    rt = alert_runtime(make_runtime, sink, {"wire": feed})
    subscribe(rt, "desk@example.org", ["Syria"], name="Desk One")

    report = run_cycle(rt)

    assert report.alerts is not None
    assert report.alerts.sent == 1
    [message] = sink.messages
    subject = str(message["Subject"])
    assert subject.startswith("[newsdesk] Syria")
    assert "\r" not in subject and "\n" not in subject
    assert message["To"] == "Desk One <desk@example.org>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert str(message["List-Unsubscribe"]).startswith("<https://desk.test/u/")
    assert message.is_multipart()
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert '<script>alert("x")</script>' in text.get_content()
    html_body = html.get_content()
    assert "<script>" not in html_body
    assert "&lt;script&gt;" in html_body
    assert "<mark>Syria</mark>" in html_body
    assert server.url("s/0.html") in html_body
    assert statuses(rt) == [("immediate", "sent")]


def test_no_email_twice_across_reruns(
    server: TestServer, make_runtime: BuildRuntime, sink: SmtpSink, clock: Clock
) -> None:
    feed = stories(server, ("Talks", "Pakistan and India resumed talks."))
    rt = alert_runtime(make_runtime, sink, {"wire": feed})
    subscribe(rt, "desk@example.org", ["PK"])

    run_cycle(rt)
    run_cycle(rt, force=True)
    alerting.run_alerts(rt)

    assert len(sink.messages) == 1


def test_digest_groups_items_and_waits_for_the_local_hour(
    server: TestServer, make_runtime: BuildRuntime, sink: SmtpSink, clock: Clock
) -> None:
    feed = stories(
        server,
        ("One", "Syria and Lebanon discussed refugees."),
        ("Two", "Lebanon elected a speaker."),
        ("Three", "Kenya held a budget debate."),
    )
    rt = alert_runtime(make_runtime, sink, {"wire": feed})
    # 18:00 in Karachi is 13:00 UTC: not yet due at noon UTC.
    subscribe(
        rt,
        "digest@example.org",
        ["SY", "LB"],
        mode="digest",
        digest_hour=18,
        timezone="Asia/Karachi",
    )

    run_cycle(rt)
    assert sink.messages == []
    assert statuses(rt) == [("digest", "pending"), ("digest", "pending")]

    clock.value = NOON + timedelta(hours=1, minutes=5)
    alerting.run_alerts(rt)
    clock.value = NOON + timedelta(hours=3)
    alerting.run_alerts(rt)  # the same local day: no second digest

    [digest] = sink.messages
    assert str(digest["Subject"]) == "[newsdesk] Digest for 28 Nov 2026: Lebanon 2, Syria 1"
    body = digest.get_body(preferencelist=("plain",))
    assert body is not None
    content = body.get_content()
    assert content.index("Lebanon") < content.index("Syria")
    assert "Kenya" not in content
    assert statuses(rt) == [("digest", "sent"), ("digest", "sent")]


def test_hourly_cap_moves_the_excess_into_the_digest(
    server: TestServer, make_runtime: BuildRuntime, sink: SmtpSink, clock: Clock
) -> None:
    feed = stories(server, *[(f"Story {n}", f"Chile signed accord number {n}.") for n in range(4)])
    rt = alert_runtime(make_runtime, sink, {"wire": feed}, hourly_cap=2)
    subscribe(rt, "busy@example.org", ["CL"], digest_hour=0)

    report = run_cycle(rt)

    assert report.alerts is not None
    assert report.alerts.to_digest == 2
    subjects = [str(m["Subject"]) for m in sink.messages]
    assert len([s for s in subjects if "Digest" not in s]) == 2
    # digest_hour 0: the capped items go out in today's digest straight away.
    assert len([s for s in subjects if "Digest" in s]) == 1
    assert sorted(statuses(rt)) == [
        ("digest", "sent"),
        ("digest", "sent"),
        ("immediate", "sent"),
        ("immediate", "sent"),
    ]


def test_smtp_down_leaves_rows_pending_and_they_are_sent_later(
    server: TestServer, make_runtime: BuildRuntime, clock: Clock
) -> None:
    feed = stories(server, ("Visit", "Norway and Iceland signed a fisheries accord."))
    with SmtpSink() as sink:
        host, port = sink.host, sink.port
    # The sink is stopped: nothing listens on that port now.
    rt = make_runtime(
        {"wire": feed},
        smtp=SmtpSettings(host=host, port=port),
        alerts=AlertSettings(retry_delays=[30.0]),
        **quick(),
    )
    subscribe(rt, "desk@example.org", ["NO"])

    report = run_cycle(rt)

    assert report.alerts is not None
    assert report.alerts.retrying == 1
    assert statuses(rt) == [("immediate", "pending")]
    with rt.sessions() as session:
        delivery = session.scalars(select(Delivery)).one()
        assert delivery.attempts == 0  # the server never answered: not counted against it
        assert delivery.last_error
        assert delivery.next_attempt_at == NOON + timedelta(seconds=30)

    clock.value = NOON + timedelta(minutes=1)
    with SmtpSink() as revived:
        rt2 = make_runtime(
            {"wire": feed},
            smtp=SmtpSettings(host=revived.host, port=revived.port),
            alerts=AlertSettings(retry_delays=[30.0]),
            **quick(),
        )
        alerting.run_alerts(rt2)
        assert len(revived.messages) == 1
    assert statuses(rt2) == [("immediate", "sent")]


def test_a_worker_killed_between_claim_and_send_is_redone_exactly_once(
    server: TestServer, make_runtime: BuildRuntime, sink: SmtpSink, clock: Clock
) -> None:
    rt, claimed = claimed_by_a_worker(server, make_runtime, sink)
    assert len(claimed) == 1
    # ...the worker dies here, before handing anything to SMTP.
    alerting.run_alerts(rt)
    assert sink.messages == []  # still leased to the dead worker

    clock.value = NOON + timedelta(minutes=11)
    alerting.run_alerts(rt)
    alerting.run_alerts(rt)

    assert len(sink.messages) == 1
    assert statuses(rt) == [("immediate", "sent")]


def test_a_worker_killed_while_sending_leaves_unknown_and_never_resends(
    server: TestServer, make_runtime: BuildRuntime, sink: SmtpSink, clock: Clock
) -> None:
    rt, claimed = claimed_by_a_worker(server, make_runtime, sink)
    with rt.sessions.begin() as session:
        ids = [d.id for d in claimed]
        assert outbox.mark_sending(
            session, ids, claimed[0].claim_token, NOON, timedelta(minutes=10)
        )
    # ...the worker dies here, after telling the database it is handing the message over.

    clock.value = NOON + timedelta(minutes=11)
    alerting.run_alerts(rt)

    assert sink.messages == []
    assert statuses(rt) == [("immediate", "unknown")]


def test_connection_lost_after_data_is_unknown_and_not_resent(
    server: TestServer, make_runtime: BuildRuntime, sink: SmtpSink, clock: Clock
) -> None:
    feed = stories(server, ("Talks", "Peru and Chile held talks."))
    rt = alert_runtime(make_runtime, sink, {"wire": feed})
    subscribe(rt, "desk@example.org", ["PE"])
    sink.drop_after_data(1)

    report = run_cycle(rt)
    clock.value = NOON + timedelta(hours=2)
    alerting.run_alerts(rt)

    assert report.alerts is not None
    assert report.alerts.unknown == 1
    assert statuses(rt) == [("immediate", "unknown")]
    assert len(sink.messages) == 1  # the server may well have delivered it: never a second


def test_a_delivery_claim_takes_no_more_than_its_limit(
    server: TestServer, make_runtime: BuildRuntime, sink: SmtpSink, clock: Clock
) -> None:
    feed = stories(server, *[(f"Story {n}", f"Chile signed accord number {n}.") for n in range(4)])
    rt = alert_runtime(make_runtime, sink, {"wire": feed})
    processed_without_alerts(rt)
    subscribe(rt, "desk@example.org", ["CL"])
    assert alerting.match_new_items(rt).queued == 4

    def claim() -> list[int]:
        with rt.sessions.begin() as session:
            got = outbox.claim_deliveries(
                session, NOON, channel="immediate", lease=timedelta(minutes=10), limit=3
            )
        return [d.id for d in got]

    first, second = claim(), claim()
    # On PostgreSQL the locking sub-select once ran twice inside the UPDATE: 3 asked, 4 taken.
    assert (len(first), len(second)) == (3, 1)
    assert not set(first) & set(second)


def test_two_workers_share_one_hourly_cap(
    server: TestServer, make_runtime: BuildRuntime, sink: SmtpSink, clock: Clock
) -> None:
    feed = stories(server, *[(f"Story {n}", f"Chile signed accord number {n}.") for n in range(4)])
    rt = alert_runtime(make_runtime, sink, {"wire": feed}, hourly_cap=2)
    processed_without_alerts(rt)
    subscribe(rt, "busy@example.org", ["CL"])
    assert alerting.match_new_items(rt).queued == 4

    def claim_two(outcome: alerting.AlertOutcome) -> list[outbox.ClaimedDelivery]:
        """What send_immediate does first: claim, then keep what fits, in one transaction."""
        with rt.sessions.begin() as session:
            claimed = outbox.claim_deliveries(
                session, NOON, channel="immediate", lease=timedelta(minutes=10), limit=2
            )
            return alerting._apply_hourly_cap(rt, session, claimed, outcome)

    # Worker A claims two and keeps both (its whole budget); before it has sent them,
    # worker B claims the other two: they must wait for the digest, not go out too.
    kept_by_a = claim_two(alerting.AlertOutcome())
    outcome_b = alerting.AlertOutcome()
    kept_by_b = claim_two(outcome_b)

    assert len(kept_by_a) == 2
    assert kept_by_b == []
    assert outcome_b.to_digest == 2
    assert sorted(statuses(rt)) == [
        ("digest", "pending"),
        ("digest", "pending"),
        ("immediate", "claimed"),
        ("immediate", "claimed"),
    ]


def test_two_alert_workers_at_once_send_each_email_exactly_once(
    server: TestServer, make_runtime: BuildRuntime, sink: SmtpSink, clock: Clock
) -> None:
    feed = stories(server, *[(f"Story {n}", f"Brazil and Peru signed pact {n}.") for n in range(6)])
    # Small batches, so both workers claim some and race for the rest.
    rt = alert_runtime(make_runtime, sink, {"wire": feed}, hourly_cap=100, batch_size=4)
    processed_without_alerts(rt)
    for n in range(3):
        subscribe(rt, f"desk{n}@example.org", ["BR"])
    assert alerting.match_new_items(rt).queued == 18

    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:  # each drains the queue until it finds nothing left
        try:
            barrier.wait()
            while alerting.send_immediate(rt).sent:
                pass
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    received = [(str(m["To"]), str(m["Subject"])) for m in sink.messages]
    assert len(received) == 18
    assert len(set(received)) == 18
    assert set(statuses(rt)) == {("immediate", "sent")}


def test_an_operator_can_resend_an_unknown_delivery_and_unsubscribe(
    server: TestServer, make_runtime: BuildRuntime, sink: SmtpSink, clock: Clock
) -> None:
    feed = stories(server, ("Talks", "Peru and Chile held talks."))
    rt = alert_runtime(make_runtime, sink, {"wire": feed})
    subscribe(rt, "desk@example.org", ["PE"])
    sink.drop_after_data(1)
    run_cycle(rt)
    with rt.sessions.begin() as session:
        [delivery] = session.scalars(select(Delivery)).all()
        assert delivery.status == "unknown"
        assert outbox.requeue(session, [delivery.id], rt.now()) == 1

    alerting.run_alerts(rt)

    assert len(sink.messages) == 2  # the dropped one, and the deliberate resend
    assert statuses(rt) == [("immediate", "sent")]
    with rt.sessions.begin() as session:
        [subscriber] = outbox.list_subscribers(session)
        assert outbox.unsubscribe(session, subscriber.unsubscribe_token) is not None
        assert outbox.list_subscribers(session, active_only=True) == []


def test_one_undeliverable_row_fails_alone_and_the_rest_go_out(
    server: TestServer, make_runtime: BuildRuntime, sink: SmtpSink, clock: Clock
) -> None:
    feed = stories(server, ("Talks", "Chad and Niger held border talks."))
    rt = alert_runtime(make_runtime, sink, {"wire": feed})
    processed_without_alerts(rt)
    subscribe(rt, "good@example.org", ["TD"])
    subscribe(rt, "broken@example.org", ["TD"])
    with rt.sessions.begin() as session:  # an address stored before validation was stricter
        [broken] = [s for s in outbox.list_subscribers(session) if s.email.startswith("broken")]
        broken.email = "jürgen@exämple.de"

    outcome = alerting.run_alerts(rt)

    assert outcome.sent == 1
    assert outcome.failed == 1
    assert [str(m["To"]) for m in sink.messages] == ["good@example.org"]
    assert sorted(statuses(rt)) == [("immediate", "failed"), ("immediate", "sent")]


def test_unsubscribing_cancels_what_was_queued(
    server: TestServer, make_runtime: BuildRuntime, sink: SmtpSink, clock: Clock
) -> None:
    feed = stories(server, ("Talks", "Chad and Niger held border talks."))
    rt = alert_runtime(make_runtime, sink, {"wire": feed})
    processed_without_alerts(rt)
    subscribe(rt, "desk@example.org", ["TD"])
    assert alerting.match_new_items(rt).queued == 1
    with rt.sessions.begin() as session:
        [subscriber] = outbox.list_subscribers(session)
        outbox.unsubscribe(session, subscriber.unsubscribe_token)

    alerting.run_alerts(rt)

    assert sink.messages == []
    assert statuses(rt) == [("immediate", "failed")]


def test_the_same_text_at_two_urls_is_sent_once(
    server: TestServer, make_runtime: BuildRuntime, sink: SmtpSink, clock: Clock
) -> None:
    body = "Mongolia and Kazakhstan agreed on a new rail corridor."
    feed = stories(server, ("Rail deal", body), ("Rail deal (reprint)", body))
    rt = alert_runtime(make_runtime, sink, {"wire": feed})
    subscribe(rt, "desk@example.org", ["MN"])

    run_cycle(rt)

    assert len(sink.messages) == 1
