"""The sync stage: every configured account's platform data into the lake, concurrently."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pyarrow as pa
from rich.progress import Progress

from generator.config import AccountConfig, Agency, Client, resolve_credentials
from generator.connectors import (
    Connector,
    RetryPolicy,
    available,
    connector_class,
    get_connector,
    last_complete_day,
    sync_windows,
)
from generator.connectors.tokens import TokenStore
from generator.creatives import (
    AssetStore,
    Pruned,
    last_ran,
    prune,
    retrieve_assets,
    shown_by,
)
from generator.errors import JobTimedOut, PlatformUnavailable, RateLimited, ReportError
from generator.lake import AccountState, Lake
from generator.periods import last_complete_month
from generator.pipeline.workspace import Workspace, history_start

__all__ = ["AccountSync", "Assets", "download_exports", "prune_assets", "sync", "sync_sandbox"]

#: where creatives' images go: each client's own store (``Workspace.assets_of``), or one
#: store for every client (no retention at sync then: it holds other clients' images)
Assets = AssetStore | Callable[[str], AssetStore]


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


def _profile(client: Client) -> dict[str, str | None]:
    """What the lake records about a client for other clients' peer benchmarks: its industry
    and region, never its name."""
    return {"industry": client.industry, "region": client.region}


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
    assets: Assets | None = None,
    tokens: TokenStore | None = None,
    retention_days: int | None = None,
) -> list[AccountSync]:
    """Fetch every configured account from ``start`` to yesterday, concurrently.

    Platforms run side by side; accounts sharing credentials share one connector. A platform
    that stays down or rate limited past its bounds marks its accounts stale and the others
    finish. ``endpoints`` maps a connector name to a base URL (the sandbox). With ``assets``,
    creatives' images are downloaded into that store (see ``Assets``), and with
    ``retention_days`` too, each client synced without a failure then has the images of ads
    that have not run for that long removed (``prune_assets``); with ``tokens``, refresh
    tokens that a platform rotates are kept there for the next run.
    """
    now = now or datetime.now(UTC)
    results: list[AccountSync] = []
    groups: dict[tuple, _Group] = {}
    connectors_available = set(available())
    for client in clients:
        await asyncio.to_thread(lake.put_profile, client.slug, _profile(client))
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
            if not connector_class(account.platform).shared_across_clients:
                key += (client.slug,)
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
                env=os.environ if env is None else env,
            )
            for g in groups.values()
        )
    )
    done = results + [r for group in outcomes for r in group]
    if callable(assets) and retention_days is not None:
        done = await asyncio.to_thread(
            _retain, done, clients, lake, assets, retention_days, now.date()
        )
    return done


async def _sync_group(
    group: _Group, lake: Lake, *, base_url, transport, policy, tokens, **options
) -> list[AccountSync]:
    try:
        connector = get_connector(
            group.source,
            group.credentials,
            base_url=base_url,
            transport=transport,
            policy=policy,
            on_rotate=_rotation_keeper(group, tokens),
        )
    except ReportError as exc:  # credentials the platform cannot work with
        return [
            AccountSync(c.slug, a.platform, a.account_id, "failed", message=str(exc))
            for c, a in group.accounts
        ]
    async with connector:
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
    assets: Assets | None,
    env: Mapping[str, str],
) -> AccountSync:
    label = f"{client.slug} · {account.platform} {account.account_id}"
    task = progress.add_task(label, total=None) if progress else None
    state = lake.state.get(client.slug, account.platform, account.account_id)
    done = {"windows": 0, "rows": 0}
    try:
        connector.configure(client, account, env)
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
        notes = await _sync_creatives(connector, client, account, lake, assets, now.date())
        unresolved = connector.unresolved_in(account.account_id)
        notes += unresolved.describe(account.platform)
        state = state.with_unresolved(unresolved.as_dict())
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
        waiting = PlatformUnavailable | RateLimited | JobTimedOut
        status = "stale" if isinstance(exc, waiting) else "failed"
        latest = _with_pending(
            lake.state.get(client.slug, account.platform, account.account_id), connector
        )
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
    if connector.rereads_all:  # a local export: exactly the days it holds, every run
        span = await connector.coverage(account.account_id) or (end, start)
        start, end, full = max(start, span[0]), min(end, span[1]), True
    windows = sync_windows(state, start=start, end=end, lookback_days=lookback, full=full)
    connector.pending[account.account_id] = dict(state.pending)  # reports to resume
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
        state = _with_pending(state.with_covered(window.start, window.end), connector)
        await asyncio.to_thread(lake.state.put, state)  # committed after the data
        done["rows"] += next(iter(tables.values())).num_rows
        done["windows"] += 1
        if progress:
            progress.advance(task)
    return state


def _with_pending(state: AccountState, connector: Connector) -> AccountState:
    """``state`` with the account's report jobs still pending at the platform."""
    if state.account_id not in connector.pending:
        return state
    return replace(state, pending=dict(connector.pending[state.account_id]))


