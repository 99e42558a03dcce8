"""Paging as reusable pieces: each style is one small class with one method, ``next_page``.

A paginator looks at the page just read and the request that produced it, and returns the
request for the next page, or None when there is none. ``paginate`` drives any of them through
``ApiClient.call`` and refuses to loop: a token or link that repeats is an error, not an
endless sync. Where the page parameters go (query string or JSON body) is the paginator's
``where``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import httpx

from generator.connectors.http import ApiClient
from generator.errors import ResponseInvalid

__all__ = [
    "CursorPaginator",
    "NextLinkPaginator",
    "OffsetPaginator",
    "PageNumberPaginator",
    "PageRequest",
    "PageTokenPaginator",
    "Paginator",
    "dig",
    "paginate",
]


def dig(body: Any, path: str) -> Any:
    """The value at a dotted path in nested dicts (None when any step is missing)."""
    for part in path.split(".") if path else []:
        if not isinstance(body, dict):
            return None
        body = body.get(part)
    return body


@dataclass(frozen=True)
class PageRequest:
    """One page's request: the URL, query parameters and JSON body."""

    url: str
    params: dict[str, Any] = field(default_factory=dict)
    json: dict[str, Any] | None = None

    def with_values(self, where: Literal["params", "json"], **values: Any) -> PageRequest:
        if where == "json":
            return replace(self, json={**(self.json or {}), **values})
        return replace(self, params={**self.params, **values})


class Paginator(ABC):
    """Decides the next request from the last page."""

    where: Literal["params", "json"] = "params"

    @abstractmethod
    def next_page(self, body: Any, request: PageRequest) -> PageRequest | None:
        """The request for the page after ``body``, or None when it was the last."""


@dataclass
class CursorPaginator(Paginator):
    """A cursor in the body, sent back as a parameter (Meta: ``paging.cursors.after``).

    ``more_path`` names a field that must be present for another page to exist (Meta only
    sends ``paging.next`` when there is one).
    """

    cursor_path: str = "paging.cursors.after"
    param: str = "after"
    more_path: str | None = "paging.next"
    where: Literal["params", "json"] = "params"

    def next_page(self, body: Any, request: PageRequest) -> PageRequest | None:
        cursor = dig(body, self.cursor_path)
        if not cursor or (self.more_path and not dig(body, self.more_path)):
            return None
        return request.with_values(self.where, **{self.param: cursor})


@dataclass
class PageTokenPaginator(Paginator):
    """A page token (Google ``nextPageToken``, LinkedIn ``metadata.nextPageToken``)."""

    token_path: str = "nextPageToken"
    param: str = "pageToken"
    where: Literal["params", "json"] = "params"

    def next_page(self, body: Any, request: PageRequest) -> PageRequest | None:
        token = dig(body, self.token_path)
        return request.with_values(self.where, **{self.param: token}) if token else None


@dataclass
class NextLinkPaginator(Paginator):
    """A full URL of the next page (Snapchat ``paging.next_link``, Reddit ``next_url``)."""

    link_path: str = "paging.next_link"

    def next_page(self, body: Any, request: PageRequest) -> PageRequest | None:
        link = dig(body, self.link_path)
        return PageRequest(url=str(link), json=request.json) if link else None


@dataclass
class OffsetPaginator(Paginator):
    """Offset and limit, stopping at a total (GA4 ``rowCount``) or a short page."""

    limit: int
    offset_param: str = "offset"
    total_path: str | None = None
    items_path: str = ""
    where: Literal["params", "json"] = "params"

    def next_page(self, body: Any, request: PageRequest) -> PageRequest | None:
        offset = int(
            (request.json if self.where == "json" else request.params).get(self.offset_param, 0)
            or 0
        )
        following = offset + self.limit
        total = dig(body, self.total_path) if self.total_path else None
        if total is not None:
            return (
                request.with_values(self.where, **{self.offset_param: following})
                if (following < int(total))
                else None
            )
        items = dig(body, self.items_path) if self.items_path else body
        if not isinstance(items, list) or len(items) < self.limit:
            return None
        return request.with_values(self.where, **{self.offset_param: following})


@dataclass
class PageNumberPaginator(Paginator):
    """Numbered pages with a page count in the body (TikTok ``page_info.total_page``)."""

    total_pages_path: str = "data.page_info.total_page"
    param: str = "page"
    where: Literal["params", "json"] = "params"

    def next_page(self, body: Any, request: PageRequest) -> PageRequest | None:
        current = int(
            (request.json if self.where == "json" else request.params).get(self.param, 1) or 1
        )
        total = dig(body, self.total_pages_path)
        if total is None or current >= int(total):
            return None
        return request.with_values(self.where, **{self.param: current + 1})


async def paginate(
    api: ApiClient,
    method: str,
    first: PageRequest,
    paginator: Paginator,
    *,
    parse: Callable[[httpx.Response], Any] = lambda r: r.json(),
    max_pages: int = 100_000,
    **kwargs: Any,
) -> AsyncIterator[Any]:
    """Yield each page's parsed body, following ``paginator`` until it says stop.

    Raises:
        ResponseInvalid: the platform sent the same next-page request twice (a loop), or
            more than ``max_pages`` pages.
    """
    request: PageRequest | None = first
    seen: set[str] = set()
    for _ in range(max_pages):
        if request is None:
            return
        key = repr((request.url, sorted(request.params.items()), request.json))
        if key in seen:
            raise ResponseInvalid(
                f"the platform repeated a page ({request.url}); stopping to avoid an endless loop",
                platform=api.platform,
            )
        seen.add(key)
        body = await api.call(
            method,
            request.url,
            params=request.params or None,
            json=request.json,
            parse=parse,
            **kwargs,
        )
        yield body
        request = paginator.next_page(body, request)
    raise ResponseInvalid(f"more than {max_pages} pages; stopping", platform=api.platform)
