"""What the agency authors: ``content/agency.yml`` and ``content/<client>/client.yml``.

Both files are validated by pydantic models. A broken file raises ``ConfigError`` naming the
file, the line, the field path and the bad value, so Diego can fix it without reading code.
Credentials are never written in these files: they are ``${ENV_VAR}`` references resolved at
sync time by ``resolve_credentials``; a literal secret is rejected at load time, in
``credentials:`` and ``options:`` alike, by its name or because it looks random (the rule is
in ``generator.secretlike``). The YAML itself is read by ``generator.yamlsafe``, which refuses
duplicate keys, recursive or exploding aliases, deep nesting and over-long numbers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from generator import formula, secretlike, tag_rules, yamlsafe
from generator.distribution_config import EmailOptions, Notifier, PublishOptions, Recipient
from generator.errors import ConfigError
from generator.metrics import COMPONENTS, KPIS
from generator.schema import ACTION_TYPES, SOURCES

__all__ = [
    "AccountConfig",
    "Agency",
    "AgencyCreatives",
    "BenchmarkRules",
    "Branding",
    "BudgetConfig",
    "Client",
    "ClientCreatives",
    "CreativeTest",
    "CustomKpi",
    "EmailOptions",
    "Funnel",
    "FunnelFilter",
    "FunnelStep",
    "KpiTarget",
    "Notifier",
    "PeerGroup",
    "PublishOptions",
    "Recipient",
    "SiteOptions",
    "ValueRule",
    "load_agency",
    "load_client",
    "load_clients",
    "resolve_credentials",
    "validate_content",
]

_SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"

Color = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Branding(_Model):
    """How a site looks: logo file (relative to the yml), colours."""

    logo: str | None = None
    primary_color: Color = "#1f3a5f"
    accent_color: Color = "#e07a1f"


#: what a file export's columns can map to (money in major units or micros)
FILE_COLUMNS = (
    "date",
    "campaign_id",
    "campaign_name",
    "ad_group_id",
    "ad_group_name",
    "ad_id",
    "ad_name",
    "impressions",
    "clicks",
    "spend",
    "spend_micros",
    "conversions",
    "value",
    "value_micros",
    "video_views",
)


class FileExport(_Model):
    """A CSV or XLSX export of a channel without an API (offline, affiliates, newsletters).

    ``columns`` maps canonical names (``FILE_COLUMNS``) to the export's own headers; only
    ``date`` and a campaign (``campaign_name`` or ``campaign_id``) are required, metrics not
    mapped are 0. ``spend``/``value`` are amounts in major units ("1,234.50", "$12"),
    ``spend_micros``/``value_micros`` whole micros.
    """

    path: Annotated[str, Field(min_length=1)]
    channel: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    format: Literal["csv", "xlsx"] | None = None
    sheet: str | None = None
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ","
    skip_rows: Annotated[int, Field(ge=0, le=100)] = 0
    skip_footer: Annotated[int, Field(ge=0, le=100)] = 0
    date_format: str | None = None
    decimal: Literal[".", ","] = "."
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    action_type: Literal[ACTION_TYPES] = "purchase"  # type: ignore[valid-type]
    columns: dict[str, str]

    @field_validator("columns")
    @classmethod
    def _known_and_enough(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(FILE_COLUMNS))
        if unknown:
            raise ValueError(f"unknown column {unknown[0]!r}; map any of {', '.join(FILE_COLUMNS)}")
        if "date" not in value or not {"campaign_name", "campaign_id"} & set(value):
            raise ValueError("map at least 'date' and 'campaign_name' (or 'campaign_id')")
        for money in ("spend", "value"):
            if money in value and f"{money}_micros" in value:
                raise ValueError(f"map either {money!r} or '{money}_micros', not both")
        return value

    @property
    def kind(self) -> str:
        """csv or xlsx: as configured, else from the file name."""
        return self.format or ("xlsx" if self.path.lower().endswith(".xlsx") else "csv")


class AccountConfig(_Model):
    """One ad or analytics account to sync (``file`` accounts describe their export)."""

    platform: Literal[SOURCES]  # type: ignore[valid-type]
    account_id: Annotated[str, Field(min_length=1, max_length=64)]
    name: str | None = None
    credentials: dict[str, str] = Field(default_factory=dict)
    lookback_days: Annotated[int, Field(ge=0, le=90)] | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    file: FileExport | None = None

    @model_validator(mode="after")
    def _file_only_for_files(self) -> AccountConfig:
        if self.platform == "file" and self.file is None:
            raise ValueError("a 'file' account needs a 'file:' section (path, channel, columns)")
        if self.platform != "file" and self.file is not None:
            raise ValueError("'file:' belongs only to accounts with platform: file")
        return self

    @field_validator("account_id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("credentials", "options")
    @classmethod
    def _secrets_are_references(cls, value: dict, info: ValidationInfo) -> dict:
        kind = "credential" if info.field_name == "credentials" else "option"
        for path, why in secretlike.literal_secrets(value, credentials=kind == "credential"):
            name = re.sub(r"[^A-Z0-9]+", "_", path.upper()).strip("_")
            raise ValueError(
                f"{kind} {path!r} {why}, so it must be an environment reference like "
                f"${{{name}}}, never the secret itself"
            )
        return value


class KpiTarget(_Model):
    """A target for a KPI; ``tolerance`` is the relative band that counts as 'at risk'."""

    target: Annotated[float, Field(gt=0)]
    direction: Literal["higher", "lower"] | None = None
    tolerance: Annotated[float, Field(ge=0, le=1)] = 0.1

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return {"target": value} if isinstance(value, int | float) else value


class CustomKpi(_Model):
    """A KPI defined by the agency as arithmetic over summed components."""

    formula: str
    label: str | None = None
    unit: Literal["percent", "currency", "ratio", "number"] = "ratio"
    higher_is_better: bool = True

    @field_validator("formula")
    @classmethod
    def _parses(cls, value: str) -> str:
        try:
            formula.parse(value, allowed=COMPONENTS)
        except formula.FormulaError as exc:
            raise ValueError(str(exc)) from None
        return value


class ValueRule(_Model):
    """Assigns a value to an action type: a fixed value each, or a multiplier of revenue."""

    action_type: str
    value: Annotated[float, Field(ge=0)] | None = None
    multiplier: Annotated[float, Field(ge=0)] | None = None
    platforms: list[str] | None = None
    campaigns: list[str] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ValueRule:
        if (self.value is None) == (self.multiplier is None):
            raise ValueError("give exactly one of 'value' (per conversion) or 'multiplier'")
        return self


#: what a funnel step may filter on: properties of the GA4 event (``site_events`` columns)
FUNNEL_PROPERTIES = (
    "page_path", "channel", "session_source", "session_medium", "session_campaign",
    "device_category", "country",
)  # fmt: skip
#: breakdown name in client.yml -> what it splits the funnel by (a property of step 1's event)
FUNNEL_BREAKDOWNS = {
    "channel": "channel",
    "source_medium": "source_medium",
    "campaign": "session_campaign",
    "device": "device_category",
    "country": "country",
}
_EVENT_NAME = r"^[A-Za-z][A-Za-z0-9_]{0,39}$"  # GA4's rule for event names


class FunnelFilter(_Model):
    """``page_path contains /checkout``: a condition on a property of the step's event."""

    column: Literal[FUNNEL_PROPERTIES]  # type: ignore[valid-type]
    op: Literal["equals", "not_equals", "contains", "not_contains", "starts_with", "in"]
    value: (
        Annotated[str, Field(max_length=200)]
        | Annotated[list[Annotated[str, Field(max_length=200)]], Field(min_length=1, max_length=50)]
    )

    @model_validator(mode="after")
    def _list_for_in(self) -> FunnelFilter:
        if (self.op == "in") != isinstance(self.value, list):
            raise ValueError("'in' takes a list of values; every other op takes one value")
        return self


