"""The offset registry: issuance and retirement recorded in blocks; nothing retired twice.

A block is one project row's issuance in one year (project, province, type, vintage, quantity).
Retirements draw on blocks (oldest vintage first) and are recorded with their buyers' shares
(``table()`` lists one row per block and buyer). Invariants
(``check``) hold after every operation and are checked by the model every year: a retirement
larger than what a block still holds raises ``RegistryError`` at once.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

TOLERANCE_TCO2 = 1e-6


class RegistryError(RuntimeError):
    """An operation or state that would break the registry's invariants."""


class Registry:
    def __init__(self):
        self._held: dict[int, float] = {}                 # project -> issued - retired
        self._blocks_of: dict[int, list[int]] = {}        # project -> its blocks, oldest first
        self._first_open: dict[int, int] = {}             # project -> position of its oldest open block
        self.project: list[int] = []
        self.vintage: list[int] = []
        self.issued: list[float] = []
        self.retired: list[float] = []
        # year, block, use, tCO2, {buyer: share} (shares sum to 1; one record per block retired)
        self.retirements: list[tuple[int, int, str, float, dict[str, float]]] = []
        self.recorded: list[float] = []                   # per block: sum of its retirement records
        self.retired_in: dict[int, float] = {}            # year -> tCO2 recorded as retired

    def issue(self, year: int, project: int, quantity_tco2: float) -> int:
        """Record a new block; returns its id."""
        if quantity_tco2 < 0 or not np.isfinite(quantity_tco2):
            raise RegistryError(f"cannot issue {quantity_tco2} tCO2 (project {project}, {year})")
        self.project.append(project)
        self.vintage.append(year)
        self.issued.append(float(quantity_tco2))
        self.retired.append(0.0)
        self.recorded.append(0.0)
        block = len(self.issued) - 1
        self._held[project] = self._held.get(project, 0.0) + float(quantity_tco2)
        self._blocks_of.setdefault(project, []).append(block)
        return block

    def holdings(self, project: int) -> float:
        """Issued and not yet retired units of a project (tCO2)."""
        return self._held.get(project, 0.0)

    def retire(self, year: int, project: int, quantity_tco2: float, buyers: dict[str, float],
               use: str) -> None:
        """Retire ``quantity_tco2`` of a project, oldest vintage first, split among ``buyers``
        (buyer -> share, summing to 1)."""
        if quantity_tco2 < -TOLERANCE_TCO2:
            raise RegistryError(f"negative retirement {quantity_tco2} (project {project})")
        left = quantity_tco2
        if left > self.holdings(project) + TOLERANCE_TCO2:
            raise RegistryError(f"project {project}: retiring {quantity_tco2:.6g} tCO2 but only "
                                f"{self.holdings(project):.6g} issued and not retired")
        buyers = {b: sh for b, sh in buyers.items() if sh > 0}
        share_sum = sum(buyers.values())
        blocks = self._blocks_of.get(project, [])
        first = self._first_open.get(project, 0)       # blocks before it are fully retired
        for pos in range(first, len(blocks)):          # issued in year order: oldest vintage first
            b = blocks[pos]
            if left <= TOLERANCE_TCO2:
                break
            take = min(left, self.issued[b] - self.retired[b])
            if take <= 0:
                if pos == self._first_open.get(project, 0):
                    self._first_open[project] = pos + 1
                continue
            self.retired[b] += take
            self._held[project] -= take
            left -= take
            self.retirements.append((year, b, use, take, buyers))
            self.recorded[b] += take * share_sum
            self.retired_in[year] = self.retired_in.get(year, 0.0) + take * share_sum

    # -- totals and invariants ------------------------------------------------------------------
    def totals(self) -> tuple[float, float, float]:
        """(issued, retired, banked) over every block, tCO2."""
        issued, retired = float(np.sum(self.issued)), float(np.sum(self.retired))
        return issued, retired, issued - retired

    def check(self) -> None:
        """Raise ``RegistryError`` if any invariant fails."""
        issued, retired = np.asarray(self.issued), np.asarray(self.retired)
        if (retired < -TOLERANCE_TCO2).any():
            raise RegistryError("a block has negative retirements")
        over = retired - issued > TOLERANCE_TCO2 * np.maximum(1.0, issued)
        held = np.bincount(self.project, weights=issued - retired, minlength=len(self._held)) \
            if self.project else np.zeros(0)
        for p, h in self._held.items():
            if abs(held[p] - h) > TOLERANCE_TCO2 * max(1.0, abs(h)):
                raise RegistryError(f"project {p}: holdings {h} disagree with its blocks {held[p]}")
        if over.any():
            b = int(np.flatnonzero(over)[0])
            raise RegistryError(f"block {b} retired {retired[b]} > issued {issued[b]}")
        if len(issued):       # records (kept as they are appended) add up to each block's retirements
            if np.abs(np.asarray(self.recorded) - retired).max() > TOLERANCE_TCO2 * max(1.0, retired.max()):
                raise RegistryError("retirement records do not add up to the blocks' retirements")

    def table(self, projects: pd.DataFrame) -> pd.DataFrame:
        """Blocks and retirements as one table (project, province, type, vintage, quantity, owner)."""
        rows = [dict(block=b, year=self.vintage[b], project=p, province=projects.province.iloc[p],
                     project_type=projects.project_type.iloc[p], vintage=self.vintage[b],
                     quantity_tco2=self.issued[b], owner="issued")
                for b, p in enumerate(self.project)]
        rows += [dict(block=b, year=y, project=self.project[b],
                      province=projects.province.iloc[self.project[b]],
                      project_type=projects.project_type.iloc[self.project[b]],
                      vintage=self.vintage[b], quantity_tco2=-take * share,
                      owner=f"retired:{buyer}:{use}")
                 for y, b, use, take, buyers in self.retirements for buyer, share in buyers.items()]
        return pd.DataFrame(rows)
