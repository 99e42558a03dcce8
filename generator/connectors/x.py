"""X (Twitter) Ads API 12: OAuth 1.0a, cursor-paged entities, asynchronous stats jobs.

Entities are read once per connector: ``GET /12/accounts/{id}`` (name, time zone) and its
``funding_instruments`` (the currency lives there, not on the account), then ``campaigns``,
``line_items`` (X's ad groups) and ``promoted_tweets`` (the ads, each pointing at a
``tweet_id``), all ``{"request", "data": [...], "next_cursor"}`` paged by ``cursor`` with
``count`` up to 1000, deleted ones included (``with_deleted=true``) so that a deleted promoted
tweet still has its numbers read and its names known. An ad's name is its tweet's ``name``
(``GET .../tweets?tweet_ids=``). Stats rows carry promoted tweet ids only: an entity the lists
still miss degrades to its id (recorded as unresolved) and keeps its numbers.

Stats come from asynchronous jobs: ``POST /12/stats/jobs/accounts/{id}`` (entity=PROMOTED_TWEET,
at most 20 ``entity_ids``, ``start_time``/``end_time`` at midnight in the account's time zone
with the offset written out, at most 90 days, granularity=DAY, placement=ALL_ON_TWITTER,
metric_groups=ENGAGEMENT,BILLING,WEB_CONVERSION) answers a job; ``GET ...?job_ids=`` is polled
until ``SUCCESS``; its ``url`` (ton.twimg.com) is a gzip JSON file, downloaded without OAuth:
``{"time_series_length": N, "data": [{"id", "id_data": [{"segment": null, "metrics": {name:
[N daily buckets] | null}}]}]}`` where null means 0. One job serves both ``ad_performance`` and
``actions``. Spend is ``billed_charge_local_micro`` (micros of the account currency).

Conversions: WEB_CONVERSION metrics are objects of bucket arrays (``post_engagement``,
``post_view``, ``sale_amount``, ``sale_amount_engagement``, ...). X has no lead metric: a
lead-gen advertiser tracks its leads as a custom website event, so ``conversion_custom`` maps
to ``lead`` ('verify' per account); ``conversion_purchases`` is ``purchase``,
``conversion_sign_ups`` ``signup``, ``conversion_site_visits`` ``page_view`` and
``conversion_downloads`` ``other``. ``conversions`` counts purchases and leads, post-engagement
plus post-view; ``value_micros`` is the purchases' ``sale_amount`` (micros, 'verify').
``actions`` keep every type in ``default`` (engagement + view) and in ``post_engagement`` and
``post_view`` apart.

Errors are ``{"errors": [{"code", "message"}], "request": {...}}``. HTTP 429 waits until
``x-rate-limit-reset`` (epoch seconds; ``x-account-rate-limit-*`` for per-account limits); a
``*-remaining`` near zero pauses until that reset first; ``x-concurrent-job-limit-remaining``
of 0 pauses before the next job. A retired version answers 410 ('verify': X documents only
that a sunset version stops answering).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import httpx
import pyarrow as pa

from generator.connectors.auth import OAuth1
from generator.connectors.base import AccountInfo, Connector
from generator.connectors.incremental import date_chunks
from generator.connectors.jobs import JobStatus, gather_all
from generator.connectors.labels import Directory, Entity
from generator.connectors.normalize import Col, asset_key, content_version
from generator.connectors.paging import CursorPaginator, PageRequest, dig, paginate
from generator.connectors.payloads import gunzip_json, json_object
from generator.connectors.redact import redact
from generator.connectors.verdicts import Fail, RateLimit, SlowDown, Verdict
from generator.errors import ApiVersionRetired, AuthFailed, ConnectorError, ResponseInvalid
from generator.schema import ACTIONS, AD_PERFORMANCE, CREATIVES

__all__ = ["ACTION_TYPES", "API_VERSION", "SUNSET", "XAds"]

log = logging.getLogger("generator.connectors")

#: The pinned Ads API version: the path prefix. Versions and their end of life are listed at
#: docs.x.com/x-ads-api/fundamentals/versioning; a new one gives six months' notice.
API_VERSION = "12"
SUNSET = "none announced (12.0, introduced 2022-10-27, is the newest; its deprecation is TBD)"
PAGE_SIZE = 1000  # the largest ``count`` of an entity list
LOOKUP_SIZE = 200  # tweet_ids / card_ids per lookup ('verify')
IDS_PER_JOB, MAX_JOB_DAYS = 20, 90
METRIC_GROUPS = "ENGAGEMENT,BILLING,WEB_CONVERSION"
#: WEB_CONVERSION metric -> canonical action type (see the module docstring)
ACTION_TYPES = {
    "conversion_purchases": "purchase",
    "conversion_custom": "lead",
    "conversion_sign_ups": "signup",
    "conversion_site_visits": "page_view",
    "conversion_downloads": "other",
}
PRIMARY = ("conversion_purchases", "conversion_custom")
#: attribution window -> (count part, value part) of a conversion metric
WINDOWS = {
    "default": (("post_engagement", "post_view"), "sale_amount"),
    "post_engagement": (("post_engagement",), "sale_amount_engagement"),
    "post_view": (("post_view",), "sale_amount_view"),
}
_PARTS = ("post_engagement", "post_view", *(value for _, value in WINDOWS.values()))
_PLAIN = ("impressions", "clicks", "billed_charge_local_micro")
SLOW_SHARE, MAX_PAUSE = 0.05, 900.0  # pause when under 5% of a window is left; X's 15 minutes
JOB_SLOT_WAIT = 1.0  # seconds to wait for a concurrent job slot
_BUMP = (
    f"X Ads API {API_VERSION} is retired: bump API_VERSION in generator/connectors/x.py to a "
    "current version (docs.x.com/x-ads-api/fundamentals/versioning) and re-record tests/fixtures/x"
)

_IDENTITY = {
    "date": Col("date", "date", required=True),
    "campaign_id": Col("campaign_id", "id", required=True),
    "ad_group_id": Col("ad_group_id", "id"),
    "ad_id": Col("ad_id", "id", required=True),
}
PERFORMANCE = {
    **_IDENTITY,
    "campaign_name": Col("campaign_name"),
    "ad_group_name": Col("ad_group_name"),
    "ad_name": Col("ad_name"),
    "creative_id": Col("tweet_id", "id"),
    "impressions": Col("impressions", "count", default=0),
    "clicks": Col("clicks", "count", default=0),
    "spend_micros": Col("billed_charge_local_micro", "micros", default=0),
    "conversions": Col("conversions", "number", default=0.0),
    "value_micros": Col("conversion_purchases:sale_amount", "micros", default=0),
}
ACTION_FIELDS = {
    **_IDENTITY,
    "action_type": Col("action_type", required=True),
    "attribution_window": Col("window", required=True),
    "count": Col("count", "number", default=0.0),
    "value_micros": Col("value", "micros", default=0),
}
CREATIVE_FIELDS = {
    "creative_id": Col("tweet_id", "id", required=True),
    "ad_id": Col("ad_id", "id"),
    **{k: Col(k) for k in ("name", "headline", "body", "landing_url", "asset_url")},
    "width": Col("width", "count"),
    "height": Col("height", "count"),
    "format": Col("format", required=True),
    "version": Col("version", required=True),
}


class XAds(Connector):
    """X (Twitter) Ads through the Ads API (OAuth 1.0a user context)."""

    platform = "x"
    api_version = API_VERSION
    sunset = SUNSET
    hosts: ClassVar[dict[str, str]] = {
        "api": "https://ads-api.x.com",
        "ton": "https://ton.twimg.com",
    }
    #: a burst cap: X counts calls per endpoint in 15-minute windows, which the
    #: x-rate-limit headers track and ``classify`` pauses for
    rate = 10.0
    lookback_days = 30  # X's default post-engagement attribution window ('verify')
    credential_names = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")

    def __init__(self, credentials: Mapping[str, str], **options: Any) -> None:
        super().__init__(credentials, **options)
        self._accounts: dict[str, AccountInfo] = {}
        self._catalogs: dict[str, _Catalog] = {}
        self._warned = False

    def make_auth(self) -> OAuth1:
        c = self.credentials
        return OAuth1(
            self.platform,
            consumer_key=c["consumer_key"],
            consumer_secret=c["consumer_secret"],
            token=c["access_token"],
            token_secret=c["access_token_secret"],
        )

    def classify(self, response: httpx.Response, request: str) -> Verdict | None:
        headers = response.headers
        if (warning := headers.get("x-api-warn")) and not self._warned:
            self._warned = True
            log.warning("x: the API warns %r; plan the API_VERSION bump", warning[:200])
        if response.status_code < 300:
            if headers.get("x-concurrent-job-limit-remaining") == "0":
                return SlowDown(JOB_SLOT_WAIT)
            pause = _usage_pause(headers)
            return SlowDown(pause) if pause else None
        code, message = _error(response)
        if response.status_code == 429:
            wait = _reset_wait(headers)
            if wait is None and headers.get("x-concurrent-job-limit-remaining") == "0":
                wait = JOB_SLOT_WAIT
            return RateLimit(f"{code} {message}".strip(), wait)
        if response.status_code == 410:
            return Fail(ApiVersionRetired(f"{_BUMP} ({message})", platform="x", request=request))
        if response.status_code in (401, 403):
            advice = "check consumer_key/consumer_secret and access_token/access_token_secret"
            text = f"X rejected the OAuth 1.0a request ({code}: {message}); {advice}"
            return Fail(AuthFailed(text, platform=self.platform, request=request))
        if response.status_code >= 500:
            return None
        text = f"HTTP {response.status_code} {code}: {message}"
        return Fail(ConnectorError(text, platform=self.platform, request=request))

    async def account_info(self, account_id: str) -> AccountInfo:
        """Name, time zone and currency (from the funding instruments), read once."""
        if account_id not in self._accounts:
            account = dig(await self._get(f"accounts/{account_id}"), "data") or {}
            funding = await self._list(f"accounts/{account_id}/funding_instruments", {})
            currency = next((f["currency"] for f in funding if f.get("currency")), None)
            for field, value in (("timezone", account.get("timezone")), ("currency", currency)):
                if not value:
                    message = f"account {account_id} answered without {field!r} (API {API_VERSION})"
                    raise ResponseInvalid(message, platform=self.platform)
            info = AccountInfo(
                account_id, str(account.get("name", "")), currency, account["timezone"]
            )
            self._accounts[account_id] = info
        return self._accounts[account_id]

    async def fetch_performance(self, account_id: str, start: date, end: date) -> pa.Table:
        """Daily rows per promoted tweet; conversions and value as the module docstring says."""
        info, days = await self._days(account_id, start, end, "ad_performance")
        records = [d for d in days if any(d[k] for k in (*_PLAIN, "conversions"))]
        return self.normalize(records, PERFORMANCE, AD_PERFORMANCE, **_constants(info, True))

    async def fetch_actions(self, account_id: str, start: date, end: date) -> pa.Table:
        """Daily conversions by canonical type in the default and the two X windows."""
        info, days = await self._days(account_id, start, end, "actions")
        records = [action for day in days for action in _actions(day)]
        return self.normalize(records, ACTION_FIELDS, ACTIONS, **_constants(info))

    async def fetch_creatives(self, account_id: str) -> pa.Table:
        """One row per promoted tweet's tweet: its text, website card and image."""
        catalog = await self._catalog(account_id)
        tweets = catalog.tweets
        card_ids = sorted({t["card_uri"][7:] for t in tweets.values() if t.get("card_uri")})
        cards = {}
        for chunk in _chunks(card_ids, LOOKUP_SIZE):
            params = {"card_ids": ",".join(chunk), "count": LOOKUP_SIZE}
            for card in await self._list(f"accounts/{account_id}/cards", params):
                cards[card.get("card_uri")] = card
        first_ad: dict[str, str] = {}
        for ad_id, tweet_id in sorted(catalog.tweet_ids.items()):
            if tweet_id:
                first_ad.setdefault(tweet_id, ad_id)
        rows = [
            {**_creative(tweet, cards.get(tweet.get("card_uri")) or {}), "ad_id": first_ad.get(tid)}
            for tid, tweet in tweets.items()
        ]
        return self.normalize(rows, CREATIVE_FIELDS, CREATIVES, account_id=account_id)

    # -- the pieces -----------------------------------------------------------------------

    def _api(self, path: str) -> str:
        return self.url("api", f"/{API_VERSION}/{path}")

    async def _get(self, path: str, **params: Any) -> dict[str, Any]:
        return await self.api.call("GET", self._api(path), params=params, parse=json_object)

    async def _list(self, path: str, params: dict[str, Any]) -> list[dict]:
        """Every item of a cursor-paged list."""
        first = PageRequest(self._api(path), {"count": PAGE_SIZE, **params})
        paginator = CursorPaginator(cursor_path="next_cursor", param="cursor", more_path=None)
        pages = paginate(self.api, "GET", first, paginator, parse=_page)
        return [item async for page in pages for item in page["data"]]

    async def _catalog(self, account_id: str) -> _Catalog:
        """Campaigns, line items, promoted tweets (deleted ones too) and their tweets, read
        once per account."""
        if account_id not in self._catalogs:
            everything = {"with_deleted": "true"}
            campaigns, items, promoted = await gather_all(
                self._list(f"accounts/{account_id}/{e}", everything) for e in _ENTITIES
            )
            # every promoted tweet is asked for stats, even one whose tweet is not named
            tweet_ids = {str(p["id"]): _text(p.get("tweet_id")) for p in _having(promoted)}
            tweets: dict[str, dict] = {}
            for chunk in _chunks(sorted(set(tweet_ids.values()) - {None}), LOOKUP_SIZE):
                params = {"tweet_ids": ",".join(chunk), "tweet_type": "PUBLISHED"}
                for tweet in await self._list(f"accounts/{account_id}/tweets", params):
                    tweets[str(tweet.get("id_str") or tweet.get("tweet_id"))] = tweet
            directory = Directory(
                campaigns=[Entity(str(c["id"]), c.get("name")) for c in _having(campaigns)],
                ad_groups=[_listed(i, i.get("name"), "campaign_id") for i in _having(items)],
                ads=[
                    _listed(
                        p, tweets.get(tweet_ids.get(str(p["id"])), {}).get("name"), "line_item_id"
                    )
                    for p in _having(promoted)
                ],
            )
            self._catalogs[account_id] = _Catalog(directory, tweet_ids, tweets)
        return self._catalogs[account_id]

    async def _days(self, account_id: str, start: date, end: date, dataset: str):
        """The window's day records, one job run serving performance and actions."""
        info = await self.account_info(account_id)

        async def read() -> list[dict]:
            catalog = await self._catalog(account_id)
            jobs = [
                self._job(account_id, info.timezone, first, last, ids)
                for first, last in date_chunks(start, end, MAX_JOB_DAYS)
                for ids in _chunks(sorted(catalog.tweet_ids), IDS_PER_JOB)
            ]
            return [
                {
                    **d,
                    **self.label(account_id, catalog.directory, ad=d["ad_id"]),
                    "tweet_id": catalog.tweet_ids.get(d["ad_id"]),
                }
                for part in await gather_all(jobs)
                for d in part
            ]

        return info, await self.shared(dataset, (account_id, start, end), read)

    async def _job(self, account_id: str, zone: str, start: date, end: date, ids: list[str]):
        """One stats job for up to 20 promoted tweets over up to 90 days: its day records."""
        url, count = self._api(f"stats/jobs/accounts/{account_id}"), (end - start).days + 1
        params = {
            "entity": "PROMOTED_TWEET",
            "entity_ids": ",".join(ids),
            "start_time": _midnight(start, zone),
            "end_time": _midnight(end + timedelta(days=1), zone),
            "granularity": "DAY",
            "placement": "ALL_ON_TWITTER",
            "metric_groups": METRIC_GROUPS,
        }

        async def submit() -> str:
            job = dig(await self.api.call("POST", url, params=params, parse=json_object), "data")
            if not isinstance(job, dict) or not job.get("id_str"):
                message = f"the stats job answer lacks 'id_str' (API {API_VERSION})"
                raise ResponseInvalid(message, platform=self.platform)
            return str(job["id_str"])

        async def poll(job_id: str) -> JobStatus:
            return _job_status(await self._get(f"stats/jobs/accounts/{account_id}", job_ids=job_id))

        async def fetch(job_id: str, status: JobStatus) -> dict[str, dict[str, list[int]]]:
            target = self._download_url(str(status.result))
            read = partial(_read_stats, days=count)
            return await self.api.call("GET", target, authenticate=False, parse=read)

        digest = hashlib.sha1(params["entity_ids"].encode()).hexdigest()[:12]
        series = await self.run_report(
            account_id, f"stats:{start}:{end}:{digest}", submit, poll, fetch
        )
        return [
            {"ad_id": ad_id, "date": start + timedelta(days=i), **_day(values, i)}
            for ad_id, values in series.items()
            for i in range(count)
        ]

    def _download_url(self, url: str) -> str:
        """The job file's URL: on ton.twimg.com (moved under ``base_url/ton`` for the sandbox)."""
        host = httpx.URL(url).host
        if host != httpx.URL(self.hosts["ton"]).host and not url.startswith(f"{self.base_url}/"):
            raise ResponseInvalid(f"a stats file on an unexpected host ({host})", platform="x")
        return self.rebase(url, "ton")


