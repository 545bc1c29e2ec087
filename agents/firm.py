"""``FirmAgent``: a ``mesa.Agent`` whose numeric state is row ``i`` of the model's arrays.

Attributes read and write the shared arrays (``agent.output``, ``agent.scope1_tco2`` ...), so the
compiled kernels and Python code see the same numbers. With ``engine="python"`` the model applies
the Python twins of the rules (``zcf.ext.rules``) to each agent's row in turn.
"""
from __future__ import annotations

import mesa

from zcf.sim.state import EFFECT_FIELDS, FINANCE_FIELDS, PER_UNIT_FIELDS, QTY_FIELDS, RESULT_FIELDS

_ARRAY_ATTRS = (("weight", "base_output", "output", "size_rank", "intensity_mult")
                + PER_UNIT_FIELDS + EFFECT_FIELDS + QTY_FIELDS + RESULT_FIELDS + FINANCE_FIELDS)


# Derived from the model's own bookkeeping: retrofit effects follow the installed options (change
# what a firm installs through ``decide``), weights are fixed when the population is drawn.
_READ_ONLY = frozenset(EFFECT_FIELDS) | {"weight"}


def _array_property(name: str) -> property:
    def get(self):
        return getattr(self.model.firms, name)[self.i].item()

    def set_(self, value):
        if name in _READ_ONLY:
            raise AttributeError(
                f"{name} is kept by the model ({'fixed when the population is drawn' if name == 'weight' else 'derived from the installed retrofit options'}); "
                "to change what a firm does, override FirmAgent.decide")
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

    def decide(self, npv_cny: dict[str, float], budget_cny: float) -> str | None:
        """Override to replace the compiled decision rule for firms of your subclass.

        Called each year the firm reviews its options, with the NPV (CNY) of every option it may
        choose now (as valued by the kernel under its expectations) and its budget (CNY). Return
        an option id from ``npv_cny`` or None to do nothing. The default class never calls this:
        its firms use the compiled logit rule.
        """
        return None

    def __repr__(self) -> str:
        return f"FirmAgent({self.unique_id}, {self.industry}, {self.province}, output={self.output:.4g})"


for _name in _ARRAY_ATTRS:
    setattr(FirmAgent, _name, _array_property(_name))
