"""The sliver of GAQL (Google Ads Query Language) the sandbox understands.

SELECT of fields FROM a resource, with WHERE conditions on ``segments.date`` (BETWEEN, =, >=,
<=) and status or impression filters (accepted, not applied). Anything else is a QueryError,
which the Google Ads emulator answers the way Google does.
"""

from __future__ import annotations

import re
from datetime import date

__all__ = ["QueryError", "date_range", "fields", "resource", "where"]

QUERY_RE = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<resource>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDER\s+BY\s+.+?)?(?:\s+LIMIT\s+\d+)?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_DATE_COND = re.compile(
    r"segments\.date\s*(?:BETWEEN\s*'(?P<lo>[\d-]+)'\s*AND\s*'(?P<hi>[\d-]+)'"
    r"|(?P<op>>=|<=|=)\s*'(?P<day>[\d-]+)')",
    re.IGNORECASE,
)
_IGNORED_COND = re.compile(
    r"^(?:(?:campaign|ad_group|ad_group_ad)\.status\s*(?:!=|=|IN|NOT IN)\s*.+"
    r"|metrics\.impressions\s*>\s*0|asset\.type\s*=\s*'IMAGE')$",
    re.IGNORECASE,
)


class QueryError(ValueError):
    """The query is not GAQL the sandbox can answer."""


def fields(query: str) -> list[str]:
    """The selected field names, in order."""
    match = QUERY_RE.match(query)
    if not match:
        raise QueryError("expected SELECT ... FROM ... [WHERE ...]")
    return [f.strip() for f in match.group("fields").split(",") if f.strip()]


def resource(query: str) -> str:
    fields(query)
    return QUERY_RE.match(query).group("resource").lower()


def where(query: str) -> str:
    fields(query)
    return QUERY_RE.match(query).group("where") or ""


def date_range(where: str) -> tuple[date | None, date | None]:
    lo = hi = None
    for cond in _split_conditions(where):
        match = _DATE_COND.fullmatch(cond.strip())
        if match and match.group("lo"):
            lo, hi = date.fromisoformat(match.group("lo")), date.fromisoformat(match.group("hi"))
        elif match:
            day = date.fromisoformat(match.group("day"))
            op = match.group("op")
            lo = day if op in (">=", "=") else lo
            hi = day if op in ("<=", "=") else hi
        elif not _IGNORED_COND.match(cond.strip()):
            raise QueryError(f"condition {cond.strip()!r} is not supported by the sandbox")
    return lo, hi


def _split_conditions(where: str) -> list[str]:
    """Split on AND, keeping ``BETWEEN x AND y`` together."""
    parts, out = re.split(r"\s+AND\s+", where.strip(), flags=re.IGNORECASE) if where else [], []
    for part in parts:
        if out and re.search(r"BETWEEN\s*'[\d-]+'\s*$", out[-1], re.IGNORECASE):
            out[-1] = f"{out[-1]} AND {part}"
        else:
            out.append(part)
    return out
