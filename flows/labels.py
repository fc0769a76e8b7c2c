"""Names and tags that make runs readable in the Prefect UI."""

from __future__ import annotations


def source_tags(source_id: str, kind: str, country: str) -> tuple[str, ...]:
    """Tags to filter the UI by publisher kind, source and country of origin."""
    return (kind or "source", f"source:{source_id}", f"from:{country}")


def count(n: int, noun: str) -> str:
    """``1 item``, ``40 items``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
