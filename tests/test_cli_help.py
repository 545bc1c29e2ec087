"""The command line documents itself: --version, and help text for every command and option."""
import argparse
import subprocess
import sys

import zcf
from zcf.sim.cli import build_parser


def _subcommands(parser: argparse.ArgumentParser):
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help for c in action._choices_actions}
    return [(name, sub, helps.get(name)) for name, sub in action.choices.items()]


def test_every_command_and_option_has_help():
    parser = build_parser()
    missing = []
    for name, sub, text in _subcommands(parser):
        if not text:
            missing.append(f"zcf {name}")
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if not (action.help or "").strip():
                missing.append(f"zcf {name} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, "no help text: " + ", ".join(missing)
    assert {"run", "scenarios", "account", "bench", "compare", "dashboard", "mc", "sweep",
            "sensitivity", "bench-mc"} <= {n for n, _, _ in _subcommands(parser)}


def test_version():
    p = subprocess.run([sys.executable, "-m", "zcf.sim.cli", "--version"], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0 and p.stdout.strip() == f"zcf {zcf.__version__}"
    assert zcf.__version__ != "0+unknown"


def test_bench_end_to_end_run_uses_the_firms_asked_for():
    from zcf.sim.bench import end_to_end_command
    from zcf.sim.cli import build_parser
    args = build_parser().parse_args(["bench", "--firms", "1234"])
    cmd = end_to_end_command(args.firms)
    assert cmd[cmd.index("--firms") + 1] == "1234" and "baseline" in cmd
