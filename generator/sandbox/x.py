"""X Ads API as the sandbox speaks it: OAuth 1.0a, cursor-paged entities, async stats jobs.

Served under ``/x`` in place of ads-api.x.com (and ton.twimg.com for job files):

- ``GET /{version}/accounts/{id}``: the account (name, timezone); ``.../funding_instruments``
  carries the currency; ``.../campaigns``, ``/line_items``, ``/promoted_tweets`` list the
  account's entities; ``.../tweets?tweet_ids=&tweet_type=PUBLISHED`` the promoted tweets'
  text and website card; ``.../cards?card_ids=`` the cards (title, destination, image on the
  sandbox CDN). Lists are ``{"request", "data", "data_type", "next_cursor"}`` paged by
  ``count`` (default 200, at most 1000) and an opaque ``cursor``;
- ``POST /{version}/stats/jobs/accounts/{id}`` (query or form parameters) submits a stats job:
  entity=PROMOTED_TWEET, at most 20 ``entity_ids``, ``start_time``/``end_time`` at midnight in
  the account's time zone (anything else is refused like X refuses it), at most 90 days,
  granularity=DAY, placement=ALL_ON_TWITTER. ``GET ...?job_ids=`` answers PROCESSING at a
  job's first poll and SUCCESS with a ``url`` on ton.twimg.com from the second; the file is
  served (no OAuth, like the CDN) at ``/ton/advertiser-api-async-analytics/stats_job_{id}.json.gz``
  where the connector's ``rebase`` puts it: gzip JSON, one bucket per day, null for zero;
- every answer carries ``x-rate-limit-limit/-remaining/-reset`` (a window of
  ``WINDOW_SECONDS`` per consumer key and ``faults.rate_limit`` calls a second; reset in epoch
  seconds) and ``x-current-api-version``; job calls carry ``x-concurrent-job-limit`` and
  ``-remaining`` (``CONCURRENT_JOBS`` unfinished jobs per account).

Conversions: the client's primary action is reported under its X metric (purchase ->
``conversion_purchases`` with ``sale_amount`` in micros, lead -> ``conversion_custom``, signup
-> ``conversion_sign_ups``) with ``post_engagement`` = click-through and ``post_view`` =
view-through conversions; the secondary action, all post-engagement, under its own metric.

Errors are ``{"errors": [{"code", "message"}], "request": {"params": {}}}``: 401
UNAUTHORIZED_ACCESS for a missing or wrong OAuth 1.0a signature (checked with the connector's
own RFC 5849 signer over the request received), 410 for retired versions, 404 NOT_FOUND, 400
INVALID_PARAMETER, 429 TOO_MANY_REQUESTS, and faults as 500/502/503.
"""

from __future__ import annotations

import base64
import gzip
import hmac
import itertools
import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from generator.connectors.auth import OAuth1
from generator.sandbox.assets import asset_url, size_of
from generator.sandbox.common import Refused, handler, json_reply, read_form
from generator.sandbox.state import SandboxState
from generator.sandbox.world import Ad

__all__ = ["CREDENTIALS", "CURRENT_VERSION", "ENVIRONMENT", "routes"]

CREDENTIALS = {
    "consumer_key": "sbxXconsumerKEYq7Lm2",
    "consumer_secret": "sbx-x-consumer-secret-UmVhbGx5Tm90UmVhbA",
    "access_token": "1711000000000000000-sbxXaccessTOKENz9Wv",
    "access_token_secret": "sbx-x-token-secret-U2FuZGJveE9ubHk",
}
ENVIRONMENT = {f"X_{name.upper()}": value for name, value in CREDENTIALS.items()}
CURRENT_VERSION, DEPRECATED_VERSIONS = "12", ("11",)
DEFAULT_COUNT, MAX_COUNT = 200, 1000
MAX_ENTITY_IDS, MAX_JOB_DAYS, CONCURRENT_JOBS, POLLS_TO_FINISH = 20, 90, 100, 2
WINDOW_SECONDS = 1.0  # the sandbox's stand-in for X's 15-minute rate-limit windows
TON_HOST, FILES = "https://ton.twimg.com", "/advertiser-api-async-analytics"
#: canonical action -> the WEB_CONVERSION metric X reports it under
METRIC_OF = {"purchase": "conversion_purchases", "lead": "conversion_custom"}
METRIC_OF |= {"signup": "conversion_sign_ups"}
WEB_CONVERSIONS = (*METRIC_OF.values(), "conversion_site_visits", "conversion_downloads")
_GROUPS = {"ENGAGEMENT", "BILLING", "WEB_CONVERSION", "VIDEO", "MEDIA", "MOBILE_CONVERSION"}


