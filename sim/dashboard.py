"""``zcf dashboard``: the model in Mesa's SolaraViz, with the main policy levers as sliders.

Needs the ``[viz]`` extra (``pip install 'zcf-sim[viz]'``: solara). ``zcf dashboard SCENARIO``
serves this module's ``page`` with ``solara run``; the scenario, population and seed reach it
through the environment variables ``ZCF_DASHBOARD_SCENARIO``, ``ZCF_DASHBOARD_FIRMS`` and
``ZCF_DASHBOARD_SEED`` (set by the command).

The sidebar holds Mesa's controls (Reset, play/pause, Step) and the levers of ``sim.levers``
plus a population size; a lever takes effect when the model is reset (Mesa's convention), with
the same seed, so the difference between two runs is the lever's. The model opens with its
first year simulated. Panels, redrawn after every step: emission wedges by industry, certified
factories by tier, the province tile map of net emissions, the offset market. Under each panel
a table gives the numbers the panel plots for the latest year (``plots.plotted``).
"""
from __future__ import annotations

import base64
import html
import io
import os
import threading

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import solara  # noqa: E402
from mesa.visualization import SolaraViz  # noqa: E402

from zcf.sim import plots  # noqa: E402
from zcf.sim.levers import OFFSET_SCOPES, apply_levers, lever_values  # noqa: E402
from zcf.sim.model import ZeroCarbonModel  # noqa: E402
from zcf.sim.scenario import Scenario  # noqa: E402

SCENARIO_ENV, FIRMS_ENV, SEED_ENV = ("ZCF_DASHBOARD_SCENARIO", "ZCF_DASHBOARD_FIRMS",
                                     "ZCF_DASHBOARD_SEED")
DEFAULT_SCENARIO = "jiangsu"
DEFAULT_FIRMS = 2000
POPULATIONS = (500, 1000, 2000, 5000, 10_000, 20_000, 50_000)   # choices offered (firm agents)
BUDGETS = ("no limit", "5", "20", "60", "120", "240")         # bn CNY/yr choices offered
NO_LIMIT = BUDGETS[0]
FIGURE_MAX_PX = 300      # figure height on the page: fits Mesa's grid cell with its numbers below
_FIGURES = threading.Lock()          # pyplot is not thread-safe; Mesa's play loop runs in a thread


class DashboardModel(ZeroCarbonModel):
    """``ZeroCarbonModel`` of ``scenario_ref`` with the levers applied; opens with the first
    year simulated. Every argument is a keyword (Mesa's SolaraViz re-creates it on Reset)."""

    def __init__(self, scenario_ref: str = DEFAULT_SCENARIO, firms: str | int = DEFAULT_FIRMS,
                 rng: int = 0, ets_price_mult: float | None = None,
                 cbam_enabled: bool | None = None, cbam_extended: bool | None = None,
                 subsidy_share_frac: float | None = None, subsidy_budget: str | None = None,
                 offset_scope: str | None = None, offset_limit_frac: float | None = None,
                 certificate_credit_frac: float | None = None):
        """Levers left at ``None`` keep the scenario's own value; ``subsidy_budget`` is a number
        of bn CNY a year as text, or "no limit"."""
        levers = {"ets_price_mult": ets_price_mult, "cbam_enabled": cbam_enabled,
                  "cbam_extended": cbam_extended, "subsidy_share_frac": subsidy_share_frac,
                  "offset_scope": offset_scope, "offset_limit_frac": offset_limit_frac,
                  "certificate_credit_frac": certificate_credit_frac}
        if subsidy_budget is not None:
            levers["subsidy_budget_bn_cny_per_yr"] = (None if subsidy_budget == NO_LIMIT
                                                      else float(subsidy_budget))
        scn = apply_levers(Scenario.load(scenario_ref),
                           **{k: v for k, v in levers.items() if v is not None})
        super().__init__(scn, rng=rng, firms=int(firms))
        self.step()


def _budget_choice(bn: float | None) -> str:
    return NO_LIMIT if bn is None else f"{bn:g}"


