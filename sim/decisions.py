"""Retrofit decisions each year: expectations, option valuation (kernel), subsidies, installation.

``Decisions.step(year, policy)`` runs, in order:
1. ``refresh``: options reaching the end of their life are replaced (capex paid again at this year's
   price and subsidy rate); effects of options past their lead time are written into the firm arrays.
2. awareness and peer shares: awareness rises with the adoption share among firms of the same
   industry x province; a firm reviews its options this year with probability awareness x
   ``behaviour.review_frac_per_yr``.
3. valuation and choice by ``ext._decisions.decide_into`` (or ``ext.reference.decide_firm`` with
   ``engine="python"``), then Python rules for agents that override ``FirmAgent.decide``.
4. subsidies: if the year's requests exceed ``subsidy.budget_cny_per_yr`` every subsidy is scaled
   down by the same ratio (pro-rata rationing); firms expect last year's ratio when they value options.
5. installation and financing (cash, then debt within capacity; green-credit interest support).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zcf import ext
from zcf.ext import _decisions, _state
from zcf.ext._decisions import LAYOUT as L
from zcf.ext.reference import apply_option, decide_firm
from zcf.sim.options import OptionTable
from zcf.sim.policy import PolicyYear, cbam_coverage_by_industry, path_value

O = {name: L[f"O_{code}"] for name, code in (
    ("rooftop_pv", "PV"), ("battery_storage", "STORAGE"), ("green_contract", "CONTRACT"),
    ("green_certificate", "CERT"), ("direct_supply", "DIRECT"), ("electrification", "ELEC"),
    ("efficiency", "EFF"), ("process_innovation", "PI"), ("ccus", "CCUS"))}


@dataclass
class DecisionInputs:
    """Everything the decision kernel reads (firm arrays are views, tables are small)."""

    review: np.ndarray
    industry: np.ndarray
    province: np.ndarray
    cell: np.ndarray
    output: np.ndarray
    per_unit: np.ndarray
    effects: np.ndarray
    installed: np.ndarray   # uint16, bit k set where option k is installed
    verified: np.ndarray
    tier: np.ndarray
    revenue: np.ndarray
    budget: np.ndarray
    hurdle: np.ndarray
    base_int: np.ndarray
    draw: np.ndarray
    applic: np.ndarray
    op: np.ndarray
    ip: np.ndarray
    pp: np.ndarray
    sub_rate: np.ndarray
    peer: np.ndarray
    sc: np.ndarray


@dataclass
class Choices:
    option: np.ndarray      # int8, -1 = nothing
    capacity: np.ndarray
    capex: np.ndarray
    subsidy: np.ndarray
    npv: np.ndarray         # (n_options, n), nan where not valued; (0, 0) when not kept


class Decisions:
    """Owns the option table, expectations and the yearly decision step of one model."""

    def __init__(self, model):
        self.m = model
        self.opts = OptionTable(model.data, model.cfg.options)
        self.n_prov = len(model.data.province_names)
        self.n_cells = len(model.data.industry_ids) * self.n_prov
        self.cell = model.firms.group_index(self.n_prov)
        self.fill_ratio = 1.0
        self.expected: dict[str, float] = {}
        self.custom = self._custom_agents()
        self.last_spenders = np.zeros(0, dtype=np.intp)    # firms with capex last year
        self.spenders: list[np.ndarray] = []
        self._due_opt, self._due_firm = np.empty(0, np.int32), np.empty(0, np.int64)
        self._option_sums: np.ndarray | None = None      # python engine: per present cell
        self._buf: tuple | None = None                    # per-firm buffers reused every year
        self._sums_by_cell: np.ndarray | None = None     # compiled: per cell, kept by install
        self.scalars_static = self._static_scalars()

    # -- expectations -------------------------------------------------------------------------
    def _paths(self, policy: PolicyYear) -> dict[str, tuple[dict, float]]:
        cfg = self.m.cfg
        return {"ets": (cfg.ets.price_cny_per_tco2, policy.ets_price_cny_per_tco2),
                "ets_free": (cfg.ets.free_share, policy.ets_free_share),
                "eu": (cfg.prices.eu_ets_eur_per_tco2, policy.eu_ets_eur_per_tco2),
                "cbam_free": (cfg.cbam.free_share, policy.factors.cbam_free_share)}

    def expectations(self, year: int, policy: PolicyYear) -> np.ndarray:
        """Expected prices per option over its life: columns ets, ets_free, eu, cbam_free, offset."""
        mode = self.m.cfg.expectations.mode
        alpha = self.m.cfg.expectations.adaptive_weight_frac
        lead, life = self.opts.lead(), self.opts.life()
        out = np.zeros((len(self.opts), 5))
        for j, (key, (path, now)) in enumerate(self._paths(policy).items()):
            if mode == "perfect":
                for k in range(len(self.opts)):
                    yrs = np.arange(year + lead[k], year + lead[k] + max(life[k], 1))
                    out[k, j] = np.mean([path_value(path, y, now) for y in yrs])
            elif mode == "adaptive":
                prev = self.expected.get(key, now)
                self.expected[key] = prev + alpha * (now - prev)
                out[:, j] = self.expected[key]
            else:
                out[:, j] = now
        out[:, 4] = self.m.markets.expected_offset_price()
        return out

    # -- parameter tables ---------------------------------------------------------------------
    def _static_scalars(self) -> np.ndarray:
        d, cfg = self.m.data, self.m.cfg
        c = d.carriers
        sc = np.zeros(L["N_SCALAR"])
        for code, carrier in (("COAL", "coal"), ("GAS", "natural_gas"), ("DIESEL", "diesel"),
                              ("HEAT", "purchased_heat")):
            sc[L[f"SC_EF_{code}"]] = c.loc[carrier, "ef_tco2_per_unit"]
            sc[L[f"SC_GJ_{code}"]] = c.loc[carrier, "energy_gj_per_unit"]
        sc[L["SC_BETA"]] = cfg.behaviour.logit_beta
        sc[L["SC_RISK"]] = cfg.behaviour.risk_premium_frac
        sc[L["SC_PREM_NEAR"]] = cfg.certification.near_zero_premium_frac
        sc[L["SC_PREM_ZERO"]] = cfg.certification.zero_carbon_premium_frac
        sc[L["SC_PEN_LOST_SALES"]] = float(cfg.buyers.mode == "lost_sales")
        sc[L["SC_CERT_EXEMPT"]] = float(cfg.certification.certified_exempt_from_buyer_penalty)
        sc[L["SC_ZERO_RESIDUAL"]] = cfg.certification.zero_carbon_residual_frac
        sc[L["SC_CERTIFIED_CREDIT"]] = cfg.green_credit.certified_discount_frac
        sc[L["SC_CERT_CREDIT"]] = cfg.certification.certificate_credit_frac
        sc[L["SC_OFFSET_LIMIT"]] = self.m.offset_limit_frac()
        return sc

    def scalars(self, year: int, policy: PolicyYear) -> np.ndarray:
        sc = self.scalars_static.copy()
        prices = self.m.prices_for_year(year)
        for code, carrier in (("COAL", "coal"), ("GAS", "natural_gas"), ("DIESEL", "diesel"),
                              ("HEAT", "purchased_heat")):
            sc[L[f"SC_P_{code}"]] = prices[carrier]
        sc[L["SC_P_ELEC"]] = prices["electricity"]
        sc[L["SC_EUR_CNY"]] = policy.eur_cny
        sc[L["SC_MARKUP"]] = policy.factors.cbam_markup_frac
        return sc

    def option_params(self, year: int, policy: PolicyYear) -> np.ndarray:
        t, cfg = self.opts, self.m.cfg
        op = np.zeros((len(t), L["N_OPT_PAR"]))
        op[:, L["OP_CAPEX"]] = t.capex_per_unit(year)
        op[:, L["OP_OPEX"]] = t.column("opex_cny_per_unit_yr")
        op[:, L["OP_BASIS"]] = t.basis()
        op[:, L["OP_LIFE"]] = t.life()
        op[:, L["OP_LEAD"]] = t.lead()
        op[:, L["OP_EFFECT"]] = t.column("effect_frac")
        op[:, L["OP_COP"]] = t.column("cop", 1.0)
        op[:, L["OP_FLH"]] = t.column("full_load_hours_h_per_yr", 1.0)
        op[:, L["OP_AVAIL"]] = (t.column("available_from_year") <= year).astype(float)
        op[:, L["OP_WEST"]] = self.m.markets.direct_supply_western_only(t.western_only())
        gc = cfg.green_credit
        qualifies = np.array([not gc.options or o in gc.options for o in t.ids])
        op[:, L["OP_CREDIT"]] = np.where(qualifies, gc.rate_discount_frac, 0.0)
        exp = self.expectations(year, policy)
        for j, col in enumerate(("OP_EXP_ETS", "OP_EXP_ETS_FREE", "OP_EXP_EU", "OP_EXP_CBAM_FREE",
                                 "OP_EXP_OFFSET")):
            op[:, L[col]] = exp[:, j]
        self.m.markets.adjust_option_params(op, year)
        self.last_op = op
        return op

    def industry_params(self, year: int, policy: PolicyYear) -> np.ndarray:
        m, cfg = self.m, self.m.cfg
        ip = np.zeros((len(m.data.industry_ids), L["N_IND_PAR"]))
        f = policy.factors
        cbam_year = max(year, cfg.cbam.start_year)
        ip[:, L["IP_ETS_COV"]] = policy.ets_covered_by_ind
        ip[:, L["IP_ETS_BENCH"]] = m.ets_benchmark
        ip[:, L["IP_CBAM_COV"]] = cbam_coverage_by_industry(cfg, m.data, cbam_year)
        ip[:, L["IP_CBAM_BENCH"]] = f.cbam_benchmark_tco2_per_unit_by_ind
        ip[:, L["IP_CBAM_DEFAULT"]] = f.cbam_default_tco2_per_unit_by_ind
        ip[:, L["IP_DE_MINIMIS"]] = f.cbam_de_minimis_units_by_ind
        ip[:, L["IP_PRICE"]] = m.products["price_cny_per_unit"].to_numpy(float)
        ip[:, L["IP_MARGIN"]] = m.products["operating_margin_frac"].to_numpy(float)
        thr, pen = m.buyer_requirements(year + 1)
        ip[:, L["IP_BUYER_THR"]] = thr
        ip[:, L["IP_BUYER_PEN"]] = pen
        ip[:, L["IP_ELIGIBLE"]] = (m.eligible_year <= year + 1).astype(float)
        ip[:, L["IP_NEAR_CUT"]] = path_value(cfg.certification.near_zero_cut_frac, year)
        return ip

    def province_params(self, policy: PolicyYear) -> np.ndarray:
        d = self.m.data
        pp = np.zeros((len(d.province_names), L["N_PROV_PAR"]))
        pp[:, L["PP_YIELD"]] = self.m.energy.yield_by_prov
        pp[:, L["PP_GRID_EF"]] = policy.factors.grid_tco2_per_mwh_by_prov
        pp[:, L["PP_RESID_EF"]] = policy.factors.residual_mix_tco2_per_mwh_by_prov
        pp[:, L["PP_WEST"]] = d.western_base().astype(float)
        pp[:, L["PP_DIRECT_OPEN"]] = self.m.markets.direct_supply_open()
        return pp

    def subsidy_rates(self) -> np.ndarray:
        """Expected capex subsidy share per option x province (with last year's fill ratio)."""
        sub = self.m.cfg.subsidy
        base = np.array([sub.capex_share.get(o, 0.0) for o in self.opts.ids])
        addon = np.array([sub.province_addon_frac.get(p, 0.0) for p in self.m.data.province_names])
        has_base = (base > 0)[:, None]
        return np.minimum(1.0, base[:, None] + addon[None, :] * has_base) * self.fill_ratio

    def option_opex(self) -> dict[str, float]:
        """This year's operating price per option unit (markets may move green-power prices)."""
        return dict(zip(self.opts.ids, self.last_op[:, L["OP_OPEX"]]))

    # -- one year -----------------------------------------------------------------------------
    def active(self, year: int) -> np.ndarray:
        """(n_options, n) bool: installed and past the lead time."""
        s = self.m.firms
        return (s.level > 0) & (s.built + self.opts.lead()[:, None] <= year)

    def refresh(self, year: int, policy: PolicyYear) -> None:
        """Replace options at end of life; write the effects of active options into the firms."""
        s = self.m.firms
        self.m.markets.restore_direct_supply()
        if self.m.engine == "compiled":
            due_opt, due_firm = self.write_effects(year, np.flatnonzero(s.next_event <= year))
        else:
            due_opt, due_firm = self.write_effects_reference(year)
        if not len(due_firm):
            return
        lead = self.opts.lead()
        capex_pu = self.opts.capex_per_unit(year)
        rates = self.subsidy_rates()
        for k in np.unique(due_opt):
            idx = due_firm[due_opt == k]
            s.built[k, idx] = year - lead[k]
            cx = s.cap[k, idx] * capex_pu[k]
            s.capex_cny[idx] += cx
            s.subsidy_cny[idx] += cx * rates[k, s.province[idx]]
            self.capex_by_option[k] += np.bincount(self.cell[idx], weights=cx * s.weight[idx],
                                                   minlength=self.n_cells)
        self.spenders.append(due_firm)
        # a replaced option stays active (built = year - lead): the effects written above hold

    def write_effects(self, year: int, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Effects of the active options of firms ``idx`` into the firm arrays (compiled path);
        returns the (option, firm) pairs at end of life that cost something to replace (the
        kernel renews free ones itself). Every other firm's effects are unchanged this year
        (``firms.next_event`` says when that stops being true)."""
        s = self.m.firms
        idx = np.ascontiguousarray(idx, dtype=np.int64)
        if len(self._due_opt) < 9 * len(idx):       # buffers kept across years (no page faults)
            self._due_opt, self._due_firm = np.empty(9 * len(idx), np.int32), np.empty(9 * len(idx), np.int64)
        due_opt, due_firm = self._due_opt, self._due_firm
        n_due = _state.effects_into(year, idx, s.industry, s.installed, s.built, s.cap, self.opts.applic,
                                    self.opts.lead(), self.opts.life(), self.opts.column("effect_frac"),
                                    float(self.opts.column("cop", 1.0)[O["electrification"]]),
                                    np.ascontiguousarray(self.opts.capex_per_unit(year), dtype=float),
                                    s.effects, s.next_event, due_opt, due_firm,
                                    threads=ext.threads())
        return due_opt[:n_due].copy(), due_firm[:n_due].copy()

    def write_effects_reference(self, year: int) -> tuple[np.ndarray, np.ndarray]:
        """Plain numpy statement of ``ext._state.effects_into`` for every firm (the python
        engine's path); returns the (option, firm) pairs at end of life."""
        s, a = self.m.firms, self.active(year)
        m = np.maximum(self.opts.applic[s.industry], 0.0).T        # (n_options, n)
        eff = self.opts.column("effect_frac")
        s.eff_save_frac[:] = a[O["efficiency"]] * m[O["efficiency"]]
        s.pi_save_frac[:] = a[O["process_innovation"]] * m[O["process_innovation"]]
        s.elec_frac[:] = a[O["electrification"]] * m[O["electrification"]]
        s.elec_cop[:] = np.where(a[O["electrification"]], self.opts.column("cop", 1.0)[O["electrification"]], 1.0)
        s.pv_kw[:] = a[O["rooftop_pv"]] * s.cap[O["rooftop_pv"]]
        s.pv_self_frac[:] = np.where(a[O["battery_storage"]], eff[O["battery_storage"]],
                                     np.where(a[O["rooftop_pv"]], eff[O["rooftop_pv"]], 0.0))
        s.green_contract_frac[:] = a[O["green_contract"]] * m[O["green_contract"]]
        s.green_cert_frac[:] = a[O["green_certificate"]] * m[O["green_certificate"]]
        s.direct_supply_frac[:] = a[O["direct_supply"]] * m[O["direct_supply"]]
        s.capture_frac[:] = a[O["ccus"]] * m[O["ccus"]] * eff[O["ccus"]]
        lead, life = self.opts.lead()[:, None], self.opts.life()[:, None]
        due = (s.level > 0) & (year >= s.built + lead + life)
        due_opt, due_firm = np.nonzero(due)
        order = np.lexsort((due_opt, due_firm))           # by firm, then option (as the kernel)
        return due_opt[order].astype(np.int32), due_firm[order].astype(np.int64)

    def option_sums(self) -> np.ndarray:
        """``Collector.option_sums`` of the installed options (firms with each option, their
        capacity, firms with any; per present cell). Options are only ever added (by
        ``install``), so the compiled path keeps these sums up to date as it installs; the
        python engine recomputes them from the firm arrays once per change."""
        c = self.m.collector
        if self.m.engine == "compiled":
            if self._sums_by_cell is None:
                s = self.m.firms
                self._sums_by_cell = np.zeros((2 * len(self.opts) + 1, self.n_cells))
                self._sums_by_cell[:, c.present] = c.option_sums(s.level, s.cap)
            return self._sums_by_cell[:, c.present]
        if self._option_sums is None:
            s = self.m.firms
            self._option_sums = c.option_sums(s.level, s.cap)
        return self._option_sums

    def peer_shares(self) -> tuple[np.ndarray, np.ndarray]:
        """(n_cells, n_options) adoption share by weight, and the any-option share per cell."""
        s, c = self.m.firms, self.m.collector
        k = len(self.opts)
        sums = self.option_sums()
        tot = np.ones(self.n_cells)
        tot[c.present] = c.counts
        per, anyo = np.zeros((self.n_cells, k)), np.zeros(self.n_cells)
        per[c.present] = sums[:k].T
        anyo[c.present] = sums[2 * k]
        tot = np.where(tot > 0, tot, 1.0)
        return np.ascontiguousarray(per / tot[:, None]), anyo / tot

    def prepare(self, peer_any: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Awareness update, who reviews this year, budgets: (review, choice draw, budget)."""
        s, b, rng = self.m.firms, self.m.cfg.behaviour, self.m.rng
        if self._buf is None:
            self._buf = (np.empty(s.n), np.empty(s.n), np.empty(s.n, np.uint8), np.empty(s.n))
        u, draw, review, budget = self._buf
        rng.random(out=u)          # first the review draws, then the choice draws
        rng.random(out=draw)
        if self.m.engine != "compiled":       # numpy statement of prepare_decisions_into
            self.update_awareness(peer_any)
            review[:] = u < s.awareness_frac * b.review_frac_per_yr
            budget[:] = self.m.budget()
            return review, draw, budget
        _state.prepare_decisions_into(self.cell, peer_any, b.awareness_diffusion_frac,
                                      b.peer_weight, b.review_frac_per_yr, u, s.industry,
                                      self.m.finance.debt_cap_by_ind, s.cash_cny, s.debt_cny,
                                      s.revenue_cny, s.awareness_frac, review, budget,
                                      threads=ext.threads())
        return review, draw, budget

    def update_awareness(self, peer_any: np.ndarray) -> None:
        s, b = self.m.firms, self.m.cfg.behaviour
        push = np.minimum(1.0, b.awareness_diffusion_frac + b.peer_weight * peer_any[self.cell])
        s.awareness_frac += (1.0 - s.awareness_frac) * push

    def inputs(self, year: int, policy: PolicyYear, peer: np.ndarray,
               peer_any: np.ndarray) -> DecisionInputs:
        s = self.m.firms
        review, draw, budget = self.prepare(peer_any)
        return DecisionInputs(
            review=review, industry=s.industry, province=s.province, cell=self.cell,
            output=s.output, per_unit=s.per_unit, effects=s.effects, installed=s.installed,
            verified=s.verified, tier=s.tier, revenue=s.revenue_cny, budget=budget,
            hurdle=s.hurdle_rate_frac, base_int=s.base_intensity_tco2_per_unit, draw=draw,
            applic=self.opts.applic, op=self.option_params(year, policy),
            ip=self.industry_params(year, policy), pp=self.province_params(policy),
            sub_rate=np.ascontiguousarray(self.subsidy_rates()), peer=peer,
            sc=self.scalars(year, policy))

    def choose(self, a: DecisionInputs) -> Choices:
        n, k = len(a.output), len(self.opts)
        if getattr(self, "_choices", None) is None or len(self._choices.option) != n:
            # NPVs per option are kept only where Python reads them (custom rules, python engine)
            want_npv = bool(self.custom) or self.m.engine != "compiled"
            self._choices = Choices(np.empty(n, np.int8), np.empty(n), np.empty(n), np.empty(n),
                                    np.empty((k, n) if want_npv else (0, 0)))
        c = self._choices     # every entry is written below (buffers reused across years)
        if self.m.engine == "compiled":
            _decisions.decide_into(a.review, a.industry, a.province, a.cell, a.output, a.per_unit,
                                   a.effects, a.installed, a.verified, a.tier, a.revenue, a.budget,
                                   a.hurdle, a.base_int, a.draw, a.applic, a.op, a.ip, a.pp,
                                   a.sub_rate, a.peer, a.sc, c.option, c.capacity, c.capex,
                                   c.subsidy, c.npv, threads=ext.threads())
        else:
            for i in range(n):
                c.option[i], c.capacity[i], c.capex[i], c.subsidy[i], c.npv[:, i] = decide_firm(i, a)
        self._custom_choices(a, c)
        return c

    # -- researcher-defined rules ----------------------------------------------------------------
    def _custom_agents(self) -> list:
        from zcf.agents.firm import FirmAgent
        custom = [t for t in self.m.agents_by_type if t.decide is not FirmAgent.decide]
        return sorted((a for t in custom for a in self.m.agents_by_type[t]), key=lambda a: a.i)

    def _custom_choices(self, a: DecisionInputs, c: Choices) -> None:
        """Agents that override ``decide`` choose in plain Python from the kernel's NPVs."""
        for agent in self.custom:
            i = agent.i
            if not a.review[i]:
                continue
            npv = {o: float(c.npv[k, i]) for k, o in enumerate(self.opts.ids)
                   if not np.isnan(c.npv[k, i])}
            pick = agent.decide(npv, float(a.budget[i]))
            c.option[i], c.capacity[i], c.capex[i], c.subsidy[i] = -1, 0.0, 0.0, 0.0
            if pick is None:
                continue
            if pick not in npv:
                raise ValueError(f"{type(agent).__name__}.decide returned {pick!r}, which firm "
                                 f"{i} cannot choose now; choices: {sorted(npv)} or None")
            k = self.opts.ids.index(pick)
            c.option[i], c.capacity[i], c.capex[i], c.subsidy[i] = (k, *self.size(a, i, k))

    def size(self, a: DecisionInputs, i: int, k: int) -> tuple[float, float, float]:
        """Capacity, gross capex and subsidy of option ``k`` for firm ``i`` (reference rules)."""
        from zcf.ext.reference import _firm_energy_row
        ind, prv = int(a.industry[i]), int(a.province[i])
        e = [float(v) for v in a.effects[:, i]]
        q = _firm_energy_row(float(a.output[i]), [float(v) for v in a.per_unit[:, i]], e,
                             a.pp[prv][L["PP_YIELD"]], a.sc, L)
        cap = apply_option(k, e, q, float(a.applic[ind, k]), a.op, a.sc, L)
        capex = cap * a.op[k][L["OP_CAPEX"]]
        return cap, capex, capex * a.sub_rate[k, prv]

    # -- the step -------------------------------------------------------------------------------
    def step(self, year: int, policy: PolicyYear) -> Choices:
        s = self.m.firms
        self.capex_by_option = np.zeros((len(self.opts), self.n_cells))
        for row in (s.capex_cny, s.subsidy_cny, s.credit_support_cny):
            row[self.last_spenders] = 0.0        # only last year's spenders hold non-zero values
        self.spenders = []
        self.refresh(year, policy)
        peer, peer_any = self.peer_shares()
        a = self.inputs(year, policy, peer, peer_any)
        c = self.choose(a)
        self.install(year, a, c)
        self.effects_after_install(year)
        return c

    def effects_after_install(self, year: int) -> None:
        """Effects of options that act at once (the compiled install kernel writes them itself,
        and makes the others' activation year an event)."""
        if self.m.engine != "compiled":
            self.write_effects_reference(year)

    def install(self, year: int, a: DecisionInputs, c: Choices) -> None:
        """New options, subsidies (rationed to the budget), green-credit support and payment of
        this year's adopters and replacements (``ext._state.install_into``, or the numpy
        statement ``install_reference`` with the python engine)."""
        s, cfg = self.m.firms, self.m.cfg
        replaced = np.zeros(s.n, dtype=np.uint8)
        for due in self.spenders:
            replaced[due] = 1
        rep = np.flatnonzero(replaced)
        budget = cfg.subsidy.budget_cny_per_yr
        # no BLAS (``@``) in the yearly step: OpenBLAS's idle workers spin on the cores the
        # OpenMP kernels need (measured: a model year 170 -> 107 ms without them)
        requested = float((c.subsidy * s.weight).sum() + (s.subsidy_cny[rep] * s.weight[rep]).sum())
        ratio = 1.0 if budget is None or requested <= budget else (budget / requested if requested else 1.0)
        self.fill_ratio = ratio
        idx = np.flatnonzero(c.option >= 0)
        self.new_adopters = (idx, c.option[idx].astype(np.intp))
        credit = a.op[:, L["OP_CREDIT"]] * self.opts.life() / 2.0 * cfg.green_credit.loan_share_frac
        if self.m.engine == "compiled":
            self.option_sums()          # make sure the running sums exist before they are updated
            _state.install_into(year, c.option, c.capacity, c.capex, c.subsidy, ratio,
                                np.ascontiguousarray(credit, dtype=float), replaced, self.cell,
                                s.weight, s.level, s.installed, s.cap, s.built, s.capex_cny, s.subsidy_cny,
                                s.credit_support_cny, s.cash_cny, s.debt_cny, self.capex_by_option,
                                self._sums_by_cell, s.industry, self.opts.applic, self.opts.lead(),
                                self.opts.life(), self.opts.column("effect_frac"),
                                float(self.opts.column("cop", 1.0)[O["electrification"]]),
                                np.ascontiguousarray(self.opts.capex_per_unit(year), dtype=float),
                                s.effects, s.next_event, self.m.collector.starts,
                                threads=ext.threads())
        else:
            self.install_reference(year, c, ratio, credit, rep)
        replaced[idx] = 1
        self.last_spenders = np.flatnonzero(replaced)
        self._option_sums = None        # firms.level and cap changed

    def install_reference(self, year: int, c: Choices, ratio: float, credit: np.ndarray,
                          rep: np.ndarray) -> None:
        """numpy statement of ``ext._state.install_into``."""
        s = self.m.firms
        idx, k = self.new_adopters
        s.subsidy_cny[rep] *= ratio
        s.level[k, idx] = 1.0
        s.installed[idx] |= (1 << k).astype(np.uint16)
        s.cap[k, idx] = c.capacity[idx]
        s.built[k, idx] = year
        s.capex_cny[idx] += c.capex[idx]
        s.subsidy_cny[idx] += c.subsidy[idx] * ratio
        for kk in np.unique(k):
            sel = idx[k == kk]
            self.capex_by_option[kk] += np.bincount(self.cell[sel], weights=c.capex[sel] * s.weight[sel],
                                                    minlength=self.n_cells)
        s.credit_support_cny[idx] = credit[k] * (s.capex_cny[idx] - s.subsidy_cny[idx])
        spenders = np.union1d(rep, idx)
        self.m.finance.pay_capex(s.capex_cny[spenders] - s.subsidy_cny[spenders], spenders)
