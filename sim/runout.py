"""What ``zcf run --out DIR`` writes: the tables, the headline summary, figures and a manifest.

Layout::

    DIR/TABLE.parquet     each results table, every row tagged with ``scenario`` and ``seed``
    DIR/summary.csv       headline figures (metric, value, unit)
    DIR/*.png|svg|pdf     the main figures (``plots.save_run_figures``)
    DIR/manifest.json     written last: what the run was (see ``manifest``)

The manifest has the same shape as an experiment's (``experiments.store``): the scenario (name,
source file, digest, merged contents), the seed, the package version, the command line, and
what was written. Every file is written under a temporary name and renamed into place.
Columns and units: docs/columns.md.
"""
from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import numpy as np

FORMAT = "zcf-run/1"
FIGURE_FORMATS = ("png", "svg", "pdf")
MONEY_BASIS = "real 2025 prices (CNY and EUR of 2025; no inflation applied)"


def model_seed(model) -> int | None:
    """The integer seed that reproduces ``model`` (``ZeroCarbonModel(scenario, rng=seed)``), or
    ``None`` when it was given a generator rather than a seed."""
    seed = getattr(model, "_seed", None)
    if seed is None:
        return None
    fresh = np.random.default_rng(seed).bit_generator.state
    return int(seed) if fresh == model._rng else None


def caption(model, seed: int | None) -> str:
    """'scenario jiangsu, seed 3, 2,000 firm agents (78,328 factories), 2025-2030'."""
    cfg = model.cfg
    seed_text = f"seed {seed}" if seed is not None else "seed: a generator"
    return (f"scenario {model.config.name}, {seed_text}, {model.firms.n:,} firm agents "
            f"({model.firms.weight.sum():,.0f} factories), {cfg.time.start_year}-"
            f"{min(model.year - 1, cfg.time.end_year)}")


def manifest(model, seed: int | None, command: list[str] | None, written: dict) -> dict:
    from zcf.experiments.engine import package_version
    scn = model.config
    return {
        "format": FORMAT, "kind": "run", "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "package": {"name": "zcf-sim", "version": package_version()},
        "scenario": {"name": scn.name, "source": scn.source, "digest": scn.digest(),
                     "contents": scn.raw},
        "seed": seed, "engine": model.engine, "firm_agents": int(model.firms.n),
        "factories": float(model.firms.weight.sum()),
        "years": [model.cfg.time.start_year, min(model.year - 1, model.cfg.time.end_year)],
        "command": shlex.join(sys.argv if command is None else command),
        "money": MONEY_BASIS, "columns": "docs/columns.md", "files": written,
    }


def write_run(model, folder: str | Path, *, seed: int | None = None,
              command: list[str] | None = None, figure_format: str = "png", dpi: int = 150,
              with_caption: bool = False, figures: bool = True) -> dict[str, list[str]]:
    """Write the run's tables (tagged with scenario and seed), summary, figures and manifest.

    ``seed`` defaults to ``model_seed(model)``; ``command`` to ``sys.argv``. Returns the files
    written by kind (relative to ``folder``), as the manifest lists them."""
    from zcf.experiments.runner import tag
    from zcf.experiments.store import write_json_atomic, write_parquet_atomic
    from zcf.sim.plots import save_run_figures
    if figure_format not in FIGURE_FORMATS:
        raise ValueError(f"figure format must be one of {', '.join(FIGURE_FORMATS)}, not "
                         f"{figure_format!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    seed = model_seed(model) if seed is None else seed
    tables = model.results.tables()
    ids = {"scenario": model.config.name, "seed": seed}
    written: dict[str, list[str]] = {"tables": [], "figures": []}
    for name, df in tables.items():
        write_parquet_atomic(tag(df, ids), folder / f"{name}.parquet")
        written["tables"].append(f"{name}.parquet")
    summary = model.results.summary(tables)
    tmp = folder / ".summary.csv.tmp"
    tag(summary, ids).to_csv(tmp, index=False)
    tmp.replace(folder / "summary.csv")
    written["summary"] = ["summary.csv"]
    if figures:
        paths = save_run_figures(tables, folder, dpi=dpi, formats=(figure_format,),
                                 caption=caption(model, seed) if with_caption else None)
        written["figures"] = [p.name for p in paths]
    write_json_atomic(manifest(model, seed, command, written), folder / "manifest.json")
    return written


def add_output_options(parser) -> None:
    """``--format``, ``--dpi`` and ``--caption`` of ``zcf run``."""
    parser.add_argument("--format", choices=FIGURE_FORMATS, default="png", dest="figure_format",
                        help="figure file format under --out (default png)")
    parser.add_argument("--dpi", type=int, default=150,
                        help="resolution of PNG figures and of raster parts of SVG/PDF "
                             "(default 150)")
    parser.add_argument("--caption", action="store_true",
                        help="print scenario, seed and population under every figure")


def check_output_options(args, usage_error: type) -> None:
    if not 10 <= args.dpi <= 2400:
        raise usage_error(f"--dpi must be between 10 and 2400, not {args.dpi}")
    if not args.out and (args.caption or args.figure_format != "png" or args.dpi != 150):
        raise usage_error("--format, --dpi and --caption need --out DIR (where figures go)")
