"""Results never depend on the number of kernel threads (populations above the 20,000 firms
under which loops run on one thread)."""
import numpy as np
import pandas as pd
import pytest

from zcf import ext
from zcf.sim import Scenario, ZeroCarbonModel


@pytest.mark.parametrize("overrides", [{}, {"offsets.scope": "own_region",
                                            "green_power.transmission": False}])
def test_one_and_two_threads_give_identical_runs(overrides):
    scn = Scenario.load("baseline").replace({"population.firms": 25_000, "time.end_year": 2033,
                                             **overrides})
    runs = []
    try:
        for threads in (1, 2):
            ext.set_threads(threads)
            m = ZeroCarbonModel(scn, rng=11).run()
            s = m.firms
            runs.append((m.results.tables(), [x.copy() for x in (s.effects, s.qty, s.acc, s.fin,
                                                                 s.tier, s.cap,
                                                                 s.next_event, s.installed)]))
    finally:
        ext.set_threads(0)
    (t1, a1), (t2, a2) = runs
    assert (a1[5] > 0).sum() > 5_000                      # plenty of options installed
    for name in t1:
        pd.testing.assert_frame_equal(t1[name], t2[name], check_exact=True)
    for x, y in zip(a1, a2):
        np.testing.assert_array_equal(x, y)


def test_set_threads_rejects_negative_counts():
    with pytest.raises(ValueError, match="threads"):
        ext.set_threads(-1)


def test_importing_the_kernels_leaves_the_openmp_policy_to_the_user():
    """No OMP_WAIT_POLICY (or any other variable) is set by importing and running the model."""
    import os
    import subprocess
    import sys
    code = ("import os; before = dict(os.environ)\n"
            "from zcf.sim import ZeroCarbonModel\n"
            "ZeroCarbonModel('jiangsu', rng=1, firms=200).run_for(1)\n"
            "changed = {k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k)}\n"
            "print(sorted(changed))")
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    assert "OMP_WAIT_POLICY" not in p.stdout
