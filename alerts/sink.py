"""A local SMTP server that keeps what it receives: the demo's mailbox and the tests' server.

It can also misbehave on request, to exercise the sender's error handling: answer the next
RCPT or end of data with a chosen code (:meth:`SmtpSink.fail_next`), or close the connection
once a message's data has arrived, before replying (:meth:`SmtpSink.drop_after_data`).
"""

from __future__ import annotations

import email
import socket
import ssl
import threading
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from types import TracebackType
from typing import Any, Literal, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"
Stage = Literal["rcpt", "data"]


@dataclass(frozen=True, slots=True)
class Received:
    """One message as the sink got it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage


class _Handler:
    """aiosmtpd handler hooks; they run on the server's thread, hence the lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.failures: dict[Stage, list[int]] = {"rcpt": [], "data": []}
        self.drops = 0

    def _failure(self, stage: Stage) -> int | None:
        with self.lock:
            return self.failures[stage].pop(0) if self.failures[stage] else None

    async def handle_RCPT(  # noqa: N802 (aiosmtpd hook name)
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        code = self._failure("rcpt")
        if code is not None:
            return f"{code} Recipient refused by request"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        code = self._failure("data")
        if code is not None:
            return f"{code} Message refused by request"
        content = envelope.content
        raw = content if isinstance(content, bytes) else (content or "").encode()
        # Parsed with "\n" line ends, as if read from a file, so bodies come back as sent.
        parsed = email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            # A dropped message is kept: the server got it, only the reply is lost.
            self.received.append(
                Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), parsed)
            )
            drop = self.drops > 0
            if drop:
                self.drops -= 1
        if drop and server.transport is not None:
            # The reply below is written to a closed transport, so it never leaves.
            server.transport.close()
        return "250 Message accepted for delivery"


class SmtpSink:
    """An SMTP server on 127.0.0.1 and a free port, in a background thread.

    ``starttls_context`` offers STARTTLS with that server certificate; ``tls_context`` makes
    the whole connection TLS from the start (SMTPS). ``credentials`` requires that login
    (AUTH is offered only over TLS).
    """

    def __init__(
        self,
        *,
        starttls_context: ssl.SSLContext | None = None,
        tls_context: ssl.SSLContext | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self._handler = _Handler()
        self._credentials = credentials
        options: dict[str, Any] = {}
        if starttls_context is not None:
            options["tls_context"] = starttls_context
        if credentials is not None:
            options["authenticator"] = self._authenticate
            options["auth_required"] = True
        self._options = options
        self._tls_context = tls_context
        self._controller: Controller | None = None
        self._port = 0

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Listen; a port taken between choosing and binding it is retried."""
        for attempt in range(5):
            port = _free_port()
            controller = Controller(
                self._handler,
                hostname=HOST,
                port=port,
                ssl_context=self._tls_context,
                server_hostname="localhost",
                ready_timeout=10.0,
                **self._options,
            )
            try:
                controller.start()
            except OSError:
                if attempt == 4:
                    raise
                continue
            self._controller, self._port = controller, port
            return

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what arrived --------------------------------------------------------------------

    @property
    def host(self) -> str:
        return HOST

    @property
    def port(self) -> int:
        if self._controller is None:
            raise RuntimeError("the SMTP sink is not running")
        return self._port

    @property
    def messages(self) -> list[EmailMessage]:
        """The messages received so far, oldest first."""
        with self._handler.lock:
            return [received.message for received in self._handler.received]

    @property
    def received(self) -> list[Received]:
        """The messages received so far with their envelopes, oldest first."""
        with self._handler.lock:
            return list(self._handler.received)

    # -- misbehaviour on request ---------------------------------------------------------

    def fail_next(self, n: int, code: int = 451, *, stage: Stage = "rcpt") -> None:
        """Answer the next ``n`` RCPT commands (or ends of data) with ``code``."""
        with self._handler.lock:
            self._handler.failures[stage].extend([code] * n)

    def drop_after_data(self, n: int) -> None:
        """Close the connection after the data of the next ``n`` messages, without replying."""
        with self._handler.lock:
            self._handler.drops += n

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and self._credentials is not None
            and (data.login.decode(), data.password.decode()) == self._credentials
        )
        # handled=False: let aiosmtpd answer a failure with its 535.
        return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port
