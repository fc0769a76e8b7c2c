"""SMTP delivery against a real local server (aiosmtpd), including its failure modes."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from alerts.records import RenderedEmail
from alerts.sink import SmtpSink
from alerts.smtp import SmtpSender, build_message, message_id_for
from config.errors import DeliveryRejected, DeliveryRetryable, DeliveryUnknown
from config.settings import SmtpSettings, load_settings

SENDER = "newsdesk <alerts@newsdesk.test>"


def rendered(to: str = "Ann Desk <ann@example.org>", **headers: str) -> RenderedEmail:
    return RenderedEmail(
        subject="Syria, Côte d'Ivoire: 2 new items",
        text="Two new items.\n.A line starting with a dot\nCôte d'Ivoire\n",
        html="<p>Two new items about <b>Côte d'Ivoire</b>.</p>",
        headers={
            "From": SENDER,
            "To": to,
            "List-Unsubscribe": "<http://localhost:8080/unsubscribe/tok123>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            **headers,
        },
    )


def message(delivery_id: int = 1, **headers: str) -> EmailMessage:
    return build_message(
        rendered(**headers), message_id=message_id_for(delivery_id, "newsdesk.test")
    )


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as server:
        yield server


def settings_for(sink: SmtpSink, **overrides: object) -> SmtpSettings:
    return SmtpSettings.model_validate(
        {"host": sink.host, "port": sink.port, "sender": SENDER, "timeout": 5.0, **overrides}
    )


def test_message_arrives_with_headers_and_both_parts(sink: SmtpSink) -> None:
    with SmtpSender(settings_for(sink)) as sender:
        sender.send(message(7))

    [received] = sink.received
    assert received.mail_from == "alerts@newsdesk.test"
    assert received.rcpt_tos == ("ann@example.org",)
    got = received.message
    assert got["Subject"] == "Syria, Côte d'Ivoire: 2 new items"
    assert got["From"] == SENDER
    assert got["To"] == "Ann Desk <ann@example.org>"
    assert got["List-Unsubscribe"] == "<http://localhost:8080/unsubscribe/tok123>"
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert got["Message-ID"] == "<newsdesk.7@newsdesk.test>"
    assert got["Date"] is not None
    assert got.get_content_type() == "multipart/alternative"
    text = got.get_body(("plain",))
    html = got.get_body(("html",))
    assert text is not None
    assert html is not None
    assert isinstance(text, EmailMessage)
    assert isinstance(html, EmailMessage)
    # The leading dot survives the SMTP dot-stuffing, non-ASCII the encoding.
    assert text.get_content() == "Two new items.\n.A line starting with a dot\nCôte d'Ivoire\n"
    assert "<b>Côte d'Ivoire</b>" in html.get_content()


def test_one_connection_serves_a_batch(sink: SmtpSink) -> None:
    with SmtpSender(settings_for(sink)) as sender:
        for delivery_id in (1, 2, 3):
            sender.send(message(delivery_id))
    assert [m["Message-ID"] for m in sink.messages] == [
        "<newsdesk.1@newsdesk.test>",
        "<newsdesk.2@newsdesk.test>",
        "<newsdesk.3@newsdesk.test>",
    ]


def test_bcc_is_a_recipient_but_not_a_header(sink: SmtpSink) -> None:
    with SmtpSender(settings_for(sink)) as sender:
        sender.send(message(1, Bcc="archive@newsdesk.test"))
    [received] = sink.received
    assert received.rcpt_tos == ("ann@example.org", "archive@newsdesk.test")
    assert received.message["Bcc"] is None


def test_missing_from_gets_the_configured_sender(sink: SmtpSink) -> None:
    email = message(1)
    del email["From"]
    with SmtpSender(settings_for(sink)) as sender:
        sender.send(email)
    assert sink.messages[0]["From"] == SENDER
    assert email["From"] is None  # the caller's message is left alone


def test_no_recipient_is_rejected(sink: SmtpSink) -> None:
    email = message(1)
    del email["To"]
    with SmtpSender(settings_for(sink)) as sender, pytest.raises(DeliveryRejected):
        sender.send(email)
    assert sink.messages == []


def test_closed_port_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = SmtpSettings(host="127.0.0.1", port=port, timeout=5.0)
    with SmtpSender(settings) as sender, pytest.raises(DeliveryRetryable, match=str(port)):
        sender.send(message(1))


@pytest.mark.parametrize(
    ("stage", "code", "error"),
    [
        ("rcpt", 451, DeliveryRetryable),
        ("rcpt", 550, DeliveryRejected),
        ("data", 451, DeliveryRetryable),
        ("data", 554, DeliveryRejected),
    ],
)
def test_refusals_are_classified_by_code(
    sink: SmtpSink, stage: str, code: int, error: type[Exception]
) -> None:
    sink.fail_next(1, code, stage="rcpt" if stage == "rcpt" else "data")
    with SmtpSender(settings_for(sink)) as sender:
        with pytest.raises(error) as raised:
            sender.send(message(1))
        assert type(raised.value) is error
        assert getattr(raised.value, "code", None) == code
        assert sink.messages == []
        # The same connection goes on with the next message.
        sender.send(message(2))
    assert [m["Message-ID"] for m in sink.messages] == ["<newsdesk.2@newsdesk.test>"]


def test_connection_lost_after_data_is_unknown_then_the_sender_reconnects(
    sink: SmtpSink,
) -> None:
    sink.drop_after_data(1)
    with SmtpSender(settings_for(sink)) as sender:
        with pytest.raises(DeliveryUnknown):
            sender.send(message(1))
        sender.send(message(2))
    # The server did get the first one: exactly why the caller must not resend it blindly.
    assert [m["Message-ID"] for m in sink.messages] == [
        "<newsdesk.1@newsdesk.test>",
        "<newsdesk.2@newsdesk.test>",
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {"To": "ann@example.org\r\nBcc: victim@example.org"},
        {"X-Note": "one\ntwo"},
        {"X-Note": "one\rtwo"},
        {"X-Note": "one\u2028two"},
    ],
)
def test_line_breaks_in_header_values_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="line break"):
        message(1, **headers)


def test_line_breaks_in_subject_and_message_id_are_refused() -> None:
    email = RenderedEmail(subject="Hi\r\nBcc: x@example.org", text="t", html="<p>t</p>")
    with pytest.raises(ValueError, match="Subject"):
        build_message(email, message_id="<a@b>")
    with pytest.raises(ValueError, match="Message-ID"):
        build_message(rendered(), message_id="<a@b>\nX: y")


@pytest.mark.parametrize("name", ["Subject", "message-id", "Content-Type", "Bad Name", "X:Y"])
def test_reserved_or_malformed_header_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="header"):
        message(1, **{name: "value"})


def test_message_ids_are_stable_and_checked() -> None:
    assert message_id_for(42, "newsdesk.example") == "<newsdesk.42@newsdesk.example>"
    assert message_id_for(42, "newsdesk.example") == message_id_for(42, "newsdesk.example")
    with pytest.raises(ValueError, match="domain"):
        message_id_for(42, "evil>\r\nBcc: x")
    with pytest.raises(ValueError, match="negative"):
        message_id_for(-1, "newsdesk.example")


def test_smtp_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDESK_SMTP__HOST", "mail.example.org")
    monkeypatch.setenv("NEWSDESK_SMTP__PORT", "587")
    monkeypatch.setenv("NEWSDESK_SMTP__SECURITY", "starttls")
    monkeypatch.setenv("NEWSDESK_SMTP__PASSWORD", "hunter2")
    monkeypatch.setenv("NEWSDESK_ALERTS__HOURLY_CAP", "3")
    settings = load_settings()
    assert (settings.smtp.host, settings.smtp.port, settings.smtp.security) == (
        "mail.example.org",
        587,
        "starttls",
    )
    assert settings.smtp.password is not None
    assert settings.smtp.password.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(settings)
    assert settings.alerts.hourly_cap == 3
    assert settings.alerts.retry_delays == [60.0, 300.0, 900.0, 3600.0]


# -- TLS ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    server: ssl.SSLContext  # presents the self-signed certificate
    client: ssl.SSLContext  # trusts it


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    folder: Path = tmp_path_factory.mktemp("tls")
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (folder / "cert.pem").write_bytes(cert_pem)
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return Certificate(server=server, client=client)


def test_starttls_with_login(certificate: Certificate) -> None:
    with SmtpSink(starttls_context=certificate.server, credentials=("desk", "s3cret")) as sink:
        settings = settings_for(sink, security="starttls", username="desk", password="s3cret")
        with SmtpSender(settings, ssl_context=certificate.client) as sender:
            sender.send(message(1))
        assert len(sink.messages) == 1


def test_wrong_password_is_retryable_and_not_shown(certificate: Certificate) -> None:
    with SmtpSink(starttls_context=certificate.server, credentials=("desk", "s3cret")) as sink:
        settings = settings_for(sink, security="starttls", username="desk", password="wr0ng")
        with (
            SmtpSender(settings, ssl_context=certificate.client) as sender,
            pytest.raises(DeliveryRetryable) as raised,
        ):
            sender.send(message(1))
        assert raised.value.code == 535
        assert "wr0ng" not in str(raised.value)
        assert sink.messages == []


def test_implicit_tls(certificate: Certificate) -> None:
    with SmtpSink(tls_context=certificate.server) as sink:
        settings = settings_for(sink, security="tls")
        with SmtpSender(settings, ssl_context=certificate.client) as sender:
            sender.send(message(1))
        assert len(sink.messages) == 1


def test_an_untrusted_certificate_is_retryable(certificate: Certificate) -> None:
    with SmtpSink(starttls_context=certificate.server) as sink:
        settings = settings_for(sink, security="starttls")
        # The default context does not trust the self-signed certificate.
        with SmtpSender(settings) as sender, pytest.raises(DeliveryRetryable, match="SSL"):
            sender.send(message(1))
        assert sink.messages == []


def test_a_long_unsubscribe_header_goes_out_verbatim() -> None:
    from alerts.records import RenderedEmail
    from alerts.smtp import build_message, wire_bytes

    link = "<https://alerts.example-desk.org/newsdesk/unsubscribe/" + "t" * 64 + ">"
    email = RenderedEmail(
        subject="s",
        text="t",
        html="<p>h</p>",
        headers={"From": "a@b.org", "To": "c@d.org", "List-Unsubscribe": link},
    )

    data = wire_bytes(build_message(email, message_id="<1@b.org>"))

    assert f"List-Unsubscribe: {link}\r\n".encode() in data
