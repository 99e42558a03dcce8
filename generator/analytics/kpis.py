"""KPIs as ratios of sums, at any grain, with null for a zero denominator.

``compute(frame, by=[...], kpis=[...])`` sums the canonical components per group and derives
each KPI from the sums (the definitions live in ``generator.metrics``). Money KPIs come out in
major units. A frame mixing currencies is refused unless ``currency`` is a grouping column:
convert to the reporting currency first (``analytics.currency``). The time grains ``week``
(ISO, starting Monday), ``month`` (``YYYY-MM``), ``quarter`` (``YYYY-Qn``) and ``year`` are
derived from ``date`` when the frame has no column of that name.

For data too large for pandas, ``rollups(data, {"day": ["date"], ...})`` runs one DuckDB
group-by (``rollup_sql``) over a frame, an Arrow table, a DuckDB connection or the lake's
query function, down to the finest grain asked for (time grains always from ``date``, plus
``currency``), converts currency on that small result if asked, and then derives every grain
with ``compute``: the same sums and the same definitions, so the same numbers. (Grouping by
every grain's columns at once costs little: an ad-day table has few campaigns per day.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from generator import formula
from generator.analytics.currency import RateTable, to_currency
from generator.errors import ReportError
from generator.metrics import COMPONENTS, KPIS

__all__ = [
    "COMPONENT_COLUMNS",
    "TIME_GRAINS",
    "change",
    "compute",
    "deltas",
    "ratio",
    "rollup_sql",
    "rollups",
    "summarize",
]

#: Component name -> canonical column it is summed from (money in micros).
COMPONENT_COLUMNS = {
    "impressions": "impressions",
    "clicks": "clicks",
    "spend": "spend_micros",
    "conversions": "conversions",
    "value": "value_micros",
    "video_views": "video_views",
}
_MICROS = {"spend", "value"}
#: Components summed as exact integers (the others, ``conversions``, are fractional).
_INTEGER = {"impressions", "clicks", "spend_micros", "value_micros", "video_views"}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: Grains derived from ``date`` when a frame has no column of that name.
TIME_GRAINS: dict[str, Callable[[pd.Series], pd.Series]] = {
    "week": lambda days: (days - pd.to_timedelta(days.dt.day_of_week, unit="D")).dt.date,
    "month": lambda days: days.dt.strftime("%Y-%m"),
    "quarter": lambda days: days.dt.year.astype(str) + "-Q" + days.dt.quarter.astype(str),
    "year": lambda days: days.dt.year,
}


def ratio(numerator: pd.Series, denominator: pd.Series, scale: float = 1.0) -> pd.Series:
    """``numerator / denominator * scale`` as nullable floats; a zero denominator gives <NA>."""
    num = pd.to_numeric(numerator).astype("Float64")
    den = pd.to_numeric(denominator).astype("Float64")
    out = (num / den.where(den != 0)) * scale
    return out.astype("Float64")


def summarize(frame: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Summed components per group, money in major units (spend, value).

    Components whose column is absent are left out. Raises ``ReportError`` when the
    frame holds several currencies and ``currency`` is not among ``by``, or a component
    is negative (a count or an amount below zero is a broken row, not a number to sum).
    """
    by = list(by)
    frame = _with_time_grains(frame, by)
    _check_columns(frame, by)
    _check_currency(frame, by)
    present = {name: col for name, col in COMPONENT_COLUMNS.items() if col in frame.columns}
    if not present:
        raise ReportError(
            f"the frame has none of the KPI components ({', '.join(COMPONENT_COLUMNS.values())})"
        )
    _check_signs(frame, present.values())
    data = frame[by + list(present.values())].rename(columns={v: k for k, v in present.items()})
    sums = (
        data.groupby(by, dropna=False, sort=True).sum(min_count=0).reset_index()
        if by
        else (data.sum(min_count=0).to_frame().T)
    )
    for name in present:
        if name in _MICROS:
            sums[name] = sums[name].astype("float64") / 1_000_000
    return sums


