"""What every step needs at run time (settings, engine, sessions), built once per process."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings, load_settings
from flows.extraction_pool import ExtractionPool
from storage.db import open_database, session_factory

_lock = threading.Lock()
_runtimes: dict[str, Runtime] = {}


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    extraction: ExtractionPool

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)


def get_runtime(settings: Settings | None = None) -> Runtime:
    """The process's runtime for these settings (from the environment if not given).

    Prefect runs tasks in threads of one process; they share one engine per database.
    """
    settings = settings or load_settings()
    key = settings.model_dump_json()
    with _lock:
        runtime = _runtimes.get(key)
        if runtime is None:
            engine = open_database(settings.database_url)
            pool = ExtractionPool(settings.process.extract_workers)
            runtime = Runtime(settings, engine, session_factory(engine), pool)
            _runtimes[key] = runtime
        return runtime


def dispose_runtimes() -> None:
    """Close pooled connections and stop extraction workers (tests, and at exit)."""
    with _lock:
        for runtime in _runtimes.values():
            runtime.engine.dispose()
            runtime.extraction.close()
        _runtimes.clear()