@dataclass
class _Job:
    id: str
    account: str
    since: date
    until: date
    ids: list[str]
    params: dict[str, Any]
    polls: int = 0
    file: bytes | None = field(default=None, repr=False)

    @property
    def done(self) -> bool:
        return self.polls >= POLLS_TO_FINISH


def routes() -> list[Route]:
    return [
        Route("/ton" + FILES + "/{name}", handler("x", _download), methods=["GET"]),
        Route("/{version}/accounts/{account_id}", handler("x", _account, gate=_gate)),
        Route("/{version}/accounts/{account_id}/{edge}", handler("x", _edge, gate=_gate)),
        Route(
            "/{version}/stats/jobs/accounts/{account_id}",
            handler("x", _jobs, gate=_gate),
            methods=["GET", "POST"],
        ),
    ]


def _refuse(status: int, code: str, message: str, headers: dict | None = None) -> Refused:
    body = {"errors": [{"code": code, "message": message}], "request": {"params": {}}}
    return Refused(JSONResponse(body, status, headers=headers))


async def _gate(request: Request, state: SandboxState) -> None:
    """Faults, version, OAuth 1.0a signature, rate-limit window (headers kept for the reply)."""
    if failed := await state.faults.before("x"):
        code = "INTERNAL_ERROR" if failed == 500 else "SERVICE_UNAVAILABLE"
        raise _refuse(failed, code, "Service unavailable due to a server error; retry")
    version = request.path_params["version"]
    headers = {"x-current-api-version": CURRENT_VERSION}
    if version in DEPRECATED_VERSIONS:
        headers["x-api-warn"] = f"Version {version} is deprecated; use {CURRENT_VERSION}"
    elif version != CURRENT_VERSION:
        gone = version.isdigit() and int(version) < int(CURRENT_VERSION)
        message = f"Ads API version {version} is no longer available; use {CURRENT_VERSION}"
        if gone:
            raise _refuse(410, "GONE", message, headers)
        raise _refuse(404, "ROUTE_NOT_FOUND", "Sorry, that page does not exist", headers)
    if not _signed(request, await request.body()):
        message = "This request is not properly authenticated"
        raise _refuse(401, "UNAUTHORIZED_ACCESS", message, headers)
    headers |= _window(state, CREDENTIALS["consumer_key"])
    if headers["x-rate-limit-remaining"] == "-1":
        headers["x-rate-limit-remaining"] = "0"
        raise _refuse(429, "TOO_MANY_REQUESTS", "Rate limit exceeded", headers)
    request.state.headers = headers


def _signed(request: Request, body: bytes) -> bool:
    """Whether the ``Authorization: OAuth`` header signs this request with the sandbox's keys."""
    header = request.headers.get("authorization", "")
    if not header.startswith("OAuth "):
        return False
    pairs = (part.strip().split("=", 1) for part in header[6:].split(","))
    oauth = {unquote(k): unquote(v.strip('"')) for k, v in (p for p in pairs if len(p) == 2)}
    if (oauth.get("oauth_consumer_key"), oauth.get("oauth_token")) != (
        CREDENTIALS["consumer_key"],
        CREDENTIALS["access_token"],
    ):
        return False
    signer = OAuth1(
        "x",
        consumer_key=CREDENTIALS["consumer_key"],
        consumer_secret=CREDENTIALS["consumer_secret"],
        token=CREDENTIALS["access_token"],
        token_secret=CREDENTIALS["access_token_secret"],
    )
    kind = {"content-type": request.headers.get("content-type", "")}
    received = httpx.Request(request.method, str(request.url), headers=kind, content=body)
    expected = signer.signature(
        received, {k: v for k, v in oauth.items() if k != "oauth_signature"}
    )
    return hmac.compare_digest(expected, oauth.get("oauth_signature", ""))


