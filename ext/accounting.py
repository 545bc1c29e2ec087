"""Accounting over arrays of factories: typed inputs, output allocation, engine choice.

``account(q, f)`` returns the seven per-firm results of DESIGN.md's accounting rules (the rule is
``firm_account`` in ``ext/_rules.pxd``, its twin ``ext.rules.firm_account``):

====================== ==========================================================
scope1_tco2            fuels x factors + process - captured
scope2_location_tco2   grid MWh x provincial grid factor + heat GJ x heat factor
scope2_market_tco2     max(0, grid - green contracts - certificates) x residual mix + heat
footprint_tco2_per_unit (scope1 + scope2 location) / output
cbam_embedded_tco2     EU-bound share of covered emissions (defaults x mark-up if unverified)
cbam_certificates      max(0, embedded - EU output x benchmark x free-allocation share)
cbam_cost_eur          max(0, certificates x EU price - domestic carbon price paid)
====================== ==========================================================
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from zcf import ext
from zcf.ext import _energy, rules
from zcf.ext.layouts import ACC, INDUSTRY, PROVINCE, QTY, SCALAR

QUANTITY_FIELDS = ("coal_t", "natural_gas_m3", "diesel_t", "purchased_heat_gj", "grid_mwh",
                   "green_contract_mwh", "green_certificate_mwh", "process_tco2", "captured_tco2",
                   "output", "eu_output")
RESULT_FIELDS = ACC
CBAM_CODES = {"none": 0, "direct": 1, "direct_indirect": 2}
_ACC_RECORD = dict(zip(ACC, ("scope1", "s2_loc", "s2_mkt", "footprint", "embedded",
                             "certificates", "cost_eur")))


@dataclass
class Quantities:
    """Per-firm annual quantities (arrays of equal length; units in the names)."""

    coal_t: np.ndarray
    natural_gas_m3: np.ndarray
    diesel_t: np.ndarray
    purchased_heat_gj: np.ndarray
    grid_mwh: np.ndarray
    green_contract_mwh: np.ndarray
    green_certificate_mwh: np.ndarray
    process_tco2: np.ndarray
    captured_tco2: np.ndarray
    output: np.ndarray
    eu_output: np.ndarray
    verified: np.ndarray  # uint8: 1 = actual verified emissions data, 0 = CBAM default values
    industry: np.ndarray  # int32 index into the *_by_ind tables
    province: np.ndarray  # int32 index into the *_by_prov tables

    def __len__(self) -> int:
        return len(self.output)


@dataclass
class Factors:
    """Emission factors and prices for one year (lookup tables indexed by province / industry)."""

    coal_tco2_per_t: float
    natural_gas_tco2_per_m3: float
    diesel_tco2_per_t: float
    heat_tco2_per_gj: float
    grid_tco2_per_mwh_by_prov: np.ndarray
    residual_mix_tco2_per_mwh_by_prov: np.ndarray
    cbam_coverage_by_ind: np.ndarray           # int8 codes: 0 none, 1 direct, 2 direct+indirect
    cbam_benchmark_tco2_per_unit_by_ind: np.ndarray
    cbam_default_tco2_per_unit_by_ind: np.ndarray
    cbam_markup_frac: float                    # mark-up on default values this year
    cbam_free_share: float                     # EU free-allocation share this year (CBAM factor)
    cbam_de_minimis_units_by_ind: np.ndarray   # EU output at or below which no certificates are due
    eu_ets_eur_per_tco2: float
    domestic_carbon_cny_per_tco2_by_ind: np.ndarray
    domestic_free_share_by_ind: np.ndarray
    eur_cny: float
    # share of fuel CO2 that is CBAM direct emissions (None: all; aluminium's captive power and
    # alumina fuel are outside, industries.csv cbam_fuel_in_scope_frac)
    cbam_fuel_in_scope_frac_by_ind: np.ndarray | None = None


def allocate(n: int) -> dict[str, np.ndarray]:
    """Preallocated result arrays for ``n`` firms."""
    return {name: np.zeros(n, dtype=np.float64) for name in RESULT_FIELDS}


def _tables(q: Quantities, f: Factors) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The accounting inputs as the kernel's tables: one industry row and one province row per
    firm (each firm its own domestic carbon price), the scalars, and the quantity block."""
    n = len(q)
    k, p = np.asarray(q.industry, np.int64), np.asarray(q.province, np.int64)
    ip = np.zeros((n, len(INDUSTRY)))
    col = INDUSTRY.index
    ip[:, col("ets_covered")] = 1.0          # the domestic price below is what the firm pays
    ip[:, col("cbam_coverage")] = np.asarray(f.cbam_coverage_by_ind)[k]
    ip[:, col("cbam_benchmark_tco2_per_unit")] = np.asarray(f.cbam_benchmark_tco2_per_unit_by_ind)[k]
    ip[:, col("cbam_default_tco2_per_unit")] = np.asarray(f.cbam_default_tco2_per_unit_by_ind)[k]
    ip[:, col("cbam_de_minimis_units")] = np.asarray(f.cbam_de_minimis_units_by_ind)[k]
    ip[:, col("cbam_fuel_in_scope_frac")] = (1.0 if f.cbam_fuel_in_scope_frac_by_ind is None else
                                             np.asarray(f.cbam_fuel_in_scope_frac_by_ind)[k])
    pp = np.zeros((n, len(PROVINCE)))
    pp[:, PROVINCE.index("grid_ef_tco2_per_mwh")] = np.asarray(f.grid_tco2_per_mwh_by_prov)[p]
    pp[:, PROVINCE.index("residual_ef_tco2_per_mwh")] = np.asarray(f.residual_mix_tco2_per_mwh_by_prov)[p]
    sc = np.zeros(len(SCALAR))
    for name, value in (("ef_coal", f.coal_tco2_per_t), ("ef_gas", f.natural_gas_tco2_per_m3),
                        ("ef_diesel", f.diesel_tco2_per_t), ("ef_heat", f.heat_tco2_per_gj),
                        ("cbam_markup_frac", f.cbam_markup_frac), ("eur_cny", f.eur_cny)):
        sc[SCALAR.index(name)] = value
    qty = np.zeros((len(QTY), n))
    for name in QUANTITY_FIELDS:
        if name in QTY:
            qty[QTY.index(name)] = getattr(q, name)
    return ip, pp, sc, qty


