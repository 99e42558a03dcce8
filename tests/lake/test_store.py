import threading
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from generator import schema
from generator.errors import LakeError, SchemaError
from generator.lake import Lake, files, store
from generator.periods import Period

FETCHED = datetime(2026, 11, 1, tzinfo=UTC)


def perf(days, *, source="google_ads", account="111", impressions=100, ads=("a1", "a2")):
    rows = [
        {
            "date": day,
            "platform": source,
            "source": source,
            "account_id": account,
            "account_timezone": "UTC",
            "currency": "USD",
            "campaign_id": "c1",
            "ad_id": ad,
            "impressions": impressions,
            "clicks": 3,
            "spend_micros": 2_000_000,
            "conversions": 1.0,
            "value_micros": 9_000_000,
            "fetched_at": FETCHED,
            "api_version": "v1",
        }
        for day in days
        for ad in ads
    ]
    return schema.from_rows(rows, schema.AD_PERFORMANCE)


def days(first, last):
    return [first + timedelta(n) for n in range((last - first).days + 1)]


def totals(lake, where=""):
    sql = "SELECT count(*) AS n, sum(impressions)::BIGINT AS imp FROM ad_performance " + where
    row = lake.query(sql).to_pylist()[0]
    return row["n"], row["imp"] or 0


OCT = Period.month("2026-10")
SPAN = Period.between(date(2026, 9, 20), date(2026, 10, 10))


def test_write_read_and_query(tmp_path):
    lake = Lake(tmp_path)
    result = lake.write_days(
        "ad_performance", "acme", "google_ads", "111", OCT, perf(days(OCT.start, OCT.end))
    )
    assert result.rows == 62
    assert totals(lake) == (62, 6200)
    read = lake.read("ad_performance", client="acme", period=Period.between(OCT.start, OCT.start))
    assert read.num_rows == 2 and read.schema.names == schema.AD_PERFORMANCE.names
    by_partition = lake.query(
        "SELECT client, month, count(*) AS n FROM ad_performance GROUP BY ALL"
    )
    assert by_partition.to_pylist() == [{"client": "acme", "month": "2026-10", "n": 62}]
    assert lake.clients() == ["acme"]


def test_writing_the_same_days_twice_leaves_one_copy(tmp_path):
    lake = Lake(tmp_path)
    table = perf(days(SPAN.start, SPAN.end))
    for _ in range(2):
        lake.write_days("ad_performance", "acme", "google_ads", "111", SPAN, table)
    assert totals(lake) == (42, 4200)


def test_a_range_replaces_exactly_its_days(tmp_path):
    lake = Lake(tmp_path)
    lake.write_days(
        "ad_performance", "acme", "google_ads", "111", OCT, perf(days(OCT.start, OCT.end))
    )
    lake.write_days(
        "ad_performance",
        "acme",
        "meta",
        "act_9",
        OCT,
        perf(days(OCT.start, OCT.end), source="meta", account="act_9"),
    )
    lake.write_days(
        "ad_performance", "beta", "google_ads", "111", OCT, perf(days(OCT.start, OCT.end))
    )
    restated = Period.between(date(2026, 10, 25), date(2026, 10, 31))
    # the platform now reports 500 impressions for the last week, and nothing on the 31st
    lake.write_days(
        "ad_performance",
        "acme",
        "google_ads",
        "111",
        restated,
        perf(days(restated.start, date(2026, 10, 30)), impressions=500),
    )
    acme_google = "WHERE client = 'acme' AND source = 'google_ads'"
    assert totals(lake, acme_google) == (24 * 2 + 6 * 2, 24 * 200 + 6 * 1000)
    assert totals(lake, "WHERE client = 'acme' AND source = 'meta'") == (62, 6200)
    assert totals(lake, "WHERE client = 'beta'") == (62, 6200)


