"""The benchmark seed: its rows keep their provenance, files are read strictly, and ``select``
picks the edition in force and models its spread. Known numbers come from the published
reports (WordStream/LocaliQ, ZenABM, Klaviyo), not from our own output."""

from __future__ import annotations

import csv
import math
from collections import Counter
from datetime import date
from importlib import resources

import pytest

from generator.analytics import _benchmark_files, benchmark_seed
from generator.analytics.benchmark_seed import (
    COLUMNS,
    METRICS,
    STALE_MONTHS,
    BenchmarkFileError,
    BenchmarkRow,
    age_months,
    format_value,
    parse_file,
    seed_rows,
    select,
    sigma_defaults,
)
from generator.analytics.industries import taxonomy
from generator.errors import ReportError

BASE = {
    "source_id": "acme-search",
    "publisher": "Acme",
    "report_title": "Acme benchmarks 2027",
    "url": "https://acme.example/benchmarks",
    "grade": "A",
    "edition": "2027",
    "published": "2027-06-01",
    "platform": "search",
    "network": "search",
    "industry": "all",
    "metric": "cpc",
    "statistic": "median",
    "value": "5.5",
    "unit": "USD",
}


def row(**changes) -> BenchmarkRow:
    return BenchmarkRow.model_validate({**BASE, **changes})


