"""A synthetic firm population drawn from the industry and province tables, stratified.

Factory counts per industry x province cell follow the national counts (``firm_count_2024``), the
provinces' firm shares and the industry-province affinities. Plant sizes are lognormal within each
industry (skewed: a few large plants make most of the output). The ``firms`` agents are drawn by
stratum: industries and size classes get agents by a mix of their factory counts and their
emissions or output (``stratified_counts``), so heavy industries with few large plants and the
largest plants of every industry are always represented (a class with fewer factories than agents
is drawn in full); each agent carries a ``weight`` (factories it stands for: its class's factories
over its agents), and outputs are scaled so weighted output equals the industry's national output.
Provinces are spread over a class's agents in proportion to the cell counts. All draws use the
model's generator.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from zcf.sim.cells import full_cell_counts
from zcf.sim.datasets import DefaultData
from zcf.sim.schema import Population


def largest_remainder(expected: np.ndarray, total: int) -> np.ndarray:
    """Integers with the given ``total`` as close as possible to ``expected`` (same shape)."""
    flat = expected.ravel() * (total / expected.sum())
    counts = np.floor(flat).astype(np.int64)
    short = total - counts.sum()
    if short > 0:
        order = np.argsort(-(flat - counts), kind="stable")
        counts[order[:short]] += 1
    return counts.reshape(expected.shape)


@dataclass
class Drawn:
    """Per-firm arrays of a drawn population (all of length n)."""

    industry: np.ndarray      # int32
    province: np.ndarray      # int32
    weight: np.ndarray        # factories represented
    base_output: np.ndarray   # product units per year in the data year (2024)
    intensity_mult: np.ndarray
    eu_share: np.ndarray      # share of output shipped to the EU
    size_rank: np.ndarray     # percentile of size within the industry (0..1)
    leader: np.ndarray        # uint8
    exporter: np.ndarray      # uint8


def draw_population(pop: Population, data: DefaultData, rng: np.random.Generator) -> Drawn:
    """Draw ``pop.firms`` firms, stratified (see ``stratified_counts``): every firm stands for
    ``weight`` factories of its industry and size class; weighted counts and output are national."""
    full = full_cell_counts(data, pop.provinces, pop.industries)
    n_ind, n_prov = full.shape
    ind_full = full.sum(1)
    sigma_by_ind = data.industries["size_sigma_log"].to_numpy(float)
    cuts = size_class_cuts(pop.size_strata)
    n_is = stratified_counts(pop, data, full, cuts)                 # (n_ind, strata)
    industry, province, rank, weight = [], [], [], []
    for k in range(n_ind):
        prov_share = full[k] / ind_full[k] if ind_full[k] > 0 else np.zeros(n_prov)
        for j in range(len(cuts) - 1):
            m = int(n_is[k, j])
            if m == 0:
                continue
            lo, hi = cuts[j], cuts[j + 1]
            industry.append(np.full(m, k, np.int32))
            province.append(_spread(prov_share, m, rng))
            rank.append(lo + (hi - lo) * (np.arange(m) + rng.random(m)) / m)   # within the class
            weight.append(np.full(m, ind_full[k] * (hi - lo) / m))
    industry, province = np.concatenate(industry), np.concatenate(province)
    rank, weight = np.concatenate(rank), np.concatenate(weight)
    order = np.lexsort((rank, province, industry))                # sorted by cell
    industry, province, rank, weight = industry[order], province[order], rank[order], weight[order]

    # size classes too thin to get an agent: fold their factories into the industry's others
    ind_w = np.bincount(industry, weights=weight, minlength=n_ind)
    weight = weight * (ind_full / np.where(ind_w > 0, ind_w, 1.0))[industry]
    z = np.exp(sigma_by_ind[industry] * ndtri(rank))
    nat_out = data.industries["national_output_units_2024"].to_numpy(float)
    share_of_nation = ind_full / data.industries["firm_count_2024"].to_numpy(float)
    wz = np.bincount(industry, weights=weight * z, minlength=n_ind)
    base_output = z * (nat_out * share_of_nation / np.where(wz > 0, wz, 1.0))[industry]

    sd = pop.size_draw_sd_frac
    intensity_mult = np.exp(sd * rng.standard_normal(len(industry)) - sd * sd / 2)
    size_rank = rank                        # the plant's size percentile in its industry
    exporter, eu_share = _eu_exporters(pop, data, industry, weight * base_output, size_rank, rng)
    leader = (size_rank >= pop.leader_size_quantile) | (
        exporter & (size_rank >= pop.exporter_leader_size_quantile))
    return Drawn(industry.astype(np.int32), province.astype(np.int32), weight, base_output,
                 intensity_mult, eu_share, size_rank, leader.astype(np.uint8),
                 exporter.astype(np.uint8))


def size_class_cuts(strata: int) -> np.ndarray:
    """Size-percentile bounds of the size classes: the lower half, then ever thinner top tails
    (top 50%, 20%, 5%, 1%, 0.1% ...), so that the few plants that make much of an industry's
    output are drawn in every population."""
    tails = [0.5, 0.2, 0.05, 0.01, 0.001, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9][:max(strata - 1, 0)]
    return np.array([0.0] + [1.0 - t for t in tails] + [1.0])


def _output_share(sigma: float, lo: float, hi: float) -> float:
    """Share of a lognormal(sigma) industry's output made by the plants between size
    percentiles ``lo`` and ``hi``."""
    a, b = ndtri(lo) if lo > 0 else -np.inf, ndtri(hi) if hi < 1 else np.inf
    return float(ndtr(b - sigma) - ndtr(a - sigma))


def _allot(want: np.ndarray, cap: np.ndarray, total: int) -> np.ndarray:
    """Whole numbers proportional to ``want`` summing to ``total`` (or to ``cap.sum()`` when
    smaller), none above its ``cap``: what a capped entry cannot take goes to the others."""
    total = int(min(total, np.floor(cap).sum()))
    out = np.zeros(len(want), np.int64)
    open_ = (want > 0) & (cap >= 1)
    while total - out.sum() > 0 and open_.any():
        left = total - out.sum()
        share = np.where(open_, want, 0.0)
        add = largest_remainder(share, left) if share.sum() > 0 else np.zeros_like(out)
        new = np.minimum(out + add, np.floor(cap).astype(np.int64))
        if (new == out).all():
            break
        out = new
        open_ &= out < np.floor(cap)
    return out


def stratified_counts(pop: Population, data: DefaultData, full: np.ndarray,
                      cuts: np.ndarray) -> np.ndarray:
    """Agents per industry and size class (shape (n_ind, classes)).

    Industries get agents in proportion to a mix of their factory counts and their emissions
    (``agents_by_emissions_frac``: heavy industries with few, large plants are not left out of
    small populations), size classes within an industry to the same mix of their factory counts
    and output; no class gets more agents than it has factories (a class small enough is drawn
    in full, with weight 1), and what a full class cannot take goes to the others."""
    a = pop.agents_by_emissions_frac
    ind = data.industries
    n_ind = full.shape[0]
    counts = full.sum(1)
    emissions = counts / np.maximum(ind["firm_count_2024"].to_numpy(float), 1.0) \
        * ind["national_output_units_2024"].to_numpy(float) * _intensity(data)
    mix = lambda c, e: (1 - a) * c / max(c.sum(), 1e-300) + a * e / max(e.sum(), 1e-300)
    sigma = ind["size_sigma_log"].to_numpy(float)
    frac = np.diff(cuts)
    out_share = np.array([[_output_share(sigma[k], cuts[j], cuts[j + 1])
                           for j in range(len(frac))] for k in range(n_ind)])
    cap = counts[:, None] * frac[None, :]                           # factories per class
    want = mix(counts, emissions)[:, None] * np.array([mix(frac, out_share[k]) for k in range(n_ind)])
    # a class of less than one factory may still get one agent (of weight below 1)
    flat = _allot(want.ravel(), np.where(cap.ravel() > 0, np.maximum(cap.ravel(), 1.0), 0.0),
                  pop.firms)
    return flat.reshape(want.shape)


def _intensity(data: DefaultData) -> np.ndarray:
    """Scope 1 + 2 per unit of each industry's incumbent at the mean 2022 grid factor (tCO2):
    the emissions that steer the allotment of agents (not used in accounting)."""
    ind, ef = data.industries, data.carriers["ef_tco2_per_unit"]
    grid = float(np.average(data.provinces["grid_ef_2022_tco2_per_mwh"],
                            weights=data.provinces["firm_share_frac"]))
    cols = {"coal": "coal_t_per_unit", "natural_gas": "natural_gas_m3_per_unit",
            "diesel": "diesel_t_per_unit", "purchased_heat": "purchased_heat_gj_per_unit"}
    out = sum(ind[c].fillna(0).to_numpy(float) * float(ef[carrier]) for carrier, c in cols.items())
    return out + ind["process_tco2_per_unit"].fillna(0).to_numpy(float) \
        + ind["electricity_mwh_per_unit"].fillna(0).to_numpy(float) * grid


def _spread(share: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """Provinces of ``m`` agents: the whole part of ``m`` x share in each province, the rest
    drawn in proportion to what is left over (unbiased for any ``m``)."""
    expected = share * m
    whole = np.floor(expected).astype(np.int64)
    rest = m - whole.sum()
    if rest > 0:
        frac = expected - whole
        whole += rng.multinomial(rest, frac / frac.sum())
    return np.repeat(np.arange(len(share)), whole)


def _rank_within(group: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Percentile rank (0..1) of ``value`` within each group, vectorised."""
    order = np.lexsort((value, group))
    ranks = np.empty(len(value))
    g_sorted = group[order]
    starts = np.searchsorted(g_sorted, g_sorted, side="left")
    sizes = np.bincount(g_sorted)[g_sorted]
    ranks[order] = (np.arange(len(value)) - starts) / np.maximum(sizes - 1, 1)
    return ranks


