import json
import re
import runpy
import shutil
from datetime import date, timedelta
from pathlib import Path

import yaml
from typer.testing import CliRunner

from generator import cli
from generator.charts import PLATFORM_LABELS, platform_label
from generator.cli import app
from generator.config import load_clients
from generator.lake import Lake
from generator.sandbox import DEMO_CREDENTIALS

from .conftest import REPO, TODAY

#: the day after the demo's today: a daily sync on top of the demo's lake
NEXT_DAY = (date.fromisoformat(TODAY) + timedelta(days=1)).isoformat()

runner = CliRunner()


def test_demo_builds_three_sites_with_two_months_and_prints_where(demo_run):
    result, out = demo_run
    for slug in ("northwind", "brightline", "harbor"):
        root = out / "sites" / slug
        assert (root / "2026-10" / "index.html").exists() and (
            root / "2026-09" / "index.html"
        ).exists()
        assert str((root / "2026-10" / "index.html").resolve()) in result.output.replace("\n", "")
        versions = json.loads((root / "versions.json").read_text())
        assert versions == [
            {"version": "2026-10", "title": "October 2026", "aliases": ["latest"]},
            {"version": "2026-09", "title": "September 2026", "aliases": []},
        ]
        assert "url=2026-10/index.html" in (root / "index.html").read_text()
    assert str((out / "lake").resolve()) in result.output
    assert (out / "lake" / "ad_performance").is_dir()
    assert "ok" in result.output and "Report sites for" in result.output


def test_no_secret_reaches_the_output_lake_or_site(demo_run):
    result, out = demo_run
    secrets = [v for k, v in DEMO_CREDENTIALS["google_ads"].items() if k != "login_customer_id"]
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in data, (path, secret)
    for secret in secrets:
        assert secret not in result.output


def test_each_site_holds_only_its_clients_data(demo_run):
    _, out = demo_run
    harbor = "".join(p.read_text() for p in (out / "sites" / "harbor").rglob("*.html"))
    assert "Harbor Dental" in harbor
    assert "Northwind" not in harbor and "Brightline" not in harbor and "Winterjacken" not in harbor


def test_every_site_shows_each_of_its_platforms_by_name(demo_run):
    _, out = demo_run
    names = {"meta": ["Facebook", "Instagram"]}
    for client in load_clients(REPO / "content"):
        expected = set()
        for account in client.accounts:
            if account.platform == "file":
                expected.add(platform_label(account.file.channel))
            elif account.platform != "ga4":  # site analytics, not a channel
                expected.update(names.get(account.platform) or [PLATFORM_LABELS[account.platform]])
        overview = (out / "sites" / client.slug / "2026-10" / "index.html").read_text()
        lede = re.search(r'<p class="report-lede">(.*?)</p>', overview).group(1)
        listed = re.search(r"platforms \((.*?)\)", lede).group(1).replace(" and ", ", ")
        assert set(listed.split(", ")) == expected, client.slug
        channels = (out / "sites" / client.slug / "2026-10" / "channels.html").read_text()
        table = channels.split("<table", 1)[1].split("</table>", 1)[0]
        assert all(f"<td>{name}</td>" in table for name in expected), client.slug


def test_validate(content):
    ok = runner.invoke(app, ["validate", "--content", str(content)])
    assert ok.exit_code == 0 and "3 client(s)" in ok.output
    path = content / "harbor" / "client.yml"
    path.write_text(path.read_text().replace("currency: USD", "currency: US"))
    bad = runner.invoke(app, ["validate", "--content", str(content)])
    assert bad.exit_code == 1 and "currency" in bad.output and "client.yml" in bad.output


