"""``FirmAgent``: a ``mesa.Agent`` whose numeric state is row ``i`` of the model's arrays.

Attributes read and write the shared arrays (``agent.output``, ``agent.scope1_tco2`` ...), so the
compiled kernels and Python code see the same numbers. ``account()`` is the per-agent Python path
(``--engine python``): it applies the reference rules of ``ext.reference`` to this one firm.
"""
from __future__ import annotations

import mesa

from ext.accounting import QUANTITY_FIELDS, RESULT_FIELDS
from ext.reference import account_firm, firm_factors
from sim.state import EFFECT_FIELDS, EXTRA_FIELDS

_ARRAY_ATTRS = (("weight", "base_output", "output", "eu_share", "size_rank", "intensity_mult")
                + EFFECT_FIELDS + QUANTITY_FIELDS + RESULT_FIELDS + EXTRA_FIELDS)


def _array_property(name: str) -> property:
    def get(self):
        return getattr(self.model.firms, name)[self.i].item()

    def set_(self, value):
        getattr(self.model.firms, name)[self.i] = value

    return property(get, set_, doc=f"{name} of this firm (row i of model.firms.{name})")


class FirmAgent(mesa.Agent):
    """One factory (or ``weight`` identical factories) of an industry in a province."""

    def __init__(self, model, i: int):
        super().__init__(model)
        self.i = int(i)

    @property
    def industry(self) -> str:
        return self.model.data.industry_ids[self.model.firms.industry[self.i]]

    @property
    def province(self) -> str:
        return self.model.data.province_names[self.model.firms.province[self.i]]

    @property
    def leader(self) -> bool:
        return bool(self.model.firms.leader[self.i])

    @property
    def verified(self) -> bool:
        return bool(self.model.firms.verified[self.i])

    def account(self, factors) -> None:
        """Per-agent Python accounting for this year (reference rules, slow path)."""
        s, i = self.model.firms, self.i
        r = account_firm(*(float(getattr(s, name)[i]) for name in QUANTITY_FIELDS),
                         bool(s.verified[i]), **firm_factors(factors, int(s.industry[i]), int(s.province[i])))
        for name, value in r.items():
            getattr(s, name)[i] = value

    def __repr__(self) -> str:
        return f"FirmAgent({self.unique_id}, {self.industry}, {self.province}, output={self.output:.4g})"


for _name in _ARRAY_ATTRS:
    setattr(FirmAgent, _name, _array_property(_name))
