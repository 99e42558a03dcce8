"""Amazon Ads: Sponsored Products through Reporting v3 (async jobs), Login with Amazon, profiles.

Performance comes from one ``spAdvertisedProduct`` report (daily, grouped by advertiser) per
profile and range of at most 31 days: ``POST /reporting/reports`` answers a ``reportId`` (an
identical request still being built answers ``425 "The Request is a duplicate of : <id>"``,
and that report is resumed), ``GET /reporting/reports/{id}`` is polled until COMPLETED, and
its pre-signed S3 ``url`` is downloaded without any credentials (S3 refuses a second auth
mechanism) and gunzipped into a JSON array. One report feeds ``ad_performance`` and
``actions``. ``cost`` and ``sales*`` are major-unit numbers; ids are JSON integers.

Attribution is part of each metric's name (``purchases1d/7d/14d/30d``, ``sales...``), all
click-based. The console's Sponsored Products default is 7 days for sellers and 14 for vendors
(the profile's ``accountInfo.type``): that window is ``ad_performance``'s conversions and
value and the actions' "default" rows; each window is also kept under its own name. The
report has no add-to-cart metric (``addToCart`` exists for Sponsored Brands, Display and DSP
only), so a client's add_to_cart secondary action is not reported from here.

The report carries campaign and ad group names itself and sets no status filter, so archived
campaigns are reported too ('verify'); a name that comes back null or empty becomes its id and
is recorded as unresolved (``Connector.fetch``). An ad is named by its SKU, else its ASIN.

Creatives: a Sponsored Products ad is a product. ``POST /sp/productAds/list`` links ads to
ASINs and ``POST /product/metadata`` gives each ASIN's title and image; the landing page is
the product page. ``Amazon-Advertising-API-ClientId`` goes with every API call and
``Amazon-Advertising-API-Scope`` (the profile id) with profile-scoped ones, never to S3.
Errors are ``{"code", "detail"}`` (reporting), ``{"code", "details"}`` (v2 and v3 entity
APIs) or ``{"message"}`` (the gateway, e.g. a 429 with or without ``Retry-After``).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Mapping
from datetime import date, timedelta
from functools import partial
from typing import Any, ClassVar

import httpx
import pyarrow as pa

from generator.connectors.auth import OAuth2Refresh
from generator.connectors.base import AccountInfo, Connector
from generator.connectors.http import retry_after
from generator.connectors.jobs import JobStatus
from generator.connectors.normalize import Col, asset_key, normalize, utc_now
from generator.connectors.paging import PageRequest, PageTokenPaginator, paginate
from generator.connectors.payloads import gunzip_json
from generator.connectors.redact import redact
from generator.connectors.verdicts import Fail, Ok, RateLimit, Refresh, Verdict
from generator.errors import ApiVersionRetired, AuthFailed, ConnectorError, ResponseInvalid
from generator.schema import ACTIONS, AD_PERFORMANCE, CREATIVES

__all__ = ["API_VERSION", "SUNSET", "AmazonAds"]

#: The pinned Reporting API version, sent in the request media type. Check
#: advertising.amazon.com/API/docs/en-us/release-notes/deprecations when bumping.
API_VERSION = "v3"
SUNSET = "none announced (Reporting v3 is current; the unified Amazon Ads API v1 is its successor)"
REPORT_MEDIA = f"application/vnd.createasyncreportrequest.{API_VERSION}+json"
REPORT_ACCEPT = f"application/vnd.createasyncreportresponse.{API_VERSION}+json"  # verify
PRODUCT_ADS_MEDIA = "application/vnd.spProductAd.v3+json"
METADATA_MEDIA = "application/vnd.productmetadatarequest.v1+json"
METADATA_ACCEPT = "application/vnd.productmetadataresponse.v1+json"
#: region -> API host and Login with Amazon host (the LWA host per region is 'verify')
REGIONS = {
    "na": {"api": "https://advertising-api.amazon.com", "oauth": "https://api.amazon.com"},
    "eu": {"api": "https://advertising-api-eu.amazon.com", "oauth": "https://api.amazon.co.uk"},
    "fe": {"api": "https://advertising-api-fe.amazon.com", "oauth": "https://api.amazon.co.jp"},
}
REPORT_TYPE, MAX_DAYS = "spAdvertisedProduct", 31  # the longest range of one report
WINDOWS = ("1d", "7d", "14d", "30d")
DEFAULT_WINDOW = {"seller": "7d"}  # vendors (and anyone else) see 14 days in the console
PAGE_SIZE, METADATA_BATCH = 5000, 300  # largest productAds page, ASINs per metadata call: verify
MARKETS = {"US": "amazon.com", "CA": "amazon.ca", "UK": "amazon.co.uk", "DE": "amazon.de"}
REPORTS = "/reporting/reports"
COLUMNS = [
    *("date", "campaignId", "campaignName", "adGroupId", "adGroupName", "adId"),
    *("advertisedAsin", "advertisedSku", "campaignBudgetCurrencyCode"),
    *("impressions", "clicks", "cost"),
    *(f"{metric}{window}" for window in WINDOWS for metric in ("purchases", "sales")),
]
_DUPLICATE = re.compile(r"duplicate of\s*:\s*([\w.-]+)")
_BUMP = (
    "bump API_VERSION (and the media-type versions) in generator/connectors/amazon_ads.py to "
    "a current version and re-record tests/fixtures/amazon_ads"
)

_IDENTITY = {
    "date": Col("date", "date", required=True),
    "currency": Col("campaignBudgetCurrencyCode"),
    "campaign_id": Col("campaignId", "id", required=True),
    "ad_group_id": Col("adGroupId", "id"),
    "ad_id": Col("adId", "id", required=True),
}
PERFORMANCE = {
    **_IDENTITY,
    "campaign_name": Col("campaignName"),
    "ad_group_name": Col("adGroupName"),
    "ad_name": Col("_name"),
    "creative_id": Col("advertisedAsin"),
    "impressions": Col("impressions", "count", default=0),
    "clicks": Col("clicks", "count", default=0),
    "spend_micros": Col("cost", "major", default=0),
}
ACTION_FIELDS = {
    **_IDENTITY,
    "attribution_window": Col("_window", required=True),
    "count": Col("_count", "number", default=0.0),
    "value_micros": Col("_value", "major", default=0),
}
CREATIVE_FIELDS = {
    "creative_id": Col("asin", required=True),
    "ad_id": Col("adId", "id"),
    "name": Col("_product.title"),
    "headline": Col("_product.title"),
    "landing_url": Col("_landing"),
    "asset_url": Col("_product.imageUrl"),
    "version": Col("_version", required=True),
}


class AmazonAds(Connector):
    """Sponsored Products (credentials: client_id, client_secret, refresh_token, region)."""

    platform = "amazon_ads"
    api_version = API_VERSION
    sunset = SUNSET
    hosts: ClassVar[dict[str, str]] = REGIONS["na"]
    #: a burst cap: Amazon's limits are dynamic and undocumented per endpoint (429s say when)
    rate = 8.0
    lookback_days = 30  # the 30-day window keeps attributing purchases for 30 days
    credential_names = ("client_id", "client_secret", "refresh_token")
    job_timeout = 900.0  # reports can sit PENDING for hours; a late one resumes next run

    def __init__(self, credentials: Mapping[str, str], **options: Any) -> None:
        self.region = str(credentials.get("region") or "na").lower()
        if self.region not in REGIONS:
            message = f"region {self.region!r} is not one of {', '.join(REGIONS)}"
            raise ConnectorError(message, platform=self.platform)
        super().__init__(credentials, **options)
        self._profiles: dict[str, dict[str, Any]] = {}
        #: rows of a finished report, kept until the other dataset of the range has read them
        self._shared: dict[tuple[str, date, date], tuple[list[dict], frozenset[str]]] = {}

    def url(self, host: str, path: str) -> str:
        return super().url(host, path) if self.base_url else REGIONS[self.region][host] + path

    def make_auth(self) -> OAuth2Refresh:
        c = self.credentials  # LWA takes the client credentials as form fields (verify)
        return OAuth2Refresh(
            self.platform,
            self.url("oauth", "/auth/o2/token"),
            client_id=c["client_id"],
            client_secret=c["client_secret"],
            refresh_token=c["refresh_token"],
            on_rotate=self.on_rotate,
        )

    def classify(self, response: httpx.Response, request: str) -> Verdict | None:
        status = response.status_code
        if status < 300:
            return None
        message, where = _message(response), {"platform": self.platform, "request": request}
        if status == 425 and _DUPLICATE.search(message):
            return Ok()  # the report exists already: its id is in the message
        if status == 429:
            return RateLimit(f"HTTP 429 {message}", retry_after(response))
        if status in (410, 415):
            error = f"reporting {API_VERSION} is not served ({message}); {_BUMP}"
            return Fail(ApiVersionRetired(error, **where))
        if status in (401, 403) and "scope" in message.lower():
            error = f"{message}: the refresh token's user cannot access this profile"
            return Fail(AuthFailed(error, **where))
        if status == 401:
            return Refresh()
        return None if status >= 500 else Fail(ConnectorError(f"HTTP {status}: {message}", **where))

    async def account_info(self, account_id: str) -> AccountInfo:
        """Name, currency and time zone of an advertising profile (profiles read once)."""
        c = await self._account(account_id)
        return AccountInfo(account_id, c["account_name"], c["currency"], c["account_timezone"])

    async def fetch_performance(self, account_id: str, start: date, end: date) -> pa.Table:
        """Daily rows per product ad; conversions and value in the profile's default window."""
        constants = await self._account(account_id)
        window = constants.pop("_window")
        fields = PERFORMANCE | {
            "conversions": Col(f"purchases{window}", "number", default=0.0),
            "value_micros": Col(f"sales{window}", "major", default=0),
        }
        rows = await self._rows(account_id, start, end, "ad_performance")
        records = [{**r, "_name": r.get("advertisedSku") or r.get("advertisedAsin")} for r in rows]
        return self._normalize(records, fields, AD_PERFORMANCE, constants)

    async def fetch_actions(self, account_id: str, start: date, end: date) -> pa.Table:
        """Purchases per day and ad in every window, plus "default" (the console's window)."""
        constants = await self._account(account_id)
        windows = {"default": constants.pop("_window"), **{w: w for w in WINDOWS}}
        records = [
            {**r, "_window": name, "_count": r.get(f"purchases{w}"), "_value": r.get(f"sales{w}")}
            for r in await self._rows(account_id, start, end, "actions")
            if any(r.get(f"{m}{w}") for w in WINDOWS for m in ("purchases", "sales"))
            for name, w in windows.items()
        ]
        constants["action_type"] = "purchase"
        return self._normalize(records, ACTION_FIELDS, ACTIONS, constants)

    async def fetch_creatives(self, account_id: str) -> pa.Table:
        """One row per advertised product (ASIN), linked to the first ad that promotes it."""
        constants = await self._account(account_id)
        market = MARKETS.get(constants.pop("_country"), "amazon.com")
        first_ad: dict[str, dict] = {}
        for ad in await self._product_ads(account_id):
            first_ad.setdefault(str(ad.get("asin")), ad)
        products = await self._metadata(account_id, list(first_ad))
        records = [
            _creative(ad, products.get(asin, {}), f"https://www.{market}/dp/{asin}")
            for asin, ad in first_ad.items()
        ]
        constants |= {"format": "product", "first_seen": utc_now().date()}
        return self._normalize(records, CREATIVE_FIELDS, CREATIVES, constants)

    # -- the pieces -----------------------------------------------------------------------

    def _headers(self, profile: str = "", media: str = "", accept: str = "") -> dict[str, str]:
        """The client id always; the profile scope and media types when given."""
        pairs = {"Amazon-Advertising-API-Scope": profile, "Content-Type": media, "Accept": accept}
        client = {"Amazon-Advertising-API-ClientId": self.credentials["client_id"]}
        return client | {k: v for k, v in pairs.items() if v}

    async def _call(self, method: str, path: str, headers: dict, parse=None, **kwargs) -> Any:
        url, parse = self.url("api", path), parse or _json
        return await self.api.call(method, url, headers=headers, parse=parse, **kwargs)

    async def _account(self, account_id: str) -> dict[str, Any]:
        """The profile as row constants (plus ``_window`` and ``_country``); profiles read once."""
        if not self._profiles:
            parse = partial(_json, kind=list)
            profiles = await self._call("GET", "/v2/profiles", self._headers(), parse)
            self._profiles = {str(p.get("profileId")): p for p in profiles if isinstance(p, dict)}
        profile = self._profiles.get(account_id)
        if profile is None:
            known = ", ".join(self._profiles) or "none"
            message = f"profile {account_id} is not among this login's ({known}); check client.yml"
            raise ConnectorError(message, platform=self.platform)
        missing = [k for k in ("currencyCode", "timezone") if not profile.get(k)]
        if missing:
            message = f"profile {account_id} answered without {', '.join(missing)} (/v2/profiles)"
            raise ResponseInvalid(message, platform=self.platform)
        info = profile.get("accountInfo") or {}
        return {
            "platform": self.platform,
            "account_id": account_id,
            "account_name": str(info.get("name", "")),
            "account_timezone": profile["timezone"],
            "currency": profile["currencyCode"],
            "_window": DEFAULT_WINDOW.get(str(info.get("type")), "14d"),
            "_country": str(profile.get("countryCode")),
        }

    async def _rows(self, account_id: str, start: date, end: date, dataset: str) -> list[dict]:
        """The report rows of the range: one report serves performance and actions once each."""
        key = (account_id, start, end)
        rows, unread = self._shared.pop(key, ([], frozenset()))
        if dataset not in unread:
            chunks = [self._report(account_id, lo, hi) for lo, hi in _chunks(start, end)]
            parts = await asyncio.gather(*chunks, return_exceptions=True)  # none left running
            if failed := [p for p in parts if isinstance(p, BaseException)]:
                raise failed[0]
            rows = [row for part in parts for row in part]
            unread = frozenset(self.datasets)
        if unread - {dataset}:
            self._shared[key] = (rows, unread - {dataset})
        return rows

    async def _report(self, account_id: str, start: date, end: date) -> list[dict]:
        """One spAdvertisedProduct report: submitted (or resumed), polled, downloaded."""
        headers = self._headers(account_id, accept=REPORT_ACCEPT)

        async def submit() -> str:
            body, media = _report_request(start, end), {"Content-Type": REPORT_MEDIA}
            answer = await self._call("POST", REPORTS, headers | media, _report_id, json=body)
            return answer["reportId"]

        async def poll(report_id: str) -> JobStatus:
            return _job_status(await self._call("GET", f"{REPORTS}/{report_id}", headers))

        async def fetch(report_id: str, status: JobStatus) -> list[dict]:
            url = self._download_url(str(status.result))
            return await self.api.call("GET", url, authenticate=False, parse=_report_rows)

        key = f"{REPORT_TYPE}:{start}:{end}"
        return await self.run_report(account_id, key, submit, poll, fetch)

    def _download_url(self, url: str) -> str:
        """The report file's URL; with ``base_url`` its S3 host is replaced too (``/s3/<key>``)."""
        if not self.base_url or url.startswith(self.base_url):
            return url
        return f"{self.base_url}/s3{httpx.URL(url).raw_path.decode()}"

    async def _product_ads(self, account_id: str) -> list[dict]:
        first = PageRequest(self.url("api", "/sp/productAds/list"), json={"maxResults": PAGE_SIZE})
        headers = self._headers(account_id, PRODUCT_ADS_MEDIA, PRODUCT_ADS_MEDIA)
        paginator = PageTokenPaginator(token_path="nextToken", param="nextToken", where="json")
        pages = paginate(self.api, "POST", first, paginator, parse=_json, headers=headers)
        return [ad async for page in pages for ad in page.get("productAds") or [] if ad.get("asin")]

    async def _metadata(self, account_id: str, asins: list[str]) -> dict[str, dict]:
        """ASIN -> product metadata (title, imageUrl, ...), in batches."""
        headers, products = self._headers(account_id, METADATA_MEDIA, METADATA_ACCEPT), {}
        for i in range(0, len(asins), METADATA_BATCH):
            batch = asins[i : i + METADATA_BATCH]
            body = {"asins": batch, "checkItemDetails": True, "pageIndex": 0}
            body["pageSize"] = len(batch)
            answer = await self._call("POST", "/product/metadata", headers, json=body)
            products |= {str(p.get("asin")): p for p in answer.get("ProductMetadataList") or []}
        return products

    def _normalize(self, records, fields, schema: pa.Schema, constants: dict) -> pa.Table:
        lineage = {"source": self.platform, "fetched_at": utc_now(), "api_version": API_VERSION}
        return _normalize(records, fields, schema, constants=lineage | constants)


