"""Agent-based simulation of China's zero-carbon factory transition.

``from sim import Scenario, ZeroCarbonModel``: load a scenario, build a ``mesa.Model`` of firms,
``step()`` a year at a time, read ``model.results`` as pandas DataFrames.
"""
from zcf.sim.scenario import Scenario, ScenarioError

__all__ = ["Scenario", "ScenarioError", "ZeroCarbonModel"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # loaded on first use, so that ``import agents`` before ``import sim`` has no import cycle
    if name == "ZeroCarbonModel":
        from zcf.sim.model import ZeroCarbonModel
        return ZeroCarbonModel
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
