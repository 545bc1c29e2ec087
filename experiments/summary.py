"""Statistics over runs: mean, sd and quantiles (5, 25, 50, 75, 95) per year and group.

Objects here:

- ``QUANTILES`` and ``ID_COLUMNS`` (``run``, ``seed``, ``replicate``: identify a run, never a
  group or a metric).
- ``key_columns(df)``: the group keys of a results table (``year`` and the text columns such as
  ``industry``, ``province``, ``option``).
- ``metric_columns(df)``: the numeric columns that are not keys.
- ``is_additive(column)``: whether a column may be summed across groups (not ratios, prices or
  shares: ``*_per_*``, ``*_frac``, ``*share*``, ``price*``).
- ``summarise(df, by=None, groups=())``: the statistics table (tidy, one row per group and metric).
- ``metric_per_run(tables, spec)`` and ``parse_metric(spec)``: one number per run, e.g.
  ``emissions.net_tco2@2035`` (the sum over all rows of that year) or ``emissions.net_tco2``
  (the sum over all rows and years).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
ID_COLUMNS = ("run", "seed", "replicate")
STAT_COLUMNS = ("n", "mean", "sd") + tuple(f"q{round(q * 100):02d}" for q in QUANTILES)


class MetricError(ValueError):
    """A metric spec that does not name a table column (and year) of the results."""


def key_columns(df: pd.DataFrame, exclude: Sequence[str] = ()) -> list[str]:
    """``year`` plus the non-numeric columns, in table order (ids and ``exclude`` left out)."""
    skip = set(ID_COLUMNS) | set(exclude)
    return [c for c in df.columns if c not in skip and
            (c == "year" or not pd.api.types.is_numeric_dtype(df[c]) or
             pd.api.types.is_bool_dtype(df[c]))]


def metric_columns(df: pd.DataFrame, exclude: Sequence[str] = ()) -> list[str]:
    keys = set(key_columns(df, exclude)) | set(ID_COLUMNS) | set(exclude)
    return [c for c in df.columns if c not in keys and pd.api.types.is_numeric_dtype(df[c])]


def is_additive(column: str) -> bool:
    """Whether summing ``column`` over groups makes sense (no ratios, prices or shares)."""
    c = column.lower()
    return not ("_per_" in c or c.endswith("_frac") or "share" in c or c.startswith("price"))


def summarise(df: pd.DataFrame, by: Sequence[str] | None = None,
              groups: Sequence[str] = ()) -> pd.DataFrame:
    """Statistics over runs of every metric of a results table.

    Args:
        df: a table with a ``run`` column (all runs stacked), e.g. ``result.tables["emissions"]``.
        by: group keys; default all keys of the table (``year``, ``industry``, ``province`` ...).
            Fewer keys first sum each run over the others (additive metrics only).
        groups: extra keys kept in front (the sweep's point columns).

    Returns:
        Columns ``*groups, *by, metric, n, mean, sd, q05, q25, q50, q75, q95`` (``column``
        instead of ``metric`` when the table has a ``metric`` key, like the per-run summary);
        ``sd`` is 0 when ``n`` is 1.
    """
    groups = list(groups)
    native = key_columns(df, exclude=groups)
    by = native if by is None else list(by)
    unknown = [c for c in by if c not in df.columns]
    if unknown:
        raise MetricError(f"cannot group by {unknown[0]!r}; keys of this table: "
                          f"{', '.join(native)}")
    keys = groups + [c for c in by if c not in groups]
    metrics = metric_columns(df, exclude=groups)
    if set(native) - set(keys):                       # collapsing groups: sum within each run
        metrics = [m for m in metrics if is_additive(m)]
        df = df.groupby(["run"] + keys, sort=False, dropna=False)[metrics].sum().reset_index()
    if not metrics or df.empty:
        name = "metric" if "metric" not in keys else "column"
        return pd.DataFrame(columns=keys + [name, *STAT_COLUMNS])
    return _stats(df, keys, metrics)


def _stats(df: pd.DataFrame, keys: list[str], metrics: list[str]) -> pd.DataFrame:
    work = df[keys + metrics].copy() if keys else df[metrics].assign(_all=0)
    gkeys = keys or ["_all"]
    g = work.groupby(gkeys, sort=True, dropna=False)[metrics]
    n = g.count()
    # sample sd (ddof=1); one run spreads nothing: 0, not NaN (``n`` says it is one run)
    parts = {"n": n, "mean": g.mean(), "sd": g.std(ddof=1).mask(n == 1, 0.0)}
    for q, name in zip(QUANTILES, STAT_COLUMNS[3:]):
        parts[name] = g.quantile(q)
    long = pd.concat({k: v.stack(future_stack=True) for k, v in parts.items()}, axis=1)
    name = "metric" if "metric" not in gkeys else "column"   # e.g. the per-run summary table
    long.index = long.index.set_names(gkeys + [name])
    out = long.reset_index()
    if not keys:
        out = out.drop(columns="_all")
    out["n"] = out["n"].astype("int64")
    return out


# -- one number per run ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Metric:
    """``table.column@year``: the sum of ``column`` over the rows of ``year`` (all years if None)."""

    table: str
    column: str
    year: int | None = None

    def __str__(self) -> str:
        return f"{self.table}.{self.column}" + (f"@{self.year}" if self.year is not None else "")


_METRIC = re.compile(r"^\s*([A-Za-z_]\w*)\.([A-Za-z_]\w*)\s*(?:@\s*(\d{4}))?\s*$")


def parse_metric(spec: str | Metric) -> Metric:
    """'emissions.net_tco2@2035' -> Metric('emissions', 'net_tco2', 2035)."""
    if isinstance(spec, Metric):
        return spec
    m = _METRIC.match(str(spec))
    if not m:
        raise MetricError(f"output {spec!r} must look like TABLE.COLUMN@YEAR (e.g. "
                          "emissions.net_tco2@2035) or TABLE.COLUMN (summed over all years)")
    return Metric(m.group(1), m.group(2), int(m.group(3)) if m.group(3) else None)


def check_metric(metric: Metric, tables: dict[str, pd.DataFrame]) -> None:
    """Raise ``MetricError`` unless ``metric`` names a numeric column (and year) of ``tables``."""
    if metric.table not in tables:
        raise MetricError(f"output {metric}: no table {metric.table!r}; tables: "
                          f"{', '.join(sorted(tables))}")
    df = tables[metric.table]
    cols = metric_columns(df)
    if metric.column not in cols:
        raise MetricError(f"output {metric}: no numeric column {metric.column!r} in "
                          f"{metric.table}; columns: {', '.join(cols)}")
    if metric.year is not None:
        if "year" not in df.columns:
            raise MetricError(f"output {metric}: table {metric.table} has no year column; drop "
                              f"the @YEAR")
        years = sorted(set(df["year"].tolist()))
        if years and metric.year not in years:
            raise MetricError(f"output {metric}: year {metric.year} is not simulated; years "
                              f"{years[0]}-{years[-1]}")


def metric_per_run(tables: dict[str, pd.DataFrame], spec: str | Metric,
                   runs: Sequence[int] | None = None) -> pd.Series:
    """The metric of every run (a Series indexed by run; runs without rows give 0)."""
    metric = parse_metric(spec)
    check_metric(metric, tables)
    df = tables[metric.table]
    if metric.year is not None:
        df = df[df["year"] == metric.year]
    out = df.groupby("run")[metric.column].sum()
    if runs is not None:
        out = out.reindex(list(runs), fill_value=0.0)
    return out.astype(float).rename(str(metric))


def metric_from_tables(tables: dict[str, pd.DataFrame], spec: str | Metric) -> float:
    """The metric of one run's tables."""
    metric = parse_metric(spec)
    check_metric(metric, tables)
    df = tables[metric.table]
    if metric.year is not None:
        df = df[df["year"] == metric.year]
    return float(np.sum(df[metric.column].to_numpy(float)))