_normalize = partial(normalize, platform="amazon_ads", api_version=API_VERSION)


def _chunks(start: date, end: date) -> list[tuple[date, date]]:
    """``start``..``end`` in pieces of at most ``MAX_DAYS`` days."""
    pieces = []
    while start <= end:
        pieces.append((start, min(end, start + timedelta(days=MAX_DAYS - 1))))
        start = pieces[-1][1] + timedelta(days=1)
    return pieces


def _report_request(start: date, end: date) -> dict[str, Any]:
    return {
        "name": f"campaign-reporter {REPORT_TYPE} {start}..{end}",
        "startDate": start.isoformat(),
        "endDate": end.isoformat(),
        "configuration": {
            "adProduct": "SPONSORED_PRODUCTS",
            "groupBy": ["advertiser"],
            "columns": COLUMNS,
            "reportTypeId": REPORT_TYPE,
            "timeUnit": "DAILY",
            "format": "GZIP_JSON",
        },
    }


def _job_status(body: dict[str, Any]) -> JobStatus:
    status = str(body.get("status", ""))
    if status == "FAILED":
        return JobStatus(failed=True, detail=f"FAILED: {body.get('failureReason') or ''}".strip())
    if status == "COMPLETED" and not body.get("url"):
        raise ResponseInvalid(
            f"report {body.get('reportId')} is COMPLETED without a url ({API_VERSION})",
            platform="amazon_ads",
        )
    return JobStatus(done=status == "COMPLETED", detail=status, result=body.get("url"))


