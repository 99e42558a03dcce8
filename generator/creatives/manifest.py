"""Each stored asset's manifest: where it came from, when, what it is, and on what terms.

``<sha>.json`` lies next to the asset::

    {"sha256": "...", "bytes": 48213, "width": 1200, "height": 628, "format": "PNG",
     "metadata": "stripped", "rights": "Licensed from ... until 2027-06",
     "sources": [{"platform": "meta", "source": "meta", "account_id": "act_1",
                  "ad_id": "238...", "creative_id": "120...", "version": "3f2a...",
                  "url": "https://scontent.xx.fbcdn.net/v/t45/a.jpg?stp=dst-jpg",
                  "fetched_at": "2026-11-24T12:00:00+00:00"}]}

The content is addressed by its hash, so one file may be the image of several ads (the same
picture reused): each is one entry of ``sources``. The URL is the one the platform gave, minus
what makes it a credential: user and password, the fragment, and every query parameter that
looks like a token, a signature, a key, an expiry or a policy (``clean_url``), so the manifest
says where an image was without handing anyone a way to fetch it again.

When retention removes an asset, its manifest stays with ``removed`` added (when, why, after
how many days): the report then says why the image is gone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["clean_url", "removed", "with_source"]

#: most sources kept in one manifest (an image reused by more ads keeps the latest)
MAX_SOURCES = 200
MAX_URL = 2048

#: words that make a query parameter a credential, wherever they stand in its name
_SECRET_WORDS = {
    "access", "apikey", "auth", "authorization", "credential", "credentials", "exp", "expire",
    "expires", "expiry", "expiration", "hash", "hdnea", "hdnts", "hmac", "jwt", "key", "keyid",
    "nonce", "passwd", "password", "policy", "pwd", "secret", "security", "session",
    "sessionid", "sid", "sig", "sign", "signature", "signed", "signedheaders", "tok", "token",
    "ticket",
}  # fmt: skip
#: short names CDNs use for the same: Meta's oh/oe (signature, expiry) and its opaque efg,
#: LinkedIn's e/t (expiry, token), the fields of an Azure shared access signature
_SECRET_NAMES = {
    "oh", "oe", "efg", "e", "t", "se", "sp", "sv", "sr", "ss", "st", "srt", "spr", "skoid",
    "sktid", "skt", "ske", "sks", "skv",
}  # fmt: skip
#: prefixes of signed-URL families: AWS, Google Cloud, Alibaba, Azure, Meta's _nc_*
_SECRET_PREFIXES = ("x-amz-", "x-goog-", "x-oss-", "x-ms-", "_nc_")


def clean_url(url: str | None) -> str | None:
    """``url`` without user info, fragment and credential-like query parameters.

    Something that does not parse as an http(s) URL (an ID, a broken string) is returned
    without its query and fragment.
    """
    if not url:
        return url
    url = url[:MAX_URL]
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return re.split(r"[?#]", url, maxsplit=1)[0]
    if parts.scheme.lower() not in ("http", "https"):
        return re.split(r"[?#]", url, maxsplit=1)[0]
    host = f"[{host}]" if ":" in host else host
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if _kept(k)]
    return urlunsplit((parts.scheme, host + port, parts.path, urlencode(query), ""))


def _kept(name: str) -> bool:
    lower = name.lower()
    if lower in _SECRET_NAMES or lower.startswith(_SECRET_PREFIXES):
        return False
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name).lower()
    return not set(re.split(r"[^a-z0-9]+", words)) & _SECRET_WORDS


def with_source(
    manifest: Mapping[str, Any] | None,
    *,
    sha: str,
    size: int,
    image: Mapping[str, Any],
    row: Mapping[str, Any],
    rights: str | None,
) -> dict[str, Any]:
    """The manifest of asset ``sha`` with ``row`` (a creative) among its sources.

    Args:
        manifest: what the store holds for it now, if anything (a removed asset's included).
        size: bytes stored; image: ``format``, ``width``, ``height`` of the stored image,
            and its ``phash`` and ``colours`` where they are known.
        row: the creative (platform, source, account_id, ad_id, creative_id, version,
            asset_url, fetched_at).
        rights: the client's rights note (client.yml ``creatives.rights``).
    """
    source = {
        "platform": row.get("platform"),
        "source": row.get("source"),
        "account_id": row.get("account_id"),
        "ad_id": row.get("ad_id"),
        "creative_id": row.get("creative_id"),
        "version": row.get("version"),
        "url": clean_url(row.get("asset_url")),
        "fetched_at": _iso(row.get("fetched_at")),
    }
    key = _key(source)
    others = [s for s in (manifest or {}).get("sources", []) if _key(s) != key]
    return {
        "sha256": sha,
        "bytes": size,
        "format": image.get("format"),
        "width": image.get("width"),
        "height": image.get("height"),
        **{k: image[k] for k in ("phash", "colours") if k in image},
        "metadata": "stripped",
        "rights": rights,
        "sources": sorted([*others, source], key=_order)[-MAX_SOURCES:],
    }


def removed(
    manifest: Mapping[str, Any] | None,
    *,
    sha: str,
    on: date,
    retention_days: int,
    last_ran: date | None,
) -> dict[str, Any]:
    """The manifest of an asset that retention removed: what it was, plus when and why."""
    return {
        **(manifest or {"sha256": sha}),
        "removed": {
            "on": on.isoformat(),
            "reason": "retention",
            "retention_days": retention_days,
            "last_ran": last_ran.isoformat() if last_ran else None,
        },
    }


def _order(source: Mapping[str, Any]) -> tuple:
    """Oldest fetch first (the newest are kept), then by key: the same file every time."""
    return (str(source.get("fetched_at") or ""), *(str(k) for k in _key(source)))


def _key(source: Mapping[str, Any]) -> tuple:
    return tuple(source.get(k) for k in ("platform", "account_id", "creative_id", "version"))


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return None if value is None else str(value)
