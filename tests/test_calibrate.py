"""zcf calibrate: ABC-SMC (pyabc) through the experiments engine recovers the known parameters of a
toy problem, gives the same posterior for any worker count and when resumed, and on the real
model writes a posterior scenario that `zcf mc` runs as it is; bad --params, windows and priors
get one-line errors."""
import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyabc")

from zcf import experiments  # noqa: E402
from zcf.experiments.calibrate import calibrate, parse_window, resolve_priors  # noqa: E402
from zcf.experiments.engine import ExperimentError  # noqa: E402
from zcf.sim import Scenario  # noqa: E402
from zcf.sim.datasets import defaults  # noqa: E402
from zcf.sim.cli import main  # noqa: E402
from zcf.sim.scenario import ScenarioError  # noqa: E402

HEADER = ("quantity,description,unit,year,value,low,high,metric,metric_scale,tolerance_frac,use,"
          "source,note\n")
A, B = 0.9, 0.03            # the toy's true peer_weight and hurdle_spread_frac
NOISE_SD = 0.002


def toy(scn, seed):
    """Two outputs that pin both parameters (y1 = a + 10 b, y2 = a - 10 b, a little noise in
    y1), and their 2026 values for the held-back check."""
    a, b = scn.cfg.behaviour.peer_weight, scn.cfg.behaviour.hurdle_spread_frac
    e = np.random.default_rng(seed).normal(0.0, NOISE_SD)
    return {"toy": pd.DataFrame({"year": [2025, 2026], "y1": [a + 10 * b + e, a + 20 * b],
                                 "y2": [a - 10 * b, a - 20 * b]})}


@pytest.fixture(scope="module")
def toy_obs(tmp_path_factory):
    path = tmp_path_factory.mktemp("obs") / "toy.csv"
    path.write_text(HEADER
                    + f"y1,toy,u,2025,{A + 10 * B},,,toy.y1@2025,,0.01,calibrate,truth,\n"
                    + f"y2,toy,u,2025,{A - 10 * B},,,toy.y2@2025,,0.01,calibrate,truth,\n"
                    + f"y1,toy,u,2026,{A + 20 * B},,,toy.y1@2026,,0.01,validate,truth,\n")
    return path


def run_toy(out, toy_obs, **kw):
    args = dict(observations=toy_obs, population=40, generations=6, check_runs=1, workers=1,
                progress=False, run_fn=toy)
    return calibrate("jiangsu", ["peer_weight", "hurdle_spread_frac"], "2025", out=out,
                     **{**args, **kw})


def test_toy_problem_known_answer_is_recovered(tmp_path, toy_obs):
    res = run_toy(tmp_path / "cal", toy_obs)
    s = res.summary.set_index("parameter")
    for key, truth in (("behaviour.peer_weight", A), ("behaviour.hurdle_spread_frac", B)):
        assert s.loc[key, "q05"] <= truth <= s.loc[key, "q95"], s
        assert abs(res.fitted[key] - truth) <= 0.05 * truth, s
        # the posterior is far narrower than the prior (uniform 0-1.5 and 0-0.06)
        assert s.loc[key, "sd"] < 0.1 * (1.5 if "peer" in key else 0.06)
    assert list(res.generations.generation) == list(range(6))
    assert res.generations.epsilon.is_monotonic_decreasing
    # the posterior is a scenario: fitted values and an [uncertainty] table of truncated normals
    post = Scenario.load(tmp_path / "cal" / "posterior.toml")
    assert post.cfg.behaviour.peer_weight == pytest.approx(res.fitted["behaviour.peer_weight"])
    unc = post.raw["uncertainty"]
    assert unc["behaviour.peer_weight"]["dist"] == "truncnorm"
    assert unc["behaviour.peer_weight"]["loc"] == pytest.approx(s.loc["behaviour.peer_weight",
                                                                      "mean"])
    parts = pd.read_csv(tmp_path / "cal" / "posterior.csv")
    assert len(parts) == 40 and abs(parts.weight.sum() - 1.0) < 1e-9
    # the held-back 2026 row is reported out of sample
    roles = res.errors.set_index(["role", "quantity"])
    assert ("held back", "y1") in roles.index and ("fit", "y2") in roles.index
    md = (tmp_path / "cal" / "calibration.md").read_text()
    assert "## Out of sample" in md and "held back" in md


def test_same_posterior_for_any_worker_count_and_when_resumed(tmp_path, toy_obs):
    small = dict(population=8, check_runs=0)
    one = run_toy(tmp_path / "one", toy_obs, generations=2, **small)
    two = run_toy(tmp_path / "two", toy_obs, generations=2, workers=2, **small)
    pd.testing.assert_frame_equal(one.posterior, two.posterior)
    run_toy(tmp_path / "resumed", toy_obs, generations=1, **small)
    again = run_toy(tmp_path / "resumed", toy_obs, generations=2, **small)   # continues
    pd.testing.assert_frame_equal(one.posterior, again.posterior)
    with pytest.raises(ExperimentError, match="other settings"):
        run_toy(tmp_path / "resumed", toy_obs, generations=2, population=9, check_runs=0)


