"""Config files that crashed or hung the loader end in one clear line (issue 13, items 5, 9b).

Timing is never asserted here (bench/config_bombs.py measures it): that the billion laughs
returns at all, instead of running for minutes in 4.7 GB, is the test.
"""

from pathlib import Path

import pytest

from generator import yamlsafe
from generator.config import load_client
from generator.errors import ConfigError

#: ten aliases to ten aliases ... nine levels deep: 10^9 strings from ~600 bytes
BILLION_LAUGHS = "".join(
    ['lol0: &l0 "lol"\n']
    + [f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 10)]
)


def _line(text: str, fragment: str) -> int:
    return next(i for i, t in enumerate(text.splitlines(), 1) if fragment in t)


def _load_edited(content: Path, edit) -> tuple[str, str]:
    """Edit northwind's client.yml with ``edit(text) -> text``; (the new text, the error)."""
    path = content / "northwind" / "client.yml"
    text = edit(path.read_text())
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_client(path)
    message = str(err.value)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message, message
    return text, message


def _formula(new: str):
    return lambda t: t.replace("formula: (value * 0.45 - spend) / spend", f"formula: {new}")


@pytest.mark.parametrize(
    ("edit", "line_of", "expected"),
    [
        pytest.param(
            lambda t: t + "extra: &loop [1, *loop]\n",
            "extra:",
            "the alias *loop is used inside the value it names (a recursive alias)",
            id="recursive alias",
        ),
        pytest.param(
            lambda t: t + "extra: &loop {again: {<<: *loop}}\n",
            "extra:",
            "the alias *loop is used inside the value it names (a recursive alias)",
            id="recursive merge key",
        ),
        pytest.param(
            lambda t: BILLION_LAUGHS + t,
            "lol4:",
            "the alias *l3 takes the file past 5,000 values copied by aliases, the most a "
            "file may have",
            id="billion laughs",
        ),
        pytest.param(
            lambda t: t.replace("roas: 3.0", "roas: " + "9" * 5000),
            "roas:",
            "this number has 5,000 digits; a number may have at most 50 (quote it if it is text)",
            id="5,000-digit number",
        ),
        pytest.param(
            lambda t: t.replace("roas: 3.0", "roas: 0x" + "f" * 5000),
            "roas:",
            "this number has 5,000 digits; a number may have at most 50",
            id="5,000-digit hex number",
        ),
        pytest.param(
            lambda t: t + "extra: " + "[" * 10_000 + "]" * 10_000 + "\n",
            "extra:",
            "values are nested more than 50 deep",
            id="deep nesting",
        ),
        pytest.param(
            lambda t: t + "a: &a " + "[" * 40 + "]" * 40 + "\nb: " + "[" * 40 + "*a" + "]" * 40,
            "b: ",
            "through the alias *a values are nested more than 50 deep",
            id="deep nesting through an alias",
        ),
        pytest.param(
            _formula(" + ".join(["spend"] * 1000)),
            "formula:",
            "custom_kpis.profit_roas.formula: formula 'spend + spend + spend + spend ...' is "
            "7,997 characters long; a formula may have at most 500",
            id="formula of 1,000 terms",
        ),
        pytest.param(
            _formula("-" * 60 + "spend"),
            "formula:",
            "nests operations more than 50 deep",
            id="formula nested 60 deep",
        ),
        pytest.param(
            lambda t: t + "currency: EUR\n",
            "currency: EUR",
            "currency is written twice (lines 6 and 115); keep one",
            id="duplicate top-level key",
        ),
        pytest.param(
            lambda t: t.replace("  cpa: {target: 40", "  roas: 2.0\n  cpa: {target: 40"),
            "roas: 2.0",
            "kpi_targets.roas is written twice (lines 84 and 85); keep one",
            id="duplicate nested key",
        ),
        pytest.param(
            lambda t: t.replace(
                "      access_token: ${META_ACCESS_TOKEN}",
                "      access_token: ${A}\n      access_token: ${B}",
            ),
            "access_token: ${B}",
            "accounts[2].credentials.access_token is written twice (lines 26 and 27)",
            id="duplicate key in a list item",
        ),
        pytest.param(
            lambda t: t + "report_start: 2026-02-30\n",
            "report_start:",
            "'2026-02-30' is not a valid date",
            id="impossible date",
        ),
    ],
)
def test_a_config_bomb_ends_in_one_clear_line(content, edit, line_of, expected):
    text, message = _load_edited(content, edit)
    assert f"line {_line(text, line_of)}: " in message
    assert expected in message


def test_aliases_and_merge_keys_within_the_budget_still_work(content):
    path = content / "northwind" / "client.yml"
    text = path.read_text().replace(
        "    credentials: *google\n",
        "    credentials:\n      <<: *google\n      login_customer_id: '111-222-3333'\n",
    )
    path.write_text(text)
    client = load_client(path)
    first, second = client.accounts[0].credentials, client.accounts[1].credentials
    assert second == {**first, "login_customer_id": "111-222-3333"}


def test_an_error_in_a_copied_value_points_at_the_alias(content):
    path = content / "northwind" / "client.yml"
    text = path.read_text().replace("  roas: 3.0\n", "  roas: &bad {target: -1}\n  cpa: *bad\n")
    text = text.replace("  cpa: {target: 40, tolerance: 0.15}\n", "")
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_client(path)
    assert f"line {_line(text, 'cpa: *bad')}: kpi_targets.cpa.target" in str(err.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes: 1\ntrue: 2\n", "line 2: true is written twice (lines 1 and 2)"),
        ("1: a\n0x1: b\n", "line 2: 0x1 is written twice (lines 1 and 2)"),
        ("a: 1\nb:\n  x: 1\n  y: 2\n  x: 3\n", "line 5: b.x is written twice (lines 3 and 5)"),
        ("? [1, 2]\n: 1\n", "line 1: a key must be a plain value, not a list or mapping"),
        ("a: !!int abc\n", "line 1: 'abc' is not a valid whole number"),
        ("a: *nope\n", "line 1, column 4: not valid YAML (found undefined alias 'nope')"),
    ],
)
def test_yaml_refusals_name_the_line(tmp_path, text, expected):
    path = tmp_path / "client.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="^" + str(path)) as err:
        yamlsafe.read_mapping(path)
    assert expected in str(err.value)


def test_a_file_larger_than_the_limit(tmp_path):
    path = tmp_path / "client.yml"
    path.write_text("notes: '" + "x" * yamlsafe.MAX_BYTES + "'\n")
    with pytest.raises(ConfigError, match="larger than 256 KB"):
        yamlsafe.read_mapping(path)


def test_lines_of_the_written_fields_but_not_of_copies(tmp_path):
    path = tmp_path / "client.yml"
    path.write_text("base: &b\n  x: 1\nlist:\n  - *b\n  - y: 2\n")
    data, lines = yamlsafe.read_mapping(path)
    assert data == {"base": {"x": 1}, "list": [{"x": 1}, {"y": 2}]}
    assert lines == {
        ("base",): 1,
        ("base", "x"): 2,
        ("list",): 3,
        ("list", 0): 4,
        ("list", 1): 5,
        ("list", 1, "y"): 5,
    }
