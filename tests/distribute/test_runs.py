"""The unattended runs (``pipeline.schedule.run``) end to end, with the two expensive stages
stubbed: the sync returns the account outcomes a case asks for and the site build copies one
analysed report into place. What reaches the loopback SMTP server and webhook is real, and so
are the sent-log, the announced-events log, the lock, publishing and the run log.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml
from aiosmtpd.smtp import AuthResult
from typer.testing import CliRunner

from generator.cli import app
from generator.config import load_agency, load_clients
from generator.distribute import email_report
from generator.distribute.notify_formats import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from generator.errors import BuildError, ConfigError
from generator.lake.files import locked
from generator.lake.state import AccountState
from generator.periods import Period
from generator.pipeline import distributing, schedule
from generator.pipeline.syncing import AccountSync
from generator.pipeline.workspace import Workspace
from generator.site.report import Report

runner = CliRunner()
#: the loopback SMTP server wants a login, which aiosmtpd warns about without TLS
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

#: a monthly run on this day builds October; a daily one the preview of November so far
TODAY = date(2026, 11, 24)
PASSWORD = "smtp-Pa55word-9f3e1c"
HOOK_PATH = "/hooks/T01/B02/hook-path-secret-77aa"
HOOK_SECRET = "whsec-signing-key-4b1d"
TO, CC, BCC = "dana@acme.example", "lee@acme.example", "audit@acme.example"
AGENCY = {
    "name": "Lighthouse Digital",
    "base_url": "https://reports.lighthouse.example",
    "sender": "reports@lighthouse.example",
    "email": {"from_name": "Lighthouse Reports", "retries": 0},
    "notifications": [
        {"name": "crm", "kind": "webhook", "url": "${HOOK_URL}", "secret": "${HOOK_SECRET}"}
    ],
}
CLIENT = {
    "slug": "acme",
    "name": "Acme & Sons",
    "industry": "retail",
    "currency": "USD",
    "timezone": "UTC",
    "accounts": [
        {"platform": "google_ads", "account_id": "1"},
        {"platform": "meta", "account_id": "act_2"},
    ],
    "kpi_targets": {"roas": 2.0, "cpa": {"target": 20, "tolerance": 0.1}},
    "recipients": [
        {"name": "Dana Whitfield", "email": TO},
        {"name": "Lee Park", "email": CC, "kind": "cc"},
        {"email": BCC, "kind": "bcc"},
    ],
}
OK = [AccountSync("acme", "google_ads", "1", "ok"), AccountSync("acme", "meta", "act_2", "ok")]
ONE_FAILED = [OK[0], AccountSync("acme", "meta", "act_2", "failed", message="HTTP 500 upstream")]
ALL_FAILED = [
    AccountSync("acme", "google_ads", "1", "failed", message="token revoked"),
    ONE_FAILED[1],
]
STALE = [OK[0], AccountSync("acme", "meta", "act_2", "stale", message="rate limited")]


def _login(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = auth_data.login == b"reports" and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def analysed(built_report, tmp_path_factory) -> Path:
    """The small report's results on disk, with the CPA target off track and two unusual
    days: one of the last three days before ``TODAY`` and one three weeks before."""
    report = Report(dict(built_report.summary), dict(built_report.frames))
    cards = [dict(c) for c in report.summary["cards"]]
    for card in cards:
        if card["key"] == "cpa":
            card["status"] = "off_track"
    report.summary["cards"] = cards
    unusual = built_report.frames["anomalies"].iloc[[0, 0]].copy()
    unusual["date"] = ["2026-11-22", "2026-11-03"]
    report.frames["anomalies"] = unusual.reset_index(drop=True)
    folder = tmp_path_factory.mktemp("analysed")
    report.save(folder)
    return folder


class Stubs:
    """The sync and the build, as the runs call them, recording what they were asked."""

    def __init__(self, analysed: Path) -> None:
        self.analysed = analysed
        self.accounts: list[AccountSync] = OK
        self.synced: list[date] = []
        self.built: list[list[str]] = []

    def sync_workspace(self, workspace, agency, clients, now, *, sandbox=False, **_):
        self.synced.append(now.date())
        return list(self.accounts)

    def publish_all(self, workspace, slugs, periods, *, now=None, **_):
        self.built.append([p.label for p in periods])
        sites = {}
        for slug in slugs:
            for period in periods:
                results = workspace.results(slug, period)
                shutil.copytree(self.analysed, results, dirs_exist_ok=True)
                summary = json.loads((results / "summary.json").read_text())
                summary["period"] = {
                    "label": period.label,
                    "title": f"{period.start:%B %Y}",
                    "start": period.start.isoformat(),
                    "end": period.end.isoformat(),
                }
                (results / "summary.json").write_text(json.dumps(summary))
                site = workspace.site(slug, period)
                site.mkdir(parents=True, exist_ok=True)
                (site / "index.html").write_text(f"<h1>{slug} {period.label}</h1>")
                sites[(slug, period.label)] = site
        return sites


@pytest.fixture
def stubs(analysed, monkeypatch) -> Stubs:
    made = Stubs(analysed)
    monkeypatch.setattr(schedule, "sync_workspace", made.sync_workspace)
    monkeypatch.setattr(schedule, "publish_all", made.publish_all)
    # the charts are the email tests' business; drawing them here would only cost time
    monkeypatch.setattr(email_report, "charts", lambda report, client: [])
    return made


def _workspace(root: Path, **agency) -> Workspace:
    content = root / "content"
    (content / "acme").mkdir(parents=True)
    (content / "agency.yml").write_text(yaml.safe_dump({**AGENCY, **agency}))
    (content / "acme" / "client.yml").write_text(yaml.safe_dump(CLIENT))
    return Workspace(content, root / "out")


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    return _workspace(tmp_path)


@pytest.fixture
def mail(smtp_server):
    return smtp_server(authenticator=_login, auth_required=True, auth_require_tls=False)


@pytest.fixture
def hook_env(server) -> dict[str, str]:
    """The webhook's address and key, and no SMTP server at all."""
    return {"HOOK_URL": server.url(HOOK_PATH), "HOOK_SECRET": HOOK_SECRET}


