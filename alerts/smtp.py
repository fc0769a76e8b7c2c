"""Hand rendered alert emails to an SMTP server and say exactly how it went.

:meth:`SmtpSender.send` returns when the server accepted the message, or raises one of

- :class:`DeliveryRetryable`: nothing was accepted (refused connection, timeout, TLS or login
  failure, a 4xx reply): the same message can be sent again later;
- :class:`DeliveryRejected`: a 5xx reply refused the message or a recipient: do not retry;
- :class:`DeliveryUnknown`: the link broke after the message data went out and before the
  server's final reply: it may have been delivered, so the caller must not resend blindly.

``smtplib.sendmail`` hides which step failed, so the steps (MAIL, RCPT, DATA, the data, the
final reply) are driven one by one here: only a failure once the data has started to go out
leaves the outcome unknown. A failure while waiting for the ``354`` go-ahead to DATA is still
retryable, as the server has received no content yet.
"""

from __future__ import annotations

import copy
import logging
import re
import smtplib
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr
from functools import partial
from types import TracebackType
from typing import Self

from alerts.records import RenderedEmail
from config.errors import DeliveryError, DeliveryRejected, DeliveryRetryable, DeliveryUnknown
from config.settings import SmtpSettings

log = logging.getLogger(__name__)

# build_message sets these itself; a rendered email bringing its own is a bug.
_RESERVED_HEADERS = frozenset(
    {"subject", "message-id", "date", "mime-version", "content-type", "content-transfer-encoding"}
)
# RFC 5322 field names: printable ASCII except the colon.
_HEADER_NAME = re.compile(r"[!-9;-~]+")
# Everything str.splitlines() breaks on: none of it belongs in a header value.
_LINE_BREAK = re.compile(r"[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_LINE_END = re.compile(rb"\r\n|\n|\r(?!\n)")
_LEADING_DOT = re.compile(rb"(?m)^\.")


def message_id_for(delivery_id: int, domain: str) -> str:
    """The Message-ID of a delivery: the same every time, so retries and logs match up."""
    if delivery_id < 0:
        raise ValueError(f"delivery id must not be negative: {delivery_id}")
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(f"not a usable Message-ID domain: {domain!r}")
    return f"<newsdesk.{delivery_id}@{domain}>"


def build_message(email: RenderedEmail, *, message_id: str) -> EmailMessage:
    """A multipart/alternative message (plain text, then HTML) with the rendered headers.

    Raises ``ValueError`` for a header value with a line break (header injection), a
    malformed header name, or a header that only this function may set (Subject,
    Message-ID, Date, MIME and content headers).
    """
    message = EmailMessage()
    for name, value in email.headers.items():
        if not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"malformed header name: {name!r}")
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"header {name} is set by build_message, not by the renderer")
        message[name] = _header_value(name, value)
    message["Subject"] = _header_value("Subject", email.subject)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = _header_value("Message-ID", message_id)
    # Quoted-printable keeps every part 7-bit, so no server needs 8BITMIME for the bodies.
    message.set_content(email.text, cte="quoted-printable")
    message.add_alternative(email.html, subtype="html", cte="quoted-printable")
    return message


def _header_value(name: str, value: str) -> str:
    if _LINE_BREAK.search(value):
        raise ValueError(f"header {name} contains a line break")
    return value


def wire_bytes(message: EmailMessage, *, international: bool = False) -> bytes:
    """The message as sent: CRLF line ends, headers never folded into encoded words.

    RFC 5322 allows 998 characters a line; at the default 78 Python re-encodes long headers
    as =?utf-8?q?...?=, which mail clients do not decode in List-Unsubscribe.
    """
    base = policy.SMTPUTF8 if international else policy.SMTP
    return message.as_bytes(policy=base.clone(max_line_length=998))


