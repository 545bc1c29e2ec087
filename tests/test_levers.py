"""The dashboard's policy levers (``sim.levers``): at the scenario's own values they change
nothing; moved, each one writes the scenario key it names."""
import pytest

from zcf.sim import Scenario
from zcf.sim.levers import LEVERS, apply_levers, cbam_extension, lever_values, subsidised_options


@pytest.mark.parametrize("name", ["baseline", "subsidy-push", "no-offsets", "cbam-extended",
                                  "offsets-restricted"])
def test_levers_at_the_scenarios_own_values_change_nothing(name):
    scn = Scenario.load(name)
    own = lever_values(scn)
    assert set(own) == set(LEVERS)
    assert apply_levers(scn, **own).digest() == scn.digest()


def test_each_lever_writes_its_key():
    scn = Scenario.load("jiangsu")
    c = apply_levers(scn, ets_price_mult=2.0, cbam_enabled=False, cbam_extended=True,
                     subsidy_share_frac=0.4, subsidy_budget_bn_cny_per_yr=20,
                     offset_scope="own_region", offset_limit_frac=0.1,
                     certificate_credit_frac=0.0).cfg
    base = scn.cfg.ets.price_cny_per_tco2
    assert c.ets.price_cny_per_tco2 == {y: 2.0 * p for y, p in base.items()}
    assert c.cbam.enabled is False
    extra, coverage = cbam_extension()
    assert set(extra) <= set(c.cbam.extra_industries) and c.cbam.extra_coverage == coverage
    assert {o: c.subsidy.capex_share[o] for o in subsidised_options()} == \
        {o: 0.4 for o in subsidised_options()}
    assert c.subsidy.budget_cny_per_yr == 20e9
    assert (c.offsets.enabled, c.offsets.scope) == (True, "own_region")
    assert c.offsets.zero_carbon_limit_frac == 0.1
    assert c.certification.certificate_credit_frac == 0.0
    off = apply_levers(scn, offset_scope="none").cfg
    assert off.offsets.enabled is False
    assert apply_levers(Scenario.load("subsidy-push"),
                        subsidy_budget_bn_cny_per_yr=None).cfg.subsidy.budget_cny_per_yr is None


def test_unknown_lever_or_scope_is_refused():
    scn = Scenario.load("jiangsu")
    with pytest.raises(ValueError, match="levers: ets_price_mult"):
        apply_levers(scn, carbon_tax=1.0)
    with pytest.raises(ValueError, match="own_province"):
        apply_levers(scn, offset_scope="galactic")
