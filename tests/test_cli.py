"""The zcf command line end to end on small populations."""
import json
import subprocess
import sys

import pandas as pd
import pytest

FACTORY = """industry = "{industry}"
province = "{province}"
year = 2030
output = 1000000
[fuels]
coal_t = 400000
natural_gas_m3 = 1000000
[electricity]
grid_mwh = 300000
green_certificate_mwh = 100000
[process]
process_tco2 = 100000
[exports]
eu_output = 100000
"""


def zcf(*args):
    p = subprocess.run([sys.executable, "-m", "zcf.sim.cli", *map(str, args)],
                       capture_output=True, text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr


def test_account_json_uses_packaged_factors(tmp_path):
    from zcf.sim.datasets import defaults
    from zcf.sim.policy import policy_for_year
    from zcf.sim.scenario import Scenario
    f = tmp_path / "f.toml"
    f.write_text(FACTORY.format(industry="steel", province="Hebei"))
    code, out, err = zcf("account", f, "--json")
    assert code == 0, err
    r = json.loads(out)
    assert list(r) == ["scope1_tco2", "scope2_location_tco2", "scope2_market_tco2",
                       "footprint_tco2_per_unit", "cbam_embedded_tco2", "cbam_certificates",
                       "cbam_cost_eur"]
    data = defaults()
    fac = policy_for_year(Scenario.load("baseline").cfg, data, 2030).factors
    hebei = data.province_names.index("Hebei")
    s1 = 400000 * fac.coal_tco2_per_t + 1e6 * fac.natural_gas_tco2_per_m3 + 100000
    assert r["scope1_tco2"] == pytest.approx(s1)
    assert r["scope2_location_tco2"] == pytest.approx(300000 * fac.grid_tco2_per_mwh_by_prov[hebei])
    assert r["cbam_embedded_tco2"] == pytest.approx(0.1 * s1)     # steel: direct only


def test_account_bad_files_exit_2_without_traceback(tmp_path):
    f = tmp_path / "f.toml"
    for text, words in [
        (FACTORY.format(industry="steel", province="Atlantis"), ["province", "Atlantis", "Hebei"]),
        (FACTORY.format(industry="spaceships", province="Hebei"), ["industry", "steel"]),
        (FACTORY.format(industry="steel", province="Hebei") + "[fuels2]\nx = 1\n", ["fuels2"]),
        (FACTORY.format(industry="steel", province="Hebei").replace("coal_t = 400000",
                                                                   "coal_t = -4"), ["fuels.coal_t", ">= 0"]),
    ]:
        f.write_text(text)
        code, out, err = zcf("account", f, "--json")
        assert code == 2 and "Traceback" not in err
        assert str(f) in err and all(w in err for w in words), err


def test_run_writes_parquet_and_figure(tmp_path):
    code, out, err = zcf("run", "jiangsu", "--firms", "500", "--years", "2025-2027", "--seed", "3",
                         "--out", tmp_path / "r", "--quiet")
    assert code == 0, err
    assert "net emissions" in out
    e = pd.read_parquet(tmp_path / "r" / "emissions.parquet")
    assert sorted(e.year.unique()) == [2025, 2026, 2027]
    assert (tmp_path / "r" / "emissions_by_industry.png").stat().st_size > 5000


def test_run_bad_scenario_and_years_exit_2(tmp_path):
    code, _, err = zcf("run", "nowhere")
    assert code == 2 and "baseline" in err and "Traceback" not in err
    code, _, err = zcf("run", "jiangsu", "--years", "2030-2020")
    assert code == 2 and "--years" in err
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "jiangsu"\n[population]\nfirms = 0\n')
    code, _, err = zcf("run", bad)
    assert code == 2 and "population.firms" in err and ">= 1" in err


def test_scenarios_lists_packaged():
    code, out, _ = zcf("scenarios")
    assert code == 0 and "baseline" in out and "jiangsu" in out
