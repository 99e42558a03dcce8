"""Multi-touch attribution: who gets the credit for each conversion (and its value).

Two input forms (see ``analytics-conventions.md``): distinct ``paths`` with counts, as the
common attribution tools take them, or user-level ``touchpoints`` and ``conversions`` events.
Eight models: ``first_touch``, ``last_touch``, ``linear``, ``time_decay``, ``position_based``,
``w_shaped``, ``markov`` (exact absorbing chain, any order) and ``shapley`` (exact). Every
model's credits sum to the total conversions and value.

    attribute_paths(paths, "markov", order=2)
    attribute_events(touchpoints, conversions, "time_decay", half_life_days=7)
    compare_models(paths)                      # or compare_models(touchpoints, conversions)
    removal_effects(paths, order=2)            # the Markov removal effects themselves

Conversions without any touch in their lookback window (events form) cannot be credited to a
channel; they appear on a row of their own (``UNATTRIBUTED``) unless refused.
"""

from generator.analytics.attribution._api import (
    MODELS,
    UNATTRIBUTED,
    attribute_events,
    attribute_paths,
    compare_models,
    removal_effects,
)
from generator.analytics.attribution._journeys import NO_CAMPAIGN

__all__ = [
    "MODELS",
    "NO_CAMPAIGN",
    "UNATTRIBUTED",
    "attribute_events",
    "attribute_paths",
    "compare_models",
    "removal_effects",
]
