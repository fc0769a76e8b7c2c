"""Extraction in killable worker processes."""

from __future__ import annotations

import pytest

from extractors.articles import Article
from flows.extraction_pool import ExtractionPool, ExtractionTimeout
from tests.test_pipeline import page

HTML = page("Accord", "Chile and Argentina signed a water accord on Tuesday.").encode()


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
        # A fresh worker needs far longer than a millisecond: it stands in for a hung page.
        with pytest.raises(ExtractionTimeout, match=r"no result within 0\.001 s"):
            pool.extract(HTML, url=None, max_chars=10**6, timeout=0.001)
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
