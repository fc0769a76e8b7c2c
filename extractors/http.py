"""The only module that touches the network: a guarded httpx client for feeds and pages."""

from __future__ import annotations

import asyncio
import zlib
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from email.message import Message
from typing import Protocol

import httpx

from config.errors import BodyTooLarge, FetchError, FetchTimeout, HardFetchError, SoftFetchError
from config.settings import HttpSettings
from extractors.urls import host_of

# Statuses worth retrying later; every other 4xx means the request itself is wrong.
_SOFT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A response with its body decoded and bounded, or a 304 with no body."""

    url: str
    status: int
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def charset(self) -> str | None:
        """The charset the Content-Type header declares, if any."""
        if not self.content_type:
            return None
        message = Message()
        message["content-type"] = self.content_type
        value = message.get_param("charset")
        return value if isinstance(value, str) else None


def build_client(http: HttpSettings) -> httpx.AsyncClient:
    """An AsyncClient with newsdesk's identity, timeouts and connection limits."""
    return httpx.AsyncClient(
        headers={
            "User-Agent": http.user_agent,
            # Only encodings this module decodes itself with a size bound (no br, no zstd).
            "Accept-Encoding": "gzip, deflate",
        },
        timeout=httpx.Timeout(http.read_timeout, connect=http.connect_timeout),
        follow_redirects=True,
        max_redirects=5,
        limits=httpx.Limits(max_connections=http.max_concurrency),
        proxy=http.proxy,
    )


class HostGate(Protocol):
    """A slot on a host shared with other processes (the flows pass Prefect's limits)."""

    def __call__(self, host: str) -> AbstractAsyncContextManager[None]: ...

    async def aclose(self) -> None: ...


class HostLimiter:
    """At most ``per_host`` requests in flight to any one host from this process.

    With a ``shared`` gate, each request also holds one of the host's slots across every
    process, so two runs on two machines never hammer one ministry at once.
    """

    def __init__(self, per_host: int, shared: HostGate | None = None) -> None:
        self._semaphores: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(per_host)
        )
        self._shared = shared

    async def __aenter__(self) -> HostLimiter:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        """Let the shared gate close what it holds open (an API connection)."""
        if self._shared is not None:
            await self._shared.aclose()

    @asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        host = host_of(url)
        async with self._semaphores[host]:
            if self._shared is None:
                yield
            else:
                async with self._shared(host):
                    yield


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    deadline: float,
    etag: str | None = None,
    last_modified: str | None = None,
) -> FetchResult:
    """GET ``url`` conditionally, within ``deadline`` seconds and ``max_bytes`` decoded bytes.

    Raises SoftFetchError (retry later), HardFetchError (do not) or their subclasses.
    """
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with asyncio.timeout(deadline):
            return await _fetch(client, url, headers, max_bytes)
    except TimeoutError as exc:
        raise FetchTimeout(url, f"no complete response within {deadline:g} s") from exc
    except httpx.TimeoutException as exc:
        raise FetchTimeout(url, f"timed out ({type(exc).__name__})") from exc
    except (httpx.InvalidURL, httpx.UnsupportedProtocol, httpx.TooManyRedirects) as exc:
        raise HardFetchError(url, str(exc) or type(exc).__name__) from exc
    except httpx.HTTPError as exc:
        raise SoftFetchError(url, str(exc) or type(exc).__name__) from exc
    except zlib.error as exc:
        raise HardFetchError(url, f"corrupt compressed body ({exc})") from exc


async def _fetch(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], max_bytes: int
) -> FetchResult:
    async with client.stream("GET", url, headers=headers) as response:
        status = response.status_code
        if status != 304 and not 200 <= status < 300:
            error = SoftFetchError if status in _SOFT_STATUSES else HardFetchError
            raise error(url, f"HTTP {status}", status=status)
        body = b""
        if status != 304:
            encoding = response.headers.get("content-encoding", "identity")
            body = await _read_bounded(response, url, encoding, max_bytes)
        return FetchResult(
            url=str(response.url),
            status=status,
            body=body,
            content_type=response.headers.get("content-type"),
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
        )


async def _read_bounded(response: httpx.Response, url: str, encoding: str, max_bytes: int) -> bytes:
    """Read raw bytes and decode them here, counting decoded bytes as they are produced.

    httpx would inflate each network chunk in full before a caller can stop it, so a small
    gzip bomb could allocate hundreds of megabytes; zlib's ``max_length`` bounds it instead.
    """
    encoding = encoding.strip().lower()
    decoder = _decoder_for(encoding, url)
    parts: list[bytes] = []
    total = 0
    async for chunk in response.aiter_raw():
        pending = chunk
        while pending:
            if decoder is None:
                out, pending = pending, b""
            else:
                out = decoder.decompress(pending, max_bytes - total + 1)
                pending = decoder.unconsumed_tail
            total += len(out)
            if total > max_bytes:
                raise BodyTooLarge(url, f"body larger than {max_bytes} bytes")
            parts.append(out)
    if decoder is not None:
        parts.append(decoder.flush())
    return b"".join(parts)


def _decoder_for(encoding: str, url: str) -> zlib._Decompress | None:
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    if encoding == "deflate":
        # Servers disagree on whether "deflate" carries a zlib header; 32 accepts both headers.
        return zlib.decompressobj(wbits=zlib.MAX_WBITS | 32)
    raise HardFetchError(url, f"unsupported content-encoding {encoding!r}")


__all__ = ["FetchError", "FetchResult", "HostLimiter", "build_client", "fetch"]
