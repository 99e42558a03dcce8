"""Attribution: hand-computed answers, an independent Markov oracle, invariants, bad input."""

from fractions import Fraction

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.analytics.attribution import (
    MODELS,
    NO_CAMPAIGN,
    UNATTRIBUTED,
    attribute_events,
    attribute_paths,
    compare_models,
    removal_effects,
)
from generator.errors import ReportError
from tests.analytics.markov_oracle import oracle_removal_effects

PATH_MODELS = [m for m in MODELS if m != "time_decay"]


def paths():
    # totals: 4 conversions, 35 value, 10 journeys
    return pd.DataFrame(
        {
            "path": ["a > b > c", "a", "b>c", " c >a "],
            "conversions": [1, 0, 2, 1],
            "value": [10.0, 0.0, 20.0, 5.0],
            "nulls": [1, 3, 2, 0],
        }
    )


def credits(frame, column="conversions"):
    return dict(zip(frame["channel"], frame[column], strict=True))


# -- paths form: every model by hand -------------------------------------------------------

THIRD = 1 / 3
HAND = {
    # model: ({channel: conversions}, {channel: value})
    "first_touch": ({"a": 1, "b": 2, "c": 1}, {"a": 10, "b": 20, "c": 5}),
    "last_touch": ({"a": 1, "b": 0, "c": 3}, {"a": 5, "b": 0, "c": 30}),
    # a>b>c: thirds; b>c: halves of 2; c>a: halves of 1
    "linear": (
        {"a": THIRD + 0.5, "b": THIRD + 1, "c": THIRD + 1.5},
        {"a": 10 / 3 + 2.5, "b": 10 / 3 + 10, "c": 10 / 3 + 12.5},
    ),
    # 40/20/40 on a>b>c, 50/50 on the two-touch paths
    "position_based": ({"a": 0.9, "b": 1.2, "c": 1.9}, {"a": 6.5, "b": 12, "c": 16.5}),
    # three touches: a third each; two: 50/50 (same as linear here)
    "w_shaped": (
        {"a": THIRD + 0.5, "b": THIRD + 1, "c": THIRD + 1.5},
        {"a": 10 / 3 + 2.5, "b": 10 / 3 + 10, "c": 10 / 3 + 12.5},
    ),
    "shapley": (
        {"a": THIRD + 0.5, "b": THIRD + 1, "c": THIRD + 1.5},
        {"a": 10 / 3 + 2.5, "b": 10 / 3 + 10, "c": 10 / 3 + 12.5},
    ),
}

# Markov by hand. Start: a 5/10, b 4/10, c 1/10. a -> b 2, null 3, conv 1 (of 6);
# b -> c 6 (of 6); c -> conv 3, null 3, a 1 (of 7). P(conv) = 0.4. Without a: 3/14; without b:
# 9/70; without c: 1/12. Expected value per journey 3.5; without a 15/7, b 6/7, c 5/12.
RE = {"a": Fraction(13, 28), "b": Fraction(19, 28), "c": Fraction(19, 24)}
RE_VALUE = {"a": Fraction(19, 49), "b": Fraction(37, 49), "c": Fraction(37, 42)}


def shares(effects, total):
    norm = sum(effects.values())
    return {k: float(v / norm * total) for k, v in effects.items()}


HAND["markov"] = (shares(RE, 4), shares(RE_VALUE, 35))


@pytest.mark.parametrize("model", PATH_MODELS)
def test_paths_models_match_hand_computation(model):
    out = attribute_paths(paths(), model)
    assert list(out.columns) == ["channel", "conversions", "value"]
    assert out["channel"].tolist() == ["a", "b", "c"]
    conversions, value = HAND[model]
    assert credits(out) == pytest.approx(conversions)
    assert credits(out, "value") == pytest.approx(value)


def test_markov_removal_effects_by_hand():
    out = removal_effects(paths()).set_index("channel")
    assert out["removal_effect"].to_dict() == pytest.approx({k: float(v) for k, v in RE.items()})
    assert out["value_removal_effect"].to_dict() == pytest.approx(
        {k: float(v) for k, v in RE_VALUE.items()}
    )


