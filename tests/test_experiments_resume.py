"""Interrupt `zcf mc` mid-experiment (SIGKILL in-process, Ctrl-C and SIGKILL on a process pool),
re-run, compare. Deterministic: runs beyond the third wait at a gate (``tests/gate.py``), so the
test knows exactly which runs finished when it interrupts, whatever the machine's load."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from gate import waiting_pids
from zcf import experiments
from zcf.experiments.store import RunStore
from zcf.sim import Scenario

ROOT = Path(__file__).resolve().parents[1]
GATE_SCRIPT = Path(__file__).with_name("gate.py")
RUNS, OPEN = 8, 3
PATIENCE_S = 300     # only a hang takes this long: the waits below end on events, not on time
TINY = ('extends = "jiangsu"\nname = "tiny"\n[population]\nfirms = 200\n[time]\nend_year = 2026\n'
        '[uncertainty]\n"prices.eur_cny" = { dist = "uniform", loc = 7.4, scale = 0.8 }\n')


def args(scn, out, workers):
    return ["mc", str(scn), "--runs", str(RUNS), "--seed", "9", "--workers", str(workers),
            "--out", str(out), "--quiet"]


def wait_for(condition, what):
    deadline = time.monotonic() + PATIENCE_S
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")          # an orphan's zombie is dead, merely not reaped


def communicate(proc):
    """``proc.communicate()``, ending the process if it hangs (so no test leaves one behind)."""
    try:
        return proc.communicate(timeout=PATIENCE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise


def start_gated(cmd_args, gate: Path, workers: int):
    """Start ``zcf`` through the gate; return once OPEN runs are finished and the others wait."""
    gate.mkdir()
    env = {**os.environ, "ZCF_TEST_GATE": str(gate), "ZCF_TEST_GATE_OPEN": str(OPEN)}
    proc = subprocess.Popen([sys.executable, str(GATE_SCRIPT), *cmd_args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = Path(cmd_args[cmd_args.index("--out") + 1])
    try:
        wait_for(lambda: proc.poll() is not None or (
            len(RunStore(out).finished()) == OPEN and len(waiting_pids(gate)) >= min(workers, 2)),
            f"{OPEN} finished runs and the others waiting")
    except AssertionError:
        proc.kill()
        raise
    assert proc.poll() is None, proc.communicate()[1]
    return proc, out


@pytest.fixture(scope="module")
def uninterrupted(scenario_file):
    return experiments.monte_carlo(Scenario.load(scenario_file), runs=RUNS, seed=9, workers=1,
                                   progress=False)


@pytest.mark.parametrize("sig, workers", [(signal.SIGKILL, 1), (signal.SIGINT, 2)])
def test_interrupted_experiment_resumes_to_identical_results(tmp_path, scenario_file,
                                                             uninterrupted, sig, workers):
    cmd = args(scenario_file, tmp_path / "mc", workers)
    proc, out = start_gated(cmd, tmp_path / "gate", workers)
    workers_waiting = waiting_pids(tmp_path / "gate")
    proc.send_signal(sig)
    _, stderr = communicate(proc)
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "interrupted" in stderr and "Traceback" not in stderr
        assert not any(alive(p) for p in workers_waiting)    # stopped, not waited for
    else:
        assert proc.returncode == -signal.SIGKILL
    finished = RunStore(out).finished()     # which runs depends on the finishing order
    assert len(finished) == OPEN and finished < set(range(RUNS))

    again = subprocess.run([sys.executable, "-m", "zcf.sim.cli", *cmd], cwd=ROOT,
                           capture_output=True, text=True, timeout=PATIENCE_S)
    assert again.returncode == 0, again.stderr
    assert f"{OPEN} found finished" in again.stdout
    assert RunStore(out).finished() == set(range(RUNS))
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    resumed = experiments.load(out)
    assert sorted(resumed.tables) == sorted(uninterrupted.tables)
    for name in uninterrupted.tables:
        pd.testing.assert_frame_equal(resumed.tables[name], uninterrupted.tables[name], obj=name)


def test_kill_9_ends_the_worker_processes_too(tmp_path, scenario_file):
    proc, out = start_gated(args(scenario_file, tmp_path / "mc", 2), tmp_path / "gate", 2)
    workers = waiting_pids(tmp_path / "gate")
    assert workers and proc.pid not in workers and all(alive(p) for p in workers)
    proc.kill()
    communicate(proc)
    wait_for(lambda: not any(alive(p) for p in workers), "the orphaned workers to exit")
    assert len(RunStore(out).finished()) == OPEN


def test_a_second_process_cannot_write_a_folder_in_use(tmp_path, scenario_file):
    proc, out = start_gated(args(scenario_file, tmp_path / "mc", 1), tmp_path / "gate", 1)
    try:
        other = subprocess.run([sys.executable, "-m", "zcf.sim.cli",
                                *args(scenario_file, out, 1)], cwd=ROOT, capture_output=True,
                               text=True, timeout=PATIENCE_S)
        assert other.returncode == 2 and "Traceback" not in other.stderr
        assert "being written by another zcf process" in other.stderr
        assert f"pid {proc.pid}" in other.stderr
    finally:
        (tmp_path / "gate" / "open").touch()
        communicate(proc)
    assert proc.returncode == 0
    assert RunStore(out).finished() == set(range(RUNS))
