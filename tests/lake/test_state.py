from datetime import UTC, date, datetime

from generator.lake import AccountState, StateStore


def test_covered_ranges_merge_and_gaps():
    state = AccountState("acme", "google_ads", "1")
    assert state.synced_through is None
    state = state.with_covered(date(2026, 5, 1), date(2026, 5, 31))
    state = state.with_covered(date(2026, 6, 1), date(2026, 6, 10))  # adjacent: merged
    state = state.with_covered(date(2026, 7, 1), date(2026, 7, 5))
    assert state.covered == (
        (date(2026, 5, 1), date(2026, 6, 10)),
        (date(2026, 7, 1), date(2026, 7, 5)),
    )
    assert state.synced_through == date(2026, 7, 5)
    assert state.missing(date(2026, 4, 25), date(2026, 7, 10)) == [
        (date(2026, 4, 25), date(2026, 4, 30)),
        (date(2026, 6, 11), date(2026, 6, 30)),
        (date(2026, 7, 6), date(2026, 7, 10)),
    ]
    assert state.missing(date(2026, 5, 2), date(2026, 5, 3)) == []


def test_store_round_trip_and_status(tmp_path):
    store = StateStore(tmp_path)
    assert store.get("acme", "meta", "act_1").status == "never"
    now = datetime(2026, 11, 1, 8, tzinfo=UTC)
    state = AccountState("acme", "meta", "act_1").with_covered(
        date(2026, 10, 1), date(2026, 10, 31)
    )
    store.put(state.succeeded("v25.0", now))
    loaded = store.get("acme", "meta", "act_1")
    assert loaded.status == "ok" and loaded.last_success == now and loaded.api_version == "v25.0"
    assert loaded.covered == ((date(2026, 10, 1), date(2026, 10, 31)),)
    store.put(loaded.failed("stale", "HTTP 503", now))
    again = store.get("acme", "meta", "act_1")
    assert again.status == "stale" and again.message == "HTTP 503" and again.last_success == now
    assert [s.account_id for s in store.all("acme")] == ["act_1"]
    assert store.all("nobody") == []


def test_unresolved_entities_accumulate_bounded_and_round_trip(tmp_path):
    state = AccountState("acme", "linkedin", "5").with_unresolved({"campaign": ["9", "8"]})
    state = state.with_unresolved({"campaign": ["8", "7"], "ad": ["42"]})
    assert state.unresolved == {"campaign": ["9", "8", "7"], "ad": ["42"]}
    assert state.with_unresolved({"ad": [str(i) for i in range(300)]}, keep=5).unresolved["ad"] == [
        "295",
        "296",
        "297",
        "298",
        "299",
    ]  # the newest are kept
    store = StateStore(tmp_path)
    store.put(state)
    assert store.get("acme", "linkedin", "5").unresolved == state.unresolved