def model_params(scenario_ref: str, firms: int, seed: int) -> dict:
    """SolaraViz inputs: the levers (starting at the scenario's own values) and population."""
    own = lever_values(Scenario.load(scenario_ref))
    budget = _budget_choice(own["subsidy_budget_bn_cny_per_yr"])
    pops = sorted(set(POPULATIONS) | {firms})
    return {
        "scenario_ref": scenario_ref,
        "rng": seed,
        "firms": {"type": "Select", "value": str(firms), "values": [str(p) for p in pops],
                  "label": "Firm agents"},
        "ets_price_mult": {"type": "SliderFloat", "value": own["ets_price_mult"], "min": 0.0,
                           "max": 3.0, "step": 0.1,
                           "label": "ETS price path (x the scenario's)"},
        "cbam_enabled": {"type": "Checkbox", "value": own["cbam_enabled"], "label": "CBAM on"},
        "cbam_extended": {"type": "Checkbox", "value": own["cbam_extended"],
                          "label": "CBAM extended to vehicles and batteries"},
        "subsidy_share_frac": {"type": "SliderFloat", "value": own["subsidy_share_frac"],
                               "min": 0.0, "max": 0.6, "step": 0.05,
                               "label": "Capex subsidy share"},
        "subsidy_budget": {"type": "Select", "value": budget,
                           "values": list(dict.fromkeys([*BUDGETS, budget])),
                           "label": "Subsidy budget (bn CNY/yr)"},
        "offset_scope": {"type": "Select", "value": own["offset_scope"],
                         "values": list(OFFSET_SCOPES), "label": "Offsets bought from"},
        "offset_limit_frac": {"type": "SliderFloat", "value": own["offset_limit_frac"],
                              "min": 0.0, "max": 1.0, "step": 0.05,
                              "label": "Offset limit for zero-carbon (share)"},
        "certificate_credit_frac": {"type": "SliderFloat", "value": own["certificate_credit_frac"],
                                    "min": 0.0, "max": 1.0, "step": 0.05,
                                    "label": "Certificate credit (share)"},
    }


# -- panels -----------------------------------------------------------------------------------
def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    return buf.getvalue()


def _short_panels(titles) -> dict[str, str]:
    """Short names of a figure's panels: what differs between their titles ("first wave",
    "volumes"); empty for a one-panel figure."""
    titles = list(dict.fromkeys(titles))
    if len(titles) < 2:
        return {t: "" for t in titles}
    heads = [t.split(":")[0].strip() for t in titles]
    pick = (lambda t: t.split(":")[-1].strip()) if len(set(heads)) == 1 else \
        (lambda t: t.split(":")[0].strip())
    return {t: pick(t) for t in titles}


def _numbers_html(name: str, data, year: int) -> str:
    """The numbers a panel plots for ``year`` (all of them if it has no years) as HTML; each
    number carries ``data-series`` and ``data-value`` (the value in the table's unit)."""
    rows = data[data["x"] == year] if (data["x"] == year).any() else data
    short = _short_panels(rows["panel"])
    items = []
    for r in rows.itertuples():
        value, key = float(r.value), (f"{short[r.panel]}: " if short[r.panel] else "") + str(r.series)
        text = (f"{short[r.panel]}: " if short[r.panel] else "") + plots.label(r.series)
        items.append(f'<span class="zcf-number" data-series="{html.escape(key)}" '
                     f'data-value="{value!r}">'
                     f"{html.escape(text)} <b>{value:,.4g}</b> {html.escape(str(r.unit))}</span>")
    grid = ("display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));"
            "column-gap:8px;max-height:5.2em;overflow-y:auto")
    return (f'<div class="zcf-plotted" data-panel="{html.escape(name)}" data-year="{year}" '
            f'style="font-size:11px;line-height:1.3"><div>{html.escape(name)}: numbers plotted '
            f"for {year}</div><div style=\"{grid}\">{''.join(items)}</div></div>")


