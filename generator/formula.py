"""A safe parser for the arithmetic of custom KPIs (``(value - spend) / spend``).

Formulas come from client.yml, so they are untrusted text: they are parsed with ``ast`` and
only numbers, named components, ``+ - * /``, unary minus and parentheses are accepted. Nothing
is ever passed to ``eval``. Division by zero yields null (``nan`` in the float result), in line
with the rule that a ratio with a zero denominator is null.

A formula is at most ``MAX_LENGTH`` characters with operations nested at most ``MAX_DEPTH``
deep (``a + b + c`` is two deep), so neither parsing nor evaluating it can exhaust Python's
stack: a custom KPI needs a few dozen characters.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "Formula", "FormulaError", "parse"]

#: characters in a formula
MAX_LENGTH = 500
#: operations nested in a formula (a sum of 51 terms is 50 deep; brackets alone add nothing)
MAX_DEPTH = 50

_OPERATORS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply}


class FormulaError(ValueError):
    """A formula is not valid; the message quotes it."""


@dataclass(frozen=True)
class Formula:
    """A parsed formula: its source text, the component names it uses, and its syntax tree."""

    text: str
    names: frozenset[str]
    _tree: ast.expr

    def evaluate(self, components: Mapping[str, object]) -> np.ndarray:
        """Evaluate element-wise over arrays (or scalars) of the named components.

        Returns a float array; positions that divide by zero are ``nan``.
        """
        missing = sorted(self.names - set(components))
        if missing:
            raise FormulaError(f"formula {self.text!r} needs {', '.join(missing)}")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(_eval(self._tree, components), dtype="float64")


def parse(text: str, allowed: Iterable[str] | None = None) -> Formula:
    """Parse ``text``; with ``allowed``, every name used must be one of them.

    Raises:
        FormulaError: quoting the formula and saying what is wrong with it.
    """
    if not isinstance(text, str) or not text.strip():
        raise FormulaError(f"formula {text!r} is empty")
    if len(text) > MAX_LENGTH:
        raise FormulaError(
            f"formula {text[:30] + '...'!r} is {len(text):,} characters long; "
            f"a formula may have at most {MAX_LENGTH}"
        )
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise FormulaError(f"formula {text!r} is not valid arithmetic: {exc.msg}") from None
    if _depth(tree) > MAX_DEPTH:
        raise FormulaError(
            f"formula {text!r} nests operations more than {MAX_DEPTH} deep; split it into "
            "simpler KPIs"
        )
    names = frozenset(_check(tree, text))
    if allowed is not None:
        unknown = sorted(names - set(allowed))
        if unknown:
            known = ", ".join(sorted(allowed))
            raise FormulaError(
                f"formula {text!r} uses unknown name {unknown[0]!r}; known names: {known}"
            )
    return Formula(text=text, names=names, _tree=tree)


def _depth(tree: ast.AST) -> int:
    """How deeply operations nest, counted without recursion."""
    deepest, todo = 0, [(tree, 0)]
    while todo:
        node, depth = todo.pop()
        if isinstance(node, ast.BinOp | ast.UnaryOp):
            depth += 1
        deepest = max(deepest, depth)
        todo.extend((child, depth) for child in ast.iter_child_nodes(node))
    return deepest


def _check(node: ast.AST, text: str) -> list[str]:
    """Reject every construct but arithmetic; return the names used."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (*_OPERATORS, ast.Div)):
        return _check(node.left, text) + _check(node.right, text)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _check(node.operand, text)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return []
    if isinstance(node, ast.Name):
        return [node.id]
    shown = ast.get_source_segment(text.strip(), node) or type(node).__name__
    raise FormulaError(
        f"formula {text!r}: {shown!r} is not allowed (only numbers, names, + - * / and brackets)"
    )


def _eval(node: ast.expr, env: Mapping[str, object]):
    if isinstance(node, ast.BinOp):
        left = np.asarray(_eval(node.left, env), dtype="float64")
        right = np.asarray(_eval(node.right, env), dtype="float64")
        if isinstance(node.op, ast.Div):
            return np.where(right == 0, np.nan, left / np.where(right == 0, 1.0, right))
        return _OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp):
        value = np.asarray(_eval(node.operand, env), dtype="float64")
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Constant):
        return float(node.value)
    return env[node.id]  # an ast.Name: _check admitted nothing else