def test_position_based_shares_are_configurable():
    out = attribute_paths(paths(), "position_based", first_share=0.6, last_share=0.2)
    # a>b>c: .6/.2/.2 ; b>c x2: .75/.25 ; c>a: .75/.25
    assert credits(out) == pytest.approx({"a": 0.6 + 0.25, "b": 0.2 + 1.5, "c": 0.2 + 0.5 + 0.75})


def test_position_based_spreads_the_middle_and_w_shaped_four_touches():
    frame = pd.DataFrame({"path": ["a > b > c > d > e"], "conversions": [10]})
    u = credits(attribute_paths(frame, "position_based"))
    assert u == pytest.approx({"a": 4, "b": 2 / 3, "c": 2 / 3, "d": 2 / 3, "e": 4})
    w = credits(attribute_paths(frame, "w_shaped"))  # lead: the middle touch (index 2)
    assert w == pytest.approx({"a": 3, "b": 0.5, "c": 3, "d": 0.5, "e": 3})


def test_repeated_channels_get_a_share_per_touch_but_one_shapley_share():
    frame = pd.DataFrame({"path": ["a > b > a"], "conversions": [3], "value": [30.0]})
    assert credits(attribute_paths(frame, "linear")) == pytest.approx({"a": 2, "b": 1})
    assert credits(attribute_paths(frame, "shapley")) == pytest.approx({"a": 1.5, "b": 1.5})
    # without a nothing converts (RE 1); without b half does (RE 1/2): 2 and 1
    assert credits(attribute_paths(frame, "markov")) == pytest.approx({"a": 2, "b": 1})


def test_markov_orders_agree_with_an_independent_oracle():
    for order in (1, 2, 3):
        effects = removal_effects(paths(), order=order).set_index("channel")
        expected = oracle_removal_effects(paths(), order)
        assert effects["removal_effect"].to_dict() == pytest.approx(expected)


def test_markov_sparse_solver_matches_dense(monkeypatch):
    frame = paths()
    dense = attribute_paths(frame, "markov", order=2)
    monkeypatch.setattr("generator.analytics.attribution._markov.DENSE_STATES", 0)
    monkeypatch.setattr("generator.analytics.attribution._markov.DENSE_PAIRS", 0)
    sparse = attribute_paths(frame, "markov", order=2)
    pd.testing.assert_frame_equal(dense, sparse, rtol=1e-12)


def test_shapley_bitmap_and_sort_agree(monkeypatch):
    bitmap = attribute_paths(paths(), "shapley")
    monkeypatch.setattr("generator.analytics.attribution._journeys.DENSE_KEYS", 0)
    pd.testing.assert_frame_equal(bitmap, attribute_paths(paths(), "shapley"))


# -- documented results for degenerate input -------------------------------------------------


@pytest.mark.parametrize("model", PATH_MODELS)
def test_a_single_channel_world_gets_everything(model):
    frame = pd.DataFrame(
        {"path": ["a", "a > a"], "conversions": [2, 1], "value": [5.0, 1.0], "nulls": [4, 0]}
    )
    out = attribute_paths(frame, model)
    assert out.to_dict("list") == {"channel": ["a"], "conversions": [3.0], "value": [6.0]}


@pytest.mark.parametrize("model", PATH_MODELS)
def test_zero_conversions_give_zero_credit_to_every_channel(model):
    frame = paths().assign(conversions=0, value=0.0)
    out = attribute_paths(frame, model)
    assert out["channel"].tolist() == ["a", "b", "c"]
    assert (out[["conversions", "value"]] == 0).all().all()


@pytest.mark.parametrize("model", PATH_MODELS)
def test_no_paths_give_an_empty_table(model):
    out = attribute_paths(pd.DataFrame({"path": [], "conversions": []}), model)
    assert list(out.columns) == ["channel", "conversions", "value"] and out.empty


def test_removal_effects_from_events_by_hand():
    # journeys: search>social>email (100), display (null), search (20), email (30), display
    # (null). P(conv) = 3/5; without email 1/5, search 1/5, social 2/5. Expected value per
    # journey 30; without email 4, search 13, social 17.
    out = removal_effects(touchpoints(), conversions()).set_index("channel")
    assert out["removal_effect"].to_dict() == pytest.approx(
        {"display": 0, "email": 2 / 3, "search": 2 / 3, "social": 1 / 3}
    )
    assert out["value_removal_effect"].to_dict() == pytest.approx(
        {"display": 0, "email": 26 / 30, "search": 17 / 30, "social": 13 / 30}
    )
    by_campaign = removal_effects(touchpoints(), conversions(), order=2, grain="campaign")
    assert list(by_campaign.columns) == [
        "channel",
        "campaign_id",
        "removal_effect",
        "value_removal_effect",
    ]
    empty = removal_effects(touchpoints().iloc[:0], conversions())
    assert empty.empty and list(empty.columns) == [
        "channel",
        "removal_effect",
        "value_removal_effect",
    ]


def test_removal_effects_without_conversions_are_zero():
    out = removal_effects(paths().assign(conversions=0, value=0.0))
    assert (out[["removal_effect", "value_removal_effect"]] == 0).all().all()


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"path": ["a"]}), "lacks column.*'conversions'"),
        (pd.DataFrame({"conversions": [1]}), "lacks column.*'path'"),
        ([("a", 1)], "must be a pandas DataFrame"),
        (pd.DataFrame({"path": ["a > > b"], "conversions": [1]}), "empty channel name"),
        (pd.DataFrame({"path": ["a", ""], "conversions": [1, 1]}), r"'' \(row 1\)"),
        (pd.DataFrame({"path": ["a >"], "conversions": [1]}), "empty channel name"),
        (pd.DataFrame({"path": ["a", None], "conversions": [1, 1]}), "row 1 has no path"),
        (pd.DataFrame({"path": [1, 2], "conversions": [1, 1]}), "must hold text"),
        (pd.DataFrame({"path": ["a", 2], "conversions": [1, 1]}), "must hold text"),
        (pd.DataFrame({"path": ["a"], "conversions": [-1]}), "conversions must be a non-neg"),
        (pd.DataFrame({"path": ["a"], "conversions": [1], "nulls": [-2]}), "nulls must"),
        (pd.DataFrame({"path": ["a"], "conversions": [1], "value": ["x"]}), "value must"),
        (pd.DataFrame({"path": ["a"], "conversions": [np.inf]}), "row 0 has .*inf"),
    ],
)
def test_bad_paths_are_refused_clearly(frame, message):
    with pytest.raises(ReportError, match=message):
        attribute_paths(frame, "linear")


@pytest.mark.parametrize(
    ("model", "options", "message"),
    [
        ("u_shaped", {}, "unknown attribution model 'u_shaped'"),
        ("linear", {"order": 2}, "has no option 'order' .it takes no options"),
        ("markov", {"half_life_days": 3}, r"no option 'half_life_days' \(it takes order\)"),
        ("markov", {"order": 0}, "order must be a whole number"),
        ("markov", {"order": 1.5}, "order must be a whole number"),
        ("markov", {"order": True}, "order must be a whole number"),
        ("time_decay", {}, "needs touch times"),
        ("position_based", {"first_share": 0.7, "last_share": 0.7}, "sum to at most 1"),
        ("position_based", {"first_share": -0.1}, "non-negative"),
        ("position_based", {"first_share": 0, "last_share": 0}, "not both zero"),
        ("position_based", {"first_share": "0.4"}, "non-negative"),
    ],
)
def test_bad_models_and_options(model, options, message):
    with pytest.raises(ReportError, match=message):
        attribute_paths(paths(), model, **options)


# -- events form --------------------------------------------------------------------------

DAY = pd.Timedelta(days=1)
T0 = pd.Timestamp("2026-10-01", tz="UTC")


def touchpoints():
    rows = [
        ("u1", 0, "search", "s1", "click"),
        ("u1", 1, "social", "f1", "lead"),
        ("u1", 2, "email", None, "click"),
        ("u1", 10, "display", "d1", "view"),  # after u1's conversion: a non-converting journey
        ("u2", 0, "social", "f2", "view"),  # 40 days before its conversion: outside lookback
        ("u3", 0, "search", "s1", "click"),
        ("u3", 2, "email", None, "click"),
        ("u4", 5, "display", "d1", "view"),  # never converts
    ]
    return pd.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "timestamp": [T0 + r[1] * DAY for r in rows],
            "channel": [r[2] for r in rows],
            "campaign_id": [r[3] for r in rows],
            "interaction": [r[4] for r in rows],
        }
    )


def conversions():
    return pd.DataFrame(
        {
            "user_id": ["u1", "u2", "u3", "u3"],
            "timestamp": [T0 + 3 * DAY, T0 + 40 * DAY, T0 + 1 * DAY, T0 + 2 * DAY],
            "value": [100.0, 50.0, 20.0, 30.0],
        }
    )


def test_events_journeys_by_hand():
    first = attribute_events(touchpoints(), conversions(), "first_touch")
    assert first.to_dict("list") == {
        "channel": ["display", "email", "search", "social", UNATTRIBUTED],
        "conversions": [0.0, 1.0, 2.0, 0.0, 1.0],  # u3's email touch at its conversion counts
        "value": [0.0, 30.0, 120.0, 0.0, 50.0],
    }
    last = attribute_events(touchpoints(), conversions(), "last_touch")
    assert credits(last) == {"display": 0, "email": 2, "search": 1, "social": 0, UNATTRIBUTED: 1}
    linear = attribute_events(touchpoints(), conversions(), "linear")
    assert credits(linear, "value") == pytest.approx(
        {
            "display": 0,
            "email": 100 / 3 + 30,
            "search": 100 / 3 + 20,
            "social": 100 / 3,
            UNATTRIBUTED: 50,
        }
    )


def test_time_decay_halves_every_half_life():
    out = attribute_events(touchpoints(), conversions(), "time_decay", half_life_days=1)
    # u1: touches 3, 2 and 1 days before: weights 1/8, 1/4, 1/2 -> 1/7, 2/7, 4/7
    assert credits(out) == pytest.approx(
        {"display": 0, "email": 4 / 7 + 1, "search": 1 / 7 + 1, "social": 2 / 7, UNATTRIBUTED: 1}
    )
    default = attribute_events(touchpoints(), conversions(), "time_decay")
    w = np.exp2(-np.array([3, 2, 1]) / 7)
    assert credits(default)["social"] == pytest.approx(w[1] / w.sum())


def test_w_shaped_uses_the_lead_milestone():
    out = attribute_events(touchpoints(), conversions(), "w_shaped", lead_interaction="lead")
    # u1: search first, social created the lead, email (last) the opportunity: thirds
    assert credits(out)["social"] == pytest.approx(1 / 3)
    tp = touchpoints()
    tp.loc[tp["channel"] == "search", "interaction"] = "opportunity"
    moved = attribute_events(tp, conversions(), "w_shaped")
    # u1: search is first and opportunity (0.6), social the lead (0.3), email the rest (0.1)
    assert credits(moved)["search"] == pytest.approx(0.6 + 1)
    assert credits(moved)["email"] == pytest.approx(0.1 + 1)


def test_campaign_grain():
    out = attribute_events(touchpoints(), conversions(), "last_touch", grain="campaign")
    assert list(out.columns) == ["channel", "campaign_id", "conversions", "value"]
    rows = {
        (c, k): v
        for c, k, v in zip(out["channel"], out["campaign_id"], out["conversions"], strict=True)
    }
    assert rows[("email", NO_CAMPAIGN)] == 2 and rows[("search", "s1")] == 1
    assert rows[(UNATTRIBUTED, NO_CAMPAIGN)] == 1
    assert ("social", "f1") in rows  # a player even though it never gets credit
    assert ("social", "f2") not in rows  # outside every lookback window: in no journey


def test_unattributed_conversions_can_be_refused():
    with pytest.raises(ReportError, match="1 conversion.s. have no touchpoint"):
        attribute_events(touchpoints(), conversions(), "linear", unattributed="raise")
    ok = conversions().iloc[[0, 2, 3]]
    out = attribute_events(touchpoints(), ok, "linear", unattributed="raise")
    assert UNATTRIBUTED not in set(out["channel"])


def test_lookback_and_value_micros_and_naive_times():
    conv = conversions().drop(columns=["value"]).assign(value_micros=[1, 2, 3, 4])
    conv["timestamp"] = conv["timestamp"].dt.tz_localize(None)
    out = attribute_events(touchpoints(), conv, "first_touch", lookback_days=45)
    assert credits(out)["social"] == 1  # u2's old touch is now in its window
    assert out["value"].sum() == pytest.approx(10e-6)
    worthless = attribute_events(touchpoints(), conversions().drop(columns=["value"]), "linear")
    assert worthless["value"].sum() == 0


def test_only_unattributed_conversions():
    out = attribute_events(touchpoints().iloc[:0], conversions(), "markov")
    assert out.to_dict("list") == {
        "channel": [UNATTRIBUTED],
        "conversions": [4.0],
        "value": [200.0],
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t, c: (t.drop(columns=["channel"]), c), "touchpoints lacks column.*'channel'"),
        (lambda t, c: (t, c.drop(columns=["user_id"])), "conversions lacks column"),
        (lambda t, c: (t.assign(channel=[None] + ["x"] * 7), c), "has no channel"),
        (lambda t, c: (t.assign(channel=[" "] + ["x"] * 7), c), "empty channel name"),
        (lambda t, c: (t.assign(user_id=[None] + ["u"] * 7), c), "has no user_id"),
        (lambda t, c: (t.assign(timestamp=[None, *list(t["timestamp"][1:])]), c), "row 0 has no"),
        (lambda t, c: (t.assign(timestamp="soon"), c), "must hold dates"),
        (lambda t, c: (t, c.assign(value=[-1.0, 1, 1, 1])), "value must be a non-negative"),
        (lambda t, c: (t, c.assign(currency=["EUR", "USD", "USD", "USD"])), "mix currencies"),
    ],
)
def test_bad_events_are_refused_clearly(change, message):
    tp, conv = change(touchpoints(), conversions())
    with pytest.raises(ReportError, match=message):
        attribute_events(tp, conv, "linear")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lookback_days": 0}, "lookback_days must be a positive"),
        ({"lookback_days": "30"}, "lookback_days must be a positive"),
        ({"grain": "ad"}, "grain must be"),
        ({"unattributed": "drop"}, "unattributed must be"),
        ({"half_life_days": 0, "model": "time_decay"}, "half_life_days must be a positive"),
    ],
)
def test_bad_event_options(kwargs, message):
    kwargs = {"model": "linear", **kwargs}
    with pytest.raises(ReportError, match=message):
        attribute_events(touchpoints(), conversions(), **kwargs)


def test_campaign_grain_needs_campaign_ids():
    with pytest.raises(ReportError, match="'campaign_id'"):
        attribute_events(
            touchpoints().drop(columns=["campaign_id"]), conversions(), "linear", grain="campaign"
        )


# -- compare_models ----------------------------------------------------------------------------


def test_compare_models_side_by_side():
    out = compare_models(paths())
    assert list(out.columns) == ["channel", *PATH_MODELS, *(f"{m}_value" for m in PATH_MODELS)]
    for model in PATH_MODELS:
        assert dict(zip(out["channel"], out[model], strict=True)) == pytest.approx(HAND[model][0])
    events = compare_models(touchpoints(), conversions(), half_life_days=1, order=2)
    assert list(events.columns[1:9]) == list(MODELS)
    assert events[list(MODELS)].sum().to_numpy() == pytest.approx([4.0] * 8)
    campaign = compare_models(touchpoints(), conversions(), grain="campaign", models=["linear"])
    assert list(campaign.columns) == ["channel", "campaign_id", "linear", "linear_value"]


def test_compare_models_checks_options_and_models():
    with pytest.raises(ReportError, match="no compared model takes the option 'half_lif'"):
        compare_models(paths(), half_lif=3)
    with pytest.raises(ReportError, match="unknown attribution model"):
        compare_models(paths(), models=["nope"])
    with pytest.raises(ReportError, match="at least one model"):
        compare_models(paths(), models=[])


