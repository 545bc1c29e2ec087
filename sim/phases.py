"""The phases of a model year, each a function with explicit inputs and outputs.

``ZeroCarbonModel.step`` is the list of these calls (docs/design.md):

1. ``year_params`` (``zcf.sim.params``): prices, coverage, thresholds, expectations of the year;
2. ``demand``: output and revenue of the year;
3. ``decide``: options at the end of their life replaced, awareness and reviews, valuation and
   choice (the decision kernel, then researchers' own ``FirmAgent.decide`` rules);
4. ``install``: new options, subsidies rationed to the budget, green-credit support, payment;
5. ``energy_and_accounting``: quantities and emissions of every firm (green power requested in full);
6. ``green_power``: green-power trading cleared against the volume open to the modelled firms, and
   direct supply rationed to the bases' capacity by a queue (the firms cut back are recomputed);
7. ``offset_market``: bids, registration and issuance, clearing, registry;
8. ``close_year``: offsets per firm, net emissions, the certification assessment and applications,
   cash flows, counterfactual and decomposition;
9. ``certify`` (``zcf.sim.programme``): dynamic management, re-assessment and the year's batches;
10. ``collect`` (``ZeroCarbonModel``): tables of the year; ``next_carry`` hands the markets' and
   the programme's results to the next year as data.

The per-firm work of every phase goes through an engine (``zcf.sim.kernels``); the firm state is
the only thing phases change in place.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from zcf.ext import rules
from zcf.ext.layouts import EFFECT_KINDS, index
from zcf.sim.kernels import Bids, Choices
from zcf.sim.markets import GreenPower, OffsetMarket, OffsetResult, Rationing, Trade
from zcf.sim.params import Carry, YearParams
from zcf.sim.programme import Round
from zcf.sim.state import FirmState


@dataclass
class Books:
    """Running per-cell bookkeeping of the decision phases (kept between years)."""

    cell: np.ndarray                 # industry x province cell of every firm
    starts: np.ndarray               # firms of present cell j: starts[j] .. starts[j+1]-1
    present: np.ndarray              # cells with firms
    counts: np.ndarray               # weighted firms per present cell
    option_sums: np.ndarray          # (2 n_opt + 1, all cells): firms with k, their capacity, any
    last_spenders: np.ndarray        # firms that paid capex last year
    position: np.ndarray             # present-cell position of every firm


@dataclass
class Decided:
    """The decision phase's outputs."""

    choices: Choices
    review: np.ndarray
    budget: np.ndarray
    replaced: np.ndarray             # uint8 per firm: paid for a replacement this year
    capex_by_option: np.ndarray      # (n_opt, all cells): weighted capex decided this year


@dataclass
class DecisionInputs:
    """What the decision kernel reads besides the firm state and the year's tables."""

    review: np.ndarray
    draw: np.ndarray
    budget: np.ndarray
    cell: np.ndarray
    peer: np.ndarray                 # (all cells, n_opt) adoption share by weight


def demand(s: FirmState, p: YearParams, price_by_ind: np.ndarray, eu_firms: np.ndarray,
           eu_extra_by_ind: np.ndarray) -> None:
    """Output of the year (data-year output x industry growth) and revenue: EU-bound output at EU
    import unit values where known (``eu_extra_by_ind``: EU unit value less the domestic price;
    ``eu_firms``: the exporters of those industries), the rest at the domestic price."""
    np.multiply(s.base_output, p.growth[s.industry], out=s.output)
    np.multiply(s.output, price_by_ind[s.industry], out=s.revenue_cny)
    i = eu_firms
    s.revenue_cny[i] += s.output[i] * s.eu_share[i] * eu_extra_by_ind[s.industry[i]]