@pytest.fixture
def env(mail, hook_env) -> dict[str, str]:
    return {
        "CAMPAIGN_SMTP_HOST": mail.host,
        "CAMPAIGN_SMTP_PORT": str(mail.port),
        "CAMPAIGN_SMTP_SECURITY": "none",
        "CAMPAIGN_SMTP_USER": "reports",
        "CAMPAIGN_SMTP_PASSWORD": PASSWORD,
        **hook_env,
    }


def _posted(server) -> list[dict]:
    """Every webhook body received, each checked against its signature first."""
    bodies = []
    for post in server.received:
        stamp, signature = (post.headers[h.lower()] for h in (TIMESTAMP_HEADER, SIGNATURE_HEADER))
        assert post.path == HOOK_PATH and verify(HOOK_SECRET, stamp, post.body, signature), post
        bodies.append(post.json())
    return bodies


def _posted_events(server) -> list[str]:
    return [p.json()["event"] for p in server.received]


@pytest.mark.parametrize(
    ("accounts", "code", "extra"),
    [
        (OK, 0, set()),
        (STALE, 0, {"stale"}),
        (ONE_FAILED, 3, {"sync_failed"}),
        (ALL_FAILED, 1, {"sync_failed"}),
    ],
    ids=["all-ok", "stale", "one-failed", "all-failed"],
)
def test_monthly_mails_each_recipient_announces_and_exits_by_the_sync(
    stubs, workspace, env, mail, server, accounts, code, extra
):
    stubs.accounts = accounts
    result = schedule.run("monthly", workspace, today=TODAY, env=env)
    assert (result.exit_code, result.skipped) == (code, False), result.problems
    assert stubs.synced == [TODAY] and stubs.built == [["2026-10"]]
    assert sorted(o.status for o in result.sent) == ["sent"] * 3
    # one message per person, each envelope naming only them; the bcc is in no header
    assert sorted(r for m in mail.inbox.received for r in m.rcpt_tos) == sorted([TO, CC, BCC])
    assert all(len(m.rcpt_tos) == 1 for m in mail.inbox.received)
    for received in mail.inbox.received:
        assert BCC.encode() not in received.data and PASSWORD.encode() not in received.data
        assert received.message["Subject"] == "Acme & Sons: your October 2026 marketing report"
    events = _posted(server)
    assert {e["event"] for e in events} == {"published", "kpi_alert"} | extra
    published = next(e for e in events if e["event"] == "published")
    assert published["url"] == "https://reports.lighthouse.example/acme/2026-10/"
    assert published["period"] == "2026-10" and "CPA" in published["facts"]
    alerts = [e["text"] for e in events if e["event"] == "kpi_alert"]
    # the month's report announces its missed target; its unusual days were news on the day
    assert len(alerts) == 1 and alerts[0].startswith("CPA") and "(off track)" in alerts[0]
    for failed in (a for a in accounts if a.status == "failed"):
        assert any(failed.message in e["text"] for e in events if e["event"] == "sync_failed")
    assert all(d.ok for d in result.deliveries) and len(result.deliveries) == len(events)


