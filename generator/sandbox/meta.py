"""Meta Marketing API as the sandbox speaks it: Graph nodes and edges, async insights jobs.

Served under ``/meta`` in place of graph.facebook.com:

- ``GET /{version}/act_{id}?fields=name,currency,timezone_name``: the ad account;
- ``POST /{version}/act_{id}/insights`` (form or query: level=ad, time_increment=1,
  time_range, fields, breakdowns, action_breakdowns, action_attribution_windows) submits an
  insights job and answers ``{"report_run_id"}``;
- ``GET /{version}/{report_run_id}``: the AdReportRun. A job is "Job Running" at its first poll
  and "Job Completed" (100%) from the second; a range longer than ``MAX_JOB_DAYS`` ends
  "Job Failed" with v25+'s error fields, as Meta's jobs fail on reports too large;
- ``GET /{version}/{report_run_id}/insights``, ``/act_{id}/ads`` and ``/act_{id}/adcreatives``:
  cursor paged (``limit``, ``after``; ``paging.cursors`` and ``paging.next``);
- ``GET /{version}/{video_id}?fields=length`` and, for several at once, ``GET
  /{version}/?ids=a,b&fields=length`` (Graph's multiple-ID read: an object keyed by id, at
  most ``MAX_IDS``; an unknown id fails the whole request with #803): video nodes, ``length``
  in seconds as a float.

Creatives come in the format ``assets.creative_format`` gives the ad: a single image
(``link_data`` with ``image_hash``; ``image_url`` and ``thumbnail_url`` beside it), a carousel
(``link_data.child_attachments``: per card ``name``, ``description``, ``link``, ``image_hash``
and ``picture``, the card's image URL) or a video (``video_data``: ``video_id``, ``image_url``
the poster frame, ``title``, ``message``, ``call_to_action``). Images, hashes and video ids
follow the asset's revision on the sandbox clock: a replaced picture is a new upload.

Rows come from ``state.performance()`` for the account: metrics as strings, ``spend`` in major
units, zero metrics and empty action lists left out, one row per day x ad x publisher platform.
For about a third of the ads a tenth of the Facebook delivery is reported as
``audience_network``. ``actions[]`` carry the client's primary action (default value = click +
view conversions; 7d_click = click conversions, 1d_click = 3/4 and 28d_click = 11/10 of them
rounded down, 1d_view = view conversions) and secondary action (all click-through), each under
Meta's several spellings with the same numbers, plus ``link_click`` = clicks;
``action_values[]`` carry the purchase value.

Errors are Graph's ``{"error": {message, type, code, error_subcode, fbtrace_id}}`` with HTTP
400: 104/190 for a missing or unknown token (the token is long-lived: ``Faults.token_ttl`` does
not apply), 2635 for versions before ``CURRENT_VERSIONS``, 100 for bad parameters, 17/2446079
when the per-second throttle refuses (``x-ad-account-usage`` says when the score resets),
80000 (insights) or 80004 (management) when a token has made more than ``faults.rate_limit x
WINDOW_SECONDS`` calls to an account within the window (``estimated_time_to_regain_access``
in minutes). Usage headers report that share on every answer. Faults give 500 (code 1) and
502/503 (code 2), both ``is_transient``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import math
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow.compute as pc
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from generator.sandbox.assets import (
    asset_url,
    card_urls,
    cards,
    creative_format,
    poster_url,
    revision,
    video_length,
)
from generator.sandbox.common import bearer, read_form
from generator.sandbox.state import SandboxState
from generator.sandbox.world import Ad

__all__ = ["CREDENTIALS", "CURRENT_VERSIONS", "ENVIRONMENT", "MAX_IDS", "MAX_JOB_DAYS", "routes"]

CREDENTIALS = {"access_token": "EAAGsbxMetaZCZBSandb0xL0ngL1vedT0kenZDZD"}
ENVIRONMENT = {"META_ACCESS_TOKEN": CREDENTIALS["access_token"]}
CURRENT_VERSIONS = ("v25.0", "v26.0", "v27.0")  # v24.0 expired on 2026-11-10
MAX_JOB_DAYS = 45
POLLS_TO_FINISH = 2
DEFAULT_LIMIT, MAX_LIMIT = 25, 500
MAX_IDS = 50  # ids per multiple-ID read ('verify': Graph documents 50)
WINDOW_SECONDS = 60.0  # the sandbox's stand-in for Meta's rolling hour
TIER = "standard_access"
_DEPRECATED = "(#2635) You are calling a deprecated version of the Ads API."
_MISSING = (
    "does not exist, cannot be loaded due to missing permissions, or does not support this "
    "operation. Please read the Graph API documentation at "
    "https://developers.facebook.com/docs/graph-api"
)
_TOO_MANY = (
    "There have been too many calls from this ad-account. Wait a bit and try again. For more "
    "info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting."
)
_SEE_FIELDS = (
    "please check https://developers.facebook.com/docs/marketing-api/reference/ads-insights/ "
    "for all valid values"
)

_INSIGHT_FIELDS = (
    "account_id,account_name,account_currency,campaign_id,campaign_name,adset_id,adset_name,"
    "ad_id,ad_name,impressions,clicks,inline_link_clicks,spend,actions,action_values,"
    "date_start,date_stop"
)
INSIGHT_FIELDS = frozenset(_INSIGHT_FIELDS.split(","))
WINDOWS = ("1d_click", "7d_click", "28d_click", "1d_view")
RETIRED_WINDOWS = ("7d_view", "28d_view")  # accepted, but return nothing since 2026-01-12
#: the spellings under which Meta reports one event (all carry the same numbers)
SPELLINGS = {
    "purchase": ("offsite_conversion.fb_pixel_purchase", "omni_purchase", "purchase"),
    "lead": ("onsite_conversion.lead_grouped", "lead"),
    "add_to_cart": ("offsite_conversion.fb_pixel_add_to_cart", "omni_add_to_cart", "add_to_cart"),
    "signup": ("offsite_conversion.fb_pixel_complete_registration", "complete_registration"),
    "contact": ("offsite_conversion.fb_pixel_contact", "contact_total"),
}


@dataclass
class _Job:
    id: str
    account: str
    since: date
    until: date
    params: dict[str, Any]
    polls: int = 0
    rows: list[dict] | None = None

    @property
    def too_big(self) -> bool:
        return (self.until - self.since).days + 1 > MAX_JOB_DAYS


@dataclass
class _Store:
    """What the Meta emulation remembers, per app: jobs and each token's recent calls."""

    jobs: dict[str, _Job] = field(default_factory=dict)
    calls: dict[tuple[str, str], deque] = field(default_factory=dict)
    ids: itertools.count = field(default_factory=lambda: itertools.count(6023920149050, 7919))


