"""Google Ads: GAQL over ``googleAds:searchStream``, OAuth2 refresh token, developer token.

Reporting is synchronous: one searchStream call per account and date window returns every
row as JSON batches. int64 metrics arrive as strings and are omitted when zero (proto3);
``conversions_value`` is a double in major units. Dates are the account's own days.

GAQL rows carry the campaign, ad group and ad names themselves, removed entities included
(the query filters on no status). A name that comes back empty (proto3 omits it) becomes its
id and is recorded as unresolved (``Connector.fetch``); ads are often legitimately nameless
(responsive search ads) and keep an empty name.

A responsive search ad's ``display_url`` is what Google shows under its headline: the final
URL's domain (without "www.") and ``path1``/``path2`` (developers.google.com/google-ads/api/
docs/responsive-search-ads/overview). It is not part of the version: versions stored before it
was read keep their keys (the lake fills the new column in), and the content that makes a new
version (copy, final URL, image) is as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
import pyarrow as pa

from generator.connectors.auth import OAuth2Refresh
from generator.connectors.base import AccountInfo, Connector
from generator.connectors.normalize import Col, content_version, normalize, utc_now
from generator.connectors.verdicts import Fail, RateLimit, Refresh, Verdict
from generator.errors import ApiVersionRetired, AuthFailed, ConnectorError, ResponseInvalid
from generator.schema import ACTIONS, AD_PERFORMANCE, CREATIVES

__all__ = ["API_VERSION", "SUNSET", "GoogleAds"]

#: The pinned Google Ads API version. Versions live about a year; see
#: developers.google.com/google-ads/api/docs/sunset-dates when bumping.
API_VERSION = "v25"
SUNSET = "2027-07 (estimated; v25 went GA 2026-07-22)"

_IDENTITY = {
    "date": Col("segments.date", "date", required=True),
    "currency": Col("customer.currencyCode", required=True),
    "account_timezone": Col("customer.timeZone", required=True),
    "campaign_id": Col("campaign.id", "id", required=True),
    "ad_group_id": Col("adGroup.id", "id"),
    "ad_id": Col("adGroupAd.ad.id", "id", required=True),
}
PERFORMANCE = {
    **_IDENTITY,
    "account_name": Col("customer.descriptiveName"),
    "campaign_name": Col("campaign.name"),
    "ad_group_name": Col("adGroup.name"),
    "ad_name": Col("adGroupAd.ad.name"),
    "creative_id": Col("adGroupAd.ad.id", "id"),
    "impressions": Col("metrics.impressions", "count", default=0),
    "clicks": Col("metrics.clicks", "count", default=0),
    "spend_micros": Col("metrics.costMicros", "micros", default=0),
    "conversions": Col("metrics.conversions", "number", default=0.0),
    "value_micros": Col("metrics.conversionsValue", "major", default=0),
}
ACTION_FIELDS = {
    **_IDENTITY,
    "action_type": Col("_action_type", required=True),
    "count": Col("metrics.allConversions", "number", default=0.0),
    "value_micros": Col("metrics.allConversionsValue", "major", default=0),
}
CREATIVE_FIELDS = {
    "creative_id": Col("adGroupAd.ad.id", "id", required=True),
    "ad_id": Col("adGroupAd.ad.id", "id", required=True),
    "name": Col("adGroupAd.ad.name"),
    "landing_url": Col("adGroupAd.ad.finalUrls.0"),
    "headline": Col("_copy.headline"),
    "body": Col("_copy.body"),
    "display_url": Col("_copy.display_url"),
    "version": Col("_copy.version", required=True),
    "format": Col("_copy.format", required=True),
    "asset_url": Col("_image.url"),
    "width": Col("_image.widthPixels", "count"),
    "height": Col("_image.heightPixels", "count"),
}
#: Google's ConversionActionCategory -> canonical action type.
ACTION_TYPES = {
    "PURCHASE": "purchase",
    "ADD_TO_CART": "add_to_cart",
    "BEGIN_CHECKOUT": "begin_checkout",
    "SUBMIT_LEAD_FORM": "lead",
    "IMPORTED_LEAD": "lead",
    "QUALIFIED_LEAD": "lead",
    "CONVERTED_LEAD": "lead",
    "BOOK_APPOINTMENT": "lead",
    "REQUEST_QUOTE": "lead",
    "SIGNUP": "signup",
    "CONTACT": "contact",
    "PHONE_CALL_LEAD": "contact",
    "PAGE_VIEW": "page_view",
    "SUBSCRIBE_PAID": "subscribe",
    "DOWNLOAD": "app_install",
}

_SELECT_PERFORMANCE = (
    "segments.date",
    "customer.currency_code",
    "customer.time_zone",
    "customer.descriptive_name",
    "campaign.id",
    "campaign.name",
    "ad_group.id",
    "ad_group.name",
    "ad_group_ad.ad.id",
    "ad_group_ad.ad.name",
    "metrics.impressions",
    "metrics.clicks",
    "metrics.cost_micros",
    "metrics.conversions",
    "metrics.conversions_value",
)
_SELECT_ACTIONS = (
    "segments.date",
    "customer.currency_code",
    "customer.time_zone",
    "campaign.id",
    "ad_group.id",
    "ad_group_ad.ad.id",
    "segments.conversion_action_category",
    "metrics.all_conversions",
    "metrics.all_conversions_value",
)
_SELECT_CREATIVES = (
    "ad_group_ad.ad.id",
    "ad_group_ad.ad.name",
    "ad_group_ad.ad.type",
    "ad_group_ad.ad.final_urls",
    "ad_group_ad.ad.responsive_search_ad.headlines",
    "ad_group_ad.ad.responsive_search_ad.descriptions",
    "ad_group_ad.ad.responsive_search_ad.path1",
    "ad_group_ad.ad.responsive_search_ad.path2",
    "ad_group_ad.ad.responsive_display_ad.headlines",
    "ad_group_ad.ad.responsive_display_ad.descriptions",
    "ad_group_ad.ad.responsive_display_ad.marketing_images",
)
_IMAGE_ASSETS = (
    "SELECT asset.resource_name, asset.image_asset.full_size.url, "
    "asset.image_asset.full_size.width_pixels, asset.image_asset.full_size.height_pixels "
    "FROM asset WHERE asset.type = 'IMAGE'"
)
_RETRY_DELAY = re.compile(r"^(\d+(?:\.\d+)?)s$")


class GoogleAds(Connector):
    platform = "google_ads"
    api_version = API_VERSION
    sunset = SUNSET
    hosts: ClassVar[dict[str, str]] = {
        "api": "https://googleads.googleapis.com",
        "oauth": "https://oauth2.googleapis.com",
    }
    rate = 10.0
    lookback_days = 14
    credential_names = ("developer_token", "client_id", "client_secret", "refresh_token")

    def make_auth(self) -> OAuth2Refresh:
        c = self.credentials
        return OAuth2Refresh(
            self.platform,
            self.url("oauth", "/token"),
            client_id=c["client_id"],
            client_secret=c["client_secret"],
            refresh_token=c["refresh_token"],
            on_rotate=self.on_rotate,
        )

    def classify(self, response: httpx.Response, request: str) -> Verdict | None:
        if response.status_code < 300:
            return None
        error = _error_body(response)
        codes = {k: v for e in _failures(error) for k, v in e.get("errorCode", {}).items()}
        message = str(error.get("message", "")).strip()
        if codes.get("requestError") == "UNSUPPORTED_VERSION" or "is deprecated" in message:
            return Fail(
                ApiVersionRetired(
                    f"Google Ads API {API_VERSION} is retired ({message}); bump API_VERSION in "
                    "generator/connectors/google_ads.py to a current version and re-record its "
                    "fixtures",
                    platform=self.platform,
                    request=request,
                )
            )
        if response.status_code == 429 or codes.get("quotaError") == "RESOURCE_EXHAUSTED":
            return RateLimit("RESOURCE_EXHAUSTED", _retry_delay(error))
        if "authenticationError" in codes and "DEVELOPER_TOKEN" in codes["authenticationError"]:
            return Fail(
                AuthFailed(
                    f"developer token rejected ({codes['authenticationError']}); "
                    "check developer_token",
                    platform=self.platform,
                    request=request,
                )
            )
        if response.status_code == 401:
            return Refresh()
        if codes.get("authorizationError") == "USER_PERMISSION_DENIED":
            return Fail(
                AuthFailed(
                    "no access to this customer; set login_customer_id to the "
                    "manager (MCC) account that links it",
                    platform=self.platform,
                    request=request,
                )
            )
        if response.status_code < 500:
            return Fail(
                ConnectorError(
                    f"HTTP {response.status_code}: {message or codes}",
                    platform=self.platform,
                    request=request,
                )
            )
        return None

    def default_headers(self) -> dict[str, str]:
        headers = {"developer-token": self.credentials["developer_token"]}
        login = re.sub(r"\D", "", self.credentials.get("login_customer_id", ""))
        if login:
            headers["login-customer-id"] = login
        return headers

    async def search(self, customer_id: str, query: str) -> list[dict[str, Any]]:
        """Rows of a GAQL query (all batches of the stream, flattened)."""
        customer = re.sub(r"\D", "", customer_id)
        path = f"/{API_VERSION}/customers/{customer}/googleAds:searchStream"
        batches = await self.api.call(
            "POST",
            self.url("api", path),
            json={"query": query},
            parse=_batches,
        )
        return [row for batch in batches for row in batch.get("results", [])]

    async def account_info(self, account_id: str) -> AccountInfo:
        rows = await self.search(
            account_id,
            "SELECT customer.id, customer.descriptive_name, "
            "customer.currency_code, customer.time_zone FROM customer",
        )
        if not rows:
            raise ResponseInvalid(f"customer {account_id} returned no row", platform=self.platform)
        customer = rows[0].get("customer", {})
        return AccountInfo(
            account_id,
            customer.get("descriptiveName", ""),
            customer.get("currencyCode", ""),
            customer.get("timeZone", ""),
        )

    async def fetch_performance(self, account_id: str, start: date, end: date) -> pa.Table:
        rows = await self.search(account_id, _gaql(_SELECT_PERFORMANCE, start, end))
        return normalize(
            rows,
            PERFORMANCE,
            AD_PERFORMANCE,
            constants=self._constants(account_id),
            platform=self.platform,
            api_version=API_VERSION,
        )

    async def fetch_actions(self, account_id: str, start: date, end: date) -> pa.Table:
        rows = await self.search(account_id, _gaql(_SELECT_ACTIONS, start, end))
        for row in rows:
            category = row.get("segments", {}).get("conversionActionCategory")
            row["_action_type"] = ACTION_TYPES.get(category, "other")
        return normalize(
            rows,
            ACTION_FIELDS,
            ACTIONS,
            constants={**self._constants(account_id), "attribution_window": "default"},
            platform=self.platform,
            api_version=API_VERSION,
        )

    async def fetch_creatives(self, account_id: str) -> pa.Table:
        rows = await self.search(
            account_id, f"SELECT {', '.join(_SELECT_CREATIVES)} FROM ad_group_ad"
        )
        images = {}
        if any(_marketing_image(r) for r in rows):
            for asset in await self.search(account_id, _IMAGE_ASSETS):
                images[asset["asset"]["resourceName"]] = asset["asset"]["imageAsset"]["fullSize"]
        for row in rows:
            asset = _marketing_image(row)
            row["_image"] = images.get(asset or "", {})
            row["_copy"] = _ad_copy(row.get("adGroupAd", {}).get("ad", {}), row["_image"], asset)
        return normalize(
            rows,
            CREATIVE_FIELDS,
            CREATIVES,
            constants={**self._constants(account_id), "first_seen": utc_now().date()},
            platform=self.platform,
            api_version=API_VERSION,
        )

    def _constants(self, account_id: str) -> dict[str, Any]:
        return {
            "platform": "google_ads",
            "source": self.platform,
            "account_id": account_id,
            "fetched_at": utc_now(),
            "api_version": API_VERSION,
        }


def _gaql(fields: tuple[str, ...], start: date, end: date) -> str:
    return (
        f"SELECT {', '.join(fields)} FROM ad_group_ad "
        f"WHERE segments.date BETWEEN '{start.isoformat()}' AND '{end.isoformat()}'"
    )


def _batches(response: httpx.Response) -> list[dict[str, Any]]:
    body = response.json()
    if not isinstance(body, list) or not all(isinstance(b, dict) for b in body):
        raise ValueError("searchStream did not answer a JSON array of batches")
    return body


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    if isinstance(body, list):  # a stream that failed part-way ends with an error element
        body = next((b for b in body if isinstance(b, dict) and "error" in b), {})
    return body.get("error", {}) if isinstance(body, dict) else {}


def _failures(error: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for detail in error.get("details", []) or []:
        yield from detail.get("errors", []) or []


def _retry_delay(error: dict[str, Any]) -> float | None:
    for failure in _failures(error):
        delay = failure.get("details", {}).get("quotaErrorDetails", {}).get("retryDelay", "")
        match = _RETRY_DELAY.match(str(delay))
        if match:
            return float(match.group(1))
    return None


def _marketing_image(row: dict[str, Any]) -> str | None:
    """The resource name of a display ad's first marketing image, if it has one."""
    ad = row.get("adGroupAd", {}).get("ad", {})
    images = ad.get("responsiveDisplayAd", {}).get("marketingImages") or []
    return images[0].get("asset") if images else None


