"""A synthetic firm population drawn from the industry and province tables.

Firm counts per industry x province cell follow the national counts (``firm_count_2024``), the
provinces' firm shares and the industry-province affinities. ``firms`` agents are allotted to cells
by largest remainder (deterministic, proportional); each carries a ``weight`` (factories it stands
for) so that weighted counts and output stay national. Sizes are lognormal within each industry
(skewed: a few large plants make most of the output), scaled so weighted output equals the
industry's national output. All draws use the model's generator.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zcf.sim.datasets import DefaultData
from zcf.sim.schema import Population


def full_cell_counts(data: DefaultData, provinces: list[str], industries: list[str]) -> np.ndarray:
    """National factory counts per (industry, province) cell, shape (n_ind, n_prov)."""
    share = data.provinces["firm_share_frac"].to_numpy(float)
    aff = data.affinity.to_numpy(float) * share[None, :]
    cells = data.industries["firm_count_2024"].to_numpy(float)[:, None] * aff / aff.sum(1, keepdims=True)
    pmask = np.isin(data.province_names, provinces) if provinces else np.ones(len(share), bool)
    imask = np.isin(data.industry_ids, industries) if industries else np.ones(len(cells), bool)
    return cells * imask[:, None] * pmask[None, :]


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
    """Draw ``pop.firms`` firms (see module docstring)."""
    full = full_cell_counts(data, pop.provinces, pop.industries)
    counts = largest_remainder(full, pop.firms)
    n_prov = full.shape[1]
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    industry = (cell // n_prov).astype(np.int32)
    province = (cell % n_prov).astype(np.int32)
    weight = (full.ravel() / np.maximum(counts.ravel(), 1))[cell]
    # cells too small to get an agent: fold their factories into the industry's other agents
    ind_full = full.sum(1)
    ind_w = np.bincount(industry, weights=weight, minlength=len(ind_full))
    weight *= (ind_full / np.where(ind_w > 0, ind_w, 1.0))[industry]

    sigma = data.industries["size_sigma_log"].to_numpy(float)[industry]
    z = np.exp(sigma * rng.standard_normal(len(cell)))
    nat_out = data.industries["national_output_units_2024"].to_numpy(float)
    share_of_nation = ind_full / data.industries["firm_count_2024"].to_numpy(float)
    wz = np.bincount(industry, weights=weight * z, minlength=len(nat_out))
    base_output = z * (nat_out * share_of_nation / np.where(wz > 0, wz, 1.0))[industry]

    sd = pop.size_draw_sd_frac
    intensity_mult = np.exp(sd * rng.standard_normal(len(cell)) - sd * sd / 2)
    size_rank = _rank_within(industry, base_output)
    exporter, eu_share = _eu_exporters(pop, data, industry, weight * base_output, size_rank, rng)
    leader = (size_rank >= pop.leader_size_quantile) | (
        exporter & (size_rank >= pop.exporter_leader_size_quantile))
    return Drawn(industry, province, weight, base_output, intensity_mult, eu_share, size_rank,
                 leader.astype(np.uint8), exporter.astype(np.uint8))


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
