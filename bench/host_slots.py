"""What per-host Prefect slots cost: python -m bench.host_slots (needs PREFECT_API_URL).

Prints figures, asserts nothing. Against the Prefect server that PREFECT_API_URL names:
- one request at a time: the cost of taking and returning a slot (lease and release);
- N requests of a fixed duration through one host's 2 slots from one event loop, next to the
  ideal (N / 2 x duration), as the process flow's tasks do;
- the same from 7 threads, one event loop each, as the tasks of one run do.
The server's own database matters: one on SQLite makes concurrent slot calls wait for its
lock, one on PostgreSQL does not.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from extractors.http import HostLimiter
from flows.host_limits import PrefectHostGate


async def sequential(host: str, rounds: int) -> float:
    gate = PrefectHostGate(slots=2, wait_seconds=60)
    try:
        async with gate(host):  # creates the limit and opens the client
            pass
        started = time.perf_counter()
        for _ in range(rounds):
            async with gate(host):
                pass
        return (time.perf_counter() - started) / rounds
    finally:
        await gate.aclose()


async def through_two_slots(host: str, requests: int, seconds: float) -> float:
    """As a process task fetches pages: its own limiter in front of the shared gate."""
    limiter = HostLimiter(2, shared=PrefectHostGate(slots=2, wait_seconds=120))

    async def request() -> None:
        async with limiter.slot(f"http://{host}/page"):
            await asyncio.sleep(seconds)

    async with limiter:
        started = time.perf_counter()
        await asyncio.gather(*(request() for _ in range(requests)))
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=0.05, help="duration of one request")
    args = parser.parse_args()
    if not os.environ.get("PREFECT_API_URL"):
        print("error: set PREFECT_API_URL to a running server (newsdesk server)", file=sys.stderr)
        return 1
    host = f"bench-{uuid.uuid4().hex[:8]}.invalid"  # a fresh limit each time
    per_slot = asyncio.run(sequential(host, args.rounds))
    print(f"one at a time: {per_slot * 1000:.1f} ms to take and return a slot")
    ideal = args.requests / 2 * args.seconds
    took = asyncio.run(through_two_slots(host, args.requests, args.seconds))
    print(
        f"{args.requests} requests of {args.seconds * 1000:.0f} ms through 2 slots, one loop: "
        f"{took:.2f} s (ideal {ideal:.2f} s)"
    )
    per_thread = max(1, args.requests // 7)
    started = time.perf_counter()
    with ThreadPoolExecutor(7) as pool:
        list(
            pool.map(
                lambda _: asyncio.run(through_two_slots(host, per_thread, args.seconds)),
                range(7),
            )
        )
    took = time.perf_counter() - started
    ideal = 7 * per_thread / 2 * args.seconds
    print(
        f"7 threads x {per_thread} requests through the same 2 slots: {took:.2f} s "
        f"(ideal {ideal:.2f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