_ENTITIES = ("campaigns", "line_items", "promoted_tweets")


def _constants(info: AccountInfo, named: bool = False) -> dict[str, str]:
    constants = {"account_id": info.account_id, "account_timezone": info.timezone}
    return constants | {"currency": info.currency} | ({"account_name": info.name} if named else {})


@dataclass(frozen=True)
class _Catalog:
    """An account's entities: the directory that names stats rows (campaign > line item >
    promoted tweet), each promoted tweet's tweet id, and the tweets by id."""

    directory: Directory
    tweet_ids: dict[str, str | None]
    tweets: dict[str, dict]


def _having(items: Iterable[dict]) -> list[dict]:
    """The listed items that carry an ``id`` (others can be neither asked for nor named)."""
    return [i for i in items if _text(i.get("id"))]


def _listed(item: dict, name: Any, parent: str) -> Entity:
    return Entity(str(item["id"]), name, _text(item.get(parent)))


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _midnight(day: date, zone: str) -> str:
    """Midnight of ``day`` in the account's time zone, with its UTC offset written out."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).isoformat()


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _job_status(body: dict[str, Any]) -> JobStatus:
    jobs = body.get("data")
    job = jobs[0] if isinstance(jobs, list) and jobs and isinstance(jobs[0], dict) else None
    if job is None:  # expired or never known: run_report submits afresh
        return JobStatus(failed=True, detail="X no longer knows the job")
    status = str(job.get("status", ""))
    if status == "SUCCESS" and job.get("url"):
        return JobStatus(done=True, detail=status, result=job["url"])
    return JobStatus(failed=status in ("FAILED", "EXPIRED"), detail=status)


def _read_stats(response: httpx.Response, *, days: int) -> dict[str, dict[str, list[int]]]:
    """promoted tweet id -> metric (``conversion_custom:post_view``...) -> daily values.

    Raises ``ValueError`` (a download to retry) for a cut or garbled file.
    """
    body = gunzip_json(response.content)
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise ValueError("a stats file without a data list")
    if body.get("time_series_length", days) != days:
        raise ValueError(f"{body.get('time_series_length')} buckets where {days} were asked")
    out = {}
    for entity in body["data"]:
        metrics = dig((entity.get("id_data") or [{}])[0], "metrics") or {}
        series = {name: _series(metrics.get(name), days) for name in _PLAIN}
        for name in ACTION_TYPES:
            for part in _PARTS:
                series[f"{name}:{part}"] = _series(dig(metrics, f"{name}.{part}"), days)
        if not isinstance(entity, dict) or not entity.get("id"):
            raise ValueError("a stats entry without an id")
        out[str(entity["id"])] = series
    return out


def _series(values: Any, days: int) -> list[int]:
    """A metric's daily buckets, null (whole metric or one bucket) meaning 0."""
    if values is None:
        return [0] * days
    if not isinstance(values, list) or len(values) != days:
        raise ValueError(f"a metric with {len(values) if isinstance(values, list) else 0} buckets")
    return [v or 0 for v in values]


