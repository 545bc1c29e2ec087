"""Every command and code block of the README runs, on small populations.

Shell commands run in a temporary folder with their numbers made small by the rules in
``SMALL`` (each rule must apply, so the README and this test cannot drift apart unnoticed);
``--firms`` and ``--years`` are added where a command has none. TOML blocks are written as the
files the commands use, and the README's copy of a packaged scenario must match the shipped
file. Python blocks run as scripts there too."""
import re
import shlex
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from readme import README, blocks, python_blocks, shell_commands

ROOT = README.parent
FIRMS, YEARS = "600", "2025-2027"
# commands not run here, and why
ELSEWHERE = {
    "make run": "the set-up itself (CI and every developer run it)",
    "make test": "this test suite",
    "pip install -e '.[viz]'": "installing (make test installs the [viz] extra)",
    "zcf dashboard jiangsu --firms 2000": "a server: tests/test_dashboard.py drives it in Chromium",
}
# option -> small value (the README's own values are for real studies)
SMALL = {"--firms": FIRMS, "--runs": "2", "--runs-per-point": "1", "--seeds": "2",
         "--python-firms": "300"}
SAMPLES = {"sobol": "2", "morris": "2"}
TAKES_SCENARIO = {"run", "mc", "sweep", "sensitivity", "compare"}


def smaller(cmd: str) -> list[str]:
    """The command with small populations, few runs and few years."""
    args = shlex.split(cmd)
    assert args[0] == "zcf", cmd
    for i, a in enumerate(args[:-1]):
        if a in SMALL:
            args[i + 1] = SMALL[a]
        elif a == "--samples":
            args[i + 1] = SAMPLES[args[args.index("--method") + 1]]
    sub = args[1] if len(args) > 1 else ""
    years_needed = [int(y) for y in re.findall(r"@(\d{4})", cmd)]
    if sub in TAKES_SCENARIO:
        if "--firms" not in args:
            args += ["--firms", FIRMS if "--engine" not in args else "200"]
        end = max([2027, *years_needed])
        if "--years" in args:
            args[args.index("--years") + 1] = f"2025-{end}"
        else:
            args += ["--years", f"2025-{end}"]
        if sub in ("mc", "sweep", "sensitivity") and "--workers" not in args \
                and "--scheduler" not in args:
            args += ["--workers", "1"]
        if "--quiet" not in args:
            args.append("--quiet")
    if sub == "bench":
        args += [o for o in ("--firms", "2000", "--python-firms", "300") if o not in args]
    if sub == "calibrate":      # a short ABC-SMC (tests/test_calibrate.py checks what it finds)
        args += ["--population", "12", "--generations", "1", "--check-runs", "1", "--workers", "1",
                 "--quiet"]
    return args


def test_every_readme_command_is_run_or_covered_elsewhere():
    cmds = [c for _, c in shell_commands()]
    assert set(ELSEWHERE) <= set(cmds), "a command listed in ELSEWHERE left the README"
    assert all(c.startswith("zcf") for c in cmds if c not in ELSEWHERE), cmds


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A folder holding the README's files: factory.toml, high-ets.toml."""
    work = tmp_path_factory.mktemp("readme")
    files = {"One factory": "factory.toml", "Scenario files": "high-ets.toml"}
    for heading, lang, code in blocks():
        for key, name in files.items():
            if lang == "toml" and heading.startswith(key):
                (work / name).write_text(code)
    assert all((work / n).exists() for n in files.values())
    return work


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("zcf")
    return subprocess.run([str(exe), *args[1:]], cwd=cwd, capture_output=True, text=True,
                          timeout=900)


@pytest.mark.parametrize("cmd", [c for _, c in shell_commands() if c not in ELSEWHERE
                                 and "--scheduler" not in c])
def test_readme_command(cmd, folder):
    args = smaller(cmd)
    p = run(args, folder)
    assert p.returncode == 0, f"{shlex.join(args)}\n{p.stderr[-3000:]}"
    assert p.stdout.strip()


def test_readme_command_on_a_dask_cluster(folder):
    """The --scheduler example, sent to a LocalCluster on this machine instead."""
    distributed = pytest.importorskip("distributed", reason="--scheduler needs dask.distributed")
    (cmd,) = [c for _, c in shell_commands() if "--scheduler" in c]
    args = smaller(cmd)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        args[args.index("--scheduler") + 1] = cluster.scheduler_address
        p = run(args, folder)
    assert p.returncode == 0, p.stderr[-3000:]
    assert (folder / "results" / "big" / "manifest.json").exists()


def test_readme_scenario_files_load_and_match_the_packaged_ones(folder):
    from zcf.sim import Scenario
    high = Scenario.load(folder / "high-ets.toml")
    assert high.cfg.ets.price_cny_per_tco2[2030] == 200.0
    shown = next(tomllib.loads(code) for h, lang, code in blocks()
                 if lang == "toml" and 'name = "jiangsu-uncertain"' in code)
    shipped = tomllib.loads((ROOT / "sim" / "scenarios" / "jiangsu-uncertain.toml").read_text())
    assert {k: shipped[k] for k in shown} == shown          # the README shows the shipped file
    assert len(Scenario.load("jiangsu-uncertain").cfg.uncertainty) == 4


# Python blocks: README values for real studies -> small ones (each must apply)
PY_SMALL = {
    "Your own decision rule": [('rng=1, agent_class=SolarFirst', 'rng=1, firms=300, '
                                'agent_class=SolarFirst')],
    "From Python": [("runs=200", "runs=3"), ("runs_per_point=20", "runs_per_point=1"),
                    ("samples=64", "samples=2"),
                    ('"population.firms": 2000', '"population.firms": 300, "time.end_year": 2050')],
    # the README's call runs the national baseline (500,000 agents x 3 runs): a benchmark's size
    "`zcf validate [SCENARIO] [--firms N] [--seeds K] [--out DIR] [--report FILE.md]`": [
        ("import validate\n", "import validate\nfrom zcf.sim import Scenario\n"),
        ('validate("baseline", runs=3',
         'validate(Scenario.load("baseline").replace({"population.firms": 2000}), runs=3')],
}


@pytest.mark.parametrize("heading", list(python_blocks()))
def test_readme_python_block(heading, folder):
    code = python_blocks()[heading]
    for old, new in PY_SMALL.get(heading, []):
        assert old in code, f"README section {heading!r} no longer has {old!r}"
        code = code.replace(old, new)
    script = folder / f"block_{re.sub(r'\W+', '_', heading)}.py"
    # workers are started with spawn: the README says scripts need the main guard
    script.write_text("if __name__ == '__main__':\n" + textwrap.indent(code, "    ") +
                      "    print('block ok')\n")
    p = subprocess.run([sys.executable, script.name], cwd=folder, capture_output=True,
                       text=True, timeout=900)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "block ok" in p.stdout
