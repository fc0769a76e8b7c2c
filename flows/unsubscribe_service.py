"""``newsdesk alerts unsubscribe-page``: the unsubscribe endpoint wired to the database."""

from __future__ import annotations

from urllib.parse import urlsplit

from alerts.unsubscribe_page import Subscription, UnsubscribeActions, handler
from flows.local_server import LocalServer
from flows.runtime import Runtime
from storage import outbox


def actions(rt: Runtime) -> UnsubscribeActions:
    def look_up(token: str) -> Subscription | None:
        with rt.sessions() as session:
            found = outbox.subscriber_by_token(session, token)
            return Subscription(found.email, found.active) if found else None

    def unsubscribe(token: str) -> Subscription | None:
        with rt.sessions.begin() as session:
            found = outbox.unsubscribe(session, token)
            return Subscription(found.email, found.active) if found else None

    return UnsubscribeActions(look_up=look_up, unsubscribe=unsubscribe)


class UnsubscribeServer(LocalServer):
    def __init__(self, actions: UnsubscribeActions, *, path: str, host: str, port: int) -> None:
        self.path = "/" + path.strip("/")
        super().__init__(handler(actions, self.path), host=host, port=port)


def server(rt: Runtime, *, host: str, port: int | None) -> UnsubscribeServer:
    """Listening where the emails' links point (the path and, unless given, the port of
    NEWSDESK_ALERTS__UNSUBSCRIBE_BASE_URL); a proxy in front maps the public address."""
    base = urlsplit(rt.settings.alerts.unsubscribe_base_url)
    default_port = base.port or (443 if base.scheme == "https" else 80)
    return UnsubscribeServer(
        actions(rt), path=base.path or "/", host=host, port=default_port if port is None else port
    )
