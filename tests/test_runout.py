"""``zcf run --out``: tables tagged with scenario and seed, a manifest that reproduces the run,
figures in PNG, SVG or PDF at a chosen resolution, with an optional caption."""
import json
import subprocess
import sys

import matplotlib
import matplotlib.image
import numpy as np
import pandas as pd
import pytest

import zcf
from zcf.sim import Scenario, ZeroCarbonModel
from zcf.sim.runout import caption, model_seed, write_run


def zcf_cli(*args):
    p = subprocess.run([sys.executable, "-m", "zcf.sim.cli", *map(str, args)],
                       capture_output=True, text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run") / "r"
    code, stdout, err = zcf_cli("run", "jiangsu", "--firms", "600", "--years", "2025-2028",
                                "--seed", "5", "--out", folder, "--quiet")
    assert code == 0, err
    assert "manifest.json" in stdout
    return folder


def test_manifest_says_what_the_run_was_and_reproduces_it(out):
    m = json.loads((out / "manifest.json").read_text())
    assert (m["format"], m["kind"], m["seed"], m["firm_agents"]) == ("zcf-run/1", "run", 5, 600)
    assert m["package"] == {"name": "zcf-sim", "version": zcf.__version__}
    assert m["command"].startswith("zcf run jiangsu --firms 600")
    assert m["years"] == [2025, 2028] and "2025" in m["money"]
    assert set(m["files"]["tables"]) == {p.name for p in out.glob("*.parquet")}
    assert set(m["files"]["figures"]) == {p.name for p in out.glob("*.png")}
    scn = Scenario(m["scenario"]["contents"], source="manifest")
    assert scn.digest() == m["scenario"]["digest"] == Scenario.load("jiangsu").replace(
        {"population.firms": 600, "time.end_year": 2028}).digest()
    again = ZeroCarbonModel(scn, rng=m["seed"]).run().results.emissions
    stored = pd.read_parquet(out / "emissions.parquet")
    pd.testing.assert_frame_equal(stored.drop(columns=["scenario", "seed"]), again)


def test_every_table_carries_scenario_and_seed(out):
    for path in [*out.glob("*.parquet")]:
        df = pd.read_parquet(path)
        assert list(df.columns[:2]) == ["scenario", "seed"], path.name
        assert set(df["scenario"]) <= {"jiangsu"} and set(df["seed"]) <= {5}
    s = pd.read_csv(out / "summary.csv")
    assert list(s.columns) == ["scenario", "seed", "metric", "value", "unit"]


def test_figure_formats_resolution_and_caption(tmp_path):
    model = ZeroCarbonModel("jiangsu", rng=2, firms=400)
    model.run_for(3)
    assert model_seed(model) == 2
    lo = write_run(model, tmp_path / "lo", dpi=60)
    hi = write_run(model, tmp_path / "hi", dpi=120)
    name = "emissions_by_industry.png"
    assert name in lo["figures"] and name in hi["figures"]
    w_lo = matplotlib.image.imread(tmp_path / "lo" / name).shape[1]
    w_hi = matplotlib.image.imread(tmp_path / "hi" / name).shape[1]
    assert 1.8 < w_hi / w_lo < 2.2
    pdf = write_run(model, tmp_path / "pdf", figure_format="pdf")
    assert all((tmp_path / "pdf" / f).read_bytes()[:5] == b"%PDF-" for f in pdf["figures"])
    assert not list((tmp_path / "pdf").glob("*.png"))
    text = caption(model, 2)
    assert text == (f"scenario jiangsu, seed 2, 400 firm agents "
                    f"({model.firms.weight.sum():,.0f} factories), 2025-2027")
    with matplotlib.rc_context({"svg.fonttype": "none"}):      # text kept as text in the SVG
        svg = write_run(model, tmp_path / "svg", figure_format="svg", with_caption=True)
        plain = write_run(model, tmp_path / "plain", figure_format="svg")
    for f in svg["figures"]:
        assert text in (tmp_path / "svg" / f).read_text()
    assert text not in (tmp_path / "plain" / plain["figures"][0]).read_text()
    assert model_seed(ZeroCarbonModel("jiangsu", rng=np.random.default_rng(1), firms=100)) is None


def test_bad_figure_options_exit_2(tmp_path):
    code, _, err = zcf_cli("run", "jiangsu", "--firms", "100", "--out", tmp_path, "--dpi", "0")
    assert code == 2 and "--dpi" in err and "Traceback" not in err
    code, _, err = zcf_cli("run", "jiangsu", "--firms", "100", "--format", "pdf")
    assert code == 2 and "--out" in err
    code, _, err = zcf_cli("run", "jiangsu", "--format", "gif", "--out", tmp_path)
    assert code == 2 and "png" in err