def write_csv(path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        extra = sorted({k for r in rows for k in r} - set(BASE))
        writer = csv.DictWriter(handle, fieldnames=[*BASE, *extra])
        writer.writeheader()
        writer.writerows({**BASE, **r} for r in rows)


def find(**cells) -> list[BenchmarkRow]:
    return [r for r in seed_rows() if all(getattr(r, k) == v for k, v in cells.items())]


# ------------------------------------------------------------------ the seed


def test_the_seed_file_has_the_documented_columns_in_order():
    seed = resources.files("generator.analytics").joinpath("benchmark_data/seed.csv")
    header = next(csv.reader(seed.read_text(encoding="utf-8").splitlines()))
    assert tuple(header) == COLUMNS
    assert tuple(BenchmarkRow.model_fields) == COLUMNS


def test_the_seed_holds_every_source_of_the_research():
    counts = Counter(r.source_id for r in seed_rows())
    assert 400 <= sum(counts.values()) <= 700
    assert set(counts) == {
        "wordstream-search", "wordstream-meta", "acquisio-search", "adstage-microsoft",
        "zenabm-linkedin", "theb2bhouse-linkedin", "calculatecreator-tiktok",
        "mailchimp-email", "klaviyo-email", "databox", "triplewhale-meta",
    }  # fmt: skip
    assert counts["wordstream-search"] > 300 and counts["mailchimp-email"] > 100
    editions = {r.edition for r in find(source_id="wordstream-search")}
    assert {"2018", "2021", "2022", "2023", "2024", "2025", "2026"} <= editions


def test_every_seed_label_is_one_of_its_industrys_labels_for_that_source():
    tax = taxonomy()
    for r in seed_rows():
        assert tax.by_label(r.source_id, r.industry_label) == r.industry, r


@pytest.mark.parametrize(
    ("cells", "value"),
    [
        ({"edition": "2026", "industry": "local/dental", "metric": "cpc"}, 8.00),
        ({"edition": "2025", "industry": "local/dental", "metric": "cpc"}, 7.85),
        ({"edition": "2021", "industry": "local/legal", "metric": "cpc"}, 8.67),
        ({"edition": "2026", "industry": "all", "metric": "ctr"}, 6.64),
        ({"edition": "2021", "industry": "all", "metric": "cpl"}, 41.40),
        ({"edition": "2018", "industry": "ecommerce", "metric": "cpa", "network": "search"}, 45.27),
        (
            {"edition": "2018", "industry": "technology", "metric": "ctr", "network": "display"},
            0.39,
        ),
    ],
)
def test_known_wordstream_figures(cells, value):
    (found,) = find(source_id="wordstream-search", **cells)
    assert found.value == value


def test_a_published_mean_stays_a_mean():
    assert {r.statistic for r in find(source_id="wordstream-search", edition="2018")} == {"mean"}
    assert {r.statistic for r in find(source_id="mailchimp-email")} == {"mean"}
    zen = find(source_id="zenabm-linkedin", network="single-image", metric="cpc")
    assert {(r.statistic, r.value) for r in zen} == {("mean", 16.34), ("median", 13.23)}


@pytest.mark.parametrize(
    "cells",
    [
        {"source_id": "wordstream-search", "edition": "2026", "industry": "all", "metric": "cpl"},
        {"source_id": "wordstream-search", "edition": "2022", "industry": "all", "metric": "cpl"},
        {"source_id": "wordstream-search", "edition": "2024", "industry": "ecommerce/apparel",
         "metric": "cpl"},
        {"source_id": "wordstream-search", "edition": "2025", "industry": "local/dental",
         "metric": "cpc"},
        {"source_id": "wordstream-meta", "edition": "2025", "industry": "local/dental",
         "metric": "cpc"},
        {"source_id": "wordstream-search", "edition": "2021", "industry": "ecommerce/pets",
         "metric": "cvr"},
    ],
)  # fmt: skip
def test_flagged_figures_are_provisional_and_say_why(cells):
    rows = find(**cells)
    assert rows and all(r.provisional for r in rows)
    assert all(
        any(w in r.notes for w in ("verify", "conflicts", "suspicious", "secondary")) for r in rows
    )


def test_provenance_is_filled_in():
    for r in seed_rows():
        assert r.publisher and r.report_title and r.grade in "ABC"
        assert r.url or "addresses not recorded" in r.notes
        assert (r.unit == "%") == (r.metric in benchmark_seed.RATES)
        if r.window_end:
            assert r.window_end <= r.published
    email = find(platform="email", metric="open_rate")
    assert all("mpp_era=" in r.definition for r in email)


def test_value_normalised():
    assert row(metric="ctr", unit="%", value="6.64").value_normalised == pytest.approx(0.0664)
    assert row(value="8.00").value_normalised == 8.0
    assert row(metric="roas", unit="x", value="3.5").value_normalised == 3.5


# ------------------------------------------------------------------ select


def _select(industry, platform, metric, as_of, rows=None, **options):
    return select(
        seed_rows() if rows is None else rows,
        platform=platform,
        metric=metric,
        industries=taxonomy().chain(industry),
        as_of=as_of,
        **options,
    )


@pytest.mark.parametrize(
    ("as_of", "edition", "value"),
    [
        (date(2026, 10, 1), "2026", 8.00),
        (date(2026, 5, 31), "2025", 7.85),  # the 2026 edition is not published yet
        (date(2025, 8, 1), "2025", 7.85),
        (date(2024, 8, 1), "2024", 6.82),
        (date(2022, 1, 1), "2021", 6.49),
    ],
)
def test_the_edition_in_force_on_the_day(as_of, edition, value):
    figure = _select("local/dental", "google_ads", "cpc", as_of)
    assert (figure.row.source_id, figure.row.edition) == ("wordstream-search", edition)
    assert figure.level == "local/dental"
    assert figure.median == value and not figure.converted


def test_before_the_blended_series_a_parent_level_and_a_converted_mean():
    figure = _select("local/dental", "google_ads", "cpc", date(2019, 1, 1))
    assert (figure.row.edition, figure.row.industry_label) == ("2018", "Health & Medical")
    assert figure.level == "health" and figure.converted
    assert figure.median == pytest.approx(2.62 * math.exp(-(0.65**2) / 2))
    assert figure.sigma == 0.65 and figure.sigma_source.startswith("default for costs (0.65)")


def test_microsoft_is_covered_by_the_blended_search_series():
    figure = _select("all", "microsoft_ads", "cpc", date(2026, 10, 1))
    assert (figure.row.source_id, figure.row.edition, figure.median) == (
        "wordstream-search", "2026", 5.42,
    )  # fmt: skip
    old = _select("all", "microsoft_ads", "cpc", date(2020, 1, 1))
    assert (old.row.source_id, old.row.edition, old.median) == (
        "adstage-microsoft",
        "2019-Q3",
        1.99,
    )


def test_sigma_from_a_mean_and_median_of_the_same_source():
    figure = _select("b2b/saas", "linkedin", "cpc", date(2026, 10, 1))
    assert figure.row.source_id == "zenabm-linkedin" and figure.level == "all"
    assert figure.median == 13.23 and figure.row.network == "single-image"
    assert figure.sigma == pytest.approx(0.65, abs=0.005)
    assert figure.sigma == pytest.approx(math.sqrt(2 * math.log(16.34 / 13.23)))
    assert figure.sigma_source == "from this source's mean $16.34 and median $13.23"


def test_sigma_from_a_median_and_top_ten_percent():
    figure = _select("ecommerce/apparel", "email", "placed_order_rate", date(2026, 10, 1))
    assert figure.row.source_id == "klaviyo-email" and figure.level == "ecommerce"
    assert figure.median == pytest.approx(0.0171)
    assert figure.sigma == pytest.approx(0.94, abs=0.005)
    assert "top 10%" in figure.sigma_source and "5.71%" in figure.sigma_source


def test_age_and_staleness():
    figure = _select("ecommerce", "email", "click_rate", date(2026, 10, 1))
    assert figure.row.published == date(2024, 3, 1)
    assert figure.age_months == 31 and figure.stale
    fresh = _select("all", "google_ads", "ctr", date(2026, 10, 1))
    assert fresh.age_months == 4 and not fresh.stale


def test_cpa_takes_a_cpl_and_facebook_takes_the_leads_objective():
    figure = _select("b2b/saas", "facebook", "cpa", date(2026, 10, 1))
    assert (figure.row.source_id, figure.row.metric, figure.row.network) == (
        "wordstream-meta", "cpl", "leads",
    )  # fmt: skip
    assert figure.median == 27.66 and "cost ÷ leads" in figure.row.definition


def test_google_uses_search_unless_display_is_asked_for():
    search = _select("technology", "google_ads", "ctr", date(2019, 1, 1))
    display = _select("technology", "google_ads", "ctr", date(2019, 1, 1), network="display")
    assert (search.row.network, search.row.value) == ("search", 2.09)
    assert (display.row.network, display.row.value) == ("display", 0.39)


def test_nothing_matches():
    assert _select("all", "pinterest", "cpc", date(2026, 10, 1)) is None
    assert _select("local/dental", "google_ads", "cpc", date(2014, 1, 1)) is None
    assert _select("all", "google_ads", "open_rate", date(2026, 10, 1)) is None


def test_within_an_edition_link_ctr_then_median_then_the_better_row():
    rows = [
        row(platform="meta", network="leads", metric="ctr", unit="%", value="2.5"),
        row(platform="meta", network="leads", metric="link_ctr", unit="%", value="1.1",
            statistic="mean"),
        row(platform="meta", network="leads", metric="link_ctr", unit="%", value="1.2",
            provisional="true", grade="C"),
        row(platform="meta", network="leads", metric="link_ctr", unit="%", value="0.9"),
        row(platform="meta", network="leads", metric="ctr", unit="%", value="3.0", edition="2026",
            published="2026-06-01"),
    ]  # fmt: skip
    figure = _select("all", "facebook", "ctr", date(2027, 7, 1), rows=rows)
    assert figure.row.value == 0.9 and figure.row.metric == "link_ctr"
    # a mean above its median gives sigma (1.1 over 0.9)
    assert figure.sigma == pytest.approx(math.sqrt(2 * math.log(1.1 / 0.9)))
    old = _select("all", "instagram", "ctr", date(2027, 1, 1), rows=rows)
    assert old.row.edition == "2026" and old.row.metric == "ctr"


def test_a_second_point_that_does_not_fit_falls_back_to_the_default():
    rows = [row(), row(statistic="mean", value="5.0"), row(statistic="p90", value="4.0")]
    figure = _select("all", "google_ads", "cpc", date(2027, 7, 1), rows=rows)
    assert figure.sigma == 0.65 and figure.sigma_source.startswith("default for costs")


def test_the_newest_edition_at_the_first_level_wins_whatever_its_grade():
    rows = [
        row(industry="health", edition="2026", published="2026-06-01", value="3.0"),
        row(industry="health", edition="2024", published="2024-06-01", value="2.5"),
        row(industry="local/dental", edition="2021", published="2021-10-13", value="6.49"),
        row(industry="local/dental", source_id="other", edition="2024", published="2024-05-13",
            value="6.82", grade="C"),
    ]  # fmt: skip
    figure = _select("local/dental", "google_ads", "cpc", date(2025, 6, 1), rows=rows)
    assert (figure.row.source_id, figure.median, figure.level) == ("other", 6.82, "local/dental")
    # once the dental editions are stale, the parent's current edition is the benchmark
    later = _select("local/dental", "google_ads", "cpc", date(2027, 1, 1), rows=rows)
    assert (later.row.edition, later.median, later.level, later.stale) == (
        "2026",
        3.0,
        "health",
        False,
    )
    # and with nothing current anywhere, the most specific stale figure, marked stale
    old = _select("local/dental", "google_ads", "cpc", date(2029, 1, 1), rows=rows)
    assert (old.median, old.level, old.stale) == (6.82, "local/dental", True)


@pytest.mark.parametrize(
    ("published", "as_of", "months"),
    [
        (date(2026, 6, 1), date(2026, 10, 1), 4),
        (date(2026, 6, 15), date(2026, 7, 14), 0),
        (date(2026, 6, 15), date(2026, 7, 15), 1),
        (date(2024, 3, 1), date(2025, 9, 1), 18),
        (date(2027, 1, 1), date(2026, 1, 1), 0),
    ],
)
def test_age_months(published, as_of, months):
    assert age_months(published, as_of) == months
    assert STALE_MONTHS == 18


def test_sigma_defaults_cover_every_metric_with_provenance():
    defaults = sigma_defaults()
    assert set(defaults) == set(METRICS)
    assert {m: defaults[m].sigma for m in ("cpc", "ctr", "cvr", "click_rate")} == {
        "cpc": 0.65, "ctr": 0.7, "cvr": 0.94, "click_rate": 0.7,
    }  # fmt: skip
    assert defaults["placed_order_rate"].family == "conversion"
    assert all("Klaviyo" in d.provenance or "ZenABM" in d.provenance for d in defaults.values())


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [(6.64, "%", "6.64%"), (16.34, "USD", "$16.34"), (3.5, "x", "3.5x"), (12, "EUR", "12.00 EUR")],
)
def test_format_value(value, unit, text):
    assert format_value(value, unit) == text


