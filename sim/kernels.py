"""The two engines behind the phases: compiled kernels, or the Python twins looped over agents.

Every phase calls the per-firm work through one of these classes; they have the same methods and
the same effect on the firm state. ``Compiled`` calls the Cython loops of ``ext/`` on packed tables;
``PerAgent`` loops the Python twins of ``ext/rules.py`` over firms, one firm at a time, on named
rows (slow: for checking and teaching, not for national runs). ``ZeroCarbonModel(engine=...)``
picks one; nothing else in the model switches on the engine.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zcf import ext
from zcf.ext import _decisions, _energy, _state, _yearend, rules
from zcf.ext.layouts import ACC, EFFECTS, FIN, PER_UNIT, QTY, SUMS, index
from zcf.sim.params import YearParams
from zcf.sim.state import NEVER, FirmState

_PU = dict(zip(PER_UNIT, ("coal", "gas", "diesel", "heat", "elec", "process", "eu_share",
                         "start_coal", "start_gas", "start_heat", "start_elec", "start_process",
                         "start_route", "upstream")))
_EF = dict(zip(EFFECTS, ("eff_save", "pi_save", "elec_frac", "elec_cop", "pv_kw", "pv_self",
                         "pv_tariff", "contract", "cert", "direct", "capture", "capture_opex",
                         "coal_mult", "gas_mult", "heat_mult", "elec_mult", "process_mult",
                         "hydrogen", "biomass", "scrap", "scm", "route_opex", "capture_comb",
                         "route_on", "route_effects")))
_ACC = dict(zip(ACC, ("scope1", "s2_loc", "s2_mkt", "footprint", "embedded", "certificates",
                      "cost_eur")))
_CLOSE_FIN = {"offsets_zero_tco2": "offsets_zero", "offsets_ets_tco2": "offsets_ets",
              "offset_cost_cny": "offset_cost", "net_tco2": "net",
              "green_power_cost_cny": "green_power_cost", "energy_cost_cny": "energy_cost",
              "ets_cost_cny": "ets_cost", "cbam_cost_cny": "cbam_cny",
              "buyer_penalty_cny": "buyer_penalty", "cert_premium_cny": "cert_premium",
              "cash_cny": "cash", "debt_cny": "debt", "no_retrofit_tco2": "no_retrofit",
              "power_surcharge_cny": "power_surcharge", "buyer_premium_cny": "buyer_premium",
              "cert_score": "cert_score", "green_share_frac": "green_share",
              "cert_cost_cny": "cert_cost", "cert_award_cny": "cert_award"}
SUM_NAMES = SUMS          # the close kernel's cell sums, in the order of ``ext/layouts.py``
_EVERY_OPTION, _OFFERED = index("RV", "every_option"), index("RV", "offered")   # review bits
_CAMPAIGN = index("RV", "pv_campaign")


@dataclass
class Choices:
    """This year's choices: option per firm (-1 none), its capacity, gross capex and subsidy, the
    capital-stock timing term of a major option (CNY; > 0 stranded, < 0 saved reinvestment), and
    the NPV of every option valued (options x firms; NaN: not valued; (0, 0) when not kept)."""

    option: np.ndarray
    capacity: np.ndarray
    capex: np.ndarray
    subsidy: np.ndarray
    npv: np.ndarray
    stranded: np.ndarray

    @classmethod
    def empty(cls, n: int, n_opt: int, keep_npv: bool) -> "Choices":
        return cls(np.full(n, -1, np.int32), np.zeros(n), np.zeros(n), np.zeros(n),
                   np.full((n_opt, n) if keep_npv else (0, 0), np.nan), np.zeros(n))


@dataclass
class Bids:
    """Every firm's offset bids (tonnes before the quality discount, whole-CNY price levels) and
    the weighted demand per province x level."""

    z_units: np.ndarray
    e_units: np.ndarray
    z_level: np.ndarray
    e_level: np.ndarray
    demand: np.ndarray

    @classmethod
    def empty(cls, n: int, n_prov: int, levels: int) -> "Bids":
        return cls(np.zeros(n), np.zeros(n), np.zeros(n, np.int32), np.zeros(n, np.int32),
                   np.zeros((n_prov, levels)))


def _firm_arrays(s: FirmState, inputs) -> dict:
    return {"review": inputs.review, "industry": s.industry, "province": s.province,
            "cell": inputs.cell, "output": s.output, "per_unit": s.per_unit, "effects": s.effects,
            "installed": s.installed, "verified": s.verified, "tier": s.tier,
            "revenue": s.revenue_cny, "budget": inputs.budget, "hurdle": s.hurdle_rate_frac,
            "base_int": s.base_intensity_tco2_per_unit, "draw": inputs.draw,
            "asset_age": s.asset_age_yr}


class Compiled:
    """The Cython kernels (OpenMP threads; ``zcf.ext.set_threads``)."""

    name = "compiled"

    def energy_account(self, s: FirmState, p: YearParams, pp: np.ndarray, idx=None) -> None:
        _energy.energy_account_into(s.output, s.per_unit, s.effects, s.industry, s.province,
                                    s.verified, p.packed("ip_now"), pp, p.packed("sc"), s.qty,
                                    s.acc, idx=idx, threads=ext.threads())

    def recut_green_power(self, s: FirmState, p: YearParams, pp: np.ndarray, idx, direct_fill,
                          contract_fill) -> None:
        _energy.green_power_into(np.ascontiguousarray(idx, dtype=np.int64),
                                 np.ascontiguousarray(direct_fill, dtype=np.float64),
                                 np.ascontiguousarray(contract_fill, dtype=np.float64), s.effects, s.province, pp, p.packed("sc"),
                                 s.qty, s.acc, threads=ext.threads())

    def effects(self, s: FirmState, p: YearParams, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _state.effects_into(p.year, np.ascontiguousarray(idx, dtype=np.int64), s.industry,
                                   s.installed, s.built, s.cap, p.applic, p.packed("op"),
                                   s.effects, s.next_event, threads=ext.threads())

    def prepare(self, s: FirmState, p: YearParams, cell, peer_any, u, review, budget) -> None:
        _state.prepare_decisions_into(cell, peer_any, p.packed("sc"), u, s.industry,
                                      p.packed("ip_ahead"), s.cash_cny, s.debt_cny, s.revenue_cny,
                                      s.awareness_frac, review, budget, threads=ext.threads())

    def decide(self, s: FirmState, p: YearParams, inputs, c: Choices) -> None:
        tables = {"applic": p.applic, "op": p.packed("op"), "ip": p.packed("ip_ahead"),
                  "pp": p.packed("pp"), "sub_rate": p.sub_rate, "peer": inputs.peer,
                  "sc": p.packed("sc")}
        out = {"choice": c.option, "capacity": c.capacity, "capex": c.capex,
               "subsidy": c.subsidy, "stranded": c.stranded, "npv": c.npv}
        _decisions.decide_into(_firm_arrays(s, inputs), tables, out, threads=ext.threads())

    def install(self, s: FirmState, p: YearParams, c: Choices, ratio: float, replaced, cell,
                starts, capex_by_option, option_sums) -> None:
        firms = {"cell": cell, "weight": s.weight, "industry": s.industry,
                 "installed": s.installed, "cap": s.cap, "built": s.built,
                 "capex_cny": s.capex_cny, "subsidy_cny": s.subsidy_cny,
                 "credit_support_cny": s.credit_support_cny, "cash_cny": s.cash_cny,
                 "debt_cny": s.debt_cny, "effects": s.effects, "next_event": s.next_event}
        _state.install_into(p.year, {"option": c.option, "capacity": c.capacity, "capex": c.capex,
                                     "subsidy": c.subsidy, "ratio": float(ratio),
                                     "replaced": replaced},
                            firms, {"applic": p.applic, "op": p.packed("op"),
                                    "credit_frac": p.credit_frac, "starts": starts},
                            {"capex_by_option": capex_by_option, "option_sums": option_sums},
                            threads=ext.threads())

    def offset_bids(self, s: FirmState, p: YearParams, pp: np.ndarray, b: Bids) -> None:
        _yearend.offset_bids_into(s.industry, s.province, s.weight, s.qty, s.acc, s.fin, s.output,
                                  s.tier, p.packed("ip_now"), pp, p.packed("sc"), b.z_units,
                                  b.e_units, b.z_level, b.e_level, b.demand)

    def close(self, s: FirmState, p: YearParams, b: Bids, share: np.ndarray, pp: np.ndarray,
              starts: np.ndarray) -> np.ndarray:
        sums = np.empty((len(SUM_NAMES), len(starts) - 1))
        firms = {"industry": s.industry, "province": s.province, "output": s.output,
                 "per_unit": s.per_unit, "qty": s.qty, "acc": s.acc, "effects": s.effects,
                 "fin": s.fin, "tier": s.tier, "weight": s.weight, "granted": s.granted,
                 "submitted": s.submitted, "assessed": s.assessed, "applied": s.applied}
        bids = {"z_units": b.z_units, "e_units": b.e_units, "z_level": b.z_level,
                "e_level": b.e_level, "share": share}
        _yearend.close_year_into(firms, bids, {"ip": p.packed("ip_now"), "pp": pp,
                                               "sc": p.packed("sc"), "starts": starts},
                                 sums, threads=ext.threads())
        return sums


class PerAgent:
    """The Python twins of ``ext/rules.py``, looped over firms one at a time."""

    name = "python"

    # -- reading and writing one firm's records ---------------------------------------------------
    @staticmethod
    def per_unit(s: FirmState, i: int) -> rules.PerUnit:
        return rules.PerUnit(**{f: float(s.per_unit[r, i]) for r, f in enumerate(_PU.values())})

    @staticmethod
    def effects_of(s: FirmState, i: int) -> rules.Effects:
        return rules.Effects(**{f: float(s.effects[r, i]) for r, f in enumerate(_EF.values())})

    @staticmethod
    def store_effects(s: FirmState, i: int, e: rules.Effects) -> None:
        for r, f in enumerate(_EF.values()):
            s.effects[r, i] = getattr(e, f)

    @staticmethod
    def qty_of(s: FirmState, i: int) -> rules.Quant:
        return rules.Quant(**{f: float(s.qty[r, i]) for r, f in enumerate(QTY)})

    @staticmethod
    def acc_of(s: FirmState, i: int) -> rules.Acc:
        return rules.Acc(**{f: float(s.acc[r, i]) for r, f in enumerate(_ACC.values())})

    # -- the phases' per-firm work ------------------------------------------------------------------
    def energy_account(self, s: FirmState, p: YearParams, pp: list, idx=None) -> None:
        sc, ip = p.named("sc"), p.named("ip_now")
        for i in (range(s.n) if idx is None else idx):
            ppi = pp[s.province[i]]
            q = rules.firm_energy(float(s.output[i]), self.per_unit(s, i), self.effects_of(s, i),
                                  ppi.solar_yield_mwh_per_kw, ppi.direct_supply_fill_frac, sc)
            for r, f in enumerate(QTY):
                s.qty[r, i] = getattr(q, f)
            a = rules.firm_account(q, float(s.output[i]), bool(s.verified[i]), rules.carbon_now(sc),
                                   ip[s.industry[i]], ppi, sc)
            for r, f in enumerate(_ACC.values()):
                s.acc[r, i] = getattr(a, f)

    def recut_green_power(self, s: FirmState, p: YearParams, pp: list, idx, direct_fill,
                          contract_fill) -> None:
        sc = p.named("sc")
        for i, fill, cfill in zip(idx, direct_fill, contract_fill):
            ppi = pp[s.province[i]]
            g = rules.firm_green_delivered(float(s.grid_mwh[i]), float(s.green_contract_frac[i]),
                                           float(s.green_cert_frac[i]), float(s.direct_supply_frac[i]),
                                           float(fill), float(cfill))
            s.green_contract_mwh[i], s.direct_supply_mwh[i], s.green_certificate_mwh[i] = (
                g.contract, g.direct, g.cert)
            s.scope2_market_tco2[i] = rules.firm_scope2_market(
                float(s.grid_mwh[i]), g.contract, g.cert, float(s.purchased_heat_gj[i]),
                ppi.residual_ef_tco2_per_mwh, sc.ef_heat)

    def effects(self, s: FirmState, p: YearParams, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        op = p.named("op")
        due_opt, due_firm = [], []
        for i in idx:
            due = self._refresh(s, p, op, int(i))
            for k in np.flatnonzero(due):
                due_opt.append(k)
                due_firm.append(i)
        return np.array(due_opt, np.int32), np.array(due_firm, np.int64)

    def _refresh(self, s: FirmState, p: YearParams, op: list, i: int) -> list[bool]:
        built = [int(b) for b in s.built[:, i]]
        e, due, nxt = rules.firm_effects(p.year, s.installed_flags(i), built,
                                         [float(c) for c in s.cap[:, i]],
                                         [float(m) for m in p.applic[s.industry[i]]], op)
        s.built[:, i] = built
        s.next_event[i] = nxt
        self.store_effects(s, i, e)
        return due

    def prepare(self, s: FirmState, p: YearParams, cell, peer_any, u, review, budget) -> None:
        sc, ip = p.named("sc"), p.named("ip_ahead")
        for i in range(s.n):
            a = rules.firm_awareness(float(s.awareness_frac[i]), float(peer_any[cell[i]]), sc)
            s.awareness_frac[i] = a
            review[i] = u[i] < a * sc.review_frac
            budget[i] = rules.firm_budget(float(s.cash_cny[i]), float(s.debt_cny[i]),
                                          float(s.revenue_cny[i]), ip[s.industry[i]].debt_capacity_frac)

    def decide(self, s: FirmState, p: YearParams, inputs, c: Choices) -> None:
        sc, ip, pp, op = p.named("sc"), p.named("ip_ahead"), p.named("pp"), p.named("op")
        for i in range(s.n):
            c.option[i], c.capacity[i], c.capex[i], c.subsidy[i] = -1, 0.0, 0.0, 0.0
            c.stranded[i] = 0.0
            if c.npv.size:
                c.npv[:, i] = np.nan
            if not inputs.review[i]:
                continue
            f = rules.FirmView(output=float(s.output[i]), verified=int(s.verified[i]),
                               revenue=float(s.revenue_cny[i]),
                               base_int=float(s.base_intensity_tco2_per_unit[i]),
                               hurdle=float(s.hurdle_rate_frac[i]), budget=float(inputs.budget[i]),
                               tier=int(s.tier[i]), draw=float(inputs.draw[i]),
                               asset_age=float(s.asset_age_yr[i]),
                               upstream=float(s.upstream_pu[i]),
                               offered=int(inputs.review[i]) >> _OFFERED & 1)
            ind, prv = int(s.industry[i]), int(s.province[i])
            ch = rules.firm_decide(f, self.per_unit(s, i), self.effects_of(s, i),
                                   s.installed_flags(i), list(p.applic[ind]), op,
                                   list(p.sub_rate[:, prv]), list(inputs.peer[inputs.cell[i]]),
                                   ip[ind], pp[prv], sc,
                                   every_option=bool(int(inputs.review[i]) >> _EVERY_OPTION & 1),
                                   campaign=bool(int(inputs.review[i]) >> _CAMPAIGN & 1))
            c.option[i], c.capacity[i], c.capex[i], c.subsidy[i] = ch.option, ch.capacity, ch.capex, ch.subsidy
            c.stranded[i] = ch.stranded
            if c.npv.size:
                c.npv[:, i] = ch.npv

    def install(self, s: FirmState, p: YearParams, c: Choices, ratio: float, replaced, cell,
                starts, capex_by_option, option_sums) -> None:
        op, n_opt = p.named("op"), len(p.credit_frac)
        for j in range(len(starts) - 1):
            for i in range(starts[j], starts[j + 1]):
                k = int(c.option[i])
                if k < 0 and not replaced[i]:
                    continue
                if replaced[i]:
                    s.subsidy_cny[i] *= ratio
                if k >= 0:
                    cc = cell[i]
                    flags = s.installed_flags(i)
                    again = flags[k]
                    if again:
                        option_sums[n_opt + k, cc] += s.weight[i] * (c.capacity[i] - s.cap[k, i])
                    else:
                        option_sums[k, cc] += s.weight[i]
                        option_sums[n_opt + k, cc] += s.weight[i] * c.capacity[i]
                        if not any(flags):
                            option_sums[2 * n_opt, cc] += s.weight[i]
                    s.set_installed(i, k)
                    s.cap[k, i] = c.capacity[i]
                    s.built[k, i] = p.year
                    lead = int(op[k].lead_time_yr)
                    if lead == 0 or again:
                        self._refresh(s, p, op, i)
                    elif p.year + lead < s.next_event[i]:
                        s.next_event[i] = p.year + lead
                    s.capex_cny[i] += c.capex[i]
                    s.subsidy_cny[i] += c.subsidy[i] * ratio
                    capex_by_option[k, cc] += c.capex[i] * s.weight[i]
                    s.credit_support_cny[i] = p.credit_frac[k] * (s.capex_cny[i] - s.subsidy_cny[i])
                s.cash_cny[i], s.debt_cny[i] = rules.firm_pay(
                    float(s.capex_cny[i] - s.subsidy_cny[i]), float(s.cash_cny[i]), float(s.debt_cny[i]))

    def offset_bids(self, s: FirmState, p: YearParams, pp: list, b: Bids) -> None:
        sc, ip = p.named("sc"), p.named("ip_now")
        cap = sc.bid_cap_cny_per_tco2
        b.demand[:] = 0.0
        for i in range(s.n):
            ind, prv = int(s.industry[i]), int(s.province[i])
            q, revenue = self.qty_of(s, i), float(s.revenue_cny[i])
            z = rules.firm_near_zero(float(s.output[i]), float(s.scope1_tco2[i]),
                                     float(s.scope2_market_tco2[i]), q.green_certificate_mwh,
                                     q.grid_mwh, pp[prv].residual_ef_tco2_per_mwh,
                                     float(s.base_intensity_tco2_per_unit[i]), ip[ind].cert_eligible,
                                     sc.near_zero_cut_frac, sc.cert_credit_frac)
            budget = rules.firm_budget(float(s.cash_cny[i]), float(s.debt_cny[i]), revenue,
                                       ip[ind].debt_capacity_frac)
            bid = rules.firm_offset_bids(z, rules.firm_green_share(q, sc.cert_green_share_frac),
                                         float(s.scope1_tco2[i]), float(s.output[i]), revenue,
                                         rules.firm_rewarded_revenue(q, revenue, ip[ind]), budget,
                                         int(s.tier[i]), ip[ind], sc)
            b.z_units[i], b.e_units[i] = bid.z_units, bid.e_units
            b.z_level[i], b.e_level[i] = rules.bid_level(bid.z_wtp, cap), rules.bid_level(bid.e_wtp, cap)
            if bid.z_units > 0:
                b.demand[prv, b.z_level[i]] += bid.z_units * s.weight[i]
            if bid.e_units > 0:
                b.demand[prv, b.e_level[i]] += bid.e_units * s.weight[i]

    def close(self, s: FirmState, p: YearParams, b: Bids, share: np.ndarray, pp: list,
              starts: np.ndarray) -> np.ndarray:
        sc, ip = p.named("sc"), p.named("ip_now")
        sums = np.zeros((len(SUM_NAMES), len(starts) - 1))
        F = {name: r for r, name in enumerate(FIN)}
        S = {name: r for r, name in enumerate(SUM_NAMES)}
        for j in range(len(starts) - 1):
            local = np.zeros(len(SUM_NAMES))
            for i in range(starts[j], starts[j + 1]):
                ppi = pp[s.province[i]]
                mkt = int(ppi.offset_market)
                oz = share[mkt, b.z_level[i]] * b.z_units[i] if b.z_units[i] > 0 else 0.0
                oe = share[mkt, b.e_level[i]] * b.e_units[i] if b.e_units[i] > 0 else 0.0
                a = self.acc_of(s, i)
                title = int(s.tier[i])
                c = rules.firm_close(float(s.output[i]), self.per_unit(s, i), self.qty_of(s, i), a,
                                     float(s.capture_opex_cny_per_tco2[i]),
                                     float(s.fin[F["base_intensity_tco2_per_unit"], i]),
                                     float(s.fin[F["base_energy_gj_per_unit"], i]),
                                     float(s.fin[F["resource_score"], i]), float(s.fin[F["revenue_cny"], i]),
                                     float(s.fin[F["cash_cny"], i]), float(s.fin[F["debt_cny"], i]),
                                     float(oz), float(oe), title, int(s.granted[i]),
                                     int(s.submitted[i]), ip[s.industry[i]], ppi, sc)
                for name, f in _CLOSE_FIN.items():
                    s.fin[F[name], i] = getattr(c, f)
                s.fin[F["offsets_retired_tco2"], i] = c.offsets_zero + c.offsets_ets
                s.assessed[i], s.applied[i] = c.assessed, c.applied
                firm = np.zeros(len(SUM_NAMES))
                for name, value in (
                        ("offsets_retired_tco2", c.offsets_zero + c.offsets_ets),
                        ("offset_cost_cny", c.offset_cost), ("net_tco2", c.net),
                        ("no_retrofit_tco2", c.no_retrofit), ("ets_cost_cny", c.ets_cost),
                        ("cbam_cost_eur", a.cost_eur), ("buyer_penalty_cny", c.buyer_penalty),
                        ("cert_premium_cny", c.cert_premium), ("energy_cost_cny", c.energy_cost),
                        ("green_power_cost_cny", c.green_power_cost),
                        ("revenue_cny", float(s.fin[F["revenue_cny"], i])),
                        ("power_surcharge_cny", c.power_surcharge),
                        ("buyer_premium_cny", c.buyer_premium),
                        ("offsets_zero_tco2", c.offsets_zero), ("offsets_ets_tco2", c.offsets_ets),
                        ("reference_tco2", c.reference), ("avoided_grid_tco2", c.avoided_grid),
                        ("avoided_physical_tco2", c.avoided_physical),
                        ("avoided_contract_tco2", c.avoided_contract),
                        ("cert_cost_cny", c.cert_cost), ("cert_award_cny", c.cert_award)):
                    firm[S[name]] = value
                if title > 0:
                    firm[S[f"tier{title}"]] = 1.0
                if c.applied > 0:
                    firm[S[f"applied{c.applied}"]] = 1.0
                local += s.weight[i] * firm
            sums[:, j] = local
        return sums


ENGINES = {"compiled": Compiled, "python": PerAgent}
