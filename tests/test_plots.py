"""Figures show what the tables hold: plotted totals equal table totals, axes carry units,
and an industry or option keeps its colour from figure to figure."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.container import BarContainer  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from zcf.sim import Scenario, ZeroCarbonModel, plots  # noqa: E402

YEARS = {"time.end_year": 2032}


@pytest.fixture(scope="module")
def run():
    """National baseline, small: several provinces, a national offset market."""
    scn = Scenario.load("baseline").replace({"population.firms": 1200, **YEARS})
    return ZeroCarbonModel(scn, rng=5).run().results.tables()


@pytest.fixture(scope="module")
def restricted():
    """Offsets bought within the own province only: one market per province."""
    scn = Scenario.load("offsets-restricted").replace({"population.firms": 800, **YEARS})
    return ZeroCarbonModel(scn, rng=5).run().results.tables()


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def stack_top(ax) -> pd.Series:
    """Upper edge of the stacked areas of an axes (all layers >= 0), by x."""
    top = {}
    for coll in ax.collections:
        if isinstance(coll, PolyCollection):
            for path in coll.get_paths():
                for x, y in path.vertices:
                    top[round(float(x), 6)] = max(top.get(round(float(x), 6), -np.inf), float(y))
    return pd.Series(top).sort_index()


def line(ax, label):
    (ln,) = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return pd.Series(ln.get_ydata(), index=ln.get_xdata())


def divisor(ylabel: str) -> float:
    for prefix, f in (("Mt", 1e6), ("kt", 1e3), ("bn ", 1e9), ("million ", 1e6),
                      ("thousand ", 1e3)):
        if f"({prefix}" in ylabel:
            return f
    return 1.0


def by_year(df, column):
    return df.groupby("year")[column].sum()


# -- emissions ------------------------------------------------------------------------------------
def test_wedges_stack_to_the_gross_total_and_the_line_is_net(run):
    e = run["emissions"]
    fig = plots.emission_wedges(e, "industry")
    ax = fig.axes[0]
    f = divisor(ax.get_ylabel())
    assert "MtCO2/yr" in ax.get_ylabel() and ax.get_xlabel() == "year"
    gross = by_year(e, "scope1_tco2") + by_year(e, "scope2_market_tco2")
    np.testing.assert_allclose(stack_top(ax).to_numpy() * f, gross.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(line(ax, "net (after offsets)") * f, by_year(e, "net_tco2"), rtol=1e-9)
    np.testing.assert_allclose(line(ax, "without retrofits") * f, by_year(e, "no_retrofit_tco2"),
                               rtol=1e-9)
    data = plots.plotted(fig)
    assert set(data["unit"]) == {"tCO2"}
    layers = data[~data["series"].isin(["net", "without retrofits"])]
    assert layers["value"].sum() == pytest.approx(gross.sum(), rel=1e-12)


@pytest.mark.parametrize("by,scope2", [("scope", "market"), ("scope", "location"),
                                       ("province", "market"), ("macro_region", "market")])
def test_wedges_by_scope_province_and_region_keep_the_total(run, by, scope2):
    e = run["emissions"]
    fig = plots.emission_wedges(e, by, scope2=scope2, top=3)
    ax = fig.axes[0]
    gross = by_year(e, "scope1_tco2") + by_year(e, f"scope2_{scope2}_tco2")
    np.testing.assert_allclose(stack_top(ax).to_numpy() * divisor(ax.get_ylabel()),
                               gross.to_numpy(), rtol=1e-9)
    assert f"{scope2}-based" in ax.get_ylabel()
    labels = [c.get_label() for c in ax.collections]
    if by == "province":
        assert len(labels) == 4 and labels[-1] == "other provinces"
    if by == "scope":
        assert labels == ["scope 1", f"scope 2 ({scope2}-based)"]


def test_wedges_reject_unknown_grouping(run):
    with pytest.raises(ValueError, match="cannot group by"):
        plots.emission_wedges(run["emissions"], "colour")


def test_an_industry_keeps_its_colour_across_figures(run):
    w = plots.emission_wedges(run["emissions"], "industry").axes[0]
    c = plots.certified_factories(run["certification"], by="industry").axes[2]
    for ax in (w, c):
        for coll in ax.collections:
            ind = {plots.label(k): k for k in plots.INDUSTRY_COLOURS}[coll.get_label()]
            assert to_hex(coll.get_facecolor()[0]) == to_hex(plots.INDUSTRY_COLOURS[ind])


# -- adoption and certification -------------------------------------------------------------------
def test_adoption_curves_are_shares_of_factories_and_capex_adds_up(run):
    a, cert, fin = run["adoption"], run["certification"], run["finance"]
    fig = plots.adoption_curves(a, cert)
    curves, capex = fig.axes
    assert "(%)" in curves.get_ylabel() and "bn CNY/yr" in capex.get_ylabel()
    total = by_year(cert, "firms")
    adopted = a.groupby("option").firms.sum()
    assert len(curves.get_lines()) == (adopted > 0).sum()
    for opt, part in a[a.option.isin(adopted[adopted > 0].index)].groupby("option"):
        colour = plots.OPTION_COLOURS[opt]
        ln = [ln for ln in curves.get_lines() if ln.get_label() == plots.label(opt)][0]
        assert to_hex(ln.get_color()) == to_hex(colour)
        np.testing.assert_allclose(ln.get_ydata(), 100 * by_year(part, "firms") / total, rtol=1e-9)
    heights = pd.Series(0.0, index=sorted(a["year"].unique()))
    for bar in capex.patches:
        heights[round(bar.get_x() + bar.get_width() / 2)] += bar.get_height()
    f = divisor(capex.get_ylabel())
    np.testing.assert_allclose(heights * f, by_year(fin, "capex_cny"), rtol=1e-9)
    # counts instead of shares without a population table
    ax = plots.adoption_curves(a, capex=False).axes[0]
    assert "factories" in ax.get_ylabel() and len(fig.axes) == 2


@pytest.mark.parametrize("by", ["wave", "industry"])
def test_certified_factories_add_up_to_the_table(run, by):
    c = run["certification"]
    fig = plots.certified_factories(c, by=by)
    tiers = c[list(plots.TIERS)].sum(axis=1)
    total = sum(stack_top(ax) * divisor(ax.get_ylabel()) for ax in fig.axes
                if ax.collections)
    np.testing.assert_allclose(total.to_numpy(), tiers.groupby(c["year"]).sum().to_numpy(), rtol=1e-9)
    assert all("certified factories" in ax.get_ylabel() for ax in fig.axes)
    if by == "wave":
        assert fig.axes[0].get_title().startswith("first wave: automobiles, lithium batteries")
        labels = [coll.get_label() for coll in fig.axes[0].collections]
        assert labels == ["green factories", "near-zero-carbon factories", "zero-carbon factories"]


def test_certified_share_stays_within_100_percent(run):
    fig = plots.certified_factories(run["certification"], share=True, title="all of China")
    assert fig._suptitle.get_text() == "all of China"
    assert fig.axes[1].get_title().startswith("other industries: textiles, steel")
    for ax in fig.axes:
        assert "%" in ax.get_ylabel()
        assert stack_top(ax).max() <= 100.0 + 1e-9


# -- provinces ------------------------------------------------------------------------------------
def test_province_map_colours_each_tile_by_its_value(run):
    e = run["emissions"]
    year = 2030
    fig = plots.province_map(e, "net_tco2", year)
    ax, cbar = fig.axes
    expect = e[e["year"] == year].groupby("province")["net_tco2"].sum()
    tiles = {p.get_gid(): p for p in ax.patches if isinstance(p, Rectangle)}
    assert set(tiles) == set(plots.PROVINCE_TILES) and len(tiles) == 31
    assert cbar.get_ylabel() == "net emissions (MtCO2/yr)"
    f = divisor(cbar.get_ylabel())
    scale = cbar._colorbar.mappable          # the colour bar's norm and colour map
    for prov, tile in tiles.items():
        if prov in expect.index:
            assert to_hex(tile.get_facecolor()) == to_hex(scale.to_rgba(expect[prov] / f))
        else:
            assert to_hex(tile.get_facecolor()) == "#eeeeee"
    texts = {t.get_gid(): t.get_text() for t in ax.texts}
    for prov in set(plots.PROVINCE_TILES) - set(expect.index):
        assert texts[prov].endswith("–")
    assert texts["Jiangsu"].endswith(plots._fmt(expect["Jiangsu"] / f))
    data = plots.plotted(fig)
    assert data.set_index("x")["value"].sort_index().equals(expect.sort_index())
    assert f"{year}" in ax.get_title()


def test_province_map_takes_a_series_and_refuses_to_sum_ratios(run):
    s = pd.Series({"Jiangsu": 3.0, "Qinghai": 1.0, "Guangdong": 2.0}, name="solar yield")
    fig = plots.province_map(s, unit="kWh/kW", log=True)
    assert fig.axes[1].get_ylabel() == "solar yield (kWh/kW)"
    with pytest.raises(ValueError, match="ratio"):
        plots.province_map(run["emissions"], "footprint_tco2_per_unit")
    with pytest.raises(ValueError, match="unknown provinces"):
        plots.province_map(pd.Series({"Atlantis": 1.0}))
    with pytest.raises(ValueError, match="different units"):    # tCO2/t with tCO2/vehicle
        plots.province_map(run["emissions"], "footprint_tco2_per_unit", agg="mean")
    steel = run["emissions"][run["emissions"].industry == "steel"]
    fig = plots.province_map(steel, "footprint_tco2_per_unit", agg="mean")
    assert "tCO2/t" in fig.axes[1].get_ylabel()


# -- offsets --------------------------------------------------------------------------------------
def test_offset_market_plots_prices_and_volumes_of_the_table(run):
    o = run["offsets"]
    fig = plots.offset_market(o)
    price, vol = fig.axes
    assert price.get_ylabel() == "clearing price (CNY/tCO2)"
    np.testing.assert_allclose(line(price, "national market"), o.set_index("year")["price_cny_per_tco2"])
    f = divisor(vol.get_ylabel())
    assert "MtCO2/yr" in vol.get_ylabel()
    np.testing.assert_allclose([b.get_height() * f for b in vol.patches], by_year(o, "volume_tco2"),
                               rtol=1e-9)
    np.testing.assert_allclose(line(vol, "issued") * f, o.set_index("year")["issued_tco2"], rtol=1e-9)


def test_offset_market_with_many_markets_does_not_sum_registry_totals(restricted):
    o = restricted["offsets"]
    assert o["market"].nunique() > 6
    fig = plots.offset_market(o)
    price, vol = fig.axes
    f = divisor(vol.get_ylabel())
    banked = o.groupby("year")["banked_tco2"].first()
    np.testing.assert_allclose(line(vol, "banked (stock at year end)") * f, banked, rtol=1e-9)
    np.testing.assert_allclose([b.get_height() * f for b in vol.patches], by_year(o, "volume_tco2"),
                               rtol=1e-9)
    traded = o[o["volume_tco2"] > 0]
    mean = ((traded.price_cny_per_tco2 * traded.volume_tco2).groupby(traded.year).sum()
            / traded.groupby("year").volume_tco2.sum())
    np.testing.assert_allclose(line(price, "volume-weighted mean"), mean)


@pytest.mark.parametrize("top", [None, 5])
def test_offset_flow_matrix_holds_every_tonne(run, top):
    flows = run["offset_flows"]
    fig = plots.offset_flows(flows, top=top)
    ax = fig.axes[0]
    cbar = fig.axes[1].get_ylabel()
    assert cbar.startswith("offsets sold (MtCO2, 2025-2032")
    shown = ax.images[0].get_array()
    assert shown.sum() * divisor(cbar) == pytest.approx(flows["tco2"].sum(), rel=1e-9)
    assert ax.get_ylabel() == "seller province" and ax.get_xlabel() == "buyer province"
    if top is None:
        assert shown.shape == (flows.seller_province.nunique(), flows.buyer_province.nunique())
    else:
        assert shown.shape[0] == 6 and ax.get_yticklabels()[-1].get_text() == "other"
    p = plots._provinces()
    west = flows.seller_province.map(p.macro_region).eq("west")
    coast = flows.buyer_province.map(p.coastal).astype(str).str.lower().eq("true")
    share = flows.tco2[west & coast].sum() / flows.tco2.sum()
    assert plots.west_to_coast_share(flows) == pytest.approx(share)
    assert f"{share:.0%} from western to coastal" in ax.get_title()


def test_flow_matrix_by_region_and_sellers_run_west_to_east(run):
    m = plots.flow_matrix(run["offset_flows"], group="macro_region")
    assert list(m.index) == [r for r in plots.MACRO_ORDER if r in m.index]
    assert m.to_numpy().sum() == pytest.approx(run["offset_flows"]["tco2"].sum())
    prov = plots.flow_matrix(run["offset_flows"])
    regions = prov.index.map(plots._provinces()["macro_region"])
    ranks = [plots.MACRO_ORDER.index(r) for r in regions]
    assert ranks == sorted(ranks)


def test_offset_figures_without_an_offset_market(tmp_path):
    scn = Scenario.load("no-offsets").replace({"population.firms": 300, "time.end_year": 2027})
    t = ZeroCarbonModel(scn, rng=1).run().results.tables()
    market = plots.offset_market(t["offsets"])
    assert [x.get_text() for x in market.axes[0].texts] == ["no offset market"]
    assert sum(b.get_height() for b in market.axes[1].patches) == 0.0
    flows = plots.offset_flows(t["offset_flows"])
    assert flows.axes[0].get_title() == "Offset flows: no offsets traded"
    names = [p.stem for p in plots.save_run_figures(t, tmp_path)]
    assert "offset_market" in names and "offset_flows" not in names


# -- scenarios ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scenarios():
    """Two scenarios on the same two seeds, emissions and summaries stacked with a seed column."""
    out, summaries = {}, {}
    for name in ("baseline", "no-offsets"):
        scn = Scenario.load(name).replace({"population.firms": 300, "time.end_year": 2029})
        runs = {seed: ZeroCarbonModel(scn, rng=seed).run() for seed in (1, 2)}
        out[name] = pd.concat([m.results.emissions.assign(seed=s) for s, m in runs.items()])
        summaries[name] = pd.concat([m.results.summary() for m in runs.values()])
    return out, summaries


def test_compare_scenarios_draws_means_over_seeds_and_differences(scenarios):
    tables, _ = scenarios
    fig = plots.compare_scenarios(tables, "net_tco2", reference="baseline")
    ax, dx = fig.axes
    f = divisor(ax.get_ylabel())
    assert "MtCO2/yr" in ax.get_ylabel() and "MtCO2/yr" in dx.get_ylabel()
    mean = {n: t.groupby(["seed", "year"]).net_tco2.sum().groupby("year").mean() for n, t in tables.items()}
    for name in tables:
        np.testing.assert_allclose(line(ax, name) * f, mean[name], rtol=1e-9)
    np.testing.assert_allclose(line(dx, "baseline"), 0.0)
    np.testing.assert_allclose(line(dx, "no-offsets") * f, mean["no-offsets"] - mean["baseline"],
                               rtol=1e-9, atol=1e-3)
    assert "mean of 2 runs" in ax.get_title()
    rel = plots.compare_scenarios(tables, "net_tco2", reference="baseline", relative=True).axes[1]
    np.testing.assert_allclose(line(rel, "no-offsets"),
                               100 * (mean["no-offsets"] / mean["baseline"] - 1), rtol=1e-9)
    assert "% of the reference" in rel.get_ylabel()


def test_compare_scenarios_takes_a_stacked_table_and_a_function(scenarios):
    tables, _ = scenarios
    stacked = pd.concat([t.assign(scenario=n) for n, t in tables.items()])
    def intensity(t):
        y = t.groupby("year")
        return y.net_tco2.sum() / y.output.sum()
    fig = plots.compare_scenarios(stacked, intensity, unit="tCO2/unit")
    assert "(tCO2/unit)" in fig.axes[0].get_ylabel()
    with pytest.raises(ValueError, match="ratio"):
        plots.compare_scenarios(tables, "footprint_tco2_per_unit")
    with pytest.raises(ValueError, match="reference"):
        plots.compare_scenarios(tables, "net_tco2", reference="nope")


def test_compare_summaries_bars_are_the_headline_figures(scenarios):
    _, summaries = scenarios
    fig = plots.compare_summaries(summaries, ["emissions cut", "zero-carbon factories"],
                                  reference="baseline")
    for ax, prefix in zip(fig.axes, ["emissions cut", "zero-carbon factories"]):
        for (name, s), bar in zip(summaries.items(), ax.patches):
            rows = s[s.metric.str.startswith(prefix)]
            assert bar.get_height() == pytest.approx(rows.value.mean())
            assert ax.get_ylabel() == rows.unit.iloc[0]
    # the wide table of sim.compare.compare works the same
    wide = pd.DataFrame({n: s.groupby(["metric", "unit"], sort=False).value.mean()
                         for n, s in summaries.items()})
    again = plots.compare_summaries(wide, ["emissions cut"])
    assert [b.get_height() for b in again.axes[0].patches] == \
        pytest.approx([b.get_height() for b in fig.axes[0].patches])
    with pytest.raises(ValueError, match="matches 2 headline figures"):
        plots.compare_summaries(summaries, ["net emissions"])


# -- many runs ------------------------------------------------------------------------------------
def synthetic_runs(n=101):
    """Run r has net_tco2 = r * 1e6 * (year - 2024) in each of two provinces."""
    rows = [(r, y, p, r * 1e6 * (y - 2024) / 2) for r in range(n) for y in (2025, 2026, 2027)
            for p in ("Jiangsu", "Qinghai")]
    return pd.DataFrame(rows, columns=["run", "year", "province", "net_tco2"])


def band(ax, i):
    """(lower, upper) edges of fill_between number ``i``, by x."""
    v = ax.collections[i].get_paths()[0].vertices
    s = pd.DataFrame(v, columns=["x", "y"]).groupby("x")["y"]
    return s.min(), s.max()


def test_fan_chart_shows_median_and_50_and_90_percent_bands():
    runs = synthetic_runs()
    fig = plots.fan_chart(runs, "net_tco2")
    ax = fig.axes[0]
    assert "MtCO2/yr" in ax.get_ylabel() and "101 runs" in ax.get_title()
    np.testing.assert_allclose(line(ax, "median"), [50, 100, 150])
    lo90, hi90 = band(ax, 0)
    lo50, hi50 = band(ax, 1)
    np.testing.assert_allclose(lo90, [5, 10, 15])
    np.testing.assert_allclose(hi90, [95, 190, 285])
    np.testing.assert_allclose(lo50, [25, 50, 75])
    np.testing.assert_allclose(hi50, [75, 150, 225])
    assert [c.get_label() for c in ax.collections] == ["90 % of runs (5-95)", "50 % of runs (25-75)"]


def test_fan_chart_from_a_statistics_table_and_several_fans():
    runs = synthetic_runs()
    q = runs.groupby(["run", "year"]).net_tco2.sum().groupby("year").quantile(
        [0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
    stats = q.set_axis(["q05", "q25", "q50", "q75", "q95"], axis=1).reset_index().assign(
        metric="net_tco2", n=101)
    ax = plots.fan_chart(stats, "net_tco2").axes[0]
    np.testing.assert_allclose(line(ax, "median"), [50, 100, 150])
    two = plots.fan_chart({"A": runs, "B": runs.assign(net_tco2=runs.net_tco2 * 2)}, "net_tco2").axes[0]
    np.testing.assert_allclose(line(two, "B: median"), [100, 200, 300])
    with pytest.raises(ValueError, match="run"):
        plots.fan_chart(runs.drop(columns="run"), "net_tco2")


def test_sensitivity_bars_with_confidence_intervals():
    tidy = pd.DataFrame({
        "output": "emissions.net_tco2@2035", "method": "sobol",
        "parameter": ["a", "a", "b", "b", "a x b"], "index": ["S1", "ST", "S1", "ST", "S2"],
        "value": [0.2, 0.3, 0.6, 0.65, 0.05], "conf": [0.05, 0.06, 0.1, 0.12, 0.01]})
    fig = plots.sensitivity_bars(tidy)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]     # largest ST on top
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    widths = {(c.get_label(), round(p.get_y() + p.get_height() / 2)): p.get_width()
              for c in bars for p in c.patches}
    assert widths[("ST", 1)] == 0.65 and widths[("S1", 0)] == 0.2
    err = {c.get_label(): c.errorbar.lines[2][0].get_segments() for c in bars}
    seg = err["ST"][1]
    assert seg[1][0] - seg[0][0] == pytest.approx(2 * 0.12)
    assert "confidence interval" in ax.get_xlabel() and "Sobol" in ax.get_xlabel()
    assert "emissions.net_tco2@2035" in ax.get_title()
    wide = pd.DataFrame({"parameter": ["a", "b"], "mu_star": [1e6, 3e6], "mu_star_conf": [2e5, 4e5],
                         "sigma": [1.0, 2.0]})
    m = plots.sensitivity_bars(wide, unit="tCO2").axes[0]
    assert [c.get_label() for c in m.containers if isinstance(c, BarContainer)] == ["mu_star"]
    assert "(tCO2)" in m.get_xlabel()
    with pytest.raises(ValueError, match="parameter"):
        plots.sensitivity_bars(pd.DataFrame({"x": [1]}))


# -- a run's figures and helpers ------------------------------------------------------------------
def test_save_run_figures_writes_the_main_pngs_and_closes_them(run, tmp_path):
    before = plt.get_fignums()
    paths = plots.save_run_figures(run, tmp_path)
    assert [p.stem for p in paths] == list(plots._RUN_FIGURES)
    assert all(p.stat().st_size > 10_000 for p in paths)
    assert plt.get_fignums() == before
    without = {k: v for k, v in run.items() if k not in ("offsets", "offset_flows")}
    assert len(plots.save_run_figures(without, tmp_path / "b")) == len(plots._RUN_FIGURES) - 2


def test_units_and_scales():
    assert plots.unit_of("net_tco2") == "tCO2" and plots.unit_of("cbam_cost_eur") == "EUR"
    assert plots.unit_of("footprint_tco2_per_unit") == "tCO2/unit"
    assert plots.unit_of("zero_carbon") == "factories"
    assert plots.scaled([2.5e9], "tCO2") == (1e6, "MtCO2")
    assert plots.scaled([2.5e9], "CNY") == (1e9, "bn CNY")
    assert plots.scaled([5e6], "CNY", at_least=10) == (1.0, "CNY")
    assert plots.scaled([50.0], "factories") == (1.0, "factories")
    assert plots.label("net_tco2") == "net emissions" and plots.label("solar_pv") == "solar PV"
    assert plots.is_ratio("price_cny_per_tco2") and not plots.is_ratio("net_tco2")
