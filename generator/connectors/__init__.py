"""Connectors: one module per platform on one framework (auth, limits, retries, paging, jobs).

``get_connector(platform, credentials, base_url=None, transport=None)`` is the entry point;
``CONNECTORS`` maps each connector name to its class.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from generator.connectors.base import AccountInfo, Connector
from generator.connectors.google_ads import GoogleAds
from generator.connectors.incremental import last_complete_day, sync_windows
from generator.connectors.retry import RetryPolicy
from generator.errors import ConnectorError

__all__ = [
    "CONNECTORS",
    "AccountInfo",
    "Connector",
    "RetryPolicy",
    "get_connector",
    "last_complete_day",
    "sync_windows",
]

CONNECTORS: dict[str, type[Connector]] = {"google_ads": GoogleAds}


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
        ConnectorError: the platform has no connector yet.
        AuthFailed: required credentials are missing.
    """
    try:
        cls = CONNECTORS[platform]
    except KeyError:
        known = ", ".join(sorted(CONNECTORS))
        raise ConnectorError(
            f"no connector for {platform!r} yet (available: {known})", platform=platform
        ) from None
    return cls(credentials, base_url=base_url, transport=transport, **options)