def test_real_model_posterior_feeds_monte_carlo(tmp_path):
    obs = tmp_path / "obs.csv"       # test data: efficiency retrofits in Jiangsu by 2026
    obs.write_text(HEADER + "eff,test,factories,2026,5500,,,adoption.firms@2026[option="
                   "efficiency],,0.2,calibrate,test data,\n")
    scn = Scenario.load("jiangsu").replace({"population.firms": 200})
    res = calibrate(scn, ["follower_awareness_frac"], "2025-2026", observations=obs,
                    population=8, generations=1, check_runs=1, workers=1, out=tmp_path / "cal",
                    progress=False)
    key = "behaviour.follower_awareness_frac"
    assert 0.02 <= res.fitted[key] <= 0.3                        # inside the packaged prior
    code = main(["mc", str(tmp_path / "cal" / "posterior.toml"), "--runs", "2", "--workers", "1",
                 "--out", str(tmp_path / "mc"), "--quiet"])
    assert code == 0
    mc = experiments.load(tmp_path / "mc")
    drawn = mc.runs[key]
    assert drawn.nunique() == 2 and drawn.between(0.02, 0.3).all()
    assert mc.scenario.name == "jiangsu-calibrated" and "emissions" in mc.tables
    assert mc.tables["emissions"].year.max() == scn.cfg.time.end_year   # the whole scenario
    with pytest.raises(ExperimentError, match="a calibration folder is not an experiment"):
        experiments.load(tmp_path / "cal")


def test_every_packaged_prior_is_a_numeric_key_inside_its_range():
    keys = list(defaults().calibration_priors.index)
    params = resolve_priors("baseline", keys)
    assert [p.key for p in params] == keys
    assert [p.key for p in resolve_priors("baseline", ["logit_beta"])] == ["behaviour.logit_beta"]


def with_uncertainty(section):
    raw = dict(Scenario.load("jiangsu").raw)
    raw["uncertainty"] = section
    return Scenario(raw, source="test.toml")


@pytest.mark.parametrize("params,words", [
    (["logit_betta"], "--params logit_betta: no prior for it; allowed: behaviour."),
    ([" "], "at least one parameter"),
    (["logit_beta", "behaviour.logit_beta"], "names behaviour.logit_beta twice"),
    (["2030"], "ambiguous"),
])
def test_bad_params(params, words):
    scn = with_uncertainty({"ets.free_share.2030": {"dist": "uniform", "loc": 0.5, "scale": 0.4},
                            "cbam.free_share.2030": {"dist": "uniform", "loc": 0.4, "scale": 0.2}})
    with pytest.raises(ExperimentError, match=words.replace("[", r"\[")) as e:
        resolve_priors(scn, params)
    assert "\n" not in str(e.value)


def test_bad_windows_and_targets(tmp_path, toy_obs):
    with pytest.raises(ExperimentError, match="--window must look like 2020-2022"):
        parse_window("2020:2022")
    with pytest.raises(ExperimentError, match="end 2020 is before start 2022"):
        parse_window("2022-2020")
    kw = dict(observations=toy_obs, workers=1, progress=False, run_fn=toy, out=tmp_path / "x")
    with pytest.raises(ExperimentError, match="outside the simulated years 2025-2060.*hindcast"):
        calibrate("jiangsu", ["peer_weight"], "2020-2022", **kw)
    with pytest.raises(ExperimentError, match="no observation marked use=calibrate .* 2027-2028"):
        calibrate("jiangsu", ["peer_weight"], "2027-2028", **kw)


def test_bad_priors_files_and_priors(tmp_path):
    bad = tmp_path / "priors.csv"
    bad.write_text("key,dist,low,high,source\nbehaviour.logit_beta,uniform,5,2,x\n")
    scn_file = tmp_path / "s.toml"
    scn_file.write_text(f'extends = "jiangsu"\n[data]\ncalibration_priors = "{bad.name}"\n')
    with pytest.raises(ScenarioError, match="row 2, column 'high': 2 is not above low 5"):
        Scenario.load(scn_file)
    bad.write_text("key,dist,low,high,source\nbehaviour.peer_weight,uniform,-1,2,x\n")
    with pytest.raises(ExperimentError) as e:
        resolve_priors(Scenario.load(scn_file), ["peer_weight"])
    assert f"{bad}: row 2: prior of behaviour.peer_weight" in str(e.value)
    assert ">= 0" in str(e.value) and "\n" not in str(e.value)
    bad.write_text("key,dist,low,high,source\nbehaviour.nonsense,uniform,0,1,x\n")
    with pytest.raises(ExperimentError, match="no such value in the scenario"):
        resolve_priors(Scenario.load(scn_file), ["nonsense"])


def test_command_line_errors_are_one_line(tmp_path, capsys):
    for args, words in ((["--params", "logit_betta", "--window", "2025-2026"],
                         "--params logit_betta: no prior for it"),
                        (["--params", "logit_beta", "--window", "2025_2026"],
                         "--window must look like 2020-2022 or 2025")):
        assert main(["calibrate", "jiangsu", *args, "--out", str(tmp_path / "c")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and words in err, err
