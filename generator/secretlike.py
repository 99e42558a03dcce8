"""Telling a literal secret in ``credentials:`` or ``options:`` from an id, a URL or a word.

A value there must be an environment reference (``${GOOGLE_ADS_REFRESH_TOKEN}``) when

- its name says it is a secret: it contains ``token``, ``secret``, ``passw``, ``passphrase``,
  ``bearer``, ``authorization``, ``credential``, ``signature`` or ``api_key``/``access_key``/
  ``private_key`` (with or without the ``_``); in ``credentials:`` also any name with ``key``;
- or it looks random: it holds a *token*, a run of at least ``MIN_LENGTH`` (20) letters,
  digits and ``+ / = _ -``, that is not a UUID (an id format), has a Shannon entropy of at
  least ``MIN_ENTROPY`` (3.0) bits per character, and switches between lower case, upper case
  and digits so often that its pieces (``Brand``, ``US``, ``2026``: a capital with the lower
  case letters after it, a run of capitals, or a run of digits) average under ``MAX_PIECE``
  (3) characters. Keys from a generator do (``aZ3kQ9xLm2Pq...``: pieces of one or two), words
  and numbers do not (``BrandSearchCampaign2024``: 5.75), so ids, URLs, paths, campaign names
  and sentences pass. About 99% of random 20-character base62 or base64 keys and 90% of hex
  keys are caught; lower-case-only keys are not.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["ENV_REF", "MAX_PIECE", "MIN_ENTROPY", "MIN_LENGTH", "literal_secrets", "looks_random"]

MIN_LENGTH = 20
MIN_ENTROPY = 3.0
MAX_PIECE = 3.0

#: a whole value that is an environment reference, ``${NAME}``; group 1 is the name
ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_SECRET_NAME = re.compile(
    r"token|secret|passw|passphrase|bearer|authori[sz]ation|credential|signature"
    r"|(api|access|private)[_-]?key",
    re.IGNORECASE,
)
_TOKEN = re.compile(rf"[A-Za-z0-9+/=_-]{{{MIN_LENGTH},}}")
_PIECE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def looks_random(text: str) -> bool:
    """Whether ``text`` holds a token that looks generated (see the module docstring)."""
    for token in _TOKEN.findall(text):
        token = _UUID.sub("-", token)
        if len(token) < MIN_LENGTH or _entropy(token) < MIN_ENTROPY:
            continue
        pieces = _PIECE.findall(token)
        if pieces and sum(map(len, pieces)) / len(pieces) < MAX_PIECE:
            return True
    return False


def literal_secrets(block: Mapping[str, Any], *, credentials: bool) -> Iterator[tuple[str, str]]:
    """``(field path, why)`` for each literal in ``block`` that must be a ``${VAR}`` instead.

    Nested mappings and lists are searched too (``api.headers[0]``); only text is judged.
    """
    for path, name, value in _leaves(block, ""):
        if not isinstance(value, str) or ENV_REF.match(value):
            continue
        if _SECRET_NAME.search(name) or (credentials and "key" in name.lower()):
            yield path, "is named like a secret"
        elif looks_random(value):
            yield path, f"looks like a secret (a random-looking run of {MIN_LENGTH}+ characters)"


def _leaves(value: Any, path: str, name: str = "") -> Iterator[tuple[str, str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}".lstrip("."), str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]", name)
    else:
        yield path, name, value


def _entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())
