"""Published benchmark figures with their provenance, and the choice of one for a report.

The seed dataset ``benchmark_data/seed.csv`` ships one row per published number: who
published it, where it was found and how trustworthy the copy is (``grade`` A/B/C,
``provisional``), which edition and data window it belongs to, the platform, network and
industry it describes, and the metric, statistic (median, mean, a quantile) and value as
published. ``parse_file`` reads the same columns from CSV, XLSX or YAML (for importing a new
edition) and reports every bad cell at once, by line and column; ``select`` picks the figure a
report compares a client with, and models its spread.

Errors::

    ReportError
    └── BenchmarkFileError    a benchmark file that cannot be read (file, every bad cell)
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from generator.analytics import _benchmark_files as _files
from generator.analytics._benchmark_files import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    BenchmarkFileError,
)
from generator.analytics.benchmarks import median_from_mean, sigma_from_mean, sigma_from_quantile
from generator.analytics.industries import SEED_PLATFORMS, covers, taxonomy
from generator.errors import ConfigError

__all__ = [
    "COLUMNS",
    "DEFAULT_NETWORKS",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "METRICS",
    "MONEY",
    "RATES",
    "STALE_MONTHS",
    "STATISTICS",
    "BenchmarkFileError",
    "BenchmarkRow",
    "Figure",
    "SigmaDefault",
    "age_months",
    "format_value",
    "parse_file",
    "seed_rows",
    "select",
    "sigma_defaults",
]

COLUMNS: tuple[str, ...] = (
    "source_id", "publisher", "report_title", "url", "retrieved_at", "grade", "edition",
    "published", "window_start", "window_end", "geography", "platform", "network",
    "industry_label", "industry", "metric", "statistic", "value", "unit", "sample_size",
    "sample_unit", "min_per_cell", "definition", "provisional", "notes",
)  # fmt: skip
RATES = ("ctr", "link_ctr", "ctr_all", "cvr", "open_rate", "click_rate", "unsubscribe_rate",
         "placed_order_rate")  # fmt: skip
MONEY = ("cpc", "cpm", "cpa", "cpl")
METRICS: tuple[str, ...] = (*RATES, *MONEY, "roas")
STATISTICS = ("median", "mean", "p10", "p25", "p75", "p90", "top10")
#: a figure published more than this many months before the report's day is marked stale
STALE_MONTHS = 18
#: networks a platform's figure is taken from, in order of preference (others: any network)
DEFAULT_NETWORKS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "google_ads": ("search",),
        "microsoft_ads": ("search",),
        "facebook": ("leads", "traffic", "all"),
        "instagram": ("leads", "traffic", "all"),
        "meta": ("leads", "traffic", "all"),
        "linkedin": ("single-image", "video", "carousel"),
        "tiktok": ("all",),
        "email": ("email-campaign", "flow"),
    }
)
_QUANTILES = {"top10": 0.9, "p90": 0.9, "p75": 0.75, "p25": 0.25, "p10": 0.1}
_SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_REQUIRED = ("source_id", "publisher", "report_title", "grade", "edition", "published",
             "platform", "network", "industry", "metric", "statistic", "value", "unit")  # fmt: skip

Text = Annotated[str, Field(max_length=300)]


class BenchmarkRow(BaseModel):
    """One published number and its provenance (the columns of ``COLUMNS``).

    ``value`` is as published: percent for rates (``unit`` ``%``), currency units for money
    (``unit`` an ISO code, ``USD`` in the seed), a multiple for ROAS (``unit`` ``x``).
    """

    # numbers are text where a column is text: a spreadsheet's 2027, YAML's edition: 2027
    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True
    )

    source_id: Annotated[str, Field(pattern=_SLUG, max_length=64)]
    publisher: Annotated[str, Field(min_length=1, max_length=300)]
    report_title: Annotated[str, Field(min_length=1, max_length=300)]
    url: Text = ""
    retrieved_at: date | None = None
    grade: Literal["A", "B", "C"]
    edition: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")]
    published: date
    window_start: date | None = None
    window_end: date | None = None
    geography: Text = ""
    platform: str
    network: Annotated[str, Field(pattern=_SLUG, max_length=64)]
    industry_label: Text = ""
    industry: str
    metric: Literal[METRICS]  # type: ignore[valid-type]
    statistic: Literal[STATISTICS]  # type: ignore[valid-type]
    value: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    unit: str
    sample_size: Annotated[int, Field(ge=1)] | None = None
    sample_unit: Text = ""
    min_per_cell: Annotated[int, Field(ge=1)] | None = None
    definition: Annotated[str, Field(max_length=1000)] = ""
    provisional: bool = False
    notes: Annotated[str, Field(max_length=2000)] = ""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^\s]+$", value):
            raise ValueError("a URL starts with https:// (or is empty)")
        return value

    @field_validator("window_end")
    @classmethod
    def _window(cls, value: date | None, info: ValidationInfo) -> date | None:
        start, published = info.data.get("window_start"), info.data.get("published")
        if value and start and value < start:
            raise ValueError(f"the window ends before it starts ({start})")
        if value and published and value > published:
            raise ValueError(f"the window ends after the edition was published ({published})")
        return value

    @field_validator("platform")
    @classmethod
    def _platform(cls, value: str) -> str:
        if value not in SEED_PLATFORMS:
            raise ValueError(f"not a platform; use one of {', '.join(SEED_PLATFORMS)}")
        return value

    @field_validator("industry")
    @classmethod
    def _industry(cls, value: str) -> str:
        try:
            taxonomy().chain(value)
        except ConfigError as exc:
            close = getattr(exc, "suggestions", ())
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise ValueError(f"not an industry of industries.yml{hint}") from None
        return value

    @field_validator("value")
    @classmethod
    def _value(cls, value: float, info: ValidationInfo) -> float:
        if info.data.get("metric") in RATES and value > 100:
            raise ValueError("a rate is a percentage, at most 100")
        return value

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str, info: ValidationInfo) -> str:
        metric = info.data.get("metric")
        expected = _unit_rule(metric) if metric else None
        if expected and not re.match(expected[0], value):
            raise ValueError(f"the unit of {metric} is {expected[1]}")
        return value

    @property
    def value_normalised(self) -> float:
        """The value as our KPIs hold it: a fraction for ``%``, as published otherwise."""
        return self.value / 100.0 if self.unit == "%" else self.value

    @property
    def edition_key(self) -> tuple[str, str]:
        """``(source_id, edition)``: what an import adds or replaces as a whole."""
        return self.source_id, self.edition


def _unit_rule(metric: str) -> tuple[str, str]:
    if metric in RATES:
        return r"^%$", "'%'"
    if metric in MONEY:
        return r"^[A-Z]{3}$", "a currency code such as 'USD'"
    return r"^x$", "'x'"


def parse_file(path: Path) -> list[BenchmarkRow]:
    """Read benchmark rows from a ``.csv``, ``.xlsx`` or ``.yml``/``.yaml`` file.

    CSV and XLSX (first sheet): a header row of column names from ``COLUMNS`` (any order;
    the optional ones may be left out), then one row per number. YAML: a list of mappings,
    or ``rows:`` with that list (YAML files are read with the config reader's limits, so at
    most 256 KB). Lines are numbered as an editor or spreadsheet shows them (the header is
    line 1).

    Raises:
        BenchmarkFileError: the file is missing, too large, unreadable or of an unknown
            kind, or has unknown or missing columns, or more than ``MAX_ROWS`` rows; or
            rows with bad cells (every one listed), or one edition with two publication
            dates.
    """
    path = Path(path)
    records, where = _files.read(path, COLUMNS, _REQUIRED)
    rows, problems = [], []
    for record in records:
        try:
            rows.append(BenchmarkRow.model_validate(record.values))
        except ValidationError as exc:
            problems.extend(_problems(exc, record, where))
    problems.extend(_edition_problems(rows, records, where) if not problems else ())
    if problems:
        raise BenchmarkFileError(f"{len(problems)} problem(s):", file=str(path), problems=problems)
    if not rows:
        raise BenchmarkFileError("the file holds no rows", file=str(path))
    return rows


def _problems(exc: ValidationError, record: _files.Record, where: str) -> list[str]:
    out = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "missing (a required column)"
        elif error["type"] == "extra_forbidden":
            message = f"not a column; the columns are {', '.join(COLUMNS)}"
        line = record.lines.get(field, record.line)
        kind = "field" if where == "line" and record.lines else "column"
        shown = "" if error["type"] == "missing" else f" {_shown(error.get('input'))}:"
        out.append(f"{where} {line}, {kind} {field!r}:{shown} {message}")
    return out


def _shown(value: Any) -> str:
    return repr(value[:60] if isinstance(value, str) else value)


def _edition_problems(
    rows: list[BenchmarkRow], records: list[_files.Record], where: str
) -> list[str]:
    """One edition is published on one day: the rows of one edition must agree."""
    first: dict[tuple[str, str], tuple[date, int]] = {}
    out = []
    for row, record in zip(rows, records, strict=True):
        published, line = first.setdefault(row.edition_key, (row.published, record.line))
        if row.published != published:
            out.append(
                f"{where} {record.line}, column 'published': {row.published.isoformat()!r}: "
                f"edition {row.source_id} {row.edition} was published {published} on "
                f"{where} {line}; one edition has one publication date"
            )
    return out


@functools.cache
def seed_rows() -> tuple[BenchmarkRow, ...]:
    """The packaged seed dataset (``benchmark_data/seed.csv``), read once."""
    source = resources.files("generator.analytics").joinpath("benchmark_data/seed.csv")
    with resources.as_file(source) as path:
        return tuple(parse_file(path))


@dataclass(frozen=True)
class SigmaDefault:
    """The default log-normal sigma of a metric family, and where it comes from."""

    family: str
    sigma: float
    provenance: str


@functools.cache
def sigma_defaults() -> Mapping[str, SigmaDefault]:
    """metric -> its family's default sigma (``benchmark_data/sigma.yml``), read once."""
    text = resources.files("generator.analytics").joinpath("benchmark_data/sigma.yml")
    families = yaml.safe_load(text.read_text(encoding="utf-8"))["families"]
    out: dict[str, SigmaDefault] = {}
    for family, spec in families.items():
        default = SigmaDefault(family, float(spec["sigma"]), " ".join(spec["provenance"].split()))
        for metric in spec["metrics"]:
            if metric not in METRICS or metric in out:
                raise ConfigError(f"{metric!r} is unknown or in two families", file="sigma.yml")
            out[metric] = default
    if missing := set(METRICS) - set(out):
        raise ConfigError(f"no family for {sorted(missing)}", file="sigma.yml")
    return MappingProxyType(out)


