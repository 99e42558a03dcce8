"""Delivery against a real SMTP server on loopback: one message per person, retries,
permanent failures, AUTH over plain loopback, STARTTLS and TLS, the sent-log, and settings."""

from __future__ import annotations

import json
import re
import shutil
import socket
import ssl
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult

from generator.config import Agency, Client
from generator.distribute import email_report, mailer
from generator.errors import ConfigError, ReportError
from generator.lake.files import locked
from tests.distribute.conftest import Inbox
from tests.report_data import client, make_report

PASSWORD = "s3cret-Pa55word-never-shown"
PEOPLE = ["dana@acme.example", "lee@acme.example", "board@acme.example"]
RECIPIENTS = [
    {"email": PEOPLE[0], "name": "Dana"},
    {"email": PEOPLE[1], "kind": "cc"},
    {"email": PEOPLE[2], "kind": "bcc", "name": "Board"},
]
AGENCY = Agency(name="Lighthouse Digital", sender="reports@lighthouse.example")


@pytest.fixture(scope="module")
def messages() -> list[mailer.Outgoing]:
    """The three messages of one report (charts drawn once for the module)."""
    acme = Client.model_validate(
        {**client().model_dump(exclude={"folder"}), "recipients": RECIPIENTS}
    )
    return email_report.outgoing(make_report(), acme, AGENCY, report_url="https://r.example/")


def settings(server, **changes) -> mailer.SmtpSettings:
    return mailer.SmtpSettings(
        **{"host": server.host, "port": server.port, "security": "none", **changes}
    )


def send(messages, server, tmp_path, *, sleeps=None, **options) -> list[mailer.Outcome]:
    log = mailer.SentLog(tmp_path / "sent.jsonl")
    sleep = (sleeps if sleeps is not None else []).append
    return mailer.deliver(
        messages, settings(server, **options.pop("smtp", {})), log, sleep=sleep, **options
    )


def test_public_api():
    assert mailer.__all__ == [
        "Outcome", "Outgoing", "SentLog", "SmtpSettings", "deliver", "dry_run", "write_eml"
    ]  # fmt: skip


def test_each_person_gets_one_message_addressed_to_them_alone(smtp_server, messages, tmp_path):
    server = smtp_server()
    outcomes = send(messages, server, tmp_path)
    assert [(o.recipient, o.status, o.attempts) for o in outcomes] == [
        (p, "sent", 1) for p in PEOPLE
    ]
    received = server.inbox.received
    assert [r.rcpt_tos for r in received] == [[p] for p in PEOPLE]
    assert {r.mail_from for r in received} == {"reports@lighthouse.example"}
    for person, got in zip(PEOPLE, received, strict=True):
        message = got.message
        kinds = [part.get_content_type() for part in message.walk()]
        assert kinds == ["multipart/alternative", "text/plain", "multipart/related", "text/html",
                         "image/png", "image/png", "image/png"]  # fmt: skip
        html = message.get_body(("html",)).get_content()
        inline = {p["Content-ID"].strip("<>") for p in message.walk() if p["Content-ID"]}
        assert set(re.findall(r'src="cid:([^"]+)"', html)) == inline
        assert "<script" not in html and "&lt;script&gt;" in html
        assert re.search(
            r"ROAS +3\.92x +-0\.2% +on track", message.get_body(("plain",)).get_content()
        )
        assert str(message["From"]) == "Lighthouse Digital <reports@lighthouse.example>"
        assert str(message["To"]) == "Dana <dana@acme.example>"
        assert str(message["Cc"]) == "lee@acme.example"
        assert message["Bcc"] is None and message["Reply-To"] is None
        assert str(message["Subject"]) == "Acme & Sons: your October 2026 marketing report"
        assert (
            message["Message-ID"] == next(o for o in outcomes if o.recipient == person).message_id
        )
    board = received[2]
    assert b"board@acme.example" not in board.data
    assert board.message.get_body(("plain",)).get_content().startswith("Hi Board,")
    assert received[0].message.get_body(("plain",)).get_content().startswith("Hi Dana,")


def test_a_report_goes_out_once_unless_forced(smtp_server, messages, tmp_path):
    server = smtp_server()
    send(messages, server, tmp_path)
    again = send(messages, server, tmp_path)
    assert [o.status for o in again] == ["skipped"] * 3
    assert len(server.inbox.received) == 3
    forced = send(messages[:1], server, tmp_path, force=True)
    assert [o.status for o in forced] == ["sent"]
    assert len(server.inbox.received) == 4
    entries = mailer.SentLog(tmp_path / "sent.jsonl").entries()
    assert [(e["recipient"], e["status"]) for e in entries] == [
        *[(p, "sent") for p in PEOPLE],
        (PEOPLE[0], "sent"),
    ]
    for entry in entries:
        assert entry["client"] == "acme" and entry["period"] == "2026-10"
        assert datetime.fromisoformat(entry["time"]).tzinfo is not None
        assert entry["message_id"].startswith("<") and entry["error"] == ""