async def _sync_creatives(connector, client, account, lake, assets, today) -> list[str]:
    """Store the account's creatives (and their images, in the client's store); returns
    notes on missing assets. Every version fetched is seen on the sync's day (``today``)."""
    if not connector.has_creatives:
        return []
    creatives = _seen_on(await connector.fetch_creatives(account.account_id), today)
    notes: list[str] = []
    if assets is not None:
        store = assets(client.slug) if callable(assets) else assets
        creatives, notes = await retrieve_assets(
            creatives, store, connector.http, rights=client.creatives.rights
        )
    await asyncio.to_thread(
        lake.merge, "creatives", client.slug, account.platform, account.account_id, creatives
    )
    return notes


def _seen_on(creatives: pa.Table, day: date) -> pa.Table:
    """The creatives with ``first_seen`` and ``last_seen`` the sync's day (connectors stamp
    the wall clock's; a sync run for another day, as the demo's first, knows better)."""
    for name in ("first_seen", "last_seen"):
        index = creatives.schema.get_field_index(name)
        if index >= 0:
            column = pa.array([day] * creatives.num_rows, creatives.schema.field(name).type)
            creatives = creatives.set_column(index, creatives.schema.field(name), column)
    return creatives


def sync_sandbox(
    clients: Sequence[Client],
    lake: Lake,
    *,
    start: date,
    now: datetime | None = None,
    full: bool = False,
    progress: Progress | None = None,
    assets: Assets | None = None,
    retention_days: int | None = None,
) -> list[AccountSync]:
    """``sync`` against the built-in sandbox, started on 127.0.0.1 for the duration.

    The file exports of the demo clients are downloaded first into ``exports/`` next to the
    lake (``${CAMPAIGN_EXPORTS}`` in their client.yml), as an agency saves a vendor's files.
    """
    from generator.sandbox import DEMO_ENVIRONMENT, PLATFORMS, serve_process

    now = now or datetime.now(UTC)
    # absolute: a relative ${CAMPAIGN_EXPORTS} would resolve against each client's folder
    exports = (lake.root.parent / "exports").resolve()
    with serve_process(end=now.date() - timedelta(days=1), now=now) as sandbox:
        endpoints = {name: sandbox.base_url(name) for name in PLATFORMS}
        download_exports(clients, sandbox.base_url("file"), exports)
        return asyncio.run(
            sync(
                clients,
                lake,
                start=start,
                env={**DEMO_ENVIRONMENT, "CAMPAIGN_EXPORTS": str(exports)},
                endpoints=endpoints,
                now=now,
                full=full,
                progress=progress,
                assets=assets,
                retention_days=retention_days,
            )
        )