def _unit(key: str) -> float:
    """A deterministic number in [0, 1) from a key."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:13], 16) / 16**13


class _Refused(Exception):
    """A Graph error answer: ``{"error": {message, type, code, error_subcode, fbtrace_id}}``."""

    def __init__(self, code: int, message: str, *, status: int = 400, **extra: Any) -> None:
        headers = extra.pop("headers", None)
        error = {"message": message, "type": extra.pop("kind", "OAuthException"), "code": code}
        error |= {k: v for k, v in extra.items() if v} | {"fbtrace_id": uuid.uuid4().hex[:22]}
        self.response = JSONResponse({"error": error}, status_code=status, headers=headers)


def routes() -> list[Route]:
    return [
        Route("/{version}/", _ids, methods=["GET"]),
        Route("/{version}/{node}", _node, methods=["GET"]),
        Route("/{version}/{node}/insights", _insights, methods=["GET", "POST"]),
        Route("/{version}/{node}/{edge:str}", _edge, methods=["GET"]),
    ]


def _handler(serve):
    """Run ``serve(request, state, store)`` behind faults, version, token and throttle checks."""

    async def handle(request: Request) -> Response:
        state: SandboxState = request.app.state.sandbox
        state.requests["meta"] += 1
        try:
            await _gate(request, state)
            return await serve(request, state, _store(request))
        except _Refused as refused:
            return refused.response

    return handle


async def _gate(request: Request, state: SandboxState) -> None:
    if failed := await state.faults.before("meta"):
        if failed == 500:
            raise _Refused(1, "An unknown error occurred", status=500, is_transient=True)
        raise _Refused(2, "Service temporarily unavailable", status=failed, is_transient=True)
    version = request.path_params["version"]
    if version not in CURRENT_VERSIONS:
        major = version[1:].split(".")[0]
        if version.startswith("v") and major.isdigit() and int(major) < 25:
            latest = CURRENT_VERSIONS[-1]
            raise _Refused(2635, f"{_DEPRECATED} Please update to the latest version: {latest}.")
        raise _Refused(2500, f"Unknown path components: /{version}")
    token = _token(request)
    if not token:
        raise _Refused(104, "An access token is required to request this resource.")
    if token != CREDENTIALS["access_token"]:
        raise _Refused(190, "Invalid OAuth access token - Cannot parse access token")
    if (wait := state.throttle.take("meta", token)) is not None:
        # regained within the minute: no estimated time, but the account score resets soon
        usage = {"acc_id_util_pct": 100, "reset_time_duration": math.ceil(wait)}
        headers = {"x-ad-account-usage": json.dumps({**usage, "ads_api_access_tier": TIER})}
        message = "(#17) User request limit reached"
        raise _Refused(17, message, error_subcode=2446079, headers=headers)


def _token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header[:6].lower() == "oauth ":
        return header[6:].strip()
    return bearer(request) or request.query_params.get("access_token", "")


def _store(request: Request) -> _Store:
    store = getattr(request.app.state, "meta_sandbox", None)
    if store is None:
        store = request.app.state.meta_sandbox = _Store()
    return store


def _account(state: SandboxState, node: str, method: str = "get") -> str:
    if state.world.account("meta", node) is None:
        message = f"Unsupported {method} request. Object with ID '{node}' {_MISSING}"
        raise _Refused(100, message, error_subcode=33, kind="GraphMethodException")
    return node


def _budget(request: Request, state: SandboxState, store: _Store, node: str, kind: str) -> dict:
    """Count a call of the token on the account; usage headers, or error 80000/80004 if over."""
    limit = max(1, int(state.faults.rate_limit * WINDOW_SECONDS))
    now = state.clock()
    calls = store.calls.setdefault((_token(request), node), deque())
    while calls and calls[0] <= now - WINDOW_SECONDS:
        calls.popleft()
    over = len(calls) >= limit
    if not over:
        calls.append(now)
    regain = math.ceil((calls[0] + WINDOW_SECONDS - now) / 60) if over else 0
    headers = _usage_headers(node, kind, min(100, 100 * len(calls) // limit), regain)
    if over:
        code = 80000 if kind == "ads_insights" else 80004
        raise _Refused(code, f"(#{code}) {_TOO_MANY}", error_subcode=2446079, headers=headers)
    return headers


def _usage_headers(node: str, kind: str, pct: int, regain: int) -> dict[str, str]:
    usage = {
        "type": kind,
        "call_count": pct,
        "total_cputime": pct * 2 // 3,
        "total_time": pct // 2,
        "estimated_time_to_regain_access": regain,
        "ads_api_access_tier": TIER,
    }
    headers = {
        "x-business-use-case-usage": json.dumps({node.removeprefix("act_"): [usage]}),
        "x-ad-account-usage": json.dumps(
            {
                "acc_id_util_pct": pct,
                "reset_time_duration": regain * 60,
                "ads_api_access_tier": TIER,
            }
        ),
    }
    if kind == "ads_insights":
        headers["x-fb-ads-insights-throttle"] = json.dumps(
            {"app_id_util_pct": pct // 4, "acc_id_util_pct": pct, "ads_api_access_tier": TIER}
        )
    return headers


# -- nodes and edges -------------------------------------------------------------------------


@_handler
async def _node(request: Request, state: SandboxState, store: _Store) -> Response:
    node = request.path_params["node"]
    if node in store.jobs:
        job = store.jobs[node]
        headers = _budget(request, state, store, job.account, "ads_insights")
        return _json(state, _poll(job), headers)
    if (video := _video(state, node)) is not None:
        headers = _budget(request, state, store, video[0].account.account_id, "ads_management")
        return _json(state, _video_node(node, *video, request.query_params), headers)
    _account(state, node)
    headers = _budget(request, state, store, node, "ads_management")
    _, spec = state.world.account("meta", node)
    values = {
        "id": node,
        "account_id": node.removeprefix("act_"),
        "name": spec.name,
        "currency": spec.currency,
        "timezone_name": spec.timezone,
        "account_status": 1,
    }
    return _json(state, _select(values, request.query_params.get("fields", "name")), headers)


@_handler
async def _ids(request: Request, state: SandboxState, store: _Store) -> Response:
    """Graph's multiple-ID read: ``?ids=a,b`` answers ``{a: {...}, b: {...}}``."""
    ids = [i for i in request.query_params.get("ids", "").split(",") if i]
    if not ids:
        raise _invalid("Must specify ids")
    if len(ids) > MAX_IDS:
        raise _invalid(f"Too many IDs. Maximum: {MAX_IDS}.")
    videos = {i: _video(state, i) for i in ids}
    if unknown := [i for i, v in videos.items() if v is None]:
        message = f"(#803) Some of the aliases you requested do not exist: {','.join(unknown)}"
        raise _Refused(803, message)
    first = next(iter(videos.values()))
    headers = _budget(request, state, store, first[0].account.account_id, "ads_management")
    body = {i: _video_node(i, *v, request.query_params) for i, v in videos.items()}
    return _json(state, body, headers)


