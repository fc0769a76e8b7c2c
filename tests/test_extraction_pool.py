"""Extraction in killable worker processes."""

from __future__ import annotations

import time

import pytest

from config.errors import ExtractionTimeout
from extractors.articles import Article
from flows.extraction_pool import ExtractionPool
from tests.test_pipeline import page

HTML = page("Accord", "Chile and Argentina signed a water accord on Tuesday.").encode()
# 100,000 unclosed paragraphs keep trafilatura busy for seconds: a page that "hangs".
HANGING = ("<html><body>" + "<p>x" * 100_000 + "</body></html>").encode()


def test_workers_extract_and_are_reused() -> None:
    pool = ExtractionPool(size=1)
    try:
        first = pool.extract(HTML, url="https://example.org/a", max_chars=10**6, timeout=60)
        worker = pool._idle[0].process.pid
        second = pool.extract(HTML, url="https://example.org/a", max_chars=10**6, timeout=60)
        assert pool._idle[0].process.pid == worker
    finally:
        pool.close()
    assert isinstance(first, Article)
    assert "Chile and Argentina signed" in first.text
    assert second == first


def test_overrunning_worker_is_killed_and_replaced() -> None:
    pool = ExtractionPool(size=1)
    try:
        started = time.monotonic()
        with pytest.raises(ExtractionTimeout, match=r"no result within 0\.5 s"):
            pool.extract(HANGING, url=None, max_chars=10**7, timeout=0.5)
        assert time.monotonic() - started < 5
        assert pool._idle == []
        after = pool.extract(HTML, url=None, max_chars=10**6, timeout=60)
    finally:
        pool.close()
    assert after is not None


def test_oversize_page_gives_none_from_the_worker() -> None:
    pool = ExtractionPool(size=1)
    try:
        assert pool.extract(HTML, url=None, max_chars=100, timeout=60) is None
    finally:
        pool.close()


def test_closed_pool_stops_its_workers() -> None:
    pool = ExtractionPool(size=1)
    pool.extract(HTML, url=None, max_chars=10**6, timeout=60)
    [worker] = pool._idle

    pool.close()

    assert worker.process.poll() is not None