def _retain(
    outcome: list[AccountSync],
    clients: Sequence[Client],
    lake: Lake,
    stores: Callable[[str], AssetStore],
    retention_days: int,
    today: date,
) -> list[AccountSync]:
    """Apply retention to the store of each client whose accounts all synced (a failed or
    stale account's ads may have run since its last sync: the lake would not know), and to
    the shared store of older runs for the images only such clients show. What went is a
    note on the client's first account."""
    outcome, synced = list(outcome), []
    for client in clients:
        mine = [i for i, o in enumerate(outcome) if o.client == client.slug]
        ran = [outcome[i] for i in mine if outcome[i].status != "skipped"]
        if ran and all(o.status == "ok" for o in ran):
            synced.append(client.slug)
            [(_, pruned)] = prune_assets(lake, stores, [client.slug], retention_days, today)
            outcome[mine[0]] = _noted(outcome[mine[0]], pruned, retention_days)
    shared = stores(synced[0]).fallback if synced else None
    if shared is not None and shared.root.is_dir():
        others = {sha for sha, shown in shown_by(lake).items() if not shown <= set(synced)}
        options = {"retention_days": retention_days, "today": today, "keep": others}
        pruned = prune(shared, last_ran(lake), **options)
        first = next(i for i, o in enumerate(outcome) if o.client == synced[0])
        outcome[first] = _noted(outcome[first], pruned, retention_days)
    return outcome


def _noted(outcome: AccountSync, pruned: Pruned, retention_days: int) -> AccountSync:
    if not pruned.assets:
        return outcome
    note = (
        f"retention: {pruned.assets} creative image(s) ({pruned.bytes:,} bytes) of ads that "
        f"last ran more than {retention_days} days ago removed from {pruned.root}"
    )
    return replace(outcome, notes=(*outcome.notes, note))


def prune_assets(
    lake: Lake,
    stores: Callable[[str], AssetStore],
    clients: Sequence[str],
    retention_days: int,
    today: date,
    *,
    dry_run: bool = False,
    shared: AssetStore | None = None,
) -> list[tuple[str, Pruned]]:
    """Remove the images of ads that last ran more than ``retention_days`` before ``today``
    from each client's store, and from ``shared`` (the store every client used before each had
    its own) by what every client in the lake still shows. Returns (client or "shared", what
    went) for each store; ``dry_run`` removes nothing and says what would go."""
    options = {"retention_days": retention_days, "today": today, "dry_run": dry_run}
    done = [(slug, prune(stores(slug), last_ran(lake, slug), **options)) for slug in clients]
    if shared is not None:
        done.append(("shared", prune(shared, last_ran(lake), **options)))
    return done


def download_exports(clients: Sequence[Client], base_url: str, folder: Path) -> list[Path]:
    """Save each ``file`` account's export from the sandbox as ``folder/<client>/<file>``."""
    saved = []
    with httpx.Client(timeout=60) as http:
        for client in clients:
            for account in client.accounts:
                if account.file is None:
                    continue
                name = Path(account.file.path).name
                response = http.get(f"{base_url}/exports/{client.slug}/{name}")
                if response.status_code != 200:
                    continue  # not a demo export: the sync reports the missing file
                target = folder / client.slug / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(response.content)
                saved.append(target)
    return saved


def sync_workspace(
    workspace: Workspace,
    agency: Agency,
    clients: Sequence[Client],
    now: datetime,
    *,
    sandbox: bool = False,
    full: bool = False,
    progress: Progress | None = None,
) -> list[AccountSync]:
    """``sync`` (or ``sync_sandbox``) of ``clients`` into the workspace's lake, over the
    agency's history window, storing creatives' images and applying their retention."""
    start = history_start(last_complete_month(now.date()), agency.history_months)
    options = {
        "start": start,
        "now": now,
        "full": full,
        "progress": progress,
        "assets": workspace.assets_of,
        "retention_days": agency.creatives.retention_days,
    }
    if sandbox:
        return sync_sandbox(clients, workspace.lake, **options)
    return asyncio.run(sync(clients, workspace.lake, tokens=TokenStore(), **options))
