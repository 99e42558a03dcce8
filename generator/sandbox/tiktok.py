"""TikTok Marketing API as the sandbox speaks it: v1.3 envelopes, HTTP 200 error codes.

Served under ``/tiktok`` in place of business-api.tiktok.com, all ``GET /open_api/v1.3/...``
with JSON-encoded list parameters and the ``Access-Token`` header:

- ``advertiser/info/?advertiser_ids=[..]``: name, currency, ``timezone`` (an ``Etc/GMT``
  offset) and ``display_timezone`` (the IANA name);
- ``report/integrated/get/`` (``AUCTION_AD``, dimensions ``["ad_id","stat_time_day"]``, at most
  ``MAX_DAYS`` days, ``page``/``page_size`` up to 1000): rows from ``state.rows``, every
  metric a string, spend and values in major units; ``conversion`` is the client's primary
  action (the ad groups optimize for it), its event metric carries the same count (and, for a
  purchase, the value), the secondary action's metric all its events, other events "0",
  cost-per metrics "-" when nothing happened;
- ``ad/get/``: the advertiser's ads (video ads with a ``video_id`` and a cover image, catalog
  ads with an image), numbered pages;
- ``file/image/ad/info/?image_ids=[..]``: image URLs on the sandbox CDN (a video's cover is
  its poster frame);
- ``file/video/ad/info/?video_ids=[..]`` (at most ``MAX_VIDEOS``): per video ``video_cover_url``
  (the poster, signed with ``x-expires`` like TikTok's six-hour URLs), ``preview_url`` (the
  sandbox serves no video files), ``duration`` in seconds (a float), ``width``, ``height``,
  ``format``, ``bit_rate``, ``size``, ``signature``, ``material_id``, ``displayable``.

Image and video ids follow the asset's revision on the sandbox clock: a replaced picture or
video is a new upload with a new id (ids of earlier uploads are no longer listed).

Every answer is ``{"code", "message", "request_id", "data"}``; errors come as HTTP 200 with a
code, as TikTok sends them: 40104/40105 for an empty or wrong token (long-lived: token_ttl
does not apply), 40100 when the per-token throttle refuses, 40001 for an advertiser the token
may not see, 40002 for bad parameters. A retired version (v1.0-v1.2) answers HTTP 404 with a
deprecation message ('verify' what TikTok really sends). Faults give either a body-coded
50000 (HTTP 200) or a bare gateway 502/503.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from generator.sandbox.assets import (
    asset_url,
    creative_format,
    poster_url,
    revision,
    size_of,
    video_length,
)
from generator.sandbox.common import Refused, handler, json_reply
from generator.sandbox.state import SandboxState
from generator.sandbox.world import Ad

__all__ = ["CREDENTIALS", "ENVIRONMENT", "MAX_DAYS", "MAX_VIDEOS", "routes"]

CREDENTIALS = {"access_token": "sbx-tiktok-7f3c9a1e5b2d4c6a8e0f1b3d5c7a9e2f4b6d8c0a"}
ENVIRONMENT = {"TIKTOK_ACCESS_TOKEN": CREDENTIALS["access_token"]}
VERSION = "v1.3"
RETIRED_VERSIONS = ("v1.0", "v1.1", "v1.2")
MAX_DAYS, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE, MAX_IMAGES = 30, 1000, 10, 100
MAX_VIDEOS = 60  # video_ids per file/video/ad/info call
URL_HOURS = 6  # signed CDN URLs of the file endpoints expire after six hours
_ETC_ZONES = {"America/New_York": "Etc/GMT+5", "America/Los_Angeles": "Etc/GMT+8"}
#: canonical action -> (count metric, value metric), as the connector reads them
EVENTS = {
    "purchase": ("complete_payment", "total_complete_payment_rate"),
    "add_to_cart": ("web_event_add_to_cart", "total_web_event_add_to_cart_value"),
    "begin_checkout": ("initiate_checkout", "total_initiate_checkout_value"),
    "view_content": ("product_details_page_browse", "total_product_details_page_browse_value"),
    "signup": ("user_registration", "total_user_registration_value"),
    "lead": ("form", "total_form_value"),
    "subscribe": ("on_web_subscribe", "total_on_web_subscribe_value"),
}
ATTRIBUTES = {
    "campaign_id": lambda ad: ad.campaign_id,
    "campaign_name": lambda ad: ad.campaign.name,
    "adgroup_id": lambda ad: ad.ad_group_id,
    "adgroup_name": lambda ad: ad.ad_group_name,
    "ad_name": lambda ad: ad.name,
}
BASIC = ("spend", "impressions", "clicks", "conversion", "cpc", "cpm", "ctr")
RATIOS = ("cost_per_conversion", "conversion_rate")
METRICS = frozenset({*ATTRIBUTES, *BASIC, *RATIOS, *(m for pair in EVENTS.values() for m in pair)})


def routes() -> list[Route]:
    return [Route("/open_api/{version}/{endpoint:path}", handler("tiktok", _serve, gate=_gate))]


def _envelope(code: int, message: str, data: Any = None) -> dict[str, Any]:
    body = {"code": code, "message": message, "request_id": uuid.uuid4().hex[:30].upper()}
    return body | ({"data": data} if data is not None else {"data": {}})


def _refuse(code: int, message: str, status: int = 200) -> Refused:
    return Refused(JSONResponse(_envelope(code, message), status_code=status))


async def _gate(request: Request, state: SandboxState) -> None:
    """Version, token and throttle as TikTok's gateway checks them, then the faults (so a
    throttled call never reaches the failing backend)."""
    version = request.path_params["version"]
    if version != VERSION:
        retired = " has been deprecated" if version in RETIRED_VERSIONS else " does not exist"
        message = f"API version {version}{retired}; use {VERSION}."
        raise _refuse(40400, message, status=404)
    token = request.headers.get("access-token", "")
    if not token:
        raise _refuse(40104, "Access token is null, please check your input.")
    if token != CREDENTIALS["access_token"]:
        raise _refuse(40105, "Access token is incorrect or has been revoked.")
    if state.throttle.take("tiktok", token) is not None:
        message = "Due to too many requests, requests from your app are temporarily restricted."
        raise _refuse(40100, f"Too many requests. {message}")
    if failed := await state.faults.before("tiktok"):
        if failed == 500:  # TikTok's own servers answer 200 with a server code
            raise _refuse(50000, "System error, please try again later.")
        raise Refused(Response("<html><body>Bad Gateway</body></html>", failed))


async def _serve(request: Request, state: SandboxState) -> Response:
    endpoint = request.path_params["endpoint"].strip("/")
    serve = _ENDPOINTS.get(endpoint)
    if serve is None:
        raise _refuse(40400, f"Not found: /open_api/{VERSION}/{endpoint}/", status=404)
    return json_reply(state, _envelope(0, "OK", serve(request, state)))


# -- parameters ------------------------------------------------------------------------------


def _param(request: Request, name: str, default: str | None = None) -> str:
    value = request.query_params.get(name, default)
    if value is None:
        raise _refuse(40002, f"{name}: Missing data for required field.")
    return value


def _list_param(request: Request, name: str, default: str | None = None) -> list[str]:
    try:
        values = json.loads(_param(request, name, default))
    except ValueError:
        raise _refuse(40002, f"{name}: Not a valid list.") from None
    if not isinstance(values, list):
        raise _refuse(40002, f"{name}: Not a valid list.")
    return [str(v) for v in values]


def _advertiser(request: Request, state: SandboxState) -> str:
    advertiser = _param(request, "advertiser_id")
    if state.world.account("tiktok", advertiser) is None:
        raise _refuse(40001, f"No permission to operate advertiser {advertiser}.")
    return advertiser


def _page(request: Request, items: list) -> dict[str, Any]:
    try:
        page = int(request.query_params.get("page", 1))
        size = int(request.query_params.get("page_size", DEFAULT_PAGE_SIZE))
    except ValueError:
        raise _refuse(40002, "page and page_size must be integers.") from None
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise _refuse(40002, f"page_size: Must be between 1 and {MAX_PAGE_SIZE}.")
    info = {
        "page": page,
        "page_size": size,
        "total_number": len(items),
        "total_page": -(-len(items) // size),
    }
    return {"list": items[(page - 1) * size : page * size], "page_info": info}


# -- endpoints -------------------------------------------------------------------------------


def _advertiser_info(request: Request, state: SandboxState) -> dict[str, Any]:
    found = []
    for advertiser in _list_param(request, "advertiser_ids"):
        account = state.world.account("tiktok", advertiser)
        if account is None:
            raise _refuse(40001, f"No permission to operate advertiser {advertiser}.")
        spec = account[1]
        info = {
            "advertiser_id": advertiser,
            "name": spec.name,
            "currency": spec.currency,
            "timezone": _ETC_ZONES.get(spec.timezone, "Etc/GMT"),
            "display_timezone": spec.timezone,
            "status": "STATUS_ENABLE",
            "role": "ROLE_ADVERTISER",
            "country": "US",
        }
        fields = request.query_params.get("fields")
        if fields is not None:
            wanted = {"advertiser_id", *_list_param(request, "fields")}
            info = {k: v for k, v in info.items() if k in wanted}
        found.append(info)
    return {"list": found}


def _report(request: Request, state: SandboxState) -> dict[str, Any]:
    advertiser = _advertiser(request, state)
    for name, expected in (("service_type", "AUCTION"), ("report_type", "BASIC")):
        if _param(request, name, expected) != expected:
            raise _refuse(40002, f"{name}: the sandbox serves {expected} only.")
    if _param(request, "data_level") != "AUCTION_AD":
        raise _refuse(40002, "data_level: the sandbox serves AUCTION_AD only.")
    if sorted(_list_param(request, "dimensions")) != ["ad_id", "stat_time_day"]:
        raise _refuse(40002, 'dimensions: the sandbox serves ["ad_id", "stat_time_day"] only.')
    metrics = _list_param(request, "metrics", '["spend","impressions","clicks"]')
    if unknown := [m for m in metrics if m not in METRICS]:
        raise _refuse(40002, f"metrics: Invalid metric {unknown[0]}.")
    since, until = _dates(request)
    rows = state.rows("tiktok", advertiser, since, until)
    items = [_row(state.world.ad(r["ad_id"]), r, metrics) for r in rows]
    return _page(request, items)


def _dates(request: Request) -> tuple[date, date]:
    try:
        since = date.fromisoformat(_param(request, "start_date"))
        until = date.fromisoformat(_param(request, "end_date"))
    except ValueError:
        raise _refuse(40002, "start_date/end_date: Not a valid date (YYYY-MM-DD).") from None
    if until < since:
        raise _refuse(40002, "end_date must not be earlier than start_date.")
    if until - since >= timedelta(days=MAX_DAYS):
        raise _refuse(40002, f"The time span cannot exceed {MAX_DAYS} days for stat_time_day.")
    return since, until


def _row(ad: Ad, record: dict[str, Any], metrics: list[str]) -> dict[str, Any]:
    client = ad.client
    counts = dict.fromkeys((m for pair in EVENTS.values() for m in pair), 0)
    primary, secondary = EVENTS[client.primary_action], EVENTS[client.secondary_action]
    counts[primary[0]] = record["conversions"]
    counts[secondary[0]] += record["secondary_actions"]
    cents = record["value_micros"] // 10_000 if client.primary_action == "purchase" else 0
    spend = record["spend_micros"] // 10_000
    values = {
        "spend": _major(spend),
        "impressions": str(record["impressions"]),
        "clicks": str(record["clicks"]),
        "conversion": str(record["conversions"]),
        "cpc": _ratio(spend, record["clicks"]),
        "cpm": _ratio(spend * 1000, record["impressions"]),
        "ctr": _ratio(record["clicks"] * 10_000, record["impressions"]),
        "cost_per_conversion": _ratio(spend, record["conversions"]),
        "conversion_rate": _ratio(record["conversions"] * 10_000, record["clicks"]),
    }
    for count_metric, value_metric in EVENTS.values():
        values[count_metric] = str(counts[count_metric])
        values[value_metric] = _major(cents if value_metric == primary[1] else 0)
    values |= {name: get(ad) for name, get in ATTRIBUTES.items()}
    day = f"{record['date'].isoformat()} 00:00:00"
    return {
        "dimensions": {"ad_id": ad.ad_id, "stat_time_day": day},
        "metrics": {m: values[m] for m in metrics},
    }


def _ads(request: Request, state: SandboxState) -> dict[str, Any]:
    advertiser = _advertiser(request, state)
    fields = set(_list_param(request, "fields", "[]"))
    items = []
    for ad in state.world.ads_of("tiktok", advertiser):
        video = creative_format(ad) == "video"
        item = {
            "advertiser_id": advertiser,
            "campaign_id": ad.campaign_id,
            "campaign_name": ad.campaign.name,
            "adgroup_id": ad.ad_group_id,
            "adgroup_name": ad.ad_group_name,
            "ad_id": ad.ad_id,
            "ad_name": ad.name,
            "ad_format": "SINGLE_VIDEO" if video else "SINGLE_IMAGE",
            "ad_text": ad.headline,
            "call_to_action": ad.call_to_action,
            "landing_page_url": ad.landing_url,
            "display_name": ad.client.name,
            "image_ids": [_image_id(state, ad)],
            "video_id": _video_id(state, ad) if video else None,
            "operation_status": "ENABLE",
            "secondary_status": "AD_STATUS_DELIVERY_OK",
        }
        items.append({k: v for k, v in item.items() if not fields or k in fields})
    return _page(request, items)


def _images(request: Request, state: SandboxState) -> dict[str, Any]:
    advertiser = _advertiser(request, state)
    wanted = _list_param(request, "image_ids")
    if len(wanted) > MAX_IMAGES:
        raise _refuse(40002, f"image_ids: Length must be between 1 and {MAX_IMAGES}.")
    by_id = {_image_id(state, ad): ad for ad in state.world.ads_of("tiktok", advertiser)}
    found = []
    for image_id in wanted:
        ad = by_id.get(image_id)
        if ad is None or (url := asset_url(request, ad)) is None:
            continue
        width, height = size_of(ad)
        found.append(
            {
                "image_id": image_id,
                "image_url": url,
                "width": width,
                "height": height,
                "format": "png",
                "material_id": ad.creative_id,
                "displayable": True,
            }
        )
    return {"list": found}


def _videos(request: Request, state: SandboxState) -> dict[str, Any]:
    advertiser = _advertiser(request, state)
    wanted = _list_param(request, "video_ids")
    if len(wanted) > MAX_VIDEOS:
        raise _refuse(40002, f"video_ids: Length must be between 1 and {MAX_VIDEOS}.")
    ads = state.world.ads_of("tiktok", advertiser)
    by_id = {_video_id(state, ad): ad for ad in ads if creative_format(ad) == "video"}
    # TikTok leaves out the ids it cannot use
    return {"list": [_video(request, state, by_id[v], v) for v in wanted if v in by_id]}


def _video(request: Request, state: SandboxState, ad: Ad, video_id: str) -> dict[str, Any]:
    """One video's info, its URLs signed for ``URL_HOURS`` as TikTok's CDN signs them."""
    now = state.now()
    expires = now + timedelta(hours=URL_HOURS)
    signed = f"x-expires={int(expires.timestamp())}&x-signature=sbx"
    width, height = size_of(ad)
    seconds = video_length(ad, revision(ad, now.date()))
    digest = hashlib.md5(video_id.encode()).hexdigest()  # the file's MD5 in TikTok's answer
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return {
        "video_id": video_id,
        "video_cover_url": f"{poster_url(request, ad)}?{signed}",
        "preview_url": f"{origin}/cdn/{digest}.mp4?{signed}",  # never served: no video files
        "preview_url_expire_time": expires.strftime("%Y-%m-%d %H:%M:%S"),
        "duration": seconds,
        "width": width,
        "height": height,
        "format": "mp4",
        "bit_rate": 2_400_000,
        "size": int(seconds * 300_000),
        "signature": digest,
        "material_id": ad.creative_id,
        "file_name": f"{ad.name[:40]}.mp4",
        "displayable": True,
        "allow_download": True,
        "allowed_placements": ["PLACEMENT_TIKTOK"],
    }


_ENDPOINTS = {
    "advertiser/info": _advertiser_info,
    "report/integrated/get": _report,
    "ad/get": _ads,
    "file/image/ad/info": _images,
    "file/video/ad/info": _videos,
}


def _upload(state: SandboxState, ad: Ad) -> str:
    """What tells the ad's uploads apart: nothing for the first, ``r<N>`` for revision N."""
    rev = revision(ad, state.now().date())
    return f"r{rev}" if rev else ""


def _image_id(state: SandboxState, ad: Ad) -> str:
    upload = _upload(state, ad)
    return f"ad-site-i18n-sg/{ad.creative_id}" + (f"-{upload}" if upload else "")


def _video_id(state: SandboxState, ad: Ad) -> str:
    return f"v10033g50000{ad.creative_id}{_upload(state, ad)}"


def _major(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


def _ratio(numerator: int, denominator: int) -> str:
    """A cost or rate metric (cents or basis points over a count); "-" when undefined."""
    return "-" if not denominator else f"{Decimal(numerator) / denominator / 100:.2f}"