def _ad_copy(ad: dict[str, Any], image: dict[str, Any], asset: str | None) -> dict[str, str | None]:
    """Headline, body, display URL and format of a responsive ad, and a version hashed from
    the content (the display URL aside: see the module docstring).

    The image counts by its asset's resource name, never by its URL (whose host is a CDN's,
    or a sandbox's port, and changes while the image does not): Google image assets are
    immutable, so a new picture is a new asset.
    """
    search = "responsiveSearchAd" in ad
    assets = ad.get("responsiveSearchAd" if search else "responsiveDisplayAd", {})
    texts = {
        k: [a.get("text", "") for a in assets.get(k, [])] for k in ("headlines", "descriptions")
    }
    paths = (assets.get("path1"), assets.get("path2"))
    copy = {
        "headline": " | ".join(texts["headlines"]) or None,
        "body": " ".join(texts["descriptions"]) or None,
        "display_url": _display_url(ad.get("finalUrls"), paths) if search else None,
        "format": "image" if image.get("url") else "text",
    }
    content = (ad.get("name"), copy["headline"], copy["body"], ad.get("finalUrls"), asset)
    # str() of each part, None included, as before: text ads keep the versions already stored
    copy["version"] = content_version(*map(str, content))
    return copy


def _display_url(final_urls: list[str] | None, paths: tuple[str | None, ...]) -> str | None:
    """The URL a search ad shows: the final URL's host without "www.", then its paths."""
    try:
        host = urlsplit(final_urls[0]).hostname if final_urls else None
    except ValueError:  # a malformed final URL shows no domain we could name
        host = None
    if not host:
        return None
    return "/".join([host.removeprefix("www."), *(p for p in paths if p)])
