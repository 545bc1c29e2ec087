"""The 2025 starting state from data: process routes, asset ages and rooftop PV already in place.

Applied once when a model is created, before the certification yardsticks are taken:

- ``install_starting_routes``: plants that already run on another route (scrap EAF, grid-supplied
  smelters, gas-based ammonia: ``starting_routes.csv``) get that option installed, drawn at random
  until their output makes the published share of the industry's output (within non-exporters,
  verified EU exporters and other EU exporters alike).
  Each installation's build year is spread uniformly over the route's life before the start
  (``route_ages``), so the routes do not all reach the end of their life in one year.
- ``draw_asset_ages``: the main asset of each plant is somewhere in its reinvestment cycle
  (uniform over the cycle: furnace-level relining dates are not published, research/routes).
- ``install_starting_pv``: rooftop PV on the modelled factories. The commercial-and-industrial
  distributed PV stock at end-2024 (``starting_state.csv``) is apportioned to the modelled
  industries by their share of the electricity used by industry and services (self-consumed
  distributed PV is sized to the load it serves); within that, factories are drawn with a
  probability proportional to their roof potential (retrofit_applicability.csv) and adopters
  get their full roof, scaled so that the weighted total equals the target exactly. A share of
  the systems (``ci_pv_third_party_share_frac``) is third-party PV, the rest the factory's own.
  Each system came into use in a year drawn as the published stock grew (``pv_build_years``).

- ``install_starting_titles``: the national green factories already listed at the end of the year
  before the start (``starting_state.csv``), times the population's share of the nation's
  factories, hold the green title from the start. They are drawn as the programme admits the
  start year's list (``zcf.sim.programme``: ``start_rank``, leading firms first), within each
  province's quota of the stock (``certification.province_cap_frac``).

Every published stock is read for the year before the start year (the latest year the file has
up to it): a run from 2020 (the hindcast) starts from the end-2019 stocks.

Options installed here count as built before the start year (active from the first year).
"""
from __future__ import annotations

import numpy as np

from zcf.sim.state import FirmState

KW_PER_GW = 1e6
MWH_PER_TWH = 1e6


def _install(s: FirmState, k: int, idx: np.ndarray, capacity: np.ndarray, built: int) -> None:
    word, bit = k >> 6, np.uint64(1 << (k & 63))
    s.installed[idx, word] |= bit
    s.cap[k, idx] = capacity
    s.built[k, idx] = built
    s.next_event[idx] = np.minimum(s.next_event[idx], built)   # effects refreshed at the start


def _pick_share(output: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Positions (into ``output``, weighted output of one industry's plants) drawn in random order
    until their output is as close as possible to ``share`` of the total."""
    if share <= 0.0 or len(output) == 0:
        return np.zeros(0, dtype=np.intp)
    order = rng.permutation(len(output))
    cum = np.cumsum(output[order]) / output.sum()
    n = int(np.searchsorted(cum, share))           # cum[n] is the first at or past the share
    if n < len(cum) and (n == 0 or abs(cum[n] - share) < abs(cum[n - 1] - share)):
        n += 1
    return order[:n]


def install_starting_routes(s: FirmState, data, options, start_year: int,
                            rng: np.random.Generator) -> None:
    """Plants already on another process route at the start (``starting_routes.csv``).

    The data give a route's share of the industry's output, not of its EU exporters': routes are
    independent of exporting. They are drawn within each of the plants that do not export to the
    EU, the exporters that declare verified emissions for CBAM and the other exporters, each group
    to the route's share of its output, so that the handful of exporter agents that decide an
    industry's CBAM (a verified aluminium exporter on captive coal power pays several times what
    a grid-supplied one pays) are not by chance all on one route.

    Each installation is built somewhere in the route's life before the start (``route_ages``),
    drawn from a generator spawned from ``rng``: same seed, same build years, and every other
    draw of the start and of the years is what it would be without them."""
    lead, life = options.lead(), options.life()
    vintage = rng.spawn(1)[0]      # the build years' own stream: the model's is left as it was
    group = s.exporter.astype(np.int64) * (1 + s.verified.astype(np.int64))   # 0, 1 or 2
    for r in data.starting_routes.itertuples(index=False):
        k = options.ids.index(r.option)
        in_ind = s.industry == data.industry_ids.index(r.industry)
        for g in range(3):                                        # groups, not firms
            members = np.flatnonzero(in_ind & (group == g))
            free = members[s.installed[members].sum(axis=1) == 0]    # one starting route per plant
            picked = free[_pick_share(s.weight[free] * s.base_output[free], r.output_share_frac,
                                      rng)]
            age = route_ages(vintage, len(picked), int(life[k]))
            _install(s, k, picked, s.base_output[picked], start_year - 1 - int(lead[k]) - age)


def route_ages(rng: np.random.Generator, n: int, life: int) -> np.ndarray:
    """Whole years ``n`` starting routes of one option had run before the start: uniform over
    the route's life, as ``draw_asset_ages`` draws the main assets, so that the plants reach the
    end of the route's life spread over the years rather than all in one (each is still active
    from the start: the oldest is due in the start year)."""
    return np.floor(rng.random(n) * max(life, 0)).astype(np.int64)


def draw_asset_ages(s: FirmState, data, rng: np.random.Generator) -> None:
    """Years since each plant's main asset was built or last reinvested in: uniform over its
    industry's reinvestment cycle (whole years; 0 where no cycle is given)."""
    ind = data.industries
    cycle = (ind["reinvest_cycle_yr"].fillna(0).to_numpy(float) if "reinvest_cycle_yr" in ind
             else np.zeros(len(ind)))[s.industry]
    s.asset_age_yr[:] = np.floor(rng.random(s.n) * cycle)


