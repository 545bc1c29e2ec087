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

EU exporters are a stratum of their own: every size class is split into the plants that export to
the EU and those that do not, by the probability of exporting at each size (``export_strata``:
rising with size, scaled so that the industry's expected EU shipments match its EU export share).
Each of the two parts gets agents like a class (with ``agents_by_eu_exports_frac`` of all agents
allotted to the exporter strata of the CBAM industries by their EU-bound emissions, and an
exporter stratum allowed ``exporter_stratum_agents`` agents of weight below 1 when it has fewer
factories), its agents' sizes follow that part's size distribution, and their weights are its
expected factories over its agents. Weighted factory
counts, output and EU shipments are those of the whole population in expectation (exactly for the
counts and output, rescaled as before), and a small draw holds as many exporter agents as CBAM
needs instead of the few a draw firm by firm would give (the largest-first verified-tonnage rule
of ``cbam.verified_tonnage_share`` is coarse over a handful of exporters).
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
    ``weight`` factories of its industry, size class and exporter stratum; weighted counts and
    output are national, and weighted EU shipments the industries' EU export shares."""
    full = full_cell_counts(data, pop.provinces, pop.industries)
    n_ind, n_prov = full.shape
    ind_full = full.sum(1)
    sigma_by_ind = data.industries["size_sigma_log"].to_numpy(float)
    cuts = size_class_cuts(pop.size_strata)
    strata = export_strata(pop, data, cuts)
    n_isx = stratified_counts(pop, data, full, cuts, strata)      # (n_ind, classes, 2)
    factories = strata.factories(ind_full, cuts)                  # the same shape
    industry, province, rank, weight, exporter = [], [], [], [], []
    for k, j, e in zip(*np.nonzero(n_isx)):                        # strata, not firms
        m = int(n_isx[k, j, e])
        prov_share = full[k] / ind_full[k]
        industry.append(np.full(m, k, np.int32))
        province.append(_spread(prov_share, m, rng))
        rank.append(strata.ranks(k, j, bool(e), m, rng))           # within the stratum
        weight.append(np.full(m, factories[k, j, e] / m))
        exporter.append(np.full(m, e, np.uint8))
    industry, province = np.concatenate(industry), np.concatenate(province)
    rank, weight, exporter = np.concatenate(rank), np.concatenate(weight), np.concatenate(exporter)
    order = np.lexsort((rank, province, industry))                # sorted by cell
    industry, province, rank = industry[order], province[order], rank[order]
    weight, exporter = weight[order], exporter[order]

    # strata too thin to get an agent: fold their factories into the others of the same industry
    # and exporter status, then (an industry without exporter agents) into the industry's others
    group = 2 * industry.astype(np.int64) + exporter
    want = factories.sum(1).ravel()                                # (industry, status) factories
    got = np.bincount(group, weights=weight, minlength=2 * n_ind)
    weight = weight * np.where(got > 0, want / np.where(got > 0, got, 1.0), 1.0)[group]
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
    eu_share = _eu_shares(data, industry, weight * base_output, exporter)
    exporter = exporter.astype(bool)
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


def stratified_counts(pop: Population, data: DefaultData, full: np.ndarray, cuts: np.ndarray,
                      strata: ExportStrata) -> np.ndarray:
    """Agents per industry, size class and exporter stratum (shape (n_ind, classes, 2); the last
    axis: 0 plants that do not export to the EU, 1 EU exporters).

    Industries get agents in proportion to a mix of their factory counts and their emissions
    (``agents_by_emissions_frac``: heavy industries with few, large plants are not left out of
    small populations), the strata within an industry (size class x exporter status) to the same
    mix of their factory counts and output. Of all agents, ``agents_by_eu_exports_frac`` go to the
    exporter strata of the industries CBAM covers (``cbam_coverage`` in industries.csv) by their
    EU-bound emissions instead (what CBAM charges: the few exporters of steel, aluminium,
    chemicals and cement are drawn in every population). No stratum gets more agents
    than it has factories (a stratum small enough is drawn in full, with weight 1) except that an
    exporter stratum may hold ``exporter_stratum_agents`` (its agents then weigh less than 1: the
    export of a few plants is an expectation, spread over several agents), what a full stratum
    cannot take goes to the others; every industry with factories keeps at least one agent, and
    one that ships to the EU at least one exporter agent."""
    a, x_eu = pop.agents_by_emissions_frac, pop.agents_by_eu_exports_frac
    ind = data.industries
    counts = full.sum(1)
    emissions = counts / np.maximum(ind["firm_count_2024"].to_numpy(float), 1.0) \
        * ind["national_output_units_2024"].to_numpy(float) * _intensity(data)
    mix = lambda c, e, axes=None: (1 - a) * c / np.maximum(c.sum(axes, keepdims=True), 1e-300) \
        + a * e / np.maximum(e.sum(axes, keepdims=True), 1e-300)
    sigma = ind["size_sigma_log"].to_numpy(float)
    frac = np.diff(cuts)
    out_share = np.array([[_output_share(s, cuts[j], cuts[j + 1]) for j in range(len(frac))]
                          for s in sigma])                            # (n_ind, classes)
    ef, eo = strata.factory_frac, strata.output_frac
    fac = frac[None, :, None] * np.stack([1.0 - ef, ef], axis=-1)     # shares of the industry's
    out = out_share[..., None] * np.stack([1.0 - eo, eo], axis=-1)   # factories and output
    want = mix(counts, emissions)[:, None, None] * mix(fac, out, (1, 2))
    covered = (ind["cbam_coverage"] != "none").to_numpy()
    eu_em = np.zeros_like(want)                      # CBAM-covered EU-bound emissions by stratum
    eu_em[..., 1] = (emissions * ind["eu_export_share_frac"].to_numpy(float) * covered)[:, None] \
        * out[..., 1] / np.maximum(out[..., 1].sum(1, keepdims=True), 1e-300)
    want = (1 - x_eu) * want / want.sum() + x_eu * eu_em / max(eu_em.sum(), 1e-300)
    cap = strata.factories(counts, cuts)                              # factories per stratum
    # a stratum of less than one factory may still get one agent (of weight below 1), an exporter
    # stratum up to exporter_stratum_agents
    least = np.array([1.0, float(pop.exporter_stratum_agents)])
    room = np.where(cap > 0, np.maximum(cap, least), 0.0)
    flat = _allot(want.ravel(), room.ravel(), pop.firms)
    n = flat.reshape(want.shape)
    # every industry with factories keeps an agent (when there are agents enough): one moves from
    # the fullest stratum to the industry's stratum most wanted
    for k in np.flatnonzero((cap.sum((1, 2)) > 0) & (n.sum((1, 2)) == 0)):    # industries
        if n.max() > 1:
            n[np.unravel_index(np.argmax(n), n.shape)] -= 1
            n[k][np.unravel_index(np.argmax(np.where(cap[k] > 0, want[k], -1.0)), n[k].shape)] += 1
    # an industry that ships to the EU keeps an exporter agent: one agent moves from its fullest
    # non-exporter stratum to its exporter stratum with the most EU-bound output
    short = np.flatnonzero((n.sum((1, 2)) > 0) & (n[..., 1].sum(1) == 0) & (cap[..., 1].sum(1) > 0))
    for k in short:                                                   # industries, not firms
        n[k, np.argmax(n[k, :, 0]), 0] -= 1
        n[k, np.argmax(np.where(cap[k, :, 1] > 0, out[k, :, 1], -1.0)), 1] += 1
    return n


GRID_POINTS = 401          # quadrature points over a size class (normal quantiles of plant size)
X_TAIL = 9.0               # quantiles beyond +-9 sd hold < 1e-18 of the plants (grid bound)


@dataclass
class ExportStrata:
    """The probability of exporting to the EU over each industry's size classes, on a grid of
    normal quantiles of plant size (``x``; size rank = ndtr(x), plant size ~ exp(sigma x)).

    ``p`` (shape (n_ind, classes, GRID_POINTS)) is ``scale x (1 + exporter_size_slope x rank)``,
    capped at 1, with ``scale`` set so that exporters shipping ``eu_share_per_exporter_frac`` of
    their output ship the industry's ``eu_export_share_frac`` in expectation (``_export_scale``).
    ``factory_frac`` and ``output_frac`` (n_ind, classes) are the shares of a class's factories
    and of its output that are the exporters'."""

    x: np.ndarray
    p: np.ndarray
    factory_frac: np.ndarray
    output_frac: np.ndarray

    def factories(self, ind_full: np.ndarray, cuts: np.ndarray) -> np.ndarray:
        """Expected factories per industry x size class x stratum (0 non-exporters, 1 EU
        exporters)."""
        cls = ind_full[:, None] * np.diff(cuts)[None, :]
        return np.stack([cls * (1.0 - self.factory_frac), cls * self.factory_frac], axis=-1)

    def ranks(self, k: int, j: int, exporter: bool, m: int, rng: np.random.Generator) -> np.ndarray:
        """Size ranks of ``m`` agents of one stratum: one in each of ``m`` equal parts of the
        stratum's factories (their size density: p or 1 - p times the class's), at random within
        the part."""
        x = self.x[k, j]
        dens = (self.p[k, j] if exporter else 1.0 - self.p[k, j]) * _phi(x)
        cdf = np.concatenate([[0.0], np.cumsum(_trapezoids(dens, x))])
        u = (np.arange(m) + rng.random(m)) / m * cdf[-1]
        return ndtr(np.interp(u, cdf, x))


def export_strata(pop: Population, data: DefaultData, cuts: np.ndarray) -> ExportStrata:
    """Exporter shares of each industry's size classes (see ``ExportStrata``), vectorised."""
    sigma = data.industries["size_sigma_log"].to_numpy(float)
    lo = np.where(cuts[:-1] > 0, ndtri(cuts[:-1]), -X_TAIL)                   # (classes,)
    hi = np.where(cuts[1:] < 1, ndtri(cuts[1:]), np.nan)
    hi = np.where(np.isnan(hi)[None, :], X_TAIL + np.maximum(sigma, 0.0)[:, None], hi[None, :])
    t = np.linspace(0.0, 1.0, GRID_POINTS)
    x = lo[None, :, None] + (hi - lo[None, :])[..., None] * t                # (n_ind, classes, G)
    scale = _export_scale(pop, data)
    p = np.minimum(1.0, scale[:, None, None] * (1.0 + pop.exporter_size_slope * ndtr(x)))
    plants = _phi(x)
    output = plants * np.exp(sigma[:, None, None] * x)
    share = lambda w: _trapezoids(p * w, x).sum(-1) / np.maximum(_trapezoids(w, x).sum(-1), 1e-300)
    return ExportStrata(x, p, share(plants), share(output))


def _export_scale(pop: Population, data: DefaultData) -> np.ndarray:
    """Per industry: the probability of exporting of its smallest plant, such that exporters
    shipping ``eu_share_per_exporter_frac`` of their output ship ``eu_export_share_frac`` of the
    industry's output in expectation. With lognormal sizes (sigma) the output-weighted mean size
    rank is ndtr(sigma / sqrt 2), so the output-weighted mean of (1 + slope x rank) is
    1 + slope x ndtr(sigma / sqrt 2) (the cap of the probability at 1 is left to the rescaling of
    the EU shares in ``_eu_shares``)."""
    ind = data.industries
    target = ind["eu_export_share_frac"].to_numpy(float)
    mean_shape = 1.0 + pop.exporter_size_slope * ndtr(ind["size_sigma_log"].to_numpy(float)
                                                      / np.sqrt(2.0))
    return target / (pop.eu_share_per_exporter_frac * mean_shape)


def _phi(x: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)


def _trapezoids(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Areas of the trapezoids under ``y`` between consecutive ``x`` (last axis)."""
    return 0.5 * (y[..., 1:] + y[..., :-1]) * np.diff(x, axis=-1)


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


def _eu_shares(data: DefaultData, industry: np.ndarray, wout: np.ndarray,
               exporter: np.ndarray) -> np.ndarray:
    """EU shares of output: the exporters of an industry share its EU export share of output
    (``eu_export_share_frac``) in proportion to their output, up to 0.95 each. Near
    ``eu_share_per_exporter_frac`` in expectation (``export_strata``); the rescaling makes every
    industry's weighted EU shipments exact."""
    target = data.industries["eu_export_share_frac"].to_numpy(float)
    n_ind = len(target)
    tot = np.bincount(industry, weights=wout, minlength=n_ind)
    exp_out = np.bincount(industry, weights=wout * exporter, minlength=n_ind)
    share = np.minimum(target * tot / np.where(exp_out > 0, exp_out, 1.0), 0.95)
    return np.where(exporter == 1, share[industry], 0.0)