def peer_shares(books: Books, n_opt: int, n_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """(all cells x options) adoption share by weight, and the any-option share per cell."""
    sums = books.option_sums[:, books.present]
    tot = np.ones(n_cells)
    tot[books.present] = books.counts
    per, anyo = np.zeros((n_cells, n_opt)), np.zeros(n_cells)
    per[books.present] = sums[:n_opt].T
    anyo[books.present] = sums[2 * n_opt]
    tot = np.where(tot > 0, tot, 1.0)
    return np.ascontiguousarray(per / tot[:, None]), anyo / tot


def replace_due(engine, s: FirmState, p: YearParams, books: Books, capex_pu: np.ndarray,
                capex_by_option: np.ndarray) -> np.ndarray:
    """Effects of the firms where something happens this year; options at the end of their life
    are replaced at this year's capex and expected subsidy rate. Returns the firms that paid."""
    due_opt, due_firm = engine.effects(s, p, np.flatnonzero(s.next_event <= p.year))
    lead = np.asarray(p.options["lead_time_yr"]).astype(int)
    for k in np.unique(due_opt):
        idx = due_firm[due_opt == k]
        s.built[k, idx] = p.year - lead[k]           # replaced: active again at once
        cx = s.cap[k, idx] * capex_pu[k]
        s.capex_cny[idx] += cx
        s.subsidy_cny[idx] += cx * p.sub_rate[k, s.province[idx]]
        capex_by_option[k] += np.bincount(books.cell[idx], weights=cx * s.weight[idx],
                                          minlength=capex_by_option.shape[1])
    return np.unique(due_firm)


def decide(engine, s: FirmState, p: YearParams, books: Books, rng: np.random.Generator,
           custom: list, keep_npv: bool) -> Decided:
    """Replacements, awareness and reviews, then every reviewing firm's choice."""
    n_opt, n_cells = len(p.credit_frac), books.option_sums.shape[1]
    for row in (s.capex_cny, s.subsidy_cny, s.credit_support_cny, s.stranded_cny):
        row[books.last_spenders] = 0.0        # only last year's spenders hold non-zero values
    capex_by_option = np.zeros((n_opt, n_cells))
    capex_pu = np.asarray(p.options["capex_cny_per_unit"])
    paid = replace_due(engine, s, p, books, capex_pu, capex_by_option)
    replaced = np.zeros(s.n, dtype=np.uint8)
    replaced[paid] = 1
    peer, peer_any = peer_shares(books, n_opt, n_cells)
    u, draw = np.empty(s.n), np.empty(s.n)
    rng.random(out=u)                         # first the review draws, then the choice draws
    rng.random(out=draw)
    review, budget = np.empty(s.n, np.uint8), np.empty(s.n)
    engine.prepare(s, p, books.cell, peer_any, u, review, budget)
    # a plant whose main asset is due for reinvestment reviews its options (relining or switch)
    idx, cycle = reinvesting_firms(s, p)
    review[idx[rules.at_reinvestment_point(s.asset_age_yr[idx], cycle)]] = 1
    # a developer's offer of third-party rooftop PV: a factory not reviewing its plans weighs
    # the offer alone
    review |= third_party_offers(s, p, books.cell, peer, rng).astype(np.uint8) * REVIEW_OFFERED
    # a rooftop PV campaign (``behaviour.pv_campaign_frac``): a factory reached weighs rooftop PV,
    # its own and, where developers offer, a developer's
    review |= pv_campaign(s, p, rng)
    inputs = DecisionInputs(review, draw, budget, books.cell, peer)
    c = Choices.empty(s.n, n_opt, keep_npv)
    engine.decide(s, p, inputs, c)
    for agent in custom:                      # researchers' own rules, from the kernel's NPVs
        custom_choice(agent, s, p, inputs, c)
    return Decided(c, review, budget, replaced, capex_by_option)


REVIEW_OFFERED = 1 << index("RV", "offered")      # ``review`` bit of a developer's offer
REVIEW_PV_CAMPAIGN = 1 << index("RV", "pv_campaign")   # ``review`` bit of a rooftop PV campaign


def free_roofs(s: FirmState, p: YearParams, option: int) -> np.ndarray:
    """Factories whose industry may take on-site PV ``option`` and that hold no PV system (one
    per roof, owned or not)."""
    free = p.applic[s.industry, option] >= 0.0
    for j in np.flatnonzero(np.asarray(p.options["kind"]) == EFFECT_KINDS.index("onsite_pv")):
        free &= ~s.has_option(int(j))
    return free


def third_party_offers(s: FirmState, p: YearParams, cell: np.ndarray, peer: np.ndarray,
                       rng: np.random.Generator) -> np.ndarray:
    """Which factories a developer offers third-party rooftop PV this year: those with a roof
    for it and no PV on it, in a province where developers offer (``ppa_open``), each with the
    chance outreach + imitation x the share of its industry x province peers that already hold
    third-party PV (a Bass diffusion of the business model). One draw per factory, every year."""
    u = rng.random(s.n)
    k = p.third_party_option
    if k < 0:
        return np.zeros(s.n, dtype=bool)
    reach = np.minimum(1.0, p.third_party_outreach + p.third_party_imitation * peer[:, k])
    return free_roofs(s, p, k) & (p.prov["ppa_open"][s.province] > 0.0) & (u < reach[cell])


def pv_campaign(s: FirmState, p: YearParams, rng: np.random.Generator) -> np.ndarray:
    """``review`` bits of this year's rooftop PV campaign: each factory with a roof and no PV is
    reached with the chance ``p.pv_campaign_frac`` and weighs rooftop PV of its own (the campaign
    bit) and, in a province where developers offer, a developer's (the offer bit). No draw in a
    year without a campaign, so scenarios without one keep their random numbers."""
    bits = np.zeros(s.n, dtype=np.uint8)
    if p.pv_campaign_frac <= 0.0 or p.owned_pv_option < 0:
        return bits
    reached = free_roofs(s, p, p.owned_pv_option) & (rng.random(s.n) < p.pv_campaign_frac)
    bits[reached] = REVIEW_PV_CAMPAIGN
    if p.third_party_option >= 0:
        bits[reached & (p.prov["ppa_open"][s.province] > 0.0)] |= REVIEW_OFFERED
    return bits


def reinvesting_firms(s: FirmState, p: YearParams) -> tuple[np.ndarray, np.ndarray]:
    """The firms whose main asset has a reinvestment cycle, and their cycles (years); cached on
    the state (the cycles are data)."""
    cache = s.__dict__.setdefault("_reinvesting", {})
    if not cache:
        cycle = np.asarray(p.ind_now["reinvest_cycle_yr"], dtype=float)[s.industry]
        cache["idx"] = np.flatnonzero(cycle > 0)
        cache["cycle"] = cycle[cache["idx"]]
    return cache["idx"], cache["cycle"]


# what each shared limit's claims are counted in: the option column (per unit of the option's
# capacity, i.e. of output) and the firm quantity it is used as
LIMIT_NEEDS = {"scrap": ("scrap_t_per_unit", "scrap_t"), "scm": ("scm_t_per_unit", "scm_t"),
               "hydrogen": ("hydrogen_kg_per_unit", "hydrogen_kg")}
CAPTURE_KINDS = ("capture_process", "capture_stream")


def claimant_firms(s: FirmState, p: YearParams, options: np.ndarray) -> np.ndarray:
    """The firms of the industries that may choose any of ``options`` (cached on the state: the
    applicability never changes in a run)."""
    key = tuple(int(k) for k in options)
    cache = s.__dict__.setdefault("_claimants", {})
    if key not in cache:
        industries = np.flatnonzero((p.applic[:, list(key)] >= 0).any(axis=1)) if key else []
        cache[key] = np.flatnonzero(np.isin(s.industry, industries))
    return cache[key]


def limits_used(s: FirmState, p: YearParams, collector) -> dict:
    """How much of each shared limit the firms have claimed (weighted): per unit of today's output
    for every installed option that draws on it, active or still within its lead time; CO2
    storage per province as the capacity of the installed capture options. Only the firms of
    industries that may hold such options are read."""
    kinds = np.asarray(p.options["kind"]).astype(int)
    capture = np.flatnonzero(np.isin(kinds, [EFFECT_KINDS.index(k) for k in CAPTURE_KINDS]))
    need = {name: np.asarray(p.options[column]) for name, (column, _) in LIMIT_NEEDS.items()}
    drawing = np.flatnonzero(np.any([v > 0 for v in need.values()], axis=0))
    idx = claimant_firms(s, p, np.union1d(capture, drawing))
    installed = s.installed[idx]
    has = lambda k: ((installed[:, k >> 6] >> np.uint64(k & 63)) & np.uint64(1)).astype(bool)
    w_out = s.weight[idx] * s.output[idx]
    used = {name: float(sum(w_out[has(k)].sum() * per_unit[k] for k in np.flatnonzero(per_unit > 0)))
            for name, per_unit in need.items()}
    storage = np.zeros(collector.n_prov)
    for k in capture:
        held = has(k)
        storage += np.bincount(s.province[idx][held], weights=(s.weight * s.cap[k])[idx][held],
                               minlength=collector.n_prov)
    used["storage"] = storage
    return used


def admit(s: FirmState, p: YearParams, d: Decided, collector, rng: np.random.Generator) -> None:
    """Shared limits (scrap, supplementary material, green hydrogen nationally; CO2 storage per
    province) admit this year's new claims in random order up to what is left of them; the
    firms refused do not install (they may choose again next year)."""
    c = d.choices
    kinds = np.asarray(p.options["kind"]).astype(int)
    claiming = np.isin(kinds, [EFFECT_KINDS.index(k) for k in CAPTURE_KINDS])
    for column, _ in LIMIT_NEEDS.values():
        claiming |= np.asarray(p.options[column]) > 0
    chose = np.flatnonzero(c.option >= 0)
    chose = chose[claiming[c.option[chose]]]              # only claims on a shared limit
    if len(chose) == 0:
        return
    used = limits_used(s, p, collector)
    opt = c.option[chose]
    capture = np.isin(kinds[opt], [EFFECT_KINDS.index(k) for k in CAPTURE_KINDS])
    claims = []
    for name, (column, _) in LIMIT_NEEDS.items():
        need = np.asarray(p.options[column])[opt] * c.capacity[chose] * s.weight[chose]
        claims.append((need, np.zeros(len(chose), np.int64), np.array([p.limits[name] - used[name]])))
    claims.append((np.where(capture, c.capacity[chose], 0.0) * s.weight[chose],
                   s.province[chose].astype(np.int64), p.limits["storage"] - used["storage"]))
    refused = np.zeros(len(chose), bool)
    priority = rng.permutation(len(chose))
    for need, group, left in claims:
        claimants = priority[need[priority] > 0.0]
        if len(claimants) == 0:
            continue
        g = group[claimants]
        order = claimants[np.argsort(g, kind="stable")]     # by group, random within it
        g = group[order]
        cum = np.cumsum(need[order])
        first = np.searchsorted(g, g, side="left")          # start of each claimant's group
        before = np.concatenate([[0.0], cum])[first]
        refused[order[cum - before > left[g] + 1e-6]] = True
    lost = chose[refused]
    c.option[lost], c.capacity[lost], c.capex[lost], c.subsidy[lost], c.stranded[lost] = -1, 0, 0, 0, 0


def age_assets(s: FirmState, p: YearParams, d: Decided) -> None:
    """A year older; a plant at its reinvestment point reinvests (relines) unless it chose a major
    investment, which is a new asset; the undepreciated value an early switch writes off is kept
    as ``stranded_cny``."""
    c = d.choices
    major = np.asarray(p.options["major"]) > 0
    s.asset_age_yr += 1.0
    idx, cycle = reinvesting_firms(s, p)
    if not len(idx):
        return
    option = c.option[idx]
    switched = (option >= 0) & major[np.maximum(option, 0)]
    s.stranded_cny[idx[switched]] = np.maximum(c.stranded[idx[switched]], 0.0)
    due = rules.at_reinvestment_point(s.asset_age_yr[idx] - 1.0, cycle)
    s.asset_age_yr[idx[switched | due]] = 0.0


def custom_choice(agent, s: FirmState, p: YearParams, inputs: DecisionInputs, c: Choices) -> None:
    """A firm whose class overrides ``FirmAgent.decide`` chooses in Python from its NPVs."""
    from zcf.ext import rules
    from zcf.sim.kernels import PerAgent
    i = agent.i
    if not inputs.review[i]:
        return
    ids = p.option_ids
    npv = {o: float(c.npv[k, i]) for k, o in enumerate(ids) if not np.isnan(c.npv[k, i])}
    pick = agent.decide(npv, float(inputs.budget[i]))
    c.option[i], c.capacity[i], c.capex[i], c.subsidy[i] = -1, 0.0, 0.0, 0.0
    c.stranded[i] = 0.0
    if pick is None:
        return
    if pick not in npv:
        raise ValueError(f"{type(agent).__name__}.decide returned {pick!r}, which firm {i} cannot "
                         f"choose now; choices: {sorted(npv)} or None")
    k = ids.index(pick)
    sc, pp = p.named("sc"), p.named("pp")[s.province[i]]
    e = PerAgent.effects_of(s, i)
    q = rules.firm_energy(float(s.output[i]), PerAgent.per_unit(s, i), e,
                          pp.solar_yield_mwh_per_kw, pp.direct_supply_fill_frac, sc)
    opk = p.named("op")[k]
    cap = rules.option_capacity(int(opk.kind), e, q, float(s.output[i]),
                                float(p.applic[s.industry[i], k]), opk, sc)
    capex = cap * opk.capex_cny_per_unit
    c.option[i], c.capacity[i], c.capex[i] = k, cap, capex
    c.subsidy[i] = capex * p.sub_rate[k, s.province[i]]
    if opk.major > 0:
        c.stranded[i] = rules.firm_asset_timing(float(s.asset_age_yr[i]), float(s.output[i]),
                                                p.named("ip_ahead")[s.industry[i]])


def install(engine, s: FirmState, p: YearParams, books: Books, d: Decided,
            budget_cny_per_yr: float | None) -> float:
    """New options and payment of this year's adopters and replacements; subsidies rationed pro
    rata when requests exceed the budget. Returns the budget's fill ratio."""
    c, rep = d.choices, np.flatnonzero(d.replaced)
    # no BLAS (``@``) in the yearly step: OpenBLAS's idle workers spin on the cores the OpenMP
    # kernels need (measured: a model year 170 -> 107 ms without them)
    requested = float((c.subsidy * s.weight).sum() + (s.subsidy_cny[rep] * s.weight[rep]).sum())
    ratio = (1.0 if budget_cny_per_yr is None or requested <= budget_cny_per_yr
             else (budget_cny_per_yr / requested if requested else 1.0))
    engine.install(s, p, c, ratio, d.replaced, books.cell, books.starts,
                   d.capex_by_option, books.option_sums)
    spent = d.replaced.copy()
    spent[c.option >= 0] = 1
    books.last_spenders = np.flatnonzero(spent)
    return ratio


def energy_and_accounting(engine, s: FirmState, p: YearParams) -> None:
    """Quantities and emissions of every firm, green power requested in full."""
    engine.energy_account(s, p, province_table(engine, p, direct_supply_fill_frac=np.ones(p.n_prov)))


def province_table(engine, p: YearParams, **changes):
    """The province table in the engine's form (packed, or named rows)."""
    return p.province_table(**changes) if engine.name == "compiled" else p.province_rows(**changes)


@dataclass
class GreenPowerYear:
    """The year's green-power markets."""

    rationing: Rationing
    trade: Trade
    contract_mwh: np.ndarray         # green-power trading MWh delivered, per province
    direct_mwh: np.ndarray           # direct supply delivered, per province


def green_power(engine, s: FirmState, p: YearParams, gp: GreenPower, direct_options: np.ndarray,
                displaced_mwh: float, contract_options: np.ndarray) -> GreenPowerYear:
    """Green-power trading cleared against the volume open to the modelled firms, and direct
    supply rationed by the queue of ``GreenPower.ration``; the firms whose green power was cut get
    their green-power MWh and market-based scope 2 again; the year's premium becomes the price
    firms pay at the close."""
    w, prov = s.weight, s.province
    direct = np.flatnonzero(s.direct_supply_mwh > 0)
    built = s.built[direct_options][:, direct] if len(direct_options) else np.zeros((0, len(direct)))
    lead = np.asarray(p.options["lead_time_yr"])[direct_options].astype(int)
    new = ((built + lead[:, None]) == p.year).any(axis=0)      # first year of delivery
    dw = s.direct_supply_mwh[direct] * w[direct]
    old_mwh = np.bincount(prov[direct], weights=dw * ~new, minlength=p.n_prov)
    new_mwh = np.bincount(prov[direct], weights=dw * new, minlength=p.n_prov)
    r = gp.ration(p.year, old_mwh, new_mwh)
    contract = np.flatnonzero(s.green_contract_frac > 0)
    traded = (s.green_contract_mwh[contract] - s.direct_supply_mwh[contract]) * w[contract]
    cbuilt = (s.built[contract_options][:, contract] if len(contract_options)
              else np.zeros((0, len(contract))))
    clead = np.asarray(p.options["lead_time_yr"])[contract_options].astype(int)
    new_trade = ((cbuilt + clead[:, None]) == p.year).any(axis=0)   # first year of delivery
    t = gp.trade(p.year, float(traded[~new_trade].sum()), displaced_mwh,
                 float(traded[new_trade].sum()))
    direct_fill = np.where(new, r.new_fill[prov[direct]], r.fill[prov[direct]])
    contract_fill = np.where(new_trade, t.new_fill, t.fill)
    cut = np.union1d(direct[direct_fill < 1.0], contract[contract_fill < 1.0])
    if len(cut):
        fill_of, cfill_of = np.ones(s.n), np.ones(s.n)
        fill_of[direct] = direct_fill
        cfill_of[contract] = contract_fill
        engine.recut_green_power(s, p, province_table(engine, p), cut, fill_of[cut], cfill_of[cut])
    p.set_scalars(p_contract=t.premium_cny_per_mwh)
    delivered_direct = np.bincount(prov[direct], weights=s.direct_supply_mwh[direct] * w[direct],
                                   minlength=p.n_prov)
    delivered_contract = np.bincount(prov[contract], weights=(s.green_contract_mwh[contract]
                                     - s.direct_supply_mwh[contract]) * w[contract], minlength=p.n_prov)
    return GreenPowerYear(r, t, delivered_contract, delivered_direct)


def offset_market(engine, s: FirmState, p: YearParams, market: OffsetMarket, bids: Bids,
                  carry: Carry) -> OffsetResult:
    """Every firm's bids, then registration and issuance (registrants expect last year's price, or
    the allowance price before any trade), clearing and retirement."""
    engine.offset_bids(s, p, province_table(engine, p), bids)
    expected = (carry.offset_price_cny_per_tco2 if carry.offset_price_cny_per_tco2 is not None
                else p.scalars["ets_price_cny_per_tco2"])
    result = market.clear_year(p.year, bids.demand, expected, p.prov["grid_ef_start_tco2_per_mwh"])
    mkt = market.st.offset_market[s.province]
    n_mkt = len(market.st.market_names)
    result.rows["demand_zero_tco2"] = np.bincount(mkt, weights=bids.z_units * s.weight, minlength=n_mkt)
    result.rows["demand_ets_tco2"] = np.bincount(mkt, weights=bids.e_units * s.weight, minlength=n_mkt)
    return result


def close_year(engine, s: FirmState, p: YearParams, books: Books, bids: Bids,
               offsets: OffsetResult, fill: np.ndarray, market_of_prov: np.ndarray) -> np.ndarray:
    """Offsets per firm, net emissions, assessment and applications, cash flows, counterfactual
    and decomposition; returns the weighted sums per present cell of what the tables collect
    (``zcf.sim.kernels.SUM_NAMES``)."""
    price = np.where(np.isfinite(offsets.price), offsets.price, 0.0)[market_of_prov]
    pp = province_table(engine, p, direct_supply_fill_frac=fill, offset_price_cny_per_tco2=price)
    return engine.close(s, p, bids, offsets.share, pp, books.starts)


def next_carry(carry: Carry, offsets: OffsetResult, g: GreenPowerYear, fill_ratio: float,
               cert: Round, adapt: float) -> Carry:
    """What this year's markets and programme hand to the next year: prices, the green power
    contracted, the share of new direct supply delivered, the MWh credited as CCERs, and the
    candidates' expected rates of being put forward and admitted (adaptive, weight ``adapt`` on
    this year's rates)."""
    price = offsets.national_price if np.isfinite(offsets.national_price) else carry.offset_price_cny_per_tco2
    admit = tuple(a + adapt * (r - a) for a, r in zip(carry.admit, cert.rates(cert.admitted)))
    submit = tuple(a + adapt * (r - a) for a, r in zip(carry.submit, cert.rates(cert.submitted)))
    return replace(carry, offset_price_cny_per_tco2=price,
                   contracted_twh=float(g.contract_mwh.sum() / 1e6),
                   contract_premium_cny_per_mwh=g.trade.premium_cny_per_mwh,
                   direct_new_fill=g.rationing.new_fill, ccer_power_mwh=offsets.displaced_mwh,
                   subsidy_fill_frac=fill_ratio, admit=admit, submit=submit)