# ------------------------------------------------------------------ files


@pytest.mark.parametrize(
    ("changes", "column", "message"),
    [
        ({"value": "abc"}, "value", "valid number"),
        ({"value": "-2"}, "value", "greater than 0"),
        ({"value": "nan"}, "value", "finite"),
        ({"metric": "ctr", "unit": "%", "value": "120"}, "value", "at most 100"),
        ({"metric": "ctr"}, "unit", "the unit of ctr is '%'"),
        ({"unit": "dollars"}, "unit", "currency code"),
        ({"grade": "D"}, "grade", "'A', 'B' or 'C'"),
        ({"metric": "cpv"}, "metric", "Input should be"),
        ({"statistic": "average"}, "statistic", "Input should be"),
        ({"platform": "bing"}, "platform", "not a platform"),
        ({"industry": "local/dentist"}, "industry", "did you mean 'local/dental'"),
        ({"published": "June 2027"}, "published", "date"),
        ({"window_end": "2027-07-01"}, "window_end", "after the edition was published"),
        ({"url": "acme.example"}, "url", "https://"),
        ({"window_start": "2027-05-01", "window_end": "2027-04-01"}, "window_end", "before it"),
        ({"source_id": "Acme Search"}, "source_id", "pattern"),
        ({"edition": "../x"}, "edition", "pattern"),
    ],
)
def test_a_bad_cell_is_named_by_line_and_column(tmp_path, changes, column, message):
    path = tmp_path / "acme.csv"
    write_csv(path, [{}, changes])
    with pytest.raises(BenchmarkFileError) as caught:
        parse_file(path)
    text = str(caught.value)
    assert f"line 3, column {column!r}" in text and message in text
    assert isinstance(caught.value, ReportError) and caught.value.file == str(path)
    assert len(caught.value.problems) == 1


