"""Figures from results tables (matplotlib; each function takes tables and returns a Figure).

Colours are fixed per industry (``INDUSTRY_COLOURS``) so the same industry looks the same in every
figure; axes carry units.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

INDUSTRY_COLOURS = {
    "automobiles": "#1f77b4", "lithium_batteries": "#ff7f0e", "solar_pv": "#ffbf00",
    "electronics": "#9467bd", "machinery": "#8c564b", "textiles": "#e377c2", "steel": "#4d4d4d",
    "aluminium": "#17becf", "cement": "#bcbd22", "chemicals": "#2ca02c",
}


def emission_wedges(emissions: pd.DataFrame, by: str = "industry",
                    column: str = "scope1_tco2") -> plt.Figure:
    """Stacked areas of emissions (MtCO2) by ``by`` over the years, with the net total on top."""
    gross = emissions.assign(gross=emissions["scope1_tco2"] + emissions["scope2_market_tco2"])
    wide = gross.pivot_table(index="year", columns=by, values="gross", aggfunc="sum") / 1e6
    net = emissions.groupby("year")["net_tco2"].sum() / 1e6
    fig, ax = plt.subplots(figsize=(9, 5))
    colours = [INDUSTRY_COLOURS.get(c, None) for c in wide.columns] if by == "industry" else None
    ax.stackplot(wide.index, wide.T.values, labels=list(wide.columns), colors=colours, alpha=0.85)
    ax.plot(net.index, net.values, color="black", lw=2, label="net")
    ax.set_xlabel("year")
    ax.set_ylabel("emissions, scope 1 + scope 2 market-based (MtCO2/yr)")
    ax.set_title(f"Emissions by {by}")
    ax.legend(loc="upper right", fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def save_run_figures(results, folder: str | Path) -> list[Path]:
    """Write the main figures of a run as PNG into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    figures = {"emissions_by_industry": emission_wedges(results.emissions)}
    for name, fig in figures.items():
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths
