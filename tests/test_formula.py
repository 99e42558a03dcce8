import numpy as np
import pytest

from generator import formula


def test_arithmetic_over_components():
    f = formula.parse("(value - spend) / spend * 100", allowed=["value", "spend"])
    assert f.names == {"value", "spend"}
    out = f.evaluate({"value": np.array([300.0, 5.0]), "spend": np.array([100.0, 0.0])})
    assert out[0] == 200.0 and np.isnan(out[1])
    assert formula.parse("-clicks + +2").evaluate({"clicks": 3}) == -1.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("spend /", "is not valid arithmetic"),
        ("__import__('os').system('x')", "is not allowed"),
        ("spend ** 2", "is not allowed"),
        ("spend if clicks else 1", "is not allowed"),
        ("'text'", "is not allowed"),
        ("revenue / spend", "unknown name 'revenue'"),
    ],
)
def test_everything_but_arithmetic_is_refused_and_quoted(text, message):
    with pytest.raises(formula.FormulaError, match=message) as err:
        formula.parse(text, allowed=["spend", "clicks"])
    assert repr(text) in str(err.value)


def test_evaluate_needs_every_name():
    with pytest.raises(formula.FormulaError, match="needs spend"):
        formula.parse("spend / clicks").evaluate({"clicks": 1})
    with pytest.raises(formula.FormulaError, match="is empty"):
        formula.parse(None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            " + ".join(["spend"] * 1000),
            "formula 'spend + spend + spend + spend ...' is 7,997 characters long; "
            "a formula may have at most 500",
        ),
        ("-" * 60 + "spend", "nests operations more than 50 deep; split it into simpler KPIs"),
        ("+".join(["spend"] * 52), "nests operations more than 50 deep"),
    ],
)
def test_a_formula_too_long_or_too_deep_is_refused_not_a_crash(text, message):
    with pytest.raises(formula.FormulaError) as err:
        formula.parse(text, allowed=["spend"])
    assert message in str(err.value)


def test_a_formula_at_the_limits_still_parses_and_evaluates():
    deepest = formula.parse("+".join(["spend"] * (formula.MAX_DEPTH + 1)))
    assert deepest.evaluate({"spend": 2.0}) == 2.0 * (formula.MAX_DEPTH + 1)
    longest = "spend / 2" + " " * (formula.MAX_LENGTH - 9)
    assert formula.parse(longest).evaluate({"spend": 2.0}) == 1.0
