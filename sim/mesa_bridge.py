"""Mesa's ``DataCollector`` on ``ZeroCarbonModel``: yearly headline figures as model reporters.

``model.datacollector`` is a real ``mesa.DataCollector``, so ``mesa.batch_run`` and Mesa's
visualisation work on the model as on any Mesa model. Its model reporters never loop over agents:
they read the sums the model's vectorised collector (``sim.results.Collector``) formed for the
year just stepped (one number per industry x province cell, summed once more here) and the
offset market's rows of that year. ``model.datacollector.get_model_vars_dataframe()`` has one
row per simulated year; Mesa's ``Step`` (``model.time``) counts years from 1, ``year`` is the
calendar year.

Objects here: ``HEADLINE`` (reporter name -> (table, column or how it is formed, unit)),
``headline(model)`` (this year's figures as a dict), ``make_datacollector()``.
"""
from __future__ import annotations

from functools import partial

import mesa
import numpy as np

# reporter -> (results table, what is summed over its industry x province rows, unit)
HEADLINE: dict[str, tuple[str, str, str]] = {
    "year": ("emissions", "calendar year of the step", "year"),
    "net_tco2": ("emissions", "net_tco2", "tCO2/yr"),
    "gross_tco2": ("emissions", "scope1_tco2 + scope2_market_tco2", "tCO2/yr"),
    "scope1_tco2": ("emissions", "scope1_tco2", "tCO2/yr"),
    "scope2_market_tco2": ("emissions", "scope2_market_tco2", "tCO2/yr"),
    "no_retrofit_tco2": ("emissions", "no_retrofit_tco2", "tCO2/yr"),
    "offsets_retired_tco2": ("emissions", "offsets_retired_tco2", "tCO2/yr"),
    "cbam_embedded_tco2": ("emissions", "cbam_embedded_tco2", "tCO2/yr"),
    "factories": ("emissions", "firms", "factories"),
    "green_factories": ("certification", "green", "factories"),
    "near_zero_factories": ("certification", "near_zero", "factories"),
    "zero_carbon_factories": ("certification", "zero_carbon", "factories"),
    "capex_cny": ("finance", "capex_cny", "CNY/yr (real 2025)"),
    "subsidy_cny": ("finance", "subsidy_cny", "CNY/yr (real 2025)"),
    "ets_cost_cny": ("finance", "ets_cost_cny", "CNY/yr (real 2025)"),
    "cbam_cost_eur": ("finance", "cbam_cost_eur", "EUR/yr (real 2025)"),
    "offsets_traded_tco2": ("offsets", "volume_tco2 over markets", "tCO2/yr"),
    "offset_price_cny_per_tco2": ("offsets", "volume-weighted mean clearing price over the "
                                  "markets that traded (NaN if none)", "CNY/tCO2 (real 2025)"),
}


def headline(model) -> dict[str, float]:
    """The headline figures of the year ``model`` last stepped (see ``HEADLINE``), cached per
    year: every reporter of one collection shares one pass over the cell sums."""
    c = model.collector
    cache = getattr(model, "_headline_cache", None)
    key = (len(c.rows["emissions"]), id(c))
    if cache is not None and cache[0] == key:
        return cache[1]
    e, cert, fin = (c.year_totals(t) for t in ("emissions", "certification", "finance"))
    out: dict[str, float] = {"year": int(e.pop("year")) if e else int(model.year)}
    for name, (table, column, _) in HEADLINE.items():
        src = {"emissions": e, "certification": cert, "finance": fin}.get(table)
        if src is not None and column in src:
            out[name] = float(src[column])
    out["gross_tco2"] = float(e.get("scope1_tco2", np.nan) + e.get("scope2_market_tco2", np.nan))
    o = c.latest_rows("offsets", out["year"])
    volume = np.asarray(o.get("volume_tco2", []), float)
    price = np.asarray(o.get("price_cny_per_tco2", []), float)
    traded = volume > 0
    out["offsets_traded_tco2"] = float(volume.sum())
    out["offset_price_cny_per_tco2"] = (float((price[traded] * volume[traded]).sum()
                                              / volume[traded].sum()) if traded.any() else np.nan)
    model._headline_cache = (key, out)
    return out


def _figure(model, name: str) -> float:
    return headline(model)[name]


def make_datacollector() -> mesa.DataCollector:
    """A ``mesa.DataCollector`` whose model reporters are the ``HEADLINE`` figures."""
    return mesa.DataCollector(model_reporters={name: partial(_figure, name=name)
                                               for name in HEADLINE})
