"""The only orchestrator: sync, analyze and build for clients and periods, and the demo.

Each stage reads the previous stage's files and writes its own under one output root::

    <out>/lake/                          sync: canonical Parquet + sync state
    <out>/results/<client>/<period>/     analyze: summary.json + tables
    <out>/sites/<client>/<period>/       build: the static site

so any stage can run alone, and a failure in one never corrupts what an earlier one wrote.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from multiprocessing import get_context
from pathlib import Path

import pandas as pd
from rich.progress import Progress

from generator.analytics import overview
from generator.analytics.currency import RateTable, to_currency
from generator.charts import PLATFORM_LABELS
from generator.config import (
    AccountConfig,
    Agency,
    Client,
    load_agency,
    load_clients,
    resolve_credentials,
)
from generator.connectors import (
    Connector,
    RetryPolicy,
    available,
    get_connector,
    last_complete_day,
    sync_windows,
)
from generator.connectors.tokens import TokenStore
from generator.creatives import AssetStore, retrieve_assets
from generator.errors import PlatformUnavailable, RateLimited, ReportError
from generator.lake import AccountState, Lake
from generator.metrics import KPIS
from generator.periods import Period, last_complete_month
from generator.site.build import build_site
from generator.site.report import Report

__all__ = [
    "AccountSync",
    "DemoResult",
    "Workspace",
    "analyze",
    "build",
    "history_start",
    "load_rates",
    "run_demo",
    "sync",
    "sync_sandbox",
]


@dataclass(frozen=True)
class Workspace:
    """Where a run reads configuration and writes each stage's files."""

    content: Path
    out: Path

    @property
    def lake(self) -> Lake:
        return Lake(self.out / "lake")

    @property
    def assets(self) -> AssetStore:
        return AssetStore(self.out / "assets")

    def results(self, client: str, period: Period) -> Path:
        return self.out / "results" / client / period.label

    def site(self, client: str, period: Period) -> Path:
        return self.out / "sites" / client / period.label


@dataclass(frozen=True)
class AccountSync:
    """How one account's sync went."""

    client: str
    source: str
    account_id: str
    status: str  # ok | stale | failed | skipped
    windows: int = 0
    rows: int = 0
    requests: int = 0
    message: str = ""
    notes: tuple[str, ...] = ()


@dataclass
class _Group:
    """Accounts that share credentials on one platform share one connector (and limiter)."""

    source: str
    credentials: dict[str, str]
    accounts: list[tuple[Client, AccountConfig]] = field(default_factory=list)


def _current_tokens(
    platform: str, credentials: dict[str, str], tokens: TokenStore | None
) -> dict[str, str]:
    """Credentials with the newest refresh token a previous run was handed, if any."""
    if tokens is None or "refresh_token" not in credentials:
        return credentials
    original = credentials["refresh_token"]
    return {
        **credentials,
        "refresh_token": tokens.current(platform, original),
        "_original_refresh_token": original,
    }


def _rotation_keeper(group: _Group, tokens: TokenStore | None):
    original = group.credentials.get("_original_refresh_token")
    if tokens is None or original is None:
        return None
    return lambda newest: tokens.rotated(group.source, original, newest)


def history_start(period: Period, months: int) -> date:
    """First day of the month ``months - 1`` months before ``period``'s last month."""
    month = Period.month(period.months()[-1])
    for _ in range(months - 1):
        month = month.previous()
    return month.start