def test_a_range_across_months_updates_both(tmp_path):
    lake = Lake(tmp_path)
    lake.write_days(
        "ad_performance", "acme", "google_ads", "111", SPAN, perf(days(SPAN.start, SPAN.end))
    )
    months = lake.query("SELECT month, count(*) AS n FROM ad_performance GROUP BY 1 ORDER BY 1")
    assert months.to_pylist() == [{"month": "2026-09", "n": 22}, {"month": "2026-10", "n": 20}]
    # an empty answer for the whole span removes its files
    lake.write_days("ad_performance", "acme", "google_ads", "111", SPAN, perf([]))
    assert totals(lake) == (0, 0)
    assert not list((tmp_path / "ad_performance").rglob("*.parquet"))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (perf([date(2026, 11, 1)]), "lies outside the period"),
        (perf([date(2026, 10, 1)], source="meta"), "source 'meta' was written as 'google_ads'"),
        (perf([date(2026, 10, 1)], account="222"), "account_id '222' was written as '111'"),
    ],
)
def test_rows_that_do_not_belong_are_refused(tmp_path, table, message):
    lake = Lake(tmp_path)
    with pytest.raises(LakeError, match=message):
        lake.write_days("ad_performance", "acme", "google_ads", "111", OCT, table)
    assert totals(lake) == (0, 0)


def test_bad_tables_and_names_are_refused(tmp_path):
    lake = Lake(tmp_path)
    bad = perf([date(2026, 10, 1)]).drop_columns(["ad_id"])
    with pytest.raises(SchemaError):
        lake.write_days("ad_performance", "acme", "google_ads", "111", OCT, bad)
    with pytest.raises(LakeError, match="not valid"):
        lake.write_days("ad_performance", "../etc", "google_ads", "111", OCT, perf([]))
    with pytest.raises(LakeError, match="not a dated dataset"):
        lake.write_days("creatives", "acme", "google_ads", "111", OCT, perf([]))
    with pytest.raises(LakeError, match="unknown dataset"):
        lake.read("nope")
    with pytest.raises(LakeError, match="query failed"):
        lake.query("SELECT nonsense FROM ad_performance")


def test_a_crash_while_staging_leaves_the_previous_state(tmp_path, monkeypatch):
    lake = Lake(tmp_path)
    lake.write_days(
        "ad_performance", "acme", "google_ads", "111", SPAN, perf(days(SPAN.start, SPAN.end))
    )
    real, calls = store._write_parquet, []

    def dies_on_second_file(table, path):
        calls.append(path)
        if len(calls) == 2:
            path.write_bytes(b"PAR1 half a file")
            raise OSError("disk full")
        real(table, path)

    monkeypatch.setattr(store, "_write_parquet", dies_on_second_file)
    with pytest.raises(LakeError, match="disk full"):
        lake.write_days(
            "ad_performance",
            "acme",
            "google_ads",
            "111",
            SPAN,
            perf(days(SPAN.start, SPAN.end), impressions=7),
        )
    assert totals(lake) == (42, 4200)
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_crash_after_the_journal_is_rolled_forward(tmp_path, monkeypatch):
    lake = Lake(tmp_path)
    lake.write_days(
        "ad_performance", "acme", "google_ads", "111", SPAN, perf(days(SPAN.start, SPAN.end))
    )

    def killed(journal):
        raise KeyboardInterrupt  # the process dies between the journal and the renames

    monkeypatch.setattr(files, "_roll_forward", killed)
    with pytest.raises(KeyboardInterrupt):
        lake.write_days(
            "ad_performance",
            "acme",
            "google_ads",
            "111",
            SPAN,
            perf(days(SPAN.start, SPAN.end), impressions=7),
        )
    monkeypatch.undo()
    assert list((tmp_path / "_journal" / "acme").glob("*.json"))
    reopened = Lake(tmp_path)  # the next run finishes the commit
    assert totals(reopened) == (42, 42 * 7)
    assert not list((tmp_path / "_journal" / "acme").glob("*.json"))
    assert not list(tmp_path.rglob("*.tmp"))


def test_orphan_temporaries_are_never_read_and_are_swept(tmp_path):
    lake = Lake(tmp_path)
    lake.write_days(
        "ad_performance", "acme", "google_ads", "111", OCT, perf(days(OCT.start, OCT.end))
    )
    folder = next((tmp_path / "ad_performance").rglob("month=2026-10"))
    orphan = files.temp_path(folder / "google_ads--111.parquet")
    orphan.write_bytes(b"half written")
    assert totals(lake) == (62, 6200)  # a reader does not see it
    Lake(tmp_path)
    assert not orphan.exists()