def _video_id(ad: Ad, rev: int) -> str:
    """A Graph video id that encodes the creative and the revision of its upload."""
    return str(10**15 + int(ad.creative_id) * 100 + rev)


def _video(state: SandboxState, node: str) -> tuple[Ad, int] | None:
    """The Meta video ad and revision a video id names, if its video is uploaded by now."""
    if not node.isdigit() or len(node) != 16:
        return None
    creative, rev = divmod(int(node) - 10**15, 100)
    ad = state.world.ad_by_creative(str(creative))
    if ad is None or ad.account.source != "meta" or creative_format(ad) != "video":
        return None
    return (ad, rev) if rev <= revision(ad, state.now().date()) else None


def _video_node(node: str, ad: Ad, rev: int, query: Any) -> dict[str, Any]:
    values = {"id": node, "length": video_length(ad, rev), "title": ad.headline}
    return _select(values, query.get("fields", "id"))


def _poll(job: _Job) -> dict[str, Any]:
    job.polls += 1
    done = job.polls >= POLLS_TO_FINISH
    status = "Job Running" if not done else "Job Failed" if job.too_big else "Job Completed"
    body: dict[str, Any] = {
        "id": job.id,
        "account_id": job.account.removeprefix("act_"),
        "async_status": status,
        "async_percent_completion": 100 if status == "Job Completed" else 50,
        "date_start": job.since.isoformat(),
        "date_stop": job.until.isoformat(),
        "is_running": not done,
    }
    if status == "Job Failed":
        body |= {
            "error_code": -2,
            "error_subcode": 2490547,
            "error_message": "Generating the report failed. Try again later.",
            "error_user_title": "Report Failed",
            "error_user_msg": "Try a smaller date range, fetch less data, or retry later.",
        }
    return body