def test_every_problem_is_listed_up_to_a_cap(tmp_path):
    path = tmp_path / "acme.csv"
    write_csv(path, [{"value": "x"}] * 25)
    with pytest.raises(BenchmarkFileError) as caught:
        parse_file(path)
    assert len(caught.value.problems) == 25
    text = str(caught.value)
    assert "line 21, column 'value'" in text and "line 22," not in text
    assert text.endswith("and 5 more") and "25 problem(s)" in text


def test_header_problems(tmp_path):
    path = tmp_path / "acme.csv"
    path.write_text("source_id,publisher,colour\nacme,Acme,red\n", encoding="utf-8")
    with pytest.raises(BenchmarkFileError, match=r"line 1: unknown column\(s\) 'colour'"):
        parse_file(path)
    path.write_text("source_id,publisher\nacme,Acme\n", encoding="utf-8")
    with pytest.raises(BenchmarkFileError, match=r"missing column\(s\) 'report_title'"):
        parse_file(path)


def test_blank_lines_are_skipped_and_counted(tmp_path):
    path = tmp_path / "acme.csv"
    write_csv(path, [{}])
    with path.open("a", encoding="utf-8") as handle:
        handle.write(",,,,,,,,,,,,,\n\n" + ",".join(BASE.values()).replace("5.5", "x") + "\n")
    with pytest.raises(BenchmarkFileError, match=r"1 problem\(s\):\n  line 5, column 'value'"):
        parse_file(path)


