"""The unsubscribe page the emails link to: a real HTTP server on a real database."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import httpx

from config.settings import AlertSettings
from config.subscribers import SubscriberConfig
from flows import subscriptions
from flows.runtime import Runtime
from flows.unsubscribe_service import server
from storage import outbox

BuildRuntime = Callable[..., Runtime]


def subscribed(make_runtime: BuildRuntime) -> tuple[Runtime, str]:
    rt = make_runtime(
        {}, alerts=AlertSettings(unsubscribe_base_url="https://desk.example/alerts/u")
    )
    added = subscriptions.add(
        rt,
        SubscriberConfig(email="desk@example.org", countries=["SY"]),
    )
    assert added.unsubscribe_token
    return rt, added.unsubscribe_token


def active(rt: Runtime) -> bool:
    with rt.sessions() as session:
        found = outbox.find_subscriber(session, "desk@example.org")
        assert found is not None
        return found.active


def test_a_click_asks_first_and_the_one_click_post_unsubscribes(
    make_runtime: BuildRuntime,
) -> None:
    rt, token = subscribed(make_runtime)
    with server(rt, host="127.0.0.1", port=0) as page:
        # The path is the one the emails' links carry.
        link = f"{page.address}/alerts/u/{quote(token, safe='')}"

        shown = httpx.get(link)
        assert shown.status_code == 200
        assert "Stop newsdesk alerts?" in shown.text
        assert "d***@example.org" in shown.text
        assert "desk@example.org" not in shown.text  # a forwarded link shows no address
        assert shown.headers["Cache-Control"] == "no-store"
        assert active(rt)  # a mail scanner fetching the link unsubscribes nobody

        # What a mail client sends from the List-Unsubscribe-Post header (RFC 8058).
        done = httpx.post(
            link,
            content="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert done.status_code == 200
        assert "Unsubscribed" in done.text
        assert not active(rt)

        again = httpx.post(link, content="List-Unsubscribe=One-Click")
        assert again.status_code == 200
        assert "Already unsubscribed" in again.text
        assert "Already unsubscribed" in httpx.get(link).text


def test_a_wrong_or_mangled_link_is_a_clear_not_found(make_runtime: BuildRuntime) -> None:
    rt, token = subscribed(make_runtime)
    with server(rt, host="127.0.0.1", port=0) as page:
        for path in (
            "/alerts/u/not-a-token",
            "/alerts/u/",
            f"/elsewhere/{token}",
            f"/alerts/u/{token}/extra",
        ):
            answer = httpx.post(page.address + path, content="List-Unsubscribe=One-Click")
            assert answer.status_code == 404, path
            assert "This link is not valid" in answer.text
    assert active(rt)
