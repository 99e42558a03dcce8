"""KPIs at time grains, DuckDB rollups (same numbers as pandas) and period deltas."""

from datetime import UTC, date, datetime

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from generator.analytics.currency import RateTable, to_currency
from generator.analytics.kpis import TIME_GRAINS, compute, deltas, rollup_sql, rollups
from generator.errors import ReportError
from generator.lake import Lake
from generator.periods import Period
from generator.schema import AD_PERFORMANCE, from_rows

GRAINS = {
    "day": ["date"],
    "campaign": ["platform", "campaign_id"],
    "platform": ["platform"],
    "month": ["month"],
}


def rows(n=400, seed=3, currencies=("USD",)):
    rng = np.random.default_rng(seed)
    campaign = rng.integers(0, 6, n)
    return pd.DataFrame(
        {
            "date": [date(2026, 9, 20) + pd.Timedelta(days=int(d)) for d in rng.integers(0, 30, n)],
            "platform": np.array(["google_ads", "facebook", "tiktok"])[campaign % 3],
            "account_id": (campaign % 3).astype(str),
            "campaign_id": np.char.add("c", campaign.astype(str)),
            "currency": np.array(currencies)[campaign % len(currencies)],
            "impressions": rng.integers(0, 5000, n),
            "clicks": rng.integers(0, 60, n),
            "spend_micros": rng.integers(0, 90_000_000, n),
            "conversions": rng.integers(0, 4, n) * 0.5,
            "value_micros": rng.integers(0, 400_000_000, n),
        }
    )


def assert_same(left: pd.DataFrame, right: pd.DataFrame, rtol: float = 1e-12):
    pd.testing.assert_frame_equal(
        left.reset_index(drop=True), right.reset_index(drop=True), check_dtype=False, rtol=rtol
    )


@pytest.mark.parametrize(
    ("grain", "expected"),
    [
        ("week", [date(2026, 9, 28), date(2026, 9, 28), date(2026, 10, 5)]),
        ("month", ["2026-09", "2026-10", "2026-10"]),
        ("quarter", ["2026-Q3", "2026-Q4", "2026-Q4"]),
        ("year", [2026, 2026, 2026]),
    ],
)
def test_time_grains_are_derived_from_the_date(grain, expected):
    days = [date(2026, 9, 30), date(2026, 10, 4), date(2026, 10, 5)]
    frame = pd.DataFrame({"date": days, "clicks": [1, 2, 4], "impressions": [10, 10, 10]})
    out = compute(frame, by=[grain], kpis=["ctr"], components=True)
    groups = sorted(set(expected))
    assert out[grain].tolist() == groups
    assert out["clicks"].sum() == 7
    assert set(TIME_GRAINS) == {"week", "month", "quarter", "year"}


def test_an_existing_column_wins_over_a_derived_grain_and_dates_are_needed():
    frame = rows().assign(month="all")
    assert compute(frame, by=["month"])["month"].tolist() == ["all"]
    with pytest.raises(ReportError, match="cannot group by 'month'"):
        compute(rows().drop(columns=["date"]), by=["month"])
    with pytest.raises(ReportError, match="a row has no date"):
        compute(rows().assign(date=None), by=["week"])


@pytest.mark.parametrize("kind", ["frame", "arrow", "connection", "function"])
def test_rollups_give_the_same_numbers_as_compute(kind):
    frame = rows()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    con = duckdb.connect()
    con.register("ad_performance", table)
    data = {
        "frame": frame,
        "arrow": table,
        "connection": con,
        "function": lambda sql, params: con.sql(sql, params=params).to_arrow_table(),
    }[kind]
    out = rollups(data, GRAINS, components=True, custom={"profit": "value - spend"})
    for name, by in GRAINS.items():
        expected = compute(frame, by, components=True, custom={"profit": "value - spend"})
        assert_same(out[name], expected)


def test_rollups_run_over_the_lake(tmp_path):
    frame = rows(60)
    lake = Lake(tmp_path)
    stamp = datetime(2026, 10, 30, tzinfo=UTC)
    for account, part in frame.groupby("account_id"):
        records = [
            {
                **r,
                "source": r["platform"],
                "account_timezone": "UTC",
                "ad_id": "ad",
                "fetched_at": stamp,
                "api_version": "v1",
            }
            for r in part.to_dict("records")
        ]
        period = Period.between(date(2026, 9, 20), date(2026, 10, 19))
        source = part["platform"].iloc[0]
        lake.write_days(
            "ad_performance", "acme", source, account, period, from_rows(records, AD_PERFORMANCE)
        )
    out = rollups(lake.query, GRAINS, ["roas", "cpa"], where="client = ?", params=["acme"])
    for name, by in GRAINS.items():
        assert_same(out[name], compute(frame, by, ["roas", "cpa"]))