def test_an_unreadable_journal_is_dropped(tmp_path):
    journal = tmp_path / "_journal" / "acme"
    journal.mkdir(parents=True)
    (journal / "x.json").write_text("{not json")
    (tmp_path / "_state" / "acme").mkdir(parents=True)
    Lake(tmp_path)
    assert not list(journal.glob("*.json"))


def test_concurrent_writers_of_different_accounts(tmp_path):
    lake = Lake(tmp_path)
    errors = []

    def write(account):
        try:
            for _ in range(3):
                lake.write_days(
                    "ad_performance",
                    "acme",
                    "google_ads",
                    account,
                    OCT,
                    perf(days(OCT.start, OCT.end), account=account),
                )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(str(n),)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert totals(lake) == (4 * 62, 4 * 6200)


def test_unsafe_account_ids_become_hashed_file_names(tmp_path):
    lake = Lake(tmp_path)
    weird = "../../etc/passwd"
    lake.write_days(
        "ad_performance",
        "acme",
        "google_ads",
        weird,
        OCT,
        perf(days(OCT.start, OCT.start), account=weird),
    )
    names = [p.name for p in tmp_path.rglob("*.parquet")]
    assert len(names) == 1 and names[0].startswith("google_ads--h") and "passwd" not in names[0]
    assert lake.read("ad_performance").column("account_id")[0].as_py() == weird


def _creative(creative, version, name, seen=date(2026, 10, 1), **extra):
    return {
        "platform": "google_ads",
        "source": "google_ads",
        "account_id": "111",
        "creative_id": creative,
        "version": version,
        "format": "text",
        "name": name,
        "first_seen": seen,
        "fetched_at": FETCHED,
        "api_version": "v1",
        **extra,
    }


def test_merge_adds_new_versions_and_updates_known_ones(tmp_path):
    lake = Lake(tmp_path)
    first = [
        _creative("1", "v1", "old", asset_sha256="a" * 64, phash="ff00ff00ff00ff00"),
        _creative("2", "v1", "b"),
    ]
    lake.merge("creatives", "acme", "google_ads", "111", schema.from_rows(first, schema.CREATIVES))
    later = [
        # seen again a month on: the image could not be fetched this time
        _creative("1", "v1", "seen again", date(2026, 11, 1)),
        _creative("1", "v2", "new copy", date(2026, 11, 1), cards=[{"headline": "card 1"}]),
        # an image that failed before is there now
        _creative("2", "v1", "b", date(2026, 11, 1), asset_sha256="b" * 64),
    ]
    lake.merge("creatives", "acme", "google_ads", "111", schema.from_rows(later, schema.CREATIVES))
    rows = lake.query(
        "SELECT creative_id, version, name, first_seen, last_seen, asset_sha256, phash, cards"
        " FROM creatives ORDER BY 1, 2"
    ).to_pylist()
    oct1, nov1 = date(2026, 10, 1), date(2026, 11, 1)
    card = {"headline": "card 1", "body": None, "landing_url": None, "asset_url": None}
    assert rows == [
        {"creative_id": "1", "version": "v1", "name": "seen again", "first_seen": oct1,
         "last_seen": nov1, "asset_sha256": "a" * 64, "phash": "ff00ff00ff00ff00", "cards": None},
        {"creative_id": "1", "version": "v2", "name": "new copy", "first_seen": nov1,
         "last_seen": nov1, "asset_sha256": None, "phash": None,
         "cards": [{**card, "asset_sha256": None}]},
        {"creative_id": "2", "version": "v1", "name": "b", "first_seen": oct1,
         "last_seen": nov1, "asset_sha256": "b" * 64, "phash": None, "cards": None},
    ]  # fmt: skip
    with pytest.raises(LakeError, match="not a keyed dataset"):
        lake.merge("ad_performance", "acme", "google_ads", "111", perf([]))


def test_version_one_creatives_files_read_with_the_new_columns_empty(tmp_path):
    lake = Lake(tmp_path)
    v1 = pa.schema([f for f in schema.CREATIVES if f.name in _V1_CREATIVES])
    target = tmp_path / "creatives" / "client=acme" / "google_ads--111.parquet"
    target.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([_creative("1", "v1", "old")], schema=v1), target)
    later = [_creative("1", "v1", "old", date(2026, 11, 1), display_url="acme.com/shoes")]
    lake.merge("creatives", "acme", "google_ads", "111", schema.from_rows(later, schema.CREATIVES))
    [row] = lake.query("SELECT first_seen, last_seen, display_url FROM creatives").to_pylist()
    assert row == {
        "first_seen": date(2026, 10, 1),
        "last_seen": date(2026, 11, 1),
        "display_url": "acme.com/shoes",
    }


