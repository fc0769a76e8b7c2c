"""Subscribers as people write them (CLI options or a YAML file), validated into records."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from config.errors import ConfigError

# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is SMTP's job.
_EMAIL = re.compile(r"^[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\"]+$")


def check_email(value: str) -> str:
    value = value.strip()
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    if not value.isascii():  # SMTPUTF8 is not something every relay offers
        raise ValueError(f"{value!r}: addresses with non-ASCII characters are not supported")
    return value.lower()


class SubscriberConfig(BaseModel):
    """One subscriber; countries may be codes or names until resolved by the caller."""

    model_config = ConfigDict(extra="forbid")

    email: str
    name: str = ""
    countries: list[str] = Field(min_length=1)
    mode: Literal["immediate", "digest"] = "immediate"
    digest_hour: int = Field(default=8, ge=0, le=23)
    timezone: str = "UTC"
    source_kinds: list[Literal["foreign_office", "news"]] = Field(default_factory=list)
    source_ids: list[str] = Field(default_factory=list)
    min_salience: float = Field(default=0.0, ge=0.0, le=1.0)
    keywords: list[str] = Field(default_factory=list)
    active: bool = True

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return check_email(value)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subscribers: list[SubscriberConfig]


def load_subscribers(path: Path) -> list[SubscriberConfig]:
    """Read a subscribers YAML file; ConfigError names the file and the entry at fault."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    try:
        return _File.model_validate(data).subscribers
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{path}: {where}: {message}") from exc