def format_value(value: float, unit: str) -> str:
    """A published value as a reader writes it: ``6.64%``, ``$16.34``, ``3.5x``, ``12 EUR``."""
    if unit == "%":
        return f"{value:g}%"
    if unit == "x":
        return f"{value:g}x"
    return f"${value:,.2f}" if unit == "USD" else f"{value:,.2f} {unit}"


def age_months(published: date, as_of: date) -> int:
    """Whole months from ``published`` to ``as_of`` (0 when not later)."""
    months = (as_of.year - published.year) * 12 + as_of.month - published.month
    return max(0, months - (as_of.day < published.day))


@dataclass(frozen=True)
class Figure:
    """The published figure a client is compared with, and its modelled spread.

    Attributes:
        row: the row the median comes from (its provenance, edition, statistic, metric).
        median: normalised (a fraction for rates, currency units for money).
        sigma: log-normal sigma of the distribution.
        sigma_source: where sigma comes from, in words.
        level: the industry id of the figure (the client's own, or a parent of it).
        converted: the median was derived from a published mean.
        provisional: the row is provisional (a conflicting or second-hand number).
        age_months: months from the edition's publication to the report's day.
        stale: ``age_months > STALE_MONTHS``.
    """

    row: BenchmarkRow
    median: float
    sigma: float
    sigma_source: str
    level: str
    converted: bool
    provisional: bool
    age_months: int
    stale: bool


