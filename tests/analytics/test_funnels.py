"""Funnels: hand-computed known answers, a slow reference, and hypothesis invariants.

Times in the examples are minutes after T0 unless a test says otherwise; ``s``, ``v``, ``c``
and ``p`` are the steps (session start, view, cart, purchase) of most funnels here.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import timedelta
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.analytics import funnels
from generator.analytics.funnels import Filter, FunnelSpecError, Step, compute, reached
from generator.errors import ReportError

T0 = pd.Timestamp("2026-03-01", tz="UTC")
MIN = pd.Timedelta(minutes=1)
SVP = ["s", "v", "p"]


def frame(rows, index=None) -> pd.DataFrame:
    """Events from ``(user, minutes, event[, {property: value}])``; minutes may be a Timedelta."""
    props = sorted({key for row in rows if len(row) > 3 for key in row[3]})
    out = pd.DataFrame(
        {
            "user_id": [row[0] for row in rows],
            "timestamp": pd.Series(
                [T0 + (r[1] if isinstance(r[1], pd.Timedelta) else r[1] * MIN) for r in rows],
                dtype="datetime64[us, UTC]",
            ),
            "event_name": [row[2] for row in rows],
        }
    )
    for key in props:
        out[key] = [row[3].get(key) if len(row) > 3 else None for row in rows]
    return out if index is None else out.set_axis(index)


def users(table: pd.DataFrame) -> list[int]:
    return table["users"].tolist()


def levels(events, steps, **options) -> dict[str, int]:
    out = reached(events, steps, **options)
    return dict(zip(out["user_id"], out["level"], strict=True))


# --- known answers ------------------------------------------------------------------------


def test_plain_ordering_counts_rates_and_drop_off():
    # a: s, v, p -> 3;  b: s, v -> 2;  c: s -> 1;  d: v, p only (never started) -> not counted
    events = frame(
        [
            ("a", 0, "s"), ("a", 1, "v"), ("a", 2, "p"),
            ("b", 0, "s"), ("b", 5, "v"),
            ("c", 0, "s"),
            ("d", 0, "v"), ("d", 1, "p"),
        ]
    )  # fmt: skip
    table = compute(events, SVP)
    # users: 3, 2 (a, b), 1 (a); from previous 2/3 and 1/2; from start 2/3 and 1/3
    assert users(table) == [3, 2, 1]
    assert table["step"].tolist() == SVP
    assert table["position"].tolist() == [1, 2, 3]
    assert table["rate_from_previous"].tolist() == pytest.approx([1.0, 2 / 3, 1 / 2])
    assert table["rate_from_start"].tolist() == pytest.approx([1.0, 2 / 3, 1 / 3])
    assert table["dropped"].tolist() == [0, 1, 1]
    assert table["drop_off_rate"].tolist() == pytest.approx([0.0, 1 / 3, 1 / 2])
    assert "segment" not in table.columns


def test_out_of_order_events_do_not_count():
    # v at 0 comes before s at 1: the attempt started at 1 finds no v after it -> level 1;
    # p at 2 is after s but step 2 was never matched, so it cannot count either
    events = frame([("a", 0, "v"), ("a", 1, "s"), ("a", 2, "p")])
    assert levels(events, SVP) == {"a": 1}


def test_events_in_the_same_minute_count_as_in_order():
    # GA4 gives minutes: s, v and p all at 10:00 -> in order (equal times allowed) -> 3
    events = frame([("a", 0, "p"), ("a", 0, "v"), ("a", 0, "s")])
    assert levels(events, SVP) == {"a": 3}


@pytest.mark.parametrize(
    ("after", "level"),
    [
        (pd.Timedelta(days=7), 2),  # exactly the window: 7 d - 0 <= 7 d
        (pd.Timedelta(days=7, seconds=1), 1),  # one second more: outside
        (pd.Timedelta(days=7, microseconds=999_999), 2),  # times compare at whole seconds
    ],
)
def test_window_edges(after, level):
    events = frame([("a", 0, "s"), ("a", after, "v")])
    assert levels(events, ["s", "v"], window=timedelta(days=7)) == {"a": level}


def test_a_later_attempt_that_reaches_further_is_the_one_that_counts():
    # window 30 min. Attempt 1 starts at 0 (mobile): v at 40 is 40 min later -> level 1.
    # Attempt 2 starts at 20 (desktop): v at 40 (20 min), p at 45 (25 min) -> level 3.
    # The user counts at 3 with attempt 2: segment desktop, v 20 min after start, p 5 after v.
    events = frame(
        [
            ("a", 0, "s", {"device": "mobile"}),
            ("a", 20, "s", {"device": "desktop"}),
            ("a", 40, "v", {"device": "mobile"}),
            ("a", 45, "p", {"device": "mobile"}),
        ]
    )
    out = reached(events, SVP, window=timedelta(minutes=30))
    row = out.iloc[0]
    assert (row["level"], row["entry_row"]) == (3, 1)
    assert row["start"] == T0 + 20 * MIN == row["t1"]
    assert (row["t2"], row["t3"]) == (T0 + 40 * MIN, T0 + 45 * MIN)
    table = compute(events, SVP, window=timedelta(minutes=30), by="device")
    assert table["segment"].unique().tolist() == ["desktop"]
    assert table["median_from_previous"].tolist() == [pd.Timedelta(0), 20 * MIN, 5 * MIN]
    assert table["median_from_start"].tolist() == [pd.Timedelta(0), 20 * MIN, 25 * MIN]


def test_of_attempts_reaching_the_same_step_the_earliest_counts():
    # s at 0 (mobile) and s at 5 (desktop) both reach v at 10 (level 2): the first counts,
    # so the user is mobile and took 10 min (not 5) from start to v
    events = frame(
        [
            ("a", 0, "s", {"device": "mobile"}),
            ("a", 5, "s", {"device": "desktop"}),
            ("a", 10, "v", {"device": "desktop"}),
        ]
    )
    out = reached(events, SVP)
    assert (out.loc[0, "level"], out.loc[0, "entry_row"]) == (2, 0)
    table = compute(events, SVP, by="device")
    assert table["segment"].unique().tolist() == ["mobile"]
    assert table.loc[1, "median_from_start"] == 10 * MIN


@pytest.mark.parametrize(
    ("rows", "level"),
    [
        # x strictly between v (5) and p (10): the attempt stays at v -> 2
        ([("s", 0), ("v", 5), ("x", 7), ("p", 10)], 2),
        # x at the very minute of v: not before it -> v counts; p (later) does not -> 2
        ([("s", 0), ("x", 5), ("v", 5), ("p", 10)], 2),
        # x at the minute of step 1 is not after it -> no effect -> 3
        ([("x", 0), ("s", 0), ("v", 5), ("p", 10)], 3),
        # x before step 1 -> no effect -> 3
        ([("x", -1), ("s", 0), ("v", 5), ("p", 10)], 3),
        # x ends the first attempt at 1; the s at 2 starts a fresh one: v, p -> 3
        ([("s", 0), ("x", 1), ("s", 2), ("v", 3), ("p", 4)], 3),
        # x after the last step changes nothing -> 3
        ([("s", 0), ("v", 1), ("p", 2), ("x", 3)], 3),
    ],
)
def test_exclusions(rows, level):
    events = frame([("a", minute, name) for name, minute in rows])
    assert levels(events, SVP, exclusions=["x"]) == {"a": level}


@pytest.mark.parametrize(
    ("rows", "ordered", "strict"),
    [
        # p (step 4) between v and c: ordered 4 (s, v, c@3, p@4); strict stops at v -> 2
        ([("s", 0), ("v", 1), ("p", 2), ("c", 3), ("p", 4)], 4, 2),
        # v repeated between v and c is the previous step again: no intervention -> 4
        ([("s", 0), ("v", 1), ("v", 2), ("c", 3), ("p", 4)], 4, 4),
        # s (step 1) between v and c intervenes: attempt 1 stops at 2; attempt 2 (s at 2)
        # has no v after it -> 1; the user counts at 2
        ([("s", 0), ("v", 1), ("s", 2), ("c", 3), ("p", 4)], 4, 2),
        # events of no step never intervene -> 4
        ([("s", 0), ("page_view", 1), ("v", 2), ("scroll", 3), ("c", 4), ("p", 5)], 4, 4),
        # an intervening event at the same minute as a match is not strictly between -> 4
        ([("s", 0), ("v", 1), ("p", 1), ("c", 3), ("p", 4)], 4, 4),
        # the earliest c is judged, not a later one: c@2 then v@3 (intervenes before p) -> 3
        ([("s", 0), ("v", 1), ("c", 2), ("v", 3), ("c", 4), ("p", 5)], 4, 3),
    ],
)
def test_strict_order(rows, ordered, strict):
    events = frame([("a", minute, name) for name, minute in rows])
    steps = ["s", "v", "c", "p"]
    assert levels(events, steps) == {"a": ordered}
    assert levels(events, steps, order="strict") == {"a": strict}


def test_any_order():
    # a: s@0, p@1, v@2. ordered: v@2, then no p at or after 2 -> 2. any: v@2 and p@1 are
    #    both after s -> 3; all of 1..3 done at 2 min: from previous 0, from start 2 min.
    # b: v@-1 before s@0, p@1. any: v not after s -> 1 (p alone does not make step 3)
    events = frame(
        [("a", 0, "s"), ("a", 1, "p"), ("a", 2, "v"), ("b", -1, "v"), ("b", 0, "s"), ("b", 1, "p")]
    )
    assert levels(events, SVP) == {"a": 2, "b": 1}
    assert levels(events, SVP, order="any") == {"a": 3, "b": 1}
    table = compute(events, SVP, order="any")
    assert users(table) == [2, 1, 1]
    assert table.loc[2, "median_from_previous"] == pd.Timedelta(0)
    assert table.loc[2, "median_from_start"] == 2 * MIN
    out = reached(events, SVP, order="any").set_index("user_id")
    assert (out.loc["a", "t2"], out.loc["a", "t3"]) == (T0 + 2 * MIN, T0 + 1 * MIN)


def test_property_filters_contains_and_in():
    steps = [
        "page_view",
        {"event": "page_view", "filters": [{"column": "page_path", "op": "contains",
                                             "value": "/checkout"}], "label": "Checkout"},
        {"event": "purchase", "filters": [{"column": "country", "op": "in",
                                            "value": ["DE", "AT"]}]},
    ]  # fmt: skip
    events = frame(
        [
            # a: home, checkout, purchase in DE -> 3
            ("a", 0, "page_view", {"page_path": "/home"}),
            ("a", 1, "page_view", {"page_path": "/checkout/pay"}),
            ("a", 2, "purchase", {"country": "DE"}),
            # b: lands on the checkout page: one event serves steps 1 and 2; buys in FR -> 2
            ("b", 0, "page_view", {"page_path": "/checkout"}),
            ("b", 1, "purchase", {"country": "FR"}),
            # c: no checkout page; the purchase in AT cannot count without step 2 -> 1
            ("c", 0, "page_view", {"page_path": "/home"}),
            ("c", 1, "purchase", {"country": "AT"}),
        ]
    )
    table = compute(events, steps)
    assert users(table) == [3, 2, 1]
    assert table["step"].tolist() == ["page_view", "Checkout", "purchase (country in [DE, AT])"]


@pytest.mark.parametrize(
    ("condition", "matching"),
    [
        (Filter("page_path", "equals", "/a"), ["u1"]),
        (Filter("page_path", "not_equals", "/a"), ["u2", "u3"]),  # a missing path is not /a
        (Filter("page_path", "contains", "b"), ["u2"]),
        (Filter("page_path", "not_contains", "b"), ["u1", "u3"]),
        (Filter("page_path", "starts_with", "/"), ["u1", "u2"]),
        (Filter("page_path", "in", ("/a", "/x")), ["u1"]),
    ],
)
def test_every_filter_op_and_missing_values(condition, matching):
    events = frame(
        [
            ("u1", 0, "view", {"page_path": "/a"}),
            ("u2", 0, "view", {"page_path": "/b"}),
            ("u3", 0, "view", {"page_path": None}),
        ]
    )
    out = reached(events, [Step("view", (condition,)), "never"])
    assert sorted(out["user_id"]) == matching


def test_filters_compare_numbers_as_text_and_all_filters_must_hold():
    # quantity 2 equals "2"; the second filter (country DE) rules out u2 -> only u1
    step = {
        "event": "cart",
        "filters": [
            {"column": "quantity", "op": "equals", "value": 2},
            {"column": "country", "op": "equals", "value": "DE"},
        ],
    }
    events = frame(
        [
            ("u1", 0, "cart", {"quantity": 2, "country": "DE"}),
            ("u2", 0, "cart", {"quantity": 2, "country": "FR"}),
            ("u3", 0, "cart", {"quantity": 3, "country": "DE"}),
        ]
    )
    assert sorted(reached(events, [step, "buy"])["user_id"]) == ["u1"]


def test_breakdown_by_a_property_of_the_step_1_event():
    # the segment is the device on the step-1 event, even if later events say otherwise.
    # mobile: a (3), b (2);  desktop: c (1);  "(not set)": d (missing) and e (literal) (2, 1)
    events = frame(
        [
            ("a", 0, "s", {"device": "mobile"}), ("a", 1, "v", {"device": "desktop"}),
            ("a", 2, "p", {"device": "desktop"}),
            ("b", 0, "s", {"device": "mobile"}), ("b", 1, "v", {"device": "mobile"}),
            ("c", 0, "s", {"device": "desktop"}),
            ("d", 0, "s", {"device": None}), ("d", 1, "v", {"device": "mobile"}),
            ("e", 0, "s", {"device": "(not set)"}),
        ]
    )  # fmt: skip
    table = compute(events, SVP, by="device")
    # segments by users at step 1, largest first; "(not set)" and mobile tie at 2: by name
    assert table["segment"].tolist() == ["(not set)"] * 3 + ["mobile"] * 3 + ["desktop"] * 3
    assert users(table) == [2, 1, 0, 2, 2, 1, 1, 0, 0]
    total = compute(events, SVP)
    assert table.groupby("position")["users"].sum().tolist() == users(total) == [5, 3, 1]
    assert table.loc[8, "rate_from_previous"] != table.loc[8, "rate_from_previous"]  # 0/0


def test_median_and_p90_times():
    # step 2 after 1, 2 and 10 min (a, b, c); step 3 after 4 more min for a only.
    # median of [1, 2, 10] = 2; p90 at rank 0.9 x 2 = 1.8 -> 2 + 0.8 x (10 - 2) = 8.4 min
    events = frame(
        [
            ("a", 0, "s"), ("a", 1, "v"), ("a", 5, "p"),
            ("b", 0, "s"), ("b", 2, "v"),
            ("c", 0, "s"), ("c", 10, "v"),
        ]
    )  # fmt: skip
    table = compute(events, SVP)
    zero = pd.Timedelta(0)
    assert table.loc[0, ["median_from_previous", "p90_from_previous"]].tolist() == [zero, zero]
    assert table.loc[1, "median_from_previous"] == 2 * MIN
    assert table.loc[1, "p90_from_previous"] == pd.Timedelta(minutes=8.4)
    assert table.loc[1, "median_from_start"] == 2 * MIN
    # step 3: a alone, 4 min after v and 5 min after s
    assert table.loc[2, ["median_from_previous", "p90_from_previous"]].tolist() == [4 * MIN] * 2
    assert table.loc[2, ["median_from_start", "p90_from_start"]].tolist() == [5 * MIN] * 2


def test_a_step_nobody_reached_has_nan_rates_and_no_times():
    # s -> v (1 of 1) -> p (0 of 1) -> c: 0 of 0 is NaN, not an error
    events = frame([("a", 0, "s"), ("a", 1, "v")])
    table = compute(events, ["s", "v", "p", "c"])
    assert users(table) == [1, 1, 0, 0]
    assert table.loc[2, "rate_from_previous"] == 0.0
    assert math.isnan(table.loc[3, "rate_from_previous"])
    assert math.isnan(table.loc[3, "drop_off_rate"])
    assert table.loc[3, "rate_from_start"] == 0.0
    assert pd.isna(table.loc[2, "median_from_previous"]) and pd.isna(table.loc[3, "p90_from_start"])


def test_no_step_1_event_at_all():
    events = frame([("a", 0, "v")])
    table = compute(events, SVP)
    assert users(table) == [0, 0, 0]
    assert table["rate_from_start"].isna().all() and table["median_from_start"].isna().all()
    assert compute(events, SVP, by="event_name").empty
    out = reached(events, SVP)
    assert out.empty and list(out.columns) == [
        "user_id", "level", "start", "t1", "t2", "t3", "entry_row",
    ]  # fmt: skip


def test_no_events_at_all():
    events = frame([("a", 0, "s")]).iloc[:0]
    assert users(compute(events, SVP)) == [0, 0, 0]
    assert reached(events, SVP).empty


def test_reached_rows_are_positions_and_inputs_are_untouched():
    # a shuffled, non-numeric index: entry_row is the position (for .iloc), not the label
    events = frame(
        [("b", 1, "v"), ("a", 0, "s"), ("b", 0, "s"), ("a", 3, "v"), ("a", 4, "p")],
        index=["r5", "r4", "r3", "r2", "r1"],
    )
    before = events.copy()
    out = reached(events, SVP).set_index("user_id")
    assert out.loc["a", "entry_row"] == 1 and out.loc["b", "entry_row"] == 2
    assert events.iloc[out.loc["a", "entry_row"]]["event_name"] == "s"
    assert out.loc["b", "level"] == 2 and pd.isna(out.loc["b", "t3"])
    assert str(out["t1"].dtype).endswith("UTC]")
    pd.testing.assert_frame_equal(events, before)


@pytest.mark.parametrize("kind", ["str", "object", "category"])
def test_column_types_give_the_same_answer(kind):
    rows = [("a", 0, "s"), ("a", 1, "v"), ("b", 0, "s"), (None, 0, "s")]  # no user: ignored
    events = frame(rows).astype({"user_id": kind, "event_name": kind})
    assert users(compute(events, SVP)) == [2, 1, 0]


def test_events_in_other_time_zones_are_compared_as_instants():
    events = frame([("a", 0, "s"), ("a", 1, "v")])
    events["timestamp"] = events["timestamp"].dt.tz_convert("America/New_York")
    assert levels(events, SVP) == {"a": 2}


def test_step_specs_and_display_names():
    assert Step.of("purchase") == Step("purchase")
    spec = {"event": "page_view", "filters": [{"column": "page_path", "op": "contains",
                                               "value": "/checkout"}]}  # fmt: skip
    step = Step.of(spec)
    assert step.filters == (Filter("page_path", "contains", "/checkout"),)
    assert step.name == "page_view (page_path contains /checkout)"
    assert Step.of({**spec, "label": "Checkout page"}).name == "Checkout page"
    both = Step("view", (Filter("country", "in", ["DE", "AT"]), Filter("a", "not_equals", "b")))
    assert both.filters[0].value == ("DE", "AT")  # a list is kept as a tuple: hashable
    assert both.name == "view (country in [DE, AT] and a not equals b)"
    assert Step.of(step) is step
    assert hash(both)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda e: compute(e, ["s"]), "at least 2 steps, got 1"),
        (lambda e: compute(e, "s"), "steps must be a list"),
        (lambda e: compute(e, SVP, window=timedelta(0)), "window must be a positive"),
        (lambda e: compute(e, SVP, window=timedelta(days=-1)), "window must be a positive"),
        (lambda e: compute(e, SVP, window=7), "window must be a positive timedelta"),
        (lambda e: compute(e, SVP, order="funnel"), "unknown order 'funnel'; use one of"),
        (lambda e: compute(e, SVP, by="campaign"), "by 'campaign': no such column"),
        (
            lambda e: compute(
                e,
                [
                    {"event": "s", "filters": [{"column": "page_path", "op": "is", "value": "/"}]},
                    "v",
                ],
            ),
            "unknown filter op 'is'",
        ),
        (
            lambda e: compute(e, [Step("s", (Filter("country", "equals", "DE"),)), "v"]),
            "step 's (country equals DE)' filters on 'country', a column the events lack",
        ),
        (
            lambda e: compute(e, SVP, exclusions=[Step("x", (Filter("page", "equals", "/"),))]),
            "filters on 'page'",
        ),
        (lambda e: compute(e, [{"event": "s", "filter": []}, "v"]), "unknown key 'filter'"),
        (lambda e: compute(e, [{"label": "S"}, "v"]), "a step needs 'event'"),
        (lambda e: compute(e, ["", "v"]), "a step needs an event name"),
        (lambda e: compute(e, [3, "v"]), "a step is an event name or a dict"),
        (lambda e: Filter("country", "in", "DE"), "'in' takes a list of values"),
        (lambda e: Filter("country", "equals", ["DE"]), "'in' takes a list of values"),
        (lambda e: Filter.of({"column": "country", "op": "equals"}), "a filter needs 'value'"),
        (lambda e: compute(e.drop(columns="user_id"), SVP), "events lack user_id"),
        (
            lambda e: compute(e.assign(timestamp=e["timestamp"].dt.tz_localize(None)), SVP),
            "timestamp must be timezone-aware",
        ),
        (
            lambda e: compute(e.assign(timestamp="2026-01-01"), SVP),
            "timestamp must be timezone-aware",
        ),
    ],
)
def test_errors_say_what_is_wrong(call, message):
    events = frame([("a", 0, "s"), ("a", 1, "v")])
    with pytest.raises(FunnelSpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(events)


def test_the_error_is_a_value_error_and_a_report_error():
    assert issubclass(FunnelSpecError, ValueError) and issubclass(FunnelSpecError, ReportError)


def test_public_names():
    assert sorted(funnels.__all__) == [
        "Filter", "FunnelSpecError", "OPS", "ORDERS", "Step", "compute", "reached",
    ]  # fmt: skip


# --- the reference: every attempt of every user, tried in plain Python ------------------


def _holds(condition: Filter, value) -> bool:
    op, wanted = condition.op.removeprefix("not_"), condition.value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        passed = False
    elif op == "equals":
        passed = str(value) == wanted
    elif op == "contains":
        passed = wanted in str(value)
    elif op == "starts_with":
        passed = str(value).startswith(wanted)
    else:
        passed = str(value) in wanted
    return not passed if condition.op.startswith("not_") else passed


def _matches(step: Step, event: dict) -> bool:
    return event["event_name"] == step.event and all(
        _holds(f, event.get(f.column)) for f in step.filters
    )


def _by_user(events, steps, exclusions):
    """Per user: (second, row, {steps it matches}, is an exclusion), by second then row."""
    out = defaultdict(list)
    for row, event in enumerate(events.to_dict("records")):
        if event["user_id"] is None or pd.isna(event["timestamp"]):
            continue
        second = math.floor(event["timestamp"].timestamp())
        matched = {k for k, step in enumerate(steps) if _matches(step, event)}
        excluded = any(_matches(x, event) for x in exclusions)
        out[event["user_id"]].append((second, row, matched, excluded))
    return {user: sorted(evs, key=lambda e: (e[0], e[1])) for user, evs in out.items()}


def _attempt(evs, start, n, window, order):
    """The seconds of the steps one attempt (started at ``start``) matches, step 1 first."""
    horizon = min([start + window] + [s for s, _, _, x in evs if x and s > start])
    times = [start]
    for k in range(1, n):
        after = start if order == "any" else times[-1]
        found = [s for s, _, m, _ in evs if k in m and s >= after]
        if not found or min(found) > horizon:
            break
        if order == "strict" and any(
            times[-1] < s < min(found) and m and not m & {k - 1, k} for s, _, m, _ in evs
        ):
            break
        times.append(min(found))
    return times


def reference(events, steps, *, window, order="ordered", exclusions=()):
    """User -> (level, start second, entry row, matched seconds), the definition spelled out."""
    steps = [Step.of(s) for s in steps]
    exclusions = [Step.of(s) for s in exclusions]
    seconds = int(window.total_seconds())
    out = {}
    for user, evs in _by_user(events, steps, exclusions).items():
        for start, row, matched, _ in evs:
            if 0 in matched:
                times = _attempt(evs, start, len(steps), seconds, order)
                if user not in out or len(times) > out[user][0]:
                    out[user] = (len(times), start, row, times)
    return out


def best_chain(events, steps, *, window) -> dict:
    """``ordered`` without the greedy rule: the longest chain any events allow, by search."""
    steps = [Step.of(s) for s in steps]
    limit = int(window.total_seconds())

    def longest(evs, k, after, start):
        if k == len(steps):
            return k
        return max(
            [k]
            + [
                longest(evs, k + 1, s, start)
                for s, _, m, _ in evs
                if k in m and after <= s <= start + limit
            ]
        )

    return {
        user: max(longest(evs, 1, s, s) for s, _, m, _ in evs if 0 in m)
        for user, evs in _by_user(events, steps, []).items()
        if any(0 in m for _, _, m, _ in evs)
    }


# --- hypothesis -------------------------------------------------------------------------

NAMES = ["a", "b", "c", "d"]
STEP_POOL = [
    "a",
    "b",
    "c",
    "d",
    {"event": "a", "filters": [{"column": "p", "op": "equals", "value": "x"}]},
    {"event": "b", "filters": [{"column": "p", "op": "not_equals", "value": "x"}]},
    {"event": "c", "filters": [{"column": "p", "op": "in", "value": ["x", "y"]}]},
]
EXCLUSION_POOL = ["d", {"event": "c", "filters": [{"column": "p", "op": "equals", "value": "y"}]}]

event_rows = st.lists(
    st.tuples(
        st.sampled_from(["u1", "u1", "u2", None]),  # few users, many events each
        st.integers(0, 8),  # minutes
        st.sampled_from([0, 0, 0, 30, 59]),  # seconds
        st.sampled_from([0, 0, 500_000]),  # microseconds: compared at whole seconds
        st.sampled_from(NAMES),
        st.sampled_from(["x", "y", None]),
    ),
    max_size=30,
)
funnel_steps = st.lists(st.sampled_from(STEP_POOL), min_size=2, max_size=4)
windows = st.sampled_from([timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=5)])
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def random_events(rows) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": pd.Series([r[0] for r in rows], dtype=object),
            "timestamp": pd.Series(
                [T0 + pd.Timedelta(minutes=r[1], seconds=r[2], microseconds=r[3]) for r in rows],
                dtype="datetime64[us, UTC]",
            ),
            "event_name": pd.Series([r[4] for r in rows], dtype=object),
            "p": pd.Series([r[5] for r in rows], dtype=object),
        }
    )


@PROPERTY
@given(
    event_rows,
    funnel_steps,
    windows,
    st.sampled_from(funnels.ORDERS),
    st.lists(st.sampled_from(EXCLUSION_POOL), max_size=2),
)
def test_reached_equals_the_reference(rows, steps, window, order, exclusions):
    events = random_events(rows)
    out = reached(events, steps, window=window, order=order, exclusions=exclusions)
    expected = reference(events, steps, window=window, order=order, exclusions=exclusions)
    got = {}
    for record in out.to_dict("records"):
        times = [record[f"t{k}"] for k in range(1, len(steps) + 1)]
        seconds = [int(t.timestamp()) for t in times if not pd.isna(t)]
        assert all(pd.isna(t) for t in times[len(seconds) :])
        assert record["start"] == record["t1"]
        got[record["user_id"]] = (record["level"], seconds[0], record["entry_row"], seconds)
    assert got == expected


@PROPERTY
@given(event_rows, funnel_steps, windows)
def test_the_earliest_match_finds_the_longest_chain(rows, steps, window):
    events = random_events(rows)
    assert levels(events, steps, window=window) == best_chain(events, steps, window=window)


@PROPERTY
@given(event_rows, funnel_steps, windows, st.sampled_from(funnels.ORDERS))
def test_counts_never_increase_and_each_user_counts_once(rows, steps, window, order):
    events = random_events(rows)
    table = compute(events, steps, window=window, order=order, exclusions=["d"])
    counts = users(table)
    assert all(later <= earlier for earlier, later in pairwise(counts))
    first = Step.of(steps[0])
    starters = {
        e["user_id"]
        for e in events.to_dict("records")
        if e["user_id"] is not None and _matches(first, e)
    }
    assert counts[0] == len(starters)
    assert reached(events, steps, window=window, order=order)["user_id"].is_unique
    assert (table["dropped"] >= 0).all()


@PROPERTY
@given(event_rows, funnel_steps, windows, st.sampled_from(funnels.ORDERS))
def test_segments_add_up_to_the_total(rows, steps, window, order):
    events = random_events(rows)
    total = users(compute(events, steps, window=window, order=order))
    split = compute(events, steps, window=window, order=order, by="p")
    summed = split.groupby("position")["users"].sum()
    assert summed.reindex(range(1, len(steps) + 1), fill_value=0).tolist() == total
    assert not split["segment"].isna().any()


@PROPERTY
@given(event_rows, funnel_steps, st.lists(st.sampled_from(EXCLUSION_POOL), max_size=1))
def test_orders_and_windows_compare_as_they_should(rows, steps, exclusions):
    events = random_events(rows)

    def counts(**options):
        return np.array(users(compute(events, steps, exclusions=exclusions, **options)))

    ordered = counts()  # 7 days
    assert (counts(order="strict") <= ordered).all()
    assert (counts(order="any") >= ordered).all()
    one, three = counts(window=timedelta(minutes=1)), counts(window=timedelta(minutes=3))
    assert (one <= three).all() and (three <= ordered).all()