def test_build_periods_from_the_demo_lake(demo_copy):
    out = demo_copy
    content = str(REPO / "content")
    result = runner.invoke(
        app,
        [
            "build",
            "--out",
            str(out),
            "--content",
            content,
            "--client",
            "harbor",
            "--period",
            "2026-08",
        ],
    )
    assert result.exit_code == 0, result.output
    root = out / "sites" / "harbor"
    assert (root / "2026-08" / "index.html").exists()
    assert [v["version"] for v in json.loads((root / "versions.json").read_text())] == [
        "2026-10",
        "2026-09",
        "2026-08",
    ]  # a new archive month; the latest stays the latest
    two = out / "content"  # --all means every client of the content folder: two of them here
    shutil.copytree(REPO / "content", two)
    shutil.rmtree(two / "northwind")
    spans = runner.invoke(
        app,
        [
            "build",
            "--out",
            str(out),
            "--content",
            str(two),
            "--all",
            "--from",
            "2026-10-05",
            "--to",
            "2026-10-18",
            "--jobs",
            "2",
        ],
    )
    assert spans.exit_code == 0, spans.output
    for slug in ("brightline", "harbor"):
        assert (out / "sites" / slug / "2026-10-05_2026-10-18" / "index.html").exists()
    assert not (out / "sites" / "northwind" / "2026-10-05_2026-10-18").exists()
    for bad in (
        ["--period", "Sept"],
        ["--from", "2026-10-01"],
        ["--period", "2026-10", "--from", "2026-10-01"],
    ):
        outcome = runner.invoke(app, ["build", "--out", str(out), *bad])
        assert outcome.exit_code != 0 and (
            "YYYY-MM" in outcome.output or "--from" in outcome.output
        )
    both = runner.invoke(app, ["build", "--out", str(out), "--client", "harbor", "--all"])
    assert both.exit_code != 0
    missing = runner.invoke(
        app, ["build", "--out", str(out), "--content", content, "--client", "nobody"]
    )
    assert missing.exit_code == 1 and "no client 'nobody'" in missing.output


def test_a_period_without_data_names_the_client_the_dates_and_what_to_run(demo_copy):
    def build(period):
        command = ["build", "--out", str(demo_copy), "--client", "harbor", "--period", period]
        result = runner.invoke(app, [*command, "--content", str(REPO / "content")])
        return result.exit_code, " ".join(result.output.split())

    code, before = build("2025-01")
    assert (
        code == 1
        and "harbor has no ad performance for 2025-01 (2025-01-01 to 2025-01-31)" in before
    )
    assert re.search(r"holds 2026-0\d-01 to 2026-11-\d\d for it", before), before
    assert (
        "raise history_months in agency.yml and run `campaign-report sync --client harbor --full`"
        in before
    )
    code, after = build("2027-03")
    assert code == 1 and "run `campaign-report sync --client harbor` to fetch newer days" in after
    assert not (demo_copy / "sites" / "harbor" / "2025-01").exists()
    assert not (demo_copy / "results" / "harbor" / "2027-03").exists()


def test_a_daily_sync_from_a_relative_out_logs_no_secret(demo_copy, monkeypatch):
    """The next morning's verbose sync of every client on top of the demo's lake."""
    monkeypatch.chdir(demo_copy.parent)  # --out out: relative, as a user types it
    command = ["sync", "--sandbox", "-v", "--out", "out", "--today", NEXT_DAY]
    result = runner.invoke(app, [*command, "--content", str(REPO / "content")])
    assert result.exit_code == 0, result.output
    lake = Lake(demo_copy / "lake")
    for client, sources in {
        "harbor": {"google_ads", "meta", "snapchat", "microsoft_ads", "file", "ga4"},
        "northwind": {"google_ads", "meta", "tiktok", "pinterest", "amazon_ads"}
        | {"microsoft_ads", "file", "ga4"},
        "brightline": {"google_ads", "linkedin", "microsoft_ads", "x", "reddit", "ga4"},
    }.items():
        states = lake.state.all(client)
        assert {s.status for s in states} == {"ok"}, [(s.source, s.message) for s in states]
        assert {s.source for s in states} == sources
        assert {s.synced_through for s in states} == {date.fromisoformat(TODAY)}  # one more day
    assert str((demo_copy / "lake").resolve()) in result.output.replace("\n", "")
    assert "HTTP Request" in result.output  # the verbose log really ran
    for values in DEMO_CREDENTIALS.values():
        for name, secret in values.items():
            if any(w in name for w in ("token", "secret", "key")):
                assert secret not in result.output, name


