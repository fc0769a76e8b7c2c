"""Engines and sessions built from settings on demand, and the schema kept at Alembic head."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from config.errors import StorageError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant works; it only has to be the same for every newsdesk process.
_MIGRATION_LOCK_KEY = 7_305_412_211


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL and a busy timeout."""
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            check_sqlite_version(sqlite3.sqlite_version_info)
            database = parsed.database
            if database and database != ":memory:":
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(parsed, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(parsed, pool_pre_ping=True)
    except ArgumentError as exc:
        raise StorageError(f"invalid database URL {url!r}") from exc
    except (ImportError, NoSuchModuleError) as exc:
        raise StorageError(
            f"no driver for {url.split(':', 1)[0]!r}; use sqlite:/// or postgresql+psycopg://"
        ) from exc
    except OSError as exc:
        raise StorageError(f"cannot create the database folder: {exc}") from exc


# INSERT ... RETURNING and UPDATE ... RETURNING, which claims and inserts rely on.
MIN_SQLITE = (3, 35)


def check_sqlite_version(version: tuple[int, ...]) -> None:
    if version < MIN_SQLITE:
        have = ".".join(map(str, version))
        need = ".".join(map(str, MIN_SQLITE))
        raise StorageError(
            f"SQLite {have} is too old: newsdesk needs {need} or newer (RETURNING); "
            "use a newer Python build or PostgreSQL"
        )


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets the CLI read while a run writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def schema_is_current(engine: Engine) -> bool:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current == head


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration; safe when several processes start at once."""
    try:
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
                try:
                    command.upgrade(alembic_config(engine), "head")
                finally:
                    connection.execute(
                        text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK_KEY}
                    )
                    connection.commit()
        else:
            command.upgrade(alembic_config(engine), "head")
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot migrate the database: {_reason(exc)}") from exc


def open_database(url: str) -> Engine:
    """An engine whose schema is at head, migrating on first use."""
    engine = make_engine(url)
    try:
        current = schema_is_current(engine)
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot reach the database {_redacted(url)}: {_reason(exc)}") from exc
    if not current:
        upgrade(engine)
    return engine


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's own message, without SQLAlchemy's statement dump and link."""
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).strip().splitlines()[0]


def _redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
