"""alerts.render: subjects, headers, escaping, highlighting and digest layout."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest

from alerts.records import AlertItem, CountryHit, RenderedEmail, Rule
from alerts.render import render_digest, render_immediate

BASE = "https://newsdesk.example/unsubscribe"
SENDER = "newsdesk <alerts@newsdesk.example>"
TITLE = 'Pakistan "deeply concerned" about escalation in Syria'
HOSTILE = '<script>alert("x")</script>\r\nBcc: evil@example.com'

SYRIA = CountryHit("SY", "Syria", 0.9, "Pakistan is concerned about Syria.", "Syria")
RUSSIA = CountryHit("RU", "Russia", 0.4, "Russia denied it.", "Russia")
PAKISTAN = CountryHit("PK", "Pakistan", 0.6, "Pakistan said so.", "Pakistan")


def _rule(**changes: Any) -> Rule:
    rule = Rule(
        subscriber_id=7,
        email="ann@example.com",
        name="Ann Analyst",
        countries=frozenset({"SY", "RU", "PK"}),
        unsubscribe_token="tok-123",
    )
    return replace(rule, **changes)


def _item(**changes: Any) -> AlertItem:
    item = AlertItem(
        item_id=1,
        title=TITLE,
        url="https://mofa.example/pk/1",
        source_id="mofa-pk",
        source_name="MOFA Pakistan",
        source_kind="foreign_office",
        published_at=datetime(2026, 11, 28, 9, 30, tzinfo=UTC),
        countries=(SYRIA, RUSSIA),
    )
    return replace(item, **changes)


def _immediate(rule: Rule | None = None, item: AlertItem | None = None) -> RenderedEmail:
    return render_immediate(
        rule or _rule(), item or _item(), unsubscribe_base_url=BASE, sender=SENDER
    )


def _no_controls(value: str) -> bool:
    return not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", value)


# --- subject ---------------------------------------------------------------------------------


def test_immediate_subject_format() -> None:
    assert _immediate().subject == f"[newsdesk] Syria, Russia: {TITLE}"


def test_subject_shows_at_most_three_countries() -> None:
    hits = tuple(
        CountryHit(code, name, 0.9 - i / 10, f"{name}.", name)
        for i, (code, name) in enumerate(
            [("SY", "Syria"), ("RU", "Russia"), ("PK", "Pakistan"), ("IR", "Iran"), ("IQ", "Iraq")]
        )
    )
    rule = _rule(countries=frozenset(hit.code for hit in hits))
    email = _immediate(rule, _item(countries=hits))
    assert email.subject == f"[newsdesk] Syria, Russia, Pakistan +2: {TITLE}"


def test_subject_strips_control_characters_and_collapses_whitespace() -> None:
    item = _item(title="Talks\r\n  resume\tin\x00 Geneva\x1b[31m \u2028today\x85")
    subject = _immediate(item=item).subject
    assert subject == "[newsdesk] Syria, Russia: Talks resume in Geneva [31m today"
    assert _no_controls(subject)


def test_subject_is_capped() -> None:
    subject = _immediate(item=_item(title="word " * 100)).subject
    assert len(subject) == 200
    assert subject.endswith("…")


# --- headers ---------------------------------------------------------------------------------


def test_unsubscribe_headers() -> None:
    headers = render_immediate(
        _rule(), _item(), unsubscribe_base_url=BASE + "/", sender=SENDER
    ).headers
    assert headers["List-Unsubscribe"] == f"<{BASE}/tok-123>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_unsubscribe_link_in_both_bodies() -> None:
    email = _immediate()
    assert f"{BASE}/tok-123" in email.text
    assert f'href="{BASE}/tok-123"' in email.html


def test_missing_unsubscribe_token_is_refused() -> None:
    with pytest.raises(ValueError, match="unsubscribe token"):
        _immediate(rule=_rule(unsubscribe_token=""))


def test_from_and_to_headers() -> None:
    headers = _immediate().headers
    assert headers["From"] == SENDER
    assert headers["To"] == "Ann Analyst <ann@example.com>"


def test_headers_are_sanitised() -> None:
    rule = _rule(name="Ann\r\nBcc: evil@example.com", email="ann@example.com\r\n")
    email = render_immediate(
        rule, _item(title=HOSTILE), unsubscribe_base_url=BASE, sender="news\ndesk <a@b.example>"
    )
    for value in [email.subject, *email.headers.values()]:
        assert _no_controls(value)
    assert email.headers["From"] == "news desk <a@b.example>"
    assert email.headers["To"] == '"Ann Bcc: evil@example.com" <ann@example.com>'


def test_hostile_title_never_creates_a_header() -> None:
    email = _immediate(item=_item(title=HOSTILE))
    assert _no_controls(email.subject)
    # Built the way the delivery module builds it, the message has no Bcc header.
    message = EmailMessage(policy=default)
    message["Subject"] = email.subject
    for name, value in email.headers.items():
        message[name] = value
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    assert message["Bcc"] is None
    head = message.as_bytes().split(b"\n\n", 1)[0]
    assert not re.search(rb"^Bcc:", head, re.MULTILINE | re.IGNORECASE)


# --- bodies ----------------------------------------------------------------------------------


def test_hostile_title_is_escaped_in_html_and_literal_in_text() -> None:
    email = _immediate(item=_item(title=HOSTILE))
    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in email.html
    assert '<script>alert("x")</script>' in email.text


def test_mark_around_surface_with_escaped_snippet() -> None:
    hit = CountryHit("SY", "Syria", 0.9, "Talks on <b>Syria</b> & Iraq.", "Syria")
    email = _immediate(item=_item(countries=(hit,)))
    assert "Talks on &lt;b&gt;<mark>Syria</mark>&lt;/b&gt; &amp; Iraq." in email.html
    assert "<b>" not in email.html
    assert "Talks on <b>*Syria*</b> & Iraq." in email.text


def test_mark_never_wraps_markup_from_the_feed() -> None:
    hit = CountryHit("SY", "Syria", 0.9, 'Syria <img src=x onerror="alert(1)">', "Syria")
    html = _immediate(item=_item(countries=(hit,))).html
    assert "<img" not in html
    assert "<mark>Syria</mark> &lt;img" in html


def test_highlight_prefers_whole_word() -> None:
    hit = CountryHit("NE", "Niger", 0.9, "Nigeria and Niger met.", "Niger")
    email = _immediate(rule=_rule(countries=frozenset({"NE"})), item=_item(countries=(hit,)))
    assert "Nigeria and <mark>Niger</mark> met." in email.html


def test_immediate_body_contents() -> None:
    email = _immediate()
    for body in (email.text, email.html):
        assert "MOFA Pakistan" in body
        assert "foreign ministry" in body
        assert "28 Nov 2026 09:30 UTC" in body
        assert "https://mofa.example/pk/1" in body
        assert "Syria" in body
        assert "Russia" in body
    assert "*Russia* denied it." in email.text
    assert "<mark>Russia</mark> denied it." in email.html


def test_non_http_links_are_not_linked() -> None:
    html = _immediate(item=_item(url="javascript:alert(1)")).html
    assert 'href="javascript' not in html


# --- digest ----------------------------------------------------------------------------------


def _at(hour: int | None) -> datetime | None:
    return None if hour is None else datetime(2026, 11, 28, hour, 0, tzinfo=UTC)


def _digest_items() -> list[tuple[AlertItem, tuple[CountryHit, ...]]]:
    return [
        (_item(item_id=1, title="Old Syria item", published_at=_at(6)), (SYRIA,)),
        (_item(item_id=2, title="Undated Syria item", published_at=None), (SYRIA,)),
        (
            _item(item_id=3, title="Newest Syria and Pakistan", published_at=_at(10)),
            (SYRIA, PAKISTAN),
        ),
        (_item(item_id=4, title="Middle Syria item", published_at=_at(8)), (SYRIA,)),
    ]


def _digest(rule: Rule | None = None) -> RenderedEmail:
    return render_digest(
        rule or _rule(),
        _digest_items(),
        day=date(2026, 11, 28),
        unsubscribe_base_url=BASE,
        sender=SENDER,
    )


def test_digest_subject() -> None:
    assert _digest().subject == "[newsdesk] Digest for 28 Nov 2026: Syria 4, Pakistan 1"


def test_digest_groups_by_country_newest_first() -> None:
    email = _digest()
    for body in (email.text, email.html):
        syria, pakistan = body.index("Syria (4)"), body.index("Pakistan (1)")
        assert syria < pakistan  # the section with more items first
        syria_part, pakistan_part = body[syria:pakistan], body[pakistan:]
        titles = re.findall(r"(?:Newest|Middle|Old|Undated) Syria \w+", syria_part)
        assert titles == [
            "Newest Syria and",
            "Middle Syria item",
            "Old Syria item",
            "Undated Syria item",
        ]
        # the item hit for two countries is in both sections, and only it is in Pakistan's
        assert "Newest Syria and Pakistan" in pakistan_part
        assert "Old Syria item" not in pakistan_part


def test_digest_highlights_per_section() -> None:
    email = _digest()
    assert "<mark>Pakistan</mark> said so." in email.html
    assert "*Pakistan* said so." in email.text
    assert "concerned about <mark>Syria</mark>." in email.html


def test_digest_shows_local_time_zone() -> None:
    email = _digest(_rule(timezone="Asia/Karachi"))  # UTC+5
    for body in (email.text, email.html):
        assert "Asia/Karachi" in body
        assert "28 Nov 2026 15:00 PKT (10:00 UTC)" in body


def test_digest_in_utc_by_default() -> None:
    email = _digest()
    assert "28 Nov 2026 10:00 UTC" in email.text
    assert "PKT" not in email.text


def test_digest_unknown_time_zone_falls_back_to_utc() -> None:
    email = _digest(_rule(timezone="Mars/Olympus"))
    assert "28 Nov 2026 10:00 UTC" in email.text


def test_digest_headers_and_escaping() -> None:
    items = [(_item(title=HOSTILE), (SYRIA,))]
    email = render_digest(
        _rule(), items, day=date(2026, 11, 28), unsubscribe_base_url=BASE, sender=SENDER
    )
    assert email.headers["List-Unsubscribe"] == f"<{BASE}/tok-123>"
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "<script>" not in email.html
    assert '<script>alert("x")</script> Bcc: evil@example.com' in email.text


def test_empty_digest_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one item"):
        render_digest(_rule(), [], day=date(2026, 11, 28), unsubscribe_base_url=BASE, sender=SENDER)


def test_immediate_with_explicit_hits() -> None:
    email = render_immediate(_rule(), _item(), (RUSSIA,), unsubscribe_base_url=BASE, sender=SENDER)
    assert email.subject == f"[newsdesk] Russia: {TITLE}"
    assert "concerned about Syria" not in email.text


def test_immediate_defaults_to_watched_countries_when_rule_no_longer_matches() -> None:
    email = _immediate(rule=_rule(countries=frozenset({"RU"}), min_salience=0.95))
    assert email.subject == f"[newsdesk] Russia: {TITLE}"
