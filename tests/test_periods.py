from datetime import date

import pytest

from generator.periods import Period, last_complete_month


def test_months():
    october = Period.month("2026-10")
    assert (october.start, october.end, october.days) == (date(2026, 10, 1), date(2026, 10, 31), 31)
    assert october.previous() == Period.month("2026-09")
    assert Period.month("2026-01").previous().label == "2025-12"
    assert Period.month("2028-02").end == date(2028, 2, 29)
    assert str(october) == "2026-10" and october.is_month


def test_ranges():
    span = Period.between(date(2026, 9, 20), date(2026, 10, 10))
    assert span.months() == ["2026-09", "2026-10"]
    assert span.previous() == Period.between(date(2026, 8, 30), date(2026, 9, 19))
    assert not span.is_month and span.label == "2026-09-20_2026-10-10"
    with pytest.raises(ValueError, match="ends"):
        Period.between(date(2026, 2, 1), date(2026, 1, 1))


@pytest.mark.parametrize("text", ["2026-13", "26-10", "October", "2026-1"])
def test_bad_months(text):
    with pytest.raises(ValueError, match="YYYY-MM"):
        Period.month(text)


def test_last_complete_month():
    assert last_complete_month(date(2026, 11, 24)).label == "2026-10"
    assert last_complete_month(date(2026, 1, 1)).label == "2025-12"


def test_a_month_to_date_shares_the_months_label_and_compares_like_with_like():
    running = Period.month_to_date("2026-11", date(2026, 11, 23))
    assert (running.start, running.end, running.label) == (
        date(2026, 11, 1), date(2026, 11, 23), "2026-11"
    )  # fmt: skip
    assert running.is_month_to_date and not running.is_month and running.days == 23
    before = running.previous()  # 1-23 October, not all of it
    assert (before.start, before.end) == (date(2026, 10, 1), date(2026, 10, 23))
    # 31 days of March against February: the shorter month is all there is
    march = Period.month_to_date("2027-03", date(2027, 3, 31))
    assert march.is_month and march.previous() == Period.month("2027-02")
    late = Period.month_to_date("2027-03", date(2027, 3, 30)).previous()
    assert (late.start, late.end) == (date(2027, 2, 1), date(2027, 2, 28))
    assert Period.month("2026-11").is_month and not Period.month("2026-11").is_month_to_date
    with pytest.raises(ValueError, match="has not started"):
        Period.month_to_date("2026-11", date(2026, 10, 31))
