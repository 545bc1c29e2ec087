"""The main policy levers of a scenario, as a researcher turns them (used by ``zcf dashboard``).

Each lever reads its value from a scenario and writes it back as scenario overrides, so a lever
left at the scenario's own value changes nothing: the dashboard at its defaults runs the scenario
as written. Levers:

- ``ets_price_mult``: multiplier on every anchor of the ETS allowance price path
  (``ets.price_cny_per_tco2``); 1 = the scenario's path.
- ``cbam_enabled``: ``cbam.enabled``.
- ``cbam_extended``: CBAM extended to the downstream goods of the packaged ``cbam-extended``
  scenario (``cbam.extra_industries``, its coverage).
- ``subsidy_share_frac``: capex subsidy share on the options the packaged ``subsidy-push``
  scenario subsidises (``subsidy.capex_share``); the scenario's value is the largest share it gives.
- ``subsidy_budget_bn_cny_per_yr``: ``subsidy.budget_cny_per_yr`` in bn CNY (real 2025) a year;
  ``None`` = no limit.
- ``offset_scope``: ``offsets.scope`` (national, own_region, own_province) or ``none``
  (``offsets.enabled = false``).
- ``offset_limit_frac``: ``offsets.zero_carbon_limit_frac``.
- ``certificate_credit_frac``: ``certification.certificate_credit_frac``.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from zcf.sim.scenario import Scenario

OFFSET_SCOPES = ("national", "own_region", "own_province", "none")
LEVERS = ("ets_price_mult", "cbam_enabled", "cbam_extended", "subsidy_share_frac",
          "subsidy_budget_bn_cny_per_yr", "offset_scope", "offset_limit_frac",
          "certificate_credit_frac")


@cache
def _packaged(name: str) -> Scenario:
    return Scenario.load(name)


def cbam_extension() -> tuple[list[str], str]:
    """Industries and coverage the packaged ``cbam-extended`` scenario adds to CBAM."""
    cb = _packaged("cbam-extended").cfg.cbam
    return list(cb.extra_industries), cb.extra_coverage


def subsidised_options() -> list[str]:
    """Options the packaged ``subsidy-push`` scenario subsidises."""
    return list(_packaged("subsidy-push").cfg.subsidy.capex_share)


def lever_values(scn: Scenario) -> dict[str, Any]:
    """The scenario's own value of every lever."""
    c = scn.cfg
    budget = c.subsidy.budget_cny_per_yr
    return {
        "ets_price_mult": 1.0,
        "cbam_enabled": bool(c.cbam.enabled),
        "cbam_extended": bool(set(cbam_extension()[0]) <= set(c.cbam.extra_industries)),
        "subsidy_share_frac": max(c.subsidy.capex_share.values(), default=0.0),
        "subsidy_budget_bn_cny_per_yr": None if budget is None else budget / 1e9,
        "offset_scope": c.offsets.scope if c.offsets.enabled else "none",
        "offset_limit_frac": c.offsets.zero_carbon_limit_frac,
        "certificate_credit_frac": c.certification.certificate_credit_frac,
    }


def apply_levers(scn: Scenario, **levers: Any) -> Scenario:
    """``scn`` with the levers that differ from its own values applied (validated again)."""
    unknown = sorted(set(levers) - set(LEVERS))
    if unknown:
        raise ValueError(f"unknown lever {unknown[0]!r}; levers: {', '.join(LEVERS)}")
    own = lever_values(scn)
    changed = {k: v for k, v in levers.items() if v != own[k]}
    if not changed:
        return scn
    c, over = scn.cfg, {}
    if "ets_price_mult" in changed:
        m = float(changed["ets_price_mult"])
        over["ets.price_cny_per_tco2"] = {y: p * m for y, p in c.ets.price_cny_per_tco2.items()}
    if "cbam_enabled" in changed:
        over["cbam.enabled"] = bool(changed["cbam_enabled"])
    if "cbam_extended" in changed:
        extra, coverage = cbam_extension()
        if changed["cbam_extended"]:
            over["cbam.extra_industries"] = sorted(set(c.cbam.extra_industries) | set(extra))
            over["cbam.extra_coverage"] = coverage
        else:
            over["cbam.extra_industries"] = [i for i in c.cbam.extra_industries if i not in extra]
    if "subsidy_share_frac" in changed:
        share = float(changed["subsidy_share_frac"])
        over["subsidy.capex_share"] = {**c.subsidy.capex_share,
                                       **{o: share for o in subsidised_options()}}
    if "subsidy_budget_bn_cny_per_yr" in changed:
        b = changed["subsidy_budget_bn_cny_per_yr"]
        over["subsidy.budget_cny_per_yr"] = None if b is None else float(b) * 1e9
    if "offset_scope" in changed:
        scope = changed["offset_scope"]
        if scope not in OFFSET_SCOPES:
            raise ValueError(f"offset_scope must be one of {', '.join(OFFSET_SCOPES)}, not {scope!r}")
        over["offsets.enabled"] = scope != "none"
        if scope != "none":
            over["offsets.scope"] = scope
    if "offset_limit_frac" in changed:
        over["offsets.zero_carbon_limit_frac"] = float(changed["offset_limit_frac"])
    if "certificate_credit_frac" in changed:
        over["certification.certificate_credit_frac"] = float(changed["certificate_credit_frac"])
    return scn.replace(over)