def test_a_451_is_retried_with_backoff(smtp_server, messages, tmp_path):
    server = smtp_server(Inbox(replies=["451 4.3.0 try again later"]))
    sleeps: list[float] = []
    outcomes = send(messages[:1], server, tmp_path, sleeps=sleeps)
    assert (outcomes[0].status, outcomes[0].attempts) == ("sent", 2)
    assert len(sleeps) == 1 and server.inbox.data_commands == 2
    assert len(server.inbox.received) == 1


def test_a_550_is_permanent_and_the_others_still_go(smtp_server, messages, tmp_path):
    inbox = Inbox(refuse={PEOPLE[1]: "550 5.1.1 <lee@acme.example>: no such user"})
    server = smtp_server(inbox)
    sleeps: list[float] = []
    outcomes = send(messages, server, tmp_path, sleeps=sleeps)
    lee = outcomes[1]
    assert (lee.status, lee.attempts, lee.error) == (
        "failed",
        1,
        "550 5.1.1 <lee@acme.example>: no such user",
    )
    assert sleeps == []
    assert [o.status for o in outcomes] == ["sent", "failed", "sent"]
    assert [r.rcpt_tos for r in inbox.received] == [[PEOPLE[0]], [PEOPLE[2]]]
    log = mailer.SentLog(tmp_path / "sent.jsonl")
    assert not log.already_sent("acme", "2026-10", PEOPLE[1])
    assert log.already_sent("acme", "2026-10", PEOPLE[2].upper())


def test_retries_give_up_after_the_configured_number(smtp_server, messages, tmp_path):
    server = smtp_server(Inbox(replies=["452 4.3.1 out of storage"] * 10))
    sleeps: list[float] = []
    outcomes = send(messages[:1], server, tmp_path, sleeps=sleeps, retries=2)
    assert outcomes[0].status == "failed" and outcomes[0].attempts == 3
    assert outcomes[0].error == "452 4.3.1 out of storage (after 3 attempts)"
    assert len(sleeps) == 2


def test_an_unreachable_server_fails_every_message_once_retried(messages, tmp_path):
    closed = type("Server", (), {"host": "127.0.0.1", "port": _closed_port()})
    sleeps: list[float] = []
    outcomes = send(messages, closed, tmp_path, sleeps=sleeps, retries=1)
    assert [o.status for o in outcomes] == ["failed"] * 3
    assert outcomes[0].attempts == 2 and len(sleeps) == 1
    assert "could not open the SMTP session: ConnectionRefusedError" in outcomes[0].error
    assert all(o.error.startswith("not tried: ") for o in outcomes[1:])


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = auth_data.login == b"diego" and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


