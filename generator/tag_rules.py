"""A safe little language for the creative tags of client.yml (``discount: "headline contains
'sale' or '%'"``).

Rules come from client.yml, so they are untrusted text: they are tokenised and parsed by hand,
never passed to ``eval``, and limited to ``MAX_LENGTH`` characters nested at most ``MAX_DEPTH``
deep (each bracket and each ``not`` is a level).

A rule combines comparisons with ``and``, ``or``, ``not`` and brackets (``not`` binds tightest,
then ``and``, then ``or``). A comparison is a field, an operator and a value; keywords, fields
and text comparisons ignore case::

    headline contains 'sale'        body starts with "new"       landing_url ends with '/shop'
    format is 'video'               copy matches '\\d+ ?%'       duration > 15     aspect <= 1

A value may be followed by ``or`` and more values of the same kind: ``headline contains 'sale'
or '%'`` means "headline contains 'sale' or headline contains '%'". Strings take single or
double quotes; ``\\'``, ``\\"`` and ``\\\\`` stand for the character, any other backslash is kept
as written, so a regular expression reads as it would anywhere else. ``matches`` searches (use
``^`` and ``$`` to anchor) with Python's ``re``; patterns longer than ``MAX_PATTERN`` and patterns
that repeat a repeated or alternating group (``(a+)+``, ``(a|b)*``: the shapes whose matching
time explodes) are refused, and only the first ``MAX_MATCH_TEXT`` characters of a value are
searched.

A comparison with a missing value (or a column the table lacks) is unknown, and unknown never
matches: logic is three-valued as in SQL, so ``not headline contains 'sale'`` does not match an
ad without a headline either.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import NoReturn

import pandas as pd

__all__ = [
    "FIELDS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_MATCH_TEXT",
    "MAX_PATTERN",
    "NUMBER_FIELDS",
    "TEXT_FIELDS",
    "TagRule",
    "TagRuleError",
    "field_values",
    "parse",
]

#: characters in a rule
MAX_LENGTH = 300
#: brackets and ``not``s nested in a rule
MAX_DEPTH = 20
#: characters in a ``matches`` pattern
MAX_PATTERN = 200
#: characters of a value that ``matches`` searches
MAX_MATCH_TEXT = 2000

#: text fields: the creatives table's columns, plus ``copy`` (headline and body)
TEXT_FIELDS = (
    "headline", "body", "copy", "name", "call_to_action", "landing_url", "display_url",
    "format", "platform", "language",
)  # fmt: skip
#: numeric fields, derived from the creatives table's columns
NUMBER_FIELDS = ("copy_length", "headline_length", "duration", "width", "height", "aspect")
FIELDS = TEXT_FIELDS + NUMBER_FIELDS

_TEXT_OPS = ("contains", "starts with", "ends with", "is", "matches")
_NUMBER_OPS = (">", ">=", "<", "<=", "=")
_KEYWORDS = ("and", "or", "not")
_TOKEN = re.compile(
    r"(?P<space>\s+)|(?P<num>-?\d+(?:\.\d+)?)|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>>=|<=|[<>=])|(?P<lparen>\()|(?P<rparen>\))"
)
_UNESCAPED = {"'": "'", '"': '"', "\\": "\\"}


class TagRuleError(ValueError):
    """A tag rule is not valid; the message quotes it and says at which character."""


@dataclass(frozen=True)
class _Token:
    kind: str  # str, num, word, op, lparen, rparen, end
    value: str
    pos: int  # 0-based offset into the rule's text


@dataclass(frozen=True)
class _Compare:
    field: str
    op: str
    values: tuple  # str (casefolded), float, or re.Pattern for ``matches``


@dataclass(frozen=True)
class _Not:
    child: _Node


@dataclass(frozen=True)
class _Join:
    op: str  # "and" or "or"
    children: tuple[_Node, ...]


_Node = _Compare | _Not | _Join


@dataclass(frozen=True)
class TagRule:
    """A parsed rule: its source text, the fields it reads, and its syntax tree."""

    text: str
    fields: frozenset[str]
    _tree: _Node

    def evaluate(self, frame: pd.DataFrame) -> pd.Series:
        """Whether each row matches, as a bool Series on ``frame``'s index.

        Missing values (and columns ``frame`` lacks) never match; see the module docstring.
        """
        columns = {name: field_values(frame, name) for name in self.fields}
        result = _evaluate(self._tree, columns)
        return result.fillna(False).astype(bool).rename(None)


def parse(text: str) -> TagRule:
    """Parse a tag rule.

    Raises:
        TagRuleError: quoting the rule, the character at which it goes wrong and why.
    """
    if not isinstance(text, str) or not text.strip():
        raise TagRuleError(f"tag rule {text!r} is empty; write e.g. \"headline contains 'sale'\"")
    if len(text) > MAX_LENGTH:
        raise TagRuleError(
            f"tag rule {text[:30] + '...'!r} is {len(text):,} characters long; "
            f"a rule may have at most {MAX_LENGTH}"
        )
    parser = _Parser(text)
    tree = parser.rule()
    return TagRule(text=text, fields=frozenset(parser.fields), _tree=tree)


def field_values(frame: pd.DataFrame, field: str) -> pd.Series:
    """The values of a rule's ``field`` for each row of ``frame``.

    Text fields come as a ``string`` Series, numeric fields as ``Float64`` (``duration`` in
    seconds, ``aspect`` width / height, ``copy_length`` the characters of headline and body);
    both hold ``<NA>`` where the value is missing, as everywhere when ``frame`` lacks the
    column.

    Raises:
        TagRuleError: for a name not in ``FIELDS``.
    """
    if field == "copy":
        headline, body = _text(frame, "headline"), _text(frame, "body")
        return (headline + "\n" + body).fillna(headline).fillna(body)
    if field in TEXT_FIELDS:
        return _text(frame, field)
    if field == "copy_length":
        headline, body = _text(frame, "headline"), _text(frame, "body")
        total = headline.str.len().fillna(0) + body.str.len().fillna(0)
        return total.astype("Float64").where(headline.notna() | body.notna())
    if field == "headline_length":
        return _text(frame, "headline").str.len().astype("Float64")
    if field == "duration":
        return _number(frame, "duration_ms") / 1000
    if field == "aspect":
        height = _number(frame, "height")
        return _number(frame, "width").where(height > 0) / height.where(height > 0)
    if field in NUMBER_FIELDS:
        return _number(frame, field)
    raise TagRuleError(f"unknown field {field!r}; fields: {', '.join(FIELDS)}")


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    values = frame[column]
    return values.where(values.notna()).astype("string")


def _number(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="Float64")
    return pd.to_numeric(frame[column], errors="coerce").astype("Float64")


# -- parsing --------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the tokens; nesting is bounded by ``MAX_DEPTH``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.at = 0
        self.depth = 0
        self.fields: set[str] = set()

    def rule(self) -> _Node:
        tree = self._any()
        token = self._peek()
        if token.kind != "end":
            self._fail(token, f"expected 'and', 'or' or the end, not {_shown(token)}")
        return tree

    def _any(self) -> _Node:
        return self._join("or", self._all)

    def _all(self) -> _Node:
        return self._join("and", self._unary)

    def _join(self, op: str, part) -> _Node:
        children = [part()]
        while self._is_word(self._peek(), op):
            self.at += 1
            children.append(part())
        return children[0] if len(children) == 1 else _Join(op, tuple(children))

    def _unary(self) -> _Node:
        token = self._peek()
        if self._is_word(token, "not"):
            self._enter(token)
            self.at += 1
            node = _Not(self._unary())
            self.depth -= 1
            return node
        if token.kind == "lparen":
            self._enter(token)
            self.at += 1
            node = self._any()
            closing = self._peek()
            if closing.kind != "rparen":
                self._fail(closing, f"expected ')' to close the '(' at character "
                                    f"{token.pos + 1}, not {_shown(closing)}")  # fmt: skip
            self.at += 1
            self.depth -= 1
            return node
        return self._comparison()

    def _comparison(self) -> _Compare:
        token = self._next()
        if token.kind != "word" or token.value.lower() in _KEYWORDS:
            self._fail(token, f"expected a field or '(', not {_shown(token)}")
        field = token.value.lower()
        if field not in FIELDS:
            close = difflib.get_close_matches(field, FIELDS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            self._fail(token, f"unknown field {token.value!r}; {hint}fields: {', '.join(FIELDS)}")
        self.fields.add(field)
        op = self._operator(field)
        kind = "str" if op in _TEXT_OPS else "num"
        values = [self._value(field, op, kind)]
        # "or" followed by another value (not a field) continues this comparison
        while self._is_word(self._peek(), "or") and self._peek(1).kind == kind:
            self.at += 1
            values.append(self._value(field, op, kind))
        return _Compare(field, op, tuple(values))

    def _operator(self, field: str) -> str:
        token = self._next()
        word = token.value.lower() if token.kind == "word" else None
        if word in ("starts", "ends"):
            if not self._is_word(self._peek(), "with"):
                self._fail(self._peek(), f"expected 'with' after {token.value!r}")
            self.at += 1
            op = f"{word} with"
        elif word in _TEXT_OPS or token.kind == "op":
            op = word or token.value
        else:
            self._fail(
                token,
                f"expected an operator after {field!r} (contains, starts with, ends with, is, "
                f"matches, >, >=, <, <=, =), not {_shown(token)}",
            )
        if field in NUMBER_FIELDS and op in _TEXT_OPS:
            self._fail(token, f"{field!r} is a number; compare it with >, >=, <, <= or =")
        if field in TEXT_FIELDS and op in _NUMBER_OPS:
            self._fail(
                token,
                f"{field!r} is text; compare it with contains, starts with, ends with, is or "
                "matches (its length is copy_length or headline_length)",
            )
        return op

    def _value(self, field: str, op: str, kind: str):
        token = self._next()
        if token.kind != kind:
            wanted = "a quoted text" if kind == "str" else "a number (without quotes)"
            self._fail(token, f"{field} {op} needs {wanted}, not {_shown(token)}")
        if kind == "num":
            return float(token.value)
        if op == "matches":
            return self._pattern(token)
        return token.value.casefold()

    def _pattern(self, token: _Token) -> re.Pattern:
        if len(token.value) > MAX_PATTERN:
            self._fail(
                token,
                f"the pattern is {len(token.value)} characters long; a pattern may have at "
                f"most {MAX_PATTERN}",
            )
        if _nested_repetition(token.value):
            self._fail(
                token,
                "the pattern repeats a group that itself repeats or alternates (like (a+)+ or "
                "(a|b)*), which can take forever to match; write it without the outer repeat",
            )
        try:
            return re.compile(token.value, re.IGNORECASE)
        except re.error as exc:
            self._fail(token, f"the pattern is not a valid regular expression: {exc.msg}")

    def _enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self._fail(token, f"brackets and 'not's nest more than {MAX_DEPTH} deep")

    def _peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.at + ahead, len(self.tokens) - 1)]

    def _next(self) -> _Token:
        token = self._peek()
        self.at = min(self.at + 1, len(self.tokens) - 1)
        return token

    @staticmethod
    def _is_word(token: _Token, word: str) -> bool:
        return token.kind == "word" and token.value.lower() == word

    def _fail(self, token: _Token, message: str) -> NoReturn:
        raise TagRuleError(_message(self.text, token.pos, message))


def _tokens(text: str) -> list[_Token]:
    """The rule's tokens, ending with an ``end`` token."""
    tokens, at = [], 0
    while at < len(text):
        if text[at] in "'\"":
            value, end = _string(text, at)
            tokens.append(_Token("str", value, at))
            at = end
            continue
        match = _TOKEN.match(text, at)
        if match is None:
            raise TagRuleError(_message(text, at, f"unexpected character {text[at]!r}"))
        if match.lastgroup != "space":
            tokens.append(_Token(match.lastgroup, match.group(), at))
        at = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _string(text: str, start: int) -> tuple[str, int]:
    """The quoted string opening at ``start``: (its value, the offset after it)."""
    quote, out, at = text[start], [], start + 1
    while at < len(text):
        char = text[at]
        if char == quote:
            return "".join(out), at + 1
        if char == "\\" and at + 1 < len(text):
            following = text[at + 1]
            out.append(_UNESCAPED.get(following, "\\" + following))
            at += 2
            continue
        out.append(char)
        at += 1
    raise TagRuleError(_message(text, start, f"the text opened with {quote} is never closed"))


