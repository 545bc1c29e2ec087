"""The experiment store trusts no file: each kind of damage is noticed, resume runs the damaged
runs again (and says so), ``experiments.load`` refuses the folder naming the file."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zcf import experiments
from zcf.experiments.engine import ExperimentError
from zcf.experiments.store import FORMAT, RunStore, StoreWarning, manifest_checksum
from zcf.sim import Scenario

ROOT = Path(__file__).resolve().parents[1]
RUNS = 4
TINY = ('extends = "jiangsu"\nname = "tiny"\n[population]\nfirms = 60\n[time]\nend_year = 2026\n'
        '[uncertainty]\n"prices.eur_cny" = { dist = "uniform", loc = 7.4, scale = 0.8 }\n')


def quick_run(scenario, seed: int) -> dict:
    """A stand-in for the model (the store does not care what made the tables): fast."""
    rng = np.random.default_rng(seed)
    years = list(range(scenario.cfg.time.start_year, scenario.cfg.time.end_year + 1))
    emissions = pd.DataFrame({"year": years, "industry": "steel",
                              "net_tco2": rng.random(len(years)) * scenario.cfg.prices.eur_cny})
    return {"emissions": emissions, "other": emissions.assign(x=1.0)}


@pytest.fixture(scope="module")
def scn(scenario_file):
    return Scenario.load(scenario_file)


@pytest.fixture(scope="module")
def fresh(scn):
    return experiments.monte_carlo(scn, runs=RUNS, seed=5, workers=1, progress=False,
                                   run_fn=quick_run)


def make(scn, out):
    return experiments.monte_carlo(scn, runs=RUNS, seed=5, workers=1, progress=False, out=out,
                                   run_fn=quick_run)


def same(a, b):
    for name in b.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], obj=name)


def truncate(p: Path):
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def flip_byte(p: Path):
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0x01                   # same size, one bit changed
    p.write_bytes(bytes(data))


DAMAGE = {"truncated": truncate, "deleted": Path.unlink, "flipped byte": flip_byte,
          "emptied": lambda p: p.write_bytes(b"")}
FILES = {"table": "tables/emissions/run-000002.parquet", "marker": "runs/run-000002.parquet"}


@pytest.mark.parametrize("which", sorted(FILES))
@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_run_file_is_refused_by_load_and_run_again_by_resume(scn, fresh, tmp_path,
                                                                     which, damage):
    out = tmp_path / "mc"
    make(scn, out)
    DAMAGE[damage](out / FILES[which])
    with pytest.raises(ExperimentError) as e:
        experiments.load(out)
    assert FILES[which] in str(e.value) and "damaged" in str(e.value)
    with pytest.warns(StoreWarning, match=r"running 1 finished run\(s\) again .*run 2 \("):
        again = make(scn, out)
    assert again.resumed == RUNS - 1 and list(again.redone) == [2]
    same(again, fresh)
    same(experiments.load(out), fresh)            # the folder is whole again


def test_deleted_table_file_never_gives_statistics_over_fewer_runs(scn, tmp_path):
    out = tmp_path / "mc"
    make(scn, out)
    (out / "tables" / "other" / "run-000001.parquet").unlink()
    with pytest.raises(ExperimentError, match="tables/other/run-000001.parquet: missing"):
        experiments.load(out).summary("other")


def edit_manifest(out: Path, change):
    man = json.loads((out / "manifest.json").read_text())
    man = change(man)
    (out / "manifest.json").write_text(json.dumps(man) if not isinstance(man, str) else man)


@pytest.mark.parametrize("change, words", [
    (lambda m: {**m, "runs": [{**m["runs"][0], "seed": m["runs"][0]["seed"] + 1}, *m["runs"][1:]]},
     "edited or damaged"),
    (lambda m: {**m, "seed": 6}, "edited or damaged"),
    (lambda m: [], "not an experiment manifest (holds a JSON list"),
    (lambda m: "{", "damaged, not JSON"),
    (lambda m: {k: v for k, v in m.items() if k != "plan"}, "key 'plan' is missing"),
    (lambda m: {**m, "finished": "all"}, "key 'finished' is missing or not a dict"),
    (lambda m: {**m, "format": "zcf-experiment/1"}, "'zcf-experiment/1' results"),
])
def test_edited_or_damaged_manifest_is_refused(scn, tmp_path, change, words):
    out = tmp_path / "mc"
    make(scn, out)
    edit_manifest(out, change)
    with pytest.raises(ExperimentError, match="cannot be loaded") as e:
        experiments.load(out)
    assert words in str(e.value) and "manifest.json" in str(e.value)
    with pytest.raises(ExperimentError) as e:                      # nor resumed
        make(scn, out)
    assert words in str(e.value)


def test_manifest_checksum_ignores_formatting_but_not_content(scn, tmp_path):
    out = tmp_path / "mc"
    make(scn, out)
    man = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps(man, indent=7, sort_keys=True))
    assert experiments.load(out).runs["run"].tolist() == list(range(RUNS))
    assert man["format"] == FORMAT and man["checksum"] == manifest_checksum(man)
    assert set(man["finished"]) == {str(r) for r in range(RUNS)}
    rec = man["finished"]["2"]["tables/emissions/run-000002.parquet"]
    assert rec[0] == (out / "tables/emissions/run-000002.parquet").stat().st_size
    assert len(rec[1]) == 64


def test_damaged_stats_file_is_refused_by_load(scn, tmp_path):
    out = tmp_path / "mc"
    result = make(scn, out)
    RunStore(out).write_stats(result.stats())
    assert "stats/emissions.parquet" in json.loads((out / "manifest.json").read_text())["files"]
    experiments.load(out)
    flip_byte(out / "stats" / "emissions.parquet")
    with pytest.raises(ExperimentError, match="stats/emissions.parquet: contents differ"):
        experiments.load(out)


def test_cli_resume_says_it_runs_damaged_runs_again(scenario_file, tmp_path):
    out = tmp_path / "mc"
    cmd = [sys.executable, "-m", "zcf.sim.cli", "mc", str(scenario_file), "--runs", "2",
           "--workers", "1", "--out", str(out), "--quiet"]
    assert subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=600).returncode == 0
    truncate(out / "tables" / "emissions" / "run-000001.parquet")
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "zcf: warning:" in again.stderr and "run 1 (tables/emissions/run-000001.parquet" \
        in again.stderr and "Traceback" not in again.stderr
    assert "1 found finished" in again.stdout
    experiments.load(out)
