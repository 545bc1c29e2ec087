"""Scenario loading, inheritance, overrides and every error path."""
import pytest

from zcf.sim import Scenario, ScenarioError


def write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_packaged_scenarios_load_and_inherit():
    names = Scenario.names()
    assert {"baseline", "jiangsu"} <= set(names)
    base, js = Scenario.load("baseline"), Scenario.load("jiangsu")
    assert base.cfg.population.firms == 500_000
    assert js.cfg.population.provinces == ["Jiangsu"]
    assert js.cfg.ets.price_cny_per_tco2 == base.cfg.ets.price_cny_per_tco2   # inherited


def test_extends_from_a_user_file_merges_tables(tmp_path):
    p = write(tmp_path, 'extends = "baseline"\n[ets]\nprice_cny_per_tco2 = {2030 = 200.0}\n')
    s = Scenario.load(p)
    # a year path is a table too: the override replaces one anchor and keeps the others
    assert s.cfg.ets.price_cny_per_tco2[2030] == 200.0
    assert s.cfg.ets.price_cny_per_tco2[2025] == Scenario.load("baseline").cfg.ets.price_cny_per_tco2[2025]
    assert s.cfg.ets.offset_limit_frac == 0.05        # sibling keys of the same table kept
    assert s.name == "s"


def test_replace_dotted_and_nested_revalidates():
    s = Scenario.load("jiangsu").replace({"population.firms": 123, "ets": {"offset_limit_frac": 0.1}})
    assert s.cfg.population.firms == 123 and s.cfg.ets.offset_limit_frac == 0.1
    with pytest.raises(ScenarioError, match="population.firms"):
        Scenario.load("jiangsu").replace({"population.firms": -5})


@pytest.mark.parametrize("text, key, allowed", [
    ('extends = "baseline"\n[ets]\nprice_cny = 3\n', "ets.price_cny", "price_cny_per_tco2"),
    ('extends = "baseline"\n[population]\nfirms = "many"\n', "population.firms", "integer"),
    ('extends = "baseline"\n[ets]\noffset_limit_frac = 1.5\n', "ets.offset_limit_frac", "<= 1"),
    ('extends = "baseline"\n[population]\nprovinces = ["Atlantis"]\n', "population.provinces",
     "Jiangsu"),
    ('extends = "baseline"\n[cbam]\nextra_industries = ["spaceships"]\n', "cbam.extra_industries",
     "automobiles"),
    ('extends = "baseline"\nbogus = 1\n', "bogus", "population"),
    ('extends = "baseline"\n[[buyers.premiums]]\nindustry = "spaceships"\nfrom_year = 2027\n'
     'max_footprint_tco2_per_unit = 0.6\npremium_cny_per_unit = 600\nshare_frac = 0.2\n',
     "buyers.premiums", "steel"),
    ('extends = "baseline"\n[[buyers.premiums]]\nindustry = "steel"\nfrom_year = 2027\n'
     'max_footprint_tco2_per_unit = 0.6\npremium_cny_per_unit = 600\nshare_frac = 2\n',
     "buyers.premiums", "<= 1"),
    ('extends = "baseline"\n[limits]\nscrap_mt = { 2025 = 250 }\n', "limits.scrap_mt",
     "scrap_mt_per_yr"),
    ('extends = "baseline"\n[prices]\nhydrogen_green_cny_per_kg = { 2030 = -3 }\n',
     "prices.hydrogen_green_cny_per_kg", ">= 0"),
])
def test_errors_name_file_key_and_what_is_allowed(tmp_path, text, key, allowed):
    p = write(tmp_path, text)
    with pytest.raises(ScenarioError) as e:
        Scenario.load(p)
    msg = str(e.value)
    assert str(p) in msg and key in msg and allowed in msg
    assert len(msg.splitlines()) == 1


def test_missing_parent_bad_toml_and_cycles(tmp_path):
    with pytest.raises(ScenarioError, match="no scenario 'nowhere'"):
        Scenario.load(write(tmp_path, 'extends = "nowhere"\n'))
    with pytest.raises(ScenarioError, match="not valid TOML"):
        Scenario.load(write(tmp_path, "[ets\n"))
    write(tmp_path, 'extends = "b.toml"\n', "a.toml")
    write(tmp_path, 'extends = "a.toml"\n', "b.toml")
    with pytest.raises(ScenarioError, match="cycle"):
        Scenario.load(tmp_path / "a.toml")


def test_end_before_start_is_refused():
    with pytest.raises(ScenarioError, match="time.end_year"):
        Scenario.load("jiangsu").replace({"time.start_year": 2040, "time.end_year": 2030})
