"""The one-click unsubscribe endpoint that alert emails link to (RFC 8058).

``GET <path>/<token>`` shows a page with a button, and never unsubscribes by itself: mail
scanners fetch links before anyone clicks. ``POST <path>/<token>`` unsubscribes; mail
clients send it with the body ``List-Unsubscribe=One-Click`` straight from the header, and
the page's button sends the same. The storage work is passed in, so this module only speaks
HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape


@dataclass(frozen=True, slots=True)
class Subscription:
    email: str
    active: bool


@dataclass(frozen=True, slots=True)
class UnsubscribeActions:
    """What the page needs from storage: look a token up, and act on it."""

    look_up: Callable[[str], Subscription | None]
    unsubscribe: Callable[[str], Subscription | None]


_TEMPLATES = Environment(
    loader=PackageLoader("alerts", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",)),
)


def mask(email: str) -> str:
    """``d***@example.org``: enough to recognise, not enough to harvest from a shared link."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def page(state: str, *, email: str = "", action: str = "") -> bytes:
    html = _TEMPLATES.get_template("unsubscribe.html").render(
        state=state, email=mask(email) if email else "", action=action
    )
    return html.encode("utf-8")


def handler(actions: UnsubscribeActions, path: str) -> type[BaseHTTPRequestHandler]:
    """The request handler answering ``<path>/<token>`` with these storage actions."""
    prefix = "/" + path.strip("/")
    return type("Handler", (_Handler,), {"actions": actions, "prefix": prefix})


class _Handler(BaseHTTPRequestHandler):
    actions: UnsubscribeActions
    prefix: str
    server_version = "newsdesk"

    def do_GET(self) -> None:
        token = self._token()
        found = self.actions.look_up(token) if token else None
        if found is None:
            self._send(HTTPStatus.NOT_FOUND, page("unknown"))
        elif not found.active:
            self._send(HTTPStatus.OK, page("already", email=found.email))
        else:
            self._send(HTTPStatus.OK, page("ask", email=found.email, action=self.path))

    def do_POST(self) -> None:
        # The body (List-Unsubscribe=One-Click, or the form's) says nothing more: read and drop.
        length = min(int(self.headers.get("Content-Length") or 0), 4096)
        self.rfile.read(length)
        token = self._token()
        before = self.actions.look_up(token) if token else None
        if before is None:
            self._send(HTTPStatus.NOT_FOUND, page("unknown"))
            return
        if not before.active:
            self._send(HTTPStatus.OK, page("already", email=before.email))
            return
        after = self.actions.unsubscribe(token)
        self._send(HTTPStatus.OK, page("done", email=(after or before).email))

    def _token(self) -> str:
        path = urlsplit(self.path).path
        if not path.startswith(self.prefix + "/"):
            return ""
        token = unquote(path[len(self.prefix) + 1 :])
        return token if token and "/" not in token and len(token) <= 200 else ""

    def _send(self, status: HTTPStatus, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")  # the token is in the URL
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: request lines would put tokens in the log."""