class SmtpSender:
    """One SMTP connection reused for a batch of messages; use it as a context manager.

    The connection opens at the first :meth:`send` and is reopened transparently after an
    error or when the server dropped it between messages.
    """

    def __init__(self, settings: SmtpSettings, *, ssl_context: ssl.SSLContext | None = None):
        """``ssl_context`` replaces ``ssl.create_default_context()`` (e.g. to trust a test CA)."""
        self._settings = settings
        self._ssl_context = ssl_context
        self._envelope_sender = parseaddr(settings.sender)[1]
        if "@" not in self._envelope_sender:
            raise ValueError(f"no email address in the SMTP sender {settings.sender!r}")
        self._connection: smtplib.SMTP | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Say QUIT (best effort) and close the connection, if one is open."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            connection.close()

    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the server for its To, Cc and Bcc addresses (Bcc not shown).

        A message without From gets the configured sender; ``message`` itself is not changed.
        Raises :class:`DeliveryRetryable`, :class:`DeliveryRejected` or
        :class:`DeliveryUnknown`; nothing else for network or protocol trouble.
        """
        recipients = [
            address
            for _, address in getaddresses(
                [str(value) for key in ("To", "Cc", "Bcc") for value in message.get_all(key, [])]
            )
            if address
        ]
        if not recipients:
            raise DeliveryRejected("the message has no recipients")
        outgoing = copy.copy(message)
        del outgoing["Bcc"]
        if outgoing["From"] is None:
            outgoing["From"] = self._settings.sender
        international = not all(a.isascii() for a in (self._envelope_sender, *recipients))
        data = wire_bytes(outgoing, international=international)
        label = str(message["Message-ID"] or "a message")

        connection = self._open()
        options: list[str] = []
        if international:
            if not connection.has_extn("smtputf8"):
                raise DeliveryRejected(f"{label}: the server does not support SMTPUTF8 addresses")
            options = ["SMTPUTF8", "BODY=8BITMIME"]

        # Until the data starts going out, a failure leaves nothing delivered.
        code, reply = self._step(
            f"{label}: MAIL FROM", partial(connection.mail, self._envelope_sender, options)
        )
        if code != 250:
            raise self._refused(connection, f"{label}: MAIL FROM", code, reply)
        for recipient in recipients:
            code, reply = self._step(
                f"{label}: RCPT TO {recipient}", partial(connection.rcpt, recipient)
            )
            if code not in (250, 251):
                raise self._refused(connection, f"{label}: RCPT TO {recipient}", code, reply)
        code, reply = self._step(f"{label}: DATA", partial(_data_command, connection))
        if code != 354:
            raise self._refused(connection, f"{label}: DATA", code, reply)

        # From here on the server may have (or get) the whole message.
        try:
            connection.send(_dot_stuffed(data))
            code, reply = connection.getreply()
        except (smtplib.SMTPException, OSError) as error:
            self._drop()
            raise DeliveryUnknown(
                f"{label}: connection lost after the message data was sent: {error}"
            ) from error
        if 200 <= code < 300:
            log.debug("smtp: %s accepted for %d recipient(s)", label, len(recipients))
            return
        if 400 <= code < 600:
            raise _classify(f"{label}: end of data", code, reply)
        self._drop()
        raise DeliveryUnknown(f"{label}: unexpected reply to the end of data: {code}", code)

    # -- connection ----------------------------------------------------------------------

    def _open(self) -> smtplib.SMTP:
        """The live connection, checked with NOOP, or a new one."""
        if self._connection is not None:
            try:
                if self._connection.noop()[0] == 250:
                    return self._connection
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()
        self._connection = self._connect()
        return self._connection

    def _connect(self) -> smtplib.SMTP:
        settings = self._settings
        where = f"{settings.host}:{settings.port}"
        try:
            if settings.security == "tls":
                connection: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings.host, settings.port, timeout=settings.timeout, context=self._context()
                )
            else:
                connection = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
            try:
                connection.ehlo_or_helo_if_needed()
                if settings.security == "starttls":
                    connection.starttls(context=self._context())
                    connection.ehlo()
                if settings.username is not None:
                    password = settings.password.get_secret_value() if settings.password else ""
                    connection.login(settings.username, password)
            except BaseException:
                connection.close()
                raise
        except smtplib.SMTPResponseException as error:
            # Connect greeting, HELO, STARTTLS or AUTH refused; the reply is the server's.
            raise DeliveryRetryable(
                f"{where}: {error.smtp_code} {_text(error.smtp_error)}", error.smtp_code
            ) from error
        except (smtplib.SMTPException, OSError) as error:
            # Refused, unreachable, timed out, TLS handshake or certificate failure.
            raise DeliveryRetryable(f"{where}: {type(error).__name__}: {error}") from error
        log.debug(
            "smtp: connected to %s (%s%s)",
            where,
            settings.security,
            f", as {settings.username}" if settings.username is not None else "",
        )
        return connection

    def _context(self) -> ssl.SSLContext:
        return self._ssl_context if self._ssl_context is not None else ssl.create_default_context()

    def _step(self, step: str, call: Callable[[], tuple[int, bytes]]) -> tuple[int, bytes]:
        """Run one command before the data; any failure means nothing was delivered."""
        try:
            return call()
        except (smtplib.SMTPException, OSError) as error:
            self._drop()
            raise DeliveryRetryable(
                f"{step}: {type(error).__name__}: {error}",
                getattr(error, "smtp_code", None),
            ) from error

    def _refused(
        self, connection: smtplib.SMTP, step: str, code: int, reply: bytes
    ) -> DeliveryError:
        """The error for a refusal before the data, with the transaction reset for the next."""
        try:
            connection.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()
        return _classify(step, code, reply)

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


def _classify(step: str, code: int, reply: bytes) -> DeliveryError:
    reason = f"{step}: {code} {_text(reply)}"
    if 500 <= code < 600:
        return DeliveryRejected(reason, code)
    return DeliveryRetryable(reason, code)


def _data_command(connection: smtplib.SMTP) -> tuple[int, bytes]:
    connection.putcmd("data")
    return connection.getreply()


def _dot_stuffed(data: bytes) -> bytes:
    """The message as DATA carries it: CRLF lines, leading dots doubled, ending in CRLF.CRLF."""
    data = _LEADING_DOT.sub(b"..", _LINE_END.sub(b"\r\n", data))
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
