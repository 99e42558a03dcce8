"""The distribution commands: ``send``, ``publish``, ``serve`` and ``run``.

Two tests work on a copy of the demo's output (its three clients, built for 2026-09 and
2026-10): mailing it to a loopback SMTP server, and publishing it then serving the result.
The rest need no build at all.
"""

from __future__ import annotations

import json
import re
import threading

import httpx
import pytest
from typer.testing import CliRunner

from generator.cli import app
from generator.distribute import email_report, preview

from .distribute import conftest as distribute

runner = CliRunner()
#: the distribute tests' loopback SMTP server, as a fixture here too
smtp_server = distribute.smtp_server

PERIOD = ["--period", "2026-10", "--today", "2026-11-24"]
#: the demo clients' recipients: one each, brightline's second as cc
RECIPIENTS = {
    "dana@northwind.example",
    "priya@brightline.example",
    "marcus@brightline.example",
    "luis.ortega@harbordental.example",
}


def _flat(result) -> str:
    """The output without line breaks: the console folds a long line at its width."""
    return result.output.replace("\n", "")


@pytest.fixture
def smtp_env(monkeypatch):
    """Point ``CAMPAIGN_SMTP_*`` at a loopback server (and no login)."""

    def point(host: str, port: int) -> None:
        monkeypatch.setenv("CAMPAIGN_SMTP_HOST", host)
        monkeypatch.setenv("CAMPAIGN_SMTP_PORT", str(port))
        monkeypatch.setenv("CAMPAIGN_SMTP_SECURITY", "none")

    for name in ("USER", "PASSWORD", "TIMEOUT"):
        monkeypatch.delenv(f"CAMPAIGN_SMTP_{name}", raising=False)
    return point


