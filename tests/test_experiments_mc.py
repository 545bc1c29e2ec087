"""Monte Carlo: seeds per run index, determinism across workers, store, resume, summaries."""
import json

import numpy as np
import pandas as pd
import pytest

from zcf import experiments
from zcf.experiments.engine import ExperimentError
from zcf.experiments.montecarlo import plan_monte_carlo
from zcf.experiments.runner import run_seed_sequence, run_seeds
from zcf.experiments.store import RunStore, StoreWarning, write_parquet_atomic
from zcf.experiments.summary import summarise
from zcf.sim import Scenario

TINY = '''extends = "jiangsu"
name = "tiny-uncertain"
[population]
firms = 200
[time]
end_year = 2027
[growth]
output_growth_frac_per_yr = { textiles = 0.03 }
[uncertainty]
"growth.output_growth_frac_per_yr.textiles" = { dist = "uniform", loc = -0.05, scale = 0.2 }
"ets.price_cny_per_tco2.2030" = { dist = "lognorm", s = 0.3, scale = 130 }
'''


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("scn") / "tiny.toml"
    path.write_text(TINY)
    return Scenario.load(path)


@pytest.fixture(scope="module")
def serial(tiny):
    return experiments.monte_carlo(tiny, runs=4, seed=11, workers=1, progress=False)


def assert_same_tables(a, b):
    assert sorted(a.tables) == sorted(b.tables)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], obj=name)


def test_run_seed_is_the_spawned_child_of_the_experiment_seed():
    children = np.random.SeedSequence(5).spawn(4)
    for i, child in enumerate(children):
        mine = run_seed_sequence(5, i)
        assert np.array_equal(mine.generate_state(4), child.generate_state(4))
    assert run_seeds(5, 2)[1] == run_seeds(5, 2)[1] != run_seeds(5, 3)[1]


def test_run_i_does_not_depend_on_the_number_of_runs(tiny):
    short, long = plan_monte_carlo(tiny, 3, seed=1), plan_monte_carlo(tiny, 6, seed=1)
    for a, b in zip(short.tasks, long.tasks):
        assert (a.run, a.seed, a.values) == (b.run, b.seed, b.values)
    assert len({t.seed for t in long.tasks}) == 6
    assert len({t.values["ets.price_cny_per_tco2.2030"] for t in long.tasks}) == 6


def test_every_row_carries_run_and_seed(serial):
    assert set(serial.tables) >= {"emissions", "summary"}
    seeds = dict(zip(serial.runs["run"], serial.runs["seed"]))
    for name, df in serial.tables.items():
        assert list(df.columns[:2]) == ["run", "seed"], name
        assert sorted(df["run"].unique()) == [0, 1, 2, 3]
        assert (df["seed"] == df["run"].map(seeds)).all()
    assert set(serial.runs.columns) == {"run", "seed", "growth.output_growth_frac_per_yr.textiles",
                                        "ets.price_cny_per_tco2.2030"}


def test_drawn_values_reach_each_run(serial, tiny):
    task = plan_monte_carlo(tiny, 4, seed=11).tasks[2]
    scn = task.scenario()
    assert scn.cfg.ets.price_cny_per_tco2[2030] == task.values["ets.price_cny_per_tco2.2030"]
    assert scn.cfg.growth.output_growth_frac_per_yr["textiles"] == \
        task.values["growth.output_growth_frac_per_yr.textiles"]
    e = serial.tables["emissions"]
    textiles = e[(e.year == 2027) & (e.industry == "textiles")].groupby("run")["output"].sum()
    assert textiles.index.tolist() == [0, 1, 2, 3] and textiles.nunique() == 4
    with pytest.raises(ExperimentError, match="different units"):   # t + vehicles + kWh ...
        serial.metric("emissions.output@2027")
    out = serial.metric("emissions.net_tco2@2027")
    assert out.index.tolist() == [0, 1, 2, 3] and out.nunique() == 4


