"""Cross-channel journeys: the channel sequences that lead to conversions, and which channel
follows which.

A journey is exactly what the attribution models read (``attribution._journeys.from_events``,
the conventions of ``analytics-conventions.md``): a conversion's journey is the user's touches
in the ``lookback_days`` before it (inclusive) and after the user's previous conversion, a touch
at the very instant of a conversion belonging to it; the touches after a user's last
conversion (all of them, for a user who never converts) form one non-converting journey;
touches older than the lookback of the conversion that follows them belong to no journey; a
conversion without any touch in its window has no journey, so it is in neither table (the
attribution tables show it as unattributed). Touches are in time order.

    top_paths(touchpoints, conversions, top=10)    # "google_ads > email > direct", ranked
    transitions(touchpoints, conversions)          # from_channel -> to_channel counts

``transitions`` counts what the first-order Markov attribution model estimates its chain from:
every journey, converting or not, from ``(start)`` to ``(conversion)`` or ``(no conversion)``
(the chain's ``null``), repeated touches of one channel included unless ``collapse``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from generator.analytics.attribution._journeys import Journeys, from_events
from generator.errors import ReportError

__all__ = ["CONVERSION", "NO_CONVERSION", "OTHER_PATHS", "START", "top_paths", "transitions"]

START = "(start)"
CONVERSION = "(conversion)"
NO_CONVERSION = "(no conversion)"
OTHER_PATHS = "(other paths)"
SEPARATOR = " > "

_PATH_COLUMNS = [
    "path",
    "touches",
    "conversions",
    "share_of_conversions",
    "journeys",
    "conversion_rate",
    "median_days_to_convert",
]


def top_paths(
    touchpoints: pd.DataFrame,
    conversions: pd.DataFrame,
    *,
    lookback_days: float = 30,
    top: int = 10,
    collapse: bool = True,
) -> pd.DataFrame:
    """The channel paths that end in a conversion, most conversions first.

    Args:
        touchpoints: ``user_id``, ``timestamp``, ``channel`` (as for attribution).
        conversions: ``user_id``, ``timestamp``.
        lookback_days: the journey window (see the module docstring).
        top: paths listed; the others are summed into one ``(other paths)`` row.
        collapse: merge consecutive touches of one channel ("email > email" is "email").

    Returns:
        One row per path with at least one conversion: ``path`` (channels joined by " > "),
        ``touches`` (its length after collapsing), ``conversions``, ``share_of_conversions``
        (of all conversions that have a journey; the column sums to 1), ``journeys``
        (converting and non-converting journeys with that path), ``conversion_rate``
        (conversions / journeys) and ``median_days_to_convert`` (from a converting journey's
        first touch to its conversion, median over that path's converting journeys). Ranked
        by conversions, then journeys, then path. The last row, when more than ``top`` paths
        convert, is ``(other paths)``: their sums, the rate of the sums, the median over all
        their converting journeys, and ``touches`` missing (<NA>). Paths that never convert
        are not listed.

    Raises:
        ReportError: for bad touchpoints or conversions (as ``attribution``) or a bad ``top``.
    """
    if isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1:
        raise ReportError(f"top must be a whole number >= 1, not {top!r}")
    j = from_events(touchpoints, conversions, lookback_days=lookback_days)
    names, starts = _touches(j, collapse)
    per = pd.DataFrame(
        {
            "path": _joined(names, starts),
            "touches": np.diff(starts),
            "conversions": j.conversions.astype(np.int64),
            "journeys": (j.conversions + j.nulls).astype(np.int64),
            "days": np.where(j.conversions > 0, j.age_days[j.first], np.nan),
        }
    )
    paths = (
        per.groupby("path", sort=False)
        .agg(
            touches=("touches", "first"),
            conversions=("conversions", "sum"),
            journeys=("journeys", "sum"),
            median_days_to_convert=("days", "median"),
        )
        .reset_index()
    )
    paths = paths[paths["conversions"] > 0].sort_values(
        ["conversions", "journeys", "path"], ascending=[False, False, True], kind="stable"
    )
    return _with_other(paths, per, top)


def transitions(
    touchpoints: pd.DataFrame,
    conversions: pd.DataFrame,
    *,
    lookback_days: float = 30,
    collapse: bool = False,
) -> pd.DataFrame:
    """Which channel follows which inside journeys, converting or not.

    Each journey c1 > c2 > ... > cn contributes ``(start)`` -> c1, c1 -> c2, ..., and
    cn -> ``(conversion)`` or ``(no conversion)``. A channel touched twice in a row counts a
    transition to itself, as in the Markov model, unless ``collapse``.

    Returns:
        ``from_channel``, ``to_channel``, ``count`` (journeys' transitions) and
        ``share_of_from`` (count / all transitions out of ``from_channel``: the Markov
        chain's first-order transition probability), sorted by count descending, then
        from and to channel.

    Raises:
        ReportError: for bad touchpoints or conversions (as ``attribution``).
    """
    j = from_events(touchpoints, conversions, lookback_days=lookback_days)
    names, starts = _touches(j, collapse)
    first, last = starts[:-1], starts[1:] - 1
    followed = np.ones(len(names), bool)
    followed[last] = False
    inner = np.flatnonzero(followed)  # touch i followed by touch i + 1 of its journey
    ends = np.where(j.conversions > 0, CONVERSION, NO_CONVERSION).astype(object)
    pairs = pd.DataFrame(
        {
            "from_channel": np.concatenate(
                [np.full(len(first), START, object), names[inner], names[last]]
            ),
            "to_channel": np.concatenate([names[first], names[inner + 1], ends]),
        }
    )
    counts = pairs.value_counts(sort=False).rename("count").reset_index()
    outflow = counts.groupby("from_channel")["count"].transform("sum")
    counts["share_of_from"] = counts["count"] / outflow
    counts["count"] = counts["count"].astype(np.int64)
    order = counts.sort_values(
        ["count", "from_channel", "to_channel"], ascending=[False, True, True], kind="stable"
    )
    return order.reset_index(drop=True)


def _touches(j: Journeys, collapse: bool) -> tuple[np.ndarray, np.ndarray]:
    """Channel names of the touches kept, in journey and time order, and each journey's
    offset into them (journey i is ``names[starts[i]:starts[i + 1]]``; none is empty)."""
    names = np.asarray(j.channels, dtype=object)[j.codes]
    if not collapse:
        return names, j.starts
    # a touch is kept when it opens its journey or changes channel
    keep = np.ones(len(names), bool)
    keep[1:] = j.codes[1:] != j.codes[:-1]
    keep[j.first] = True
    return names[keep], np.r_[0, np.cumsum(keep)[j.last]].astype(np.int64)


def _joined(names: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Each journey's channels joined by the separator (in Arrow: no Python loop)."""
    lists = pa.LargeListArray.from_arrays(
        pa.array(starts, pa.int64()), pa.array(names, pa.string())
    )
    return pc.binary_join(lists, SEPARATOR).to_numpy(zero_copy_only=False)


def _with_other(paths: pd.DataFrame, per: pd.DataFrame, top: int) -> pd.DataFrame:
    """The first ``top`` paths, the rest summed into one row; shares and rates added."""
    shown, rest = paths.iloc[:top], paths.iloc[top:]
    shown = shown.assign(touches=shown["touches"].astype("Int64"))
    if len(rest):
        rest_days = per.loc[per["path"].isin(rest["path"]), "days"]
        other = {
            "path": OTHER_PATHS,
            "touches": pd.NA,
            "conversions": int(rest["conversions"].sum()),
            "journeys": int(rest["journeys"].sum()),
            "median_days_to_convert": float(rest_days.median()),
        }
        shown = pd.concat([shown, pd.DataFrame([other]).astype({"touches": "Int64"})])
    total = shown["conversions"].sum()
    out = shown.assign(
        share_of_conversions=shown["conversions"] / total if total else np.nan,
        conversion_rate=shown["conversions"] / shown["journeys"],
    )
    out = out.astype({"conversions": np.int64, "journeys": np.int64})
    return out[_PATH_COLUMNS].reset_index(drop=True)