class FunnelStep(_Model):
    """One step: an event name, optionally narrowed by filters; written as just the name."""

    event: Annotated[str, Field(pattern=_EVENT_NAME)]
    filters: Annotated[list[FunnelFilter], Field(max_length=5)] = Field(default_factory=list)
    label: Annotated[str, Field(min_length=1, max_length=60)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        return {"event": value} if isinstance(value, str) else value

    def as_spec(self) -> dict[str, Any]:
        """The step as ``analytics.funnels`` takes it."""
        return {"event": self.event, "label": self.label, "filters": [
            {"column": f.column, "op": f.op, "value": f.value} for f in self.filters
        ]}  # fmt: skip


class Funnel(_Model):
    """A conversion funnel of the client's site, counted per user (``analytics.funnels``)."""

    name: Annotated[str, Field(min_length=1, max_length=80)]
    steps: Annotated[list[FunnelStep], Field(min_length=2, max_length=10)]
    window_days: Annotated[int, Field(ge=1, le=90)] = 7
    order: Literal["ordered", "strict", "any"] = "ordered"
    exclusions: Annotated[list[FunnelStep], Field(max_length=5)] = Field(default_factory=list)
    breakdowns: Annotated[
        list[Literal[tuple(FUNNEL_BREAKDOWNS)]],  # type: ignore[valid-type]
        Field(min_length=1, max_length=5),
    ] = Field(default_factory=lambda: ["channel", "device"])

    @field_validator("breakdowns")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a breakdown is listed twice")
        return value


_ID = r"^[a-z0-9][a-z0-9_/-]{0,62}$"
#: platforms a peer group may name: the ad platforms as the report names them (Meta's are two)
AD_PLATFORMS = (
    "google_ads", "facebook", "instagram", "linkedin", "x", "tiktok", "microsoft_ads",
    "pinterest", "snapchat", "amazon_ads", "reddit",
)  # fmt: skip


class BudgetConfig(_Model):
    """A budget to pace against (``budgets:`` in client.yml), in the client's currency.

    ``month`` (YYYY-MM) names the month it is for; without it the budget holds every month.
    ``platform`` and ``campaign`` (an id or a name) narrow it; with neither it is the whole
    account's. ``start``/``end`` are flight dates inside ``month`` (default: the month).
    """

    amount: Annotated[float, Field(gt=0, le=1e12)]
    month: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] | None = None
    platform: Literal[AD_PLATFORMS] | None = None  # type: ignore[valid-type]
    campaign: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    start: date | None = None
    end: date | None = None
    label: Annotated[str, Field(min_length=1, max_length=80)] | None = None

    @model_validator(mode="after")
    def _flight_in_month(self) -> BudgetConfig:
        if (self.start or self.end) and self.month is None:
            raise ValueError("flight dates (start/end) need the budget's month")
        if self.month is not None:
            first = date.fromisoformat(f"{self.month}-01")
            last = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            for day in (self.start, self.end):
                if day is not None and not first <= day < last:
                    raise ValueError(f"flight date {day} is outside {self.month}")
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"the flight ends ({self.end}) before it starts ({self.start})")
        return self


