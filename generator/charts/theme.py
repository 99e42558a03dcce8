"""Chart themes: the agency's and each client's branding as registered Altair themes.

``register(name, primary, accent)`` registers a theme once; builders only name it (see
``spec.to_spec``). Platform colours are fixed across every chart so that a platform keeps
its colour from page to page. Fonts are the reader's system fonts: nothing is fetched.
"""

from __future__ import annotations

from collections.abc import Iterable

import altair as alt

__all__ = [
    "DEFAULT_THEME",
    "PLATFORM_COLORS",
    "PLATFORM_LABELS",
    "platform_label",
    "platform_scale",
    "register",
]

DEFAULT_THEME = "campaign-report"
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"

PLATFORM_LABELS = {
    "google_ads": "Google Ads",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "linkedin": "LinkedIn",
    "x": "X",
    "tiktok": "TikTok",
    "microsoft_ads": "Microsoft Advertising",
    "pinterest": "Pinterest",
    "snapchat": "Snapchat",
    "amazon_ads": "Amazon Ads",
    "reddit": "Reddit",
    "file": "File export",
}
PLATFORM_COLORS = {
    "Google Ads": "#4285F4",
    "Facebook": "#1877F2",
    "Instagram": "#C13584",
    "LinkedIn": "#0A66C2",
    "X": "#14171A",
    "TikTok": "#25F4EE",
    "Microsoft Advertising": "#00A4EF",
    "Pinterest": "#E60023",
    "Snapchat": "#F7D100",
    "Amazon Ads": "#FF9900",
    "Reddit": "#FF4500",
    "File export": "#8C8C8C",
}


def platform_label(platform: str) -> str:
    """How a report names a platform; a file channel's slug reads as words (offline_tv)."""
    return PLATFORM_LABELS.get(platform) or platform.replace("_", " ").capitalize()


def platform_scale(present: Iterable[str] | None = None) -> alt.Scale:
    """Each platform's fixed colour, for the platforms ``present`` (all when None)."""
    names = list(PLATFORM_COLORS) if present is None else sorted(set(present))
    colours = [PLATFORM_COLORS.get(n, "#8C8C8C") for n in names]
    return alt.Scale(domain=names, range=colours)


def _config(primary: str, accent: str) -> alt.theme.ThemeConfig:
    return {
        "config": {
            "font": _FONT,
            "background": "transparent",
            "view": {"stroke": None, "continuousWidth": 640, "continuousHeight": 280},
            "axis": {
                "labelColor": "#5f6368",
                "titleColor": "#3c4043",
                "gridColor": "#e8eaed",
                "domainColor": "#dadce0",
                "labelFontSize": 11,
                "titleFontSize": 12,
            },
            "legend": {"labelFontSize": 11, "titleFontSize": 12, "orient": "bottom"},
            "title": {"fontSize": 15, "anchor": "start", "color": "#202124", "fontWeight": 600},
            "range": {
                "category": [
                    primary,
                    accent,
                    "#34a853",
                    "#9334e6",
                    "#f9ab00",
                    "#12b5cb",
                    "#e52592",
                    "#5f6368",
                ]
            },
            "mark": {"color": primary},
            "line": {"strokeWidth": 2},
        }
    }


def register(name: str, primary: str = "#1f3a5f", accent: str = "#e07a1f") -> str:
    """Register (or replace) the theme ``name`` with these brand colours; returns ``name``."""

    def theme() -> alt.theme.ThemeConfig:
        return _config(primary, accent)

    alt.theme.register(name, enable=False)(theme)
    return name


register(DEFAULT_THEME)