def compute(
    frame: pd.DataFrame,
    by: Sequence[str] = (),
    kpis: Sequence[str] | None = None,
    *,
    custom: Mapping[str, str] | None = None,
    components: bool = False,
) -> pd.DataFrame:
    """KPIs per group of ``by`` (all standard KPIs when ``kpis`` is None).

    Args:
        frame: canonical rows (impressions, clicks, spend_micros, conversions, value_micros).
        by: grouping columns; empty for one total row.
        kpis: names of standard or custom KPIs to compute.
        custom: name -> formula over components (client.yml's custom_kpis).
        components: also return the summed components.

    Returns:
        A new DataFrame: the ``by`` columns, [components], one nullable-float column per KPI.
    """
    custom = dict(custom or {})
    names = list(KPIS) + list(custom) if kpis is None else list(kpis)
    unknown = [k for k in names if k not in KPIS and k not in custom]
    if unknown:
        raise ReportError(f"unknown KPI {unknown[0]!r}; known: {', '.join([*KPIS, *custom])}")
    sums = summarize(frame, by)
    out = sums[list(by)].copy()
    if components:
        for name in COMPONENTS:
            if name in sums:
                out[name] = sums[name]
    for name in names:
        out[name] = _kpi(sums, name, custom)
    return out


def change(current: pd.Series | float, previous: pd.Series | float):
    """Relative change ``current / previous - 1``; null when previous is zero or missing."""
    if isinstance(current, pd.Series) or isinstance(previous, pd.Series):
        return ratio(pd.Series(current), pd.Series(previous)) - 1
    if (
        previous is None
        or pd.isna(previous)
        or previous == 0
        or current is None
        or pd.isna(current)
    ):
        return None
    return float(current) / float(previous) - 1


