"""The database schema as SQLAlchemy 2 typed models; migrations mirror these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend.

    SQLite has no time zones and compares timestamps as text, so values are stored there as
    naive UTC and given their zone back when read; PostgreSQL keeps ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Source(Base):
    """A feed from the catalogue; kept after it leaves the catalogue so items keep their origin."""

    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    country: Mapped[str] = mapped_column(String(2))
    language: Mapped[str] = mapped_column(String(16))
    # The URL read on each poll: a feed, a sitemap, or a listing page (see source_type).
    feed_url: Mapped[str] = mapped_column(Text)
    source_type: Mapped[str] = mapped_column(String(16), default="feed", server_default="feed")
    # For listings: link_selector, link_pattern, next_selector, max_pages.
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    poll_interval: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(default=True)

    state: Mapped[FeedState | None] = relationship(back_populates="source", uselist=False)


class FeedState(Base):
    """What the last fetch of a feed told us: validators for conditional GET, health, backoff."""

    __tablename__ = "feed_states"

    source_id: Mapped[str] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_polled_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    next_poll_at: Mapped[datetime | None] = mapped_column(index=True)

    source: Mapped[Source] = relationship(back_populates="state")


class Item(Base):
    """One article, whichever feeds it was seen in; identified by its canonical URL."""

    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'processing', 'done', 'failed')", name="status_known"
        ),
        Index("ix_items_status_claimed", "status", "claimed_until"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), index=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    guid: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    discovered_at: Mapped[datetime] = mapped_column(index=True)
    fetched_at: Mapped[datetime | None]
    language: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    # Where the stored text came from: the article page, or the feed's summary as a fallback.
    text_source: Mapped[str | None] = mapped_column(String(16))
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None]
    # Which claim holds the item: a worker whose lease expired cannot overwrite the next one.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    # When alert matching looked at this item (None: not yet).
    alerted_at: Mapped[datetime | None] = mapped_column(index=True)

    mentions: Mapped[list[Mention]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="Mention.first_offset"
    )


class Mention(Base):
    """A country an item mentions, summarised over the item's text."""

    __tablename__ = "mentions"
    __table_args__ = (UniqueConstraint("item_id", "country", name="uq_mentions_item_country"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    country: Mapped[str] = mapped_column(String(2), index=True)
    count: Mapped[int] = mapped_column(Integer)
    first_offset: Mapped[int] = mapped_column(Integer)
    snippet: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    salience: Mapped[float] = mapped_column(Float, default=0.0)
    # Every (start, end, kind) of this country in the text, for highlighting.
    spans: Mapped[list[list[int | str]]] = mapped_column(JSON, default=list)

    item: Mapped[Item] = relationship(back_populates="mentions")


class Subscriber(Base):
    """Someone at a desk who gets emails about the countries on their watch list."""

    __tablename__ = "subscribers"
    __table_args__ = (
        CheckConstraint("mode IN ('immediate', 'digest')", name="mode_known"),
        CheckConstraint("digest_hour BETWEEN 0 AND 23", name="digest_hour_valid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_salience: Mapped[float] = mapped_column(Float, default=0.0)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    mode: Mapped[str] = mapped_column(String(16), default="immediate")
    digest_hour: Mapped[int] = mapped_column(Integer, default=8)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(default=True)
    unsubscribe_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    # When the last digest went out, so each local day gets one.
    last_digest_at: Mapped[datetime | None]


class Delivery(Base):
    """One item for one subscriber: the outbox row that makes sure it is emailed once.

    pending -> claimed (a worker holds it) -> sending (handed to SMTP) -> sent, or back to
    pending with a later next_attempt_at, or failed; unknown when the connection was lost
    after the message was handed over, so it is never resent blindly.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "item_id", name="uq_deliveries_subscriber_item"),
        CheckConstraint(
            "status IN ('pending', 'claimed', 'sending', 'sent', 'failed', 'unknown')",
            name="status_known",
        ),
        CheckConstraint("channel IN ('immediate', 'digest')", name="channel_known"),
        Index("ix_deliveries_queue", "status", "channel", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