_V1_CREATIVES = [
    "platform",
    "source",
    "account_id",
    "creative_id",
    "version",
    "ad_id",
    "name",
    "format",
    "headline",
    "body",
    "call_to_action",
    "landing_url",
    "asset_url",
    "asset_sha256",
    "width",
    "height",
    "first_seen",
    "fetched_at",
    "api_version",
]


def test_timestamp_datasets_partition_by_utc_day(tmp_path):
    lake = Lake(tmp_path)
    rows = [
        {
            "timestamp": datetime(2026, 10, 31, 23, 30, tzinfo=UTC),
            "user_id": "u1",
            "conversion_id": "x1",
            "action_type": "purchase",
            "value_micros": 5,
            "currency": "USD",
            "source": "ga4",
            "fetched_at": FETCHED,
            "api_version": "v1beta",
        }
    ]
    table = schema.from_rows(rows, schema.CONVERSIONS)
    lake.write_days("conversions", "acme", "ga4", "p1", OCT, table)
    assert lake.read("conversions", client="acme", period=OCT).num_rows == 1
    assert lake.read("conversions", period=Period.month("2026-11")).num_rows == 0


def test_empty_lake_views_have_the_canonical_columns(tmp_path):
    lake = Lake(tmp_path / "nothing-yet")
    assert lake.read("site_funnel").schema.names == schema.SITE_FUNNEL.names
    assert lake.query("SELECT count(*) AS n FROM creatives").to_pylist() == [{"n": 0}]
    assert lake.clients() == []


def test_account_file_names():
    assert files.account_file("meta", "act_123", ".parquet") == "meta--act_123.parquet"
    assert files.account_file("x", "..", ".json").startswith("x--h")
    assert pa.types.is_string(pa.string())


def test_a_query_can_open_only_one_clients_months(tmp_path, monkeypatch):
    lake = Lake(tmp_path)
    for client in ("acme", "zenith"):
        lake.write_days(
            "ad_performance", client, "google_ads", "111", SPAN, perf(days(SPAN.start, SPAN.end))
        )
    opened = []
    real = store.Lake._register

    def spy(self, con, dataset, client=None, months=None):
        opened.append((dataset, client, months))
        return real(self, con, dataset, client, months)

    monkeypatch.setattr(store.Lake, "_register", spy)
    october = lake.read("ad_performance", client="zenith", period=OCT)
    assert october.num_rows == 20
    assert set(opened) == {("ad_performance", "zenith", ("2026-10", "2026-10"))}
    sql = "SELECT client, month, count(*) AS n FROM ad_performance GROUP BY ALL ORDER BY ALL"
    scoped = lake.query(sql, months=("2026-09", "2026-09")).to_pylist()
    assert scoped == [
        {"client": "acme", "month": "2026-09", "n": 22},
        {"client": "zenith", "month": "2026-09", "n": 22},
    ]
    assert lake.read("ad_performance", client="../acme").num_rows == 0  # never a path
    assert lake.query(sql, client="nobody").num_rows == 0


def test_client_profiles_are_kept_beside_the_data(tmp_path):
    lake = Lake(tmp_path)
    assert lake.profiles() == {}
    lake.put_profile("acme", {"industry": "local/dental", "region": None})
    lake.put_profile("acme", {"industry": "local/dental", "region": "us_west"})  # replaced
    lake.put_profile("zenith", {"industry": "b2b/saas", "region": None})
    assert lake.profiles() == {
        "acme": {"industry": "local/dental", "region": "us_west"},
        "zenith": {"industry": "b2b/saas", "region": None},
    }
    with pytest.raises(LakeError):
        lake.put_profile("../etc", {"industry": "all"})
    (tmp_path / "_profiles" / "broken.json").write_text("{not json")
    with pytest.raises(LakeError, match="unreadable client profile"):
        lake.profiles()
