"""Per-host politeness across every flow run: Prefect global concurrency limits.

Each host gets a limit named ``host:<host>`` with ``per_host_limit`` slots, created on first
use. Every request of every run on every worker holds one slot while in flight, so a poll and
a process run (or two workers) never send one ministry more requests at once than that. An
operator can lower or raise one host's limit on the UI's Concurrency page; it is never reset.
Within one process the tasks of all runs first share ``per_host_limit`` slots per host, so
only that many ask the server at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.exceptions import ObjectNotFound

from config.errors import FetchTimeout, SoftFetchError
from extractors.http import HostLimiter
from flows.runtime import Runtime

log = logging.getLogger(__name__)

_known_lock = threading.Lock()
_known: set[str] = set()  # limits this process has seen exist
# This process's own share of each host: every task runs in its own thread and event loop,
# so a per-task limit would let each task of a run send per_host_limit requests at once.
_local_lock = threading.Lock()
_local: dict[str, threading.BoundedSemaphore] = {}


def _local_slots(host: str, slots: int) -> threading.BoundedSemaphore:
    with _local_lock:
        if host not in _local:
            _local[host] = threading.BoundedSemaphore(slots)
        return _local[host]


@asynccontextmanager
async def _local_slot(host: str, slots: int) -> AsyncIterator[None]:
    """A slot of this process's share, waited for without blocking the event loop."""
    semaphore = _local_slots(host, slots)
    while not semaphore.acquire(blocking=False):
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        semaphore.release()


def limit_name(host: str) -> str:
    return f"host:{host}"


def ensure_limit(name: str, slots: int) -> None:
    """Create the limit unless it exists; an existing one keeps what an operator set.

    Blocking, under a lock: the first requests to a new host come from many threads at once,
    and one creation per process is enough.
    """
    with _known_lock:
        if name in _known:
            return
        with get_client(sync_client=True) as client:
            try:
                client.read_global_concurrency_limit_by_name(name)
            except ObjectNotFound:
                try:
                    client.create_global_concurrency_limit(
                        GlobalConcurrencyLimitCreate(name=name, limit=slots)
                    )
                except Exception:
                    # Another worker created it meanwhile (the server then answers 409, or
                    # 500 when it stores on PostgreSQL); if it still does not exist, raise.
                    client.read_global_concurrency_limit_by_name(name)
        _known.add(name)


class PrefectHostGate:
    """A slot of a host's global limit, waited for at most ``wait_seconds``.

    Slots are leased straight from the Prefect API rather than through
    ``prefect.concurrency``: that helper renews each lease from a thread of its own and, when
    the limit is busy, waits the server's "retry after" (seconds, for requests that take a
    fraction of one), which made a run of 23 pages on one host take 15 s instead of 3.
    A request cannot outlive ``total_deadline``, so the lease only has to outlast that; a
    worker that dies holding one frees it when the lease runs out.
    """

    def __init__(
        self,
        slots: int,
        wait_seconds: float,
        lease_seconds: float = 90.0,
        *,
        across_processes: bool = True,
    ) -> None:
        self.slots = slots
        # Off: only this process's share is kept (all tasks of its runs together).
        self.across_processes = across_processes
        self.wait_seconds = wait_seconds
        self.lease_seconds = max(lease_seconds, 60.0)  # the server's minimum
        self._client: PrefectClient | None = None
        self._opening: asyncio.Lock | None = None

    async def _api(self) -> PrefectClient:
        """One API client for the gate's life (opening one costs more than a lease)."""
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._client is None:
                client = get_client()
                await client.__aenter__()
                self._client = client
            return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.__aexit__(None, None, None)

    @asynccontextmanager
    async def __call__(self, host: str) -> AsyncIterator[None]:
        name = limit_name(host)
        async with AsyncExitStack() as stack:
            # Only the acquisition is translated; whatever the request raises passes as is.
            try:
                async with asyncio.timeout(self.wait_seconds):
                    await stack.enter_async_context(_local_slot(host, self.slots))
                    if not self.across_processes:
                        lease = None
                    else:
                        if name not in _known:  # a set lookup; the lock is for first use
                            await asyncio.to_thread(ensure_limit, name, self.slots)
                        client = await self._api()
                        lease = await _lease(client, name, self.lease_seconds)
            except TimeoutError as exc:
                raise FetchTimeout(
                    host, f"no free slot on {host} within {self.wait_seconds:g} s"
                ) from exc
            except Exception as exc:  # the Prefect server is unreachable or refused
                raise SoftFetchError(host, f"could not take a slot on {host}: {exc}") from exc
            try:
                yield
            finally:
                if lease is not None:
                    await _release(client, lease)


async def _lease(client: PrefectClient, name: str, lease_seconds: float) -> UUID:
    """One slot of ``name``, retried with a short backoff while the limit is full."""
    delay = 0.05
    while True:
        try:
            response = await client.increment_concurrency_slots_with_lease(
                names=[name], slots=1, mode="concurrency", lease_duration=lease_seconds
            )
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != httpx.codes.LOCKED:
                raise
        else:
            return UUID(response.json()["lease_id"])
        await asyncio.sleep(delay * random.uniform(0.5, 1.5))  # noqa: S311 - jitter only
        delay = min(delay * 2, 1.0)


async def _release(client: PrefectClient, lease: UUID) -> None:
    try:
        await client.release_concurrency_slots_with_lease(lease)
    except Exception as exc:  # the lease runs out on its own; the request itself went fine
        log.warning("could not release host slot %s: %s", lease, exc)


def host_limiter(rt: Runtime) -> HostLimiter:
    """The limiter Prefect tasks use: per process, and per host across all runs."""
    http = rt.settings.http
    # Waiting longer than a whole request may take means the host is badly congested.
    gate = PrefectHostGate(
        http.per_host_limit,
        wait_seconds=http.total_deadline,
        lease_seconds=2 * http.total_deadline,  # a request ends within total_deadline
        across_processes=http.global_host_limits,
    )
    return HostLimiter(http.per_host_limit, shared=gate)