def _window(state: SandboxState, key: str) -> dict[str, str]:
    """Count a call in the key's fixed window; remaining -1 means over the limit."""
    limit, now = max(1, round(state.faults.rate_limit * WINDOW_SECONDS)), state.clock()
    windows = state.scratch("x").setdefault("windows", {})
    started, used = windows.get(key, (now, 0))
    if now >= started + WINDOW_SECONDS:
        started, used = now, 0
    windows[key] = (started, used + 1)
    remaining, reset = limit - used - 1, math.ceil(started + WINDOW_SECONDS)
    return {
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-remaining": str(max(-1, remaining)),
        "x-rate-limit-reset": str(reset),
    }


def _reply(request: Request, state: SandboxState, body: Any, **headers: str) -> Response:
    return json_reply(state, body, headers={**request.state.headers, **headers})


def _spec(state: SandboxState, account_id: str):
    found = state.world.account("x", account_id)
    if found is None:
        raise _refuse(404, "NOT_FOUND", f"Account {account_id} was not found")
    return found[1]


# -- entities --------------------------------------------------------------------------------


async def _account(request: Request, state: SandboxState) -> Response:
    account_id = request.path_params["account_id"]
    spec = _spec(state, account_id)
    data = {
        "id": account_id,
        "name": spec.name,
        "timezone": spec.timezone,
        "timezone_switch_at": "2025-06-02T05:00:00Z",
        "business_id": "bz" + account_id[:6],
        "business_name": spec.name,
        "industry_type": "TECHNOLOGY",
        "approval_status": "ACCEPTED",
        "deleted": False,
        "created_at": "2025-06-02T15:04:05Z",
        "updated_at": "2025-06-02T15:04:05Z",
    }
    params = {"account_id": account_id}
    return _reply(
        request, state, {"request": {"params": params}, "data_type": "account", "data": data}
    )


async def _edge(request: Request, state: SandboxState) -> Response:
    account_id, edge = request.path_params["account_id"], request.path_params["edge"]
    spec = _spec(state, account_id)
    if edge not in _EDGES:
        raise _refuse(404, "ROUTE_NOT_FOUND", "Sorry, that page does not exist")
    ads = state.world.ads_of("x", account_id)
    items = _EDGES[edge](request, ads, spec)
    return _reply(request, state, _page(request, items, edge.rstrip("s")))


def _funding(request, ads, spec) -> list[dict]:
    fund = {"id": "fi" + spec.account_id[:5], "account_id": spec.account_id, "type": "CREDIT_CARD"}
    return [fund | {"currency": spec.currency, "entity_status": "ACTIVE", "deleted": False}]


def _campaigns(request, ads, spec) -> list[dict]:
    first = {ad.campaign_id: ad for ad in reversed(ads)}
    return [
        {
            "id": ad.campaign_id,
            "name": ad.campaign.name,
            "account_id": spec.account_id,
            "funding_instrument_id": "fi" + spec.account_id[:5],
            "daily_budget_amount_local_micro": int(ad.campaign.budget * 1_000_000),
            "entity_status": "ACTIVE",
            "currency": spec.currency,
            "deleted": False,
        }
        for ad in first.values()
    ]


