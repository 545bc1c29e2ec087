"""Figures researchers publish, drawn from the results tables (matplotlib).

Every figure function takes tables (pandas DataFrames, as ``model.results`` returns them) and
returns a ``matplotlib.figure.Figure``; axes carry units, and an industry, retrofit option,
certification tier, scope or province has the same colour in every figure. ``plotted(fig)``
returns the numbers a figure was drawn from as a tidy DataFrame (panel, x, series, value, unit).

Objects here:

- colours: ``INDUSTRY_COLOURS``, ``OPTION_COLOURS``, ``TIER_COLOURS``, ``SCOPE_COLOURS``,
  ``PROVINCE_COLOURS``, ``scenario_colours(names)``; ``PROVINCE_TILES`` (row, column of each of the
  31 provinces on the tile-grid map).
- units: ``unit_of(column)`` (``net_tco2`` -> ``tCO2``) and ``scaled(values, unit)`` (a readable
  multiple: ``MtCO2``, ``bn CNY``, ``thousand factories``).
- one run: ``emission_wedges``, ``adoption_curves``, ``certified_factories``, ``province_map``,
  ``offset_market``, ``offset_flows``.
- several scenarios: ``compare_scenarios`` (one metric over the years and its difference against a
  reference), ``compare_summaries`` (headline figures side by side).
- many runs: ``fan_chart`` (median, 50 % and 90 % bands), ``sensitivity_bars`` (Sobol S1/ST or
  Morris mu* with confidence intervals) and ``validation_panels`` (model trajectories against
  published statistics, ``zcf validate``).
- product footprints: ``footprint_waterfall`` (a product's cradle-to-gate footprint by input,
  fuel upstream, own scope 1 and scope 2) and ``footprint_distribution`` (firms' footprints of an
  industry against a buyer threshold); ``zcf footprints`` draws both.
- ``save_run_figures(results, folder)``: the main figures of a run as PNG (``zcf run --out``).
"""
from __future__ import annotations

import textwrap
from functools import cache
from pathlib import Path
from typing import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from zcf.sim.units import SUFFIX_UNITS as _SUFFIX_UNITS
from zcf.sim.units import is_ratio, one_unit, unit_of

# -- colours --------------------------------------------------------------------------------------
INDUSTRY_COLOURS = {
    "automobiles": "#1f77b4", "lithium_batteries": "#ff7f0e", "solar_pv": "#ffbf00",
    "polysilicon": "#8dd3c7",
    "electronics": "#9467bd", "machinery": "#8c564b", "textiles": "#e377c2", "steel": "#4d4d4d",
    "aluminium": "#17becf", "cement": "#bcbd22", "chemicals": "#2ca02c",
}
OPTION_COLOURS = {
    "rooftop_pv": "#e6ab02", "rooftop_pv_ppa": "#ffd92f", "battery_storage": "#7570b3",
    "green_contract": "#1b9e77",
    "green_certificate": "#a6d854", "direct_supply": "#d95f02", "electrification": "#e7298a",
    "efficiency": "#66a61e", "process_innovation": "#a6761d", "ccus": "#666666",
    "steel_scrap_eaf": "#1f78b4", "steel_ng_dri_eaf": "#a6cee3", "steel_h2_dri_eaf": "#33a02c",
    "steel_grey_h2_dri_eaf": "#969696",
    "steel_bf_ccs": "#4d4d4d", "cement_clinker_substitution": "#fdbf6f",
    "cement_alt_fuels": "#b15928", "cement_kiln_ccs": "#878787", "alu_grid_supply": "#cab2d6",
    "alu_inert_anode": "#6a3d9a", "nh3_gas_smr": "#fb9a99", "nh3_ccs_pure": "#bababa",
    "nh3_green_h2": "#b2df8a",
}
TIER_COLOURS = {"green": "#a1d99b", "near_zero": "#41ab5d", "zero_carbon": "#00441b"}
TIER_LABELS = {"green": "green factories", "near_zero": "near-zero-carbon factories",
               "zero_carbon": "zero-carbon factories"}
SCOPE_COLOURS = {"scope1_tco2": "#8c510a", "scope2_market_tco2": "#dfc27d",
                 "scope2_location_tco2": "#bf812d", "offsets_retired_tco2": "#35978f"}
SCOPE_LABELS = {"scope1_tco2": "scope 1", "scope2_market_tco2": "scope 2 (market-based)",
                "scope2_location_tco2": "scope 2 (location-based)",
                "offsets_retired_tco2": "offsets retired"}
LABELS = {"solar_pv": "solar PV", "lithium_batteries": "lithium batteries",
          "chemicals": "chemicals & fertilisers", "rooftop_pv": "rooftop PV",
          "rooftop_pv_ppa": "rooftop PV (third-party)",
          "green_contract": "green-power contracts", "green_certificate": "green certificates",
          "direct_supply": "green-power direct supply", "ccus": "CCUS",
          "process_innovation": "process innovation", "battery_storage": "battery storage"}
COLUMN_LABELS = {"net_tco2": "net emissions", "no_retrofit_tco2": "emissions without retrofits",
                 "cbam_embedded_tco2": "CBAM embedded emissions", "cbam_cost_eur": "CBAM paid",
                 "ets_cost_cny": "ETS payments", "subsidy_cny": "subsidies paid",
                 "credit_support_cny": "green-credit interest support", "capex_cny": "retrofit capex",
                 "offset_cost_cny": "offsets bought", "green_power_cost_cny": "green-power premiums",
                 "footprint_tco2_per_unit": "product footprint", "eu_output": "EU-bound output",
                 "firms": "factories", "price_cny_per_tco2": "offset price",
                 "volume_tco2": "offsets traded"}

# Tile grid of the 31 mainland provinces, roughly as on a map: (row from the top, column).
PROVINCE_TILES = {
    "Heilongjiang": (0, 7),
    "Inner Mongolia": (1, 4), "Beijing": (1, 5), "Liaoning": (1, 6), "Jilin": (1, 7),
    "Xinjiang": (2, 1), "Gansu": (2, 2), "Ningxia": (2, 3), "Shanxi": (2, 4), "Hebei": (2, 5),
    "Tianjin": (2, 6),
    "Qinghai": (3, 2), "Shaanxi": (3, 3), "Henan": (3, 4), "Shandong": (3, 5), "Jiangsu": (3, 6),
    "Tibet": (4, 1), "Sichuan": (4, 2), "Chongqing": (4, 3), "Hubei": (4, 4), "Anhui": (4, 5),
    "Shanghai": (4, 6),
    "Yunnan": (5, 2), "Guizhou": (5, 3), "Hunan": (5, 4), "Jiangxi": (5, 5), "Zhejiang": (5, 6),
    "Guangxi": (6, 3), "Guangdong": (6, 4), "Fujian": (6, 5),
    "Hainan": (7, 3),
}
_PALETTE_31 = ([plt.get_cmap("tab20")(i) for i in range(20) if i not in (14, 15)]   # no greys
               + [plt.get_cmap("tab20b")(i) for i in range(0, 20, 2)]
               + list(plt.get_cmap("Set2").colors[:3]))
PROVINCE_COLOURS = {p: _PALETTE_31[i] for i, p in enumerate(sorted(PROVINCE_TILES))}
_SCENARIO_COLOURS = {
    "baseline": "#000000", "no-cbam": "#1f77b4", "cbam-extended": "#d62728",
    "subsidy-push": "#2ca02c", "ets-expansion": "#9467bd", "no-offsets": "#8c564b",
    "offsets-restricted": "#e377c2", "west-green-power": "#ff7f0e", "jiangsu": "#000000",
}
OTHER_COLOUR = "#c7c7c7"
# Text sizes (points) chosen to stay readable when a 9-inch-wide figure is printed at a column
# width of about 6.5 inches (x0.72): legends 9 pt -> 6.5 pt printed, tile labels 7.5 -> 5.4.
LEGEND_PT, SMALL_PT, CAPTION_PT = 9.0, 7.5, 9.0
MACRO_ORDER = ("west", "central", "northeast", "east")
TIERS = ("green", "near_zero", "zero_carbon")


def label(name: str) -> str:
    """Readable label of an industry, option, tier or column id (units left to the axis)."""
    name = str(name)
    for table in (LABELS, TIER_LABELS, SCOPE_LABELS, COLUMN_LABELS):
        if name in table:
            return table[name]
    for suffix, _ in _SUFFIX_UNITS:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)].replace("_", " ")
    return name.replace("_", " ")


