"""The parameters of one model year, built once a year from the scenario, the data and what the
markets carried over from the year before (data only: no reference to the model).

``Setting`` holds what never changes in a run (data tables, option table, per-industry and
per-province constants); ``Carry`` what last year's markets and behaviour hand to this year (offset
price, contracted green power, open direct-supply provinces, the subsidy budget's fill ratio,
adaptive expectations); ``year_params(setting, year, carry)`` returns the ``YearParams`` every
phase reads, and the ``Carry`` of the expectations it formed.

Every table is built by name (a dict of columns named as in ``ext/layouts.py``): ``pack`` turns it
into the packed array the kernels read, ``rows`` into the named rows the Python twins read.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import SimpleNamespace

import numpy as np

from zcf.ext import rules
from zcf.ext.layouts import INDUSTRY, LAYOUTS, OPTION, PROVINCE, SCALAR
from zcf.sim.datasets import CARRIERS, CERT_TIERS, DefaultData
from zcf.sim.footprints import green_demand_premiums
from zcf.sim.options import ROUTE_MULTIPLIERS, OptionTable
from zcf.sim.policy import (PolicyYear, cbam_coverage_by_industry, grid_factors, path_value,
                            policy_for_year)
from zcf.sim.schema import ScenarioModel

BID_CAP_CNY_PER_TCO2 = 20_000   # offset bids are whole CNY per tonne up to this (far above any cost)
# GB/T 36132-2025: energy and carbon indicators carry 60% of the green-factory score, resources 40%
GREEN_WEIGHTS = {"w_energy": 0.3, "w_carbon": 0.3, "w_resource": 0.4}
DATA_YEAR = 2024                # output in industries.csv is of this year
BASE_YEAR = 2025                # capex, issuance and capacity paths start here


def pack(columns: dict[str, np.ndarray | float], prefix: str, n: int | None = None) -> np.ndarray:
    """The packed table of layout ``prefix`` from named columns (every name required, none
    extra): shape (rows, fields), or (fields,) for a scalar table (``n`` None)."""
    names = LAYOUTS[prefix]
    missing = [k for k in names if k not in columns]
    extra = [k for k in columns if k not in names]
    if missing or extra:
        raise ValueError(f"table {prefix}: missing {missing}, unknown {extra}")
    if n is None:
        return np.array([float(columns[k]) for k in names], dtype=np.float64)
    out = np.empty((n, len(names)), dtype=np.float64)
    for j, k in enumerate(names):
        out[:, j] = columns[k]
    return out


def rows(columns: dict, prefix: str, n: int) -> list[SimpleNamespace]:
    """The named rows of a table (what the Python twins read), from the same named columns."""
    table = pack(columns, prefix, n)
    return [SimpleNamespace(**{k.lower(): float(v) for k, v in zip(LAYOUTS[prefix], r)})
            for r in table]


@dataclass(frozen=True)
class Setting:
    """What stays fixed over a run: scenario, data, options and derived per-industry constants."""

    cfg: ScenarioModel
    data: DefaultData
    options: OptionTable
    ets_benchmark: np.ndarray      # tCO2 per unit: average scope 1 per unit in the data
    eligible_year: np.ndarray      # first certification year per industry
    solar_yield: np.ndarray        # MWh per kW per year, per province
    western: np.ndarray            # float 0/1 per province
    offset_market: np.ndarray      # index of the offset market of each province
    market_names: tuple[str, ...]
    grid_start: np.ndarray         # tCO2/MWh per province in the start year (decompositions)
    eu_price: np.ndarray           # CNY per unit of EU-bound output, per industry (EU import unit
                                   # value where known, else the domestic price)

    @property
    def n_ind(self) -> int:
        return len(self.data.industry_ids)

    @property
    def n_prov(self) -> int:
        return len(self.data.province_names)


def make_setting(cfg: ScenarioModel, data: DefaultData) -> Setting:
    ind = data.industries
    options = OptionTable(data, cfg.options)
    bench = ets_benchmarks(data, options)
    eligible = ind["certification_eligible_year"].to_numpy(float).astype(int).copy()
    for name, y in cfg.certification.eligible_year.items():
        eligible[data.industry_ids.index(name)] = y
    market, names = offset_markets(cfg, data)
    unit_value = data.eu_unit_value_eur() * cfg.prices.eur_cny
    price = data.products["price_cny_per_unit"].to_numpy(float)
    return Setting(cfg, data, options, np.ascontiguousarray(bench), eligible,
                   data.provinces["solar_yield_kwh_per_kw_yr"].to_numpy(float) / 1000.0,
                   data.western_base().astype(float), market, names,
                   grid_factors(cfg, data, cfg.time.start_year)[0],
                   np.where(np.isfinite(unit_value), unit_value, price))


def ets_benchmarks(data: DefaultData, options: OptionTable) -> np.ndarray:
    """Average scope 1 per unit of each industry at the start (tCO2/unit): the incumbent of
    industries.csv, mixed with the process routes plants start on (starting_routes.csv)."""
    ind, ef = data.industries, data.carriers["ef_tco2_per_unit"]
    cols = {"coal": ("coal_t_per_unit", "coal_mult"),
            "natural_gas": ("natural_gas_m3_per_unit", "gas_mult"),
            "diesel": ("diesel_t_per_unit", None)}
    per_route = lambda k, j: (sum(float(ind[col].fillna(0).iloc[k]) * float(ef[c])
                                  * (options.multipliers[m][j] if m and j >= 0 else 1.0)
                                  for c, (col, m) in cols.items())
                              + float(ind["process_tco2_per_unit"].fillna(0).iloc[k])
                              * (options.multipliers["process_mult"][j] if j >= 0 else 1.0))
    bench = np.array([per_route(k, -1) for k in range(len(ind))])
    for r in data.starting_routes.itertuples(index=False):
        k, j = data.industry_ids.index(r.industry), options.ids.index(r.option)
        bench[k] += r.output_share_frac * (per_route(k, j) - per_route(k, -1))
    return bench


def scenario_path(section, key: str, data: DefaultData, table: str, column: str,
                  item: str) -> dict[int, float]:
    """A scenario path key: the scenario's own path where it gives one, else the data's (which
    may be a user's copy named in [data])."""
    if key in section.model_fields_set:
        return getattr(section, key)
    return data.path(table, column, item)


MT = 1e6    # t per Mt
KG_PER_MT = 1e9


def shared_limits(st: Setting, year: int, growth: np.ndarray) -> dict:
    """This year's limits shared by the firms that use them: extra scrap (t: availability less
    the incumbents' own scrap use at this year's output), extra supplementary material (t),
    green hydrogen (kg), and CO2 injection per province (t)."""
    cfg, data = st.cfg, st.data
    lim = cfg.limits
    path = lambda key, item: path_value(scenario_path(lim, key, data, "shared_limits", "limit", item),
                                        year, 0.0)
    ind = data.industries
    base_scrap = ind["scrap_t_per_unit"].fillna(0).to_numpy(float) if "scrap_t_per_unit" in ind else 0.0
    incumbent_scrap = float(np.sum(base_scrap * ind["national_output_units_2024"].to_numpy(float) * growth))
    cap = data.co2_storage["storage_capacity_mtco2"].to_numpy(float)
    share = cap / cap.sum() if cap.sum() > 0 else np.zeros_like(cap)
    return {"scrap": path("scrap_mt_per_yr", "scrap") * MT - incumbent_scrap,
            "scm": path("scm_mt_per_yr", "scm") * MT,
            "hydrogen": path("green_hydrogen_mt_per_yr", "green_hydrogen") * KG_PER_MT,
            "storage": path("co2_injection_mt_per_yr", "co2_injection") * MT * share}


def _prices(st: Setting, year: int) -> dict:
    pr, data = st.cfg.prices, st.data
    get = lambda key: path_value(scenario_path(pr, key, data, "price_paths", "item", key), year, 0.0)
    return {"p_hydrogen": get("hydrogen_green_cny_per_kg"), "p_biomass": get("biomass_cny_per_gj"),
            "p_scrap": get("scrap_cny_per_t"),
            "p_co2_storage": get("co2_transport_storage_cny_per_tco2")}


def buyer_premiums(st: Setting, year: int) -> dict:
    """Premium buyers' threshold, premium and share of output per industry in ``year``."""
    thr, prem, share = np.full(st.n_ind, np.inf), np.zeros(st.n_ind), np.zeros(st.n_ind)
    for r in sorted(st.cfg.buyers.premiums, key=lambda r: r.from_year):
        if r.from_year <= year:
            k = st.data.industry_ids.index(r.industry)
            thr[k], prem[k], share[k] = r.max_footprint_tco2_per_unit, r.premium_cny_per_unit, r.share_frac
    return {"premium_threshold_tco2_per_unit": thr, "premium_cny_per_unit": prem,
            "premium_share_frac": share}


def offset_markets(cfg: ScenarioModel, data: DefaultData) -> tuple[np.ndarray, tuple[str, ...]]:
    """Which offset market each province buys in (the scenario's purchase scope), and the names."""
    names = np.array(data.province_names)
    scope = cfg.offsets.scope
    if scope == "national":
        return np.zeros(len(names), np.int64), ("national",)
    key = names if scope == "own_province" else data.provinces["grid_region"].to_numpy()
    markets = list(dict.fromkeys(key))
    return np.array([markets.index(k) for k in key], np.int64), tuple(map(str, markets))


@dataclass(frozen=True)
class Carry:
    """What one year hands to the next, as data."""

    offset_price_cny_per_tco2: float | None = None    # last finite national clearing price
    contracted_twh: float = 0.0                       # green power contracted by modelled firms
    subsidy_fill_frac: float = 1.0                    # last year's subsidy budget fill ratio
    expected: dict = field(default_factory=dict)      # adaptive expectations by price
    used: dict = field(default_factory=dict)          # shared limits used last year (as limits)
    contract_premium_cny_per_mwh: float | None = None # last green-power trading clearing premium
    direct_new_fill: np.ndarray | None = None         # share of new direct supply delivered, per province
    ccer_power_mwh: float = 0.0                       # MWh credited as CCERs (their GECs cancelled)
    admit: tuple = (1.0, 1.0, 1.0)                    # expected admission rate of a candidate, per tier
    submit: tuple = (1.0, 1.0, 1.0)                   # expected rate of being put forward, per tier
    green_materials: dict = field(default_factory=dict)  # low-carbon supply and demand (footprints)


@dataclass
class YearParams:
    """Everything the phases of one year read (named columns; packed on demand, once)."""

    year: int
    policy: PolicyYear
    growth: np.ndarray          # output relative to the data year, per industry
    scalars: dict               # SCALAR
    options: dict               # OPTION columns (the decision's view: expected prices)
    ind_now: dict               # INDUSTRY columns for this year's accounting and close
    ind_ahead: dict             # INDUSTRY columns as a deciding firm sees them
    prov: dict                  # PROVINCE columns (direct supply in full, no offset price yet)
    applic: np.ndarray          # industries x options, max share (-1: not allowed)
    sub_rate: np.ndarray        # options x provinces, expected capex subsidy share
    credit_frac: np.ndarray     # per option: green-credit support per CNY of net capex
    limits: dict                # shared limits of the year (``shared_limits``)
    n_ind: int
    n_prov: int
    option_ids: list
    # developers' offers of third-party rooftop PV (``zcf.sim.phases.third_party_offers``): the
    # option offered (-1: none), the yearly chance of an offer without peers, its rise per peer share
    third_party_option: int = -1
    third_party_outreach: float = 0.0
    third_party_imitation: float = 0.0
    # the year's rooftop PV campaign (``zcf.sim.phases.pv_campaign``): the factory-owned PV option
    # whose roofs it canvasses (-1: none) and the chance a factory is reached
    owned_pv_option: int = -1
    pv_campaign_frac: float = 0.0
    _packed: dict = field(default_factory=dict, repr=False)

    def _table(self, name: str) -> tuple[dict, str, int | None]:
        return {"sc": (self.scalars, "SC", None), "op": (self.options, "OP", len(self.credit_frac)),
                "ip_now": (self.ind_now, "IP", self.n_ind),
                "ip_ahead": (self.ind_ahead, "IP", self.n_ind),
                "pp": (self.prov, "PP", self.n_prov)}[name]

    def packed(self, name: str) -> np.ndarray:
        """``sc``, ``op``, ``ip_now``, ``ip_ahead`` or ``pp`` as the kernels take them."""
        if name not in self._packed:
            self._packed[name] = pack(*self._table(name))
        return self._packed[name]

    def named(self, name: str):
        """The same tables as named rows (the Python twins' inputs)."""
        key = "named_" + name
        if key not in self._packed:
            table, prefix, n = self._table(name)
            self._packed[key] = (SimpleNamespace(**{k: float(v) for k, v in table.items()})
                                 if n is None else rows(table, prefix, n))
        return self._packed[key]

    def set_scalars(self, **changes) -> None:
        """Replace scalars of the year once a market has cleared (the green-power premium paid at
        the close); the packed and named copies are rebuilt when next asked for."""
        self.scalars.update(changes)
        self._packed.pop("sc", None)
        self._packed.pop("named_sc", None)

    def province_table(self, **changes) -> np.ndarray:
        """The packed province table with some columns replaced (direct-supply fill, offset
        market prices ...)."""
        return pack({**self.prov, **changes}, "PP", self.n_prov)

    def province_rows(self, **changes) -> list[SimpleNamespace]:
        return rows({**self.prov, **changes}, "PP", self.n_prov)


def growth_factor(st: Setting, year: int) -> np.ndarray:
    """Output relative to the data year (2024), per industry; growth halves after the taper year.
    Before the data year (a hindcast): the published output of ``output_history.csv`` where it
    has the industry and year, else the industry's growth rate run backwards."""
    data, cfg = st.data, st.cfg
    g = data.industries["output_growth_frac_per_yr"].to_numpy(float).copy()
    for ind, v in cfg.growth.output_growth_frac_per_yr.items():
        g[data.industry_ids.index(ind)] = v
    if year < DATA_YEAR:
        back = (1.0 + g) ** (year - DATA_YEAR)
        hist = data.output_history
        if hist is not None and year in hist.index:
            known = hist.loc[year].to_numpy(float)
            back = np.where(np.isfinite(known), known, back)
        return back
    taper = cfg.growth.growth_taper_year
    early = max(0, min(year, taper) - DATA_YEAR)
    late = max(0, year - max(taper, DATA_YEAR))
    return (1.0 + g) ** early * (1.0 + g / 2.0) ** late


def buyer_requirements(st: Setting, year: int) -> tuple[np.ndarray, np.ndarray]:
    """Footprint threshold (tCO2/unit, inf = none) and penalty share per industry in ``year``."""
    thr, pen = np.full(st.n_ind, np.inf), np.zeros(st.n_ind)
    for r in sorted(st.cfg.buyers.requirements, key=lambda r: r.from_year):
        if r.from_year <= year:
            k = st.data.industry_ids.index(r.industry)
            thr[k], pen[k] = r.max_footprint_tco2_per_unit, r.penalty_frac
    return thr, pen


def buyer_basis(st: Setting, year: int) -> np.ndarray:
    """1 per industry whose buyers' requirement in ``year`` is on the cradle-to-gate footprint."""
    c2g = np.zeros(st.n_ind)
    for r in sorted(st.cfg.buyers.requirements, key=lambda r: r.from_year):
        if r.from_year <= year:
            c2g[st.data.industry_ids.index(r.industry)] = float(r.basis == "cradle_to_gate")
    return c2g


def first_of_kind(opts: OptionTable, kind: str, column: str, default: float = 0.0) -> float:
    """``column`` of the first option of ``kind`` (the kind's market price basis), or default."""
    k = opts.of_kind(kind)
    return float(opts.column(column)[k[0]]) if len(k) else default


def third_party_option(st: Setting) -> int:
    """The on-site PV option a third party owns (``ppa_tariff_frac`` > 0; the first such row), or
    -1 when there is none or developers make no offers (``third_party_pv.enabled``)."""
    offered = st.options.rooftop_pv()[1]
    return int(offered[0]) if st.cfg.third_party_pv.enabled and len(offered) else -1


def owned_pv_option(st: Setting) -> int:
    """The on-site PV option the factory owns (the first such row), or -1 when there is none."""
    owned = st.options.rooftop_pv()[0]
    return int(owned[0]) if len(owned) else -1


def third_party_pv_open(st: Setting, capex: np.ndarray, p_elec: float,
                        p_export: float) -> np.ndarray:
    """Per province, 1 where developers offer rooftop PV they own this year: the project's NPV
    per kW at the developers' cost of capital is positive. It earns the factory's payment
    (``ppa_tariff_frac`` x the grid tariff ``p_elec``) on the self-consumed share of its output
    and the export price ``p_export`` on the rest (CNY/MWh), less the O&M of the factory-owned
    PV option, whose capex (``capex``: this year's, CNY per unit) the developer pays. Provinces x
    0 when no such offer exists."""
    tp, opts = st.cfg.third_party_pv, st.options
    tariff = opts.column("ppa_tariff_frac")
    owned = opts.rooftop_pv()[0]
    k = third_party_option(st)
    if k < 0 or len(owned) == 0:
        return np.zeros(st.n_prov)
    j = int(owned[0])
    self_frac = float(opts.column("effect_frac")[k])
    revenue = st.solar_yield * (self_frac * float(tariff[k]) * p_elec
                                + (1.0 - self_frac) * p_export)
    npv = ((revenue - float(opts.column("opex_cny_per_unit_yr")[j]))
           * rules.annuity(tp.developer_wacc_frac, float(opts.column("lifetime_yr")[k]))
           - float(capex[j]))
    return (npv > 0.0).astype(float)


def contract_premium(st: Setting, requested_mwh: float, available_mwh: float) -> float:
    """Green-power trading premium (CNY/MWh) at which ``requested_mwh`` clears against the volume
    open to the modelled firms: the contract option's premium + span x requested / available up to
    the available volume; beyond it the premium rises in proportion to the excess demand (a
    scarcity rent; requests are then rationed pro rata, ``zcf.sim.markets.GreenPower.trade``)."""
    base = first_of_kind(st.options, "green_contract", "opex_cny_per_unit_yr")
    top = base + premium_span(st)
    if available_mwh <= 0.0:
        return top                  # nothing to deliver: the top of the curve, nothing paid
    use = requested_mwh / available_mwh
    return base + premium_span(st) * use if use <= 1.0 else top * use


def premium_span(st: Setting) -> float:
    span = st.cfg.green_power.premium_span_cny_per_mwh
    if span is None:     # premium rise of a base once all its capacity is contracted (mean)
        b = st.data.green_power_bases
        cap = b["direct_supply_capacity_twh_per_yr_2025"] + b["export_capacity_twh_per_yr_2025"]
        span = float((b["premium_slope_cny_per_mwh_per_twh"] * cap).mean())
    return float(span)


def expected_offset_price(st: Setting, carry: Carry) -> float:
    """What firms expect to pay per offset tonne: last year's national price per tonne counted;
    the cheapest supply cost before any trade; inf when offsets cannot be had."""
    o = st.cfg.offsets
    if not o.enabled:
        return np.inf
    if carry.offset_price_cny_per_tco2 is not None:
        return carry.offset_price_cny_per_tco2 / (1.0 - o.quality_discount_frac)
    return float(st.data.offset_supply.cost_min_cny_per_tco2.mean())


def expectations(st: Setting, year: int, pol: PolicyYear, carry: Carry) -> tuple[np.ndarray, dict]:
    """Expected prices per option over its life (columns ets, ets free share, EU price, CBAM
    free share), and the adaptive expectations to carry to next year."""
    cfg, opts = st.cfg, st.options
    paths = {"ets": (cfg.ets.price_cny_per_tco2, pol.ets_price_cny_per_tco2),
             "ets_free": (cfg.ets.free_share, pol.ets_free_share),
             "eu": (cfg.prices.eu_ets_eur_per_tco2, pol.eu_ets_eur_per_tco2),
             "cbam_free": (cfg.cbam.free_share, pol.factors.cbam_free_share)}
    mode, alpha = cfg.expectations.mode, cfg.expectations.adaptive_weight_frac
    lead, life = opts.lead(), opts.life()
    out = np.zeros((len(opts), len(paths)))
    expected = dict(carry.expected)
    for j, (key, (path, now)) in enumerate(paths.items()):
        if mode == "perfect":
            for k in range(len(opts)):
                yrs = np.arange(year + lead[k], year + lead[k] + max(life[k], 1))
                out[k, j] = np.mean([path_value(path, y, now) for y in yrs])
        elif mode == "adaptive":
            prev = expected.get(key, now)
            expected[key] = prev + alpha * (now - prev)
            out[:, j] = expected[key]
        else:
            out[:, j] = now
    return out, expected


def surcharge_tiers(st: Setting, year: int) -> dict[str, np.ndarray]:
    """The tiered electricity price in force per industry in ``year`` (threshold inf: none)."""
    cols = {"surcharge_threshold_mwh_per_unit": np.full(st.n_ind, np.inf),
            "surcharge_step_mwh_per_unit": np.zeros(st.n_ind),
            "surcharge_cny_per_mwh_per_step": np.zeros(st.n_ind),
            "surcharge_metered_frac": np.ones(st.n_ind), "surcharge_green_relief": np.zeros(st.n_ind)}
    for t in sorted(st.cfg.surcharge.tiers, key=lambda t: t.from_year):
        if t.from_year <= year:
            k = st.data.industry_ids.index(t.industry)
            cols["surcharge_threshold_mwh_per_unit"][k] = path_value(t.threshold_mwh_per_unit, year)
            cols["surcharge_step_mwh_per_unit"][k] = t.step_mwh_per_unit
            cols["surcharge_cny_per_mwh_per_step"][k] = t.surcharge_cny_per_mwh_per_step
            cols["surcharge_metered_frac"][k] = t.metered_frac
            cols["surcharge_green_relief"][k] = float(t.green_relief)
    return cols
def anticipated_cut(st: Setting, year: int) -> float:
    """The near-zero threshold a deciding firm plans for: the highest of the announced path over
    the next ``certification.anticipation_yr`` years (its next re-assessment), so firms invest
    ahead of a rise."""
    c = st.cfg.certification
    return max(path_value(c.near_zero_cut_frac, y) for y in range(year, year + c.anticipation_yr + 1))


def _industry(st: Setting, year: int, pol: PolicyYear, cbam_coverage: np.ndarray,
              buyer_year: int, eligible_year: int, cut: float) -> dict:
    f, p = pol.factors, st.data.products
    r = st.data.certification_rewards
    thr, pen = buyer_requirements(st, buyer_year)
    ind = st.data.industries
    column = lambda name: ind[name].fillna(0).to_numpy(float) if name in ind else np.zeros(st.n_ind)
    return {**surcharge_tiers(st, buyer_year), **buyer_premiums(st, buyer_year),
            "reinvest_cycle_yr": column("reinvest_cycle_yr"),
            "reinvest_capex_cny_per_unit": column("reinvest_capex_cny_per_unit"),
            "ets_covered": pol.ets_covered_by_ind.astype(float),
            "ets_benchmark_tco2_per_unit": st.ets_benchmark,
            "cbam_coverage": cbam_coverage.astype(float),
            "cbam_benchmark_tco2_per_unit": f.cbam_benchmark_tco2_per_unit_by_ind,
            "cbam_default_tco2_per_unit": f.cbam_default_tco2_per_unit_by_ind,
            "cbam_de_minimis_units": f.cbam_de_minimis_units_by_ind,
            "cbam_fuel_in_scope_frac": f.cbam_fuel_in_scope_frac_by_ind,
            "price_cny_per_unit": p["price_cny_per_unit"].to_numpy(float),
            "margin_frac": p["operating_margin_frac"].to_numpy(float),
            "debt_capacity_frac": p["debt_capacity_frac_of_revenue"].to_numpy(float),
            "buyer_threshold_tco2_per_unit": thr, "buyer_penalty_frac": pen,
            "buyer_basis_c2g": buyer_basis(st, buyer_year),
            "cert_eligible": (st.eligible_year <= eligible_year).astype(float),
            "near_zero_cut_frac": np.full(st.n_ind, cut),
            "eu_price_cny_per_unit": st.eu_price,
            "rewarded_revenue_frac": r["rewarded_revenue_frac"].to_numpy(float),
            "reward_near_frac": r["reward_near_zero_frac"].to_numpy(float),
            "reward_zero_frac": r["reward_zero_carbon_frac"].to_numpy(float),
            "cert_cost_mult": r["application_cost_mult"].to_numpy(float)}


def certification_scalars(st: Setting, year: int, carry: Carry) -> dict:
    """The programme's scalars of the year: criteria, rewards, costs and expected admission rates
    (per-tier values in tier order)."""
    c, prog = st.cfg.certification, st.data.certification_programme
    out = {"year": float(year), "green_share_min_frac": c.zero_carbon_green_power_min_frac,
           "cert_green_share_frac": c.certificate_green_share_frac,
           "requires_green_title": float(c.requires_green_title),
           "buyer_reward_mult": c.buyer_reward_mult,
           "procurement_premium_frac": c.procurement_premium_frac,
           "cert_horizon_yr": float(c.anticipation_yr)}
    for tier, short, admit, submit in zip(CERT_TIERS, ("green", "near", "zero"), carry.admit,
                                          carry.submit):
        out[f"award_{short}_cny"] = c.award_cny.get(tier, 0.0) * c.award_region_share_frac
        out[f"app_cost_{short}_cny"] = float(prog.loc[tier, "application_cost_cny"])
        out[f"upkeep_{short}_cny"] = float(prog.loc[tier, "upkeep_cny_per_yr"])
        out[f"admit_{short}_frac"] = float(admit)
        out[f"submit_{short}_frac"] = float(submit)
    return out


def year_params(st: Setting, year: int, carry: Carry) -> tuple[YearParams, Carry]:
    """The year's parameters, and ``carry`` with the expectations formed this year."""
    cfg, data, opts = st.cfg, st.data, st.options
    pol = policy_for_year(cfg, data, year)
    f = pol.factors
    c, o, b = cfg.certification, cfg.offsets, cfg.behaviour
    car = data.carriers
    mult = path_value(cfg.prices.fuel_price_mult, year, 1.0)
    sc = {f"ef_{s}": float(car.loc[n, "ef_tco2_per_unit"])
          for s, n in zip(("coal", "gas", "diesel", "heat"), CARRIERS)}
    sc.update({f"gj_{s}": float(car.loc[n, "energy_gj_per_unit"])
               for s, n in zip(("coal", "gas", "diesel", "heat"), CARRIERS)})
    sc.update({f"p_{s}": float(car.loc[n, "price_cny_per_unit_2025"]) * mult
               for s, n in zip(("coal", "gas", "diesel", "heat"), CARRIERS)})
    sc.update(
        p_elec=cfg.prices.electricity_cny_per_mwh
        * path_value(cfg.prices.electricity_price_mult, year, 1.0),
        p_pv_export=path_value(cfg.prices.pv_export_cny_per_mwh, year),
        p_contract=(carry.contract_premium_cny_per_mwh if carry.contract_premium_cny_per_mwh is not None
                    else contract_premium(st, 0.0, 1.0)),
        p_direct=first_of_kind(opts, "direct_supply", "opex_cny_per_unit_yr"),
        p_cert=first_of_kind(opts, "certificate", "opex_cny_per_unit_yr"),
        eur_cny=pol.eur_cny, cbam_markup_frac=f.cbam_markup_frac, cbam_free_share=f.cbam_free_share,
        eu_ets_eur_per_tco2=pol.eu_ets_eur_per_tco2, ets_price_cny_per_tco2=pol.ets_price_cny_per_tco2,
        ets_free_share=pol.ets_free_share, ets_offset_limit_frac=cfg.ets.offset_limit_frac,
        logit_beta=b.logit_beta, risk_premium_frac=b.risk_premium_frac,
        prem_green=c.green_premium_frac, prem_near=c.near_zero_premium_frac,
        prem_zero=c.zero_carbon_premium_frac, lost_sales=float(cfg.buyers.mode == "lost_sales"),
        cert_exempt=float(c.certified_exempt_from_buyer_penalty),
        zero_residual_frac=c.zero_carbon_residual_frac,
        zero_limit_frac=o.zero_carbon_limit_frac if o.enabled else 0.0,
        certified_credit_frac=cfg.green_credit.certified_discount_frac,
        cert_credit_frac=c.certificate_credit_frac,
        near_zero_cut_frac=path_value(c.near_zero_cut_frac, year),
        offset_keep_frac=1.0 - o.quality_discount_frac,
        green_threshold=c.green_score_threshold, green_energy_target_frac=c.green_energy_target_frac,
        green_carbon_target_frac=c.green_carbon_target_frac, **GREEN_WEIGHTS,
        retained_frac=b.retained_earnings_frac, amort_frac=b.debt_amortisation_frac_per_yr,
        awareness_diffusion_frac=b.awareness_diffusion_frac, peer_weight=b.peer_weight,
        review_frac=b.review_frac_per_yr, subsidy_fill_frac=carry.subsidy_fill_frac,
        loan_share_frac=cfg.green_credit.loan_share_frac, bid_cap_cny_per_tco2=BID_CAP_CNY_PER_TCO2,
        **_prices(st, year))
    sc.update(certification_scalars(st, year, carry))

    exp, expected = expectations(st, year, pol, carry)
    capex = np.ascontiguousarray(opts.capex_per_unit(year), dtype=float)
    gc = cfg.green_credit
    qualifies = np.array([not gc.options or k in gc.options for k in opts.ids])
    credit = np.where(qualifies, gc.rate_discount_frac, 0.0)
    transmission = cfg.green_power.transmission
    growth = growth_factor(st, year)
    limits = shared_limits(st, year, growth)
    used = carry.used or {}
    need = {"scrap": opts.column("scrap_t_per_unit"), "scm": opts.column("scm_t_per_unit"),
            "hydrogen": opts.column("hydrogen_kg_per_unit")}
    available = opts.column("available_from_year") <= year
    for name, per_unit in need.items():      # a limit used up last year: no new claims on it
        if used.get(name, 0.0) >= limits[name]:
            available &= per_unit <= 0.0
    options = {
        "kind": opts.kind.astype(float), "capex_cny_per_unit": capex,
        "opex_cny_per_unit_yr": opts.column("opex_cny_per_unit_yr"), "opex_basis": opts.basis,
        "lifetime_yr": opts.column("lifetime_yr"), "lead_time_yr": opts.column("lead_time_yr"),
        "effect_frac": opts.column("effect_frac"), "cop": opts.column("cop", 1.0),
        "full_load_hours_h_per_yr": opts.column("full_load_hours_h_per_yr", 1.0),
        "available": available.astype(float),
        "western_only": np.where(transmission, False, opts.western_only()).astype(float),
        "credit_discount_frac": credit, "renew_free": (capex == 0.0).astype(float),
        "exp_ets_cny_per_tco2": exp[:, 0], "exp_ets_free_share": exp[:, 1],
        "exp_eu_ets_eur_per_tco2": exp[:, 2], "exp_cbam_free_share": exp[:, 3],
        "exp_offset_cny_per_tco2": np.full(len(opts), expected_offset_price(st, carry)),
        **{name: opts.multipliers[name] for name in ROUTE_MULTIPLIERS},
        **{name: opts.column(name) for name in (
            "hydrogen_kg_per_unit", "biomass_gj_per_unit", "scrap_t_per_unit", "scm_t_per_unit",
            "var_opex_cny_per_unit", "process_stream_frac", "combustion_stream_frac")},
        "major": opts.flag("major").astype(float),
        "incumbent_only": opts.flag("incumbent_only").astype(float),
        "ppa_tariff_frac": opts.column("ppa_tariff_frac")}

    cbam_ahead = cbam_coverage_by_industry(cfg, data, max(year, cfg.cbam.start_year))
    # no open/closed gate: where direct supply is allowed a firm may always contract it, expecting
    # the share of new contracts delivered last year (the queue of ``GreenPower.ration``)
    expected_fill = np.ones(st.n_prov) if carry.direct_new_fill is None else carry.direct_new_fill
    prov = {"solar_yield_mwh_per_kw": st.solar_yield,
            "grid_ef_tco2_per_mwh": f.grid_tco2_per_mwh_by_prov,
            "residual_ef_tco2_per_mwh": f.residual_mix_tco2_per_mwh_by_prov,
            "western_base": st.western,
            "direct_supply_open": np.ones(st.n_prov) if transmission else st.western,
            "direct_supply_fill_frac": expected_fill,
            "offset_market": st.offset_market.astype(float), "offset_price_cny_per_tco2": np.zeros(st.n_prov),
            "storage_open": (np.asarray(used.get("storage", np.zeros(st.n_prov)))
                             < limits["storage"]).astype(float),
            "ppa_open": third_party_pv_open(st, capex, sc["p_elec"], sc["p_pv_export"]),
            "grid_ef_start_tco2_per_mwh": st.grid_start}

    sub = cfg.subsidy
    base = np.array([sub.capex_share.get(k, 0.0) for k in opts.ids])
    addon = np.array([sub.province_addon_frac.get(p, 0.0) for p in data.province_names])
    sub_rate = np.minimum(1.0, base[:, None] + addon[None, :] * (base > 0)[:, None]) * carry.subsidy_fill_frac
    credit_frac = credit * opts.life() / 2.0 * gc.loan_share_frac

    ind_now = _industry(st, year, pol, f.cbam_coverage_by_ind, year, year,
                        path_value(c.near_zero_cut_frac, year))
    ind_ahead = _industry(st, year, pol, cbam_ahead, year + 1, year + 1, anticipated_cut(st, year))
    for ind in (ind_now, ind_ahead):      # buyers' demand for green materials (sim/footprints.py)
        green_demand_premiums(ind, carry.green_materials)
    params = YearParams(
        year=year, policy=pol, growth=growth, scalars=sc, options=options, limits=limits,
        ind_now=ind_now, ind_ahead=ind_ahead,
        prov=prov, applic=opts.applic, sub_rate=np.ascontiguousarray(sub_rate),
        credit_frac=np.ascontiguousarray(credit_frac, dtype=float), n_ind=st.n_ind, n_prov=st.n_prov,
        option_ids=list(opts.ids), third_party_option=third_party_option(st),
        third_party_outreach=cfg.third_party_pv.outreach_frac,
        third_party_imitation=cfg.third_party_pv.imitation_weight,
        owned_pv_option=owned_pv_option(st),
        pv_campaign_frac=path_value(cfg.behaviour.pv_campaign_frac, year))
    return params, replace(carry, expected=expected)
