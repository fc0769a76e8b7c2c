"""Shared fixtures: real SQLite files, a real PostgreSQL database, a real local HTTP server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config.settings import Settings, load_settings
from flows.runtime import Runtime, dispose_runtimes, get_runtime
from tests.httpserver import TestServer

# Admin connection used to create one throw-away database per test session.
POSTGRES_ADMIN_URL = os.environ.get(
    "NEWSDESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test sees the developer's NEWSDESK_* variables or writes into the work tree."""
    for key in list(os.environ):
        if key.startswith("NEWSDESK_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    yield
    dispose_runtimes()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database created for this test session and dropped after it."""
    name = f"newsdesk_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every storage test runs on a fresh SQLite file and on a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'newsdesk.db'}"
        return
    base = request.getfixturevalue("postgres_database")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            make_url(base)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        dispose_runtimes()
        with engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TestServer]:
    root = tmp_path / "www"
    root.mkdir()
    with TestServer(root) as running:
        yield running


def write_catalogue(path: Path, feeds: dict[str, str], kind: str = "news") -> Path:
    """A sources.yaml with one source per (id, feed URL)."""
    lines = ["sources:"]
    for source_id, url in feeds.items():
        lines += [
            f"  - id: {source_id}",
            f"    name: Test source {source_id}",
            f"    kind: {kind}",
            "    country: GB",
            "    language: en",
            f'    feed_url: "{url}"',
            "    poll_interval: 15m",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def make_runtime(database_url: str, tmp_path: Path) -> Callable[..., Runtime]:
    """Build a Runtime on the parametrised database with a catalogue of the given feeds."""

    def build(feeds: dict[str, str], **overrides: object) -> Runtime:
        catalogue = write_catalogue(tmp_path / "sources.yaml", feeds)
        settings: Settings = load_settings(
            database_url=database_url,
            sources_path=catalogue,
            **overrides,
        )
        return get_runtime(settings)

    return build