def _creative(ad: dict, product: dict, landing: str) -> dict[str, Any]:
    """A product ad as a creative, versioned by the product's title, image and page (the
    image by its path: the CDN's host and a signed query change while the picture does not)."""
    image = asset_key(product.get("imageUrl")) or ""
    content = "\x1f".join(map(str, (ad.get("asin"), product.get("title"), image, landing)))
    version = hashlib.sha256(content.encode()).hexdigest()[:16]
    return {**ad, "_product": product, "_landing": landing, "_version": version}


def _json(response: httpx.Response, kind: type = dict) -> Any:
    body = response.json()
    if not isinstance(body, kind):
        raise ValueError(f"expected a JSON {kind.__name__}")
    return body


def _report_id(response: httpx.Response) -> dict[str, Any]:
    """The created report, or for a 425 duplicate the id of the report that exists."""
    if response.status_code == 425:
        return {"reportId": _DUPLICATE.search(_message(response)).group(1)}
    body = _json(response)
    if not body.get("reportId"):  # retried: a resent request answers 425 with the id
        raise ValueError(f"no reportId in the reporting {API_VERSION} answer")
    return body


def _report_rows(response: httpx.Response) -> list[dict]:
    rows = gunzip_json(response.content)
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValueError("the report file is not a JSON array of rows")
    return rows


def _message(response: httpx.Response) -> str:
    """The platform's error text: JSON detail/details/message, or S3's XML Code and Message."""
    try:
        body = response.json()
    except ValueError:
        parts = [re.search(f"<{t}>([^<]*)</{t}>", response.text) for t in ("Code", "Message")]
        text = ": ".join(p.group(1) for p in parts if p) or response.text[:200]
        return redact(text.replace("\n", " ").strip())
    body = body if isinstance(body, dict) else {}
    text = body.get("detail") or body.get("details") or body.get("message") or ""
    code = body.get("code")
    return redact(f"{code}: {text}" if code and str(code) not in str(text) else str(text))