async def sync(
    clients: Sequence[Client],
    lake: Lake,
    *,
    start: date,
    env: Mapping[str, str] | None = None,
    endpoints: Mapping[str, str] | None = None,
    transport=None,
    now: datetime | None = None,
    full: bool = False,
    progress: Progress | None = None,
    policy: RetryPolicy | None = None,
    assets: AssetStore | None = None,
    tokens: TokenStore | None = None,
) -> list[AccountSync]:
    """Fetch every configured account from ``start`` to yesterday, concurrently.

    Platforms run side by side; accounts sharing credentials share one connector. A platform
    that stays down or rate limited past its bounds marks its accounts stale and the others
    finish. ``endpoints`` maps a connector name to a base URL (the sandbox). With ``assets``,
    creatives' images are downloaded into that store; with ``tokens``, refresh tokens that a
    platform rotates are kept there for the next run.
    """
    now = now or datetime.now(UTC)
    results: list[AccountSync] = []
    groups: dict[tuple, _Group] = {}
    connectors_available = set(available())
    for client in clients:
        for account in client.accounts:
            if account.platform not in connectors_available:
                results.append(
                    AccountSync(
                        client.slug,
                        account.platform,
                        account.account_id,
                        "skipped",
                        message="no connector for this platform yet",
                    )
                )
                continue
            try:
                credentials = resolve_credentials(client, account, env)
            except ReportError as exc:
                results.append(
                    AccountSync(
                        client.slug,
                        account.platform,
                        account.account_id,
                        "failed",
                        message=str(exc),
                    )
                )
                continue
            credentials = _current_tokens(account.platform, credentials, tokens)
            key = (account.platform, tuple(sorted(credentials.items())))
            groups.setdefault(key, _Group(account.platform, credentials)).accounts.append(
                (client, account)
            )
    outcomes = await asyncio.gather(
        *(
            _sync_group(
                g,
                lake,
                start=start,
                now=now,
                full=full,
                progress=progress,
                base_url=(endpoints or {}).get(g.source),
                transport=transport,
                policy=policy,
                assets=assets,
                tokens=tokens,
            )
            for g in groups.values()
        )
    )
    return results + [r for group in outcomes for r in group]


async def _sync_group(
    group: _Group, lake: Lake, *, base_url, transport, policy, tokens, **options
) -> list[AccountSync]:
    async with get_connector(
        group.source,
        group.credentials,
        base_url=base_url,
        transport=transport,
        policy=policy,
        on_rotate=_rotation_keeper(group, tokens),
    ) as connector:
        outcomes = await asyncio.gather(
            *(
                _sync_account(connector, client, account, lake, **options)
                for client, account in group.accounts
            )
        )
        requests = connector.api.stats.requests
    return [AccountSync(**{**o.__dict__, "requests": requests}) for o in outcomes]


async def _sync_account(
    connector: Connector,
    client: Client,
    account: AccountConfig,
    lake: Lake,
    *,
    start: date,
    now: datetime,
    full: bool,
    progress: Progress | None,
    assets: AssetStore | None,
) -> AccountSync:
    label = f"{client.slug} · {account.platform} {account.account_id}"
    task = progress.add_task(label, total=None) if progress else None
    state = lake.state.get(client.slug, account.platform, account.account_id)
    done = {"windows": 0, "rows": 0}
    try:
        state = await _sync_windows(
            connector,
            client,
            account,
            lake,
            state,
            done,
            start=start,
            now=now,
            full=full,
            progress=progress,
            task=task,
        )
        notes = await _sync_creatives(connector, client, account, lake, assets)
        await asyncio.to_thread(lake.state.put, state.succeeded(connector.api_version, now))
        outcome = AccountSync(
            client.slug,
            account.platform,
            account.account_id,
            "ok",
            done["windows"],
            done["rows"],
            notes=tuple(notes),
        )
    except ReportError as exc:
        status = "stale" if isinstance(exc, PlatformUnavailable | RateLimited) else "failed"
        latest = lake.state.get(client.slug, account.platform, account.account_id)
        await asyncio.to_thread(lake.state.put, latest.failed(status, str(exc), now))
        outcome = AccountSync(
            client.slug,
            account.platform,
            account.account_id,
            status,
            done["windows"],
            done["rows"],
            message=str(exc),
        )
    if progress:
        total = progress.tasks[task].total or 1
        progress.update(task, completed=total, description=f"{label} [{outcome.status}]")
    return outcome


async def _sync_windows(
    connector, client, account, lake, state, done, *, start, now, full, progress, task
) -> AccountState:
    """Fetch and store each missing or re-read window; the state is committed after each."""
    info = await connector.account_info(account.account_id)
    lookback = account.lookback_days
    lookback = connector.lookback_days if lookback is None else lookback
    end = last_complete_day(info.timezone, now)
    windows = sync_windows(state, start=start, end=end, lookback_days=lookback, full=full)
    if progress:
        progress.update(task, total=len(windows) + 1)
    for window in windows:
        tables = {
            d: await connector.fetch(d, account.account_id, window.start, window.end)
            for d in connector.datasets
        }
        for dataset, table in tables.items():
            await asyncio.to_thread(
                lake.write_days,
                dataset,
                client.slug,
                account.platform,
                account.account_id,
                window,
                table,
            )
        state = state.with_covered(window.start, window.end)
        await asyncio.to_thread(lake.state.put, state)  # committed after the data
        done["rows"] += next(iter(tables.values())).num_rows
        done["windows"] += 1
        if progress:
            progress.advance(task)
    return state


