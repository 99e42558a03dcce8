"""Reading an agency's YAML without the ways YAML can crash or hang a reader.

A configuration file is untrusted text, so ``read_mapping`` refuses, with the line, what would
otherwise raise a library error or run for minutes:

- a value nested more than ``MAX_DEPTH`` levels deep (directly or through aliases);
- an alias used inside the value it names (a recursive alias);
- aliases that copy more than ``MAX_ALIAS_VALUES`` values in all ("billion laughs": ten
  aliases to ten aliases to ... expand to 10^9 values from a few hundred bytes);
- a file larger than ``MAX_BYTES`` (256 KB);
- a number with more than ``MAX_NUMBER_DIGITS`` digits (Python refuses to read an int of more
  than 4,300 digits, and no setting needs a tenth of that);
- the same key written twice in one mapping (YAML would keep the last one silently), also
  when spelt differently (``yes`` and ``true``).

The file is composed once into a node graph (in which an alias is a shared node, nothing is
copied), checked and line-numbered in a walk that counts every value an alias copies and stops
at the budget, and only then turned into Python objects (shared, again, never copied).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from generator.errors import ConfigError

__all__ = [
    "MAX_ALIAS_VALUES",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NUMBER_DIGITS",
    "read_mapping",
]

#: size of a file: YAML reads at about 4 s per MB here, so a file at the limit still fails (or
#: loads) within about a second; the demo's largest client.yml is 4 KB, one of 100 accounts 160
MAX_BYTES = 256 * 1024
#: values that aliases may copy in one file (a whole real client.yml has a few hundred values)
MAX_ALIAS_VALUES = 5_000
#: levels of nesting (a client.yml needs five)
MAX_DEPTH = 50
#: digits in one number (account ids that are written as numbers have about 20)
MAX_NUMBER_DIGITS = 50

_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_MERGE_TAG = "tag:yaml.org,2002:merge"
_KINDS = {"tag:yaml.org,2002:timestamp": "date", "tag:yaml.org,2002:int": "whole number"}
_RADIX = re.compile(r"^[-+]?0[xob]")  # 0x, 0o, 0b: not digits of the number


class _Refused(Exception):
    """Valid YAML that we will not read: ``line`` (1-based) and what is wrong."""

    def __init__(self, mark: yaml.Mark, message: str) -> None:
        super().__init__(message)
        self.line = mark.line + 1


def read_mapping(path: Path) -> tuple[dict[str, Any], dict[tuple, int]]:
    """Read a YAML file whose top level is a mapping.

    Returns:
        The data, and the 1-based line where each field path (a tuple of keys and list
        indexes) is written. Fields that an alias copies are not listed: their alias's own
        field is, one level up.

    Raises:
        ConfigError: naming the file (and the line where there is one) when the file is
            missing, unreadable, not YAML, empty, not a mapping, or breaks a limit above.
    """
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_BYTES + 1)
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the file: {exc}", file=str(path)) from None
    if len(raw) > MAX_BYTES:
        raise ConfigError(
            f"the file is larger than {MAX_BYTES // 1024:,} KB, the most a config file may be",
            file=str(path),
        )
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        lines = _Walk(loader).lines(root)
        data = None if root is None else loader.construct_document(root)
    except _Refused as exc:
        raise ConfigError(f"line {exc.line}: {exc}", file=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}not valid YAML ({problem})", file=str(path)) from None
    finally:
        loader.dispose()
    if data is None:
        raise ConfigError("the file is empty", file=str(path))
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping of keys to values", file=str(path))
    return data, lines


class _Loader(yaml.SafeLoader):
    """SafeLoader that bounds nesting, refuses recursive aliases and over-long numbers, turns
    a value it cannot construct into a message, and remembers where each alias is used."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.alias_uses: dict[tuple[int, Any], yaml.AliasEvent] = {}
        self._open: list[str | None] = []  # anchors of the values being composed

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open:
                raise _Refused(
                    event.start_mark,
                    f"the alias *{event.anchor} is used inside the value it names "
                    "(a recursive alias); write the value out instead",
                )
            if index is not None:  # None: a mapping key, which our files never alias
                self.alias_uses[_slot(parent, index)] = event
            return super().compose_node(parent, index)
        if len(self._open) >= MAX_DEPTH:
            raise _Refused(event.start_mark, f"values are nested more than {MAX_DEPTH} deep")
        self._open.append(event.anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._open.pop()

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node.tag in _NUMBER_TAGS:
            digits = sum(c.isalnum() for c in _RADIX.sub("", node.value))
            if digits > MAX_NUMBER_DIGITS:
                raise _Refused(
                    node.start_mark,
                    f"this number has {digits:,} digits; a number may have at most "
                    f"{MAX_NUMBER_DIGITS} (quote it if it is text)",
                )
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, AttributeError, ArithmeticError):
            kind = _KINDS.get(node.tag, node.tag.rsplit(":", 1)[-1])
            shown = node.value if isinstance(node.value, str) else ""
            raise _Refused(node.start_mark, f"{shown[:40]!r} is not a valid {kind}") from None