def _day(series: dict[str, list[int]], i: int) -> dict[str, Any]:
    day = {name: values[i] for name, values in series.items()}
    day["conversions"] = sum(day[f"{m}:{p}"] for m in PRIMARY for p in WINDOWS["default"][0])
    return day


def _actions(day: dict[str, Any]) -> list[dict[str, Any]]:
    """One record per conversion metric present that day, in each attribution window."""
    out = []
    for metric, action_type in ACTION_TYPES.items():
        if not any(day[f"{metric}:{p}"] for p in _PARTS[:3]):
            continue
        for window, (counts, value) in WINDOWS.items():
            count = sum(day[f"{metric}:{p}"] for p in counts)
            out.append(
                {
                    **day,
                    "action_type": action_type,
                    "window": window,
                    "count": count,
                    "value": day[f"{metric}:{value}"],
                }
            )
    return out


def _creative(tweet: dict[str, Any], card: dict[str, Any]) -> dict[str, Any]:
    """Copy, landing page and image of a promoted tweet, and a version hashed from them."""
    components = {c.get("type"): c for c in card.get("components") or [] if isinstance(c, dict)}
    details, media = components.get("DETAILS", {}), components.get("MEDIA", {})
    image = (card.get("media_metadata") or {}).get(media.get("media_key"), {})
    links = dig(tweet, "entities.urls") or [{}]
    row = {
        "tweet_id": tweet.get("id_str") or tweet.get("tweet_id"),
        "name": tweet.get("name"),
        "headline": details.get("title"),
        "body": tweet.get("full_text") or tweet.get("text"),
        "landing_url": dig(details, "destination.url") or links[0].get("expanded_url"),
        "asset_url": image.get("url"),
        "width": image.get("width"),
        "height": image.get("height"),
        "format": "video" if image.get("type") == "VIDEO" else "image" if image else "text",
    }
    # the image by its path: the CDN's host and a signed query change while the image does not
    row["version"] = content_version(*(row | {"asset_url": asset_key(row["asset_url"])}).values())
    return row


