"""ZeroCarbonModel as a Mesa model: a real DataCollector, mesa.batch_run, and the ``zcf``
namespace used from a folder that holds its own ``agents.py`` and ``experiments/`` package."""
import subprocess
import sys
import textwrap

import mesa
import numpy as np
import pandas as pd
import pytest

from zcf.sim import ZeroCarbonModel
from zcf.sim.mesa_bridge import HEADLINE


@pytest.fixture(scope="module")
def stepped(jiangsu):
    model = ZeroCarbonModel(jiangsu.replace({"population.firms": 1500}), rng=11)
    model.run_for(4)
    return model


def test_datacollector_is_mesas_and_matches_the_results_tables(stepped):
    dc = stepped.datacollector
    assert isinstance(dc, mesa.DataCollector)
    df = dc.get_model_vars_dataframe()
    assert list(df.columns) == list(HEADLINE)
    assert df["year"].tolist() == [2025, 2026, 2027, 2028]
    r = stepped.results
    e = r.emissions.groupby("year").sum(numeric_only=True)
    c = r.certification.groupby("year").sum(numeric_only=True)
    f = r.finance.groupby("year").sum(numeric_only=True)
    got = df.set_index("year")
    np.testing.assert_allclose(got["net_tco2"], e["net_tco2"], rtol=1e-12)
    np.testing.assert_allclose(got["gross_tco2"], e["scope1_tco2"] + e["scope2_market_tco2"],
                               rtol=1e-12)
    np.testing.assert_allclose(got["zero_carbon_factories"], c["zero_carbon"], rtol=1e-12)
    np.testing.assert_allclose(got["green_factories"], c["green"], rtol=1e-12)
    np.testing.assert_allclose(got["ets_cost_cny"], f["ets_cost_cny"], rtol=1e-12)
    o = r.offsets
    traded = o[o["volume_tco2"] > 0]
    want = ((traded["price_cny_per_tco2"] * traded["volume_tco2"]).groupby(traded["year"]).sum()
            / traded.groupby("year")["volume_tco2"].sum())
    np.testing.assert_allclose(got.loc[want.index, "offset_price_cny_per_tco2"], want, rtol=1e-12)
    assert got["net_tco2"].iloc[-1] != got["net_tco2"].iloc[0]      # figures of each year


def test_datacollector_stops_with_the_model(jiangsu):
    scn = jiangsu.replace({"population.firms": 500, "time.end_year": 2026})
    model = ZeroCarbonModel(scn, rng=1)
    model.run_for(5)                          # two real years, then no-op steps
    assert not model.running
    assert model.datacollector.get_model_vars_dataframe()["year"].tolist() == [2025, 2026]


def test_batch_run_over_firms_and_seeds_reproduces_single_runs():
    rows = mesa.batch_run(ZeroCarbonModel, {"scenario": "jiangsu", "firms": [400, 800]},
                          rng=[3, 4], max_steps=3, data_collection_period=1,
                          display_progress=False)
    df = pd.DataFrame(rows)
    assert len(df) == 2 * 2 * 3
    assert {"RunId", "iteration", "Step", "scenario", "firms", "rng", "year", "net_tco2",
            "zero_carbon_factories"} <= set(df.columns)
    one = df[(df["firms"] == 800) & (df["rng"] == 4)].sort_values("year")
    assert one["year"].tolist() == [2025, 2026, 2027]
    model = ZeroCarbonModel("jiangsu", rng=4, firms=800)
    model.run_for(3)
    alone = model.datacollector.get_model_vars_dataframe()
    np.testing.assert_array_equal(one["net_tco2"].to_numpy(), alone["net_tco2"].to_numpy())
    last = pd.DataFrame(mesa.batch_run(ZeroCarbonModel, {"scenario": "jiangsu", "firms": 400},
                                       rng=[3], max_steps=3, display_progress=False))
    assert last["year"].tolist() == [2027]    # default period -1: the last year only


MESA_LIKE_AGENTS = '''"""A user's own Mesa model file, as in Mesa's examples."""
import mesa


class Walker(mesa.Agent):
    pass
'''

USER_SCRIPT = '''
import mesa
import pandas as pd

import agents                                   # the user's own file, not zcf's
import experiments                              # the user's own package
from zcf.sim import Scenario, ZeroCarbonModel
from zcf import experiments as zexp

assert hasattr(agents, "Walker") and experiments.MINE is True
assert zexp.monte_carlo.__module__.startswith("zcf.experiments")

if __name__ == "__main__":
    rows = mesa.batch_run(ZeroCarbonModel, {"scenario": "jiangsu", "firms": 300},
                          rng=[1, 2], max_steps=2, number_processes=2, display_progress=False)
    df = pd.DataFrame(rows)
    assert sorted(df["rng"]) == [1, 2] and df["net_tco2"].gt(0).all(), df
    print("batch_run ok", len(df))
'''


def test_readme_tour_and_batch_run_from_a_folder_with_its_own_agents_and_experiments(tmp_path):
    from readme import python_blocks
    (tmp_path / "agents.py").write_text(MESA_LIKE_AGENTS)
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "__init__.py").write_text("MINE = True\n")
    tour = python_blocks()["A short tour"]
    (tmp_path / "tour.py").write_text(
        "from zcf.sim import ZeroCarbonModel as _Z\n"
        "import agents; assert hasattr(agents, 'Walker')\n" + tour +
        "\nprint('tour ok', model.results.emissions['year'].max())\n")
    (tmp_path / "batch.py").write_text(USER_SCRIPT)
    for script, want in (("tour.py", "tour ok 2030"), ("batch.py", "batch_run ok 2")):
        p = subprocess.run([sys.executable, script], cwd=tmp_path, capture_output=True,
                           text=True, timeout=600)
        assert p.returncode == 0, p.stderr[-3000:]
        assert want in p.stdout
