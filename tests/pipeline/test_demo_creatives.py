"""The demo's creatives: synced four weeks apart, so the changed ones have two versions, seen
on the days of the syncs (issue 16)."""

from datetime import date, timedelta

from generator.lake import Lake
from generator.pipeline.demo import EARLIER_SYNC

from ..conftest import TODAY


def test_changed_creatives_have_versions_dated_by_the_syncs(demo_run):
    _, out = demo_run
    today = date.fromisoformat(TODAY)
    earlier = today - EARLIER_SYNC
    rows = (
        Lake(out / "lake")
        .query(
            "SELECT platform, creative_id, version, first_seen, last_seen, format FROM creatives"
        )
        .to_pylist()
    )
    by_creative: dict[tuple, list[dict]] = {}
    for row in rows:
        by_creative.setdefault((row["platform"], row["creative_id"]), []).append(row)
    changed = [sorted(v, key=lambda r: r["first_seen"]) for v in by_creative.values() if len(v) > 1]
    assert len(changed) >= 10  # search copy rewritten, pictures swapped
    assert {v[0]["platform"] for v in changed} >= {"google_ads", "microsoft_ads", "facebook"}
    for old, new in (v[:2] for v in changed):
        assert (old["first_seen"], old["last_seen"]) == (earlier, earlier)
        assert (new["first_seen"], new["last_seen"]) == (today, today)
    kept = [v[0] for v in by_creative.values() if len(v) == 1]
    assert kept and all(
        (r["first_seen"], r["last_seen"]) in {(earlier, today), (today, today)} for r in kept
    )
    formats = {r["format"] for r in rows}
    assert {"image", "video", "carousel", "text"} <= formats
    assert today - earlier == timedelta(days=28)