def _nested_repetition(pattern: str) -> bool:
    """Whether a group holding a repeat or an alternation is itself repeated (``*``, ``+``,
    ``{``): the shapes of catastrophic backtracking."""
    risky: list[bool] = []  # per open group: holds a repeat or an alternation
    at, in_class = 0, False
    while at < len(pattern):
        char = pattern[at]
        following = pattern[at + 1] if at + 1 < len(pattern) else ""
        if char == "\\":
            at += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            at += 2 if following == "]" else 1  # a "]" first in a class is a literal
            continue
        elif char == "(":
            risky.append(False)
        elif char == ")" and risky:
            inner = risky.pop()
            if inner and following in ("*", "+", "{"):
                return True
            if risky:
                risky[-1] = risky[-1] or inner
        elif char in "*+{|" and risky:
            risky[-1] = True
        at += 1
    return False


def _message(text: str, pos: int, message: str) -> str:
    return f"tag rule {text!r}, at character {pos + 1}: {message}"


def _shown(token: _Token) -> str:
    if token.kind == "end":
        return "the end of the rule"
    if token.kind == "str":
        return f"the text {token.value!r}"
    return repr(token.value)


# -- evaluation -----------------------------------------------------------------------------


def _evaluate(node: _Node, columns: dict[str, pd.Series]) -> pd.Series:
    """A nullable ``boolean`` Series: three-valued (Kleene) logic over missing values."""
    if isinstance(node, _Join):
        parts = [_evaluate(child, columns) for child in node.children]
        result = parts[0]
        for part in parts[1:]:
            result = (result & part) if node.op == "and" else (result | part)
        return result
    if isinstance(node, _Not):
        return ~_evaluate(node.child, columns)
    values = columns[node.field]
    if node.op == "matches":  # the pattern ignores case itself
        values = values.str.slice(0, MAX_MATCH_TEXT)
    elif node.field in TEXT_FIELDS:
        values = values.str.casefold()
    result = None
    for value in node.values:
        one = _compare(values, node.op, value).astype("boolean")
        result = one if result is None else (result | one)
    return result


def _compare(values: pd.Series, op: str, value) -> pd.Series:
    if op == "contains":
        return values.str.contains(value, regex=False)
    if op == "starts with":
        return values.str.startswith(value)
    if op == "ends with":
        return values.str.endswith(value)
    if op == "matches":
        return values.str.contains(value)
    if op in ("is", "="):
        return values == value
    if op == ">":
        return values > value
    if op == ">=":
        return values >= value
    if op == "<":
        return values < value
    return values <= value
