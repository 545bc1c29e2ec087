"""zcf validate: the packaged observations, the comparison rule on a known toy model, a small
validation of the baseline whose core rows are inside their tolerance, the figure and the
report, and one-line errors for bad observation files."""
import numpy as np
import pandas as pd
import pytest

from zcf.experiments.engine import ExperimentError
from zcf.experiments.validate import STATUSES, TABLE_COLUMNS, validate
from zcf.sim import Scenario
from zcf.sim.cli import main
from zcf.sim.datasets import defaults
from zcf.sim.plots import plotted
from zcf.sim.scenario import ScenarioError

# rows the current model honestly meets at a small population (docs/validation.md has the rest):
# outputs (2024 data x growth), steel's direct CO2 and its intensity, the steel and cement
# footprints (intensity data and the accounting rules) and the 2025 offset price
CORE = ["crude_steel_output", "cement_output", "steel_co2_total_est", "steel_co2_intensity_avg",
        "footprint_steel_china", "footprint_cement_china", "ccer_price"]

HEADER = ("quantity,description,unit,year,value,low,high,metric,metric_scale,tolerance_frac,use,"
          "source,note\n")


def write_obs(path, rows):
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    return path


def test_packaged_observations_are_data_with_sources_and_uses():
    obs = defaults().observations
    assert len(obs) > 200 and (obs.source.str.len() > 0).all()
    assert set(obs.use) == {"calibrate", "validate"}
    with_metric = obs[obs.metric != ""]
    assert len(with_metric) > 80 and with_metric.tolerance_frac.notna().all()
    assert (obs[obs.metric == ""].note.str.contains("no metric: ")).all()     # says why not
    # the list: heavy-industry CO2 and electricity, footprints, green factories, PV,
    # EAF share, green power, CCER, ETS coverage, CBAM
    for q in ("steel_co2_total_est", "elec_ferrous", "footprint_steel_china",
              "green_factory_stock", "dpv_cumulative", "ci_pv_additions", "eaf_share",
              "green_power_trade", "ccer_price", "ccer_traded", "ets_covered_emissions_added",
              "cbam_cost_steel_hrc_default", "footprint_pv_module_china"):
        assert q in set(obs.quantity), q


# -- the comparison rule on a toy model (known values) ------------------------------------------------
def toy(scn, seed):
    """y = 100 in 2025 and 120 in 2026 for run seeds alike; price_cny (a price) = 7; steel only."""
    rng = np.random.default_rng(seed)
    noise = rng.uniform(-1.0, 1.0)
    return {"t": pd.DataFrame({"year": [2025, 2026], "industry": ["steel", "steel"],
                               "y_t": [100.0 + noise, 120.0], "price_cny": [7.0, 7.0]})}


def test_statuses_bands_ratios_scales_figure_and_files(tmp_path):
    obs = write_obs(tmp_path / "obs.csv", [
        "in_band,d,kt,2025,0.105,,,t.y_t@2025,0.001,0.1,validate,test,",        # 0.1 -> inside
        "above,d,t,2026,100,,,t.y_t@2026,,0.1,validate,test,",                  # 120 > 110
        "range,d,t,2026,100,90,118,t.y_t@2026,,0.02,calibrate,test,",           # 118 + 2 = 120
        "price,d,CNY,2026,7,,,t.price_cny@2026[industry=steel],,0,validate,test,",
        "history,d,t,2020,50,,,t.y_t@2020,,0.1,validate,test,",
        "missing,d,t,2025,50,,,u.y_t@2025,,0.1,validate,test,",
        "no_rows,d,t,2025,50,,,t.y_t@2025[industry=cement],,0.1,validate,test,",
        "unmapped,d,t,2025,50,,,,,,validate,test,no metric: not in the model",
    ])
    scn = Scenario.load("jiangsu").replace({"time.end_year": 2030})
    res = validate(scn, observations=obs, runs=3, workers=1, progress=False, run_fn=toy)
    assert res.years == (2025, 2026)                  # cut at the last year an observation needs
    t = res.table.set_index("quantity")
    assert list(res.table.columns) == TABLE_COLUMNS
    assert t.status.to_dict() == {"in_band": "inside", "above": "outside", "range": "inside",
                                  "price": "inside", "history": "not simulated",
                                  "missing": "no output", "no_rows": "no output",
                                  "unmapped": "no metric"}
    assert set(t.status) <= set(STATUSES)
    assert abs(t.loc["in_band", "model_mean"] - 0.1) < 0.001                   # t -> kt
    assert t.loc["in_band", "model_min"] < t.loc["in_band", "model_mean"] < t.loc["in_band", "model_max"]
    assert t.loc["above", "ratio"] == pytest.approx(1.2)
    assert "no table 'u'" in t.loc["missing", "detail"] and "2020" in t.loc["history", "detail"]
    assert res.counts() == {"inside": 3, "outside": 1, "no output": 2, "not simulated": 1,
                            "no metric": 1}
    # trajectories over the simulated years, in the rows' units; the figure reads them back
    traj = res.trajectories[res.trajectories.quantity == "above"]
    assert sorted(traj.year.unique()) == [2025, 2026] and len(traj) == 6
    drawn = plotted(res.figure())
    panel = drawn[drawn.panel == "above"]
    assert set(panel.series) >= {"model mean", "model min", "model max", "published"}
    assert panel[(panel.series == "model mean") & (panel.x == 2026)].value.iloc[0] == 120.0
    # the files of --out
    paths = res.write(tmp_path / "out")
    assert {p.name for p in paths} == {"validation.csv", "trajectories.csv", "validation.png"}
    back = pd.read_csv(tmp_path / "out" / "validation.csv")
    assert list(back.quantity) == list(t.index) and set(back.columns) == set(TABLE_COLUMNS)


