"""Canonical URLs: one article, one URL, whichever feed it came through."""

from __future__ import annotations

import pytest

from extractors.urls import canonical_url, host_of


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("HTTPS://WWW.Example.ORG/News/1.html", "https://www.example.org/News/1.html"),
        ("https://example.org/a?utm_source=rss&utm_medium=feed", "https://example.org/a"),
        ("https://example.org/a?id=7&utm_campaign=x&fbclid=abc", "https://example.org/a?id=7"),
        ("https://example.org/a#comments", "https://example.org/a"),
        ("https://example.org:443/a", "https://example.org/a"),
        ("  https://example.org/a  ", "https://example.org/a"),
    ],
)
def test_canonical_url(given: str, expected: str) -> None:
    assert canonical_url(given) == expected


@pytest.mark.parametrize(
    "given", ["ftp://example.org/file", "javascript:alert(1)", "/relative/path", "http://[::1", ""]
)
def test_non_web_or_malformed_links_have_no_canonical_form(given: str) -> None:
    assert canonical_url(given) is None


def test_host_of_is_lower_case_with_port() -> None:
    assert host_of("http://Example.ORG:8080/x") == "example.org:8080"