@_handler
async def _insights(request: Request, state: SandboxState, store: _Store) -> Response:
    node = request.path_params["node"]
    if request.method == "POST":
        _account(state, node, "post")
        headers = _budget(request, state, store, node, "ads_insights")
        params = {**request.query_params, **(await read_form(request))}
        job = _submit(store, node, params)
        return _json(state, {"report_run_id": job.id}, headers)
    job = store.jobs.get(node)
    if job is None:
        _account(state, node)
        raise _invalid("the sandbox serves insights through async jobs")
    headers = _budget(request, state, store, job.account, "ads_insights")
    if job.polls < POLLS_TO_FINISH or job.too_big:
        raise _invalid(f"report run {job.id} has no results to read")
    if job.rows is None:
        job.rows = _report(state, job)
    return _json(state, _page(request, job.rows), headers)


@_handler
async def _edge(request: Request, state: SandboxState, store: _Store) -> Response:
    """``/act_{id}/ads`` and ``/act_{id}/adcreatives``: one item per ad of the account."""
    node, edge = _account(state, request.path_params["node"]), request.path_params["edge"]
    if edge not in ("ads", "adcreatives"):
        raise _invalid(f"Tried accessing nonexisting field ({edge}) on node type (AdAccount)")
    headers = _budget(request, state, store, node, "ads_management")
    fields, ads = request.query_params.get("fields", "id"), state.world.ads_of("meta", node)
    if edge == "ads":
        items = [
            {"id": ad.ad_id, "name": ad.name, "creative": {"id": ad.creative_id}} for ad in ads
        ]
    else:
        items = [_creative(request, ad) for ad in ads]
    return _json(state, _page(request, [_select(i, fields) for i in items]), headers)