def test_process_pool_gives_the_serial_results(serial, tiny, tmp_path):
    pool = experiments.monte_carlo(tiny, runs=4, seed=11, workers=2, progress=False,
                                   out=tmp_path / "mc")
    assert_same_tables(serial, pool)                   # stored and read back, two processes
    again = experiments.load(tmp_path / "mc")
    assert_same_tables(serial, again)
    assert again.runs.equals(serial.runs)


def test_store_layout_manifest_and_resume_growth(tiny, tmp_path):
    out = tmp_path / "mc"
    first = experiments.monte_carlo(tiny, runs=2, seed=3, workers=1, progress=False, out=out)
    assert first.resumed == 0
    assert sorted(p.name for p in (out / "tables" / "emissions").iterdir()) == \
        ["run-000000.parquet", "run-000001.parquet"]
    assert pd.read_parquet(out / "tables" / "emissions")["run"].nunique() == 2
    man = json.loads((out / "manifest.json").read_text())
    assert man["kind"] == "montecarlo" and man["seed"] == 3 and man["plan"] == {"runs": 2}
    assert man["scenario"]["name"] == "tiny-uncertain"
    assert man["scenario"]["digest"] == tiny.digest() and man["package"]["version"]
    assert [r["seed"] for r in man["runs"]] == first.runs["seed"].tolist()
    assert set(man["runs"][0]["values"]) == {"growth.output_growth_frac_per_yr.textiles",
                                             "ets.price_cny_per_tco2.2030"}
    more = experiments.monte_carlo(tiny, runs=3, seed=3, workers=1, progress=False, out=out)
    assert more.resumed == 2 and len(more.runs) == 3
    assert json.loads((out / "manifest.json").read_text())["plan"] == {"runs": 3}
    fresh = experiments.monte_carlo(tiny, runs=3, seed=3, workers=1, progress=False)
    assert_same_tables(more, fresh)


def test_half_written_files_are_never_read(tiny, tmp_path):
    out = tmp_path / "mc"
    experiments.monte_carlo(tiny, runs=2, seed=3, workers=1, progress=False, out=out)
    emis = out / "tables" / "emissions"
    (emis / ".run-000005.parquet.123-abc.tmp").write_bytes(b"PAR1 half")   # a killed writer
    df = pd.read_parquet(emis / "run-000000.parquet")
    write_parquet_atomic(df.assign(run=1), emis / "run-000001.parquet")     # table, no marker:
    (out / "runs" / "run-000001.parquet").unlink()                          # run 1 unfinished
    store = RunStore(out)
    assert store.finished() == {0}
    assert store.read_table("emissions", range(5))["run"].unique().tolist() == [0]
    with pytest.warns(StoreWarning, match="run 1"):               # recorded, now damaged
        res = experiments.monte_carlo(tiny, runs=2, seed=3, workers=1, progress=False, out=out)
    assert res.resumed == 1 and sorted(res.tables["emissions"]["run"].unique()) == [0, 1]
    assert not list(emis.glob(".*.tmp"))                                    # stale temp removed
    fresh = experiments.monte_carlo(tiny, runs=2, seed=3, workers=1, progress=False)
    assert_same_tables(res, fresh)


def test_another_experiment_in_the_same_folder_is_refused(tiny, tmp_path):
    out = tmp_path / "mc"
    experiments.monte_carlo(tiny, runs=1, seed=3, workers=1, progress=False, out=out)
    other = tiny.replace({"population.firms": 201})
    with pytest.raises(ExperimentError, match="different scenario"):
        experiments.monte_carlo(other, runs=1, seed=3, workers=1, progress=False, out=out)
    with pytest.raises(ExperimentError, match="--seed 3"):
        experiments.monte_carlo(tiny, runs=1, seed=4, workers=1, progress=False, out=out)
    sw = tmp_path / "sw"
    grid = {"cbam.enabled": [True, False], "ets.offset_limit_frac": [0.05]}
    experiments.sweep(tiny, grid, 1, seed=3, workers=1, progress=False, out=sw)
    with pytest.raises(ExperimentError, match="other settings"):       # key order = point order
        experiments.sweep(tiny, dict(reversed(grid.items())), 1, seed=3, workers=1,
                          progress=False, out=sw)
    with pytest.raises(ExperimentError, match="montecarlo experiment, not a sweep"):
        experiments.sweep(tiny, {"cbam.enabled": [True]}, 1, seed=3, workers=1, progress=False,
                          out=out)


