"""The exceptions newsdesk raises, in one tree.

    NewsdeskError                 anything newsdesk reports to a user as a one-line message
    ├── ConfigError               settings or sources.yaml are invalid (names file and line)
    ├── FetchError                a network fetch did not give a usable body
    │   ├── SoftFetchError        worth retrying later: timeout, connection, 429, 5xx
    │   │   └── FetchTimeout      the total deadline for one request passed
    │   └── HardFetchError        retrying will not help: 4xx other than 408/429
    │       └── BodyTooLarge      the decoded body passed the configured maximum
    ├── FeedParseError            bytes that are not a feed at all
    ├── ExtractionError           an extraction worker gave no answer
    │   ├── ExtractionTimeout     it overran its deadline and was killed
    │   └── ExtractionCrash       it raised or died
    ├── StorageError              the database cannot be reached or migrated
    └── DeliveryError             an alert email was not handed over to the SMTP server
        ├── DeliveryRetryable     nothing was accepted (refused, timeout, 4xx, login): retry
        ├── DeliveryRejected      a 5xx refused the message or a recipient: do not retry
        └── DeliveryUnknown       the link broke after the data was sent, before the final
                                  reply: it may have been delivered, so never resend blindly

I/O raises these; pure functions return ``None`` only when there is legitimately nothing
(a page with no extractable article, a text with no countries).
"""

from __future__ import annotations


class NewsdeskError(Exception):
    """Base of every error newsdesk turns into a clear message."""


class ConfigError(NewsdeskError):
    """Invalid settings or source catalogue."""


class FetchError(NewsdeskError):
    """A fetch failed; ``status`` is the HTTP status when there was a response."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status


class SoftFetchError(FetchError):
    """A failure that may pass: retry with backoff."""


class FetchTimeout(SoftFetchError):
    """The request's total deadline passed."""


class HardFetchError(FetchError):
    """A failure that will not pass by retrying soon."""


class BodyTooLarge(HardFetchError):
    """The decoded body is larger than allowed."""


class FeedParseError(NewsdeskError):
    """The bytes could not be read as a feed."""


class ExtractionError(NewsdeskError):
    """An extraction worker gave no usable answer."""


class ExtractionTimeout(ExtractionError):
    """The worker overran its deadline and was killed."""


class ExtractionCrash(ExtractionError):
    """The worker raised, or died without answering."""


class StorageError(NewsdeskError):
    """The database is unreachable or its schema cannot be brought up to date."""


class DeliveryError(NewsdeskError):
    """An email was not (known to be) accepted; ``code`` is the SMTP reply code if any."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class DeliveryRetryable(DeliveryError):
    """Nothing was accepted: sending the same message again later is safe."""


class DeliveryRejected(DeliveryError):
    """The server permanently refused the message or a recipient (5xx)."""


class DeliveryUnknown(DeliveryError):
    """The message data went out but no final reply came back: it may have been delivered."""