def test_a_second_monthly_run_sends_and_announces_nothing_again(
    stubs, workspace, env, mail, server
):
    first = schedule.run("monthly", workspace, today=TODAY, env=env)
    posts = len(server.received)
    second = schedule.run("monthly", workspace, today=TODAY, env=env)
    assert first.exit_code == second.exit_code == 0, second.problems
    assert [o.status for o in second.sent] == ["skipped"] * 3 and len(mail.inbox.received) == 3
    assert len(server.received) == posts == 2 and second.deliveries == []
    announced = (workspace.out / "logs" / "announced.jsonl").read_text().split()
    assert len(announced) == len(set(announced)) == 2
    assert stubs.built == [["2026-10"], ["2026-10"]]  # the build itself does run again


def test_an_event_no_channel_took_is_announced_again_next_run(stubs, workspace, env, server):
    server.script(HOOK_PATH, (403, {}, b"forbidden"), (200, {}, b"ok"))
    first = schedule.run("monthly", workspace, today=TODAY, env=env)
    assert [d.ok for d in first.deliveries] == [False, True] and first.exit_code == 0
    assert _posted_events(server) == ["published", "kpi_alert"]
    second = schedule.run("monthly", workspace, today=TODAY, env=env)
    assert [d.ok for d in second.deliveries] == [True]
    assert _posted_events(server) == ["published", "kpi_alert", "published"]
    third = schedule.run("monthly", workspace, today=TODAY, env=env)
    assert third.deliveries == [] and len(server.received) == 3


def test_a_monthly_dry_run_writes_the_emails_to_the_outbox(stubs, workspace, hook_env):
    result = schedule.run("monthly", workspace, today=TODAY, dry_run=True, env=hook_env)
    assert result.exit_code == 0, result.problems
    assert [o.status for o in result.sent] == ["dry-run"] * 3
    outbox = sorted((workspace.out / "outbox").glob("*.eml"))
    assert len(outbox) == 3 and all(p.name.startswith("acme-2026-10-") for p in outbox)
    assert b"Acme & Sons: your October 2026 marketing report" in outbox[0].read_bytes()
    logged = [json.loads(line) for line in (workspace.out / "mail" / "sent-log.jsonl").open()]
    assert sorted(e["recipient"] for e in logged) == sorted([TO, CC, BCC])
    assert {e["status"] for e in logged} == {"dry-run"}


def test_a_monthly_run_without_smtp_settings_stops_with_status_1(
    stubs, workspace, hook_env, server
):
    stubs.accounts = ONE_FAILED
    result = schedule.run("monthly", workspace, today=TODAY, env=hook_env)
    assert result.exit_code == 1 and result.sent == []
    assert any("CAMPAIGN_SMTP_HOST" in p for p in result.problems)
    # what the run had found before it stopped is still announced
    assert _posted_events(server) == ["sync_failed"]


def test_a_monthly_run_publishes_where_agency_yml_says(stubs, tmp_path, env, mail):
    workspace = _workspace(tmp_path, publish={"to": "../public"})  # beside content/
    result = schedule.run("monthly", workspace, today=TODAY, env=env)
    public = tmp_path / "public"
    assert result.exit_code == 0 and Path(result.published).resolve() == public.resolve()
    versions = json.loads((public / "acme" / "versions.json").read_text())
    assert [v["version"] for v in versions] == ["2026-10"]
    assert (public / "acme" / "latest" / "index.html").read_text() == "<h1>acme 2026-10</h1>"
    assert "publish acme 2026-10: published" in (workspace.out / "logs" / "run.log").read_text()