# -- the baseline at a small population ----------------------------------------------------------------
@pytest.fixture(scope="module")
def baseline_validation():
    scn = Scenario.load("baseline").replace({"population.firms": 3000})
    return validate(scn, runs=2, seed=0, workers=1, progress=False)


def test_core_rows_of_the_baseline_are_inside_their_tolerance(baseline_validation):
    t = baseline_validation.table
    core = t[t.quantity.isin(CORE) & (t.status != "not simulated")]
    assert set(core.quantity) == set(CORE)
    assert core.inside.all(), core[["quantity", "year", "model_mean", "value", "ratio"]]
    assert baseline_validation.years == (2025, 2030)         # CBAM rows need 2030
    # rows the model cannot meet today are reported, not hidden
    assert (t.status == "outside").any() and (t.status == "not simulated").sum() > 50


def test_report(baseline_validation):
    assert len(baseline_validation.table) == len(defaults().observations)
    md = baseline_validation.markdown("zcf validate baseline --firms 3000 --seeds 2",
                                      "figures/v.png")
    assert "zcf validate baseline --firms 3000 --seeds 2" in md and "3,000 firm agents" in md
    assert "| crude steel output | Mt | 2025 | 2025 |" in md and "![" in md
    assert "## Outside the tolerance, and why" in md and "## Not compared" in md
    # every row the model cannot answer is listed with why (the routes table of issue 11 now
    # answers the EAF share rows, which are compared: they were "no table 'routes'" before)
    t = baseline_validation.table
    for detail in t[t.status == "no output"].detail.unique():
        assert str(detail) in md, detail
    assert "| eaf share | fraction | 2025 | 2025 |" in md
    eaf = baseline_validation.table.query("quantity == 'eaf_share' and year == 2025")
    assert len(eaf) == 1 and 0.05 < eaf["model_mean"].iloc[0] < 0.15


# -- bad observation files --------------------------------------------------------------------------------
GOOD = "x,d,t,2025,1,,,emissions.output@2025[industry=steel],,0.1,validate,src,"


@pytest.mark.parametrize("row,words", [
    ("x,d,t,2025,1,,,emissions.output@2025 * 2,,0.1,validate,src,",
     ["row 2", "column 'metric'", "TABLE.COLUMN@YEAR"]),
    ("x,d,t,2025,1,,,emissions.output@2025[industry=steal],,0.1,validate,src,",
     ["row 2", "column 'metric'", "unknown industry 'steal'", "allowed: automobiles"]),
    ("x,d,t,2025,1,2,,emissions.output@2025,,0.1,validate,src,",
     ["row 2", "column 'low'", "low <= value <= high"]),
    ("x,d,t,2025,1,,,emissions.output@2025,,,validate,src,",
     ["row 2", "column 'tolerance_frac'", "needs a tolerance"]),
    ("x,d,t,2025,1,,,,,,fit,src,", ["row 2", "column 'use'", "calibrate, validate"]),
    ("x,d,t,2025,one,,,,,,validate,src,", ["row 2", "column 'value'", "not a number"]),
])
def test_bad_observation_files_get_one_line_errors(tmp_path, row, words):
    bad = write_obs(tmp_path / "bad.csv", [row])
    with pytest.raises(ExperimentError) as e:
        validate("jiangsu", observations=bad, runs=1, workers=1, progress=False, run_fn=toy)
    msg = str(e.value)
    assert str(bad) in msg and "\n" not in msg
    for w in words:
        assert w in msg, msg
    # a scenario's own copy in [data] is checked at load, naming the scenario and the file
    scn = tmp_path / "s.toml"
    scn.write_text(f'extends = "jiangsu"\n[data]\nobservations = "{bad.name}"\n')
    with pytest.raises(ScenarioError) as e:
        Scenario.load(scn)
    assert str(scn) in str(e.value) and str(bad) in str(e.value) and words[0] in str(e.value)


def test_duplicates_and_unknown_columns(tmp_path):
    dup = write_obs(tmp_path / "dup.csv", [GOOD, GOOD])
    with pytest.raises(ExperimentError, match="row 3: quantity 'x' appears twice for 2025"):
        validate("jiangsu", observations=dup, runs=1, workers=1, progress=False, run_fn=toy)
    extra = tmp_path / "extra.csv"
    extra.write_text(HEADER.replace("note", "note,colour") + GOOD + ",red\n")
    with pytest.raises(ExperimentError, match="unknown column 'colour'; allowed: quantity"):
        validate("jiangsu", observations=extra, runs=1, workers=1, progress=False, run_fn=toy)


def test_command_line(tmp_path, capsys):
    bad = write_obs(tmp_path / "bad.csv", ["x,d,t,2025,1,,,emissions.output@2025[industry=steal],"
                                           ",0.1,validate,src,"])
    assert main(["validate", "jiangsu", "--firms", "300", "--seeds", "1", "--observations",
                 str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown industry 'steal'" in err and str(bad) in err
    good = write_obs(tmp_path / "good.csv", [GOOD.replace("2025,1,", "2026,2000000,")])
    assert main(["validate", "jiangsu", "--firms", "300", "--seeds", "1", "--workers", "1",
                 "--observations", str(good), "--out", str(tmp_path / "v"), "--report",
                 str(tmp_path / "r" / "v.md"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "inside the tolerance" in out and "x" in out
    assert (tmp_path / "v" / "validation.csv").is_file()
    assert (tmp_path / "r" / "figures" / "validation_jiangsu.png").is_file()
    assert "zcf validate jiangsu --firms 300 --seeds 1" in (tmp_path / "r" / "v.md").read_text()
