"""A real HTTP server on 127.0.0.1 for tests: files from a folder plus scripted responses."""

from __future__ import annotations

import contextlib
import hashlib
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

from flows.local_server import LocalServer


@dataclass
class Scripted:
    """A canned response for one path."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


class TestServer(LocalServer):
    """Serves files written under ``root`` (with ETag/Last-Modified and 304s) and scripted paths."""

    __test__ = False  # not a test class, despite the name

    def __init__(self, root: Path) -> None:
        self.root = root
        self.scripted: dict[str, Scripted] = {}
        self.seen: list[Seen] = []
        super().__init__(type("Handler", (_Handler,), {"owner": self}))

    def url(self, path: str) -> str:
        return f"{self.address}/{path.lstrip('/')}"

    def write(self, path: str, content: str | bytes) -> str:
        """Write a file to serve; ``{base}`` in text is replaced by the server's address."""
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.replace("{base}", self.url("").rstrip("/")).encode("utf-8")
        target.write_bytes(content)
        return self.url(path)

    def requests_to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if urlsplit(s.path).path == "/" + path.lstrip("/")]


class _Handler(BaseHTTPRequestHandler):
    owner: TestServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.owner.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
        scripted = self.owner.scripted.get(path)
        if scripted is not None:
            self._scripted(scripted)
            return
        target = self.owner.root / path.lstrip("/")
        if not target.is_file():
            self._reply(404, b"not found", {"Content-Type": "text/plain"})
            return
        body = target.read_bytes()
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        headers = {"ETag": etag, "Last-Modified": "Sat, 28 Nov 2026 08:00:00 GMT"}
        if self.headers.get("If-None-Match") == etag:
            self._reply(304, b"", headers)
            return
        suffix = target.suffix
        headers["Content-Type"] = (
            "text/html; charset=utf-8" if suffix == ".html" else "application/xml"
        )
        self._reply(200, body, headers)

    def _scripted(self, scripted: Scripted) -> None:
        if scripted.delay:
            time.sleep(scripted.delay)
        body = scripted.body
        headers = dict(scripted.headers)
        self._reply(scripted.status, body, headers)

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass
