"""Factory counts per (industry, province) cell from the data tables: what a population can draw
from (``sim.population``) and whether a scenario's selection holds any factory (``sim.schema``)."""
from __future__ import annotations

import numpy as np

from zcf.sim.datasets import DefaultData


def full_cell_counts(data: DefaultData, provinces: list[str], industries: list[str]) -> np.ndarray:
    """National factory counts per (industry, province) cell, shape (n_ind, n_prov)."""
    share = data.provinces["firm_share_frac"].to_numpy(float)
    aff = data.affinity.to_numpy(float) * share[None, :]
    cells = data.industries["firm_count_2024"].to_numpy(float)[:, None] * aff / aff.sum(1, keepdims=True)
    pmask = np.isin(data.province_names, provinces) if provinces else np.ones(len(share), bool)
    imask = np.isin(data.industry_ids, industries) if industries else np.ones(len(cells), bool)
    return cells * imask[:, None] * pmask[None, :]