class PeerGroup(_Model):
    """Whom a client is compared with on its Benchmarks page.

    ``industry`` is the level to start from (default: the client's own industry); ``region``
    keeps peers of that region only; ``platforms`` limits the benchmarks to those platforms;
    ``spend_band: same`` keeps peers of the client's own monthly spend band. A cohort too
    small to show relaxes these, in the order spend band, region, parent industry, and the
    page says which level it used.
    """

    industry: Annotated[str, Field(pattern=_ID)] | None = None
    region: Annotated[str, Field(pattern=_ID)] | None = None
    platforms: list[Literal[AD_PLATFORMS]] | None = None  # type: ignore[valid-type]
    spend_band: Literal["any", "same"] = "any"


class BenchmarkRules(_Model):
    """How the agency's own portfolio becomes a peer cohort (``benchmarks:`` in agency.yml).

    The anonymity minimums may be raised, never lowered: a median needs at least 5 other
    companies, quartiles at least 10, and no company may hold more than 30% of a cohort's spend.
    """

    window_days: Annotated[int, Field(ge=28, le=365)] = 90
    min_spend: Annotated[float, Field(ge=0, le=1e9)] = 100.0
    min_impressions: Annotated[int, Field(ge=0, le=10**9)] = 1000
    max_roas: Annotated[float, Field(gt=0, le=1000)] = 50.0
    k_median: Annotated[int, Field(ge=5, le=1000)] = 5
    k_quartiles: Annotated[int, Field(ge=10, le=1000)] = 10
    max_share: Annotated[float, Field(gt=0, le=0.3)] = 0.3
    prior_weight: Annotated[float, Field(ge=0, le=1000)] = 10.0

    @model_validator(mode="after")
    def _quartiles_need_more(self) -> BenchmarkRules:
        if self.k_quartiles < self.k_median:
            raise ValueError("k_quartiles must be at least k_median")
        return self


#: a tag's name: also a column name (``tag_<name>``) and never ``prefix:value`` like automatic tags
_TAG_NAME = re.compile(r"[a-z0-9_-]{1,40}")
_AdId = Annotated[str, Field(min_length=1, max_length=64)]