# -- invariants -------------------------------------------------------------------------------

CHANNEL = st.sampled_from(["a", "b", "c", "d", "e"])
PATHS = st.lists(
    st.tuples(
        st.lists(CHANNEL, min_size=1, max_size=6),
        st.integers(0, 5),
        st.floats(0, 1000, allow_nan=False),
        st.integers(0, 5),
    ),
    min_size=1,
    max_size=12,
)


def frame_of(rows):
    """Paths of the rows; a path without conversions has no value (its conversions' value)."""
    return pd.DataFrame(
        {
            "path": [" > ".join(p) for p, *_ in rows],
            "conversions": [r[1] for r in rows],
            "value": [r[2] if r[1] else 0.0 for r in rows],
            "nulls": [r[3] for r in rows],
        }
    )


def test_value_without_conversions_is_refused():
    frame = pd.DataFrame({"path": ["a > b", "b"], "conversions": [2, 0], "value": [9.0, 1.0]})
    with pytest.raises(ReportError, match=r"'b' \(row 1\) has value 1 but no conversions"):
        attribute_paths(frame, "markov")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PATHS, st.sampled_from(PATH_MODELS), st.integers(1, 3))
def test_credits_sum_to_conversions_and_value(rows, model, order):
    frame = frame_of(rows)
    options = {"order": order} if model == "markov" else {}
    out = attribute_paths(frame, model, **options)
    assert out["conversions"].sum() == pytest.approx(frame["conversions"].sum(), abs=1e-9)
    assert out["value"].sum() == pytest.approx(frame["value"].sum(), rel=1e-9, abs=1e-9)
    assert (out[["conversions", "value"]] >= -1e-12).all().all()
    assert frame.equals(frame_of(rows))  # input untouched


@settings(max_examples=60, deadline=None)
@given(PATHS, st.integers(1, 3))
def test_removal_effects_lie_in_unit_interval_and_match_the_oracle(rows, order):
    frame = frame_of(rows)
    out = removal_effects(frame, order=order)
    effects = out[["removal_effect", "value_removal_effect"]].to_numpy()
    assert ((effects >= 0) & (effects <= 1)).all()
    expected = oracle_removal_effects(frame, order)
    assert dict(zip(out["channel"], out["removal_effect"], strict=True)) == pytest.approx(
        expected, abs=1e-9
    )


EVENTS = st.lists(
    st.tuples(st.integers(0, 4), st.integers(0, 60), CHANNEL, st.booleans(), st.floats(0, 100)),
    min_size=1,
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(EVENTS, st.sampled_from(list(MODELS)), st.sampled_from(["channel", "campaign"]))
def test_event_credits_sum_to_conversions_and_value(events, model, grain):
    touches = [e for e in events if not e[3]]
    convs = [e for e in events if e[3]]
    tp = pd.DataFrame(
        {
            "user_id": [f"u{e[0]}" for e in touches],
            "timestamp": [T0 + e[1] * DAY for e in touches],
            "channel": [e[2] for e in touches],
            "campaign_id": [e[2] + str(e[1] % 2) for e in touches],
        }
    )
    conv = pd.DataFrame(
        {
            "user_id": [f"u{e[0]}" for e in convs],
            "timestamp": [T0 + e[1] * DAY for e in convs],
            "value": [e[4] for e in convs],
        }
    )
    out = attribute_events(tp, conv, model, lookback_days=20, grain=grain)
    assert out["conversions"].sum() == pytest.approx(len(conv))
    assert out["value"].sum() == pytest.approx(conv["value"].sum(), abs=1e-9)


def test_arrow_backed_paths_in_several_chunks():
    chunked = pa.chunked_array([["a > b", "b"], ["c > a"]])
    frame = pd.DataFrame({"path": pd.arrays.ArrowExtensionArray(chunked), "conversions": [1, 1, 2]})
    assert credits(attribute_paths(frame, "last_touch")) == {"a": 2, "b": 2, "c": 0}
