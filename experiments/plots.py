"""Figures of experiments (PNG), drawn with ``sim.plots`` so that colours and units match every
other figure of the package.

Objects here:

- ``fan_chart``, ``sensitivity_bars``: re-exported from ``sim.plots`` (a fan takes
  ``result.summary(table, by=["year"])`` or ``result.tables[table]``; the bars take
  ``result.indices``).
- ``experiment_figures(result, folder)``: the standard set: fan charts of net emissions and, when
  the results have a ``certification`` table, of certified factories (green, near-zero,
  zero-carbon); one fan per point for a sweep; the bars of a sensitivity result.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from zcf.sim.plots import fan_chart, sensitivity_bars  # noqa: E402

CERTIFICATION_LEVELS = ("green", "near_zero", "zero_carbon")
MAX_FANS = 4                      # more sweep points than this: one figure per metric gets crowded

__all__ = ["CERTIFICATION_LEVELS", "experiment_figures", "fan_chart", "sensitivity_bars"]


def _fans(result, table: str):
    """The stats per year, or {point label: stats} for a sweep with few enough points."""
    stats = result.summary(table, by=["year"])
    if not result.point_columns:
        return stats
    keys = [c for c in result.point_columns if c != "point"]
    points = stats.groupby("point", sort=True)
    if points.ngroups > MAX_FANS:
        return None
    return {", ".join(f"{_short(k)}={part[k].iloc[0]}" for k in keys) or f"point {p}": part
            for p, part in points}


def _short(key: str) -> str:
    """'ets.price_cny_per_tco2.2030' -> 'price_cny_per_tco2.2030'; 'cbam.enabled' -> 'enabled'."""
    parts = key.split(".")
    return ".".join(parts[-2:]) if parts[-1].isdigit() and len(parts) > 1 else parts[-1]


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def experiment_figures(result, folder: str | Path) -> list[Path]:
    """Write the fan charts (and the sensitivity bars) of ``result`` as PNG into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    runs = len(result.runs)
    if "emissions" in result.tables and (fans := _fans(result, "emissions")) is not None:
        fig = fan_chart(fans, "net_tco2", what="net emissions",
                        title=f"Net emissions, {result.scenario.name} ({runs} runs)")
        paths.append(_save(fig, folder / "fan_emissions.png"))
    cert = result.tables.get("certification")
    if cert is not None and set(CERTIFICATION_LEVELS) <= set(cert.columns) and \
            (fans := _fans(result, "certification")) is not None:
        fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
        for ax, level in zip(axes, CERTIFICATION_LEVELS):
            fan_chart(fans, level, unit="factories", ax=ax,
                      what=f"{level.replace('_', '-')} factories",
                      title=f"Certified {level.replace('_', '-')} factories ({runs} runs)")
        for ax in axes[1:]:
            if ax.get_legend() is not None:
                ax.get_legend().remove()                # one legend for the three panels
        fig.tight_layout()
        paths.append(_save(fig, folder / "fan_certification.png"))
    indices = getattr(result, "indices", None)
    if indices is not None:
        paths.append(_save(sensitivity_bars(indices), folder / "sensitivity.png"))
    return paths