def _creative(request: Request, ad: Ad) -> dict[str, Any]:
    page_id = str(100_000_000_000_000 + int(_unit(ad.account.account_id) * 1e12))
    cta = {"type": ad.call_to_action, "value": {"link": ad.landing_url}}
    link = {"link": ad.landing_url, "message": ad.body, "name": ad.headline, "call_to_action": cta}
    creative = {
        "id": ad.creative_id,
        "name": f"{ad.name} — creative",
        "title": ad.headline,
        "body": ad.body,
        "call_to_action_type": ad.call_to_action,
        "effective_object_story_id": f"{page_id}_{ad.creative_id[::-1]}",
    }
    spec: dict[str, Any] = {"page_id": page_id, "link_data": link}
    fmt = creative_format(ad)
    if fmt == "video":
        poster = poster_url(request, ad)
        rev = revision(ad, request.app.state.sandbox.now().date())
        video = {"video_id": _video_id(ad, rev), "image_url": poster, "title": ad.headline}
        spec = {
            "page_id": page_id,
            "video_data": video | {"message": ad.body, "call_to_action": cta},
        }
        creative |= {"video_id": video["video_id"], "thumbnail_url": _thumbnail(poster)}
    elif fmt == "carousel":
        link["child_attachments"] = _children(request, ad)
        link |= {"multi_share_optimized": True, "multi_share_end_card": False}
        creative["thumbnail_url"] = _thumbnail(link["child_attachments"][0]["picture"])
    elif fmt == "image":
        image = asset_url(request, ad)
        link["image_hash"] = _image_hash(image)
        creative |= {"image_url": image, "thumbnail_url": _thumbnail(image)}
    creative["object_story_spec"] = spec
    return creative


def _children(request: Request, ad: Ad) -> list[dict[str, Any]]:
    """A carousel's ``child_attachments``, one per card in order."""
    return [
        {
            "link": card.landing_url,
            "name": card.headline,
            "description": card.body,
            "image_hash": _image_hash(url),
            "picture": url,
            "call_to_action": {"type": ad.call_to_action, "value": {"link": card.landing_url}},
        }
        for card, url in zip(cards(ad), card_urls(request, ad), strict=True)
    ]


def _image_hash(url: str) -> str:
    """Meta's hash of an uploaded image: here a stand-in derived from its file name."""
    return uuid.uuid5(uuid.NAMESPACE_URL, url.rsplit("/", 1)[-1]).hex


def _thumbnail(url: str) -> str:
    return f"{url}?stp=dst-jpg_p64x64"


# -- insights jobs ---------------------------------------------------------------------------


