import pandas as pd
import pytest

from generator.site import formatting, fragments
from generator.site.fragments import Column


@pytest.mark.parametrize(
    ("fn", "value", "text"),
    [
        (formatting.money, 1234.5, "$1,234"),
        (formatting.money, 12.345, "$12.35"),
        (formatting.money, -5, "-$5.00"),
        (formatting.money, None, "—"),
        (formatting.number, 12_345, "12,345"),
        (formatting.number, 12_500_000, "12.5M"),
        (formatting.percent, 0.01234, "1.23%"),
        (formatting.ratio, 3.456, "3.46x"),
        (formatting.change, -0.04, "-4.0%"),
        (formatting.change, float("nan"), "—"),
        (formatting.percent, pd.NA, "—"),
    ],
)
def test_formatting(fn, value, text):
    assert fn(value) == text


def test_money_in_other_currencies_and_fmt_by_unit():
    assert formatting.money(1500, "CHF") == "1,500 CHF"
    assert formatting.money(1500, "EUR") == "€1,500"
    assert formatting.fmt(3.5, "number") == "3.50" and formatting.fmt(300.0, "number") == "300"
    assert formatting.fmt(0.5, "percent") == "50.00%" and formatting.fmt(None, "number") == "—"


def test_kpi_cards_colour_changes_by_what_is_better():
    html = fragments.kpi_cards(
        [
            {
                "label": "CPA",
                "unit": "currency",
                "value": 20.0,
                "change": -0.1,
                "higher_is_better": False,
                "status": "at_risk",
                "target": 18.0,
            },
            {
                "label": "Spend <x>",
                "unit": "currency",
                "value": 10.0,
                "change": 0.2,
                "higher_is_better": None,
            },
            {
                "label": "ROAS",
                "unit": "ratio",
                "value": 2.0,
                "change": -0.3,
                "higher_is_better": True,
            },
            {"label": "CTR", "unit": "percent", "value": None, "change": None},
        ],
        "USD",
    )
    assert 'kpi-good">▼ -10.0%' in html and 'kpi-neutral">▲ +20.0%' in html
    assert 'kpi-bad">▼ -30.0%' in html and "At risk · target $18.00" in html
    assert "Spend &lt;x&gt;" in html and "—" in html


def test_tables_escape_cells():
    frame = pd.DataFrame({"name": ["<script>x</script>", None], "spend": [1.5, None]})
    html = fragments.table(
        frame, [Column("name", "Name"), Column("spend", "Spend", "currency")], limit=1
    )
    assert "&lt;script&gt;" in html and "<script>" not in html and html.count("<tr>") == 2


def test_chart_and_warning_fragments():
    html = fragments.chart({"mark": "bar", "title": "</script>"}, "Daily Spend!", caption="<i>")
    assert 'data-spec="chart-daily-spend-"' in html and 'id="chart-daily-spend-"' in html
    payload = html.split('id="chart-daily-spend-">')[1].split("</script>")[0]
    assert "<" not in payload and "\\u003c/script\\u003e" in payload and "&lt;i&gt;" in html
    assert fragments.warnings([]) == ""
    assert "<li>a &amp; b</li>" in fragments.warnings(["a & b"])
