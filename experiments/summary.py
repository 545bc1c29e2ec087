"""Statistics over runs: mean, sd and quantiles (5, 25, 50, 75, 95) per year and group.

Objects here:

- ``QUANTILES`` and ``ID_COLUMNS`` (``run``, ``seed``, ``replicate``: identify a run, never a
  group or a metric).
- ``key_columns(df)``: the group keys of a results table (``year`` and the text columns such as
  ``industry``, ``province``, ``option``).
- ``metric_columns(df)``: the numeric columns that are not keys.
- ``is_additive(column)``: whether a column may be summed across groups (not ratios, prices or
  shares: ``*_per_*``, ``*_frac``, ``*share*``, ``price*``; ``sim.units.is_ratio``).
- ``summarise(df, by=None, groups=())``: the statistics table (tidy, one row per group, metric
  and unit; rows of different units are never added).
- ``metric_per_run(tables, spec)`` and ``parse_metric(spec)``: one number per run, e.g.
  ``emissions.net_tco2@2035`` (the sum over all rows of that year), ``emissions.net_tco2``
  (the sum over all rows and years), ``emissions.scope1_tco2@2025[industry=steel|cement]``
  (filtered rows) or a ratio of sums of such terms (the language is stated above ``Term``);
  refused for a term whose rows mix units; ``metric_by_year`` moves a metric over the years (a trajectory), ``check_metric`` says why a
  metric cannot be read from some tables; ``MetricReader`` does all of these for many metrics
  over the same tables, aggregating each term once.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
import pandas as pd

from zcf.sim.units import (ROW_UNITS, UNIT_COLUMNS, UnitError, is_ratio, one_unit,
                           row_unit_column, unit_of)

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
ID_COLUMNS = ("run", "seed", "replicate")
STAT_COLUMNS = ("n", "mean", "sd") + tuple(f"q{round(q * 100):02d}" for q in QUANTILES)


class MetricError(ValueError):
    """A metric spec that does not name a table column (and year) of the results."""


def key_columns(df: pd.DataFrame, exclude: Sequence[str] = ()) -> list[str]:
    """``year`` plus the non-numeric columns, in table order (ids, unit columns such as
    ``output_unit`` and ``exclude`` left out)."""
    skip = set(ID_COLUMNS) | set(UNIT_COLUMNS) | set(exclude)
    return [c for c in df.columns if c not in skip and
            (c == "year" or not pd.api.types.is_numeric_dtype(df[c]) or
             pd.api.types.is_bool_dtype(df[c]))]


def metric_columns(df: pd.DataFrame, exclude: Sequence[str] = ()) -> list[str]:
    keys = set(key_columns(df, exclude)) | set(ID_COLUMNS) | set(UNIT_COLUMNS) | set(exclude)
    return [c for c in df.columns if c not in keys and pd.api.types.is_numeric_dtype(df[c])]


def is_additive(column: str) -> bool:
    """Whether summing ``column`` over groups makes sense (no ratios, prices or shares)."""
    return not is_ratio(column)


def summarise(df: pd.DataFrame, by: Sequence[str] | None = None,
              groups: Sequence[str] = ()) -> pd.DataFrame:
    """Statistics over runs of every metric of a results table.

    Args:
        df: a table with a ``run`` column (all runs stacked), e.g. ``result.tables["emissions"]``.
        by: group keys; default all keys of the table (``year``, ``industry``, ``province`` ...).
            Fewer keys first sum each run over the others (additive metrics only), and only
            over rows of one unit: a quantity whose unit changes by row (``output`` with
            ``output_unit``, ``capacity`` with ``capacity_unit``) is summed per unit.
        groups: extra keys kept in front (the sweep's point columns).

    Returns:
        Columns ``*groups, *by, metric, unit, n, mean, sd, q05, q25, q50, q75, q95`` (``column``
        instead of ``metric`` when the table has a ``metric`` key, like the per-run summary,
        whose own ``unit`` key then stands); ``sd`` is 0 when ``n`` is 1.
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
    collapse = bool(set(native) - set(keys))
    if collapse:
        metrics = [m for m in metrics if is_additive(m)]
    name = "metric" if "metric" not in keys else "column"   # e.g. the per-run summary table
    unit = "unit" not in keys
    if not metrics or df.empty:
        return pd.DataFrame(columns=keys + [name] + (["unit"] if unit else []) + list(STAT_COLUMNS))
    parts = []
    for unit_col, ms in _by_unit_column(df, metrics).items():
        cols = keys + ([unit_col] if unit_col else [])
        part = df
        if collapse:                                   # sum within each run (and unit)
            part = df.groupby(["run"] + cols, sort=False, dropna=False)[ms].sum().reset_index()
        st = _stats(part, cols, ms, name)
        if unit_col:
            st = st.rename(columns={unit_col: "unit"})
            st["unit"] = [ROW_UNITS[m][1].format(u) for m, u in zip(st[name], st["unit"])]
        elif unit:
            st["unit"] = st[name].map(unit_of)
        parts.append(st)
    out = pd.concat(parts, ignore_index=True)
    order = {m: i for i, m in enumerate(metrics)}
    out = out.sort_values(keys + [name], key=lambda c: c.map(order) if c.name == name else c,
                          kind="stable").reset_index(drop=True)
    front = keys + [name] + (["unit"] if unit else [])
    return out[front + list(STAT_COLUMNS)]


def _by_unit_column(df: pd.DataFrame, metrics: list[str]) -> dict[str | None, list[str]]:
    """Metrics grouped by the unit column that qualifies them (``None``: unit in the name)."""
    out: dict[str | None, list[str]] = {}
    for m in metrics:
        out.setdefault(row_unit_column(df, m), []).append(m)
    return out


def _stats(df: pd.DataFrame, keys: list[str], metrics: list[str], name: str) -> pd.DataFrame:
    work = df[keys + metrics].copy() if keys else df[metrics].assign(_all=0)
    gkeys = keys or ["_all"]
    g = work.groupby(gkeys, sort=True, dropna=False)[metrics]
    n = g.count()
    # sample sd (ddof=1); one run spreads nothing: 0, not NaN (``n`` says it is one run)
    parts = {"n": n, "mean": g.mean(), "sd": g.std(ddof=1).mask(n == 1, 0.0)}
    for q, stat in zip(QUANTILES, STAT_COLUMNS[3:]):
        parts[stat] = g.quantile(q)
    long = pd.concat({k: v.stack(future_stack=True) for k, v in parts.items()}, axis=1)
    long.index = long.index.set_names(gkeys + [name])
    out = long.reset_index()
    if not keys:
        out = out.drop(columns="_all")
    out["n"] = out["n"].astype("int64")
    return out


# -- one number per run: the metric language ------------------------------------------------------
#
#   METRIC := SUM [ "/" SUM ]                      a ratio of two sums (e.g. a share, a footprint);
#                                                  each side may stand in parentheses
#   SUM    := TERM { ("+" | "-") TERM }            a sum or difference of terms
#   TERM   := TABLE "." COLUMN [ "@" YEAR ] [ "[" FILTER { "," FILTER } "]" ]
#   FILTER := KEY "=" VALUE { "|" VALUE }          rows whose KEY is one of the VALUEs
#
# e.g. ``emissions.scope1_tco2@2024[industry=steel]``, ``adoption.capacity@2026[option=rooftop_pv]
# - adoption.capacity@2025[option=rooftop_pv]`` (additions), ``routes.output@2025[industry=steel,
# route=scrap EAF] / emissions.output@2025[industry=steel]`` (a share). A term is the sum of COLUMN
# over the rows of YEAR (all years without @YEAR) that pass the filters; for a ratio, price or share
# column (``is_additive`` is false) it is their mean instead. Filter values may hold spaces and
# any character but ``,``, ``|`` and ``]``.
_TERM = re.compile(r"\s*([A-Za-z_]\w*)\.([A-Za-z_]\w*)\s*(?:@\s*(\d{4}))?\s*(?:\[([^\]]*)\])?\s*")
_KEY = re.compile(r"^[A-Za-z_]\w*$")
_SYNTAX = ("must look like TABLE.COLUMN@YEAR (e.g. emissions.net_tco2@2035), TABLE.COLUMN "
           "(summed over all years), with optional filters [KEY=VALUE,KEY=V1|V2], terms joined "
           "by + or - and one / for a ratio (sides may stand in parentheses)")


@dataclass(frozen=True)
class Term:
    """``table.column@year[key=value|value, ...]``: one column summed (or averaged) over rows."""

    table: str
    column: str
    year: int | None = None
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __str__(self) -> str:
        where = ",".join(f"{k}={'|'.join(v)}" for k, v in self.filters)
        return (f"{self.table}.{self.column}" + (f"@{self.year}" if self.year is not None else "")
                + (f"[{where}]" if where else ""))

    def shifted(self, years: int) -> Term:
        return self if self.year is None else replace(self, year=self.year + years)


@dataclass(frozen=True)
class Metric:
    """One number per run: the signed terms of ``num``, divided by those of ``den`` if any.

    ``Metric.of("emissions", "net_tco2", 2035)`` is ``emissions.net_tco2@2035``; ``parse_metric``
    reads the whole language.
    """

    num: tuple[tuple[int, Term], ...]
    den: tuple[tuple[int, Term], ...] = ()

    @classmethod
    def of(cls, table: str, column: str, year: int | None = None) -> Metric:
        return cls(((1, Term(table, column, year)),))

    @property
    def table(self) -> str:
        """The table of the first term."""
        return self.num[0][1].table

    @property
    def column(self) -> str:
        """The column of the first term."""
        return self.num[0][1].column

    @property
    def terms(self) -> list[Term]:
        return [t for _, t in self.num + self.den]

    @property
    def years(self) -> list[int]:
        """Every year the metric reads (sorted, once each)."""
        return sorted({t.year for t in self.terms if t.year is not None})

    @property
    def year(self) -> int | None:
        """The latest year the metric reads (None: summed over all years)."""
        return self.years[-1] if self.years else None

    def with_year(self, year: int) -> Metric:
        """The same metric with ``year`` on every term that has none."""
        fix = lambda part: tuple((s, t if t.year is not None else replace(t, year=year))
                                 for s, t in part)
        return replace(self, num=fix(self.num), den=fix(self.den))

    def shifted(self, years: int) -> Metric:
        """The same metric ``years`` later (every term's year moves; e.g. a trajectory)."""
        move = lambda part: tuple((s, t.shifted(years)) for s, t in part)
        return replace(self, num=move(self.num), den=move(self.den))

    def __str__(self) -> str:
        def side(part):
            text = ""
            for i, (sign, term) in enumerate(part):
                text += (("-" if sign < 0 else "") if i == 0 else (" - " if sign < 0 else " + "))
                text += str(term)
            return text
        wrap = lambda part: f"({side(part)})" if self.den and len(part) > 1 else side(part)
        return wrap(self.num) + (f" / {wrap(self.den)}" if self.den else "")


def _filters(text: str, spec: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    out = []
    for part in text.split(","):
        key, eq, values = part.partition("=")
        key, vals = key.strip(), tuple(v.strip() for v in values.split("|"))
        if not eq or not _KEY.match(key) or not all(vals):
            raise MetricError(f"output {spec!r}: filter {part.strip()!r} must look like KEY=VALUE "
                              "or KEY=VALUE1|VALUE2 (e.g. industry=steel)")
        if key == "year":
            raise MetricError(f"output {spec!r}: give the year as @YEAR, not as a filter")
        out.append((key, vals))
    return tuple(out)


def parse_metric(spec: str | Metric) -> Metric:
    """'emissions.net_tco2@2035' -> ``Metric.of('emissions', 'net_tco2', 2035)``; the whole language
    (filters, sums, a ratio) is described above."""
    if isinstance(spec, Metric):
        return spec
    text = str(spec)
    sides = _split_ratio(text)
    if len(sides) > 2:
        raise MetricError(f"output {spec!r} {_SYNTAX}")
    return Metric(*(tuple(_parse_sum(side, text)) for side in sides))


def _split_ratio(text: str) -> list[str]:
    """The two sides of ``/`` (outside filters), each without its enclosing parentheses."""
    sides, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += (ch == "[") - (ch == "]")
        if ch == "/" and depth == 0:
            sides.append(text[start:i])
            start = i + 1
    sides.append(text[start:])
    out = []
    for side in sides:
        side = side.strip()
        if side.startswith("(") and side.endswith(")"):
            side = side[1:-1]
        out.append(side)
    return out


def _parse_sum(text: str, spec: str) -> list[tuple[int, Term]]:
    """Signed terms of ``TERM { (+|-) TERM }``."""
    terms, pos, sign = [], 0, 1
    while True:
        m = _TERM.match(text, pos)
        if not m or m.end() == pos:
            raise MetricError(f"output {spec!r} {_SYNTAX}")
        table, column, year, where = m.groups()
        filters = _filters(where, spec) if where is not None and where.strip() else ()
        terms.append((sign, Term(table, column, int(year) if year else None, filters)))
        pos = m.end()
        if pos == len(text):
            return terms
        if text[pos] not in "+-":
            raise MetricError(f"output {spec!r} {_SYNTAX}")
        sign = 1 if text[pos] == "+" else -1
        pos += 1


class MetricReader:
    """Reads metrics from one set of tables (one run, or all runs stacked with ``run``), keeping
    what it has aggregated: many metrics over the same tables cost one pass per term."""

    def __init__(self, tables: Mapping[str, pd.DataFrame]):
        self.tables = tables
        self._terms: dict[tuple, pd.DataFrame | bool] = {}
        self._facts: dict[str, tuple[list[str], list[int]]] = {}

    def _table_facts(self, name: str) -> tuple[list[str], list[int]]:
        """(numeric columns, years) of table ``name``."""
        if name not in self._facts:
            df = self.tables[name]
            years = sorted(set(df["year"].tolist())) if "year" in df.columns else []
            self._facts[name] = (metric_columns(df), years)
        return self._facts[name]

    def check(self, metric: Metric) -> None:
        """Raise ``MetricError`` unless every term names a numeric column (and year, and filter
        keys) of the tables."""
        for term in metric.terms:
            self._check_term(metric, term)

    def _check_term(self, metric: Metric, term: Term) -> None:
        if term.table not in self.tables:
            raise MetricError(f"output {metric}: no table {term.table!r}; tables: "
                              f"{', '.join(sorted(self.tables))}")
        df = self.tables[term.table]
        cols, years = self._table_facts(term.table)
        if term.column not in cols:
            raise MetricError(f"output {metric}: no numeric column {term.column!r} in "
                              f"{term.table}; columns: {', '.join(cols)}")
        for key, _ in term.filters:
            if key not in df.columns:
                raise MetricError(f"output {metric}: table {term.table} has no column {key!r} "
                                  f"to filter on; keys: {', '.join(key_columns(df))}")
        if term.year is not None:
            if "year" not in df.columns:
                raise MetricError(f"output {metric}: table {term.table} has no year column; "
                                  "drop the @YEAR")
            if years and term.year not in years:
                raise MetricError(f"output {metric}: year {term.year} is not simulated; years "
                                  f"{years[0]}-{years[-1]}")
        if row_unit_column(df, term.column):          # never add rows of different units
            rows = df[_keep(df, term)]
            if term.year is not None and "year" in rows:
                rows = rows[rows["year"] == term.year]
            try:
                one_unit(rows, term.column, f"output {metric}")
            except UnitError as e:
                raise MetricError(str(e)) from None

    def empty_terms(self, metric: Metric) -> list[Term]:
        """The terms no row of any run and year passes (e.g. an industry without agents)."""
        out = []
        for term in metric.terms:
            key = ("rows", term.table, term.filters)
            if key not in self._terms:
                self._terms[key] = bool(_keep(self.tables[term.table], term).any())
            if not self._terms[key]:
                out.append(term)
        return out

    def term_by_year(self, term: Term) -> pd.DataFrame:
        """The term per run (rows) and year (columns) over every year of its table, ignoring
        its own year; a table without ``run`` is one run (0), without ``year`` one column."""
        key = (term.table, term.column, term.filters)
        if key not in self._terms:
            self._terms[key] = _term_by_year(self.tables[term.table], term)
        return self._terms[key]

    def evaluate(self, metric: Metric) -> pd.Series:
        """The metric per run (index: run), unchecked."""
        values = {}
        for term in metric.terms:
            by_year = self.term_by_year(term)
            values[term] = by_year[term.year] if term.year is not None else \
                (by_year.sum(axis=1) if is_additive(term.column) else by_year.mean(axis=1))
        num = _combine(metric.num, values)
        if not metric.den:
            return num
        den = _combine(metric.den, values)
        return num / den.where(den != 0)

    def per_run(self, spec: str | Metric, runs: Sequence[int] | None = None) -> pd.Series:
        """The metric of every run (runs without rows give 0 for sums, NaN for means and
        ratios)."""
        metric = parse_metric(spec)
        self.check(metric)
        out = self.evaluate(metric)
        if runs is not None:
            fill = 0.0 if all(is_additive(t.column) for t in metric.terms) and not metric.den \
                else np.nan
            out = out.reindex(list(runs), fill_value=fill)
        return out.astype(float).rename(str(metric))

    def by_year(self, spec: str | Metric) -> pd.DataFrame:
        """The metric moved to every year its terms can be read in (rows: run, columns: the
        year of its latest term), e.g. a trajectory to plot against observations."""
        metric = parse_metric(spec)
        if metric.year is None:
            raise MetricError(f"output {metric}: a trajectory needs @YEAR on its terms")
        self.check(metric)
        years = {t.table: set(self._table_facts(t.table)[1]) for t in metric.terms}
        out = {}
        for year in sorted(set.intersection(*years.values())):
            moved = metric.shifted(year - metric.year)
            if all(t.year in years[t.table] for t in moved.terms):
                out[year] = self.evaluate(moved)
        return pd.DataFrame(out)


def _keep(df: pd.DataFrame, term: Term) -> np.ndarray:
    """Rows of ``df`` that pass the term's filters (values compared as text)."""
    keep = np.ones(len(df), dtype=bool)
    for key, values in term.filters:
        column = df[key]
        text = column if column.dtype == object else column.astype(str)
        keep &= text.isin(values).to_numpy()
    return keep


def _term_by_year(df: pd.DataFrame, term: Term) -> pd.DataFrame:
    """Sum (additive columns) or mean (ratios, prices, shares; NaN skipped) of the term's column
    per run and year over the rows its filters keep; 0 (sums) or NaN (means) where none."""
    n = len(df)
    run = df["run"].to_numpy() if "run" in df.columns else np.zeros(n, dtype=np.int64)
    year = df["year"].to_numpy() if "year" in df.columns else np.zeros(n, dtype=np.int64)
    runs, r = np.unique(run, return_inverse=True)
    years, y = np.unique(year, return_inverse=True)
    keep = _keep(df, term)
    values = df[term.column].to_numpy(float)[keep]
    cell = (r * len(years) + y)[keep]
    size = len(runs) * len(years)
    finite = ~np.isnan(values)
    total = np.bincount(cell[finite], weights=values[finite], minlength=size)
    if is_additive(term.column):
        out = total
    else:
        count = np.bincount(cell[finite], minlength=size)
        out = np.divide(total, count, out=np.full(size, np.nan), where=count > 0)
    return pd.DataFrame(out.reshape(len(runs), len(years)), index=runs.tolist(),
                        columns=years.tolist())


def _combine(parts: tuple[tuple[int, Term], ...], values: dict[Term, pd.Series]) -> pd.Series:
    total = None
    for sign, term in parts:
        v = sign * values[term]
        total = v if total is None else total + v
    return total


def check_metric(metric: Metric, tables: Mapping[str, pd.DataFrame]) -> None:
    """Raise ``MetricError`` unless every term of ``metric`` names a numeric column (and year,
    and filter keys) of ``tables``."""
    MetricReader(tables).check(metric)


def term_by_year(tables: Mapping[str, pd.DataFrame], term: Term) -> pd.DataFrame:
    """``MetricReader.term_by_year`` on ``tables``."""
    return MetricReader(tables).term_by_year(term)


def metric_per_run(tables: Mapping[str, pd.DataFrame], spec: str | Metric,
                   runs: Sequence[int] | None = None) -> pd.Series:
    """The metric of every run (a Series indexed by run; runs without rows give 0 for sums,
    NaN for means and ratios)."""
    return MetricReader(tables).per_run(spec, runs)


def metric_by_year(tables: Mapping[str, pd.DataFrame], spec: str | Metric) -> pd.DataFrame:
    """``MetricReader.by_year`` on ``tables`` (a trajectory)."""
    return MetricReader(tables).by_year(spec)


def metric_from_tables(tables: Mapping[str, pd.DataFrame], spec: str | Metric) -> float:
    """The metric of one run's tables."""
    reader = MetricReader(tables)
    metric = parse_metric(spec)
    reader.check(metric)
    return float(reader.evaluate(metric).iloc[0])