def test_rollups_convert_currency_before_summing():
    frame = rows(currencies=("USD", "EUR"))
    rates = RateTable(
        pd.DataFrame({"date": ["2026-09-01"], "base": ["EUR"], "quote": ["USD"], "rate": [1.1]})
    )
    out = rollups(frame, GRAINS, currency="USD", rates=rates)
    converted = to_currency(frame, "USD", rates)
    for name, by in GRAINS.items():
        # to_currency rounds each row to whole micros, the rollup each day's sum: the two
        # differ by rounding only (under a micro per row)
        assert_same(out[name], compute(converted, by), rtol=1e-7)
    with pytest.raises(ReportError, match="mix currencies"):
        rollups(frame, {"all": []})
    by_currency = rollups(frame, {"c": ["currency"]}, ["roas"])["c"]
    assert by_currency["currency"].tolist() == ["EUR", "USD"]


def test_rollups_without_value_convert_spend_only():
    frame = rows().drop(columns=["value_micros"])
    rates = RateTable(
        pd.DataFrame({"date": ["2026-01-01"], "base": ["USD"], "quote": ["EUR"], "rate": [0.5]})
    )
    out = rollups(frame, {"all": []}, ["cpc"], currency="EUR", rates=rates, components=True)
    assert out["all"]["spend"].iloc[0] == pytest.approx(frame["spend_micros"].sum() / 2e6)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: rollups(f, {"x": ["region"]}), "cannot group by 'region'"),
        (lambda f: rollups(f, {"x": []}, currency="USD"), "give both currency and rates"),
        (lambda f: rollups([1, 2], {"x": []}), "not list"),
        (lambda f: rollups(f[["date"]], {"x": []}), "none of the KPI components"),
        (lambda f: rollups(f, {"x": []}, source="ad; drop"), "not a plain"),
        (lambda f: rollups(f, {"x": []}, where="nonsense = 1"), "the KPI query failed"),
        (lambda f: rollups(f, {"x": []}, ["roi"]), "unknown KPI 'roi'"),
        (lambda f: rollup_sql(["a b"], ["clicks"]), "'a b' is not a plain"),
    ],
)
def test_rollup_errors_are_clear(call, message):
    with pytest.raises(ReportError, match=message):
        call(rows())


def test_rollup_sql_text():
    assert rollup_sql([], ["clicks", "conversions"]) == (
        'SELECT CAST(COALESCE(SUM("clicks"), 0) AS BIGINT) AS "clicks", '
        'CAST(COALESCE(SUM("conversions"), 0) AS DOUBLE) AS "conversions" FROM "ad_performance"'
    )
    sql = rollup_sql(["date"], ["clicks"], source="t", where="date > ?")
    assert sql.endswith('FROM "t" WHERE date > ? GROUP BY ALL')


def test_deltas_compare_periods_group_by_group():
    now = pd.DataFrame(
        {
            "platform": ["a", "b"],
            "clicks": [20, 5],
            "impressions": [100, 50],
            "spend_micros": [10_000_000, 0],
        }
    )
    before = pd.DataFrame(
        {"platform": ["a", "c"], "clicks": [10, 1], "impressions": [100, 0], "spend_micros": [0, 1]}
    )
    out = deltas(now, before, ["platform"], ["ctr", "cpc"]).set_index("platform")
    assert out.loc["a", "clicks_change"] == pytest.approx(1.0)
    assert out.loc["a", "ctr"] == pytest.approx(0.2) and out.loc["a", "ctr_previous"] == 0.1
    assert out.loc["a", "ctr_change"] == pytest.approx(1.0)
    assert pd.isna(out.loc["a", "spend_change"])  # previous spend 0
    assert pd.isna(out.loc["b", "clicks_previous"]) and pd.isna(out.loc["c", "clicks"])
    total = deltas(now, before, kpis=["ctr"])
    assert list(total.columns[:3]) == ["impressions", "impressions_previous", "impressions_change"]
    assert total["clicks_change"].iloc[0] == pytest.approx(25 / 11 - 1)


def test_query_functions_may_answer_with_frames_and_fail_clearly():
    frame = rows()
    con = duckdb.connect()
    con.register("ad_performance", frame)
    out = rollups(lambda sql, params: con.sql(sql, params=params).df(), {"p": ["platform"]})
    assert_same(out["p"], compute(frame, ["platform"]))
    with pytest.raises(ReportError, match="the KPI query failed"):
        rollups(lambda sql, params: con.sql(sql, params=params).df(), {"p": []}, source="nope")


def test_negative_components_are_refused():
    broken = rows().assign(clicks=lambda f: f["clicks"].where(f.index != 3, -2))
    with pytest.raises(ReportError, match=r"clicks is negative in row 3 \(-2\)"):
        compute(broken, ["platform"])
    with_missing = rows().assign(video_views=pd.array([None, 5] * 200, dtype="Int64"))
    assert compute(with_missing, components=True)["video_views"].iloc[0] == 1000
