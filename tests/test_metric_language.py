"""The metric language of zcf sensitivity, validate and calibrate: TABLE.COLUMN@YEAR with filters,
sums and differences of terms and one ratio (experiments.summary), checked on hand-made tables."""
import re

import numpy as np
import pandas as pd
import pytest

from zcf.experiments.summary import (Metric, MetricError, check_metric, metric_by_year,
                                     metric_from_tables, metric_per_run, parse_metric)

# two runs, two years, two industries; x_tco2 is additive, price_cny_per_t is not
TABLES = {"e": pd.DataFrame({
    "run": [0, 0, 0, 0, 1, 1, 1, 1],
    "year": [2025, 2025, 2026, 2026] * 2,
    "industry": ["a", "b", "a", "b"] * 2,
    "route": ["BF-BOF + CCS", "scrap EAF"] * 4,
    "x_tco2": [1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 30.0, 40.0],
    "price_cny_per_t": [10.0, 30.0, 50.0, 70.0, 1.0, 3.0, 5.0, 7.0]})}


def values(spec):
    return metric_per_run(TABLES, spec).tolist()


def test_simple_metrics_keep_their_meaning():
    m = parse_metric("e.x_tco2@2025")
    assert (m.table, m.column, m.year) == ("e", "x_tco2", 2025) and m == Metric.of("e", "x_tco2", 2025)
    assert values("e.x_tco2@2025") == [3.0, 30.0]
    assert values("e.x_tco2") == [10.0, 100.0]                      # all rows and years


def test_filters_sums_differences_and_ratios():
    assert values("e.x_tco2@2025[industry=a]") == [1.0, 10.0]
    assert values("e.x_tco2@2025[industry=a|b]") == [3.0, 30.0]
    assert values("e.x_tco2@2026[route=BF-BOF + CCS]") == [3.0, 30.0]     # spaces, + and - in a value
    assert values("e.x_tco2@2026[industry=a] - e.x_tco2@2025[industry=a]") == [2.0, 20.0]
    assert values("e.x_tco2@2025[industry=a] + e.x_tco2@2026[industry=b]") == [5.0, 50.0]
    np.testing.assert_allclose(values("e.x_tco2@2025[industry=b] / e.x_tco2@2025"), [2 / 3, 2 / 3])
    assert values("e.x_tco2@2025[industry=zz]") == [0.0, 0.0]          # no rows: a sum of nothing
    assert np.isnan(values("e.x_tco2@2025 / e.x_tco2@2025[industry=zz]")).all()


def test_prices_and_shares_are_averaged_not_summed():
    assert values("e.price_cny_per_t@2025") == [20.0, 2.0]
    assert values("e.price_cny_per_t@2026[industry=b]") == [70.0, 7.0]
    assert np.isnan(values("e.price_cny_per_t@2025[industry=zz]")).all()


def test_trajectories_and_one_run():
    m = parse_metric("e.x_tco2@2026[industry=a] - e.x_tco2@2025[industry=a]")
    assert m.years == [2025, 2026] and m.year == 2026
    traj = metric_by_year(TABLES, "e.x_tco2@2025[industry=a]")
    assert list(traj.columns) == [2025, 2026] and traj.loc[1].tolist() == [10.0, 30.0]
    assert list(metric_by_year(TABLES, m).columns) == [2026]         # additions need a year before
    one = {"e": TABLES["e"][TABLES["e"].run == 1].drop(columns="run")}
    assert metric_from_tables(one, "e.x_tco2@2025[industry=b]") == 20.0
    assert str(parse_metric(" e.x_tco2 @2025 [ industry = a | b ] / e.x_tco2@2025")) == \
        "e.x_tco2@2025[industry=a|b] / e.x_tco2@2025"


@pytest.mark.parametrize("spec,words", [
    ("x_tco2@2025", "TABLE.COLUMN@YEAR"),
    ("e.x_tco2@2025 * e.x_tco2", "one / for a ratio"),
    ("e.x_tco2 / e.x_tco2 / e.x_tco2", "one / for a ratio"),
    ("e.x_tco2@2025 +", "TABLE.COLUMN@YEAR"),
    ("e.x_tco2[industry]", "KEY=VALUE"),
    ("e.x_tco2[industry=]", "KEY=VALUE"),
    ("e.x_tco2[year=2025]", "as @YEAR"),
])
def test_bad_metrics_are_refused_with_the_syntax(spec, words):
    with pytest.raises(MetricError, match=re.escape(words)):
        parse_metric(spec)


@pytest.mark.parametrize("spec,words", [
    ("f.x_tco2@2025", "no table 'f'"),
    ("e.y@2025", "no numeric column 'y'"),
    ("e.x_tco2@2025[province=Hebei]", "no column 'province'"),
    ("e.x_tco2@2025 / e.x_tco2@2031", "year 2031 is not simulated"),
])
def test_metrics_the_tables_cannot_answer(spec, words):
    with pytest.raises(MetricError, match=words):
        check_metric(parse_metric(spec), TABLES)


def test_parentheses_around_the_sides_of_a_ratio():
    a = parse_metric("(e.x_tco2@2026[industry=a] - e.x_tco2@2025[industry=a]) / e.x_tco2@2025[industry=a]")
    b = parse_metric("e.x_tco2@2026[industry=a] - e.x_tco2@2025[industry=a] / e.x_tco2@2025[industry=a]")
    assert a == b and str(a).startswith("(") and metric_per_run(TABLES, a).tolist() == [2.0, 2.0]
    with pytest.raises(MetricError, match="TABLE.COLUMN@YEAR"):
        parse_metric("(e.x_tco2@2025 + e.x_tco2@2026")
