"""The public attribution functions: one entry per input form, every model behind one name."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from generator.analytics.attribution import _journeys, _markov, _rules
from generator.analytics.attribution._journeys import Journeys
from generator.errors import ReportError

__all__ = [
    "MODELS",
    "UNATTRIBUTED",
    "attribute_events",
    "attribute_paths",
    "compare_models",
    "removal_effects",
]

#: Model name -> function(journeys, **options) -> (conversions, value) per player.
MODELS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "first_touch": _rules.first_touch,
    "last_touch": _rules.last_touch,
    "linear": _rules.linear,
    "time_decay": _rules.time_decay,
    "position_based": _rules.position_based,
    "w_shaped": _rules.w_shaped,
    "markov": _markov.markov,
    "shapley": _rules.shapley,
}

#: Channel label of conversions that had no touchpoint in their lookback window.
UNATTRIBUTED = "(no touchpoint)"


def attribute_paths(paths: pd.DataFrame, model: str, **options) -> pd.DataFrame:
    """Credit conversions and value to channels from distinct paths.

    Args:
        paths: one row per distinct path: ``path`` ("a > b > c"; spaces around ``>`` are
            ignored), ``conversions``, optional ``value`` (major units) and ``nulls`` (journeys
            on the path that did not convert; only the Markov model uses them).
        model: one of ``MODELS`` except ``time_decay``, which needs touch times.
        options: the model's parameters (``first_share``/``last_share`` for position_based,
            ``order`` for markov).

    Returns:
        A new frame ``channel, conversions, value``, one row per channel in name order; the
        columns sum to the input's total conversions and value.

    Raises:
        ReportError: for an unknown model or option, and for bad input (see ``from_paths``).
    """
    run = _model(model, options)
    return _credits(_journeys.from_paths(paths), run, grain="channel")


def attribute_events(
    touchpoints: pd.DataFrame,
    conversions: pd.DataFrame,
    model: str,
    *,
    lookback_days: float = 30,
    grain: Literal["channel", "campaign"] = "channel",
    unattributed: Literal["row", "raise"] = "row",
    **options,
) -> pd.DataFrame:
    """Credit conversions and value to channels (or campaigns) from user-level events.

    Args:
        touchpoints: ``user_id, timestamp, channel`` (+ ``campaign_id`` for the campaign grain,
            optional ``interaction`` for W-shaped milestones). Naive times are taken as UTC.
        conversions: ``user_id, timestamp`` and ``value`` in major units (or ``value_micros``;
            with neither, conversions are worth 0).
        model: one of ``MODELS``.
        lookback_days: how far before a conversion its journey reaches.
        grain: ``"channel"``, or ``"campaign"`` for rows per channel and ``campaign_id``
            (touches without a campaign id are grouped as ``"(none)"``).
        unattributed: conversions without any touch in their window are reported on a row
            whose channel is ``UNATTRIBUTED`` (``"row"``), or refused (``"raise"``).
        options: the model's parameters (``half_life_days``, ``first_share``/``last_share``,
            ``lead_interaction``/``opportunity_interaction``, ``order``).

    Returns:
        A new frame ``channel, [campaign_id,] conversions, value`` whose columns sum to the
        total conversions and value of ``conversions``.

    Raises:
        ReportError: for an unknown model or option, bad input (see ``from_events``), or
            unattributable conversions with ``unattributed="raise"``.
    """
    run = _model(model, options)
    if unattributed not in ("row", "raise"):
        raise ReportError(f"unattributed must be 'row' or 'raise', not {unattributed!r}")
    journeys = _journeys.from_events(
        touchpoints, conversions, lookback_days=lookback_days, grain=grain
    )
    _check_unattributed(journeys, unattributed)
    return _credits(journeys, run, grain=grain)


def compare_models(
    data: pd.DataFrame,
    conversions: pd.DataFrame | None = None,
    *,
    models: Sequence[str] | None = None,
    lookback_days: float = 30,
    grain: Literal["channel", "campaign"] = "channel",
    **options,
) -> pd.DataFrame:
    """Every model side by side: ``compare_models(paths)`` or ``compare_models(touchpoints,
    conversions)``.

    The journeys are built once. Each model receives only the options it takes. By default
    all models run (without ``time_decay`` for the paths form, which has no times).

    Returns:
        A new frame: ``channel`` [and ``campaign_id``], then one column of conversions per
        model (named after it) and one of value per model (``<model>_value``). Unattributed
        conversions (events form) appear on their own row under every model.
    """
    if conversions is None:
        journeys = _journeys.from_paths(data)
        names = [m for m in MODELS if m != "time_decay"] if models is None else list(models)
        grain = "channel"
    else:
        journeys = _journeys.from_events(
            data, conversions, lookback_days=lookback_days, grain=grain
        )
        names = list(MODELS) if models is None else list(models)
    if not names:
        raise ReportError("compare_models needs at least one model")
    runs = {name: _model(name, _accepted(name, options)) for name in names}
    _check_options_used(names, options)
    frames = [_credits(journeys, run, grain=grain) for run in runs.values()]
    keys = [c for c in frames[0].columns if c not in ("conversions", "value")]
    out = frames[0][keys].copy()
    for name, frame in zip(names, frames, strict=True):
        out[name] = frame["conversions"].to_numpy()
    for name, frame in zip(names, frames, strict=True):
        out[f"{name}_value"] = frame["value"].to_numpy()
    return out


def removal_effects(
    data: pd.DataFrame,
    conversions: pd.DataFrame | None = None,
    *,
    order: int = 1,
    lookback_days: float = 30,
    grain: Literal["channel", "campaign"] = "channel",
) -> pd.DataFrame:
    """Markov removal effects: ``removal_effects(paths)`` or ``removal_effects(touchpoints,
    conversions)``.

    ``removal_effect`` is 1 - P(conv without the channel) / P(conv), in [0, 1];
    ``value_removal_effect`` the same for the expected value per journey. Both are 0 for
    every channel when nothing converts (or nothing has value).

    Returns:
        A new frame ``channel, [campaign_id,] removal_effect, value_removal_effect``.
    """
    if conversions is None:
        journeys, grain = _journeys.from_paths(data), "channel"
    else:
        journeys = _journeys.from_events(
            data, conversions, lookback_days=lookback_days, grain=grain
        )
    effects = (
        _markov.removal_effects(journeys, order=order) if len(journeys.codes) else np.zeros((0, 2))
    )
    frame = pd.DataFrame({"channel": journeys.channels.astype(str)})
    if grain == "campaign":
        frame["campaign_id"] = journeys.campaigns.astype(str)
    frame["removal_effect"] = effects[:, 0]
    frame["value_removal_effect"] = effects[:, 1]
    return frame


def _model(name: str, options: dict) -> Callable[[Journeys], tuple[np.ndarray, np.ndarray]]:
    if name not in MODELS:
        raise ReportError(f"unknown attribution model {name!r}; known: {', '.join(MODELS)}")
    function = MODELS[name]
    known = _options(name)
    unknown = sorted(set(options) - set(known))
    if unknown:
        takes = ", ".join(known) if known else "no options"
        raise ReportError(f"model {name!r} has no option {unknown[0]!r} (it takes {takes})")
    return lambda journeys: function(journeys, **options)


def _options(name: str) -> list[str]:
    parameters = inspect.signature(MODELS[name]).parameters.values()
    return [p.name for p in parameters if p.kind is p.KEYWORD_ONLY]


def _accepted(name: str, options: dict) -> dict:
    return {k: v for k, v in options.items() if k in _options(name)}


def _check_options_used(names: Sequence[str], options: dict) -> None:
    known = {o for name in names for o in _options(name)}
    unused = sorted(set(options) - known)
    if unused:
        raise ReportError(f"no compared model takes the option {unused[0]!r}")


def _check_unattributed(journeys: Journeys, unattributed: str) -> None:
    if unattributed == "raise" and journeys.unattributed_conversions:
        raise ReportError(
            f"{journeys.unattributed_conversions:g} conversion(s) have no touchpoint in their "
            "lookback window; widen lookback_days or use unattributed='row'"
        )


def _credits(journeys: Journeys, run, *, grain: str) -> pd.DataFrame:
    if len(journeys.codes):
        conversions, value = run(journeys)
    else:
        conversions = value = np.zeros(journeys.n_players)
    frame = pd.DataFrame({"channel": journeys.channels.astype(str)})
    if grain == "campaign":
        frame["campaign_id"] = journeys.campaigns.astype(str)
    frame["conversions"] = np.asarray(conversions, dtype=np.float64)
    frame["value"] = np.asarray(value, dtype=np.float64)
    if journeys.unattributed_conversions or journeys.unattributed_value:
        extra = {"channel": UNATTRIBUTED, "conversions": journeys.unattributed_conversions}
        extra["value"] = journeys.unattributed_value
        if grain == "campaign":
            extra["campaign_id"] = _journeys.NO_CAMPAIGN
        frame = pd.concat([frame, pd.DataFrame([extra])], ignore_index=True)
    return frame