async def _sync_creatives(connector, client, account, lake, assets) -> list[str]:
    """Store the account's creatives (and their images); returns notes on missing assets."""
    if not connector.has_creatives:
        return []
    creatives = await connector.fetch_creatives(account.account_id)
    notes: list[str] = []
    if assets is not None:
        creatives, notes = await retrieve_assets(creatives, assets, connector.http)
    await asyncio.to_thread(
        lake.merge, "creatives", client.slug, account.platform, account.account_id, creatives
    )
    return notes


def analyze(
    lake: Lake,
    client: Client,
    agency: Agency,
    period: Period,
    rates: RateTable,
    *,
    now: datetime | None = None,
) -> Report:
    """Compute one client's report for ``period`` from the lake (in its reporting currency)."""
    previous = period.previous()
    table = lake.read(
        "ad_performance", client=client.slug, period=Period.between(previous.start, period.end)
    )
    rows = table.to_pandas()
    if not rows.empty:
        rows = to_currency(rows, client.currency, rates)
        rows["platform"] = rows["platform"].map(lambda p: PLATFORM_LABELS.get(p, p))
    current = rows[(rows["date"] >= period.start) & (rows["date"] <= period.end)]
    before = rows[(rows["date"] >= previous.start) & (rows["date"] <= previous.end)]
    states = lake.state.all(client.slug)
    frames = (
        {
            "daily": overview.daily(current),
            "platforms": overview.by_platform(current),
            "campaigns": overview.by_campaign(current),
        }
        if not current.empty
        else {}
    )
    cards = overview.scorecards(
        current, before, targets=client.kpi_targets, custom=client.custom_kpis
    )
    summary = {
        "client": {"slug": client.slug, "name": client.name, "industry": client.industry},
        "agency": {"name": agency.name},
        "currency": client.currency,
        "period": _period_info(period),
        "previous": _period_info(previous),
        "generated_at": (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"),
        "cards": [c.as_dict() for c in cards],
        "platforms": sorted(current["platform"].unique().tolist()) if not current.empty else [],
        "campaign_count": int(current["campaign_id"].nunique()) if not current.empty else 0,
        "definitions": [{"label": k.label, "definition": k.definition} for k in KPIS.values()],
        "freshness": [_freshness(s) for s in states],
        "warnings": _warnings(client, states, period, current),
    }
    return Report(summary, frames)


def build(workspace: Workspace, client: Client, agency: Agency, period: Period) -> Path:
    """Build the site of one analysed client and period; returns its folder."""
    results = workspace.results(client.slug, period)
    return build_site(Report.load(results), client, agency, workspace.out, results)


def report(workspace: Workspace, slug: str, period: Period, now: datetime | None = None) -> Path:
    """Analyse and build one client's period (loads its own configuration, so it can run in a
    worker process); returns the site folder."""
    agency, (client,) = load_agency(workspace.content), load_clients(workspace.content, only=slug)
    rates = load_rates(workspace.content, agency)
    analysis = analyze(workspace.lake, client, agency, period, rates, now=now)
    analysis.save(workspace.results(client.slug, period))
    return build(workspace, client, agency, period)


def report_all(
    workspace: Workspace,
    slugs: Sequence[str],
    periods: Sequence[Period],
    *,
    jobs: int = 1,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> dict[tuple[str, str], Path]:
    """``report`` for every client and period; ``jobs`` > 1 spreads clients over processes.

    A client's periods run in order in one worker (their archive index is shared).
    """
    task = (
        progress.add_task("building report sites", total=len(slugs) * len(periods))
        if (progress)
        else None
    )
    done: dict[tuple[str, str], Path] = {}

    def finished(slug: str, sites: list[Path]) -> None:
        for period, site in zip(periods, sites, strict=True):
            done[(slug, period.label)] = site
        if progress:
            progress.advance(task, len(sites))

    if jobs <= 1 or len(slugs) <= 1:
        for slug in slugs:
            finished(slug, _report_periods(workspace, slug, list(periods), now))
        return done
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(_report_periods, workspace, s, list(periods), now): s for s in slugs}
        for future in as_completed(futures):
            finished(futures[future], future.result())
    return done


def _report_periods(workspace, slug, periods, now) -> list[Path]:
    return [report(workspace, slug, period, now) for period in periods]


@dataclass(frozen=True)
class DemoResult:
    sites: dict[str, Path]
    lake: Path
    period: Period
    sync: list[AccountSync]


def sync_sandbox(
    clients: Sequence[Client],
    lake: Lake,
    *,
    start: date,
    now: datetime | None = None,
    full: bool = False,
    progress: Progress | None = None,
    assets: AssetStore | None = None,
) -> list[AccountSync]:
    """``sync`` against the built-in sandbox, started on 127.0.0.1 for the duration."""
    from generator.sandbox import DEMO_ENVIRONMENT, PLATFORMS, World, create_app, serve

    now = now or datetime.now(UTC)
    world = World(end=now.date() - timedelta(days=1))
    with serve(create_app(world)) as sandbox:
        endpoints = {name: sandbox.base_url(name) for name in PLATFORMS}
        return asyncio.run(
            sync(
                clients,
                lake,
                start=start,
                env=DEMO_ENVIRONMENT,
                endpoints=endpoints,
                now=now,
                full=full,
                progress=progress,
                assets=assets,
            )
        )


def run_demo(
    out: Path,
    *,
    content: Path,
    today: date | None = None,
    progress: Progress | None = None,
    months: int = 2,
    jobs: int = 1,
) -> DemoResult:
    """Start the sandbox, sync the demo clients, and build their last ``months`` months."""
    now = datetime.combine(today, time(12), UTC) if today else datetime.now(UTC)
    workspace = Workspace(content=content, out=out)
    agency, clients = load_agency(content), load_clients(content)
    newest = last_complete_month(now.date())
    periods = [newest]
    while len(periods) < months:
        periods.insert(0, periods[0].previous())
    start = history_start(newest, agency.history_months)
    outcome = sync_sandbox(
        clients, workspace.lake, start=start, now=now, progress=progress, assets=workspace.assets
    )
    built = report_all(
        workspace, [c.slug for c in clients], periods, jobs=jobs, now=now, progress=progress
    )
    sites = {slug: path for (slug, label), path in built.items() if label == newest.label}
    return DemoResult(sites, out / "lake", newest, outcome)


def load_rates(content: Path, agency: Agency) -> RateTable:
    """The agency's exchange-rate table (an empty one if the file does not exist)."""
    path = Path(content) / agency.fx_rates
    if not path.exists():
        return RateTable(pd.DataFrame(columns=["date", "base", "quote", "rate"]))
    try:
        return RateTable(pd.read_csv(path))
    except (ValueError, OSError) as exc:
        raise ReportError(f"{path}: cannot read the exchange-rate table: {exc}") from exc


def _period_info(period: Period) -> dict[str, str]:
    title = (
        period.start.strftime("%B %Y")
        if period.is_month
        else (f"{period.start:%b %d, %Y} – {period.end:%b %d, %Y}")
    )
    return {
        "label": period.label,
        "title": title,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }


def _freshness(state: AccountState) -> dict[str, str | None]:
    return {
        "platform": PLATFORM_LABELS.get(state.source, state.source),
        "account": state.account_id,
        "synced_through": state.synced_through.isoformat() if state.synced_through else None,
        "last_success": state.last_success.strftime("%Y-%m-%d %H:%M UTC")
        if state.last_success
        else None,
        "status": {
            "ok": "up to date",
            "stale": "stale",
            "failed": "failed",
            "never": "never synced",
        }[state.status],
    }


def _warnings(
    client: Client, states: list[AccountState], period: Period, current: pd.DataFrame
) -> list[str]:
    out = []
    by_key = {(s.source, s.account_id): s for s in states}
    for account in client.accounts:
        state = by_key.get((account.platform, account.account_id))
        label = PLATFORM_LABELS.get(account.platform, account.platform)
        name = f"{label} account {account.account_id}"
        if state is None or state.status == "never":
            out.append(f"{name} has never been synced; its numbers are missing from this report.")
        elif state.status in ("stale", "failed"):
            out.append(
                f"{name} could not be refreshed on the last run ({state.message}); it "
                f"shows data through {state.synced_through or 'no date'}."
            )
        elif state.synced_through and state.synced_through < period.end:
            out.append(f"{name} has data only through {state.synced_through}.")
    if current.empty:
        out.append("No performance data was found for this period.")
    return out
