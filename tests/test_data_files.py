"""Options and data as files: a researcher adds a retrofit option without touching code, points a
scenario at their own copy of any data table, and bad tables are refused with one line."""
import subprocess
import sys

import pandas as pd
import pytest

from zcf.sim import Scenario, ScenarioError, ZeroCarbonModel
from zcf.sim.datasets import TABLES, _packaged, load_data, schema


def copy_table(tmp_path, name: str) -> pd.DataFrame:
    with _packaged(f"{name}.csv").open("rb") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def write(tmp_path, name: str, df: pd.DataFrame):
    path = tmp_path / f"my_{name}.csv"
    df.to_csv(path, index=False)
    return path


def with_new_option(tmp_path):
    """Copies of retrofits.csv and retrofit_applicability.csv with a cheap heat-recovery retrofit
    (kind: efficiency) for machinery and textiles."""
    r = copy_table(tmp_path, "retrofits")
    row = r[r.option == "efficiency"].iloc[0].copy()
    row["option"], row["label"] = "heat_recovery", "Compressor and oven heat recovery"
    row["capex_cny_per_unit"], row["source"] = "60", "ASSUMPTION: test option"
    r = pd.concat([r, row.to_frame().T], ignore_index=True)
    a = copy_table(tmp_path, "retrofit_applicability")
    extra = pd.DataFrame({"industry": ["machinery", "textiles"], "option": "heat_recovery",
                          "max_share_frac": "0.08", "source": "ASSUMPTION: test"})
    a = pd.concat([a, extra], ignore_index=True)
    return write(tmp_path, "retrofits", r), write(tmp_path, "retrofit_applicability", a)


def test_an_option_added_in_a_data_file_is_adopted(tmp_path):
    retro, applic = with_new_option(tmp_path)
    scn_file = tmp_path / "heat.toml"
    scn_file.write_text(f'extends = "jiangsu"\n[population]\nfirms = 2000\n[time]\nend_year = 2032\n'
                        f'[data]\nretrofits = "{retro.name}"\nretrofit_applicability = "{applic.name}"\n'
                        f'[subsidy]\ncapex_share = {{ heat_recovery = 0.2 }}\n')
    scn = Scenario.load(scn_file)
    assert scn.data_files["retrofits"] == str(retro.resolve())
    m = ZeroCarbonModel(scn, rng=1).run()
    assert m.setting.options.ids[-1] == "heat_recovery"
    a = m.results.adoption
    taken = a[(a.option == "heat_recovery") & (a.year == 2032)]
    assert taken.firms.sum() > 0
    assert set(taken[taken.firms > 0].industry) <= {"machinery", "textiles"}
    assert a[a.option == "heat_recovery"].capex_cny.sum() > 0


def test_an_unknown_option_in_a_scenario_is_refused_without_its_data_file(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text('extends = "jiangsu"\n[subsidy]\ncapex_share = { heat_recovery = 0.2 }\n')
    with pytest.raises(ScenarioError, match="heat_recovery.*allowed: rooftop_pv"):
        Scenario.load(f)


def test_every_packaged_table_and_column_is_in_the_schema():
    s = schema()
    assert set(s.file) == set(TABLES)
    for name in TABLES:
        assert list(copy_table(None, name).columns) == list(s[s.file == name].column), name
    assert load_data().option_ids[0] == "rooftop_pv"


@pytest.mark.parametrize("table,change,words", [
    ("retrofits", lambda d: d.assign(lifetime_yr=d.lifetime_yr.where(d.index != 2, "ten")),
     ["row 4", "lifetime_yr", "'ten' is not a number", "1..100"]),
    ("retrofits", lambda d: d.assign(effect_kind=d.effect_kind.where(d.index != 0, "teleport")),
     ["row 2", "effect_kind", "teleport", "onsite_pv"]),
    ("retrofits", lambda d: d.assign(wiggle="1"), ["unknown column 'wiggle'", "allowed"]),
    ("retrofits", lambda d: d.drop(columns="lead_time_yr"), ["missing column 'lead_time_yr'"]),
    ("retrofits", lambda d: pd.concat([d, d.iloc[[0]]]), ["rooftop_pv", "appears twice"]),
    ("products", lambda d: d.iloc[1:], ["no row for industry", "automobiles"]),
    ("retrofit_applicability", lambda d: d.assign(industry=d.industry.where(d.index != 0, "spaceships")),
     ["row 2", "unknown industry 'spaceships'", "steel"]),
    ("offset_supply", lambda d: d.assign(cost_min_cny_per_tco2=d.cost_min_cny_per_tco2.where(d.index != 0, "-5")),
     ["row 2", "cost_min_cny_per_tco2", "out of range", "0..100000"]),
])
def test_bad_data_tables_are_refused_naming_file_row_column(tmp_path, table, change, words):
    path = write(tmp_path, table, change(copy_table(tmp_path, table)))
    scn_file = tmp_path / "s.toml"
    scn_file.write_text(f'extends = "jiangsu"\n[data]\n{table} = "{path.name}"\n')
    with pytest.raises(ScenarioError) as e:
        Scenario.load(scn_file)
    msg = str(e.value)
    assert str(scn_file) in msg and str(path) in msg and "\n" not in msg
    for w in words:
        assert w in msg, msg
    p = subprocess.run([sys.executable, "-m", "zcf.sim.cli", "run", str(scn_file), "--firms", "100",
                        "--years", "2025-2026"], capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr and str(path) in p.stderr


def test_unknown_data_table_and_missing_file(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('extends = "jiangsu"\n[data]\nretrofitz = "x.csv"\n')
    with pytest.raises(ScenarioError, match="unknown key 'data.retrofitz'.*retrofits"):
        Scenario.load(f)
    f.write_text('extends = "jiangsu"\n[data]\nretrofits = "nowhere.csv"\n')
    with pytest.raises(ScenarioError, match="nowhere.csv: no such file"):
        Scenario.load(f)


def test_load_data_reloads_an_edited_file(tmp_path):
    retro, _ = with_new_option(tmp_path)
    assert "heat_recovery" in load_data({"retrofits": str(retro)}).option_ids
    df = pd.read_csv(retro, dtype=str, keep_default_na=False)
    df.iloc[:-1].to_csv(retro, index=False)
    assert "heat_recovery" not in load_data({"retrofits": str(retro)}).option_ids