def test_daily_previews_the_month_and_announces_only_recent_unusual_days(
    stubs, workspace, env, mail, server
):
    result = schedule.run("daily", workspace, today=TODAY, env=env)
    assert result.exit_code == 0 and stubs.built == [["2026-11"]]
    assert list(result.sites) == [("acme", "2026-11")]
    assert result.sent == [] and mail.inbox.received == []
    assert not (workspace.out / "mail").exists()
    events = _posted(server)
    assert {e["event"] for e in events} == {"kpi_alert"}
    assert {e["period"] for e in events} == {"2026-11"}
    unusual = [e["text"] for e in events if "unusual" in e["text"]]
    assert len(unusual) == 1 and "Nov 22" in unusual[0]  # Nov 03 is old news
    assert any("(off track)" in e["text"] for e in events)
    again = schedule.run("daily", workspace, today=TODAY, env=env)
    assert again.exit_code == 0 and again.deliveries == [] and len(server.received) == 2


@pytest.mark.parametrize(
    ("accounts", "code", "kind", "text"),
    [
        (ONE_FAILED, 3, "sync_failed", "Fetching meta act_2 for Acme & Sons failed: HTTP 500"),
        (STALE, 0, "stale", "The newest meta act_2 data for Acme & Sons is from 2026-11-20."),
    ],
    ids=["failed", "stale"],
)
def test_daily_on_the_first_builds_nothing_but_still_reports_the_sync(
    stubs, workspace, hook_env, server, accounts, code, kind, text
):
    covered = ((date(2026, 6, 1), date(2026, 11, 20)),)
    workspace.lake.state.put(AccountState("acme", "meta", "act_2", covered, status="stale"))
    stubs.accounts = accounts
    result = schedule.run("daily", workspace, today=date(2026, 12, 1), env=hook_env)
    assert result.exit_code == code and stubs.built == [] and result.sites == {}
    (event,) = _posted(server)
    assert event["event"] == kind and event["text"].startswith(text), event["text"]


def test_a_run_while_another_holds_the_lock_does_nothing(stubs, workspace, env, mail, server):
    with locked(workspace.out / ".run.lock") as held:
        assert held
        result = schedule.run("monthly", workspace, today=TODAY, env=env)
    assert result.skipped and result.exit_code == 0
    assert stubs.synced == [] and stubs.built == [] and result.sent == []
    assert mail.inbox.received == [] and server.received == []
    assert not (workspace.out / "mail").exists() and not (workspace.out / "results").exists()
    assert "another run holds" in (workspace.out / "logs" / "run.log").read_text()
    assert not schedule.run("daily", workspace, today=TODAY, env=env).skipped  # released


def test_the_run_log_holds_what_each_run_did_and_no_secret(stubs, workspace, env, mail, server):
    server.script(HOOK_PATH, (403, {}, b"no such hook " + HOOK_PATH.encode()))
    mail.inbox.refuse[CC] = "550 5.1.1 no such mailbox"
    stubs.accounts = [OK[0], AccountSync("acme", "meta", "act_2", "failed", message="boom")]
    result = schedule.run("monthly", workspace, today=TODAY, env=env)
    assert result.log == workspace.out / "logs" / "run.log"
    assert result.problems == [f"email to {CC}: 550 5.1.1 no such mailbox"]
    text = result.log.read_text()
    for line in (
        "monthly run for 2026-11-24 started",
        "sync acme google_ads 1 ok",
        "sync acme meta act_2 failed: boom",
        f"email acme 2026-10 to {TO} sent",
        f"email acme 2026-10 to {CC} failed: 550 5.1.1 no such mailbox",
        "notify crm: HTTP 403",
        "monthly run ended with exit status 3",
    ):
        assert line in text, line
    for secret in (PASSWORD, HOOK_PATH, "hook-path-secret", HOOK_SECRET, env["HOOK_URL"]):
        assert secret not in text, secret


