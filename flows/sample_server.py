"""A small static HTTP server for the offline samples: validators, 304s, 404s, proxy requests."""

from __future__ import annotations

import hashlib
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flows.local_server import LocalServer

_TYPES = {
    ".xml": "application/xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
PLACEHOLDER = b"{{BASE_URL}}"


class SampleServer(LocalServer):
    """Serves ``root`` on 127.0.0.1 (a free port), writing ``base_url`` for ``{{BASE_URL}}``.

    Requests may name an absolute URL (the server then acts as the HTTP proxy for the sample
    origin), so item URLs stay the same whichever port the server gets.
    """

    def __init__(self, root: Path, base_url: str | None = None) -> None:
        self.root = root.resolve()
        self._base_url = base_url
        self.requests: list[tuple[str, int]] = []
        super().__init__(type("Handler", (_Handler,), {"server_root": self.root, "owner": self}))

    @property
    def base_url(self) -> str:
        return self._base_url or self.address


class _Handler(BaseHTTPRequestHandler):
    server_root: Path
    owner: SampleServer

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        target = (self.server_root / path.lstrip("/")).resolve()
        if not target.is_file() or not target.is_relative_to(self.server_root):
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
            return
        body = target.read_bytes().replace(PLACEHOLDER, self.owner.base_url.encode())
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        last_modified = formatdate(target.stat().st_mtime, usegmt=True)
        if self.headers.get("If-None-Match") == etag:
            self._send(HTTPStatus.NOT_MODIFIED, b"", None, etag, last_modified)
            return
        content_type = _TYPES.get(target.suffix, "application/octet-stream")
        self._send(HTTPStatus.OK, body, content_type, etag, last_modified)

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str | None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        self.owner.requests.append((self.path, int(status)))
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if etag:
            self.send_header("ETag", etag)
        if last_modified:
            self.send_header("Last-Modified", last_modified)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != HTTPStatus.NOT_MODIFIED:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the demo prints its own summary."""