def _line_items(request, ads, spec) -> list[dict]:
    first = {ad.ad_group_id: ad for ad in reversed(ads)}
    objective = {"website_clicks": "WEBSITE_CLICKS"}
    return [
        {
            "id": ad.ad_group_id,
            "campaign_id": ad.campaign_id,
            "name": ad.ad_group_name,
            "objective": objective.get(ad.campaign.objective, "ENGAGEMENTS"),
            "placements": ["ALL_ON_TWITTER"],
            "product_type": "PROMOTED_TWEETS",
            "entity_status": "ACTIVE",
            "deleted": False,
        }
        for ad in first.values()
    ]


def _promoted_tweets(request, ads, spec) -> list[dict]:
    return [
        {
            "id": ad.ad_id,
            "line_item_id": ad.ad_group_id,
            "tweet_id": ad.creative_id,
            "entity_status": "ACTIVE",
            "approval_status": "ACCEPTED",
            "deleted": False,
        }
        for ad in ads
    ]


def _tweets(request, ads, spec) -> list[dict]:
    if request.query_params.get("tweet_type") not in ("PUBLISHED", "DRAFT", "SCHEDULED"):
        raise _refuse(
            400, "INVALID_PARAMETER", "tweet_type is required: PUBLISHED, DRAFT or SCHEDULED"
        )
    wanted = set(filter(None, request.query_params.get("tweet_ids", "").split(",")))
    return [
        {
            "id": int(ad.creative_id),
            "id_str": ad.creative_id,
            "tweet_id": ad.creative_id,
            "name": ad.name,
            "full_text": ad.body,
            "tweet_type": "PUBLISHED",
            "card_uri": f"card://{_card_id(ad)}" if asset_url(request, ad) else None,
            "entities": {"urls": [{"expanded_url": ad.landing_url}], "hashtags": []},
        }
        for ad in ads
        if not wanted or ad.creative_id in wanted
    ]


def _cards(request, ads, spec) -> list[dict]:
    wanted = set(filter(None, request.query_params.get("card_ids", "").split(",")))
    out = []
    for ad in ads:
        image, key = asset_url(request, ad), f"3_{ad.creative_id}"
        if image is None or (wanted and _card_id(ad) not in wanted):
            continue
        width, height = size_of(ad)
        details = {"type": "DETAILS", "title": ad.headline}
        details["destination"] = {"type": "WEBSITE", "url": ad.landing_url}
        card = {"id": _card_id(ad), "card_uri": f"card://{_card_id(ad)}", "name": ad.name}
        card["components"] = [{"type": "MEDIA", "media_key": key}, details]
        card["media_metadata"] = {key: {"type": "IMAGE", "url": image, "width": width}}
        card["media_metadata"][key]["height"] = height
        out.append(card)
    return out


def _card_id(ad: Ad) -> str:
    return "1" + ad.creative_id[::-1]


_EDGES = {
    "funding_instruments": _funding,
    "campaigns": _campaigns,
    "line_items": _line_items,
    "promoted_tweets": _promoted_tweets,
    "tweets": _tweets,
    "cards": _cards,
}


def _page(request: Request, items: list[dict], data_type: str) -> dict[str, Any]:
    q = request.query_params
    try:
        count = int(q.get("count") or DEFAULT_COUNT)
        cursor = q.get("cursor", "")
        offset = int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))) if cursor else 0
    except (ValueError, UnicodeDecodeError):
        raise _refuse(400, "INVALID_PARAMETER", "count or cursor is not valid") from None
    if not 1 <= count <= MAX_COUNT:
        raise _refuse(400, "INVALID_PARAMETER", f"count must be between 1 and {MAX_COUNT}")
    following = offset + count
    more = following < len(items)
    body = {"request": {"params": dict(q)}, "data_type": data_type, "data": items[offset:following]}
    body["next_cursor"] = (
        base64.urlsafe_b64encode(str(following).encode()).decode() if more else None
    )
    if q.get("with_total_count") == "true":
        body["total_count"] = len(items)
    return body


# -- stats jobs ------------------------------------------------------------------------------


