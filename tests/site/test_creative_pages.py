"""The creative pages' HTML pieces: numbers as a reader reads them, everything escaped."""

from datetime import date

import pandas as pd

from generator.site import creative_pages

HOSTILE = "<img src=x onerror=alert(1)>{{ 7*7 }}"


def arm(ad_id, name, rate, **extra):
    return {"ad_id": ad_id, "name": name, "rate": rate, "successes": 40.0, "trials": 1000.0,
            "is_control": False, "diff": None, "diff_low": None, "diff_high": None,
            "p_value": None, "p_holm": None, "prob_best": 0.5, "needed": None,
            "verdict": "not yet significant", **extra}  # fmt: skip


def make_test(results_ctr, results_cvr=None, **extra):
    empty = {"arms": [], "winner": None, "verdict": "too little data"}
    return {"id": "g-0123456789", "name": HOSTILE, "campaign_name": HOSTILE,
            "campaign_slug": "c-0123456789ab", "platform": "Facebook", "arms": ["a", "b"],
            "days": 30, "results": {"ctr": results_ctr, "cvr": results_cvr or empty},
            **extra}  # fmt: skip


WIN = {
    "winner": "b",
    "verdict": "winner",
    "arms": [
        arm("a", "Control ad", 0.04, is_control=True, verdict="control", diff=0.0),
        arm("b", HOSTILE, 0.055, diff=0.015, diff_low=0.0012, diff_high=0.0288,
            p_value=0.0004, p_holm=0.0123, prob_best=0.97, verdict="winner"),
    ],
}  # fmt: skip


def test_the_arms_table_reads_as_points_with_the_interval_and_both_p_values():
    html = str(creative_pages.arms_table(WIN, "ctr"))
    assert "<td>+1.50 pts (+0.12 to +2.88)</td>" in html
    assert "<td>&lt; 0.001</td><td>0.012</td><td>97%</td>" in html
    assert "Control ad <em>(control)</em>" in html and "<td>control</td>" in html
    assert '<span class="verdict good">winner</span>' in html
    assert "<img" not in html and "{{" not in html


def test_the_tests_table_links_only_page_names_it_made():
    html = str(creative_pages.tests_table([make_test(WIN)], root="../"))
    assert '<a href="../tests/g-0123456789.html">' in html
    assert '<a href="../campaigns/c-0123456789ab.html">' in html
    assert "wins</span>" in html and "<img" not in html and "{{" not in html
    odd = str(creative_pages.tests_table([make_test(WIN, id="../../etc", campaign_slug="x")]))
    assert "href" not in odd


def test_sentences_name_the_winner_or_the_sample_still_needed():
    undecided = {
        "winner": None,
        "verdict": "not yet significant",
        "arms": [arm("a", "A", 0.04, is_control=True, verdict="control"),
                 arm("b", "B", 0.045, needed=5200)],
    }  # fmt: skip
    html = str(creative_pages.test_sentences(make_test(WIN, undecided)))
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert (
        "has the best CTR</strong>: 5.50% against 4.00% for the control (+1.50 pts (+0.12 to "
        "+2.88), Holm-adjusted p = 0.012); a 97% chance of being the best." in html
    )
    assert "About 5,200 clicks per ad would settle a difference of the size seen." in html
    assert "<img" not in html


def test_history_shows_each_version_with_its_dates_and_what_changed():
    frame = pd.DataFrame(
        [
            {"ad_id": "a", "version_number": 1, "first_seen": date(2026, 10, 1),
             "last_seen": date(2026, 10, 28), "changed": "first", "headline": "Spring",
             "asset_sha256": "a" * 64},
            {"ad_id": "a", "version_number": 2, "first_seen": date(2026, 10, 29),
             "last_seen": date(2026, 11, 26), "changed": "image, headline", "headline": HOSTILE,
             "asset_sha256": "not a hash"},
            {"ad_id": "b", "version_number": 1, "first_seen": date(2026, 10, 1),
             "last_seen": date(2026, 11, 26), "changed": "first", "headline": "Only one"},
        ]
    )  # fmt: skip
    html = str(creative_pages.history(frame, ["a", "b"], root="../"))
    assert html.count('<li class="creative-version">') == 2  # b never changed: not shown
    assert "1 Oct 2026 – 28 Oct 2026" in html and "image, headline" in html
    assert f'src="../assets/creatives/{"a" * 64}.webp"' in html and "not a hash" not in html
    assert "<img src=x" not in html and 'id="history-a"' in html