def test_unknown_and_missing_fields_of_a_yaml_row(tmp_path):
    path = tmp_path / "acme.yml"
    text = YAML_ROWS.replace("  grade: A\n", "  colour: red\n", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BenchmarkFileError) as caught:
        parse_file(path)
    assert caught.value.problems == (
        "line 2, field 'grade': missing (a required column)",
        "line 5, field 'colour': 'red': not a column; the columns are " + ", ".join(COLUMNS),
    )


def test_one_edition_has_one_publication_date(tmp_path):
    path = tmp_path / "acme.csv"
    write_csv(path, [{}, {"published": "2027-07-01"}])
    with pytest.raises(BenchmarkFileError, match="line 3, column 'published'.*line 2"):
        parse_file(path)


def test_a_good_csv_reads_with_optional_columns_left_out(tmp_path):
    path = tmp_path / "acme.csv"
    write_csv(path, [{}, {"metric": "ctr", "unit": "%", "value": "6.1"}])
    rows = parse_file(path)
    assert [r.value for r in rows] == [5.5, 6.1]
    assert rows[0].provisional is False and rows[0].notes == "" and rows[0].sample_size is None


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("acme.txt", "x", "not a .csv"),
        ("acme.csv", "", "missing column"),
        ("acme.yml", "rows: []\n", "no rows"),
        ("acme.yml", "rows: 3\n", "a list of rows"),
        ("acme.yml", "- 3\n", "line 1: a row is a mapping"),
        ("acme.yml", "rows: [a\n", "not valid YAML"),
        ("acme.xlsx", "not a zip", "not a readable XLSX"),
        ("acme.yml", "# nothing\n", "the file is empty"),
    ],
)
def test_unreadable_files(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BenchmarkFileError, match=message):
        parse_file(path)
    with pytest.raises(BenchmarkFileError, match="file not found"):
        parse_file(tmp_path / "missing.csv")


