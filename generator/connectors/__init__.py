"""Connectors: one module per platform on one framework (auth, limits, retries, paging, jobs).

``get_connector(platform, credentials, base_url=None, transport=None)`` is the entry point.
``CONNECTORS`` names the class of each connector; a platform whose module is not written yet
is reported as unavailable rather than failing the whole run.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

import httpx

from generator.connectors.base import AccountInfo, Connector
from generator.connectors.incremental import last_complete_day, sync_windows
from generator.connectors.retry import RetryPolicy
from generator.errors import ConnectorError

__all__ = [
    "CONNECTORS",
    "AccountInfo",
    "Connector",
    "RetryPolicy",
    "available",
    "connector_class",
    "get_connector",
    "last_complete_day",
    "sync_windows",
]

#: connector name -> "module:Class"
CONNECTORS: dict[str, str] = {
    "google_ads": "generator.connectors.google_ads:GoogleAds",
    "meta": "generator.connectors.meta:Meta",
    "linkedin": "generator.connectors.linkedin:LinkedIn",
    "ga4": "generator.connectors.ga4:GA4",
    "x": "generator.connectors.x:XAds",
    "tiktok": "generator.connectors.tiktok:TikTok",
    "microsoft_ads": "generator.connectors.microsoft_ads:MicrosoftAds",
    "pinterest": "generator.connectors.pinterest:Pinterest",
    "snapchat": "generator.connectors.snapchat:Snapchat",
    "amazon_ads": "generator.connectors.amazon_ads:AmazonAds",
    "reddit": "generator.connectors.reddit:Reddit",
    "file": "generator.connectors.files:FileSource",
}


def connector_class(platform: str) -> type[Connector]:
    """The connector class for ``platform``.

    Raises:
        ConnectorError: unknown platform, or its connector is not available yet.
    """
    if platform not in CONNECTORS:
        raise ConnectorError(
            f"no connector for {platform!r} (known: {', '.join(CONNECTORS)})", platform=platform
        )
    module_name, class_name = CONNECTORS[platform].split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise ConnectorError(
            f"no connector for {platform!r} yet (available: {', '.join(available())})",
            platform=platform,
        ) from None
    return getattr(module, class_name)


def available() -> list[str]:
    """Connector names whose module exists."""
    out = []
    for name, target in CONNECTORS.items():
        try:
            importlib.import_module(target.split(":")[0])
        except ModuleNotFoundError as exc:
            if exc.name != target.split(":")[0]:
                raise
            continue
        out.append(name)
    return out


def get_connector(
    platform: str,
    credentials: Mapping[str, str],
    *,
    base_url: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    **options,
) -> Connector:
    """A connector for ``platform`` (a connector name such as ``google_ads`` or ``meta``).

    Raises:
        ConnectorError: the platform has no connector (yet).
        AuthFailed: required credentials are missing.
    """
    cls = connector_class(platform)
    return cls(credentials, base_url=base_url, transport=transport, **options)
