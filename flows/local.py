"""One poll + process cycle run in-process with asyncio, without Prefect.

The CLI uses this when no Prefect server is configured: Prefect's temporary server costs
15 to 35 s per process, which is most of a demo. The steps are the ones the flows run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Sequence
from typing import Protocol

import httpx

from config.errors import SoftFetchError
from extractors.http import HostLimiter, build_client
from flows import steps
from flows.alerting import run_alerts
from flows.reading import SourceRead, read_source
from flows.report import CycleReport, build_report
from flows.runtime import Runtime
from storage.records import FeedToPoll


class Observer(Protocol):
    """Told about progress, e.g. by a Rich progress bar."""

    def stage(self, name: str, total: int) -> None: ...

    def advance(self, name: str) -> None: ...


class _Silent:
    def stage(self, name: str, total: int) -> None:
        pass

    def advance(self, name: str) -> None:
        pass


def run_cycle(
    rt: Runtime,
    *,
    only: Collection[str] | None = None,
    force: bool = False,
    process: bool = True,
    observer: Observer | None = None,
) -> CycleReport:
    """Sync the catalogue, poll due feeds, process pending items; return the report.

    ``only`` limits both stages to those sources; ``process=False`` polls without processing.
    """
    return asyncio.run(
        run_cycle_async(rt, only=only, force=force, process=process, observer=observer)
    )


async def run_cycle_async(
    rt: Runtime,
    *,
    only: Collection[str] | None = None,
    force: bool = False,
    process: bool = True,
    observer: Observer | None = None,
) -> CycleReport:
    observer = observer or _Silent()
    started = time.perf_counter()
    await asyncio.to_thread(steps.sync_catalogue, rt)
    feeds = await asyncio.to_thread(steps.due_feeds, rt, only, force=force)
    limiter = HostLimiter(rt.settings.http.per_host_limit)
    async with build_client(rt.settings.http) as client:
        observer.stage("poll", len(feeds))
        polls = await _poll_all(rt, client, limiter, feeds, observer)
        work = await asyncio.to_thread(steps.sources_with_work, rt, only) if process else []
        observer.stage("process", len(work))

        async def process_one(source_id: str) -> steps.ProcessOutcome:
            outcome = await steps.process_source(rt, source_id, client=client, limiter=limiter)
            observer.advance("process")
            return outcome

        processes = await asyncio.gather(*(process_one(w.source_id) for w in work))
    alerts = await asyncio.to_thread(run_alerts, rt) if process else None
    return await asyncio.to_thread(
        build_report,
        rt,
        polls=polls,
        processes=processes,
        alerts=alerts,
        seconds=time.perf_counter() - started,
        orchestrator="local",
    )


async def _poll_all(
    rt: Runtime,
    client: httpx.AsyncClient,
    limiter: HostLimiter,
    feeds: Sequence[FeedToPoll],
    observer: Observer,
) -> list[steps.PollOutcome]:
    gate = asyncio.Semaphore(rt.settings.poll.concurrency)

    async def poll(feed: FeedToPoll) -> steps.PollOutcome:
        async with gate:
            try:
                read = await _with_retries(rt, client, limiter, feed)
                outcome = await asyncio.to_thread(steps.store_read, rt, feed, read)
            except Exception as exc:  # one feed must never stop the others
                outcome = await asyncio.to_thread(steps.record_feed_failure, rt, feed, exc)
        observer.advance("poll")
        return outcome

    return list(await asyncio.gather(*(poll(feed) for feed in feeds)))


async def _with_retries(
    rt: Runtime, client: httpx.AsyncClient, limiter: HostLimiter, feed: FeedToPoll
) -> SourceRead:
    """Read with the same soft-failure retry policy the Prefect task uses."""
    delays = list(rt.settings.http.retry_delays)
    while True:
        try:
            async with limiter.slot(feed.feed_url):
                return await read_source(client, rt.settings.http, feed)
        except SoftFetchError:
            if not delays:
                raise
            await asyncio.sleep(delays.pop(0))