class _Walk:
    """Maps field paths to lines, refusing duplicate keys and aliases that copy too much."""

    def __init__(self, loader: _Loader) -> None:
        self._loader = loader
        self._copied = 0
        self._lines: dict[tuple, int] = {}

    def lines(self, root: yaml.Node | None) -> dict[tuple, int]:
        if root is not None:
            self._node(root, (), None)
        return self._lines

    def _node(self, node: yaml.Node, path: tuple, alias: yaml.AliasEvent | None) -> None:
        if alias is not None:
            self._copied += 1
            if self._copied > MAX_ALIAS_VALUES:
                raise _Refused(
                    alias.start_mark,
                    f"the alias *{alias.anchor} takes the file past {MAX_ALIAS_VALUES:,} "
                    "values copied by aliases, the most a file may have (write the values "
                    "out, or nest fewer aliases)",
                )
            if len(path) > MAX_DEPTH:
                raise _Refused(
                    alias.start_mark,
                    f"through the alias *{alias.anchor} values are nested more than "
                    f"{MAX_DEPTH} deep",
                )
        if isinstance(node, yaml.MappingNode):
            if alias is None:
                _no_duplicate_keys(node, path, self._loader.construct_object)
            children = [(key.value, key, value, key) for key, value in node.value]
        elif isinstance(node, yaml.SequenceNode):
            children = [(i, None, item, i) for i, item in enumerate(node.value)]
        else:
            return
        for name, key, child, index in children:
            here, use = (*path, name), self._loader.alias_uses.get(_slot(node, index))
            if alias is None:  # a list item's line is its alias's, if it is one
                self._lines[here] = (key or use or child).start_mark.line + 1
            self._node(child, here, alias or use)


def _no_duplicate_keys(node: yaml.MappingNode, path: tuple, construct: Callable) -> None:
    first: dict[Any, yaml.Mark] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise _Refused(key.start_mark, "a key must be a plain value, not a list or mapping")
        if key.tag == _MERGE_TAG:  # '<<: *defaults': keys written beside it override it
            continue
        mark = first.setdefault(construct(key), key.start_mark)
        if mark is not key.start_mark:
            raise _Refused(
                key.start_mark,
                f"{_field((*path, key.value))} is written twice (lines {mark.line + 1} and "
                f"{key.start_mark.line + 1}); keep one",
            )


def _slot(parent: yaml.Node | None, index: Any) -> tuple[int, Any]:
    """Where a value sits: its parent and its key node (in a mapping) or position (in a list)."""
    return id(parent), id(index) if isinstance(index, yaml.Node) else index


def _field(path: tuple) -> str:
    """``('accounts', 0, 'credentials')`` as ``accounts[0].credentials``."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
