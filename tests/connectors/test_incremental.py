from datetime import UTC, date, datetime

from generator.connectors import last_complete_day, sync_windows
from generator.lake import AccountState


def spans(windows):
    return [(w.start.isoformat(), w.end.isoformat()) for w in windows]


def test_first_run_fetches_everything_month_by_month():
    windows = sync_windows(
        AccountState("c", "s", "a"),
        start=date(2026, 9, 15),
        end=date(2026, 11, 3),
        lookback_days=14,
    )
    assert spans(windows) == [
        ("2026-09-15", "2026-09-30"),
        ("2026-10-01", "2026-10-31"),
        ("2026-11-01", "2026-11-03"),
    ]


def test_daily_run_rereads_the_lookback_window():
    state = AccountState("c", "s", "a").with_covered(date(2026, 5, 1), date(2026, 11, 22))
    windows = sync_windows(state, start=date(2026, 5, 1), end=date(2026, 11, 23), lookback_days=14)
    assert spans(windows) == [("2026-11-09", "2026-11-23")]
    assert spans(
        sync_windows(state, start=date(2026, 5, 1), end=date(2026, 11, 23), lookback_days=0)
    ) == [("2026-11-23", "2026-11-23")]


def test_a_resumed_run_fetches_only_what_is_missing_plus_the_lookback():
    state = AccountState("c", "s", "a").with_covered(date(2026, 5, 1), date(2026, 7, 31))
    windows = sync_windows(state, start=date(2026, 5, 1), end=date(2026, 9, 30), lookback_days=3)
    assert spans(windows) == [
        ("2026-07-29", "2026-07-31"),
        ("2026-08-01", "2026-08-31"),
        ("2026-09-01", "2026-09-30"),
    ]


def test_full_refetches_and_an_empty_range():
    state = AccountState("c", "s", "a").with_covered(date(2026, 5, 1), date(2026, 6, 30))
    assert (
        len(
            sync_windows(
                state, start=date(2026, 5, 1), end=date(2026, 6, 30), lookback_days=7, full=True
            )
        )
        == 2
    )
    assert sync_windows(state, start=date(2026, 7, 1), end=date(2026, 6, 30), lookback_days=7) == []


def test_yesterday_depends_on_the_account_time_zone():
    instant = datetime(2026, 11, 24, 3, 30, tzinfo=UTC)  # 24th in Berlin, 23rd in Los Angeles
    assert last_complete_day("Europe/Berlin", instant) == date(2026, 11, 23)
    assert last_complete_day("America/Los_Angeles", instant) == date(2026, 11, 22)
