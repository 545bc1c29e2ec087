"""``load(folder)``: a stored experiment (Monte Carlo, sweep or sensitivity) read back without
running anything; the folder is verified first (``RunStore.verify``) and its plan rebuilt from
the manifest, so a damaged or edited folder is refused with a message naming the file."""
from __future__ import annotations

from pathlib import Path

from zcf.experiments.engine import (ExperimentError, ExperimentResult, Plan, StoredTables,
                                    result_class)
from zcf.experiments.montecarlo import plan_monte_carlo
from zcf.experiments.sensitivity import plan_sensitivity
from zcf.experiments.store import RunStore, StoreError, jsonable
from zcf.experiments.sweep import plan_sweep
from zcf.sim.scenario import Scenario, ScenarioError


def load(folder: str | Path, output: str | None = None) -> ExperimentResult:
    """The results stored under ``folder`` (finished runs only), without running anything.

    For a sensitivity experiment, ``output`` (``TABLE.COLUMN@YEAR``) computes the indices.
    """
    store = RunStore(folder)
    try:
        man = store.verify()
        scn = Scenario(man["scenario"]["contents"], source=man["scenario"].get("source", "?"))
        plan = _replan(man, scn)
    except (StoreError, ScenarioError, KeyError, TypeError) as e:
        why = f"manifest.json lacks or garbles {e}" if isinstance(e, (KeyError, TypeError)) \
            else str(e)
        raise ExperimentError(f"{folder}: cannot be loaded: {why}") from None
    if jsonable(man["runs"]) != jsonable(plan.manifest()["runs"]):
        raise ExperimentError(f"{folder}: manifest.json's runs (seeds, values) differ from what "
                              "its kind, seed and plan give with this version of the package "
                              f"(made by {man.get('package', {}).get('version', '?')})")
    done = store.finished()
    plan.tasks = [t for t in plan.tasks if t.run in done]
    runs = [t.run for t in plan.tasks]
    result = result_class(plan)(plan=plan, tables=StoredTables(store, runs), path=Path(folder))
    if output is not None and plan.kind == "sensitivity":
        if len(runs) < plan.settings["design_runs"]:
            raise ExperimentError(f"{folder}: {len(runs)} of {plan.settings['design_runs']} runs "
                                  "finished; repeat the command to finish before analysing")
        result.analyse(output)
    return result


def _replan(man: dict, scn: Scenario) -> Plan:
    s, seed = man["plan"], man["seed"]
    if man["kind"] not in ("montecarlo", "sweep", "sensitivity"):
        raise ExperimentError(f"a {man['kind']} folder is not an experiment of runs to load; its "
                              "results are the files beside the manifest (for a calibration: "
                              "posterior.toml, posterior.csv, calibration.md)")
    if man["kind"] == "montecarlo":
        return plan_monte_carlo(scn, s["runs"], seed)
    if man["kind"] == "sweep":
        return plan_sweep(scn, s["grid"], s["runs_per_point"], seed)
    return plan_sensitivity(scn, s["method"], s["samples"], seed, s["second_order"],
                            s["num_levels"] or 4)