_SPARE_COLOURS = ("#17becf", "#bcbd22", "#7f7f7f", "#ff9896", "#aec7e8", "#c49c94", "#98df8a",
                  "#c5b0d5", "#f7b6d2", "#dbdb8d", "#9edae5", "#ffbb78")


def scenario_colours(names: Sequence[str]) -> dict[str, object]:
    """A colour per scenario: packaged scenarios keep their own, the others take distinct spares."""
    out, spare = {}, iter(_SPARE_COLOURS)
    taken = {_SCENARIO_COLOURS[n] for n in names if n in _SCENARIO_COLOURS}
    for n in names:
        if n in _SCENARIO_COLOURS and _SCENARIO_COLOURS[n] not in out.values():
            out[n] = _SCENARIO_COLOURS[n]
        else:
            out[n] = next((c for c in spare if c not in taken), "#7f7f7f")
    return out


def colour_of(key: str, series: str) -> object:
    """The fixed colour of ``series`` when grouping by ``key`` (industry, option, province ...)."""
    table = {"industry": INDUSTRY_COLOURS, "option": OPTION_COLOURS, "province": PROVINCE_COLOURS,
             "scope": SCOPE_COLOURS, "tier": TIER_COLOURS}.get(key, {})
    return table.get(series, OTHER_COLOUR)


@cache
def _provinces() -> pd.DataFrame:
    from zcf.sim.datasets import defaults
    return defaults().provinces


@cache
def first_wave() -> tuple[str, ...]:
    """Industries of the first certification wave (``first_wave`` in ``sim/data/industries.csv``)."""
    from zcf.sim.datasets import defaults
    d = defaults()
    return tuple(np.array(d.industry_ids)[d.first_wave()])


# -- units ----------------------------------------------------------------------------------------
_MULTIPLES = {
    "tCO2": ((1e6, "MtCO2"), (1e3, "ktCO2"), (1.0, "tCO2")),
    "CNY": ((1e9, "bn CNY"), (1e6, "million CNY"), (1.0, "CNY")),
    "EUR": ((1e9, "bn EUR"), (1e6, "million EUR"), (1.0, "EUR")),
    "MWh": ((1e6, "TWh"), (1e3, "GWh"), (1.0, "MWh")),
    "factories": ((1e3, "thousand factories"), (1.0, "factories")),
    "product units": ((1e9, "bn product units"), (1e6, "million product units"),
                      (1.0, "product units")),
}
_FLOWS = ("tCO2", "CNY", "EUR", "MWh")       # quantities per year (a stock has no "/yr")


def scaled(values, unit: str, at_least: float = 1.0) -> tuple[float, str]:
    """(divisor, label) putting the largest of ``values`` in a readable multiple of ``unit``
    (the largest multiple in which it is still ``at_least``)."""
    v = np.abs(np.asarray(values, float))
    top = float(np.nanmax(v)) if v.size and np.isfinite(v).any() else 0.0
    for factor, name in _MULTIPLES.get(unit, ()):
        if top >= factor * at_least or factor == 1.0:
            return factor, name
    return 1.0, unit


def _per_year(unit_label: str, base: str) -> str:
    return f"{unit_label}/yr" if base in _FLOWS else unit_label


def _axis_label(what: str, unit_label: str) -> str:
    return f"{what} ({unit_label})" if unit_label else what


# -- the numbers behind a figure --------------------------------------------------------------------
def _record(ax, data: pd.DataFrame) -> None:
    """Keep the tidy data an axes was drawn from (read back with ``plotted``)."""
    old = getattr(ax, "_zcf_data", None)
    ax._zcf_data = data if old is None else pd.concat([old, data], ignore_index=True)


def _tidy(wide: pd.DataFrame, unit: str, x: str = "year") -> pd.DataFrame:
    out = wide.rename_axis(index=x, columns="series").stack().rename("value").reset_index()
    out["unit"] = unit
    return out.rename(columns={x: "x"})


def plotted(fig: Figure) -> pd.DataFrame:
    """The numbers a figure was drawn from: one row per point (panel, x, series, value, unit).

    Values are in the units of the table (tCO2, CNY, factories ...), not the rescaled axis units.
    """
    parts = []
    for i, ax in enumerate(fig.axes):
        data = getattr(ax, "_zcf_data", None)
        if data is not None:
            parts.append(data.assign(panel=ax.get_title() or f"axes {i}"))
    if not parts:
        return pd.DataFrame(columns=["panel", "x", "series", "value", "unit"])
    out = pd.concat(parts, ignore_index=True)
    return out[["panel"] + [c for c in out.columns if c != "panel"]]


def _new(ax=None, figsize=(9, 5)) -> tuple[Figure, object]:
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def _suptitle(fig: Figure, title: str | None) -> None:
    """A title over all panels (if any), then a tight layout."""
    if title:
        fig.suptitle(title)
    fig.tight_layout()