async def _jobs(request: Request, state: SandboxState) -> Response:
    account_id = request.path_params["account_id"]
    spec = _spec(state, account_id)
    store = state.scratch("x").setdefault("jobs", {})
    running = sum(1 for j in store.values() if j.account == account_id and not j.done)
    if request.method == "POST":
        headers = _slots(CONCURRENT_JOBS - running - 1)
        if running >= CONCURRENT_JOBS:
            raise _refuse(429, "TOO_MANY_REQUESTS", "Concurrent job limit reached", _slots(0))
        params = {**request.query_params, **(await read_form(request))}
        job = _submit(state, spec, params)
        store[job.id] = job
        return _reply(request, state, {"request": {"params": params}, "data": _job(job)}, **headers)
    wanted = request.query_params.get("job_ids", "").split(",")
    found = [store[i] for i in wanted if i in store and store[i].account == account_id]
    for job in found:
        job.polls += 1
    body = {"request": {"params": {"job_ids": wanted}}, "next_cursor": None}
    body["data"] = [_job(job) for job in found]
    return _reply(request, state, body, **_slots(CONCURRENT_JOBS - running))


def _slots(remaining: int) -> dict[str, str]:
    return {"x-concurrent-job-limit": str(CONCURRENT_JOBS)} | {
        "x-concurrent-job-limit-remaining": str(max(0, remaining))
    }


def _submit(state: SandboxState, spec, params: dict[str, str]) -> _Job:
    ids = [i for i in params.get("entity_ids", "").split(",") if i]
    known = {ad.ad_id for ad in state.world.ads_of("x", spec.account_id)}
    if params.get("entity") != "PROMOTED_TWEET":
        raise _refuse(400, "INVALID_PARAMETER", "the sandbox serves entity=PROMOTED_TWEET")
    if not 1 <= len(ids) <= MAX_ENTITY_IDS or not set(ids) <= known:
        message = f"entity_ids must name 1 to {MAX_ENTITY_IDS} promoted tweets of the account"
        raise _refuse(400, "INVALID_PARAMETER", message)
    if params.get("granularity") != "DAY" or params.get("placement") != "ALL_ON_TWITTER":
        raise _refuse(400, "INVALID_PARAMETER", "the sandbox serves DAY and ALL_ON_TWITTER")
    groups = set(params.get("metric_groups", "").split(","))
    if not groups or not groups <= _GROUPS:
        raise _refuse(400, "INVALID_PARAMETER", f"unknown metric_groups {sorted(groups - _GROUPS)}")
    since, until = _local_days(params, spec.timezone)
    counter = state.scratch("x").setdefault("ids", itertools.count(1_120_829_647_711_653_888, 977))
    return _Job(str(next(counter)), spec.account_id, since, until, ids, params)


def _local_days(params: dict[str, str], zone: str) -> tuple[date, date]:
    """The first and last day of ``start_time``/``end_time``, which must be local midnights."""
    try:
        start, end = (datetime.fromisoformat(params[k]) for k in ("start_time", "end_time"))
    except (KeyError, ValueError):
        raise _refuse(
            400, "INVALID_PARAMETER", "start_time and end_time must be ISO 8601"
        ) from None
    local = [t.astimezone(ZoneInfo(zone)) for t in (start, end) if t.tzinfo is not None]
    if len(local) < 2 or any(t.time() != datetime.min.time() for t in local):
        message = "start_time and end_time must be midnight in the account's time zone for DAY"
        raise _refuse(400, "INVALID_TIME_WINDOW", message)
    days = (local[1].date() - local[0].date()).days
    if not 1 <= days <= MAX_JOB_DAYS:
        raise _refuse(400, "INVALID_TIME_WINDOW", f"the range must be 1 to {MAX_JOB_DAYS} days")
    return local[0].date(), local[1].date() - timedelta(days=1)