def select(
    rows: Iterable[BenchmarkRow],
    *,
    platform: str,
    metric: str,
    industries: Sequence[str],
    as_of: date,
    network: str | None = None,
) -> Figure | None:
    """The figure to compare a client's ``metric`` on ``platform`` with, on day ``as_of``.

    1. Only editions published on or before ``as_of`` count: an edition not yet published
       is never used, so a monthly trend uses the edition in force in each month.
    2. The row's platform must cover ``platform`` (``search`` covers google_ads and
       microsoft_ads, ``meta`` covers facebook and instagram; see ``industries.covers``).
    3. Metric aliases, in order of preference: ``cpa`` also takes ``cpl`` and ``cpl`` takes
       ``cpa`` (WordStream's CPL is cost per conversion, whatever the advertiser counts as
       one: the row's ``definition`` says which); ``ctr`` on facebook/instagram prefers
       ``link_ctr``, then ``ctr``, then ``ctr_all``.
    4. Networks: ``network`` if given, else ``DEFAULT_NETWORKS`` in order (search for
       google_ads/microsoft_ads, so never display; leads, traffic, then all objectives for
       Meta; single image, video, carousel for LinkedIn; campaigns, then flows for email);
       any network for a platform not listed there.
    5. ``industries`` is walked in order (a taxonomy chain, most specific first); at the
       first level with a median or mean, the newest edition (latest ``published``; on a
       tie the better grade) is taken. Editions at most ``STALE_MONTHS`` old are tried
       first at every level: a current figure for a parent industry is preferred to a
       stale one for the client's own (a 2017 apparel CTR is not today's benchmark); only
       when no level has a current figure is a stale one used, and marked ``stale``.
       Within the edition: the preferred metric alias, then network, then a median over a
       mean, then a non-provisional row, a better grade, the file's order.
    6. A median is used as published; a mean is converted (``median_from_mean``,
       ``converted=True``). Sigma comes from a second point of the same cell (source,
       edition, platform, network, industry, metric, geography): a published mean beside
       the median (``sigma_from_mean``), else a P90 or top 10% (taken as the P90), P75, P25
       or P10 beside the median (``sigma_from_quantile``); otherwise, and always for a
       converted mean, the default of the metric's family from ``sigma.yml``.

    Returns:
        The figure, or None when no row matches at any level.
    """
    metrics = _metric_aliases(metric, platform)
    related = tuple(r for r in rows if r.metric in metrics)  # the cheap cut first
    networks = (network,) if network else DEFAULT_NETWORKS.get(platform)
    pool = [
        r
        for r in related
        if r.published <= as_of
        and r.statistic in ("median", "mean")
        and covers(r.platform, platform)
        and (networks is None or r.network in networks)
    ]
    fresh = [r for r in pool if age_months(r.published, as_of) <= STALE_MONTHS]
    for candidates in (fresh, pool):  # a current figure of a parent level beats a stale one
        for level in industries:
            here = [r for r in candidates if r.industry == level]
            if not here:
                continue
            newest = max(here, key=lambda r: (r.published, -ord(r.grade))).edition_key
            edition = [r for r in here if r.edition_key == newest]
            chosen = min(edition, key=lambda r: _preference(r, metrics, networks))
            return _figure(chosen, related, as_of)
    return None