def _submit(store: _Store, node: str, params: dict[str, str]) -> _Job:
    try:
        window = json.loads(params.get("time_range") or "null")
        since, until = date.fromisoformat(window["since"]), date.fromisoformat(window["until"])
    except (ValueError, TypeError, KeyError):
        raise _invalid("time_range must be a JSON object {since, until}") from None
    if until < since:
        raise _invalid("time_range: until is before since")
    if params.get("level", "ad") != "ad" or str(params.get("time_increment", "1")) != "1":
        raise _invalid("the sandbox serves level=ad with time_increment=1")
    fields = _names(params.get("fields", "impressions,spend"))
    unknown = [f for f in fields if f not in INSIGHT_FIELDS]
    if unknown:
        raise _invalid(f"{unknown[0]} is not valid for fields param. {_SEE_FIELDS}")
    breakdowns = _names(params.get("breakdowns", ""))
    windows = _names(params.get("action_attribution_windows", ""))
    bad = [b for b in breakdowns if b != "publisher_platform"] + [
        w for w in windows if w not in (*WINDOWS, *RETIRED_WINDOWS, "default")
    ]
    bad += [a for a in _names(params.get("action_breakdowns", "")) if a != "action_type"]
    if bad:
        raise _invalid(f"{bad[0]} is not supported by the sandbox")
    job = _Job(str(next(store.ids)), node, since, until, {"fields": fields, "windows": windows})
    job.params["by_platform"] = "publisher_platform" in breakdowns
    store.jobs[job.id] = job
    return job


def _report(state: SandboxState, job: _Job) -> list[dict]:
    day = pc.field("date")
    wanted = (pc.field("source") == "meta") & (pc.field("account_id") == job.account)
    truth = state.performance().filter(wanted & (day >= job.since) & (day <= job.until))
    records = truth.to_pylist()
    records = _placements(records) if job.params["by_platform"] else _networks_summed(records)
    records.sort(key=lambda r: (r["date"], r["ad_id"], r.get("platform", "")))
    return [_row(r, state.world.ad(r["ad_id"]), job.params) for r in records]


_METRICS = (
    "impressions",
    "clicks",
    "spend_micros",
    "click_conversions",
    "view_conversions",
    "value_micros",
    "secondary_actions",
)


