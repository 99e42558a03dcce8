"""Altair chart builders: ``(frame, *, title=..., theme=...) -> alt.Chart``, pure and small."""

from generator.charts.performance import daily_spend, platform_mix
from generator.charts.spec import to_spec, with_theme
from generator.charts.theme import DEFAULT_THEME, PLATFORM_LABELS, register

__all__ = [
    "DEFAULT_THEME",
    "PLATFORM_LABELS",
    "daily_spend",
    "platform_mix",
    "register",
    "to_spec",
    "with_theme",
]