def _metric_aliases(metric: str, platform: str) -> tuple[str, ...]:
    if metric == "ctr" and platform in ("facebook", "instagram", "meta"):
        return ("link_ctr", "ctr", "ctr_all")
    return {"cpa": ("cpa", "cpl"), "cpl": ("cpl", "cpa")}.get(metric, (metric,))


def _preference(row: BenchmarkRow, metrics: tuple, networks: tuple | None) -> tuple:
    network = networks.index(row.network) if networks else 0
    return (metrics.index(row.metric), network, row.statistic != "median", row.provisional,
            row.grade)  # fmt: skip


def _figure(chosen: BenchmarkRow, rows: tuple[BenchmarkRow, ...], as_of: date) -> Figure:
    cell = [r for r in rows if _same_cell(r, chosen) and r is not chosen]
    sigma, source = _sigma(chosen, cell)
    if chosen.statistic == "median":
        median, converted = chosen.value_normalised, False
    else:
        median, converted = median_from_mean(chosen.value_normalised, sigma), True
    age = age_months(chosen.published, as_of)
    return Figure(
        row=chosen,
        median=median,
        sigma=sigma,
        sigma_source=source,
        level=chosen.industry,
        converted=converted,
        provisional=chosen.provisional,
        age_months=age,
        stale=age > STALE_MONTHS,
    )


def _same_cell(a: BenchmarkRow, b: BenchmarkRow) -> bool:
    keys = ("source_id", "edition", "platform", "network", "industry", "metric", "geography")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


def _sigma(chosen: BenchmarkRow, cell: list[BenchmarkRow]) -> tuple[float, str]:
    if chosen.statistic == "median":
        median = chosen.value_normalised
        shown = format_value(chosen.value, chosen.unit)
        points = [r for r in cell if r.statistic in _SECOND_POINTS]
        for other in sorted(points, key=lambda r: _SECOND_POINTS.index(r.statistic)):
            try:
                if other.statistic == "mean":
                    sigma = sigma_from_mean(other.value_normalised, median)
                else:
                    sigma = sigma_from_quantile(
                        median, other.value_normalised, _QUANTILES[other.statistic]
                    )
            except ValueError:  # the two points do not fit one log-normal
                continue
            if math.isfinite(sigma) and sigma > 0:
                return sigma, _pair_text(other, shown)
    default = sigma_defaults()[chosen.metric]
    return default.sigma, f"default for {default.family} ({default.sigma:g}): {default.provenance}"


_SECOND_POINTS = ("mean", "top10", "p90", "p75", "p25", "p10")
_STAT_WORDS = {"mean": "mean", "top10": "top 10% (taken as the 90th percentile)",
               "p90": "90th percentile", "p75": "75th percentile", "p25": "25th percentile",
               "p10": "10th percentile"}  # fmt: skip


def _pair_text(other: BenchmarkRow, median: str) -> str:
    value = format_value(other.value, other.unit)
    word = _STAT_WORDS[other.statistic]
    if other.statistic == "mean":
        return f"from this source's mean {value} and median {median}"
    return f"from this source's median {median} and {word} {value}"
