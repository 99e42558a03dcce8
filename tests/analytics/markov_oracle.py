"""An independent, deliberately plain Markov attribution for checking the real one.

Transitions are counted path by path into dictionaries; removing a channel literally
redirects every transition into one of its states to ``null``, and the absorbing chain is
solved from scratch for each removal. Slow, obvious, and sharing no code with the package.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

START, CONV, NULL = ("<start>",), ("<conv>",), ("<null>",)


def transitions(paths: pd.DataFrame, order: int) -> dict:
    counts: dict = defaultdict(lambda: defaultdict(float))
    nulls = paths["nulls"] if "nulls" in paths else [0] * len(paths)
    for path, conv, null in zip(paths["path"], paths["conversions"], nulls, strict=True):
        channels = [c.strip() for c in path.split(">")]
        states = [tuple(channels[max(0, i - order + 1) : i + 1]) for i in range(len(channels))]
        weight = conv + null
        for before, after in zip([START, *states], states, strict=False):
            counts[before][after] += weight
        counts[states[-1]][CONV] += conv
        counts[states[-1]][NULL] += null
    return counts


def conversion_probability(counts: dict, removed: str | None) -> float:
    states = sorted({s for s in counts if s != START} | {t for d in counts.values() for t in d})
    transient = [s for s in states if s not in (CONV, NULL)]
    index = {s: i for i, s in enumerate(transient)}
    q = np.zeros((len(transient), len(transient)))
    r = np.zeros(len(transient))
    start = np.zeros(len(transient))
    for source, targets in counts.items():
        total = sum(targets.values())
        if total == 0:
            continue
        for target, count in targets.items():
            p = count / total
            if target not in (CONV, NULL) and target[-1] == removed:
                continue  # redirected to null
            if source == START:
                if target not in (CONV, NULL):
                    start[index[target]] += p
            elif target == CONV:
                r[index[source]] += p
            elif target != NULL:
                q[index[source], index[target]] += p
    return float(start @ np.linalg.solve(np.eye(len(transient)) - q, r))


def oracle_removal_effects(paths: pd.DataFrame, order: int) -> dict[str, float]:
    counts = transitions(paths, order)
    base = conversion_probability(counts, None)
    channels = sorted({c.strip() for p in paths["path"] for c in p.split(">")})
    if base == 0:
        return dict.fromkeys(channels, 0.0)
    return {c: 1 - conversion_probability(counts, c) / base for c in channels}
