"""The repository on real SQLite and PostgreSQL databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from config.errors import StorageError
from config.sources import SourceConfig
from storage import repository as repo
from storage.db import check_sqlite_version, open_database, schema_is_current, session_factory
from storage.models import FeedState, Item, Source
from storage.records import (
    ClaimedItem,
    CountryRow,
    FeedToPoll,
    NewItem,
    ProcessedItem,
    SourceWork,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def source(source_id: str, url: str = "https://example.org/feed.xml") -> SourceConfig:
    return SourceConfig(
        id=source_id,
        name=f"Source {source_id}",
        kind="news",
        country="FR",
        language="fr",
        feed_url=url,
        poll_interval=600,
    )


def entry(url: str, title: str | None = "t") -> NewItem:
    return NewItem(
        url=url, guid=url, title=title, summary="s", author=None, published_at=NOW, language="en"
    )


@pytest.fixture
def engine(database_url: str) -> Engine:
    return open_database(database_url)


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    factory = session_factory(engine)
    with factory.begin() as session:
        repo.sync_sources(session, [source("a"), source("b")])
    return factory


def test_first_use_migrates_to_head(engine: Engine) -> None:
    assert schema_is_current(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"sources", "feed_states", "items", "mentions", "alembic_version"} <= tables


def test_unreachable_database_is_a_clear_error() -> None:
    with pytest.raises(StorageError, match="cannot reach the database"):
        open_database("postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=2")


def test_sync_adds_updates_and_disables(sessions: sessionmaker[Session]) -> None:
    old = FeedToPoll("a", "https://example.org/feed.xml", poll_interval=600)
    with sessions.begin() as session:
        repo.record_poll_success(session, old, NOW, status=200, etag='"x"', last_modified="y")
        repo.record_poll_failure(
            session, old, NOW, error="HTTP 500", status=500, max_backoff_seconds=9999
        )
    with sessions.begin() as session:
        result = repo.sync_sources(
            session, [source("a", "https://example.org/new.xml"), source("c")]
        )
    assert result == (1, 1, 1)
    with sessions() as session:
        rows = {s.id: s for s in session.scalars(select(Source))}
        state = session.get(FeedState, "a")
    assert rows["a"].feed_url == "https://example.org/new.xml"
    # Validators and backoff of the old URL are forgotten: the new one is polled at once.
    assert state is not None
    assert (state.etag, state.last_modified, state.consecutive_failures) == (None, None, 0)
    assert state.next_poll_at is None
    assert rows["b"].enabled is False
    assert rows["c"].enabled is True


def test_insert_returns_only_new_ids_and_ignores_known_urls(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        first = repo.insert_new_items(
            session, "a", [entry("https://x.org/1"), entry("https://x.org/2")], NOW
        )
    with sessions.begin() as session:
        second = repo.insert_new_items(
            session, "b", [entry("https://x.org/2"), entry("https://x.org/3")], NOW
        )
    assert len(first) == 2
    assert len(second) == 1
    with sessions() as session:
        owners = {url: sid for url, sid in session.execute(select(Item.url, Item.source_id))}
    # The item stays with the source that found it first.
    assert owners == {"https://x.org/1": "a", "https://x.org/2": "a", "https://x.org/3": "b"}


def test_sources_with_work_counts_what_each_source_has_waiting(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        repo.insert_new_items(session, "a", [entry(f"https://x.org/{n}") for n in range(3)], NOW)
        repo.insert_new_items(session, "b", [entry("https://y.org/1")], NOW)
    with sessions.begin() as session:
        repo.claim_items(
            session, NOW, lease=timedelta(minutes=15), limit=1, max_attempts=3, source_id="a"
        )
    with sessions() as session:
        work = repo.sources_with_work(session, NOW, max_attempts=3)
    # One of a's three is leased now; the labels come from the catalogue.
    assert work == [SourceWork("a", 2, "news", "FR"), SourceWork("b", 1, "news", "FR")]


def test_claim_leases_items_and_a_second_claim_gets_none(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        repo.insert_new_items(session, "a", [entry(f"https://x.org/{n}") for n in range(3)], NOW)

    def claim(now: datetime) -> list[int]:
        with sessions.begin() as session:
            got = repo.claim_items(
                session, now, lease=timedelta(minutes=15), limit=10, max_attempts=3
            )
        return [item.id for item in got]

    first = claim(NOW)
    assert len(first) == 3
    assert claim(NOW + timedelta(minutes=1)) == []
    # A worker that died leaves its lease to expire; then the items can be claimed again.
    assert claim(NOW + timedelta(minutes=16)) == first
    with sessions() as session:
        assert {i.attempts for i in session.scalars(select(Item))} == {2}


def test_failed_items_are_claimable_until_attempts_run_out(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        [item_id] = repo.insert_new_items(session, "a", [entry("https://x.org/1")], NOW)
    for attempt in range(2):
        with sessions.begin() as session:
            claimed = repo.claim_items(
                session, NOW, lease=timedelta(minutes=1), limit=5, max_attempts=2
            )
            assert [c.id for c in claimed] == [item_id], attempt
            assert repo.fail_item(session, claimed[0], "HTTP 503", NOW)
    with sessions.begin() as session:
        assert (
            repo.claim_items(session, NOW, lease=timedelta(minutes=1), limit=5, max_attempts=2)
            == []
        )
        assert repo.sources_with_work(session, NOW, max_attempts=2) == []


def test_complete_item_stores_text_and_mentions_together(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        [item_id] = repo.insert_new_items(session, "a", [entry("https://x.org/1", None)], NOW)
    with sessions.begin() as session:
        [claimed] = repo.claim_items(
            session, NOW, lease=timedelta(minutes=1), limit=5, max_attempts=2
        )
    result = ProcessedItem(
        text="Syria and Russia.",
        text_source="page",
        content_hash="0" * 64,
        countries=(
            CountryRow("SY", 1, 0, "Syria and Russia.", "name", 0.9, [[0, 5, "name"]]),
            CountryRow("RU", 1, 10, "Syria and Russia.", "name", 0.5, [[10, 16, "name"]]),
        ),
        title="From the page",
    )
    with sessions.begin() as session:
        assert repo.complete_item(session, claimed, result, NOW)
    with sessions() as session:
        item = session.get(Item, item_id)
        assert item is not None
        assert item.status == "done"
        assert item.title == "From the page"
        assert [(m.country, m.spans) for m in item.mentions] == [
            ("SY", [[0, 5, "name"]]),
            ("RU", [[10, 16, "name"]]),
        ]
        found = repo.find_items(session, country="sy")
        assert [i.id for i in found] == [item_id]
        assert found[0].countries == ("SY", "RU")
        assert repo.find_items(session, country="FR") == []
        assert repo.find_items(session, since=NOW + timedelta(hours=1)) == []
        assert repo.country_counts(session, [item_id]) == [("RU", 1), ("SY", 1)]


def test_poll_failures_back_off_exponentially_and_success_resets(
    sessions: sessionmaker[Session],
) -> None:
    feed = FeedToPoll("a", "https://example.org/feed.xml", poll_interval=600)
    delays = []
    for _ in range(3):
        with sessions.begin() as session:
            repo.record_poll_failure(
                session, feed, NOW, error="HTTP 503", status=503, max_backoff_seconds=3000
            )
        with sessions() as session:
            due = repo.due_feeds(session, NOW + timedelta(seconds=599))
            state = repo.list_sources(session)[0].state
            assert state is not None and state.next_poll_at is not None
            delays.append((state.next_poll_at - NOW).total_seconds())
            assert "a" not in [f.source_id for f in due]
    assert delays == [1200, 2400, 3000]
    with sessions.begin() as session:
        repo.record_poll_success(
            session, feed, NOW, status=200, etag='"v1"', last_modified="Sat, 28 Nov 2026"
        )
    with sessions() as session:
        due = repo.due_feeds(session, NOW + timedelta(seconds=600), ["a"])
        assert due == [
            FeedToPoll("a", feed.feed_url, 600, etag='"v1"', last_modified="Sat, 28 Nov 2026")
        ]


def test_a_claim_takes_no_more_than_its_limit(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        repo.insert_new_items(session, "a", [entry(f"https://x.org/{n}") for n in range(5)], NOW)

    def claim() -> int:
        with sessions.begin() as session:
            got = repo.claim_items(
                session, NOW, lease=timedelta(minutes=15), limit=2, max_attempts=3
            )
        return len(got)

    assert [claim(), claim(), claim(), claim()] == [2, 2, 1, 0]


def test_concurrent_claims_take_disjoint_batches(sessions: sessionmaker[Session]) -> None:
    """Two workers claiming at the same moment never get the same item (SKIP LOCKED on PG)."""
    import threading

    with sessions.begin() as session:
        repo.insert_new_items(session, "a", [entry(f"https://x.org/{n}") for n in range(40)], NOW)
    barrier = threading.Barrier(4)
    batches: list[list[int]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            with sessions.begin() as session:
                got = repo.claim_items(
                    session, NOW, lease=timedelta(minutes=15), limit=15, max_attempts=3
                )
            batches.append([item.id for item in got])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    claimed = [item_id for batch in batches for item_id in batch]
    assert len(claimed) == len(set(claimed))
    assert len(claimed) == 40


def test_a_worker_whose_lease_expired_cannot_overwrite_the_next_claim(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        repo.insert_new_items(session, "a", [entry("https://x.org/1")], NOW)

    def claim(now: datetime) -> list[ClaimedItem]:
        with sessions.begin() as session:
            return repo.claim_items(
                session, now, lease=timedelta(minutes=15), limit=5, max_attempts=5
            )

    [slow] = claim(NOW)
    [fast] = claim(NOW + timedelta(minutes=16))
    done = ProcessedItem(text="Chad.", text_source="page", content_hash="1" * 64, countries=())
    with sessions.begin() as session:
        assert repo.complete_item(session, fast, done, NOW)
    with sessions.begin() as session:
        assert not repo.fail_item(session, slow, "late timeout", NOW)
        assert not repo.complete_item(session, slow, done, NOW)
    with sessions() as session:
        item = session.scalars(select(Item)).one()
    assert (item.status, item.text, item.error, item.attempts) == ("done", "Chad.", None, 2)


def test_a_feed_of_thousands_of_entries_inserts_on_both_databases(
    sessions: sessionmaker[Session],
) -> None:
    many = [entry(f"https://x.org/{n}") for n in range(6500)]
    with sessions.begin() as session:
        assert len(repo.insert_new_items(session, "a", many, NOW)) == 6500
    with sessions.begin() as session:
        assert repo.insert_new_items(session, "a", many, NOW) == []


def test_an_sqlite_without_returning_is_refused_with_a_clear_message() -> None:
    check_sqlite_version((3, 35, 0))
    with pytest.raises(StorageError, match=r"SQLite 3\.31\.1 is too old: newsdesk needs 3\.35"):
        check_sqlite_version((3, 31, 1))
