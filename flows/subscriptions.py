"""Managing subscribers: resolve what people typed (country names, zones) and store it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alerts.match import parse_countries
from alerts.schedule import zone
from config.errors import ConfigError, NewsdeskError
from config.subscribers import SubscriberConfig, check_email, load_subscribers
from flows.runtime import Runtime
from storage import outbox
from storage.models import Subscriber


def resolved_fields(config: SubscriberConfig) -> dict[str, Any]:
    """The stored fields of a subscriber, with country names turned into ISO codes."""
    try:
        countries = parse_countries(config.countries)
        zone(config.timezone)
    except ValueError as exc:
        raise ConfigError(f"{config.email}: {exc}") from exc
    fields = config.model_dump(exclude={"email"})
    fields["countries"] = countries
    return fields


def add(rt: Runtime, config: SubscriberConfig) -> Subscriber:
    fields = resolved_fields(config)
    with rt.sessions.begin() as session:
        if outbox.find_subscriber(session, config.email) is not None:
            raise NewsdeskError(f"{config.email} is already subscribed; use `subscribers update`")
        return outbox.add_subscriber(session, config.email, rt.now(), **fields)


def update(rt: Runtime, email: str, changes: dict[str, Any]) -> Subscriber:
    """Change some fields of an existing subscriber (validated like a new one)."""
    with rt.sessions.begin() as session:
        subscriber = _existing(session, email)
        current = SubscriberConfig(
            email=subscriber.email,
            name=subscriber.name,
            countries=subscriber.countries,
            mode=subscriber.mode,  # type: ignore[arg-type]
            digest_hour=subscriber.digest_hour,
            timezone=subscriber.timezone,
            source_kinds=subscriber.source_kinds,  # type: ignore[arg-type]
            source_ids=subscriber.source_ids,
            min_salience=subscriber.min_salience,
            keywords=subscriber.keywords,
            active=subscriber.active,
        )
        try:
            merged = SubscriberConfig.model_validate({**current.model_dump(), **changes})
        except ValueError as exc:
            raise NewsdeskError(f"{email}: {exc}") from exc
        for key, value in resolved_fields(merged).items():
            setattr(subscriber, key, value)
        if not merged.active:
            outbox.cancel_waiting(session, subscriber.id, "alerts paused")
        return subscriber


def remove(rt: Runtime, email: str) -> None:
    """Delete a subscriber and their delivery history."""
    with rt.sessions.begin() as session:
        session.delete(_existing(session, email))


def load(rt: Runtime, path: Path) -> tuple[int, int]:
    """Add or update every subscriber in a YAML file: (added, updated)."""
    configs = load_subscribers(path)
    return sync(rt, configs)


def sync(rt: Runtime, configs: Sequence[SubscriberConfig]) -> tuple[int, int]:
    added = updated = 0
    for config in configs:
        fields = resolved_fields(config)
        with rt.sessions.begin() as session:
            subscriber = outbox.find_subscriber(session, config.email)
            if subscriber is None:
                outbox.add_subscriber(session, config.email, rt.now(), **fields)
                added += 1
                continue
            for key, value in fields.items():
                setattr(subscriber, key, value)
            updated += 1
    return added, updated


def _existing(session: Any, email: str) -> Subscriber:
    try:
        address = check_email(email)
    except ValueError as exc:
        raise NewsdeskError(str(exc)) from exc
    subscriber = outbox.find_subscriber(session, address)
    if subscriber is None:
        raise NewsdeskError(f"no subscriber {address}")
    return subscriber