class CreativeTest(_Model):
    """An A/B test of ads declared in client.yml; the first variant is the control."""

    name: Annotated[str, Field(min_length=1, max_length=80)]
    variants: Annotated[list[_AdId], Field(min_length=2, max_length=10)]
    metric: Literal["ctr", "cvr"] = "cvr"
    start: date
    end: date | None = None

    @field_validator("variants", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        # YAML reads numeric ad ids as numbers; the data's ids are strings
        if not isinstance(value, list):
            return value
        return [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]

    @field_validator("variants")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        for ad in value:
            if value.count(ad) > 1:
                raise ValueError(f"ad {ad!r} is listed twice; each variant is a different ad")
        return value

    @model_validator(mode="after")
    def _in_order(self) -> CreativeTest:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"the test ends ({self.end}) before it starts ({self.start})")
        return self


class ClientCreatives(_Model):
    """How a client's creative images are held and read (``creatives:`` in client.yml).

    ``rights`` says on what terms the agency keeps them (a licence, its end, who to ask); it is
    written into every stored asset's manifest. ``tags`` names the client's own creative tags,
    each a rule of ``generator.tag_rules`` (``discount: "headline contains 'sale' or '%'"``);
    ``tests`` declares A/B tests of ads.
    """

    rights: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    tags: Annotated[dict[str, str], Field(max_length=30)] = Field(default_factory=dict)
    tests: Annotated[list[CreativeTest], Field(max_length=50)] = Field(default_factory=list)

    @field_validator("tags")
    @classmethod
    def _tags_parse(cls, value: dict[str, str]) -> dict[str, str]:
        for name, rule in value.items():
            if ":" in name:
                raise ValueError(
                    f"tag name {name!r} holds ':', which marks the automatic tags (format:, "
                    "platform:, aspect:, ...); name it without one"
                )
            if not _TAG_NAME.fullmatch(name):
                raise ValueError(
                    f"tag name {name!r} must be 1-40 lowercase letters, digits, '_' or '-'"
                )
            try:
                tag_rules.parse(rule)
            except tag_rules.TagRuleError as exc:
                raise ValueError(f"tag {name!r}: {exc}") from None
        return value

    @field_validator("tests")
    @classmethod
    def _test_names_unique(cls, value: list[CreativeTest]) -> list[CreativeTest]:
        names = [t.name.casefold() for t in value]
        for test in value:
            if names.count(test.name.casefold()) > 1:
                raise ValueError(f"two tests are named {test.name!r}; each needs its own name")
        return value

    def rules(self) -> dict[str, tag_rules.TagRule]:
        """The tags' rules, parsed (they were checked when the file was read)."""
        return {name: tag_rules.parse(rule) for name, rule in self.tags.items()}


class AgencyCreatives(_Model):
    """The agency's rules for stored creatives (``creatives:`` in agency.yml): an image is
    deleted ``retention_days`` after its ad last ran (at sync, and by ``creatives prune``)."""

    retention_days: Annotated[int, Field(ge=30, le=3650)] = 400


class SiteOptions(_Model):
    """How client sites are published (``site:`` in agency.yml): ``noindex`` asks search
    engines not to index them (a robots meta tag on every page and a robots.txt)."""

    noindex: bool = True


