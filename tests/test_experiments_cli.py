"""`zcf mc`, `zcf sweep`, `zcf sensitivity` end to end on tiny populations, and their errors."""
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ('extends = "jiangsu"\nname = "tiny"\n[population]\nfirms = 200\n[time]\nend_year = 2026\n'
        '[uncertainty]\n"prices.eur_cny" = { dist = "uniform", loc = 7.4, scale = 0.8 }\n'
        '"ets.price_cny_per_tco2.2030" = { dist = "lognorm", s = 0.3, scale = 130 }\n')


def zcf(*args):
    p = subprocess.run([sys.executable, "-m", "zcf.sim.cli", *map(str, args)], capture_output=True,
                       text=True, cwd=ROOT, timeout=300)
    return p.returncode, p.stdout, p.stderr


def test_mc_writes_dataset_manifest_stats_and_fan_charts(scenario_file, tmp_path):
    out = tmp_path / "mc"
    code, stdout, stderr = zcf("mc", scenario_file, "--runs", 3, "--seed", 5, "--workers", 1,
                               "--out", out, "--plot", "--quiet")
    assert code == 0, stderr
    assert "net emissions over 3 runs" in stdout and "q95" in stdout
    man = json.loads((out / "manifest.json").read_text())
    assert man["kind"] == "montecarlo" and man["seed"] == 5 and len(man["runs"]) == 3
    emis = pd.read_parquet(out / "tables" / "emissions")
    assert sorted(emis["run"].unique()) == [0, 1, 2] and {"seed", "year", "net_tco2"} <= set(emis)
    stats = pd.read_parquet(out / "stats" / "emissions.parquet")
    assert {"year", "industry", "province", "metric", "mean", "sd", "q05", "q50", "q95"} <= set(stats)
    assert (out / "figures" / "fan_emissions.png").stat().st_size > 5000
    code, stdout, _ = zcf("mc", scenario_file, "--runs", 3, "--seed", 5, "--workers", 1,
                          "--out", out, "--quiet")
    assert code == 0 and "3 found finished" in stdout


def test_sensitivity_writes_indices_and_bar_chart(scenario_file, tmp_path):
    out = tmp_path / "sa"
    code, stdout, stderr = zcf("sensitivity", scenario_file, "--method", "morris", "--samples", 2,
                               "--output", "emissions.net_tco2@2026", "--workers", 1, "--out", out,
                               "--quiet")
    assert code == 0, stderr
    assert "mu_star" in stdout and "prices.eur_cny" in stdout
    ind = pd.read_csv(out / "indices.csv")
    assert set(ind["index"]) == {"mu_star", "sigma", "mu"} and len(ind) == 6
    assert (out / "figures" / "sensitivity.png").stat().st_size > 5000


@pytest.mark.parametrize("args, words", [
    (["mc", "{scn}", "--runs", "2", "--plot"], ["--plot needs --out"]),
    (["mc", "{scn}", "--runs", "0"], ["--runs must be >= 1"]),
    (["mc", "{scn}", "--runs", "2", "--workers", "0"], ["--workers must be >= 1"]),
    (["mc", "{scn}", "--runs", "2", "--workers", "1", "--scheduler", "tcp://x:1"],
     ["not allowed with argument"]),
    (["sensitivity", "{scn}", "--samples", "6", "--output", "emissions.net_tco2@2026"],
     ["power of 2"]),
    (["sensitivity", "{scn}", "--samples", "4", "--output", "emissions@2026"], ["TABLE.COLUMN"]),
    (["sensitivity", "jiangsu", "--samples", "4", "--output", "emissions.net_tco2@2026"],
     ["no [uncertainty] section"]),
    (["mc", "{bad}", "--runs", "2"], ["{bad}", "uncertainty.prices.eur_cny", "unknown distribution",
                                      "lognorm"]),
])
def test_bad_input_exits_2_with_one_clear_line(scenario_file, tmp_path, args, words):
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.replace('"uniform"', '"uniformly"'))
    fill = {"scn": scenario_file, "bad": bad}
    code, _, stderr = zcf(*[a.format(**fill) for a in args], "--quiet")
    assert code == 2 and "Traceback" not in stderr
    for w in words:
        assert w.format(**fill) in stderr, stderr


def test_other_experiment_in_the_folder_exits_2(scenario_file, tmp_path):
    out = tmp_path / "mc"
    assert zcf("mc", scenario_file, "--runs", 1, "--workers", 1, "--out", out, "--quiet")[0] == 0
    code, _, stderr = zcf("mc", scenario_file, "--runs", 1, "--workers", 1, "--out", out,
                          "--firms", 150, "--quiet")
    assert code == 2 and "different scenario" in stderr and "Traceback" not in stderr


def test_help_of_every_subcommand(capsys):
    from zcf.sim.cli import build_parser
    for cmd in ("mc", "sweep", "sensitivity", "bench-mc"):
        with pytest.raises(SystemExit) as e:
            build_parser().parse_args([cmd, "--help"])
        assert e.value.code == 0 and "--workers" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sensitivity", "--help"])
    assert "TABLE.COLUMN@YEAR" in capsys.readouterr().out
