"""The [uncertainty] section: parsing, validation messages, drawing and applying values."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from zcf.sim import Scenario, ScenarioError
from zcf.sim.uncertainty import (ALIASES, DISTRIBUTIONS, Parameter, apply_values, draw, draw_scenario,
                             parameters, values_at, values_table)

ROOT = Path(__file__).resolve().parents[1]

GOOD = '''extends = "jiangsu"
name = "jiangsu-uncertain"
[uncertainty]
"ets.price_cny_per_tco2.2030" = { dist = "lognorm", s = 0.3, scale = 130 }
"cbam.verified_share_others" = { dist = "uniform", loc = 0.1, scale = 0.3 }
"prices.eur_cny" = { dist = "triangular", c = 0.5, loc = 7.4, scale = 0.8 }
'''


def write(tmp_path, text, name="u.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def with_uncertainty(section: dict, base="jiangsu") -> Scenario:
    raw = dict(Scenario.load(base).raw)
    raw["uncertainty"] = section
    return Scenario(raw, source="test.toml")


def test_section_parses_sorted_with_aliases(tmp_path):
    scn = Scenario.load(write(tmp_path, GOOD))
    params = parameters(scn)
    assert [p.key for p in params] == ["cbam.verified_share_others", "ets.price_cny_per_tco2.2030",
                                       "prices.eur_cny"]
    assert [p.dist for p in params] == ["uniform", "lognorm", "triang"]     # triangular -> triang
    assert params[1].params == {"s": 0.3, "scale": 130.0}


@pytest.mark.parametrize("spec", [
    {"dist": "normal", "loc": 130, "scale": 15},
    {"dist": "norm", "loc": 130, "scale": 15},
    {"dist": "lognormal", "s": 0.2, "scale": 130},
    {"dist": "uniform", "loc": 100, "scale": 60},
    {"dist": "triang", "c": 0.3, "loc": 100, "scale": 60},
    {"dist": "beta", "a": 2, "b": 3, "loc": 100, "scale": 60},
    {"dist": "truncnorm", "a": -2, "b": 2, "loc": 130, "scale": 10},
    {"dist": "gamma", "a": 20, "scale": 6},
])
def test_supported_distributions_draw_what_scipy_gives(spec):
    scn = with_uncertainty({"ets.price_cny_per_tco2.2030": spec})
    (p,) = parameters(scn)
    name = ALIASES.get(spec["dist"], spec["dist"])
    assert p.dist == name and name in DISTRIBUTIONS
    ref = getattr(stats, name)(**{k: v for k, v in spec.items() if k != "dist"})
    u = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(p.ppf(u), ref.ppf(u))


def test_nested_toml_tables_are_accepted_as_dotted_keys(tmp_path):
    text = GOOD.split("[uncertainty]")[0] + (
        "[uncertainty.ets.price_cny_per_tco2]\n2030 = { dist = \"uniform\", loc = 100, scale = 50 }\n")
    (p,) = parameters(Scenario.load(write(tmp_path, text)))
    assert p.key == "ets.price_cny_per_tco2.2030"


@pytest.mark.parametrize("key, spec, words", [
    ("ets.price_cny_per_tco2.2031", {"dist": "norm", "loc": 1, "scale": 1},
     ["uncertainty.ets.price_cny_per_tco2.2031", "no such value", "2030"]),
    ("ets.foo", {"dist": "norm", "loc": 1, "scale": 1}, ["uncertainty.ets.foo", "offset_limit_frac"]),
    ("ets.price_cny_per_tco2", {"dist": "norm", "loc": 1, "scale": 1}, ["is a table", "2030"]),
    ("cbam.enabled", {"dist": "uniform", "loc": 0, "scale": 1}, ["not a number"]),
    ("population.provinces", {"dist": "uniform", "loc": 0, "scale": 1}, ["not a number"]),
    ("name", {"dist": "uniform", "loc": 0, "scale": 1}, ["cannot be uncertain"]),
    ("prices.eur_cny", {"dist": "gauss", "loc": 7, "scale": 1},
     ["unknown distribution 'gauss'", "norm (normal)", "lognorm", "triang", "beta"]),
    ("prices.eur_cny", {"loc": 7, "scale": 1}, ["dist = NAME", "uniform"]),
    ("prices.eur_cny", {"dist": "beta", "a": 2, "loc": 7, "scale": 1}, ["'b' is missing", "a, b, loc, scale"]),
    ("prices.eur_cny", {"dist": "uniform", "loc": 7, "sd": 1}, ["'sd'", "loc, scale"]),
    ("prices.eur_cny", {"dist": "uniform", "loc": 7, "scale": "x"}, ["'scale'", "numbers"]),
    ("prices.eur_cny", {"dist": "uniform", "loc": 7, "scale": -1}, ["bad parameters", "scale > 0"]),
    ("prices.eur_cny", {"dist": "beta", "a": -1, "b": 2, "loc": 7, "scale": 1}, ["bad parameters"]),
    ("cbam.verified_share_others", {"dist": "norm", "loc": 0.2, "scale": 0.1},
     ["can draw", ">= 0", "truncnorm"]),
    ("prices.eur_cny", {"dist": "uniform", "loc": 7, "scale": 20}, ["can draw", "<= 20"]),
    ("population.firms", {"dist": "uniform", "loc": 200, "scale": 100}, ["whole numbers"]),
])
def test_bad_entries_name_file_key_and_what_is_allowed(key, spec, words):
    with pytest.raises(ScenarioError) as e:
        with_uncertainty({key: spec})
    msg = str(e.value)
    assert msg.startswith("test.toml: key 'uncertainty.") and "\n" not in msg
    for w in words:
        assert w in msg, msg


def test_defaults_not_written_in_the_file_can_be_uncertain():
    scn = with_uncertainty({"population.size_draw_sd_frac": {"dist": "uniform", "loc": 0.1,
                                                             "scale": 0.1}})
    drawn, values = draw_scenario(scn, np.random.default_rng(0))
    assert 0.1 <= drawn.cfg.population.size_draw_sd_frac == values["population.size_draw_sd_frac"] <= 0.2


def test_price_and_limit_paths_from_data_can_be_uncertain():
    """Hydrogen, scrap and CO2 storage prices are scenario paths whose defaults come from
    sim/data/price_paths.csv, so a year anchor can be drawn without writing the path."""
    scn = with_uncertainty({
        "prices.hydrogen_green_cny_per_kg.2030": {"dist": "uniform", "loc": 9.8, "scale": 12.2},
        "prices.co2_transport_storage_cny_per_tco2.2040": {"dist": "triang", "c": 0.5, "loc": 50,
                                                           "scale": 180},
        "limits.scrap_mt_per_yr.2030": {"dist": "uniform", "loc": 250, "scale": 80}})
    drawn, values = draw_scenario(scn, np.random.default_rng(1))
    h2 = drawn.cfg.prices.hydrogen_green_cny_per_kg
    assert 9.8 <= h2[2030] == values["prices.hydrogen_green_cny_per_kg.2030"] <= 22.0
    assert h2[2050] == 10.0                                  # the other anchors stay the data's
    assert 250 <= drawn.cfg.limits.scrap_mt_per_yr[2030] <= 330
    assert "hydrogen_green_cny_per_kg" in drawn.cfg.prices.model_fields_set   # used by the run


def test_year_keys_match_toml_strings_and_python_ints():
    js = Scenario.load("jiangsu")
    assert "2030" in js.raw["ets"]["price_cny_per_tco2"]            # TOML: string keys
    out = apply_values(js, {"ets.price_cny_per_tco2.2030": 222.0})
    path = out.raw["ets"]["price_cny_per_tco2"]
    assert path["2030"] == 222.0 and 2030 not in path                 # replaced, not duplicated
    assert out.cfg.ets.price_cny_per_tco2[2030] == 222.0
    assert out.cfg.ets.price_cny_per_tco2[2040] == js.cfg.ets.price_cny_per_tco2[2040]
    py = js.replace({"ets.price_cny_per_tco2": {2030: 150.0}})        # a Python override adds int keys
    out = apply_values(py, {"ets.price_cny_per_tco2.2030": 99.0})
    assert out.cfg.ets.price_cny_per_tco2[2030] == 99.0
    assert apply_values(js, {"ets.free_share.2045": 0.5}).cfg.ets.free_share[2045] == 0.5


def test_draws_follow_the_generator_and_drop_the_section(tmp_path):
    scn = Scenario.load(write(tmp_path, GOOD))
    a = draw(scn, np.random.default_rng(7))
    assert a == draw(scn, np.random.default_rng(7))
    assert a != draw(scn, np.random.default_rng(8))
    drawn, values = draw_scenario(scn, np.random.default_rng(7))
    assert values == a and "uncertainty" not in drawn.raw and not drawn.cfg.uncertainty
    assert drawn.cfg.prices.eur_cny == values["prices.eur_cny"]
    assert drawn.cfg.ets.price_cny_per_tco2[2030] == values["ets.price_cny_per_tco2.2030"]
    assert 0.1 <= drawn.cfg.cbam.verified_share_others <= 0.4
    params = parameters(scn)
    u = np.random.default_rng(1).random((5, 3))
    assert values_table(params, u) == [values_at(params, row) for row in u]


def test_draws_never_leave_the_validated_range():
    p = Parameter("x", "norm", {"loc": 0.0, "scale": 1.0})
    ends = p.ppf([0.0, 1.0])
    assert np.all(np.isfinite(ends)) and ends[0] == pytest.approx(-6.0, abs=0.01)


def test_inherited_section_and_child_override(tmp_path):
    write(tmp_path, GOOD, "parent.toml")
    child = write(tmp_path, 'extends = "parent.toml"\n[uncertainty]\n'
                  '"prices.eur_cny" = { dist = "triang", c = 0.2, loc = 7.0, scale = 1.0 }\n',
                  "child.toml")
    params = {p.key: p for p in parameters(Scenario.load(child))}
    assert len(params) == 3 and params["prices.eur_cny"].params["c"] == 0.2


def test_cli_refuses_a_bad_distribution_with_exit_2(tmp_path):
    bad = write(tmp_path, GOOD.replace('"uniform"', '"gaussian"'))
    p = subprocess.run([sys.executable, "-m", "zcf.sim.cli", "run", str(bad), "--firms", "100",
                        "--years", "2025-2025"], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert str(bad) in p.stderr and "uncertainty.cbam.verified_share_others" in p.stderr
    assert "gaussian" in p.stderr and "lognorm" in p.stderr