def account(q: Quantities, f: Factors, out: dict[str, np.ndarray] | None = None,
            engine: str = "compiled") -> dict[str, np.ndarray]:
    """Account every firm in ``q`` under ``f``; results go into ``out`` (allocated if None)."""
    if engine not in ("compiled", "python"):
        raise ValueError(f"engine must be 'compiled' or 'python', not {engine!r}")
    n = len(q)
    out = allocate(n) if out is None else out
    k = np.asarray(q.industry, np.int64)
    ets_price = np.asarray(f.domestic_carbon_cny_per_tco2_by_ind, float)[k]
    ets_free = np.asarray(f.domestic_free_share_by_ind, float)[k]
    ip, pp, sc, qty = _tables(q, f)
    verified = np.ascontiguousarray(q.verified, dtype=np.uint8)
    output = np.ascontiguousarray(q.output, dtype=np.float64)
    acc = np.zeros((len(ACC), n))
    # each firm's own domestic carbon price: one kernel call per distinct (price, free share)
    for price, free in sorted(set(zip(ets_price.tolist(), ets_free.tolist()))):
        sel = np.flatnonzero((ets_price == price) & (ets_free == free))
        s = sc.copy()
        s[SCALAR.index("ets_price_cny_per_tco2")] = price
        s[SCALAR.index("ets_free_share")] = free
        s[SCALAR.index("eu_ets_eur_per_tco2")] = f.eu_ets_eur_per_tco2
        s[SCALAR.index("cbam_free_share")] = f.cbam_free_share
        if engine == "python":
            sc_row = rules.row("SC", s)
            for i in sel:
                qi = rules.Quant(**{name: float(qty[r, i]) for r, name in enumerate(QTY)})
                a = rules.firm_account(qi, float(output[i]), bool(verified[i]), rules.carbon_now(sc_row),
                                       rules.row("IP", ip[i]), rules.row("PP", pp[i]), sc_row)
                for r, name in enumerate(ACC):
                    acc[r, i] = getattr(a, _ACC_RECORD[name])
            continue
        part = np.zeros((len(ACC), len(sel)))
        _energy.account_into(np.ascontiguousarray(qty[:, sel]), np.ascontiguousarray(output[sel]),
                             np.ascontiguousarray(verified[sel]), np.arange(len(sel), dtype=np.int32),
                             np.arange(len(sel), dtype=np.int32), np.ascontiguousarray(ip[sel]),
                             np.ascontiguousarray(pp[sel]), s, part, threads=ext.threads())
        acc[:, sel] = part
    for r, name in enumerate(ACC):
        out[name][:] = acc[r]
    return out


def factor_fields() -> list[str]:
    """Names of the ``Factors`` fields (for documentation and tests)."""
    return [x.name for x in fields(Factors)]
