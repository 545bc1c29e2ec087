"""``zcf footprints``: a product's cradle-to-gate footprint waterfall and the footprints of an
industry's factories against its buyer threshold, for one scenario, year and province."""
from __future__ import annotations

import argparse


def cmd_footprints(args) -> int:
    import matplotlib.pyplot as plt

    from zcf.sim.cliargs import UsageError, check_count, check_out_folder, scenario_from_args
    from zcf.sim.footprints import firm_footprints, waterfall
    from zcf.sim.plots import footprint_distribution, footprint_waterfall
    from zcf.sim.running import run_model
    check_count("--firms", args.firms)
    out = check_out_folder(args.out)
    scn = scenario_from_args(args.scenario, args.firms)
    start = scn.cfg.time.start_year
    if not start <= args.year <= scn.cfg.time.end_year:
        raise UsageError(f"--year must be within the scenario's years {start}-{scn.cfg.time.end_year}")
    scn = scn.replace({"time.end_year": args.year})
    model = run_model(scn, args.seed, progress=not args.quiet)
    ids = model.data.industry_ids
    if args.industry not in ids:
        raise UsageError(f"--industry {args.industry!r}; allowed: {', '.join(ids)}")
    if args.province is not None and args.province not in model.data.province_names:
        raise UsageError(f"--province {args.province!r}; allowed: "
                         f"{', '.join(model.data.province_names)}")
    k = ids.index(args.industry)
    ip = model.params.ind_now
    threshold = float(ip["buyer_threshold_tco2_per_unit"][k])
    basis = "cradle_to_gate" if ip["buyer_basis_c2g"][k] > 0 else "factory"
    f, i = model.results.footprints, model.results.footprint_inputs
    try:
        steps = waterfall(f, i, args.industry, args.year, args.province)
    except ValueError as e:
        raise UsageError(str(e)) from None
    out.mkdir(parents=True, exist_ok=True)
    figs = {"footprint_waterfall": footprint_waterfall(
                f, i, args.industry, args.year, args.province,
                threshold=threshold if basis == "cradle_to_gate" else None),
            "footprint_distribution": footprint_distribution(
                firm_footprints(model, args.industry), threshold, basis=basis)}
    for name, fig in figs.items():
        fig.savefig(out / f"{name}.{args.figure_format}", dpi=150, bbox_inches="tight")
        plt.close(fig)
    for name, v in steps.items():
        print(f"{name[:60]:60s} {v:,.6g}")
    print(f"{'cradle to gate':60s} {steps.sum():,.6g}")
    print(f"wrote {out}/footprint_waterfall.{args.figure_format} and "
          f"footprint_distribution.{args.figure_format}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("footprints", help="product footprint waterfall and distribution figures")
    s.add_argument("scenario", help="packaged name or path to a TOML file")
    s.add_argument("--industry", required=True, help="product (industry id), e.g. lithium_batteries")
    s.add_argument("--year", type=int, required=True, help="year of the figures (the run stops there)")
    s.add_argument("--province", help="province of the waterfall (default: national average)")
    s.add_argument("--firms", type=int, help="number of firm agents (default: the scenario's)")
    s.add_argument("--seed", type=int, default=0, help="model seed (default 0)")
    s.add_argument("--out", required=True, help="folder for the two figures")
    s.add_argument("--figure-format", choices=("png", "svg", "pdf"), default="png",
                   help="figure file format (default png)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(fn=cmd_footprints)