def test_bad_options_raise_experiment_errors(tiny):
    for kw, word in [({"runs": 0}, "runs"), ({"runs": 1, "seed": -1}, "seed"),
                     ({"runs": 1, "workers": 0}, "workers"),
                     ({"runs": 1, "workers": 2, "scheduler": "tcp://x:1"}, "not both")]:
        with pytest.raises(ExperimentError, match=word):
            experiments.monte_carlo(tiny, progress=False, **kw)


def test_summary_statistics_match_numpy():
    rng = np.random.default_rng(0)
    rows = [{"run": r, "seed": 100 + r, "year": y, "industry": ind, "province": "Jiangsu",
             "x_tco2": rng.normal(), "price_cny_per_tco2": 5.0}
            for r in range(20) for y in (2025, 2026) for ind in ("a", "b")]
    df = pd.DataFrame(rows)
    s = summarise(df)
    assert list(s.columns) == ["year", "industry", "province", "metric", "unit", "n", "mean", "sd",
                               "q05", "q25", "q50", "q75", "q95"]
    assert dict(zip(s.metric, s.unit)) == {"x_tco2": "tCO2", "price_cny_per_tco2": "CNY/tCO2"}
    one = s[(s.year == 2026) & (s.industry == "b") & (s.metric == "x_tco2")].iloc[0]
    x = df[(df.year == 2026) & (df.industry == "b")]["x_tco2"].to_numpy()
    assert one.n == 20 and one["mean"] == pytest.approx(x.mean())
    assert one.sd == pytest.approx(x.std(ddof=1))
    assert one.q05 == pytest.approx(np.quantile(x, 0.05)) and one.q95 == pytest.approx(np.quantile(x, 0.95))
    by_year = summarise(df, by=["year"])
    assert set(by_year.metric) == {"x_tco2"}                   # prices are not summed over groups
    tot = df[df.year == 2025].groupby("run")["x_tco2"].sum()
    row = by_year[by_year.year == 2025].iloc[0]
    assert row["mean"] == pytest.approx(tot.mean()) and row.q50 == pytest.approx(tot.median())


def test_result_summary_and_figures(serial, tmp_path):
    s = serial.summary("emissions", by=["year"])
    net = s[s.metric == "net_tco2"]
    assert net.year.tolist() == [2025, 2026, 2027] and (net.n == 4).all()
    assert (net.q05 <= net.q50).all() and (net.q50 <= net.q95).all()
    head = serial.summary("summary")                    # per-run headline: metric is a key here
    assert {"metric", "unit", "column", "mean", "q95"} <= set(head.columns)
    assert (head["n"] == 4).all()
    from zcf.experiments.plots import experiment_figures
    paths = experiment_figures(serial, tmp_path)
    assert (tmp_path / "fan_emissions.png") in paths
    if "certification" in serial.tables:
        assert (tmp_path / "fan_certification.png") in paths
    assert all(p.stat().st_size > 5000 for p in paths)


def test_a_run_is_reproduced_by_its_scenario_and_seed(serial, tiny):
    from zcf.sim import ZeroCarbonModel
    task = plan_monte_carlo(tiny, 4, seed=11).tasks[2]
    model = ZeroCarbonModel(task.scenario(), rng=int(serial.runs.loc[2, "seed"])).run()
    mine = serial.tables["emissions"]
    mine = mine[mine.run == 2].drop(columns=["run", "seed"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, model.results.emissions)
    head = serial.tables["summary"]
    head = head[head.run == 2].drop(columns=["run", "seed"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(head, model.results.summary())
