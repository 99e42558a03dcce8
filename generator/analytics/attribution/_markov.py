"""Markov-chain attribution, solved exactly as an absorbing chain (never simulated).

States are ``start``, the transient states, ``conversion`` and ``null``. At order k a
transient state is the tuple of the last k players touched (fewer at the start of a journey),
so each state has a *current* player, its last element. Transition probabilities are the
observed transition counts of every journey (converting or not, weighted by how many journeys
took that path) divided by each state's outflow.

With Q the transient-to-transient matrix, N = (I - Q)^-1 the fundamental matrix, s the start
distribution and r the probability of stepping into ``conversion``, P(conv) = s N r. Removing
player i sends every transition into a state whose current player is i to ``null``; for that
set S of states the first-passage decomposition gives, exactly,

    P_without_i = P(conv) - (s N)[S] . N[S, S]^-1 . (N r)[S]

so one inverse serves every removal (for large state spaces each removal is instead one sparse
solve of the reduced system). RE_i = 1 - P_without_i / P(conv), and player i is credited
RE_i / sum_j RE_j of the total conversions. Value is credited likewise, from the chain whose
reward is the value of the conversions entered from each state (the expected value per
journey), so a channel that closes large orders earns more of the value than of the count.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from generator.analytics.attribution._journeys import Journeys
from generator.errors import ReportError

__all__ = ["DENSE_PAIRS", "DENSE_STATES", "markov", "removal_effects"]

#: Up to this many transient states the chain is solved with one dense inverse.
DENSE_STATES = 1000
#: Up to this many possible transitions (states squared) they are counted in a dense array.
DENSE_PAIRS = 1 << 22


def markov(j: Journeys, *, order: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Credits per player (conversions, value) from the order-``order`` chain."""
    effects = removal_effects(j, order=order)
    return (
        _share(effects[:, 0], j.conversions.sum()),
        _share(effects[:, 1], j.value.sum()),
    )


def removal_effects(j: Journeys, *, order: int = 1) -> np.ndarray:
    """Removal effects per player, columns (conversions, value), each in [0, 1].

    A column is all zeros when nothing converts (or nothing has value): with P(conv) = 0 no
    player can be said to cause anything.
    """
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or order < 1:
        raise ReportError(f"markov order must be a whole number >= 1, not {order!r}")
    states, current = _states(j, order)
    n = len(current)
    q, start, reward = _chain(j, states, n)
    if n <= DENSE_STATES:
        with_all, without = _dense(q, start, reward, current, j.n_players)
    else:
        with_all, without = _sparse(q, start, reward, current, j.n_players)
    positive = with_all > 0
    effect = np.where(positive, 1.0 - without / np.where(positive, with_all, 1.0), 0.0)
    # rounding can leave -1e-17 or 1 + 1e-16; the true values lie in [0, 1]
    return np.clip(effect, 0.0, 1.0)


def _states(j: Journeys, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Per touch its state id, and per state its current player."""
    if order == 1:
        return j.codes.astype(np.int64), np.arange(j.n_players)
    base = j.n_players + 1  # digit 0: "before the journey began"
    key = j.codes.astype(np.int64)
    for lag in range(1, order):
        earlier = np.zeros(len(j.codes), np.int64)
        earlier[lag:] = j.codes[: len(j.codes) - lag] + 1
        # re-numbering after each digit keeps the key small for any order and player count
        key = np.unique(key * base + np.where(j.position >= lag, earlier, 0), return_inverse=True)[
            1
        ]
    current = np.empty(int(key.max(initial=-1)) + 1, np.int64)
    current[key] = j.codes
    return key, current


def _chain(j: Journeys, states: np.ndarray, n: int):
    """Transition probabilities among states, start distribution, rewards (conv, value)."""
    weight = j.conversions + j.nulls
    per_touch = weight[j.journey]
    follows = np.ones(len(states), bool)
    follows[j.last] = False  # the last touch of a journey has no successor in it
    pair = states[follows] * n + states[np.flatnonzero(follows) + 1]
    if n * n <= DENSE_PAIRS:  # a dense count is several times faster than sorting pairs
        dense = np.bincount(pair, per_touch[follows], minlength=n * n).reshape(n, n)
        counts = sp.csr_matrix(dense)
    else:
        counts = sp.coo_matrix((per_touch[follows], (pair // n, pair % n)), shape=(n, n)).tocsr()
    last = states[j.last]
    ending = np.bincount(last, weight, minlength=n)
    outflow = np.asarray(counts.sum(axis=1)).ravel() + ending
    scale = 1.0 / np.where(outflow > 0, outflow, 1.0)
    q = sp.diags(scale) @ counts
    start = np.bincount(states[j.first], weight, minlength=n) / max(weight.sum(), 1e-300)
    reward = np.column_stack(
        [
            np.bincount(last, j.conversions, minlength=n) * scale,
            np.bincount(last, j.value, minlength=n) * scale,
        ]
    )
    return q.tocsr(), start, reward


def _dense(q, start, reward, current, n_players):
    fundamental = np.linalg.inv(np.eye(len(current)) - q.toarray())
    absorbed = fundamental @ reward  # per state: P(conv), expected value
    visits = start @ fundamental
    with_all = start @ absorbed
    without = np.tile(with_all, (n_players, 1))
    for player in range(n_players):
        s = np.flatnonzero(current == player)
        block = fundamental[np.ix_(s, s)]
        without[player] -= visits[s] @ np.linalg.solve(block, absorbed[s])
    return with_all, without


def _sparse(q, start, reward, current, n_players):
    system = (sp.identity(len(current), format="csc") - q).tocsc()
    with_all = start @ spla.splu(system).solve(reward)
    without = np.tile(with_all, (n_players, 1))
    for player in range(n_players):
        keep = np.flatnonzero(current != player)
        reduced = system[keep][:, keep].tocsc()
        without[player] = start[keep] @ spla.splu(reduced).solve(reward[keep])
    return with_all, without


def _share(effect: np.ndarray, total: float) -> np.ndarray:
    norm = effect.sum()
    if norm <= 0:
        return np.zeros_like(effect)
    return effect / norm * total
