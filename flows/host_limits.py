"""Per-host politeness across every flow run: Prefect global concurrency limits.

Each host gets a limit named ``host:<host>`` with ``per_host_limit`` slots, created on first
use. Every request of every run on every worker holds one slot while in flight, so a poll and
a process run (or two workers) never send one ministry more requests at once than that. An
operator can lower or raise one host's limit on the UI's Concurrency page; it is never reset.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.asyncio import concurrency
from prefect.exceptions import ObjectNotFound

from config.errors import FetchTimeout, SoftFetchError
from extractors.http import HostLimiter
from flows.runtime import Runtime

_known_lock = threading.Lock()
_known: set[str] = set()  # limits this process has seen exist


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
    """A slot of a host's global limit, waited for at most ``wait_seconds``."""

    def __init__(self, slots: int, wait_seconds: float) -> None:
        self.slots = slots
        self.wait_seconds = wait_seconds

    @asynccontextmanager
    async def __call__(self, host: str) -> AsyncIterator[None]:
        name = limit_name(host)
        async with AsyncExitStack() as stack:
            # Only the acquisition is translated; whatever the request raises passes as is.
            try:
                await asyncio.to_thread(ensure_limit, name, self.slots)
                await stack.enter_async_context(
                    concurrency(
                        name,
                        occupy=1,
                        timeout_seconds=self.wait_seconds,
                        strict=True,
                        # A renewal hiccup must not kill a request that is nearly done.
                        raise_on_lease_renewal_failure=False,
                    )
                )
            except TimeoutError as exc:
                raise FetchTimeout(
                    host, f"no free slot on {host} within {self.wait_seconds:g} s"
                ) from exc
            except Exception as exc:  # the Prefect server is unreachable or refused
                raise SoftFetchError(host, f"could not take a slot on {host}: {exc}") from exc
            yield


def host_limiter(rt: Runtime) -> HostLimiter:
    """The limiter Prefect tasks use: per process, and per host across all runs."""
    http = rt.settings.http
    # Waiting longer than a whole request may take means the host is badly congested.
    gate = PrefectHostGate(http.per_host_limit, wait_seconds=http.total_deadline)
    return HostLimiter(http.per_host_limit, shared=gate)
