"""The guarded HTTP client against a real local server."""

from __future__ import annotations

import asyncio
import gzip

import pytest

from config.errors import BodyTooLarge, FetchTimeout, HardFetchError, SoftFetchError
from config.settings import HttpSettings
from extractors.http import FetchResult, HostLimiter, build_client, fetch
from tests.httpserver import Scripted, TestServer


def get(url: str, *, max_bytes: int = 1_000_000, deadline: float = 5, **kw: str) -> FetchResult:
    async def run() -> FetchResult:
        async with build_client(HttpSettings(user_agent="newsdesk-test/1")) as client:
            return await fetch(client, url, max_bytes=max_bytes, deadline=deadline, **kw)

    return asyncio.run(run())


def test_fetch_returns_body_and_validators_and_identifies_itself(server: TestServer) -> None:
    url = server.write("feed.xml", "<rss/>")

    result = get(url)

    assert result.status == 200
    assert result.body == b"<rss/>"
    assert result.etag is not None
    assert result.last_modified == "Sat, 28 Nov 2026 08:00:00 GMT"
    assert server.seen[0].headers["user-agent"] == "newsdesk-test/1"


def test_matching_validator_gives_not_modified_without_body(server: TestServer) -> None:
    url = server.write("feed.xml", "<rss/>")
    etag = get(url).etag
    assert etag is not None

    again = get(url, etag=etag)

    assert again.not_modified
    assert again.body == b""
    assert server.seen[1].headers["if-none-match"] == etag


@pytest.mark.parametrize(
    ("status", "error"),
    [(404, HardFetchError), (410, HardFetchError), (503, SoftFetchError), (429, SoftFetchError)],
)
def test_status_codes_are_classified(
    server: TestServer, status: int, error: type[Exception]
) -> None:
    server.scripted["/x"] = Scripted(status=status)

    with pytest.raises(error) as raised:
        get(server.url("x"))

    assert raised.value.status == status  # type: ignore[attr-defined]
    assert not isinstance(
        raised.value, HardFetchError if error is SoftFetchError else SoftFetchError
    )


def test_body_over_the_limit_is_refused(server: TestServer) -> None:
    server.scripted["/big"] = Scripted(body=b"x" * 5000)

    with pytest.raises(BodyTooLarge):
        get(server.url("big"), max_bytes=4000)
    assert get(server.url("big"), max_bytes=5000).body == b"x" * 5000


def test_gzip_body_is_decoded_and_its_decoded_size_bounded(server: TestServer) -> None:
    # 20 MB of zeros compress to about 20 KB: the limit must apply to what it inflates to.
    bomb = gzip.compress(b"\0" * 20_000_000)
    server.scripted["/bomb"] = Scripted(body=bomb, headers={"Content-Encoding": "gzip"})
    server.scripted["/ok"] = Scripted(
        body=gzip.compress(b"hello " * 100), headers={"Content-Encoding": "gzip"}
    )

    assert get(server.url("ok")).body == b"hello " * 100
    with pytest.raises(BodyTooLarge):
        get(server.url("bomb"), max_bytes=1_000_000)


def test_slow_server_hits_the_total_deadline(server: TestServer) -> None:
    server.scripted["/slow"] = Scripted(body=b"late", delay=2.0)

    with pytest.raises(FetchTimeout):
        get(server.url("slow"), deadline=0.5)


def test_unreachable_host_is_a_soft_failure() -> None:
    with pytest.raises(SoftFetchError):
        get("http://127.0.0.1:9/")  # the discard port: nothing listens there


def test_host_limiter_caps_requests_in_flight_per_host() -> None:
    limiter = HostLimiter(per_host=2)
    in_flight: dict[str, int] = {"a": 0, "b": 0}
    peaks: dict[str, int] = {"a": 0, "b": 0}

    async def hold(host: str) -> None:
        async with limiter.slot(f"http://{host}.example/page"):
            in_flight[host] += 1
            peaks[host] = max(peaks[host], in_flight[host])
            await asyncio.sleep(0.01)
            in_flight[host] -= 1

    async def main() -> None:
        await asyncio.gather(*(hold(h) for h in "ab" * 5))

    asyncio.run(main())
    assert peaks == {"a": 2, "b": 2}