PLAIN_AUTH = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@PLAIN_AUTH
def test_login_on_plain_loopback(smtp_server, messages, tmp_path):
    server = smtp_server(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    outcomes = send(messages[:1], server, tmp_path, smtp={"user": "diego", "password": PASSWORD})
    assert outcomes[0].status == "sent" and len(server.inbox.received) == 1
    assert PASSWORD.encode() not in server.inbox.received[0].data


@PLAIN_AUTH
def test_a_refused_login_is_permanent_and_stops_the_run(smtp_server, messages, tmp_path):
    server = smtp_server(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    sleeps: list[float] = []
    wrong = {"user": "diego", "password": PASSWORD + "-wrong"}
    outcomes = send(messages, server, tmp_path, sleeps=sleeps, smtp=wrong)
    assert [o.status for o in outcomes] == ["failed"] * 3 and sleeps == []
    assert outcomes[0].error.startswith("535 ")
    assert outcomes[1].error == "not tried: " + outcomes[0].error
    text = (tmp_path / "sent.jsonl").read_text() + repr(outcomes)
    assert PASSWORD not in text and server.inbox.received == []


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made by the openssl tool)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl tool is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = [
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    ]  # fmt: skip
    subprocess.run([*command, "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def contexts(certificate) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    cert, key = certificate
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    return server, ssl.create_default_context(cafile=str(cert))


def test_starttls_then_login(smtp_server, messages, tmp_path, certificate):
    server_context, client_context = contexts(certificate)
    server = smtp_server(
        tls_context=server_context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    outcomes = send(
        messages[:1],
        server,
        tmp_path,
        ssl_context=client_context,
        smtp={"security": "starttls", "user": "diego", "password": PASSWORD},
    )
    assert outcomes[0].status == "sent" and len(server.inbox.received) == 1


def test_an_untrusted_certificate_is_not_retried(smtp_server, messages, tmp_path, certificate):
    server_context, _ = contexts(certificate)
    server = smtp_server(tls_context=server_context, require_starttls=True)
    sleeps: list[float] = []
    outcomes = send(messages[:1], server, tmp_path, sleeps=sleeps, smtp={"security": "starttls"})
    assert outcomes[0].status == "failed" and sleeps == []
    assert "SSLCertVerificationError" in outcomes[0].error


def test_implicit_tls(smtp_server, messages, tmp_path, certificate):
    server_context, client_context = contexts(certificate)
    server = smtp_server(ssl_context=server_context)
    outcomes = send(
        messages[:1], server, tmp_path, ssl_context=client_context, smtp={"security": "tls"}
    )
    assert outcomes[0].status == "sent" and len(server.inbox.received) == 1


def test_a_second_run_waits_for_none_while_one_holds_the_lock(smtp_server, messages, tmp_path):
    server = smtp_server()
    with locked(tmp_path / "sent.jsonl.lock"), pytest.raises(ReportError, match="another send"):
        send(messages, server, tmp_path)
    assert server.inbox.received == []


def test_the_log_survives_a_torn_last_line(tmp_path):
    log = mailer.SentLog(tmp_path / "sent.jsonl")
    log.path.write_text('{"client": "acme", "status": "se')
    done = mailer.Outcome("acme", "2026-10", "Dana@acme.example", "sent", "<1@x>")
    log.append(done, now=datetime(2026, 11, 24, tzinfo=UTC))
    assert log.entries() == [
        {
            "time": "2026-11-24T00:00:00+00:00",
            "client": "acme",
            "period": "2026-10",
            "recipient": "Dana@acme.example",
            "status": "sent",
            "message_id": "<1@x>",
            "error": "",
            "attempts": 0,
        }
    ]
    assert log.already_sent("acme", "2026-10", "dana@ACME.example")
    assert not log.already_sent("acme", "2026-09", "dana@acme.example")
    assert json.loads(log.path.read_text().splitlines()[-1])["status"] == "sent"


def env(**values: str) -> dict[str, str]:
    return {f"CAMPAIGN_SMTP_{k}": v for k, v in values.items()}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"HOST": "smtp.example"}, ("smtp.example", 587, "starttls", None, 30.0)),
        ({"HOST": "smtp.example", "PORT": "465"}, ("smtp.example", 465, "tls", None, 30.0)),
        (
            {
                "HOST": "h.example",
                "PORT": "2525",
                "SECURITY": "tls",
                "USER": "u",
                "PASSWORD": PASSWORD,
                "TIMEOUT": "5",
            },
            ("h.example", 2525, "tls", "u", 5.0),
        ),
        (
            {"HOST": "127.0.0.1", "SECURITY": "none", "USER": "u", "PASSWORD": PASSWORD},
            ("127.0.0.1", 587, "none", "u", 30.0),
        ),
    ],
)
def test_settings_from_the_environment(values, expected):
    got = mailer.SmtpSettings.from_env(env(**values))
    assert (got.host, got.port, got.security, got.user, got.timeout) == expected
    assert PASSWORD not in repr(got) and PASSWORD not in str(got)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "CAMPAIGN_SMTP_HOST: is not set"),
        ({"HOST": "h", "PORT": "smtp"}, "CAMPAIGN_SMTP_PORT: is 'smtp'; give a number"),
        ({"HOST": "h", "PORT": "70000"}, "CAMPAIGN_SMTP_PORT: is '70000'"),
        ({"HOST": "h", "SECURITY": "ssl"}, "CAMPAIGN_SMTP_SECURITY: is 'ssl'; use starttls"),
        ({"HOST": "h", "USER": "u"}, "CAMPAIGN_SMTP_PASSWORD: is not set"),
        ({"HOST": "h", "PASSWORD": PASSWORD}, "CAMPAIGN_SMTP_USER: is not set"),
        (
            {"HOST": "smtp.example", "SECURITY": "none", "USER": "u", "PASSWORD": PASSWORD},
            "CAMPAIGN_SMTP_SECURITY: is none, which would send the password in clear",
        ),
        ({"HOST": "h", "TIMEOUT": "0"}, "CAMPAIGN_SMTP_TIMEOUT: is '0'"),
    ],
)
def test_bad_settings_name_the_variable_never_the_password(values, message):
    with pytest.raises(ConfigError) as caught:
        mailer.SmtpSettings.from_env(env(**values))
    assert str(caught.value).startswith("environment: ") and message in str(caught.value)
    assert PASSWORD not in str(caught.value)