def test_send_mails_each_recipient_once_and_force_sends_again(
    demo_copy, content, smtp_server, smtp_env, monkeypatch
):
    # drawing the charts is the email tests' business (and the slowest part of a send)
    monkeypatch.setattr(email_report, "charts", lambda report, client: [])
    mail = smtp_server()
    smtp_env(mail.host, mail.port)
    command = ["send", "--out", str(demo_copy), "--content", str(content), *PERIOD]
    sent_log = demo_copy / "mail" / "sent-log.jsonl"

    dry = runner.invoke(app, [*command, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    outbox = sorted((demo_copy / "outbox").glob("*.eml"))
    assert len(outbox) == 4 and mail.inbox.received == []
    assert str((demo_copy / "outbox").resolve()) in _flat(dry)
    assert str(sent_log.resolve()) in _flat(dry) and "dry-run" in dry.output

    sent = runner.invoke(app, command)
    assert sent.exit_code == 0, sent.output
    assert str(sent_log.resolve()) in _flat(sent) and "outbox" not in sent.output
    received = mail.inbox.received
    assert sorted(r for m in received for r in m.rcpt_tos) == sorted(RECIPIENTS)
    subject = "Harbor Dental Group: your October 2026 marketing report from Lighthouse Digital"
    assert subject in {m.message["Subject"] for m in received}
    brightline = [m.message for m in received if "brightline" in m.rcpt_tos[0]]
    assert {str(m["To"]) for m in brightline} == {"Priya Raman <priya@brightline.example>"}
    assert {str(m["Cc"]) for m in brightline} == {"Marcus Lee <marcus@brightline.example>"}
    (harbor,) = [m.message for m in received if "harbordental" in m.rcpt_tos[0]]
    text = harbor.get_body(("plain",)).get_content()
    assert "https://reports.lighthouse-digital.example/harbor/2026-10/" in text

    again = runner.invoke(app, command)
    assert again.exit_code == 0 and len(mail.inbox.received) == 4
    assert again.output.count("skipped") == 4
    forced = runner.invoke(app, [*command, "--force"])
    assert forced.exit_code == 0 and len(mail.inbox.received) == 8
    statuses = [e["status"] for e in map(json.loads, sent_log.read_text().splitlines())]
    assert statuses == ["dry-run"] * 4 + ["sent"] * 8


def test_send_without_an_smtp_server_names_the_variable(tmp_path, content, monkeypatch):
    monkeypatch.delenv("CAMPAIGN_SMTP_HOST", raising=False)
    result = runner.invoke(app, ["send", "--out", str(tmp_path), "--content", str(content)])
    assert result.exit_code == 1 and "CAMPAIGN_SMTP_HOST" in result.output


def test_send_for_a_period_not_built_names_the_command_to_run(tmp_path, content, smtp_env):
    smtp_env("127.0.0.1", 2525)  # never dialled: the build is missing first
    command = ["send", "--out", str(tmp_path), "--content", str(content), *PERIOD]
    result = runner.invoke(app, [*command, "--client", "harbor"])
    assert result.exit_code == 1
    assert "run `campaign-report build --client harbor --period 2026-10` first" in _flat(result)
    bad = runner.invoke(app, ["send", "--out", str(tmp_path), "--period", "Sept"])
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output


def test_publish_freezes_months_rebuilds_with_a_reason_and_serves_them(
    demo_copy, content, tmp_path, monkeypatch
):
    public = tmp_path / "public"
    command = ["publish", "--to", str(public), "--out", str(demo_copy)]
    command += ["--content", str(content), "--today", "2026-11-24"]

    first = runner.invoke(app, command)
    assert first.exit_code == 0, first.output
    for slug in ("northwind", "brightline", "harbor"):
        for label in ("2026-09", "2026-10"):
            assert f"{slug} {label}: published" in first.output
    assert str(public.resolve()) in _flat(first)
    versions = json.loads((public / "harbor" / "versions.json").read_text())
    assert [(v["version"], v["aliases"]) for v in versions] == [
        ("2026-10", ["latest"]),
        ("2026-09", []),
    ]

    again = runner.invoke(app, command)
    assert again.exit_code == 0 and again.output.count(": unchanged") == 6

    # a later build differs from what the client was shown in September
    local = demo_copy / "sites" / "harbor" / "2026-09" / "index.html"
    local.write_text(local.read_text() + "<!-- restated -->")
    kept = runner.invoke(app, command)
    assert "harbor 2026-09: kept (frozen); the local build differs" in _flat(kept)
    refused = runner.invoke(app, [*command, "--rebuild", "harbor/2026-09"])
    assert refused.exit_code == 2 and "needs --reason" in refused.output
    malformed = runner.invoke(app, [*command, "--rebuild", "harbor", "--reason", "x"])
    assert malformed.exit_code == 2 and "CLIENT/YYYY-MM" in malformed.output
    reason = "GA4 conversions restated"
    rebuilt = runner.invoke(app, [*command, "--rebuild", "harbor/2026-09", "--reason", reason])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert f"harbor 2026-09: rebuilt ({reason})" in _flat(rebuilt)
    assert (public / "harbor" / "2026-09" / "index.html").read_text().endswith("<!-- restated -->")
    log = json.loads((public / "harbor" / "publish-log.json").read_text())
    assert log[-1]["action"] == "rebuilt" and log[-1]["reason"] == reason

    fetched = _serve(public, monkeypatch, ["harbor/versions.json", "harbor/latest/index.html"])
    served = runner.invoke(app, ["serve", str(public), "--port", "0"])
    assert served.exit_code == 0, served.output
    assert f"serving {public}" in _flat(served)  # the line may break at the space after:
    assert re.search(r"at ?http://127\.0\.0\.1:\d+/", _flat(served))
    assert served.output.rstrip().endswith("stopped")
    assert [r.status_code for r in fetched] == [200, 200]
    assert fetched[0].json() == versions
    assert "Harbor Dental Group" in fetched[1].text
    assert fetched[1].headers["cache-control"] == "no-store"


def _serve(root, monkeypatch, paths: list[str]) -> list[httpx.Response]:
    """Make ``serve`` answer one request for each of ``paths`` (fetched in a thread while
    it serves) and then stop as if interrupted; returns the responses."""
    fetched: list[httpx.Response] = []

    def serve_forever(server, poll_interval=0.5):
        def fetch():
            with httpx.Client(base_url=server.url, trust_env=False) as http:
                fetched.extend(http.get(path) for path in paths)

        client = threading.Thread(target=fetch)
        client.start()
        for _ in paths:
            server.handle_request()
        client.join(timeout=10)
        raise KeyboardInterrupt

    monkeypatch.setattr(preview.PreviewServer, "serve_forever", serve_forever)
    return fetched


def test_serve_a_missing_folder_says_to_publish_first(tmp_path):
    result = runner.invoke(app, ["serve", str(tmp_path / "nothing")])
    assert result.exit_code == 1 and "publish into it first" in _flat(result)


def test_publish_without_a_destination_says_where_to_set_one(tmp_path, content):
    result = runner.invoke(app, ["publish", "--out", str(tmp_path), "--content", str(content)])
    assert result.exit_code == 1 and "--to DIR" in result.output and "publish.to" in result.output


def test_run_knows_only_daily_and_monthly(tmp_path, content):
    result = runner.invoke(
        app, ["run", "nonsense", "--out", str(tmp_path), "--content", str(content)]
    )
    assert result.exit_code == 2 and "daily or monthly" in result.output
    assert not (tmp_path / "logs").exists()