class Client(_Model):
    """One client of the agency (``content/<slug>/client.yml``)."""

    slug: Annotated[str, Field(pattern=_SLUG)]
    name: Annotated[str, Field(min_length=1, max_length=120)]
    industry: Annotated[str, Field(pattern=_ID)]
    #: where the client does business (peer groups may ask for peers of one region)
    region: Annotated[str, Field(pattern=_ID)] | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    timezone: str
    accounts: Annotated[list[AccountConfig], Field(min_length=1)]
    custom_kpis: dict[str, CustomKpi] = Field(default_factory=dict)
    kpi_targets: dict[str, KpiTarget] = Field(default_factory=dict)
    conversion_value_rules: list[ValueRule] = Field(default_factory=list)
    funnels: list[Funnel] = Field(default_factory=list)
    #: inline, or the name of one of agency.yml's ``peer_groups``
    peer_group: PeerGroup | Annotated[str, Field(pattern=_ID)] | None = None
    branding: Branding = Field(default_factory=Branding)
    creatives: ClientCreatives = Field(default_factory=ClientCreatives)
    recipients: Annotated[list[Recipient], Field(max_length=50)] = Field(default_factory=list)
    report_start: date | None = None
    budgets: Annotated[list[BudgetConfig], Field(max_length=100)] = Field(default_factory=list)
    #: how far a projection may stray from a budget and still be "on pace" (0.1: within 10%)
    pacing_tolerance: Annotated[float, Field(gt=0, le=1)] = 0.1
    folder: Path = Field(default=Path(), exclude=True)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _check_zone(value)

    @field_validator("accounts")
    @classmethod
    def _accounts_unique(cls, value: list[AccountConfig]) -> list[AccountConfig]:
        seen = set()
        for account in value:
            key = (account.platform, account.account_id)
            if key in seen:
                raise ValueError(f"account {account.platform}/{account.account_id} is listed twice")
            seen.add(key)
        return value

    @field_validator("funnels")
    @classmethod
    def _funnel_names_unique(cls, value: list[Funnel]) -> list[Funnel]:
        names = [f.name.casefold() for f in value]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"two funnels are named {name!r}; each needs its own page")
        return value

    @field_validator("kpi_targets")
    @classmethod
    def _targets_known(cls, value: dict[str, KpiTarget], info: ValidationInfo) -> dict:
        known = set(KPIS) | set(info.data.get("custom_kpis") or {})
        for name in value:
            if name not in known:
                raise ValueError(f"unknown KPI {name!r}; known: {', '.join(sorted(known))}")
        return value

    @property
    def commentary(self) -> list[Path]:
        """The agency's own Markdown pages for this client, in name order."""
        return sorted(self.folder.glob("*.md"))


class Agency(_Model):
    """The agency itself (``content/agency.yml``)."""

    name: Annotated[str, Field(min_length=1, max_length=120)]
    #: where the published sites are served (``<base_url>/<client>/<YYYY-MM>/``)
    base_url: Annotated[str, Field(pattern=r"^https?://[^\s\"'<>]+$", max_length=300)] | None = None
    timezone: str = "UTC"
    branding: Branding = Field(default_factory=Branding)
    sender: Email | None = None
    email: EmailOptions = Field(default_factory=EmailOptions)
    notifications: Annotated[list[Notifier], Field(max_length=20)] = Field(default_factory=list)
    publish: PublishOptions = Field(default_factory=PublishOptions)
    fx_rates: str = "fx_rates.csv"
    history_months: Annotated[int, Field(ge=1, le=37)] = 6
    peer_groups: Annotated[
        dict[Annotated[str, Field(pattern=_ID)], PeerGroup], Field(max_length=100)
    ] = Field(default_factory=dict)
    benchmarks: BenchmarkRules = Field(default_factory=BenchmarkRules)
    creatives: AgencyCreatives = Field(default_factory=AgencyCreatives)
    site: SiteOptions = Field(default_factory=SiteOptions)
    folder: Path = Field(default=Path(), exclude=True)

    def peer_group(self, client: Client) -> tuple[str | None, PeerGroup]:
        """The client's peer group, by name from ``peer_groups`` or inline: (name, group).

        Raises:
            ConfigError: the client names a group agency.yml does not define.
        """
        chosen = client.peer_group
        if chosen is None:
            return None, PeerGroup()
        if isinstance(chosen, PeerGroup):
            return None, chosen
        if chosen not in self.peer_groups:
            known = ", ".join(sorted(self.peer_groups)) or "none defined"
            raise ConfigError(
                f"peer group {chosen!r} is not defined in agency.yml's peer_groups ({known})",
                file=str(client.folder / "client.yml"),
                field="peer_group",
                value=chosen,
            )
        return chosen, self.peer_groups[chosen]

    @model_validator(mode="before")
    @classmethod
    def _site_url_is_base_url(cls, data: Any) -> Any:
        """``site_url`` is the older name of ``base_url``; both mean the same."""
        if isinstance(data, dict) and "site_url" in data:
            data = dict(data)
            url = data.pop("site_url")
            data.setdefault("base_url", url)
        return data

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _unique_notifiers(self) -> Agency:
        names = [n.name for n in self.notifications]
        if len(names) != len(set(names)):
            raise ValueError(f"notifications need distinct names (got {', '.join(names)})")
        return self

    def report_url(self, client: str, period: str | None = None) -> str | None:
        """Where a client's published report is (its newest with no period), or None."""
        if self.base_url is None:
            return None
        return f"{self.base_url}/{client}/{period or 'latest'}/"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _check_zone(value)


def load_agency(content: Path) -> Agency:
    """Read ``content/agency.yml``. Raises ``ConfigError`` naming file, line and field."""
    path = Path(content) / "agency.yml"
    return _load(path, Agency, folder=path.parent)


