"""Rule-based models and Shapley: each returns credits per player (conversions, value).

A rule-based model gives every touch of a journey a weight, the weights of a journey summing
to 1; a touch's credit is its weight times the journey's conversions (and value). Shapley
shares each journey's conversions equally among the distinct channels it touched, which is the
exact Shapley value of the game v(S) = conversions of journeys whose channel set lies within S
(a sum of unanimity games, one per channel set).
"""

from __future__ import annotations

import numpy as np

from generator.analytics.attribution._journeys import Journeys, unique_ints
from generator.errors import ReportError

__all__ = [
    "first_touch",
    "last_touch",
    "linear",
    "position_based",
    "shapley",
    "time_decay",
    "w_shaped",
]

Credits = tuple[np.ndarray, np.ndarray]


def first_touch(j: Journeys) -> Credits:
    """All credit to each journey's first touch."""
    return _per_journey_touch(j, j.first)


def last_touch(j: Journeys) -> Credits:
    """All credit to each journey's last touch."""
    return _per_journey_touch(j, j.last)


def linear(j: Journeys) -> Credits:
    """Equal shares to every touch (a channel touched twice gets two shares)."""
    return _weighted(j, 1.0 / j.lengths[j.journey])


def time_decay(j: Journeys, *, half_life_days: float = 7.0) -> Credits:
    """Weight ``2 ** (-age / half_life_days)`` per touch, normalised per journey.

    Raises:
        ReportError: without timestamps (paths form) or for a non-positive half-life.
    """
    if j.age_days is None:
        raise ReportError(
            "time_decay needs touch times: use attribute_events (the paths form has none)"
        )
    if not (isinstance(half_life_days, int | float) and half_life_days > 0):
        raise ReportError(f"half_life_days must be a positive number, not {half_life_days!r}")
    # relative to each journey's latest touch, so that old touches never underflow to 0/0
    age = j.age_days - _reduce(np.minimum, j.age_days, j)[j.journey]
    weight = np.exp2(-age / half_life_days)
    return _weighted(j, weight / _sum(weight, j)[j.journey])


def position_based(j: Journeys, *, first_share: float = 0.4, last_share: float = 0.4) -> Credits:
    """U-shaped: ``first_share`` to the first touch, ``last_share`` to the last, the rest spread
    evenly over the middle touches; one touch gets everything, two touches split first:last.

    Raises:
        ReportError: when the shares are negative, sum above 1 or are both zero.
    """
    _check_shares(first_share, last_share)
    n = j.lengths[j.journey].astype(np.float64)
    pos = j.position
    two = first_share / (first_share + last_share)
    weight = np.where(pos == 0, first_share, np.where(pos == n - 1, last_share, 0.0))
    middle = (1.0 - first_share - last_share) / np.maximum(n - 2, 1)
    weight = np.where((pos > 0) & (pos < n - 1), middle, weight)
    weight = np.where(n == 2, np.where(pos == 0, two, 1 - two), weight)
    return _weighted(j, np.where(n == 1, 1.0, weight))


def w_shaped(
    j: Journeys,
    *,
    lead_interaction: str = "lead",
    opportunity_interaction: str = "opportunity",
) -> Credits:
    """W-shaped: 30% first touch, 30% lead creation, 30% opportunity creation, 10% the rest.

    The lead-creation touch is the journey's first touch whose ``interaction`` is
    ``lead_interaction``; without one (or in the paths form) it is the middle touch (index
    ``n // 2``) of a journey of three or more touches, and absent for shorter journeys. The
    opportunity-creation touch is the first touch whose interaction is
    ``opportunity_interaction``, else the last touch. Milestones on the same touch add their
    shares; when no touch is left for the 10%, the shares are renormalised. Hence 1 touch:
    100%; 2 touches: 50/50; 3 touches: a third each; 4 or more: 30/30/30 and 10% spread.
    """
    n = j.lengths
    lead = np.where(n >= 3, j.first + n // 2, -1)
    lead = _milestone(j, lead_interaction, lead)
    opportunity = _milestone(j, opportunity_interaction, j.last)
    weight = np.zeros(len(j.codes))
    for touch in (j.first, lead, opportunity):
        has = touch >= 0
        np.add.at(weight, touch[has], 0.3)
    rest = weight == 0
    n_rest = _sum(rest.astype(np.float64), j)
    weight = np.where(rest, 0.1 / np.maximum(n_rest, 1)[j.journey], weight)
    return _weighted(j, weight / _sum(weight, j)[j.journey])


def shapley(j: Journeys) -> Credits:
    """Exact Shapley values: a journey's conversions shared equally by its distinct players."""
    pair = j.journey.astype(np.int64) * j.n_players + j.codes
    unique = unique_ints(pair, len(j.lengths) * j.n_players)
    journey, player = unique // j.n_players, unique % j.n_players
    distinct = np.bincount(journey, minlength=len(j.lengths))
    share = 1.0 / distinct[journey]
    return (
        np.bincount(player, share * j.conversions[journey], minlength=j.n_players),
        np.bincount(player, share * j.value[journey], minlength=j.n_players),
    )


# -- helpers ----------------------------------------------------------------------------------


def _weighted(j: Journeys, weight: np.ndarray) -> Credits:
    journey = j.journey
    return (
        np.bincount(j.codes, weight * j.conversions[journey], minlength=j.n_players),
        np.bincount(j.codes, weight * j.value[journey], minlength=j.n_players),
    )


def _per_journey_touch(j: Journeys, touch: np.ndarray) -> Credits:
    codes = j.codes[touch]
    return (
        np.bincount(codes, j.conversions, minlength=j.n_players),
        np.bincount(codes, j.value, minlength=j.n_players),
    )


def _sum(values: np.ndarray, j: Journeys) -> np.ndarray:
    return np.bincount(j.journey, values, minlength=len(j.lengths))


def _reduce(ufunc: np.ufunc, values: np.ndarray, j: Journeys) -> np.ndarray:
    # models only run on journeys with touches, and every journey has one: reduceat is safe
    return ufunc.reduceat(values, j.first)


def _milestone(j: Journeys, interaction: str, fallback: np.ndarray) -> np.ndarray:
    """Per journey, the first touch with ``interaction``, else ``fallback``."""
    if j.interaction is None:
        return fallback
    hit = j.interaction == interaction
    index = np.where(hit, np.arange(len(j.codes)), len(j.codes))
    found = _reduce(np.minimum, index, j)
    return np.where(found < j.starts[1:], found, fallback)


def _check_shares(first: float, last: float) -> None:
    numbers = all(isinstance(s, int | float) for s in (first, last))
    if not numbers or first < 0 or last < 0 or first + last > 1 or first + last == 0:
        raise ReportError(
            "position_based shares must be non-negative, not both zero, and sum to at most 1 "
            f"(got first_share={first!r}, last_share={last!r})"
        )