def _page(response: httpx.Response) -> dict[str, Any]:
    body = json_object(response)
    if not isinstance(body.get("data"), list):
        raise ValueError("a page without a data list")
    return body


def _error(response: httpx.Response) -> tuple[str, str]:
    """The first error's code and message (redacted), from X's ``errors`` list."""
    try:
        errors = response.json().get("errors") or [{}]
        first = errors[0] if isinstance(errors[0], dict) else {}
    except (ValueError, AttributeError, IndexError, TypeError):
        first = {}
    message = str(first.get("message") or response.text[:200].replace("\n", " "))
    return str(first.get("code") or f"HTTP {response.status_code}"), redact(message)


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _reset_wait(headers: httpx.Headers) -> float | None:
    """Seconds until the per-account or per-endpoint window resets (epoch in the header)."""
    for prefix in ("x-account-rate-limit", "x-rate-limit"):
        reset = _number(headers.get(f"{prefix}-reset"))
        if reset is not None and headers.get(f"{prefix}-remaining") in (None, "0"):
            return min(MAX_PAUSE, max(0.0, reset - time.time()))
    return _number(headers.get("retry-after"))


def _usage_pause(headers: httpx.Headers) -> float:
    """A pause until the window resets when under ``SLOW_SHARE`` of it is left, else 0."""
    for prefix in ("x-account-rate-limit", "x-rate-limit"):
        limit, left, reset = (_number(headers.get(f"{prefix}-{k}")) for k in _LIMIT_KEYS)
        if left is not None and reset is not None and left < max(1.0, (limit or 0) * SLOW_SHARE):
            return min(MAX_PAUSE, max(0.0, reset - time.time()))
    return 0.0


_LIMIT_KEYS = ("limit", "remaining", "reset")