def _panel(name: str, make, model) -> None:
    """One panel: the figure as PNG and the table of its plotted numbers."""
    with _FIGURES:
        fig = make(model.results)
        try:
            png, data = _png(fig), plots.plotted(fig)
        finally:
            plt.close(fig)
    year = model.year - 1
    src = "data:image/png;base64," + base64.b64encode(png).decode()
    solara.HTML(tag="div", classes=["zcf-panel"], unsafe_innerHTML=(
        f'<img class="zcf-figure" alt="{html.escape(name)}" src="{src}" style="display:block;'
        f'margin:auto;max-width:100%;max-height:{FIGURE_MAX_PX}px">'
        + _numbers_html(name, data, year)))


def _offsets_figure(results):
    try:
        offsets = results.offsets
    except AttributeError:                       # no offset market: the table never started
        offsets = None
    if offsets is None or offsets.empty:
        fig, ax = plt.subplots(figsize=(9, 3))
        ax.text(0.5, 0.5, "no offset market in this scenario", ha="center", va="center")
        ax.axis("off")
        return fig
    return plots.offset_market(offsets)


def EmissionsPanel(model):
    return _panel("emission wedges", lambda r: plots.emission_wedges(r.emissions, "industry"),
                  model)


def CertificationPanel(model):
    return _panel("certified factories", lambda r: plots.certified_factories(r.certification),
                  model)


def MapPanel(model):
    return _panel("province map", lambda r: plots.province_map(r.emissions, "net_tco2",
                                                              model.year - 1), model)


def OffsetPanel(model):
    return _panel("offset market", _offsets_figure, model)


def LeversPanel(model):
    """The levers in force in the model shown (they change on Reset)."""
    own = lever_values(model.config)
    budget = own["subsidy_budget_bn_cny_per_yr"]
    rows = [("scenario", model.config.name), ("firm agents", f"{model.firms.n:,}"),
            ("ETS price path", ", ".join(f"{y}: {p:,.0f}" for y, p in
                                         sorted(model.cfg.ets.price_cny_per_tco2.items()))
             + " CNY/tCO2"),
            ("CBAM", ("on" if own["cbam_enabled"] else "off")
             + (", extended" if own["cbam_extended"] else "")),
            ("capex subsidy share", f"{own['subsidy_share_frac']:.2f}"),
            ("subsidy budget", "no limit" if budget is None else f"{budget:g} bn CNY/yr"),
            ("offsets", own["offset_scope"]),
            ("offset limit for zero-carbon", f"{own['offset_limit_frac']:.2f}"),
            ("certificate credit", f"{own['certificate_credit_frac']:.2f}")]
    body = "".join(f'<tr data-lever="{html.escape(k)}"><td>{html.escape(k)}</td>'
                   f"<td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    solara.HTML(tag="div", unsafe_innerHTML=f'<table class="zcf-levers" style="font-size:12px">'
                f"<caption style=\"text-align:left\">In force (levers apply on Reset)</caption>"
                f"{body}</table>")


PANELS = [EmissionsPanel, CertificationPanel, MapPanel, OffsetPanel, LeversPanel]


def make_page(scenario_ref: str = DEFAULT_SCENARIO, firms: int = DEFAULT_FIRMS, seed: int = 0):
    """The SolaraViz page of ``scenario_ref`` with ``firms`` firm agents."""
    params = model_params(scenario_ref, firms, seed)
    start = {k: (v["value"] if isinstance(v, dict) else v) for k, v in params.items()}
    model = DashboardModel(**start)
    name = Scenario.load(scenario_ref).name
    return SolaraViz(model, components=[(p, 0) for p in PANELS], model_params=params,
                     name=f"Zero-carbon factories: {name}", play_interval=300)


page = make_page(os.environ.get(SCENARIO_ENV, DEFAULT_SCENARIO),
                 int(os.environ.get(FIRMS_ENV, DEFAULT_FIRMS)),
                 int(os.environ.get(SEED_ENV, 0)))