def _eu_exporters(pop: Population, data: DefaultData, industry: np.ndarray, wout: np.ndarray,
                  size_rank: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw EU exporters (likelier among large firms) and their EU shares.

    Exporters ship ``eu_share_per_exporter_frac`` of their output to the EU; the probability of
    exporting rises linearly with size rank (x ``1 + exporter_size_slope`` at the top) and is scaled
    per industry so that expected EU shipments match the industry's EU export share. Shares are
    then rescaled so that each industry matches its EU share exactly.
    """
    target = data.industries["eu_export_share_frac"].to_numpy(float)
    n_ind = len(target)
    tot = np.bincount(industry, weights=wout, minlength=n_ind)
    shape = 1.0 + pop.exporter_size_slope * size_rank
    base = np.bincount(industry, weights=wout * shape, minlength=n_ind)
    scale = target * tot / (pop.eu_share_per_exporter_frac * np.where(base > 0, base, 1.0))
    exporter = rng.random(len(industry)) < np.minimum(1.0, scale[industry] * shape)
    # small draws: an industry that exports to the EU keeps at least one exporter (its largest firm)
    for k in np.flatnonzero((target > 0) & (np.bincount(industry, weights=exporter, minlength=n_ind) == 0)):
        members = np.flatnonzero(industry == k)
        if len(members):
            exporter[members[np.argmax(size_rank[members])]] = True
    exp_out = np.bincount(industry, weights=wout * exporter, minlength=n_ind)
    share = np.minimum(target * tot / np.where(exp_out > 0, exp_out, 1.0), 0.95)
    return exporter, np.where(exporter, share[industry], 0.0)
