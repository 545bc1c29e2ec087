"""The package's own data files (``sim/data``): a path to one, or one CSV read as it is."""
from __future__ import annotations

from importlib import resources

import pandas as pd


def packaged(name: str):
    """The packaged file ``sim/data/NAME`` (an importlib resource)."""
    return resources.files("zcf.sim").joinpath("data", name)


def read_csv(name: str) -> pd.DataFrame:
    """Read one packaged CSV from ``sim/data`` as it is (no checks)."""
    with packaged(name).open("rb") as fh:
        return pd.read_csv(fh, comment=None)
