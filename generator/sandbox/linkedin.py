"""LinkedIn Marketing API as the sandbox speaks it: OAuth refresh and the Rest.li 2.0 finders.

Served under ``/linkedin``: ``POST /oauth/v2/accessToken`` (refresh-token grant; each refresh
rotates the refresh token and retires the one it used, while the configured token stays valid
like LinkedIn's year-long one) and, under ``/rest``: ``adAccounts/{id}``; the finders
``creatives`` (``q=criteria``, header ``X-RestLi-Method: FINDER``), ``adCampaigns`` and
``adCampaignGroups`` (``q=search``), paged by ``pageSize``/``pageToken`` with
``metadata.nextPageToken``; ``conversions`` (``q=account``, paged by ``start``/``count``);
BATCH_GET of ``posts`` and ``images``; and ``adAnalytics`` (finders ``analytics`` with one pivot
and ``statistics`` with up to three, DAILY or ALL, facets accounts, campaignGroups, campaigns,
creatives; at most 20 fields; answers cut silently at 15,000 elements, unpaged).

Every call needs ``LinkedIn-Version`` (400 without it, 426 ``NONEXISTENT_VERSION`` for a version
not served: twelve months old or not yet released on the sandbox clock) and
``X-Restli-Protocol-Version: 2.0.0``; query values are read in Rest.li 2.0 syntax, so a client
that percent-encodes the structure gets a 400. Errors are ``{"status", "code", "message"}``;
429 comes without Retry-After. Messages marked 'verify' are modelled, not copied from LinkedIn.

The world's campaigns are campaign groups, its ad groups campaigns and its ads creatives (ids
kept); its LinkedIn days are served as LinkedIn's UTC days. Lead Gen Form campaigns report
their conversions as ``oneClickLeads``; the others as website conversions of the account's one
conversion rule, of the client's primary action. Costs are major-unit strings with float noise.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.compute as pc
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from generator.sandbox.assets import asset_kind, asset_url
from generator.sandbox.common import bearer, read_form
from generator.sandbox.state import SandboxState
from generator.sandbox.world import WORLD_START, Ad

__all__ = ["CREDENTIALS", "ENVIRONMENT", "MAX_FIELDS", "parse_query", "routes"]

CREDENTIALS = {
    "client_id": "86sbx1inked1nap",
    "client_secret": "sbx-li-secret-TGlua2VkSW5TYW5kYm94",
    "refresh_token": "AQXsbx-refresh-TGlua2VkSW5SZWZyZXNoVG9rZW4",
}
ENVIRONMENT = {
    "LINKEDIN_CLIENT_ID": CREDENTIALS["client_id"],
    "LINKEDIN_CLIENT_SECRET": CREDENTIALS["client_secret"],
    "LINKEDIN_REFRESH_TOKEN": CREDENTIALS["refresh_token"],
}

SUPPORTED_MONTHS = 12
MAX_FIELDS = 20
ELEMENT_LIMIT = 15_000
PAGE_SIZE, MAX_PAGE_SIZE = 10, 1000
_DEFAULT_FIELDS = ["impressions", "clicks", "dateRange", "pivotValues"]
_MONEY = ("costInLocalCurrency", "conversionValueInLocalCurrency")
_COUNTS = (
    "impressions",
    "clicks",
    "landingPageClicks",
    "externalWebsiteConversions",
    "externalWebsitePostClickConversions",
    "externalWebsitePostViewConversions",
    "oneClickLeads",
)
_FIELDS = {*_MONEY, *_COUNTS, "dateRange", "pivotValues"}
_FACETS = {
    "accounts": lambda ad: f"urn:li:sponsoredAccount:{ad.account.account_id}",
    "campaignGroups": lambda ad: f"urn:li:sponsoredCampaignGroup:{ad.campaign_id}",
    "campaigns": lambda ad: f"urn:li:sponsoredCampaign:{ad.ad_group_id}",
    "creatives": lambda ad: f"urn:li:sponsoredCreative:{ad.ad_id}",
}
_PIVOTS = {
    "ACCOUNT": _FACETS["accounts"],
    "CAMPAIGN_GROUP": _FACETS["campaignGroups"],
    "CAMPAIGN": _FACETS["campaigns"],
    "CREATIVE": _FACETS["creatives"],
    "CONVERSION": lambda ad: f"urn:lla:llaPartnerConversion:{_rule_id(ad.account.account_id)}",
}
_RULE_TYPES = {"lead": "LEAD", "purchase": "PURCHASE", "signup": "SIGN_UP", "contact": "CONTACT"}
_PRIMITIVE = re.compile(r"[^(),:]*")


class _Bad(ValueError):
    """A request LinkedIn answers with 400."""


def routes() -> list[Route]:
    account = "/rest/adAccounts/{account_id}"
    return [
        Route("/oauth/v2/accessToken", _token, methods=["POST"]),
        Route(account, _api(_account)),
        Route(f"{account}/creatives", _api(_creatives, "FINDER")),
        Route(f"{account}/adCampaigns", _api(_campaigns)),
        Route(f"{account}/adCampaignGroups", _api(_groups)),
        Route("/rest/conversions", _api(_conversions)),
        Route("/rest/adAnalytics", _api(_analytics)),
        Route("/rest/posts", _api(_posts, "BATCH_GET")),
        Route("/rest/images", _api(_images, "BATCH_GET")),
    ]


# -- Rest.li 2.0 query syntax ---------------------------------------------------------------------


def parse_query(raw: str) -> dict[str, Any]:
    """A raw query string read as Rest.li 2.0: ``(k:v,...)`` is a dict, ``List(...)`` a list,
    anything else percent-decoded text; ``fields`` is a plain comma-separated list.

    Raises:
        ValueError: the syntax is broken.
    """
    out: dict[str, Any] = {}
    for part in filter(None, raw.split("&")):
        name, _, text = part.partition("=")
        name = unquote(name)
        out[name] = unquote(text).split(",") if name == "fields" else _Reader(text).read()
    return out


class _Reader:
    def __init__(self, text: str) -> None:
        self.text, self.at = text, 0

    def read(self) -> Any:
        value = self._value()
        if self.at != len(self.text):
            raise _Bad(f"unexpected {self.text[self.at :]!r} in {self.text!r}")
        return value

    def _value(self) -> Any:
        if self.text.startswith("List(", self.at):
            self.at += 5
            return self._items(self._value)
        if self.text.startswith("(", self.at):
            self.at += 1
            return dict(self._items(self._pair))
        match = _PRIMITIVE.match(self.text, self.at)
        self.at = match.end()
        return unquote(match.group())

    def _items(self, item: Callable[[], Any]) -> list:
        out: list = []
        if self.text.startswith(")", self.at):
            self.at += 1
            return out
        while True:
            out.append(item())
            mark, self.at = self.text[self.at : self.at + 1], self.at + 1
            if mark == ")":
                return out
            if mark != ",":
                raise _Bad(f"expected ',' or ')' in {self.text!r}")

    def _pair(self) -> tuple[str, Any]:
        key = self._value()
        if not isinstance(key, str) or not self.text.startswith(":", self.at):
            raise _Bad(f"expected key:value in {self.text!r}")
        self.at += 1
        return key, self._value()


# -- OAuth ----------------------------------------------------------------------------------------


async def _token(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    form = await read_form(request)
    if form.get("grant_type") != "refresh_token":
        return _oauth_error(400, "unsupported_grant_type", "grant_type must be refresh_token")
    if (form.get("client_id"), form.get("client_secret")) != (
        CREDENTIALS["client_id"],
        CREDENTIALS["client_secret"],
    ):
        return _oauth_error(401, "invalid_client", "Client authentication failed")
    live = _rotated(request)
    used = form.get("refresh_token", "")
    if used != CREDENTIALS["refresh_token"] and used not in live:
        return _oauth_error(
            400,
            "invalid_request",
            "The provided authorization grant or refresh token is invalid, expired or revoked",
        )
    live.discard(used)
    rotated = f"AQX{secrets.token_urlsafe(30)}"
    live.add(rotated)
    ttl = state.faults.token_ttl
    return JSONResponse(
        {
            "access_token": state.tokens.issue("linkedin", str(form["client_id"]), ttl),
            "expires_in": int(max(ttl, 1)),
            "refresh_token": rotated,
            "refresh_token_expires_in": 31_536_000,
            "scope": "r_ads,r_ads_reporting",
        }
    )


def _rotated(request: Request) -> set[str]:
    """Rotated refresh tokens not used yet, one set per sandbox app."""
    if not hasattr(request.app.state, "linkedin_refresh_tokens"):
        request.app.state.linkedin_refresh_tokens = set()
    return request.app.state.linkedin_refresh_tokens


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


# -- the gate every API call passes ---------------------------------------------------------------


def _api(handler: Callable[..., Any], method: str | None = None):
    """An endpoint: faults, version, protocol, token and throttle checks, then ``handler``."""

    async def endpoint(request: Request) -> Response:
        state: SandboxState = request.app.state.sandbox
        state.requests["linkedin"] += 1
        if failed := await state.faults.before("linkedin"):
            return _error(failed, "Service unavailable, please retry", "SERVER_ERROR")
        if problem := _check(request, state, method):
            return problem
        try:
            body = handler(request, state, parse_query(request.url.query))
        except _Bad as exc:
            return _error(400, str(exc), "ILLEGAL_ARGUMENT")
        if isinstance(body, Response):
            return body
        payload = state.faults.truncate(json.dumps(body).encode())
        return Response(payload, media_type="application/json")

    return endpoint


def _check(request: Request, state: SandboxState, method: str | None) -> Response | None:
    version = request.headers.get("linkedin-version", "")
    if not version:
        return _error(
            400,
            "A version must be present. Please specify a version by adding the "
            "LinkedIn-Version header.",
            "VERSION_MISSING",
        )
    if not _served(version, state.now().date()):
        long_form = f"{version}01" if len(version) == 6 else version
        return _error(426, f"Requested version {long_form} is not active", "NONEXISTENT_VERSION")
    if request.headers.get("x-restli-protocol-version") != "2.0.0":
        return _error(
            400, "Rest.li 2.0 syntax needs X-Restli-Protocol-Version: 2.0.0", "ILLEGAL_ARGUMENT"
        )
    if method and request.headers.get("x-restli-method", "").upper() != method:
        return _error(
            400, f"this request needs the header X-RestLi-Method: {method}", "ILLEGAL_ARGUMENT"
        )
    subject = state.tokens.check("linkedin", bearer(request))
    if subject is None:
        return _error(401, "Invalid access token", "INVALID_ACCESS_TOKEN", 65600)
    if state.throttle.take("linkedin", subject) is not None:
        return _error(
            429,
            "Resource level throttle limit for calls to this resource is reached.",
            "TOO_MANY_REQUESTS",
            101,
        )
    return None


def _served(version: str, today: date) -> bool:
    match = re.fullmatch(r"(\d{4})(\d{2})(?:\.\d{2})?", version)
    if not match or not 1 <= int(match.group(2)) <= 12:
        return False
    age = today.year * 12 + today.month - int(match.group(1)) * 12 - int(match.group(2))
    return 0 <= age < SUPPORTED_MONTHS


def _error(status: int, message: str, code: str, service: int | None = None) -> JSONResponse:
    body: dict[str, Any] = {"status": status, "code": code, "message": message}
    if service is not None:
        body["serviceErrorCode"] = service
    return JSONResponse(body, status_code=status)


# -- entities -------------------------------------------------------------------------------------


def _ads(state: SandboxState, account_id: str) -> list[Ad]:
    return state.world.ads_of("linkedin", account_id)


def _ms(day_offset: int) -> int:
    moment = datetime(WORLD_START.year, WORLD_START.month, WORLD_START.day, tzinfo=UTC)
    moment += timedelta(day_offset)
    return int(moment.timestamp() * 1000)


def _denied(resource: str, request: Request) -> JSONResponse:
    version = request.headers.get("linkedin-version", "")
    return _error(
        403, f"Not enough permissions to access: {resource}.GET.{version}01", "ACCESS_DENIED", 100
    )


def _account(request: Request, state: SandboxState, query: dict) -> Any:
    found = state.world.account("linkedin", request.path_params["account_id"])
    if found is None:
        return _denied("adAccounts", request)
    account = found[1]
    return {
        "id": int(account.account_id),
        "name": account.name,
        "currency": account.currency,
        "status": "ACTIVE",
        "type": "BUSINESS",
        "test": False,
        "reference": f"urn:li:organization:{_org(account.account_id)}",
        "servingStatuses": ["RUNNABLE"],
        "notifiedOnCampaignOptimization": True,
        "version": {"versionTag": "3"},
    }


def _org(account_id: str) -> int:
    return 10_000_000 + int(account_id) % 9_000_000


def _finder(request: Request, state: SandboxState, query: dict, finder: str, build) -> Any:
    """A paged finder over the account's entities (``build`` makes one element per key)."""
    account_id = request.path_params["account_id"]
    if state.world.account("linkedin", account_id) is None:
        return _denied("adAccounts", request)
    if query.get("q") != finder:
        raise _Bad(f"the only finder here is q={finder}")
    elements = list(dict(build(_ads(state, account_id))).values())
    wanted = (
        (_struct(query, "search").get("status") or {}).get("values") if "search" in query else None
    )
    if wanted is not None:
        elements = [e for e in elements if e.get("status") in wanted]
    return _page(elements, query)