def _job(job: _Job) -> dict[str, Any]:
    return {
        "id": int(job.id),
        "id_str": job.id,
        "account_id": job.account,
        "status": "SUCCESS" if job.done else "PROCESSING",
        "url": f"{TON_HOST}{FILES}/stats_job_{job.id}.json.gz" if job.done else None,
        "entity": "PROMOTED_TWEET",
        "entity_ids": job.ids,
        "start_time": job.params["start_time"],
        "end_time": job.params["end_time"],
        "granularity": "DAY",
        "placement": "ALL_ON_TWITTER",
        "metric_groups": job.params["metric_groups"].split(","),
        "segmentation_type": None,
        "expires_at": None,
    }


async def _download(request: Request, state: SandboxState) -> Response:
    if await state.faults.before("x"):
        return Response("Service Unavailable", 503, media_type="text/plain")
    name = request.path_params["name"].removeprefix("stats_job_").removesuffix(".json.gz")
    job = state.scratch("x").get("jobs", {}).get(name)
    if job is None or not job.done:
        return Response("Not Found", 404, media_type="text/plain")
    if job.file is None:
        job.file = gzip.compress(json.dumps(_stats(state, job), separators=(",", ":")).encode())
    return Response(state.faults.truncate(job.file), media_type="application/gzip")


def _stats(state: SandboxState, job: _Job) -> dict[str, Any]:
    """The job's file: per promoted tweet, one bucket per day for each metric."""
    days = (job.until - job.since).days + 1
    rows = state.rows("x", job.account, job.since, job.until, ad_ids=job.ids)
    per_ad: dict[str, list[dict | None]] = {ad_id: [None] * days for ad_id in job.ids}
    for row in rows:
        per_ad[row["ad_id"]][(row["date"] - job.since).days] = row
    client = state.world.ad(job.ids[0]).client
    data = [
        {"id": ad_id, "id_data": [{"segment": None, "metrics": _metrics(buckets, client)}]}
        for ad_id, buckets in per_ad.items()
    ]
    params = {k: job.params.get(k) for k in ("start_time", "end_time", "granularity", "placement")}
    params |= {
        "entity": "PROMOTED_TWEET",
        "entity_ids": job.ids,
        "metric_groups": job.params["metric_groups"].split(","),
    }
    return {
        "data_type": "stats",
        "time_series_length": days,
        "data": data,
        "request": {"params": params},
    }


def _metrics(buckets: list[dict | None], client) -> dict[str, Any]:
    def series(column: str, rows=buckets) -> list[int | None] | None:
        values = [(b[column] or None) if b else None for b in rows]
        return values if any(values) else None

    metrics = {
        "impressions": series("impressions"),
        "clicks": series("clicks"),
        "url_clicks": series("clicks"),
        "engagements": series("clicks"),
        "billed_charge_local_micro": series("spend_micros"),
        "billed_engagements": series("clicks"),
        "likes": None,
        "retweets": None,
    }
    metrics |= dict.fromkeys(WEB_CONVERSIONS)
    primary = {
        "post_engagement": series("click_conversions"),
        "post_view": series("view_conversions"),
    }
    primary["metric"] = series("conversions")
    if client.primary_action == "purchase":
        split = [_split_value(b) for b in buckets]
        for part in ("sale_amount", "sale_amount_engagement", "sale_amount_view"):
            primary[part] = series(part, split)
    if client.primary_action in METRIC_OF and primary["metric"]:
        metrics[METRIC_OF[client.primary_action]] = primary
    secondary = series("secondary_actions")
    if client.secondary_action in METRIC_OF and secondary:
        metrics[METRIC_OF[client.secondary_action]] = {
            "post_engagement": secondary,
            "metric": secondary,
        }
    return metrics


def _split_value(row: dict | None) -> dict[str, int] | None:
    """A day's purchase value in total and by window, in whole cents (micros)."""
    if row is None:
        return None
    total, view = row["value_micros"], row["view_conversions"]
    view_part = total // 10_000 * view // max(1, row["conversions"]) * 10_000
    return {"sale_amount": total, "sale_amount_engagement": total - view_part} | {
        "sale_amount_view": view_part
    }
