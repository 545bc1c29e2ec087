"""``zcf dashboard [SCENARIO]``: serve the Mesa SolaraViz dashboard (``sim.dashboard``)."""
from __future__ import annotations

import importlib.util
import os
import sys


def cmd_dashboard(args) -> int:
    from zcf.sim.cliargs import UsageError, scenario_from_args
    from zcf.sim.dashboard import DEFAULT_FIRMS, FIRMS_ENV, SCENARIO_ENV, SEED_ENV
    if importlib.util.find_spec("solara") is None:
        raise UsageError("the dashboard needs the [viz] extra: pip install 'zcf-sim[viz]'")
    if args.firms is not None and args.firms < 1:
        raise UsageError(f"--firms must be >= 1, not {args.firms}")
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {args.port}")
    scenario_from_args(args.scenario)                # a bad scenario fails here, exit code 2
    from zcf.sim import dashboard_assets
    missing = dashboard_assets.missing()
    if missing:
        print(f"zcf: note: {', '.join(missing)} is not in {dashboard_assets.cdn_folder()}; the "
              "browser will fetch it from a public CDN (offline: python -m "
              "zcf.sim.dashboard_assets)", file=sys.stderr)
    env = {**os.environ, SCENARIO_ENV: args.scenario, FIRMS_ENV: str(args.firms or DEFAULT_FIRMS),
           SEED_ENV: str(args.seed)}
    cmd = [sys.executable, "-m", "solara", "run", "zcf.sim.dashboard:page", "--production",
           "--host", args.host, "--port", str(args.port), "--open" if args.open else "--no-open"]
    sys.stdout.flush()
    os.execve(sys.executable, cmd, env)        # the server replaces this process (Ctrl-C stops it)


def register(sub) -> None:
    s = sub.add_parser("dashboard", help="interactive dashboard in the browser (needs [viz])",
                       description="Serve the model in Mesa's SolaraViz: policy levers as "
                       "sliders (applied on Reset, same seed), a population-size choice, "
                       "Step/play, and live panels of emission wedges, certified factories, "
                       "the province map and the offset market. Stop it with Ctrl-C.")
    s.add_argument("scenario", nargs="?", default="jiangsu",
                   help="packaged name or path to a TOML file (default: jiangsu)")
    s.add_argument("--firms", type=int, help="firm agents to start with (default 2,000; the "
                   "dashboard offers others)")
    s.add_argument("--seed", type=int, default=0, help="model seed (default 0)")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any free one)")
    s.add_argument("--open", action="store_true", help="open a browser tab")
    s.set_defaults(fn=cmd_dashboard)