def test_the_run_command_prints_a_summary_and_leaves_the_details_to_the_log(
    stubs, workspace, hook_env, monkeypatch
):
    for name, value in hook_env.items():
        monkeypatch.setenv(name, value)
    command = ["run", "monthly", "--dry-run", "--out", str(workspace.out)]
    command += ["--content", str(workspace.content), "--today", "2026-11-24"]
    quiet = runner.invoke(app, command)
    output = quiet.output.replace("\n", "")
    assert quiet.exit_code == 0, quiet.output
    assert "3 dry-run email(s)" in output and "2 of 2 notification(s) delivered" in output
    assert str((workspace.out / "logs" / "run.log").resolve()) in output
    assert str((workspace.out / "sites" / "acme" / "2026-10" / "index.html").resolve()) in output
    assert "run for 2026-11-24 started" not in output  # the log has it; cron mails no noise
    assert "monthly run for 2026-11-24 started" in (workspace.out / "logs" / "run.log").read_text()
    verbose = runner.invoke(app, [*command, "-v"])
    assert verbose.exit_code == 0 and "monthly run for 2026-11-24 started" in verbose.output


def test_the_run_command_reports_another_run_and_exits_0(stubs, workspace):
    command = ["run", "daily", "--out", str(workspace.out), "--content", str(workspace.content)]
    with locked(workspace.out / ".run.lock"):
        result = runner.invoke(app, command)
    assert result.exit_code == 0 and "another run is in progress; nothing done" in result.output
    assert stubs.synced == []


def test_alerts_keep_the_unusual_days_since_a_day(analysed, workspace):
    report = Report.load(analysed)
    agency, (client,) = load_agency(workspace.content), load_clients(workspace.content)
    every = distributing.alerts(report, client, agency)
    recent = distributing.alerts(report, client, agency, since=distributing.recent(TODAY))
    unusual = [e.text for e in every if "unusual" in e.text]
    assert len(unusual) == 2 and "on Nov 03" in unusual[0] and "on Nov 22" in unusual[1]
    assert [e.text for e in recent if "unusual" in e.text] == unusual[1:]
    assert all(e.kind == "kpi_alert" for e in every) and len(every) == len(recent) + 1
    assert {e.url for e in every} == {"https://reports.lighthouse.example/acme/2026-10/"}
    event = distributing.published_event(report, client, agency)
    assert event.kind == "published" and set(dict(event.facts)) >= {"Spend", "CPA", "ROAS"}


def test_a_budget_off_pace_is_an_alert_and_one_on_pace_or_ended_is_not(analysed, workspace):
    report = Report.load(analysed)
    agency, (client,) = load_agency(workspace.content), load_clients(workspace.content)
    budget = {"label": "Google Ads", "amount": 20000.0, "projected": 23400.0, "days_left": 7}
    report.summary["pacing"] = {
        "budgets": [
            {**budget, "status": "over"},
            {**budget, "label": "Facebook", "projected": 15000.0, "status": "under"},
            {**budget, "label": "All", "status": "on_pace"},
            {**budget, "label": "TikTok", "status": "ended"},
        ]
    }
    paced = [e.text for e in distributing.alerts(report, client, agency) if "pace" in e.text]
    assert paced == [
        "Google Ads: projected $23,400 against a budget of $20,000 (+17%, over pace; 7 days left)",
        "Facebook: projected $15,000 against a budget of $20,000 (-25%, under pace; 7 days left)",
    ]


def test_publish_sites_needs_a_destination(workspace):
    with pytest.raises(ConfigError, match="publish.to"):
        distributing.publish_sites(workspace)


def test_send_refuses_a_period_not_built(workspace):
    with pytest.raises(BuildError, match="campaign-report build --client acme --period 2026-10"):
        distributing.send(workspace, ["acme"], Period.month("2026-10"), dry_run=True)


@pytest.mark.parametrize(
    ("publish", "to", "repository"),
    [
        ({"to": "git", "repository": "site-repo"}, None, "content/site-repo"),
        ({"repository": "site-repo"}, "git", "content/site-repo"),
        ({"to": "git"}, None, "elsewhere"),
        ({}, "git", "elsewhere"),
    ],
    ids=["agency-yml", "command-line", "agency-yml-default", "command-line-default"],
)
def test_publishing_to_git_finds_the_repository_agency_yml_names(
    tmp_path, monkeypatch, publish, to, repository
):
    """A relative ``publish.repository`` is read against agency.yml's folder, however
    ``git`` was chosen; without one it is the current folder (as the README says)."""
    workspace = _workspace(tmp_path, publish=publish)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    asked = []
    monkeypatch.setattr(
        distributing.gh_pages, "publish_to_git", lambda sites, repo, **_: asked.append(repo)
    )
    distributing.publish_sites(workspace, to=to)
    assert [p.resolve() for p in asked] == [(tmp_path / repository).resolve()]
