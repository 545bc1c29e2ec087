"""Sensitivity: Sobol indices of the Ishigami function (known answer) through the experiment code
path, Morris on a linear function (known elementary effects), and a small model case."""
import math

import numpy as np
import pandas as pd
import pytest

from zcf import experiments
from zcf.experiments.engine import ExperimentError
from zcf.experiments.summary import MetricError, parse_metric
from zcf.sim import Scenario

# three scenario shares in [0, 1], each mapped to x in [-pi, pi]
KEYS = ["cbam.verified_share_leaders", "cbam.verified_share_others", "ets.offset_limit_frac"]


def with_uncertainty(section, base="jiangsu"):
    raw = dict(Scenario.load(base).raw)
    raw["uncertainty"] = section
    return Scenario(raw, source="test.toml")


def _shares(scn):
    c = scn.cfg
    return c.cbam.verified_share_leaders, c.cbam.verified_share_others, c.ets.offset_limit_frac


def ishigami(scn, seed):
    x1, x2, x3 = (-math.pi + 2 * math.pi * v for v in _shares(scn))
    y = math.sin(x1) + 7.0 * math.sin(x2) ** 2 + 0.1 * x3 ** 4 * math.sin(x1)
    return {"f": pd.DataFrame({"year": [2025, 2026], "y": [y, 0.0]})}


def linear(scn, seed):
    a, b, c = _shares(scn)
    return {"f": pd.DataFrame({"year": [2025], "y": [4.0 * a - 2.0 * b + 0.0 * c]})}


def ishigami_truth(a=7.0, b=0.1):
    v1 = 0.5 * (1 + b * math.pi ** 4 / 5) ** 2
    v2 = a ** 2 / 8
    v13 = b ** 2 * math.pi ** 8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return {"S1": [v1 / v, v2 / v, 0.0], "ST": [(v1 + v13) / v, v2 / v, v13 / v]}


def test_sobol_recovers_the_ishigami_indices():
    scn = with_uncertainty({k: {"dist": "uniform", "loc": 0.0, "scale": 1.0} for k in KEYS})
    res = experiments.sensitivity(scn, "f.y@2025", method="sobol", samples=1024, seed=0,
                                  workers=1, progress=False, run_fn=ishigami)
    assert len(res.runs) == 1024 * (3 + 2)
    ind = res.indices
    assert list(ind.columns) == ["output", "method", "parameter", "index", "value", "conf",
                                 "low", "high"]
    truth = ishigami_truth()
    for kind, tol in (("S1", 0.06), ("ST", 0.03)):
        got = ind[ind["index"] == kind].set_index("parameter").loc[KEYS]
        np.testing.assert_allclose(got["value"], truth[kind], atol=tol)
        assert (got["conf"] > 0).all() and (got["conf"] < 0.15).all()
    # the same runs, another output: no new runs, analysed again
    again = res.analyse("f.y")
    assert np.allclose(again["value"], ind["value"])


def test_morris_elementary_effects_of_a_linear_function():
    scn = with_uncertainty({KEYS[0]: {"dist": "uniform", "loc": 0.0, "scale": 1.0},
                            KEYS[1]: {"dist": "uniform", "loc": 0.2, "scale": 0.5},
                            KEYS[2]: {"dist": "uniform", "loc": 0.0, "scale": 1.0}})
    res = experiments.sensitivity(scn, "f.y@2025", method="morris", samples=10, seed=1,
                                  workers=1, progress=False, run_fn=linear)
    assert len(res.runs) == 10 * (3 + 1)
    mu_star = res.indices[res.indices["index"] == "mu_star"].set_index("parameter")["value"]
    # levels at the centres of 4 equal-probability bins: a step of 2/3 in the design moves the
    # quantile by 1/2, so the effect is slope x scale x 3/4
    np.testing.assert_allclose(mu_star.loc[KEYS], [4.0 * 0.75, 2.0 * 0.5 * 0.75, 0.0], atol=1e-9)


def test_small_model_case(tmp_path):
    path = tmp_path / "m.toml"
    # textiles only: output is then in one unit (CNY 10k of output) and may be summed
    path.write_text('extends = "jiangsu"\n[population]\nfirms = 200\nindustries = ["textiles"]\n'
                    '[time]\nend_year = 2027\n'
                    '[growth]\noutput_growth_frac_per_yr = { textiles = 0.03 }\n[uncertainty]\n'
                    '"growth.output_growth_frac_per_yr.textiles" = '
                    '{ dist = "uniform", loc = -0.1, scale = 0.4 }\n'
                    '"ets.price_cny_per_tco2.2050" = { dist = "lognorm", s = 0.3, scale = 260 }\n')
    res = experiments.sensitivity(path, "emissions.output@2027", samples=8, seed=2, workers=1,
                                  progress=False, out=tmp_path / "sa")
    st = res.indices[res.indices["index"] == "ST"].set_index("parameter")["value"]
    conf = res.indices[res.indices["index"] == "ST"].set_index("parameter")["conf"]
    # output in 2027 is a function of textile growth alone: ST = 1 for it and 0 for the 2050
    # price anchor (every run uses one model seed, so nothing else varies)
    growth = "growth.output_growth_frac_per_yr.textiles"
    assert abs(st[growth] - 1.0) <= conf[growth] and st[growth] > 0.5
    assert st["ets.price_cny_per_tco2.2050"] == 0.0
    assert res.runs["seed"].nunique() == 1                             # one model seed for all
    stored = experiments.load(tmp_path / "sa", output="emissions.output@2027")
    pd.testing.assert_frame_equal(stored.indices, res.indices)


def test_bad_outputs_and_options():
    scn = with_uncertainty({KEYS[0]: {"dist": "uniform", "loc": 0.0, "scale": 1.0}})
    assert parse_metric("emissions.net_tco2@2035").year == 2035
    assert parse_metric("emissions.net_tco2").year is None
    with pytest.raises(MetricError, match="TABLE.COLUMN@YEAR"):
        parse_metric("net_tco2@2035")
    run = dict(workers=1, progress=False, run_fn=linear)
    for kw, word in [({"output": "f.z@2025"}, "no numeric column 'z'"),
                     ({"output": "g.y@2025"}, "no table 'g'"),
                     ({"output": "f.y@2031"}, "year 2031"),
                     ({"output": "f.y", "samples": 12}, "power of 2"),
                     ({"output": "f.y", "method": "fast"}, "sobol, morris")]:
        with pytest.raises(ExperimentError, match=word):
            experiments.sensitivity(scn, **{"samples": 4, **kw}, **run)
    with pytest.raises(ExperimentError, match="no \\[uncertainty\\]"):
        experiments.sensitivity("jiangsu", "f.y", samples=4, **run)