def test_a_folder_or_bytes_that_are_not_text(tmp_path):
    with pytest.raises(BenchmarkFileError, match="not a file"):
        parse_file(tmp_path)
    path = tmp_path / "acme.csv"
    path.write_bytes(b"source_id\xff\xfe\n")
    with pytest.raises(BenchmarkFileError, match="not UTF-8"):
        parse_file(path)


def test_size_and_row_limits(tmp_path, monkeypatch):
    path = tmp_path / "acme.csv"
    write_csv(path, [{}] * 4)
    monkeypatch.setattr(_benchmark_files, "MAX_ROWS", 3)
    with pytest.raises(BenchmarkFileError, match="more than 3 rows"):
        parse_file(path)
    monkeypatch.setattr(_benchmark_files, "MAX_FILE_BYTES", 100)
    with pytest.raises(BenchmarkFileError, match="larger than"):
        parse_file(path)


YAML_ROWS = """\
# an edition as a YAML list
- source_id: acme-search
  publisher: Acme
  report_title: Acme benchmarks 2027
  grade: A
  edition: "2027"
  published: 2027-06-01
  platform: search
  network: search
  industry: all
  metric: cpc
  statistic: median
  value: 5.5
  unit: USD
- {source_id: acme-search, publisher: Acme, report_title: Acme benchmarks 2027, grade: A,
   edition: "2027", published: 2027-06-01, platform: search, network: search,
   industry: all, metric: ctr, statistic: median, value: 6.1, unit: "%"}
"""


@pytest.mark.parametrize(("form", "line"), [("list", 13), ("rows", 14)])
def test_yaml_as_a_list_or_under_rows(tmp_path, form, line):
    path = tmp_path / "acme.yaml"
    text = YAML_ROWS if form == "list" else "rows:\n" + YAML_ROWS.replace("\n", "\n  ")
    path.write_text(text, encoding="utf-8")
    assert [(r.metric, r.value) for r in parse_file(path)] == [("cpc", 5.5), ("ctr", 6.1)]
    path.write_text(text.replace("value: 5.5", "value: five"), encoding="utf-8")
    with pytest.raises(BenchmarkFileError, match=f"line {line}, field 'value': 'five'"):
        parse_file(path)


def test_yaml_keeps_the_config_readers_limits(tmp_path):
    path = tmp_path / "acme.yml"
    path.write_text(YAML_ROWS.replace("  grade: A\n", "  grade: A\n  grade: B\n"), "utf-8")
    with pytest.raises(BenchmarkFileError, match="line 6: .*written twice"):
        parse_file(path)


def test_xlsx_names_the_sheet_row(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(list(BASE))
    sheet.append([BASE[c] for c in BASE])
    sheet.append([])
    sheet.append([BASE[c] if c != "value" else "n/a" for c in BASE])
    path = tmp_path / "acme.xlsx"
    book.save(path)
    with pytest.raises(BenchmarkFileError, match="row 4, column 'value': 'n/a'"):
        parse_file(path)
    sheet.delete_rows(4)
    sheet["F2"], sheet["G2"] = 2027, date(2027, 6, 1)  # a number and a date, as Excel stores them
    book.save(path)
    (read,) = parse_file(path)
    assert (read.edition, read.published, read.value) == ("2027", date(2027, 6, 1), 5.5)
