"""Kill `zcf mc` mid-experiment (SIGKILL, and Ctrl-C on a process pool), re-run, compare."""
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from zcf import experiments
from zcf.experiments.store import RunStore
from zcf.sim import Scenario

ROOT = Path(__file__).resolve().parents[1]
RUNS = 20
TINY = ('extends = "jiangsu"\nname = "tiny"\n[population]\nfirms = 200\n[time]\nend_year = 2026\n'
        '[uncertainty]\n"prices.eur_cny" = { dist = "uniform", loc = 7.4, scale = 0.8 }\n')


def command(scn, out, runs, workers):
    return [sys.executable, "-m", "zcf.sim.cli", "mc", str(scn), "--runs", str(runs), "--seed", "9",
            "--workers", str(workers), "--out", str(out), "--quiet"]


def start_and_stop(cmd, out, sig, at_least):
    """Start ``cmd``, send ``sig`` once ``at_least`` runs are finished; return (finished, proc)."""
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    store, deadline = RunStore(out), time.time() + 120
    while len(store.finished()) < at_least and proc.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    return store.finished(), proc, stderr


@pytest.fixture(scope="module")
def uninterrupted(scenario_file):
    return experiments.monte_carlo(Scenario.load(scenario_file), runs=RUNS, seed=9, workers=1,
                                   progress=False)


@pytest.mark.parametrize("sig, workers", [(signal.SIGKILL, 1), (signal.SIGINT, 2)])
def test_killed_experiment_resumes_to_identical_results(tmp_path, scenario_file, uninterrupted,
                                                        sig, workers):
    out = tmp_path / "mc"
    cmd = command(scenario_file, out, RUNS, workers)
    finished, proc, stderr = start_and_stop(cmd, out, sig, at_least=3)
    assert 3 <= len(finished) < RUNS, "the experiment ended before it could be interrupted"
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "interrupted" in stderr and "Traceback" not in stderr
    else:
        assert proc.returncode == -signal.SIGKILL
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "found finished" in again.stdout
    assert RunStore(out).finished() == set(range(RUNS))
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    resumed = experiments.load(out)
    assert sorted(resumed.tables) == sorted(uninterrupted.tables)
    for name in uninterrupted.tables:
        pd.testing.assert_frame_equal(resumed.tables[name], uninterrupted.tables[name], obj=name)