def test_sync_without_credentials_reports_them(tmp_path, content, monkeypatch):
    for key in ("GOOGLE_ADS_DEVELOPER_TOKEN", "GOOGLE_ADS_REFRESH_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    result = runner.invoke(
        app, ["sync", "--client", "harbor", "--out", str(tmp_path), "--content", str(content)]
    )
    assert result.exit_code == cli.EXIT_ERROR == 1  # every account failed: cron must notice
    assert "failed" in result.output and "is not set" in result.output
    assert "6 of 6 accounts failed (exit status 1)" in result.output


def test_a_partial_sync_exits_3_and_prints_markup_like_text_verbatim(tmp_path):
    """One export reads, the other has a cell that looks like Rich markup and an emoji code:
    the message prints as it is, and the run ends with the partial status."""
    content = tmp_path / "content"
    (content / "acme").mkdir(parents=True)
    shutil.copyfile(REPO / "content" / "agency.yml", content / "agency.yml")
    shutil.copyfile(REPO / "content" / "fx_rates.csv", content / "fx_rates.csv")
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("Day,Campaign,Spend\n2026-11-02,Radio,12.50\n")
    bad.write_text("Day,Campaign,Spend\n2026-11-02,Radio,[/oops] :x: [bold]\\\n")
    accounts = [
        {"platform": "file", "account_id": account_id, "file": {
            "path": str(path), "channel": "offline", "columns": {
                "date": "Day", "campaign_name": "Campaign", "spend": "Spend"}}}
        for account_id, path in (("good", good), ("[file/2]", bad))
    ]  # fmt: skip
    client = {"slug": "acme", "name": "Acme", "industry": "retail", "currency": "USD",
              "timezone": "UTC", "accounts": accounts}  # fmt: skip
    (content / "acme" / "client.yml").write_text(yaml.safe_dump(client, allow_unicode=True))
    command = ["sync", "--out", str(tmp_path / "out"), "--content", str(content)]
    result = runner.invoke(app, [*command, "--today", "2026-11-03"])
    output = result.output.replace("\n", "")
    assert result.exit_code == cli.EXIT_PARTIAL == 3, result.output
    assert "'[/oops] :x: [bold]\\\\'" in output  # repr of the cell: brackets, code, backslash
    assert "failed acme file [file/2]:" in output and "[file/2]" in output
    assert "1 of 2 accounts failed (exit status 3)" in output


def test_a_broken_config_is_an_error_not_a_traceback(tmp_path, content):
    (content / "agency.yml").write_text("name: [")
    for command in (["demo"], ["sync"], ["build"]):
        result = runner.invoke(app, [*command, "--out", str(tmp_path), "--content", str(content)])
        output = result.output.replace("\n", "")
        assert result.exit_code == 1 and "error:" in output and "agency.yml" in output


def test_the_sandbox_command_serves_until_interrupted(monkeypatch):
    def interrupt():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_wait_forever", interrupt)
    result = runner.invoke(app, ["sandbox", "--port", "0"])
    assert result.exit_code == 0
    assert "sandbox listening on http://127.0.0.1:" in result.output and "stopped" in result.output


def test_default_content_falls_back_to_the_bundled_demo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli._content(None) == (REPO / "content")
    assert cli._content(Path("x")) == Path("x")


def test_the_example_script(demo_copy, capsys):
    module = runpy.run_path(str(REPO / "examples" / "generate_campaign_report.py"))
    sites = module["main"](demo_copy, today=date.fromisoformat(NEXT_DAY), only=["harbor"])
    assert set(sites) == {"harbor"}
    assert (sites["harbor"] / "index.html").exists()
    printed = capsys.readouterr().out
    assert "Harbor Dental Group:" in printed
    synced = [line for line in printed.splitlines() if line.startswith("synced ")]
    assert len(synced) == 6 and all(line.endswith(": ok") for line in synced), synced
