"""Retention: a creative's stored image goes once its ad has not run for ``retention_days``.

When an ad last ran is the latest of: the day its creative was first seen (``first_seen``,
and ``last_seen`` where the lake has it) and the last day the ad had impressions in the lake.
An asset shared by several creatives stays while any of them ran within the window. An asset
no creative in the lake names (a newer copy of a stored one, say) counts from the newest
``fetched_at`` of its manifest, or from its file's date.

Pruning deletes the image and its thumbnail and keeps the manifest, marked ``removed`` (see
``manifest.removed``); it never touches the lake, so the report still lists the ad and says
why its image is gone.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from generator.creatives.manifest import removed
from generator.creatives.store import AssetStore, StoredAsset
from generator.lake import Lake
from generator.schema import CREATIVES

__all__ = ["Pruned", "last_ran", "prune", "shown_by"]


@dataclass(frozen=True)
class Pruned:
    """What pruning one store removed (or, on a dry run, would remove)."""

    root: Path
    assets: int
    files: int
    bytes: int
    kept: int
    dry_run: bool


def last_ran(lake: Lake, client: str | None = None) -> dict[str, date]:
    """Asset hash -> the last day an ad showing it ran (or its creative was seen), over the
    lake's creatives of ``client`` (every client's when None)."""
    seen = "c.last_seen, " if "last_seen" in CREATIVES.names else ""
    sql = f"""
        WITH ran AS (
            SELECT client, account_id, ad_id, max(date) AS day FROM ad_performance
            WHERE impressions > 0 GROUP BY ALL
        )
        SELECT c.asset_sha256 AS sha,
               max(greatest(c.first_seen, {seen}coalesce(r.day, c.first_seen))) AS day
        FROM creatives c LEFT JOIN ran r
          ON r.client = c.client AND r.account_id = c.account_id
         AND r.ad_id = coalesce(c.ad_id, c.creative_id)
        WHERE c.asset_sha256 IS NOT NULL
        GROUP BY 1
    """
    rows = lake.query(sql, client=client).to_pylist()
    return {r["sha"]: r["day"] for r in rows if r["day"] is not None}


def shown_by(lake: Lake) -> dict[str, set[str]]:
    """Asset hash -> the clients whose creatives in the lake name it."""
    rows = lake.query(
        "SELECT DISTINCT asset_sha256 AS sha, client FROM creatives WHERE asset_sha256 IS NOT NULL"
    ).to_pylist()
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row["sha"], set()).add(row["client"])
    return found


def prune(
    store: AssetStore,
    ran: Mapping[str, date],
    *,
    retention_days: int,
    today: date,
    dry_run: bool = False,
    keep: Collection[str] = (),
) -> Pruned:
    """Remove the assets of ``store`` whose ads last ran more than ``retention_days`` before
    ``today`` (``ran``: see ``last_ran``), but none of ``keep``. Nothing of the store's
    fallback is touched.

    Returns:
        how many assets, files and bytes went (would go, with ``dry_run``), how many stayed.
    """
    cutoff = today - timedelta(days=retention_days)
    assets = files = freed = kept = 0
    for asset in store.assets():
        if not asset.images:
            continue  # removed before: only its manifest is left
        day = ran.get(asset.sha) or _fetched(store, asset)
        if day >= cutoff or asset.sha in keep:
            kept += 1
            continue
        assets, files = assets + 1, files + len(asset.images)
        if dry_run:
            freed += asset.image_bytes
        else:
            freed += _remove(store, asset, today, retention_days, ran.get(asset.sha))
    return Pruned(store.root, assets, files, freed, kept, dry_run)


def _remove(
    store: AssetStore, asset: StoredAsset, today: date, retention_days: int, day: date | None
) -> int:
    freed = store.remove_images(asset)
    note = removed(
        store.manifest(asset.sha), sha=asset.sha, on=today, retention_days=retention_days,
        last_ran=day,
    )  # fmt: skip
    store.put_manifest(asset.sha, note)
    return freed


def _fetched(store: AssetStore, asset: StoredAsset) -> date:
    """When an asset no creative names was last fetched: its manifest's newest
    ``fetched_at``, else the day its newest file was written."""
    stamps = [s.get("fetched_at") for s in (store.manifest(asset.sha) or {}).get("sources", [])]
    days = [_day(s) for s in stamps if isinstance(s, str)]
    days = [d for d in days if d is not None]
    if days:
        return max(days)
    newest = max((f.stat().st_mtime for f in asset.files if f.exists()), default=0.0)
    return datetime.fromtimestamp(newest, UTC).date()


def _day(stamp: str) -> date | None:
    try:
        return datetime.fromisoformat(stamp).date()
    except ValueError:
        return None
