"""Units in every output: quantities whose unit changes by row carry a unit column, and no
summary, metric or figure adds rows of different units."""
import numpy as np
import pandas as pd
import pytest

from zcf.experiments.summary import MetricError, metric_from_tables, summarise
from zcf.sim import plots
from zcf.sim.datasets import read_csv
from zcf.sim.units import ROW_UNITS, UnitError


def stacked(df: pd.DataFrame) -> pd.DataFrame:
    """Two 'runs' of one table (the second with every number doubled)."""
    two = df.copy()
    num = [c for c in two.columns if pd.api.types.is_float_dtype(two[c])]
    two[num] = two[num] * 2.0
    return pd.concat([df.assign(run=0), two.assign(run=1)], ignore_index=True)


def test_tables_carry_the_unit_of_row_dependent_quantities(small_run):
    e, a = small_run.results.emissions, small_run.results.adoption
    product = read_csv("industries.csv").set_index("industry")["product_unit"]
    capacity = read_csv("retrofits.csv").set_index("option")["capacity_unit"]
    assert (e["output_unit"] == e["industry"].map(product)).all()
    assert (a["capacity_unit"] == a["option"].map(capacity)).all()
    assert list(e.columns).index("output_unit") == list(e.columns).index("output") + 1
    assert e["output_unit"].nunique() > 1 and a["capacity_unit"].nunique() > 1
    for name, df in small_run.results.tables().items():      # every such column is qualified
        for col, (unit_col, _) in ROW_UNITS.items():
            assert col not in df.columns or unit_col in df.columns, (name, col)


def test_summaries_never_add_different_units(small_run):
    e = stacked(small_run.results.emissions)
    s = summarise(e, by=["year"])
    out = s[s.metric == "output"]
    last = e[e.year == 2030]
    assert sorted(out[out.year == 2030]["unit"]) == sorted(last["output_unit"].unique())
    for unit, row in out[out.year == 2030].set_index("unit").iterrows():
        per_run = last[last.output_unit == unit].groupby("run")["output"].sum()
        assert row["mean"] == pytest.approx(per_run.mean())
    net = s[(s.metric == "net_tco2") & (s.year == 2030)]
    assert len(net) == 1 and net["unit"].item() == "tCO2"
    assert "footprint_tco2_per_unit" not in set(s.metric)     # a ratio: never summed

    full = summarise(e)                                       # every key kept: per-row units
    fp = full[full.metric == "footprint_tco2_per_unit"]
    steel = fp[fp.industry == "steel"]["unit"].unique().tolist()
    assert steel == ["tCO2/t"]

    a = stacked(small_run.results.adoption)
    cap = summarise(a, by=["year", "option"])
    cap = cap[cap.metric == "capacity"]
    want = a.drop_duplicates("option").set_index("option")["capacity_unit"]
    assert (cap["unit"] == cap["option"].map(want)).all()
    by_year = summarise(a, by=["year"])
    assert by_year[by_year.metric == "capacity"].groupby("year")["unit"].nunique().gt(1).all()


def test_metrics_and_figures_refuse_rows_of_several_units(small_run):
    t = small_run.results.tables()
    with pytest.raises(MetricError, match="different units"):
        metric_from_tables(t, "emissions.output@2030")
    steel = {**t, "emissions": t["emissions"][t["emissions"].industry == "steel"]}
    assert metric_from_tables(steel, "emissions.output@2030") == pytest.approx(
        steel["emissions"].query("year == 2030")["output"].sum())
    with pytest.raises(UnitError, match="different units"):
        plots.province_map(t["emissions"], "output")
    fig = plots.province_map(steel["emissions"], "output")
    assert fig.axes[-1].get_ylabel() == "output (t)"           # the rows' own unit
    with pytest.raises(UnitError):
        plots.compare_scenarios({"a": t["emissions"], "b": t["emissions"]}, "output")
    with pytest.raises(ValueError, match="several units"):
        plots.fan_quantiles(summarise(stacked(t["emissions"]), by=["year"]), "output")
    assert np.isfinite(plots.plotted(plots.compare_scenarios(
        {"a": steel["emissions"], "b": steel["emissions"]}, "output"))["value"]).all()