def _years(ax) -> None:
    """Whole years on the x axis."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("year")


def _legend(ax, **kw) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(fontsize=LEGEND_PT, **kw)


def _region_of(key: str) -> pd.Series:
    return _provinces()[key]


def _with_group(df: pd.DataFrame, by: str) -> pd.DataFrame:
    """``df`` with a ``by`` column (industry and province exist; regions come from the data)."""
    if by in df.columns:
        return df
    if by == "route":
        raise ValueError("by='route' needs the routes table (model.results.routes)")
    if by in ("macro_region", "grid_region") and "province" in df.columns:
        return df.assign(**{by: df["province"].map(_region_of(by))})
    raise ValueError(f"cannot group by {by!r}: use industry, province, macro_region, grid_region"
                     " or scope")


def _ordered(columns, key: str) -> list:
    order = {"industry": list(INDUSTRY_COLOURS), "option": list(OPTION_COLOURS),
             "tier": list(TIERS)}.get(key)
    if order is None:
        return list(columns)
    return [c for c in order if c in columns] + [c for c in columns if c not in order]


# -- emissions ------------------------------------------------------------------------------------
def emission_wedges(emissions: pd.DataFrame, by: str = "industry", *, scope2: str = "market",
                    top: int = 8, counterfactual: bool = True, ax=None) -> Figure:
    """Stacked areas of gross emissions by industry, province, region or scope, net line on top.

    Gross = scope 1 + scope 2 (``scope2`` = "market" or "location" based). ``by="scope"`` stacks
    scope 1 and scope 2; ``by="province"`` keeps the ``top`` largest and stacks the rest as one.
    ``by="route"`` takes the ``routes`` table and splits emissions by process route (BF-BOF,
    scrap EAF, kiln + CCS ...; light industries are 'conventional'; market-based scope 2).
    The black line is net emissions (scope 1 + scope 2 market-based - offsets retired); the
    dashed grey line, what the same firms would emit without any retrofit.
    """
    if scope2 not in ("market", "location"):
        raise ValueError(f"scope2 must be 'market' or 'location', not {scope2!r}")
    s2 = f"scope2_{scope2}_tco2"
    if by == "scope":
        wide = emissions.groupby("year")[["scope1_tco2", s2]].sum()
        colours = [SCOPE_COLOURS[c] for c in wide.columns]
    else:
        e = _with_group(emissions, by)
        wide = (e.assign(gross=e["scope1_tco2"] + e[s2])
                .pivot_table(index="year", columns=by, values="gross", aggfunc="sum", fill_value=0.0))
        wide = wide[_ordered(wide.columns, by)]
        if by != "industry" and wide.shape[1] > top + 1:
            keep = wide.sum().sort_values(ascending=False).index[:top]
            rest = wide.drop(columns=keep).sum(axis=1)
            wide = wide[list(keep)].assign(**{f"other {by.replace('_', ' ')}s": rest})
        colours = ([_route_colour(i) for i in range(wide.shape[1])] if by == "route"
                   else [colour_of(by, c) for c in wide.columns])
    net = emissions.groupby("year")["net_tco2"].sum()
    factor, unit = scaled(wide.sum(axis=1), "tCO2")
    fig, ax = _new(ax)
    ax.stackplot(wide.index, (wide / factor).T.to_numpy(), labels=[label(c) for c in wide.columns],
                 colors=colours, alpha=0.9)
    ax.plot(net.index, net / factor, color="black", lw=2, label="net (after offsets)")
    data = [_tidy(wide, "tCO2"), _tidy(net.to_frame("net"), "tCO2")]
    if counterfactual and "no_retrofit_tco2" in emissions.columns:
        cf = emissions.groupby("year")["no_retrofit_tco2"].sum()
        ax.plot(cf.index, cf / factor, color="grey", ls="--", lw=1.5, label="without retrofits")
        data.append(_tidy(cf.to_frame("without retrofits"), "tCO2"))
    _record(ax, pd.concat(data, ignore_index=True))
    _years(ax)
    ax.set_ylabel(_axis_label(f"scope 1 + scope 2 {scope2}-based", _per_year(unit, "tCO2")))
    ax.set_title(f"Emissions by {by.replace('_', ' ')}")
    ax.set_ylim(bottom=min(0.0, float(net.min() / factor)))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=LEGEND_PT)
    fig.tight_layout()
    return fig


def _route_colour(i: int) -> object:
    return plt.get_cmap("tab20")(i % 20)


HEAVY = ("steel", "cement", "aluminium", "chemicals")


def route_shares(routes: pd.DataFrame, industries: Sequence[str] = HEAVY, *,
                 title: str | None = None) -> Figure:
    """Share of each heavy industry's output by process route over the years (one panel per
    industry, routes stacked; from the ``routes`` table)."""
    inds = [i for i in industries if i in set(routes["industry"])]
    if not inds:
        raise ValueError(f"no rows for {', '.join(industries)} in the routes table")
    fig, axes = plt.subplots(1, len(inds), figsize=(4.2 * len(inds), 4.6), squeeze=False)
    data = []
    for ax, ind in zip(axes[0], inds):
        part = routes[routes["industry"] == ind]
        wide = part.pivot_table(index="year", columns="route", values="output", aggfunc="sum",
                                fill_value=0.0)
        wide = wide[wide.sum().sort_values(ascending=False).index]
        share = wide.div(wide.sum(axis=1), axis=0).fillna(0.0) * 100.0
        ax.stackplot(share.index, share.T.to_numpy(), labels=list(share.columns),
                     colors=[_route_colour(i) for i in range(share.shape[1])], alpha=0.9)
        ax.set_ylim(0, 100)
        _years(ax)
        ax.set_title(label(ind), fontsize=10)
        ax.set_ylabel("% of output")
        ax.legend(loc="lower left", fontsize=7)
        data.append(_tidy(share, "%").assign(industry=ind))
    _record(axes[0][0], pd.concat(data, ignore_index=True))
    _suptitle(fig, title or "Heavy-industry output by process route")
    fig.tight_layout()
    return fig


# -- adoption and certification -------------------------------------------------------------------
def adoption_curves(adoption: pd.DataFrame, population: pd.DataFrame | None = None, *,
                    industries: Sequence[str] | None = None, capex: bool = True,
                    title: str | None = None) -> Figure:
    """S-curves: factories with each retrofit option installed, over the years.

    With ``population`` (any table with ``year`` and ``firms``: ``certification`` or
    ``emissions``), as a share of all factories (%); otherwise as a number of factories. With
    ``capex``, a second panel stacks the retrofit capex spent each year by option.
    """
    a = adoption if industries is None else adoption[adoption["industry"].isin(industries)]
    wide = a.pivot_table(index="year", columns="option", values="firms", aggfunc="sum", fill_value=0.0)
    wide = wide[[c for c in _ordered(wide.columns, "option") if wide[c].any()]]   # adopted options
    if population is not None:
        p = population if industries is None else population[population["industry"].isin(industries)]
        total = p.groupby("year")["firms"].sum().reindex(wide.index)
        values, unit, what = wide.div(total, axis=0) * 100.0, "%", "share of factories with the option"
        factor = 1.0
    else:
        factor, unit = scaled(wide.to_numpy(), "factories")
        values, what = wide / factor, "factories with the option"
    fig, axes = plt.subplots(1, 2 if capex else 1, figsize=(13 if capex else 8, 4.8), squeeze=False)
    ax = axes[0, 0]
    for opt in values.columns:
        ax.plot(values.index, values[opt], color=colour_of("option", opt), lw=2, label=label(opt))
    _years(ax)
    ax.set_ylabel(_axis_label(what, unit))
    ax.set_title("Adoption by retrofit option")
    ax.set_ylim(bottom=0)
    _record(ax, _tidy(values * factor, "%" if unit == "%" else "factories"))
    _legend(ax, loc="upper left")
    if capex:
        _capex_panel(axes[0, 1], a)
    _suptitle(fig, title)
    return fig


def _capex_panel(ax, adoption: pd.DataFrame) -> None:
    wide = adoption.pivot_table(index="year", columns="option", values="capex_cny", aggfunc="sum",
                                fill_value=0.0)
    wide = wide[_ordered(wide.columns, "option")]
    factor, unit = scaled(wide.sum(axis=1), "CNY")
    bottom = np.zeros(len(wide))
    for opt in wide.columns:
        ax.bar(wide.index, wide[opt] / factor, bottom=bottom, color=colour_of("option", opt),
               label=label(opt), width=0.8)
        bottom += wide[opt].to_numpy() / factor
    if not wide.to_numpy().any():
        ax.text(0.5, 0.5, "no retrofit capex", transform=ax.transAxes, ha="center")
    ax.set_ylim(bottom=0)
    _years(ax)
    ax.set_ylabel(_axis_label("retrofit capex", _per_year(unit, "CNY")))
    ax.set_title("Retrofit capex by option")
    _record(ax, _tidy(wide, "CNY"))


def certified_factories(certification: pd.DataFrame, by: str = "wave", *,
                        share: bool = False, title: str | None = None) -> Figure:
    """Certified factories by tier (green, near-zero-carbon, zero-carbon) over the years.

    ``by="wave"``: one panel for the first-wave industries and one for the others, tiers stacked
    (each factory counts once, in its highest tier). ``by="industry"``: one panel per tier,
    industries stacked. ``share=True`` divides by all factories of the panel's industries (%).
    """
    c = certification
    if by == "wave":
        wave = c["industry"].isin(first_wave())
        others = [i for i in _ordered(c.loc[~wave, "industry"].unique(), "industry")]
        panels = [("first wave: " + ", ".join(label(i) for i in first_wave()), c[wave]),
                  ("other industries: " + ", ".join(label(i) for i in others), c[~wave])]
        fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), sharey=not share)
        for ax, (heading, part) in zip(axes, panels):
            wide = part.groupby("year")[list(TIERS)].sum()
            total = part.groupby("year")["firms"].sum()
            _stack_panel(ax, wide, "tier", total if share else None)
            ax.set_title(textwrap.fill(heading, 80), fontsize=9)
    elif by == "industry":
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.8))
        total = c.pivot_table(index="year", columns="industry", values="firms", aggfunc="sum")
        for ax, tier in zip(axes, TIERS):
            wide = c.pivot_table(index="year", columns="industry", values=tier, aggfunc="sum",
                                 fill_value=0.0)
            wide = wide[_ordered(wide.columns, "industry")]
            _stack_panel(ax, wide, "industry", total.sum(axis=1) if share else None)
            ax.set_title(TIER_LABELS[tier], fontsize=9)
    else:
        raise ValueError(f"by must be 'wave' or 'industry', not {by!r}")
    _suptitle(fig, title)
    return fig


def _stack_panel(ax, wide: pd.DataFrame, key: str, total: pd.Series | None) -> None:
    if total is not None:
        values, unit, factor = wide.div(total, axis=0).fillna(0.0) * 100.0, "% of factories", 1.0
    else:
        factor, unit = scaled(wide.sum(axis=1), "factories")
        values = wide / factor
    ax.stackplot(values.index, values.T.to_numpy(), labels=[label(c) for c in values.columns],
                 colors=[colour_of(key, c) for c in values.columns], alpha=0.9)
    _years(ax)
    ax.set_ylabel(_axis_label("certified factories", unit))
    _record(ax, _tidy(values * factor, "%" if total is not None else "factories"))
    _legend(ax, loc="upper left")


# -- provinces ------------------------------------------------------------------------------------
def province_values(data: pd.DataFrame | pd.Series, column: str | None = None,
                    year: int | None = None, agg: str = "sum") -> pd.Series:
    """One value per province: ``column`` of ``data`` in ``year`` (default: the last), aggregated."""
    if isinstance(data, pd.Series):
        return data.astype(float)
    if column is None:
        raise ValueError("province_map needs a column name when given a DataFrame")
    if "province" not in data.columns:
        raise ValueError("the table has no province column")
    if agg == "sum" and is_ratio(column):
        raise ValueError(f"{column} is a ratio, price or share and cannot be summed over "
                         "industries: pass agg='mean' or a Series you computed per province")
    d = data
    if "year" in d.columns:
        year = int(d["year"].max()) if year is None else year
        d = d[d["year"] == year]
        if d.empty:
            raise ValueError(f"no rows for year {year}")
    one_unit(d, column, f"province map of {column}")        # never adds t to vehicles
    return d.groupby("province")[column].agg(agg).astype(float)


def province_map(data: pd.DataFrame | pd.Series, column: str | None = None, year: int | None = None,
                 *, agg: str = "sum", unit: str | None = None, title: str | None = None,
                 cmap: str = "YlOrRd", log: bool = False, centre: float | None = None,
                 ax=None) -> Figure:
    """A tile-grid map of the 31 provinces coloured by one per-province value.

    ``data`` is a results table with a ``province`` column (``column`` in ``year``, default the
    last year, aggregated over industries by ``agg``), or a Series indexed by province name (give
    its ``unit``). Provinces without a value are grey; ``log`` uses a logarithmic colour scale
    (positive values only), ``centre`` a diverging one around that value (with e.g.
    ``cmap="RdBu_r"``, for differences between scenarios). The colour bar carries the unit.
    """
    values = province_values(data, column, year, agg)
    unknown = sorted(set(values.index) - set(PROVINCE_TILES))
    if unknown:
        raise ValueError(f"unknown provinces {unknown}; expected the 31 names of "
                         "sim/data/provinces.csv")
    base = unit if unit is not None else (
        unit_of(column or "") if isinstance(data, pd.Series) else one_unit(data, column))
    factor, unit_label = scaled(values.to_numpy(), base, at_least=10.0)
    if column and base in _FLOWS and "year" in getattr(data, "columns", ()):
        unit_label = _per_year(unit_label, base)
    shown = values / factor
    norm = _map_norm(shown, log, centre)
    colours = plt.get_cmap(cmap)
    fig, ax = _new(ax, figsize=(8, 6.5))
    for prov, (r, c) in PROVINCE_TILES.items():
        v = shown.get(prov, np.nan)
        known = bool(np.isfinite(v)) and not (log and v <= 0)
        face = colours(norm(v)) if known else "#eeeeee"
        ax.add_patch(Rectangle((c, -r), 0.94, -0.94, facecolor=face, edgecolor="white", gid=prov))
        dark = known and _luminance(colours(norm(v))) < 0.5
        ax.text(c + 0.47, -r - 0.47, f"{_tile_name(prov)}\n{_fmt(v) if np.isfinite(v) else '–'}",
                ha="center", va="center", fontsize=SMALL_PT, color="white" if dark else "black",
                gid=prov)
    ax.set_xlim(0.8, 8.0)
    ax.set_ylim(-8.0, 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    what = label(column) if column else (values.name or "value")
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=colours), ax=ax, shrink=0.7,
                 label=_axis_label(str(what), unit_label))
    if isinstance(data, pd.DataFrame) and "year" in data.columns:
        what_year = f", {int(data['year'].max()) if year is None else year}"
    else:
        what_year = ""
    ax.set_title(title or f"{what} by province{what_year}")
    _record(ax, pd.DataFrame({"x": values.index, "series": str(what), "value": values.to_numpy(),
                              "unit": base}))
    return fig


def _map_norm(shown: pd.Series, log: bool, centre: float | None = None):
    finite = shown[np.isfinite(shown)]
    if centre is not None:
        half = float(np.abs(finite - centre).max()) if len(finite) else 1.0
        return Normalize(vmin=centre - (half or 1.0), vmax=centre + (half or 1.0))
    if log:
        pos = finite[finite > 0]
        if pos.empty:
            raise ValueError("log=True needs positive values")
        lo, hi = float(pos.min()), float(pos.max())
        return LogNorm(vmin=lo, vmax=hi if hi > lo else lo * 10)
    lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    lo = min(lo, 0.0)
    return Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1.0)


def _luminance(rgba) -> float:
    r, g, b = rgba[:3]
    return 0.299 * r + 0.587 * g + 0.114 * b


def _tile_name(prov: str) -> str:
    return {"Inner Mongolia": "Inner\nMongolia", "Heilongjiang": "Heilong-\njiang"}.get(prov, prov)


def _fmt(v: float) -> str:
    """A short label for a number: three significant figures or so."""
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}" if a >= 0.01 or a == 0 else f"{v:.1e}"


# -- offsets --------------------------------------------------------------------------------------
_REGISTRY_COLUMNS = ("issued_tco2", "retired_tco2", "banked_tco2")   # the same in every market row


def offset_market(offsets: pd.DataFrame, *, max_markets: int = 6,
                  title: str | None = None) -> Figure:
    """Offset market over the years: clearing prices (top) and volumes (bottom).

    Prices: one line per market when there are at most ``max_markets`` markets (national, or a few
    regions), else the volume-weighted mean with the range over markets that traded. Volumes:
    traded (bars) and demand, summed over markets; issued and banked, registry-wide.
    """
    o = offsets
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    markets = list(dict.fromkeys(o["market"]))
    traded = o[o["volume_tco2"] > 0]
    if len(markets) <= max_markets:
        for i, (mkt, part) in enumerate(o.groupby("market", sort=False)):
            top.plot(part["year"], part["price_cny_per_tco2"], marker="o", ms=3, lw=1.8,
                     color="black" if mkt == "national" else f"C{i}", label=f"{mkt} market")
        prices = o.pivot_table(index="year", columns="market", values="price_cny_per_tco2",
                               aggfunc="mean", dropna=False)
    else:
        val = (traded["price_cny_per_tco2"] * traded["volume_tco2"]).groupby(traded["year"]).sum()
        mean = val / traded.groupby("year")["volume_tco2"].sum()
        rng = traded.groupby("year")["price_cny_per_tco2"].agg(["min", "max"])
        top.fill_between(rng.index, rng["min"], rng["max"], color="C0", alpha=0.25,
                         label=f"range over {len(markets)} markets")
        top.plot(mean.index, mean, color="C0", lw=2, label="volume-weighted mean")
        prices = mean.to_frame("volume-weighted mean")
    top.set_ylabel("clearing price (CNY/tCO2)")
    top.set_title("Offset market: clearing price")
    top.set_ylim(bottom=0)
    _record(top, _tidy(prices, "CNY/tCO2"))
    _legend(top, loc="upper left")
    if o["price_cny_per_tco2"].isna().all():
        top.text(0.5, 0.5, "no offset market", transform=top.transAxes, ha="center")
    vol = o.groupby("year")[["volume_tco2", "demand_tco2"]].sum()
    reg = o.groupby("year")[list(_REGISTRY_COLUMNS)].first()
    wide = pd.concat([vol, reg[["issued_tco2", "banked_tco2"]]], axis=1)
    factor, unit = scaled(wide.to_numpy(), "tCO2")
    bottom.bar(wide.index, wide["volume_tco2"] / factor, color="#35978f", label="traded and retired")
    bottom.plot(wide.index, wide["demand_tco2"] / factor, color="black", lw=1.5, label="demand")
    bottom.plot(wide.index, wide["issued_tco2"] / factor, color="#d95f02", lw=1.5, label="issued")
    bottom.plot(wide.index, wide["banked_tco2"] / factor, color="grey", ls="--", lw=1.5,
                label="banked (stock at year end)")
    _years(bottom)
    bottom.set_ylabel(_axis_label("offsets", f"{unit}/yr; banked: {unit}"))
    bottom.set_title("Offset market: volumes")
    _record(bottom, _tidy(wide, "tCO2"))
    _legend(bottom, loc="upper left")
    _suptitle(fig, title)
    return fig


def _province_order(names) -> list[str]:
    """Provinces from west to east (``MACRO_ORDER``), inland before coastal, then by name."""
    p = _provinces()
    region = {n: p.at[n, "macro_region"] if n in p.index else "" for n in names}
    coastal = {n: n in p.index and str(p.at[n, "coastal"]).lower() == "true" for n in names}
    rank = {r: i for i, r in enumerate(MACRO_ORDER)}
    return sorted(names, key=lambda n: (rank.get(region[n], len(rank)), coastal[n], n))


def flow_matrix(offset_flows: pd.DataFrame, years: Sequence[int] | None = None,
                group: str = "province", top: int | None = None) -> pd.DataFrame:
    """Offsets sold (tCO2) from seller (rows) to buyer (columns), summed over ``years``.

    ``group``: province, macro_region or grid_region. Sellers and buyers run from west to east
    (inland before coastal); with ``top``, only the ``top`` largest sellers and buyers are kept and
    the rest summed into "other".
    """
    f = offset_flows
    if years is not None:
        f = f[f["year"].isin(list(years))]
    if group != "province":
        region = _region_of(group)
        f = f.assign(seller_province=f["seller_province"].map(region),
                     buyer_province=f["buyer_province"].map(region))
    m = f.pivot_table(index="seller_province", columns="buyer_province", values="tco2",
                      aggfunc="sum", fill_value=0.0)
    if group == "macro_region":
        order = lambda n: [r for r in MACRO_ORDER if r in n] + sorted(set(n) - set(MACRO_ORDER))
    else:
        order = _province_order if group == "province" else sorted
    m = m.reindex(index=order(m.index), columns=order(m.columns))
    if top is not None:
        m = _keep_top(_keep_top(m, top), top, axis=1)
    name = group.replace("_", " ")
    return m.rename_axis(index=f"seller {name}", columns=f"buyer {name}")


def _keep_top(m: pd.DataFrame, top: int, axis: int = 0) -> pd.DataFrame:
    """The ``top`` largest rows (axis 0) or columns (axis 1), the rest summed as "other"."""
    totals = m.sum(axis=1 - axis)
    if len(totals) <= top + 1:
        return m
    keep = set(totals.sort_values(ascending=False).index[:top])
    kept = [k for k in totals.index if k in keep]
    if axis == 0:
        return pd.concat([m.loc[kept], m.drop(index=kept).sum().to_frame("other").T])
    return pd.concat([m[kept], m.drop(columns=kept).sum(axis=1).rename("other")], axis=1)


def west_to_coast_share(offset_flows: pd.DataFrame) -> float:
    """Share of offsets traded that western provinces sold to coastal provinces."""
    p = _provinces()
    west = offset_flows["seller_province"].map(p["macro_region"]) == "west"
    coast = offset_flows["buyer_province"].map(p["coastal"]).astype(str).str.lower() == "true"
    total = offset_flows["tco2"].sum()
    return float(offset_flows.loc[west & coast, "tco2"].sum() / total) if total > 0 else 0.0


def offset_flows(offset_flows: pd.DataFrame, *, years: Sequence[int] | None = None,
                 group: str = "province", top: int | None = 12, ax=None) -> Figure:
    """Offsets sold between provinces (or regions) as a seller x buyer matrix, over ``years``.

    Rows (sellers) and columns (buyers) run from the western to the eastern provinces, inland
    before coastal; the ``top`` largest sellers and buyers are shown, the rest summed as "other"
    (``top=None``: all). The title gives the share sold from western to coastal provinces.
    """
    m = flow_matrix(offset_flows, years, group, top)
    f = offset_flows if years is None else offset_flows[offset_flows["year"].isin(list(years))]
    span = f"{int(f['year'].min())}-{int(f['year'].max())}" if len(f) else "no years"
    factor, unit = scaled(m.to_numpy(), "tCO2")
    fig, ax = _new(ax, figsize=(max(6.0, 0.35 * m.shape[1] + 4), max(4.5, 0.3 * m.shape[0] + 2)))
    if m.empty:
        ax.text(0.5, 0.5, "no offsets traded", ha="center", transform=ax.transAxes)
        ax.set_axis_off()
    else:
        im = ax.imshow(m.to_numpy() / factor, cmap="Blues", aspect="auto")
        ax.set_xticks(range(m.shape[1]), m.columns, rotation=60, ha="right", fontsize=SMALL_PT)
        ax.set_yticks(range(m.shape[0]), m.index, fontsize=SMALL_PT)
        ax.set_xlabel(m.columns.name)
        ax.set_ylabel(m.index.name)
        fig.colorbar(im, ax=ax, label=f"offsets sold ({unit}, {span} total)")
        if m.size <= 200:
            for (i, j), v in np.ndenumerate(m.to_numpy() / factor):
                if v > 0:
                    ax.text(j, i, _fmt(v), ha="center", va="center", fontsize=6,
                            color="white" if v > 0.6 * m.to_numpy().max() / factor else "black")
    if f["tco2"].sum() > 0:
        share = west_to_coast_share(f)
        ax.set_title(f"Offset flows {span}: {share:.0%} from western to coastal provinces",
                     fontsize=10)
    else:
        ax.set_title("Offset flows: no offsets traded", fontsize=10)
    data = m.stack().rename("value").reset_index()
    data.columns = ["x", "series", "value"]
    _record(ax, data.assign(unit="tCO2"))
    fig.tight_layout()
    return fig


# -- scenarios ------------------------------------------------------------------------------------
Metric = str | Callable[[pd.DataFrame], pd.Series]
_RUN_COLUMNS = ("run", "seed", "replicate")


def _per_year_series(df: pd.DataFrame, metric: Metric, industries) -> pd.DataFrame:
    """Per run (columns) and year (index) values of ``metric``: a column summed, or f(df)."""
    d = df if industries is None else df[df["industry"].isin(industries)]
    run_col = next((c for c in _RUN_COLUMNS if c in d.columns), None)
    groups = d.groupby(run_col) if run_col else [(0, d)]
    out = {}
    for run, part in groups:
        if callable(metric):
            out[run] = pd.Series(metric(part), dtype=float)
        else:
            if is_ratio(metric):
                raise ValueError(f"{metric} is a ratio and cannot be summed over groups: pass a "
                                 "function of the table that returns one value per year")
            one_unit(part, metric)                       # rows of one unit only
            out[run] = part.groupby("year")[metric].sum()
    return pd.DataFrame(out)


def _scenario_tables(tables) -> dict[str, pd.DataFrame]:
    if isinstance(tables, pd.DataFrame):
        if "scenario" not in tables.columns:
            raise ValueError("a single table needs a 'scenario' column; or pass {name: table}")
        return {str(k): v for k, v in tables.groupby("scenario", sort=False)}
    return dict(tables)


def compare_scenarios(tables: Mapping[str, pd.DataFrame] | pd.DataFrame, metric: Metric, *,
                      reference: str | None = None, industries: Sequence[str] | None = None,
                      unit: str | None = None, relative: bool = False, what: str | None = None,
                      title: str | None = None) -> Figure:
    """One metric over the years for several scenarios (left) and minus a reference (right).

    Args:
        tables: {scenario name: results table}, or one table with a ``scenario`` column. Tables
            with a ``run`` or ``seed`` column hold several runs: the line is their mean and the
            band their range (compare scenarios on the same seeds).
        metric: a column summed over industries and provinces per year (``net_tco2``), or a
            function ``f(table) -> Series indexed by year`` for ratios (give ``unit``).
        reference: the scenario the differences are taken against (default: the first).
        industries: restrict to these industries first.
        relative: differences in % of the reference instead of in the metric's unit.
        what: the metric's name on the axes (default: from the column or function name).
    """
    named = _scenario_tables(tables)
    if not named:
        raise ValueError("no scenarios to compare")
    reference = reference if reference is not None else next(iter(named))
    if reference not in named:
        raise ValueError(f"reference {reference!r} is not one of {', '.join(named)}")
    per = {name: _per_year_series(df, metric, industries) for name, df in named.items()}
    base = unit if unit is not None else (unit_of(metric) if isinstance(metric, str) else "")
    mean = pd.DataFrame({n: p.mean(axis=1) for n, p in per.items()})
    diff = mean.sub(mean[reference], axis=0)
    factor, unit_label = scaled(mean.to_numpy(), base)
    if isinstance(metric, str):
        unit_label = _per_year(unit_label, base)
    if relative:
        ref = mean[reference].where(mean[reference] != 0)
        diff = diff.div(ref.abs(), axis=0) * 100.0
    dfactor, dunit = (1.0, "% of the reference") if relative else (factor, unit_label)
    what = what or _metric_name(metric)
    fig, (ax, dx) = plt.subplots(1, 2, figsize=(13, 4.8))
    colours = scenario_colours(list(per))
    for name, p in per.items():
        colour = colours[name]
        ax.plot(mean.index, mean[name] / factor, color=colour, lw=2, label=name)
        if p.shape[1] > 1:
            ax.fill_between(p.index, p.min(axis=1) / factor, p.max(axis=1) / factor, color=colour,
                            alpha=0.15, lw=0)
        dx.plot(diff.index, diff[name] / dfactor, color=colour, lw=2 if name != reference else 1,
                ls="-" if name != reference else ":", label=name)
    runs = max(p.shape[1] for p in per.values())
    ax.set_title(title or (f"{what}" + (f" (mean of {runs} runs, band: range)" if runs > 1 else "")))
    dx.set_title(f"difference from {reference}")
    for a in (ax, dx):
        _years(a)
        _legend(a, loc="best")
    ax.set_ylabel(_axis_label(what, unit_label))
    dx.set_ylabel(_axis_label(f"{what} minus {reference}", dunit))
    dx.axhline(0.0, color="black", lw=0.6)
    _record(ax, _tidy(mean, base))
    _record(dx, _tidy(diff, "%" if relative else base))
    fig.tight_layout()
    return fig


def _metric_name(metric: Metric) -> str:
    return label(metric) if isinstance(metric, str) else \
        getattr(metric, "__name__", "metric").replace("_", " ")


def _summary_table(summaries) -> pd.DataFrame:
    """metric x scenario values (mean over seeds) and a unit per metric."""
    if isinstance(summaries, pd.DataFrame):          # sim.compare.compare(): (metric, unit) x scenario
        wide = summaries.copy()
        if isinstance(wide.index, pd.MultiIndex):
            wide = wide.reset_index()
        return wide.set_index("metric")
    cols, units = {}, {}
    for name, s in summaries.items():
        g = s.groupby("metric", sort=False)
        cols[name] = g["value"].mean()
        units.update(g["unit"].first().to_dict())
    wide = pd.DataFrame(cols)
    wide.insert(0, "unit", pd.Series(units))
    return wide


def _match(metrics_available, spec: str) -> str:
    if spec in metrics_available:
        return spec
    hits = [m for m in metrics_available if m.startswith(spec)]
    if len(hits) != 1:
        raise ValueError(f"metric {spec!r} matches {len(hits)} headline figures"
                         f"{': ' + '; '.join(hits) if hits else ''}; available: "
                         f"{'; '.join(metrics_available)}")
    return hits[0]


def compare_summaries(summaries: Mapping[str, pd.DataFrame] | pd.DataFrame,
                      metrics: Sequence[str] | None = None, *, reference: str | None = None,
                      ncols: int = 4) -> Figure:
    """Headline figures side by side: one panel per metric, one bar per scenario.

    ``summaries`` is {scenario: ``results.summary()``} (rows of several seeds are averaged) or
    the table of ``sim.compare.compare``. ``metrics`` are metric names or unique prefixes
    (``"zero-carbon factories"``); by default the cuts, certification, fiscal and abatement cost.
    Bars are labelled with their value and, given a ``reference``, the change against it.
    """
    wide = _summary_table(summaries)
    names = [c for c in wide.columns if c != "unit"]
    metrics = metrics or ["emissions cut", "zero-carbon factories", "fiscal cost",
                          "abatement cost"]
    chosen = [_match(list(wide.index), m) for m in metrics]
    colours = scenario_colours(names)
    n = len(chosen)
    rows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(rows, min(n, ncols), figsize=(3.4 * min(n, ncols), 3.8 * rows),
                             squeeze=False)
    for ax, metric in zip(axes.flat, chosen):
        values = wide.loc[metric, names].astype(float)
        bars = ax.bar(range(len(names)), values, color=[colours[s] for s in names])
        ref = values[reference] if reference is not None else None
        for b, (s, v) in zip(bars, values.items()):
            note = _fmt(v)
            if ref is not None and s != reference and ref != 0:
                note += f"\n({(v - ref) / abs(ref):+.0%})"
            ax.annotate(note, (b.get_x() + b.get_width() / 2, b.get_height()), ha="center",
                        va="bottom" if v >= 0 else "top", fontsize=SMALL_PT)
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(wide.loc[metric, "unit"])
        ax.set_title(textwrap.fill(metric, 34), fontsize=8)
        ax.margins(y=0.2)
        _record(ax, pd.DataFrame({"x": names, "series": metric, "value": values.to_numpy(),
                                  "unit": wide.loc[metric, "unit"]}))
    for ax in list(axes.flat)[n:]:
        ax.set_axis_off()
    fig.tight_layout()
    return fig


# -- many runs ------------------------------------------------------------------------------------
_QCOLS = ("q05", "q25", "q50", "q75", "q95")


def fan_quantiles(runs: pd.DataFrame, metric: Metric, *, industries: Sequence[str] | None = None
                  ) -> pd.DataFrame:
    """Per year: n, q05, q25, q50, q75, q95 over runs of ``metric`` (summed per run and year)."""
    if "metric" in runs.columns and set(_QCOLS) <= set(runs.columns):    # experiments.summarise
        s = runs[runs["metric"] == metric]
        if s.empty:
            raise ValueError(f"no metric {metric!r} in the statistics table")
        if "unit" in s.columns and s["unit"].nunique() > 1:
            raise ValueError(f"{metric} comes in several units ({', '.join(s['unit'].unique())}):"
                             " select the rows of one unit first")
        return s.groupby("year")[list(_QCOLS) + (["n"] if "n" in s.columns else [])].first()
    if not any(c in runs.columns for c in _RUN_COLUMNS):
        raise ValueError("fan_chart needs one table of all runs with a 'run' (or 'seed') column")
    per = _per_year_series(runs, metric, industries)
    q = per.quantile([0.05, 0.25, 0.5, 0.75, 0.95], axis=1).T
    q.columns = list(_QCOLS)
    q.insert(0, "n", per.notna().sum(axis=1))
    return q


def fan_chart(runs: pd.DataFrame | Mapping[str, pd.DataFrame], metric: Metric, *,
              industries: Sequence[str] | None = None, unit: str | None = None,
              what: str | None = None, title: str | None = None, ax=None) -> Figure:
    """Monte Carlo fan chart: median with 50 % (25-75) and 90 % (5-95) bands over the years.

    ``runs`` is one table of all runs stacked with a ``run`` (or ``seed``) column (e.g.
    ``experiment.tables["emissions"]``), a statistics table with ``q05 .. q95`` per year and a
    ``metric`` column (``experiment.summary(by=["year"])``), or {label: such a table} to draw
    several fans on shared axes. ``metric`` is a column (summed over groups per run and year) or
    ``f(table of one run) -> Series indexed by year``.
    """
    named = dict(runs) if not isinstance(runs, pd.DataFrame) else {None: runs}
    qs = {k: fan_quantiles(v, metric, industries=industries) for k, v in named.items()}
    base = unit if unit is not None else (unit_of(metric) if isinstance(metric, str) else "")
    every = np.concatenate([q[list(_QCOLS)].to_numpy().ravel() for q in qs.values()])
    factor, unit_label = scaled(every, base)
    if isinstance(metric, str):
        unit_label = _per_year(unit_label, base)
    fig, ax = _new(ax, figsize=(9, 5))
    data = []
    colours = scenario_colours([str(k) for k in qs]) if None not in qs else {}
    for name, q in qs.items():
        colour = colours.get(str(name), "C0")
        x = q.index.to_numpy()
        ax.fill_between(x, q["q05"] / factor, q["q95"] / factor, color=colour, alpha=0.15, lw=0,
                        label=f"{name + ': ' if name else ''}90 % of runs (5-95)")
        ax.fill_between(x, q["q25"] / factor, q["q75"] / factor, color=colour, alpha=0.35, lw=0,
                        label=f"{name + ': ' if name else ''}50 % of runs (25-75)")
        ax.plot(x, q["q50"] / factor, color=colour, lw=2, label=f"{name + ': ' if name else ''}median")
        t = _tidy(q[list(_QCOLS)], base)
        data.append(t if name is None else t.assign(series=name + " " + t["series"]))
    what = what or _metric_name(metric)
    n = int(max(q["n"].max() for q in qs.values())) if all("n" in q for q in qs.values()) else None
    _years(ax)
    ax.set_ylabel(_axis_label(what, unit_label))
    ax.set_title(title or f"{what}{f' ({n} runs)' if n else ''}")
    _legend(ax, loc="best")
    _record(ax, pd.concat(data, ignore_index=True))
    fig.tight_layout()
    return fig


MODEL_COLOUR, PUBLISHED_COLOUR, OUTSIDE_COLOUR = "#1f77b4", "#000000", "#d62728"
PANEL_COLUMNS = 4
TITLE_HEIGHT_IN = 0.45            # room above the panels for the figure title (inches)


def validation_panels(trajectories: pd.DataFrame, published: pd.DataFrame, *,
                      title: str | None = None) -> Figure:
    """One panel per quantity: the model's mean over runs with its min-max band over the years,
    and the published values with their range (thick bar) and tolerance (thin bar); a published
    point the model misses is red.

    ``trajectories``: quantity, unit, year, run, value (``ValidationResult.trajectories``);
    ``published``: quantity, unit, year, value, low, high, tolerance_frac and optionally
    ``inside`` (``ValidationResult.table``). Values are in each quantity's own unit.
    """
    quantities = list(dict.fromkeys(trajectories["quantity"]))
    if not quantities:
        raise ValueError("no model trajectory to draw (no observation the tables can answer)")
    rows = -(-len(quantities) // PANEL_COLUMNS)
    fig, axes = plt.subplots(rows, PANEL_COLUMNS, figsize=(4.2 * PANEL_COLUMNS, 3.1 * rows),
                             squeeze=False)
    for i, (ax, q) in enumerate(zip(axes.ravel(), quantities)):
        _validation_panel(ax, q, trajectories[trajectories.quantity == q],
                          published[published.quantity == q], legend=i == 0)
    for ax in axes.ravel()[len(quantities):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0.0, 0.0, 1.0, 1.0 - TITLE_HEIGHT_IN / fig.get_figheight()))
    return fig


def _validation_panel(ax, quantity: str, traj: pd.DataFrame, pub: pd.DataFrame,
                      legend: bool) -> None:
    unit = str(traj["unit"].iloc[0])
    per_year = traj.groupby("year")["value"]
    model = pd.DataFrame({"model mean": per_year.mean(), "model min": per_year.min(),
                          "model max": per_year.max()})
    ax.fill_between(model.index, model["model min"], model["model max"], color=MODEL_COLOUR,
                    alpha=0.2, lw=0, label="model (min-max of runs)")
    ax.plot(model.index, model["model mean"], color=MODEL_COLOUR, lw=1.8, label="model mean")
    data = [_tidy(model, unit)]
    if len(pub):
        p = pub.sort_values("year")
        lo, hi = p["low"].fillna(p["value"]), p["high"].fillna(p["value"])
        slack = p["tolerance_frac"].fillna(0.0) * p["value"].abs()
        miss = (p["inside"].eq(False).fillna(False).to_numpy(bool) if "inside" in p
                else np.zeros(len(p), bool))
        colour = np.where(miss, OUTSIDE_COLOUR, PUBLISHED_COLOUR)
        for x, v, a, b, s, c in zip(p["year"], p["value"], lo, hi, slack, colour):
            ax.errorbar([x], [v], yerr=[[v - a + s], [b - v + s]], fmt="none", ecolor=c, lw=0.8,
                        capsize=3, alpha=0.6)
            ax.errorbar([x], [v], yerr=[[v - a], [b - v]], fmt="o", color=c, ms=4, lw=2.5)
        ax.plot([], [], "o", color=PUBLISHED_COLOUR, ms=4, label="published (range, tolerance)")
        pts = p.set_index("year")
        data.append(_tidy(pd.DataFrame({"published": pts["value"], "published low": lo.to_numpy(),
                                        "published high": hi.to_numpy()}, index=pts.index), unit))
    _years(ax)
    ax.set_ylabel(unit)
    ax.set_title(textwrap.fill(quantity.replace("_", " "), 40), fontsize=9)
    ax.tick_params(labelsize=7)
    if legend:
        _legend(ax, loc="best")
    _record(ax, pd.concat(data, ignore_index=True))


def sensitivity_table(indices: pd.DataFrame) -> pd.DataFrame:
    """Tidy indices (parameter, index, value, low, high) from the tidy table of
    ``experiments.sensitivity`` or a wide one (parameter, S1, S1_conf, ST, ST_conf / mu_star ...)."""
    if "index" in indices.columns and "value" in indices.columns:
        t = indices.copy()
    else:
        kinds = [k for k in ("S1", "ST", "mu_star", "sigma", "mu") if k in indices.columns]
        if "parameter" not in indices.columns or not kinds:
            raise ValueError("sensitivity indices need a parameter column and S1/ST or mu_star "
                             "columns (or the tidy table of experiments.sensitivity)")
        t = indices.melt(id_vars=["parameter"], value_vars=kinds, var_name="index")
        conf = {k: indices.set_index("parameter").get(f"{k}_conf") for k in kinds}
        t["conf"] = [conf[k].get(p, np.nan) if conf[k] is not None else np.nan
                     for k, p in zip(t["index"], t["parameter"])]
    if "low" not in t.columns:
        t["low"], t["high"] = t["value"] - t["conf"], t["value"] + t["conf"]
    return t


def sensitivity_bars(indices: pd.DataFrame, *, kinds: Sequence[str] | None = None,
                     title: str | None = None, unit: str | None = None, ax=None) -> Figure:
    """Sensitivity indices as horizontal bars with their confidence intervals (error bars).

    Sobol: first-order S1 and total ST (share of the output's variance), parameters sorted by ST;
    Morris: mu* (mean absolute elementary effect, in the output's unit), sorted by mu*.
    """
    t = sensitivity_table(indices)
    t = t[~t["parameter"].astype(str).str.contains(" x ")]          # second-order pairs aside
    present = list(dict.fromkeys(t["index"]))
    kinds = list(kinds) if kinds else ([k for k in ("S1", "ST") if k in present]
                                       or [k for k in ("mu_star",) if k in present] or present[:1])
    t = t[t["index"].isin(kinds)]
    sort_by = "ST" if "ST" in kinds else kinds[0]
    order = (t[t["index"] == sort_by].set_index("parameter")["value"].sort_values().index.tolist())
    output = str(indices["output"].iloc[0]) if "output" in indices.columns and len(indices) else ""
    if unit is None:
        unit = unit_of(output.split(".")[-1].split("@")[0]) if output else ""
    level = indices.attrs.get("conf_level", 0.95)
    fig, ax = _new(ax, figsize=(8, max(3.0, 0.55 * len(order) * len(kinds) + 1.5)))
    height = 0.8 / len(kinds)
    y = np.arange(len(order))
    colours = {"S1": "#4292c6", "ST": "#08306b", "mu_star": "#08306b", "sigma": "#9ecae1",
               "mu": "#6baed6"}
    for i, kind in enumerate(kinds):
        part = t[t["index"] == kind].set_index("parameter").reindex(order)
        err = np.vstack([(part["value"] - part["low"]).clip(lower=0).fillna(0.0),
                         (part["high"] - part["value"]).clip(lower=0).fillna(0.0)])
        ax.barh(y + (i - (len(kinds) - 1) / 2) * height, part["value"], height, xerr=err,
                capsize=3, color=colours.get(kind, f"C{i}"), label=kind, ecolor="black")
    ax.set_yticks(y, order, fontsize=8)
    ax.axvline(0.0, color="black", lw=0.6)
    sobol = set(kinds) <= {"S1", "ST", "S2"}
    xl = ("Sobol index (share of output variance)" if sobol
          else _axis_label("mu* (mean |elementary effect|)", unit))
    ax.set_xlabel(f"{xl}; error bars: {level:.0%} confidence interval")
    ax.set_title(title or (f"What drives {output}" if output else "Sensitivity indices"))
    _legend(ax, loc="lower right")
    _record(ax, t.rename(columns={"parameter": "x", "index": "series"})[
        ["x", "series", "value", "low", "high"]].assign(unit="index" if sobol else unit))
    fig.tight_layout()
    return fig


# -- product footprints ----------------------------------------------------------------------------
FOOTPRINT_COLOURS = {"input": "#9ecae1", "fuel upstream (coal, gas)": "#756bb1",
                     "own scope 1": "#e6550d", "own scope 2 (location)": "#fdae6b",
                     "cradle to gate": "#3182bd"}


def footprint_waterfall(footprints: pd.DataFrame, footprint_inputs: pd.DataFrame, industry: str,
                        year: int, province: str | None = None, *, top: int = 8,
                        threshold: float | None = None, ax=None, title: str | None = None) -> Figure:
    """A product's cradle-to-gate footprint as a waterfall: the ``top`` largest purchased inputs
    (the rest as "other inputs"), fuel upstream, own scope 1, own scope 2, then the total; an
    optional buyer ``threshold`` (same unit) as a line. ``province`` None: national."""
    from zcf.sim.footprints import waterfall
    steps = waterfall(footprints, footprint_inputs, industry, year, province)
    own = ["fuel upstream (coal, gas)", "own scope 1", "own scope 2 (location)"]
    inputs = steps.drop(own).sort_values(ascending=False)
    if len(inputs) > top:
        inputs = pd.concat([inputs.iloc[:top], pd.Series({"other inputs": inputs.iloc[top:].sum()})])
    steps = pd.concat([inputs, steps[own]])
    unit = one_unit(footprints[footprints.industry == industry], "cradle_to_gate_tco2_per_unit")
    fig, ax = _new(ax, figsize=(10, 5))
    start = np.concatenate([[0.0], np.cumsum(steps.to_numpy())[:-1]])
    colours = [FOOTPRINT_COLOURS.get(k, FOOTPRINT_COLOURS["input"]) for k in steps.index]
    x = np.arange(len(steps) + 1)
    ax.bar(x[:-1], steps.to_numpy(), bottom=start, color=colours, edgecolor="0.3", linewidth=0.5)
    total = float(steps.sum())
    ax.bar(x[-1], total, color=FOOTPRINT_COLOURS["cradle to gate"], edgecolor="0.3", linewidth=0.5)
    names = [textwrap.shorten(k, 28, placeholder="...") for k in steps.index] + ["cradle to gate"]
    ax.set_xticks(x, names, rotation=35, ha="right", fontsize=SMALL_PT)
    if threshold is not None and np.isfinite(threshold):
        ax.axhline(threshold, color="crimson", ls="--", lw=1.2, label=f"buyer threshold {threshold:g}")
        _legend(ax, loc="upper left")
    ax.set_ylabel(_axis_label("footprint", unit))
    where = province or "China"
    ax.set_title(f"{label(industry)}: cradle-to-gate footprint, {where} {year}")
    _record(ax, pd.DataFrame({"x": names, "series": "tco2_per_unit",
                              "value": np.append(steps.to_numpy(), total), "unit": unit}))
    _suptitle(fig, title)
    return fig


def footprint_distribution(firms: pd.DataFrame, threshold: float | None = None, *,
                           basis: str = "cradle_to_gate", bins: int = 30, ax=None,
                           title: str | None = None) -> Figure:
    """Factories of one industry by footprint (``firms``: one row per firm agent with ``weight``
    (factories represented), ``footprint_tco2_per_unit`` and ``cradle_to_gate_tco2_per_unit``,
    ``industry``, ``year``, ``output_unit``): weighted histograms of both, and the buyers'
    threshold on its ``basis`` with the share of factories above it."""
    fig, ax = _new(ax, figsize=(9, 5))
    cols = {"footprint_tco2_per_unit": ("factory (own scope 1 + 2)", "#fdae6b"),
            "cradle_to_gate_tco2_per_unit": ("cradle to gate", "#3182bd")}
    values = np.concatenate([firms[c].to_numpy(float) for c in cols])
    edges = np.histogram_bin_edges(values[np.isfinite(values)], bins=bins)
    rows = []
    for col, (name, colour) in cols.items():
        h, _ = np.histogram(firms[col], bins=edges, weights=firms.weight)
        ax.stairs(h, edges, fill=True, alpha=0.55, color=colour, label=name)
        rows.append(pd.DataFrame({"x": 0.5 * (edges[1:] + edges[:-1]), "series": name,
                                  "value": h, "unit": "factories"}))
    unit = f"tCO2/{firms.output_unit.iloc[0]}" if "output_unit" in firms and len(firms) else "tCO2/unit"
    if threshold is not None and np.isfinite(threshold):
        col = "cradle_to_gate_tco2_per_unit" if basis == "cradle_to_gate" else "footprint_tco2_per_unit"
        above = float(firms.weight[firms[col] > threshold].sum() / firms.weight.sum())
        ax.axvline(threshold, color="crimson", ls="--", lw=1.2,
                   label=f"buyer threshold {threshold:g} ({basis.replace('_', ' ')}): "
                         f"{100 * above:.0f}% of factories above")
    ax.set_xlabel(_axis_label("footprint", unit))
    ax.set_ylabel("factories")
    ind = firms.industry.iloc[0] if len(firms) else ""
    yr = int(firms.year.iloc[0]) if len(firms) else ""
    ax.set_title(f"{label(ind)}: footprints across factories, {yr}")
    _legend(ax, loc="upper right")
    _record(ax, pd.concat(rows, ignore_index=True))
    _suptitle(fig, title)
    return fig


# -- a run's figures ------------------------------------------------------------------------------
_RUN_FIGURES = {   # file stem: (tables needed, figure function of the tables)
    "emissions_by_industry": (("emissions",), lambda t: emission_wedges(t["emissions"], "industry")),
    "emissions_by_scope": (("emissions",), lambda t: emission_wedges(t["emissions"], "scope")),
    "emissions_by_province": (("emissions",), lambda t: emission_wedges(t["emissions"], "province")),
    "certified_factories": (("certification",), lambda t: certified_factories(t["certification"])),
    "adoption": (("adoption", "certification"),
                 lambda t: adoption_curves(t["adoption"], t["certification"])),
    "map_net_emissions": (("emissions",), lambda t: province_map(t["emissions"], "net_tco2")),
    "offset_market": (("offsets",), lambda t: offset_market(t["offsets"])),
    "offset_flows": (("offset_flows",), lambda t: offset_flows(t["offset_flows"])),
    "emissions_by_route": (("routes",), lambda t: emission_wedges(t["routes"], "route", top=14)),
    "route_shares": (("routes",), lambda t: route_shares(t["routes"])),
}


def _tables_of(results) -> dict[str, pd.DataFrame]:
    return results.tables() if hasattr(results, "tables") else dict(results)


def _available(tables: dict[str, pd.DataFrame]) -> list[str]:
    return [name for name, (needs, _) in _RUN_FIGURES.items()
            if all(n in tables and len(tables[n]) for n in needs)]


def run_figures(results) -> dict[str, Figure]:
    """The main figures of one run by name (``results``: ``model.results`` or {name: table})."""
    t = _tables_of(results)
    return {name: _RUN_FIGURES[name][1](t) for name in _available(t)}


def save_run_figures(results, folder: str | Path, dpi: int = 150, *,
                     formats: Sequence[str] = ("png",), caption: str | None = None) -> list[Path]:
    """Write the main figures of a run into ``folder`` (one file per figure and format);
    returns the paths.

    Emissions by industry, scope and province, certified factories, adoption, the province map
    of net emissions in the last year, and the offset market and flows when the run has them.
    ``formats``: any of png, svg, pdf; ``dpi`` sets PNG resolution (and raster parts of the
    others); ``caption`` (e.g. scenario, seed and population) is printed under each figure.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    t = _tables_of(results)
    paths = []
    for name in _available(t):
        fig = _RUN_FIGURES[name][1](t)
        try:
            if caption:
                fig.text(0.01, 0.0, caption, ha="left", va="top", fontsize=CAPTION_PT,
                         color="0.25")
            for fmt in formats:
                path = folder / f"{name}.{fmt}"
                tmp = folder / f".{name}.{fmt}.tmp"
                fig.savefig(tmp, dpi=dpi, format=fmt, bbox_inches="tight", pad_inches=0.12)
                tmp.replace(path)
                paths.append(path)
        finally:
            plt.close(fig)
    return paths