def stock_before(data, stem: str, start_year: int) -> float | None:
    """``starting_state.csv``'s ``{stem}_{year}`` for the latest year before ``start_year``
    (None when the file has none)."""
    series = stock_series(data, stem, start_year)
    return series[max(series)] if series else None


def stock_series(data, stem: str, start_year: int) -> dict[int, float]:
    """``starting_state.csv``'s ``{stem}_{year}`` for every year before ``start_year``."""
    st = data.starting_state
    return {int(q.rsplit("_", 1)[1]): float(v) for q, v in st.items()
            if q.startswith(stem + "_") and q.rsplit("_", 1)[1].isdigit()
            and int(q.rsplit("_", 1)[1]) < start_year}


def modelled_pv_target_kw(s: FirmState, data, start_year: int) -> float:
    """Rooftop PV on the modelled factories at the start (kW): the C&I distributed stock at the
    end of the year before the start times the modelled factories' share of the electricity used
    by industry and services in 2024 (their electricity at data-year output)."""
    stock = stock_before(data, "ci_distributed_pv_gw", start_year)
    st = data.starting_state
    if stock is None or "industry_services_electricity_twh_2024" not in st.index:
        return 0.0
    at_data_year = np.where(s.output > 0, s.base_output / np.where(s.output > 0, s.output, 1.0), 1.0)
    share = float((s.weight * s.electricity_mwh * at_data_year).sum()) / (
        float(st["industry_services_electricity_twh_2024"]) * MWH_PER_TWH)
    return min(share, 1.0) * stock * KW_PER_GW


def install_starting_pv(s: FirmState, data, options, applic: np.ndarray, start_year: int,
                        rng: np.random.Generator) -> np.ndarray:
    """Rooftop PV in place at the start (module docstring); returns the firms that got it."""
    owned, third = options.rooftop_pv()
    target = modelled_pv_target_kw(s, data, start_year)
    if len(owned) == 0 or target <= 0.0:
        return np.zeros(0, dtype=np.intp)
    k = int(owned[0])
    roof = np.maximum(applic[s.industry, k], 0.0) * s.electricity_mwh      # kW per firm
    potential = float((s.weight * roof).sum())
    if potential <= 0.0:
        return np.zeros(0, dtype=np.intp)
    p = min(target / potential, 1.0)
    adopters = np.flatnonzero((rng.random(s.n) < p) & (roof > 0.0))
    got = float((s.weight[adopters] * roof[adopters]).sum())
    if got <= 0.0:
        return adopters
    # a share of the systems belongs to developers (third-party PV: the roof's owner pays for
    # the power it uses), drawn per system
    share = float(data.starting_state.get("ci_pv_third_party_share_frac", 0.0)) if len(third) else 0.0
    by_third = rng.random(len(adopters)) < share
    built = pv_build_years(data, options, k, start_year, len(adopters), rng.spawn(1)[0])
    for j, sel in ((k, ~by_third), (int(third[0]) if len(third) else k, by_third)):
        for year in np.unique(built[sel]):
            idx = adopters[sel & (built == year)]
            _install(s, j, idx, roof[idx] * (target / got), int(year) - int(options.lead()[j]))
    return adopters


def pv_build_years(data, options, k: int, start_year: int, n: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Years ``n`` rooftop PV systems in place at the start came into use, drawn as the published
    C&I stock grew (``starting_state.csv``: each year's share of the stock before the start is
    its additions; the oldest stock in the file spread evenly over the years from the option's
    ``available_from_year``), so that they reach the end of their life over the years as they
    were built. One year for all when the file has a single stock."""
    stocks = stock_series(data, "ci_distributed_pv_gw", start_year)
    years = sorted(stocks)
    if not years:
        return np.full(n, start_year - 1, dtype=np.int64)
    first = int(min(options.column("available_from_year")[k], years[0]))
    share = {y: stocks[y] - (stocks[p] if i else 0.0)
             for i, (p, y) in enumerate(zip([None] + years[:-1], years))}
    oldest = list(range(first, years[0] + 1))
    cand = np.array(oldest + years[1:], dtype=np.int64)
    w = np.array([share[years[0]] / len(oldest)] * len(oldest) + [share[y] for y in years[1:]])
    return cand[rng.choice(len(cand), size=n, p=np.maximum(w, 0.0) / np.maximum(w, 0.0).sum())]


def starting_titles(s: FirmState, data, start_year: int) -> float:
    """Green factories listed before the start that the population stands for: the national
    stock times the population's share of the nation's factories (0 when not in the file)."""
    stock = stock_before(data, "national_green_factories", start_year)
    if stock is None:
        return 0.0
    nation = float(data.industries["firm_count_2024"].sum())
    return stock * min(float(s.weight.sum()) / nation, 1.0)


def install_starting_titles(s: FirmState, data, programme, start_year: int,
                            rng: np.random.Generator) -> np.ndarray:
    """The green titles held at the start (module docstring); returns the firms that hold one."""
    stock = starting_titles(s, data, start_year)
    if stock <= 0.0:
        return np.zeros(0, dtype=np.intp)
    holders = programme.select_before_start(np.arange(s.n), s, stock, 1.0, rng)
    s.tier[holders] = 1
    s.assess_year[holders] = start_year - 1
    return holders
