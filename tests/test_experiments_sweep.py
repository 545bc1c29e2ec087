"""Sweeps: grid shape, common random numbers across points, bad --set keys and values."""
import subprocess
import sys
from pathlib import Path

import pytest

from zcf import experiments
from zcf.experiments.engine import ExperimentError
from zcf.experiments.sweep import parse_set
from zcf.sim import Scenario, ScenarioError

ROOT = Path(__file__).resolve().parents[1]
TINY = ('extends = "jiangsu"\nname = "tiny"\n[population]\nfirms = 200\n[time]\nend_year = 2026\n'
        '[uncertainty]\n"prices.eur_cny" = { dist = "uniform", loc = 7.4, scale = 0.8 }\n')
GRID = {"ets.price_cny_per_tco2.2030": [100, 250.5], "cbam.enabled": [True, False],
        "population.firms": [150]}


@pytest.fixture(scope="module")
def swept(scenario_file):
    return experiments.sweep(Scenario.load(scenario_file), GRID, runs_per_point=2, seed=4,
                             workers=1, progress=False)


def test_grid_shape_and_point_columns(swept):
    runs = swept.runs
    assert len(runs) == 2 * 2 * 1 * 2 and runs["run"].tolist() == list(range(8))
    assert list(runs.columns[:7]) == ["run", "seed", "point", "ets.price_cny_per_tco2.2030",
                                      "cbam.enabled", "population.firms", "replicate"]
    assert runs["ets.price_cny_per_tco2.2030"].tolist() == [100.0] * 4 + [250.5] * 4  # one dtype
    assert runs["cbam.enabled"].tolist() == [True, True, False, False] * 2
    assert runs["point"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    emis = swept.tables["emissions"]
    assert list(emis.columns[:7]) == list(runs.columns[:7])
    assert (emis.groupby(["run", "year"])["agents"].sum() == 150).all()  # the lever is applied
    s = swept.summary("emissions", by=["year"])
    assert len(s[s.metric == "net_tco2"]) == 4 * 2                      # points x years
    assert set(swept.point_columns) == {"point", *GRID}


def test_common_random_numbers_across_points(swept):
    runs = swept.runs
    by_rep = runs.groupby("replicate")
    assert (by_rep["seed"].nunique() == 1).all() and runs["seed"].nunique() == 2
    assert (by_rep["prices.eur_cny"].nunique() == 1).all()
    emis = swept.tables["emissions"]
    first = emis[emis.year == 2025]
    # same replicate -> the same firms drawn at every point (the population does not depend on
    # the swept levers), so the groups and their agent counts match point by point
    for r in (0, 1):
        counts = [first[(first.replicate == r) & (first.point == p)][["industry", "province",
                                                                     "agents"]].reset_index(drop=True)
                  for p in range(4)]
        for c in counts[1:]:
            assert c.equals(counts[0])


def test_parse_set():
    assert parse_set("ets.price_cny_per_tco2.2030=100,150.5") == ("ets.price_cny_per_tco2.2030",
                                                                   [100, 150.5])
    assert parse_set("cbam.enabled=true,false") == ("cbam.enabled", [True, False])
    assert parse_set("cbam.extra_coverage=direct") == ("cbam.extra_coverage", ["direct"])
    for bad in ("ets.price", "=1,2", "a.b=", "a.b=1,,2"):
        with pytest.raises(ExperimentError, match="KEY=VALUE"):
            parse_set(bad)


def test_bad_keys_and_values_are_refused_before_running(scenario_file):
    scn = Scenario.load(scenario_file)
    for grid, words in [({"ets.foo": [1]}, ["ets.foo", "price_cny_per_tco2"]),
                        ({"ets.price_cny_per_tco2.2030": [-5]}, [">= 0"]),
                        ({"prices.eur_cny.x": [1]}, ["not a table"]),
                        ({"cbam.enabled": ["maybe"]}, ["cbam.enabled"])]:
        with pytest.raises(ScenarioError) as e:
            experiments.sweep(scn, grid, 1, workers=1, progress=False)
        assert all(w in str(e.value) for w in words), str(e.value)
    with pytest.raises(ExperimentError, match="runs per point"):
        experiments.sweep(scn, {"cbam.enabled": [True]}, 0, progress=False)


@pytest.mark.parametrize("args, words", [
    (["--set", "ets.foo=1,2"], ["--set ets.foo", "unknown key", "price_cny_per_tco2"]),
    (["--set", "ets.price_cny_per_tco2.2030=100,-1"], ["ets.price_cny_per_tco2.2030", ">= 0"]),
    (["--set", "ets.price_cny_per_tco2.2030"], ["KEY=VALUE"]),
    (["--set", "cbam.enabled=true", "--set", "cbam.enabled=false"], ["twice"]),
])
def test_cli_bad_set_exits_2_without_traceback(args, words):
    p = subprocess.run([sys.executable, "-m", "zcf.sim.cli", "sweep", "jiangsu", *args,
                        "--runs-per-point", "1", "--firms", "100", "--quiet"],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert all(w in p.stderr for w in words), p.stderr