def deltas(
    current: pd.DataFrame,
    previous: pd.DataFrame,
    by: Sequence[str] = (),
    kpis: Sequence[str] | None = None,
    *,
    custom: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Period over period: each component and KPI now, before, and its relative change.

    Returns:
        A new frame: the ``by`` columns, then per measure ``m`` the columns ``m``,
        ``m_previous`` and ``m_change`` (``current / previous - 1``, null when the previous
        value is zero or missing). Groups present in only one period have nulls on the other.
    """
    now = compute(current, by, kpis, custom=custom, components=True)
    before = compute(previous, by, kpis, custom=custom, components=True)
    keys = list(by)
    merged = (
        now.merge(before, on=keys, how="outer", suffixes=("", "_previous"), sort=True)
        if keys
        else now.merge(before, how="cross", suffixes=("", "_previous"))
    )
    measures = [c for c in now.columns if c not in keys]
    out = merged[keys].copy()
    for name in measures:
        out[name] = merged[name].astype("Float64")
        out[f"{name}_previous"] = merged[f"{name}_previous"].astype("Float64")
        out[f"{name}_change"] = change(out[name], out[f"{name}_previous"])
    return out


def rollup_sql(
    keys: Sequence[str],
    components: Sequence[str],
    *,
    source: str = "ad_performance",
    where: str | None = None,
) -> str:
    """DuckDB SQL summing canonical ``components`` (column names) per group of ``keys``.

    Integer components are summed exactly and returned as BIGINT; missing values count as 0,
    as in ``summarize``. ``where`` is an optional SQL condition (use ``?`` parameters).

    Raises:
        ReportError: for a key, component or source that is not a plain identifier.
    """
    for name in (source, *keys, *components):
        _identifier(name)
    sums = [
        f'CAST(COALESCE(SUM("{c}"), 0) AS {"BIGINT" if c in _INTEGER else "DOUBLE"}) AS "{c}"'
        for c in components
    ]
    select = ", ".join([*(f'"{k}"' for k in keys), *sums])
    filtered = f" WHERE {where}" if where else ""
    grouped = " GROUP BY ALL" if keys else ""
    return f'SELECT {select} FROM "{source}"{filtered}{grouped}'


def rollups(
    data,
    grains: Mapping[str, Sequence[str]],
    kpis: Sequence[str] | None = None,
    *,
    custom: Mapping[str, str] | None = None,
    components: bool = False,
    source: str = "ad_performance",
    where: str | None = None,
    params: Sequence[object] | None = None,
    currency: str | None = None,
    rates: RateTable | None = None,
) -> dict[str, pd.DataFrame]:
    """KPIs at several grains from one DuckDB query over ``data``.

    The query sums to the finest grouping all grains derive from (time grains always from
    ``date``, plus ``currency`` when the data has it); each grain is then computed from that
    small result with ``compute``.

    Args:
        data: a DataFrame or Arrow table (queried in memory), a DuckDB connection holding a
            relation named ``source``, or a function ``(sql, params) -> Arrow table`` such as
            ``Lake.query`` (assumed to hold the canonical columns; probed only if not).
        grains: name -> grouping columns, e.g. ``{"day": ["date"], "month": ["month"]}``.
        kpis, custom, components: as for ``compute``.
        where, params: an optional SQL filter and its ``?`` parameters.
        currency, rates: convert spend and value to ``currency`` with ``rates`` before
            summing across accounts (the base is then grouped by date and currency too).

    Returns:
        Grain name -> the frame ``compute`` returns for that grain.

    Raises:
        ReportError: for a grain column the data lacks, a failing query, data without KPI
            components, mixed currencies without ``rates``, or a missing rate.
    """
    if (currency is None) != (rates is None):
        raise ReportError("give both currency and rates to convert, or neither")
    run, columns = _runner(data, _identifier(source))
    keys = _base_keys(grains, convert=rates is not None)
    base = _base(run, columns, keys, source=source, where=where, params=params)
    if rates is not None:
        money = [c for c in ("spend_micros", "value_micros") if c in base.columns]
        base = to_currency(base, currency, rates, money=money)
    return {
        name: compute(base, by, kpis, custom=custom, components=components)
        for name, by in grains.items()
    }


def _base(run, columns: set[str] | None, keys: list[str], **query) -> pd.DataFrame:
    """The summed base table; an opaque source is first tried with the canonical columns."""
    if columns is None:
        try:
            canonical = list(dict.fromkeys([*keys, "currency"]))
            sql = rollup_sql(canonical, list(COMPONENT_COLUMNS.values()), **_sql(query))
            return run(sql, query["params"]).to_pandas()
        except ReportError:  # not canonical after all: look at what it has
            columns = set(run(f'SELECT * FROM "{query["source"]}" LIMIT 0', None).column_names)
    missing = [k for k in keys if k not in columns]
    if missing:
        raise ReportError(f"cannot group by {missing[0]!r}: the data has no such column")
    present = [c for c in COMPONENT_COLUMNS.values() if c in columns]
    if not present:
        raise ReportError(
            f"the data has none of the KPI components ({', '.join(COMPONENT_COLUMNS.values())})"
        )
    # currency is grouped by whenever present, so that compute can refuse mixed currencies
    keys = [*keys, "currency"] if "currency" in columns and "currency" not in keys else keys
    return run(rollup_sql(keys, present, **_sql(query)), query["params"]).to_pandas()


def _sql(query: dict) -> dict:
    return {"source": query["source"], "where": query["where"]}


def _base_keys(grains: Mapping[str, Sequence[str]], *, convert: bool) -> list[str]:
    """The finest grouping every grain can be derived from."""
    keys = ["date" if column in TIME_GRAINS else column for by in grains.values() for column in by]
    if convert:
        keys += ["date", "currency"]
    return list(dict.fromkeys(keys))


def _identifier(name: str) -> str:
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ReportError(f"{name!r} is not a plain column or table name")
    return name


def _runner(data, source: str):
    """A query function over ``data`` and the columns it has (None when unknown)."""
    if isinstance(data, pd.DataFrame | pa.Table):
        columns = set(data.columns) if isinstance(data, pd.DataFrame) else set(data.column_names)
        return (lambda sql, params: _query(data, source, sql, params)), columns
    if isinstance(data, duckdb.DuckDBPyConnection):
        columns = set(_fetch(data, f'SELECT * FROM "{source}" LIMIT 0', None).column_names)
        return (lambda sql, params: _fetch(data, sql, params)), columns
    if callable(data):
        return (lambda sql, params: _call(data, sql, params)), None
    raise ReportError(
        "rollups needs a DataFrame, an Arrow table, a DuckDB connection or a query function, "
        f"not {type(data).__name__}"
    )


def _query(table, source: str, sql: str, params) -> pa.Table:
    with duckdb.connect() as con:
        con.register(source, table)
        return _fetch(con, sql, params)


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, params) -> pa.Table:
    try:
        return con.sql(sql, params=list(params or [])).to_arrow_table()
    except duckdb.Error as exc:
        raise ReportError(f"the KPI query failed: {exc}") from exc


def _call(function, sql: str, params) -> pa.Table:
    try:
        result = function(sql, list(params or []))
    except duckdb.Error as exc:
        raise ReportError(f"the KPI query failed: {exc}") from exc
    return pa.Table.from_pandas(result) if isinstance(result, pd.DataFrame) else result


def _with_time_grains(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """``frame`` plus the time grains of ``by`` it lacks, derived from its dates."""
    wanted = [g for g in by if g in TIME_GRAINS and g not in frame.columns]
    if not wanted or "date" not in frame.columns:
        return frame
    codes, days = pd.factorize(frame["date"])
    if (codes < 0).any():
        raise ReportError(f"cannot derive {wanted[0]!r}: a row has no date")
    # derived once per distinct day, then spread: cheap even for millions of rows
    stamps = pd.Series(pd.to_datetime(np.asarray(days)))
    return frame.assign(**{g: TIME_GRAINS[g](stamps).to_numpy()[codes] for g in wanted})


def _kpi(sums: pd.DataFrame, name: str, custom: Mapping[str, str]) -> pd.Series:
    if name in KPIS:
        k = KPIS[name]
        missing = [c for c in (k.numerator, k.denominator) if c not in sums]
        if missing:
            raise ReportError(f"KPI {name} needs the {missing[0]!r} component")
        return ratio(sums[k.numerator], sums[k.denominator], k.scale)
    parsed = formula.parse(custom[name], allowed=COMPONENTS)
    missing = sorted(parsed.names - set(sums.columns))
    if missing:
        raise ReportError(f"custom KPI {name} ({custom[name]!r}) needs {missing[0]!r}")
    values = parsed.evaluate({n: sums[n].to_numpy(dtype="float64") for n in parsed.names})
    series = pd.Series(np.atleast_1d(values), index=sums.index, dtype="Float64")
    return series.mask(series.isna() | ~np.isfinite(series.fillna(0).to_numpy(dtype=float)))


def _check_columns(frame: pd.DataFrame, by: Sequence[str]) -> None:
    missing = [c for c in by if c not in frame.columns]
    if missing:
        raise ReportError(f"cannot group by {missing[0]!r}: the frame has no such column")


def _check_signs(frame: pd.DataFrame, columns) -> None:
    for column in columns:
        negative = (frame[column] < 0).to_numpy(dtype=bool, na_value=False)
        if negative.any():
            row = int(np.argmax(negative))
            raise ReportError(
                f"{column} is negative in row {row} ({frame[column].iloc[row]}); "
                "counts and amounts cannot be below zero"
            )


def _check_currency(frame: pd.DataFrame, by: Sequence[str]) -> None:
    if "currency" in frame.columns and "currency" not in by and frame["currency"].nunique() > 1:
        found = ", ".join(sorted(frame["currency"].dropna().unique()))
        raise ReportError(
            f"the rows mix currencies ({found}); convert them to the reporting "
            "currency before summing"
        )
