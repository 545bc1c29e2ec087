"""A run function that stops at a gate, for tests that interrupt an experiment deterministically.

``gated(scenario, seed)`` runs the model like the default run function, then takes a numbered
ticket in the folder ``$ZCF_TEST_GATE``: the first ``$ZCF_TEST_GATE_OPEN`` runs return at once,
every later one writes ``waiting-<ticket>`` (holding its process id) and waits until the file
``open`` appears. A test thus knows exactly how many runs can finish before it interrupts.

``python tests/gate.py ARGS...`` is ``zcf ARGS...`` with Monte Carlo runs going through
``gated`` (in worker processes too: they import this module by name).
"""
import os
import signal
import sys
import time
from pathlib import Path

from zcf.experiments.runner import model_tables


def _ticket(gate: Path) -> int:
    i = 0
    while True:
        try:
            os.close(os.open(gate / f"ticket-{i}", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            return i
        except FileExistsError:
            i += 1


def gated(scenario, seed: int) -> dict:
    tables = model_tables(scenario, seed)
    gate = Path(os.environ["ZCF_TEST_GATE"])
    ticket = _ticket(gate)
    if ticket >= int(os.environ["ZCF_TEST_GATE_OPEN"]):
        tmp = gate / f".waiting-{ticket}"
        tmp.write_text(str(os.getpid()))
        tmp.rename(gate / f"waiting-{ticket}")       # appears with its contents
        while not (gate / "open").exists():
            time.sleep(0.01)
    return tables


def waiting_pids(gate: Path) -> list[int]:
    """Process ids of the runs waiting at the gate."""
    return [int(p.read_text()) for p in gate.glob("waiting-*")]


if __name__ == "__main__":
    # Ctrl-C raises KeyboardInterrupt as in a terminal, also when the suite itself runs as a
    # background job (``make test &``), whose children start with SIGINT ignored
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from zcf.experiments import montecarlo
    plan = montecarlo.plan_monte_carlo
    montecarlo.plan_monte_carlo = \
        lambda scn, runs, seed=0, run_fn=None: plan(scn, runs, seed, gated)
    from zcf.sim.cli import main
    sys.exit(main(sys.argv[1:]))
