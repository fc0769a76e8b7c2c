"""Article extraction in worker processes that are killed when a page overruns its deadline.

trafilatura has no size limit or timeout of its own (200,000 unclosed ``<p>`` took 18 s), and a
thread cannot be stopped. Each worker is a long-lived ``python -m flows.extract_worker`` that
imports the extractor once and answers one page at a time over a pipe; a worker that overruns
is killed and replaced, and the page falls back to its feed summary.
"""

from __future__ import annotations

import os
import pickle
import select
import struct
import subprocess
import sys
import threading
from typing import IO, Any

from config.errors import ExtractionCrash, ExtractionTimeout
from extractors.articles import Article

_HEADER = struct.Struct("!I")
# Importing trafilatura takes about a second; far longer means the worker is stuck.
_START_TIMEOUT = 60.0


def write_frame(stream: IO[bytes], payload: object) -> None:
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> Any:
    """One pickled frame; EOFError when the other side has gone. Only our own processes write."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)  # noqa: S301 - frames come from our own worker process


class _Worker:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flows.extract_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def start(self) -> None:
        """Wait until the worker has imported the extractor (not counted against a page)."""
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], _START_TIMEOUT)
        if not ready:
            raise ExtractionCrash(f"worker not ready after {_START_TIMEOUT} s")
        try:
            read_frame(self.process.stdout)
        except EOFError as exc:
            raise ExtractionCrash(f"worker died at start (exit {self.process.poll()})") from exc

    def call(self, request: tuple[bytes, str | None, int, str | None], timeout: float) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        out = self.process.stdout
        try:
            write_frame(self.process.stdin, request)
            # Wait for the first byte of the answer; the rest follows at once.
            ready, _, _ = select.select([out], [], [], timeout)
            if not ready:
                raise ExtractionTimeout(f"no result within {timeout:g} s")
            return read_frame(out)
        except (EOFError, OSError) as exc:  # a broken pipe: the worker is gone
            raise ExtractionCrash(f"worker died (exit code {self.process.poll()})") from exc

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


class ExtractionPool:
    """Up to ``size`` workers, started on first use and reused while they behave."""

    def __init__(self, size: int) -> None:
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False

    def extract(
        self,
        html: bytes,
        *,
        url: str | None,
        max_chars: int,
        timeout: float,
        charset: str | None = None,
    ) -> Article | None:
        """``extract_article`` in a worker; ExtractionTimeout or ExtractionCrash on trouble."""
        with self._slots:
            worker = self._take()
            try:
                status, value = worker.call((html, url, max_chars, charset), timeout)
            except BaseException:
                worker.kill()
                raise
            self._give_back(worker)
        if status != "ok":
            raise ExtractionCrash(str(value))
        return value if isinstance(value, Article) else None

    def _take(self) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.process.poll() is None:
                    return worker
                worker.kill()  # already dead: just close its pipes
        worker = _Worker()
        try:
            worker.start()
        except BaseException:
            worker.kill()
            raise
        return worker

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(worker)
                return
        worker.kill()

    def close(self) -> None:
        """Stop idle workers now; busy ones are stopped when their page is done."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()
