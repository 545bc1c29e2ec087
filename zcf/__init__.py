"""zcf: agent-based simulation of China's zero-carbon factory transition.

One import namespace over the repository's folders (setuptools maps them):

- ``zcf.sim``: the model, scenarios, policy, markets, default data, results, figures, CLI;
- ``zcf.agents``: the Mesa firm agent;
- ``zcf.ext``: the compiled Cython kernels and their plain-Python twins;
- ``zcf.experiments``: Monte Carlo, sweeps, sensitivity analysis, executors, result store.
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("zcf-sim")
except PackageNotFoundError:      # running from a source tree that is not installed
    __version__ = "0+unknown"
