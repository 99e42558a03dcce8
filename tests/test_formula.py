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