def _placements(records: list[dict]) -> list[dict]:
    """For about a third of the ads, a tenth of Facebook delivery on the Audience Network."""
    out = []
    for r in records:
        if r["platform"] != "facebook" or _unit(r["ad_id"] + "/an") >= 0.35:
            out.append(r)
            continue
        an = {**r, **dict.fromkeys(_METRICS, 0), "platform": "audience_network"}
        an |= {"impressions": r["impressions"] // 10, "clicks": r["clicks"] // 10}
        an["spend_micros"] = r["spend_micros"] // 100_000 * 10_000  # a tenth, in whole cents
        rest = {**r, **{k: r[k] - an[k] for k in ("impressions", "clicks", "spend_micros")}}
        out += [rest, an] if an["impressions"] else [r]
    return out


def _networks_summed(records: list[dict]) -> list[dict]:
    sums: dict[tuple, dict] = {}
    for r in records:
        acc = sums.setdefault((r["date"], r["ad_id"]), {**r, **dict.fromkeys(_METRICS, 0)})
        for k in _METRICS:
            acc[k] += r[k]
    return [{k: v for k, v in r.items() if k != "platform"} for r in sums.values()]


def _row(record: dict, ad: Ad, params: dict[str, Any]) -> dict[str, Any]:
    actions, values = _action_stats(record, ad, params["windows"])
    day = record["date"].isoformat()
    available = {
        "account_id": ad.account.account_id.removeprefix("act_"),
        "account_name": ad.account.name,
        "account_currency": ad.account.currency,
        "campaign_id": ad.campaign_id,
        "campaign_name": ad.campaign.name,
        "adset_id": ad.ad_group_id,
        "adset_name": ad.ad_group_name,
        "ad_id": ad.ad_id,
        "ad_name": ad.name,
        "impressions": str(record["impressions"]),
        "clicks": str(record["clicks"]),
        "inline_link_clicks": str(record["clicks"]),
        "spend": _major(record["spend_micros"] // 10_000),
        "actions": actions,
        "action_values": values,
    }
    row = {f: available[f] for f in params["fields"] if available.get(f) not in ("0", [], None)}
    row |= {"date_start": day, "date_stop": day}
    if "platform" in record:
        row["publisher_platform"] = record["platform"]
    return row


def _action_stats(record: dict, ad: Ad, windows: list[str]) -> tuple[list, list]:
    """``actions[]`` and ``action_values[]`` of one row, in every spelling Meta uses."""
    click, view = record["click_conversions"], record["view_conversions"]
    primary = _windows(click, view)
    secondary = _windows(record["secondary_actions"], 0)
    clicks = record["clicks"]
    actions = _entries(("link_click",), dict.fromkeys(("value", *WINDOWS[:3]), clicks), windows)
    actions += _entries(SPELLINGS[ad.client.primary_action], primary, windows)
    actions += _entries(SPELLINGS[ad.client.secondary_action], secondary, windows)
    cents, total = record["value_micros"] // 10_000, click + view
    worth = {k: cents * n // total for k, n in primary.items()} if total else {}
    if ad.client.primary_action == "purchase" and cents:
        worth["value"] = cents
        return actions, _entries(SPELLINGS["purchase"], worth, windows, money=True)
    return actions, []


def _windows(click: int, view: int) -> dict[str, int]:
    return {
        "value": click + view,  # the default attribution setting: 7-day click or 1-day view
        "1d_click": click - click // 4,
        "7d_click": click,
        "28d_click": click + click // 10,
        "1d_view": view,
    }


def _entries(spellings, numbers: dict[str, int], windows: list[str], money: bool = False):
    if not numbers.get("value"):
        return []
    shown = {k: n for k, n in numbers.items() if (k == "value" or k in windows) and n}
    text = {k: _major(n) if money else str(n) for k, n in shown.items()}
    return [{"action_type": spelling, **text} for spelling in spellings]


# -- answers ---------------------------------------------------------------------------------


def _page(request: Request, items: list) -> dict[str, Any]:
    """One page of ``items`` with Graph's cursors (an opaque base64 offset)."""
    q = request.query_params
    try:
        limit = min(MAX_LIMIT, max(1, int(q.get("limit") or DEFAULT_LIMIT)))
        after = q.get("after", "")
        offset = int(base64.urlsafe_b64decode(after + "=" * (-len(after) % 4))) if after else 0
    except (ValueError, UnicodeDecodeError):
        raise _invalid("limit or after is not valid") from None
    chunk = items[offset : offset + limit]
    body: dict[str, Any] = {"data": chunk}
    if chunk:
        after = _cursor(offset + len(chunk))
        body["paging"] = {"cursors": {"before": _cursor(offset), "after": after}}
        if offset + len(chunk) < len(items):
            body["paging"]["next"] = str(request.url.include_query_params(after=after))
    return body


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode().rstrip("=")


def _names(value: str) -> list[str]:
    """A Graph list parameter, sent as JSON (``["a","b"]``) or comma separated."""
    value = (value or "").strip()
    if value.startswith("["):
        try:
            return [str(v) for v in json.loads(value)]
        except ValueError:
            raise _invalid(f"{value[:40]} is not a JSON list") from None
    depth, names, current = 0, [], ""
    for char in value:  # split on commas outside ``{...}`` (``creative{id}``)
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            names.append(current.strip())
            current = ""
        else:
            current += char
    return [n for n in [*names, current.strip()] if n]


def _select(values: dict[str, Any], fields: str) -> dict[str, Any]:
    wanted = {name.split("{")[0] for name in _names(fields)} | {"id"}
    return {k: v for k, v in values.items() if k in wanted}


def _major(cents: int) -> str:
    return str(Decimal(cents) / 100)


def _json(state: SandboxState, body: Any, headers: dict[str, str]) -> Response:
    payload = state.faults.truncate(json.dumps(body).encode())
    return Response(payload, media_type="application/json", headers=headers)


def _invalid(message: str) -> _Refused:
    return _Refused(100, f"(#100) {message}")
