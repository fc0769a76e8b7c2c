"""Typed settings read from ``NEWSDESK_*`` environment variables (nested with ``__``)."""

from __future__ import annotations

from email.utils import parseaddr
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

CONFIG_DIR = Path(__file__).resolve().parent

# The kinds of country mention (extractors.countries.Kind), spelled here to keep config free
# of imports from the rest of the project.
MentionKind = Literal["name", "demonym", "capital", "city"]
_ALL_KINDS: tuple[MentionKind, ...] = ("name", "demonym", "capital", "city")


class HttpSettings(BaseModel):
    """How newsdesk talks to the outside world: politely and within limits."""

    user_agent: str = "newsdesk/0.1 (+https://github.com/newsdesk/newsdesk; monitoring desk)"
    connect_timeout: PositiveFloat = 10.0
    read_timeout: PositiveFloat = 20.0
    # Whole-request ceiling: a server that trickles bytes cannot hold a worker forever.
    total_deadline: PositiveFloat = 45.0
    # Whole-source ceiling: a feed, or a sitemap with its children, or a listing's pages.
    source_deadline: PositiveFloat = 300.0
    max_feed_bytes: PositiveInt = 10 * 1024 * 1024
    max_page_bytes: PositiveInt = 5 * 1024 * 1024
    # An HTTP proxy for every request (the demo routes its sample origin through one).
    proxy: str | None = None
    per_host_limit: PositiveInt = 2
    # Under Prefect, also hold the host's slot in a global concurrency limit on the Prefect
    # server, so runs on other processes and machines share the same per-host budget.
    global_host_limits: bool = True
    max_concurrency: PositiveInt = 16
    # Delays (seconds) between in-run retries of a feed fetch that failed softly.
    retry_delays: list[float] = Field(default_factory=lambda: [2.0, 10.0])


class PollSettings(BaseModel):
    """Feed polling cadence and backoff."""

    # A feed that keeps failing is polled less often, up to this ceiling.
    max_backoff_seconds: PositiveInt = 6 * 3600
    # How many sources are fetched at once.
    concurrency: PositiveInt = 8


class ProcessSettings(BaseModel):
    """Article processing."""

    batch_size: PositiveInt = 200
    # An item whose page keeps failing softly is retried on later runs this many times,
    # then falls back to its feed summary.
    max_attempts: PositiveInt = 3
    # A claimed item whose worker vanished is claimable again after this long.
    claim_lease_seconds: PositiveInt = 900
    # Pages larger than this are not handed to the extractor (it has no size limit).
    max_extract_chars: PositiveInt = 2_000_000
    # Extraction runs in worker processes, killed after this long (it has no timeout either).
    extract_timeout: PositiveFloat = 30.0
    extract_workers: PositiveInt = 2
    # Off: extract in a thread instead (no start-up cost, but a hung page hangs its thread).
    isolate_extraction: bool = True
    snippet_chars: PositiveInt = 240
    # One source's batch stops after this long; its unfinished items wait for their lease to
    # expire and are taken again, so the lease must outlast the batch.
    source_deadline: PositiveFloat = 600.0

    @model_validator(mode="after")
    def _lease_outlasts_batch(self) -> ProcessSettings:
        if self.source_deadline >= self.claim_lease_seconds:
            raise ValueError(
                f"source_deadline ({self.source_deadline:g} s) must be shorter than "
                f"claim_lease_seconds ({self.claim_lease_seconds} s), or a slow batch would "
                "lose its items to another worker while still working on them"
            )
        return self


class SmtpSettings(BaseModel):
    """The SMTP server alert emails are handed to."""

    host: str = "127.0.0.1"
    port: PositiveInt = 25
    # "tls": implicit TLS from the first byte (usually port 465); "starttls": upgrade a plain
    # connection (usually port 587). Both verify the server's certificate.
    security: Literal["none", "starttls", "tls"] = "none"
    # Log in only when a username is set; the password is never logged.
    username: str | None = None
    password: SecretStr | None = None
    # The From header of alert emails; its address is also the envelope sender.
    sender: str = "newsdesk <newsdesk@localhost>"

    @field_validator("sender")
    @classmethod
    def _sender_address(cls, value: str) -> str:
        address = parseaddr(value)[1]
        if "@" not in address or not address.isascii():
            raise ValueError(f"{value!r} has no usable address, e.g. newsdesk <alerts@desk.org>")
        return value

    # Per network operation (connect, each command and reply).
    timeout: PositiveFloat = 30.0


class AlertSettings(BaseModel):
    """Alert emails to subscribers."""

    unsubscribe_base_url: str = "http://localhost:8080/unsubscribe"
    # Immediate emails per subscriber per hour; the excess goes into the next digest.
    hourly_cap: PositiveInt = 10
    # SMTP tries before a delivery is given up as failed.
    max_attempts: PositiveInt = 5
    # Backoff (seconds) between tries.
    retry_delays: list[NonNegativeFloat] = Field(
        default_factory=lambda: [60.0, 300.0, 900.0, 3600.0]
    )
    # Deliveries one worker claims at a time.
    batch_size: PositiveInt = 200
    # A claimed delivery whose worker vanished is claimable again after this long.
    claim_lease_seconds: PositiveInt = 600


class ScheduleSettings(BaseModel):
    """How often `newsdesk serve` runs each stage (minutes)."""

    # Each source is still polled no more often than its own poll_interval.
    poll_minutes: PositiveInt = 5
    process_minutes: PositiveInt = 1
    alert_minutes: PositiveInt = 1
    # Digests go out at each subscriber's local hour; checking hourly is enough.
    digest_minutes: PositiveInt = 60


class Settings(BaseSettings):
    """All of newsdesk's settings; build with :func:`load_settings`, never at import time."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSDESK_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    database_url: str = "sqlite:///./newsdesk.db"
    sources_path: Path = CONFIG_DIR / "sources.yaml"
    # Replaces "{base_url}" in catalogue URLs (used by the offline samples; handy for mirrors).
    sources_base_url: str | None = None
    # Monitored countries (ISO alpha-2); empty means all.
    countries: list[str] = Field(default_factory=list)
    # Which kinds of mention count: drop "city" (or "capital") to ignore places inside a country.
    mention_kinds: list[MentionKind] = Field(default_factory=lambda: list(_ALL_KINDS))
    http: HttpSettings = Field(default_factory=HttpSettings)
    poll: PollSettings = Field(default_factory=PollSettings)
    process: ProcessSettings = Field(default_factory=ProcessSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, with explicit overrides taking precedence."""
    return Settings(**overrides)  # type: ignore[arg-type]