def _page(elements: list[dict], query: dict) -> dict:
    size = _int(query.get("pageSize", PAGE_SIZE), "pageSize", 1, MAX_PAGE_SIZE)
    start = _offset(query.get("pageToken"))
    body = {
        "elements": elements[start : start + size],
        "paging": {"start": start, "count": size, "links": []},
        "metadata": {},
    }
    if start + size < len(elements):
        body["metadata"]["nextPageToken"] = base64.urlsafe_b64encode(
            f"offset={start + size}".encode()
        ).decode()
    return body


def _offset(token: Any) -> int:
    if token is None:
        return 0
    try:
        return int(base64.urlsafe_b64decode(str(token).encode()).decode().removeprefix("offset="))
    except ValueError:
        raise _Bad(f"invalid pageToken {str(token)[:40]!r}") from None


def _int(value: Any, name: str, lo: int, hi: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _Bad(f"invalid {name} {value!r}") from None
    if not lo <= number <= hi:
        raise _Bad(f"{name} must be between {lo} and {hi}")
    return number


def _groups(request: Request, state: SandboxState, query: dict) -> Any:
    def build(ads: list[Ad]):
        for ad in ads:
            yield (
                ad.campaign_id,
                {
                    "id": int(ad.campaign_id),
                    "account": _FACETS["accounts"](ad),
                    "name": ad.campaign.name,
                    "status": "ACTIVE",
                    "runSchedule": {"start": _ms(ad.campaign.start_day)},
                    "servingStatuses": ["RUNNABLE"],
                    "test": False,
                },
            )

    return _finder(request, state, query, "search", build)


def _campaigns(request: Request, state: SandboxState, query: dict) -> Any:
    def build(ads: list[Ad]):
        for ad in ads:
            inmail = ad.campaign.objective == "conversation"
            yield (
                ad.ad_group_id,
                {
                    "id": int(ad.ad_group_id),
                    "account": _FACETS["accounts"](ad),
                    "campaignGroup": _FACETS["campaignGroups"](ad),
                    "name": ad.ad_group_name,
                    "status": "ACTIVE",
                    "type": "SPONSORED_INMAILS" if inmail else "SPONSORED_UPDATES",
                    "objectiveType": _objective(ad),
                    "costType": "CPM",
                    "dailyBudget": {
                        "amount": f"{ad.campaign.budget:.2f}",
                        "currencyCode": ad.account.currency,
                    },
                    "runSchedule": {"start": _ms(ad.campaign.start_day)},
                },
            )

    return _finder(request, state, query, "search", build)


def _objective(ad: Ad) -> str:
    return "LEAD_GENERATION" if ad.campaign.objective == "lead_gen" else "WEBSITE_CONVERSION"


def _creatives(request: Request, state: SandboxState, query: dict) -> Any:
    def build(ads: list[Ad]):
        for ad in sorted(ads, key=lambda a: int(a.ad_id)):
            element = {
                "id": _FACETS["creatives"](ad),
                "account": _FACETS["accounts"](ad),
                "campaign": _FACETS["campaigns"](ad),
                "name": ad.name,
                "intendedStatus": "ACTIVE",
                "isServing": True,
                "isTest": False,
                "content": {"reference": _content_urn(ad)},
                "review": {"status": "APPROVED"},
                "servingHoldReasons": [],
                "createdAt": _ms(ad.created_day),
                "lastModifiedAt": _ms(ad.created_day),
            }
            if ad.campaign.objective == "lead_gen":
                form = f"urn:li:adForm:{int(ad.ad_group_id) % 10**8}"
                element["leadgenCallToAction"] = {"destination": form, "label": ad.call_to_action}
            yield ad.ad_id, element

    return _finder(request, state, query, "criteria", build)


def _content_urn(ad: Ad) -> str:
    if ad.campaign.objective == "conversation":
        return f"urn:li:adInMailContent:{ad.creative_id}"
    return f"urn:li:share:{ad.creative_id}"


def _image_urn(ad: Ad) -> str:
    return f"urn:li:image:C4E22AQ{ad.creative_id}"


def _rule_id(account_id: str) -> int:
    return 10_000 + int(hashlib.sha256(account_id.encode()).hexdigest(), 16) % 900_000


def _conversions(request: Request, state: SandboxState, query: dict) -> Any:
    if query.get("q") != "account":
        raise _Bad("the only finder here is q=account")
    account_id = str(query.get("account", "")).rsplit(":", 1)[-1]
    found = state.world.account("linkedin", account_id)
    if found is None:
        return _denied("conversions", request)
    client, account = found
    rules = [
        {
            "id": _rule_id(account_id),
            "account": f"urn:li:sponsoredAccount:{account_id}",
            "name": f"{client.primary_action.replace('_', ' ').title()} (website)",
            "type": _RULE_TYPES.get(client.primary_action, "OTHER"),
            "enabled": True,
            "attributionType": "LAST_TOUCH_BY_CAMPAIGN",
            "postClickAttributionWindowSize": 30,
            "viewThroughAttributionWindowSize": 7,
            "value": {"amount": "0", "currencyCode": account.currency},
        }
    ]
    start = _int(query.get("start", 0), "start", 0, 10**6)
    count = _int(query.get("count", PAGE_SIZE), "count", 1, MAX_PAGE_SIZE)
    paging = {"start": start, "count": count, "total": len(rules), "links": []}
    return {"elements": rules[start : start + count], "paging": paging}


def _batch(query: dict, entities: dict[str, dict]) -> dict:
    ids = query.get("ids")
    if not isinstance(ids, list):
        raise _Bad("BATCH_GET needs ids=List(...)")
    found = {urn: entities[urn] for urn in ids if urn in entities}
    missing = [urn for urn in ids if urn not in entities]
    return {
        "results": found,
        "statuses": {**dict.fromkeys(found, 200), **dict.fromkeys(missing, 404)},
        "errors": {urn: {"status": 404, "message": "Not Found"} for urn in missing},
    }


def _linkedin_ads(state: SandboxState) -> list[Ad]:
    return [ad for ad in state.world.ads if ad.account.source == "linkedin"]


def _post_ads(state: SandboxState) -> list[Ad]:
    """Ads whose creative sponsors a post (conversation ads carry InMail content instead)."""
    return [ad for ad in _linkedin_ads(state) if _content_urn(ad).startswith("urn:li:share:")]


def _posts(request: Request, state: SandboxState, query: dict) -> Any:
    posts = {}
    for ad in _post_ads(state):
        post = {
            "id": _content_urn(ad),
            "author": f"urn:li:organization:{_org(ad.account.account_id)}",
            "commentary": ad.body,
            "visibility": "PUBLIC",
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
            "adContext": {
                "dscAdAccount": _FACETS["accounts"](ad),
                "dscStatus": "ACTIVE",
                "isDsc": True,
            },
            "contentLandingPage": ad.landing_url,
            "contentCallToActionLabel": ad.call_to_action,
            "publishedAt": _ms(ad.created_day),
        }
        if asset_kind(ad) != "none":
            post["content"] = {"media": {"title": ad.headline, "id": _image_urn(ad)}}
        posts[post["id"]] = post
    return _batch(query, posts)


def _images(request: Request, state: SandboxState, query: dict) -> Any:
    expires = int((state.now() + timedelta(days=1)).timestamp() * 1000)
    images = {
        _image_urn(ad): {
            "id": _image_urn(ad),
            "owner": f"urn:li:organization:{_org(ad.account.account_id)}",
            "status": "AVAILABLE",
            "downloadUrl": asset_url(request, ad),
            "downloadUrlExpiresAt": expires,
        }
        for ad in _post_ads(state)
        if asset_kind(ad) != "none"
    }
    return _batch(query, images)


# -- adAnalytics ----------------------------------------------------------------------------------


def _analytics(request: Request, state: SandboxState, query: dict) -> Any:
    pivots = _pivots(query)
    daily = _struct(query, "timeGranularity").get("value")
    if daily not in ("DAILY", "ALL"):
        raise _Bad("timeGranularity must be (value:DAILY) or (value:ALL)")
    lo, hi = _date_range(query, state.world.end)
    fields = query.get("fields", _DEFAULT_FIELDS)
    if len(fields) > MAX_FIELDS:
        raise _Bad(  # verify: LinkedIn's own wording
            f"Request has {len(fields)} fields; at most {MAX_FIELDS} may be requested "
            "(dateRange and pivotValues included)"
        )
    if unknown := [f for f in fields if f not in _FIELDS]:
        raise _Bad(f"unknown field {unknown[0]!r} in fields")
    ads = _faceted(state, query)
    totals: dict[tuple, Counter] = {}
    for row in _rows(state, lo, hi, list(ads)):
        ad = ads[row["ad_id"]]
        metrics = _metrics(row, ad)
        if "CONVERSION" in pivots and not metrics["externalWebsiteConversions"]:
            continue  # a creative's conversions by rule: lead-form leads have no rule
        when = (row["date"], row["date"]) if daily == "DAILY" else (lo, hi)
        key = (when, tuple(_PIVOTS[p](ad) for p in pivots))
        totals.setdefault(key, Counter()).update(metrics)
    elements = [
        _element(when, values, sums, fields) for (when, values), sums in sorted(totals.items())
    ]
    return {"paging": {"start": 0, "count": 10, "links": []}, "elements": elements[:ELEMENT_LIMIT]}


def _pivots(query: dict) -> list[str]:
    if query.get("q") == "analytics":
        pivots = [_struct(query, "pivot").get("value")]
    elif query.get("q") == "statistics":
        pivots = query.get("pivots")
        if not isinstance(pivots, list) or not 1 <= len(pivots) <= 3:
            raise _Bad("pivots must be List(...) of one to three pivots")
    else:
        raise _Bad("adAnalytics finders are q=analytics and q=statistics")
    if unknown := [p for p in pivots if p not in _PIVOTS]:
        raise _Bad(f"pivot {unknown[0]!r} is not supported by the sandbox")
    return pivots


def _struct(query: dict, name: str) -> dict:
    value = query.get(name)
    if not isinstance(value, dict):
        raise _Bad(f"Invalid value for param {name}: expected a Rest.li structure (...)")
    return value


def _date_range(query: dict, last: date) -> tuple[date, date]:
    value = _struct(query, "dateRange")
    try:
        lo = _day(value["start"])
        hi = _day(value["end"]) if "end" in value else last
    except (KeyError, TypeError, ValueError):
        raise _Bad("dateRange needs start:(year:,month:,day:) and an optional end") from None
    if hi < lo:
        raise _Bad("dateRange ends before it starts")
    return lo, hi


def _day(value: dict) -> date:
    return date(int(value["year"]), int(value["month"]), int(value["day"]))


def _faceted(state: SandboxState, query: dict) -> dict[str, Ad]:
    given = {name: query[name] for name in _FACETS if name in query}
    if not given:
        raise _Bad(f"one of the facets {', '.join(_FACETS)} is required")
    if not all(isinstance(v, list) for v in given.values()):
        raise _Bad("facets must be List(...) of URNs")
    return {
        ad.ad_id: ad
        for ad in _linkedin_ads(state)
        if all(_FACETS[name](ad) in urns for name, urns in given.items())
    }


def _rows(state: SandboxState, lo: date, hi: date, ad_ids: list[str]) -> list[dict]:
    truth = state.performance()
    mask = pc.and_(
        pc.equal(truth["source"], "linkedin"),
        pc.is_in(truth["ad_id"], pa.array(ad_ids, pa.string())),
    )
    mask = pc.and_(
        mask, pc.and_(pc.greater_equal(truth["date"], lo), pc.less_equal(truth["date"], hi))
    )
    return truth.filter(mask).to_pylist()


def _metrics(row: dict, ad: Ad) -> dict[str, int]:
    website = ad.campaign.objective != "lead_gen"
    return {
        "impressions": row["impressions"],
        "clicks": row["clicks"],
        "landingPageClicks": row["clicks"],
        "costInLocalCurrency": row["spend_micros"],
        "externalWebsiteConversions": row["conversions"] if website else 0,
        "externalWebsitePostClickConversions": row["click_conversions"] if website else 0,
        "externalWebsitePostViewConversions": row["view_conversions"] if website else 0,
        "oneClickLeads": 0 if website else row["conversions"],
        "conversionValueInLocalCurrency": row["value_micros"],
    }


def _element(when: tuple[date, date], values: tuple, sums: Counter, fields: list[str]) -> dict:
    out: dict[str, Any] = {}
    for name in fields:
        if name == "dateRange":
            out[name] = {"start": _ymd(when[0]), "end": _ymd(when[1])}
        elif name == "pivotValues":
            out[name] = list(values)
        elif name in _MONEY:
            # LinkedIn prints a double with its binary noise: "107.5300000000000011369"
            out[name] = f"{sums[name] / 1_000_000:.19f}"
        else:
            out[name] = sums[name]
    return out


def _ymd(day: date) -> dict[str, int]:
    return {"year": day.year, "month": day.month, "day": day.day}