def load_client(path: Path) -> Client:
    """Read one ``client.yml`` (or the folder holding it).

    Raises:
        ConfigError: naming the file, the line, the field path and the bad value; also when
            the slug differs from the folder name.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "client.yml"
    client = _load(path, Client, folder=path.parent)
    if client.slug != path.parent.name:
        raise ConfigError(
            f"slug {client.slug!r} differs from its folder name {path.parent.name!r}; "
            "rename one so they match",
            file=str(path),
            field="slug",
            value=client.slug,
        )
    return client


def load_clients(content: Path, only: str | None = None) -> list[Client]:
    """Every client under ``content/`` (folders holding a client.yml), sorted by slug."""
    paths = sorted(Path(content).glob("*/client.yml"))
    if only is not None:
        paths = [p for p in paths if p.parent.name == only]
        if not paths:
            raise ConfigError(f"no client {only!r} (expected {content}/{only}/client.yml)")
    return [load_client(p) for p in paths]


def validate_content(content: Path) -> list[ConfigError]:
    """Check agency.yml and every client.yml; return all problems instead of stopping."""
    problems: list[ConfigError] = []
    loaded = []
    for load, target in [(load_agency, Path(content))] + [
        (load_client, p) for p in sorted(Path(content).glob("*/client.yml"))
    ]:
        try:
            loaded.append(load(target))
        except ConfigError as exc:
            problems.append(exc)
    agency = next((a for a in loaded if isinstance(a, Agency)), None)
    for client in loaded:
        if agency is not None and isinstance(client, Client):
            try:
                agency.peer_group(client)
            except ConfigError as exc:
                problems.append(exc)
    return problems


def resolve_credentials(
    client: Client, account: AccountConfig, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Replace ``${VAR}`` references in an account's credentials with their values.

    Raises:
        ConfigError: naming the variable (never a value) when it is not set.
    """
    env = os.environ if env is None else env
    resolved = {}
    for key, text in account.credentials.items():
        match = secretlike.ENV_REF.match(text)
        if not match:
            resolved[key] = text
            continue
        if match.group(1) not in env:
            raise ConfigError(
                f"environment variable {match.group(1)} is not set; export it before syncing",
                file=str(client.folder / "client.yml"),
                field=f"accounts[{account.platform}/{account.account_id}].credentials.{key}",
            )
        resolved[key] = env[match.group(1)]
    return resolved


_ENV_ANYWHERE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def resolve_export_path(
    client: Client, account: AccountConfig, env: Mapping[str, str] | None = None
) -> Path:
    """Where a ``file`` account's export is: ``${VAR}``s expanded, relative to the client folder.

    Raises:
        ConfigError: a referenced environment variable is not set.
    """
    assert account.file is not None
    env = os.environ if env is None else env

    def expand(match: re.Match) -> str:
        if match.group(1) not in env:
            raise ConfigError(
                f"environment variable {match.group(1)} is not set; export it before syncing",
                file=str(client.folder / "client.yml"),
                field=f"accounts[file/{account.account_id}].file.path",
            )
        return env[match.group(1)]

    path = Path(_ENV_ANYWHERE.sub(expand, account.file.path)).expanduser()
    return path if path.is_absolute() else client.folder / path


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin)") from None
    return value


def _load(path: Path, model: type[_Model], **extra: Any):
    data, lines = yamlsafe.read_mapping(path)
    try:
        return model.model_validate({**data, **extra})
    except ValidationError as exc:
        raise _config_error(path, exc, lines) from None


def _config_error(path: Path, exc: ValidationError, lines: dict[tuple, int]) -> ConfigError:
    messages, first = [], None
    for error in exc.errors():
        loc = tuple(error["loc"])
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
        secret = "credentials" in loc or "options" in loc
        value = "***" if secret else _show(error.get("input"))
        line = next((lines[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in lines), None)
        at = f"line {line}: " if line else ""
        text = error["msg"].removeprefix("Value error, ")
        shown = "" if secret or error["type"] == "missing" else f" (got {value})"
        messages.append(f"{at}{field or '(top level)'}: {text}{shown}")
        first = first or (field, value)
    text = (
        messages[0]
        if len(messages) == 1
        else "\n  - ".join([f"{len(messages)} problems:", *messages])
    )
    return ConfigError(text, file=str(path), field=first[0], value=first[1])


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
