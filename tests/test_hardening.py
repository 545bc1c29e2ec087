"""One regression test for each failure listed in issue 15 (inputs, messages, outside faults).

Most call ``zcf``'s ``main()`` in this process (a traceback would escape it and fail the test);
a few start the real command. The experiment store's damage cases are in
``test_experiments_store.py``, interruption and resume in ``test_experiments_resume.py``.
"""
import errno
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from fuzzing import call_main, strict_json, to_toml
from zcf.sim import Scenario, ScenarioError, ZeroCarbonModel

ROOT = Path(__file__).resolve().parents[1]
FACTORY = {"industry": "steel", "province": "Hebei", "year": 2030, "output": 1_000_000.0,
           "fuels": {"coal_t": 400_000.0}, "electricity": {"grid_mwh": 300_000.0},
           "process": {"process_tco2": 100_000.0}, "exports": {"eu_output": 100_000.0}}
SMALL = ["--firms", "60", "--years", "2025-2026", "--quiet"]


def zcf(*argv):
    code, out, err, tb = call_main([str(a) for a in argv])
    assert tb is None, tb
    return code, out, err


def refused(code, err, *words):
    assert code == 2, err
    assert err.startswith("zcf: error:") and "Traceback" not in err
    for w in words:
        assert str(w) in err, err
    return err


def factory(tmp_path, **changes) -> Path:
    doc = json.loads(json.dumps(FACTORY))
    for key, value in changes.items():
        *parents, last = key.split("__")
        node = doc
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    path = tmp_path / "factory.toml"
    path.write_text(to_toml(doc))
    return path


def scenario(tmp_path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# -- file-reading errors (were tracebacks) --------------------------------------------------------
@pytest.mark.parametrize("command", ["account", "run"])
def test_unreadable_inputs_are_one_line_errors(tmp_path, command, monkeypatch):
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'name = "caf\xe9"\n')
    loop = tmp_path / "loop.toml"
    loop.symlink_to(tmp_path / "loop2.toml")
    (tmp_path / "loop2.toml").symlink_to(loop)
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 2000 + "]" * 2000 + "\n")
    long_name = tmp_path / ("n" * 300 + ".toml")
    cases = [(bad, "not UTF-8 text (byte 0xe9"), (tmp_path, "is a folder, not a file"),
             ("", "empty"), (loop, "Too many levels of symbolic links"),
             (long_name, "File name too long"), (deep, "nested too deeply"),
             ("/dev/zero", "is not a regular file")]
    for path, words in cases:
        code, _, err = zcf(command, path, *(SMALL if command == "run" else ["--json"]))
        refused(code, err, words, "allowed")
        assert len(err.strip().splitlines()) == 1


def test_deep_nesting_is_refused_before_the_recursive_parser_runs(tmp_path, monkeypatch):
    """The fuzz campaign once saw a traceback printed beside the refusal of a file nested 20,000
    deep (a RecursionError deep inside tomllib): such a file never reaches the parser now."""
    from zcf.sim import files

    def parser_must_not_run(text):
        raise AssertionError("tomllib was given a file nested too deeply")
    deep = tmp_path / "deep.toml"
    deep.write_bytes(to_toml(FACTORY).encode() + b"deep = " + b"[" * 20000 + b"]" * 20000 + b"\n")
    monkeypatch.setattr(files.tomllib, "loads", parser_must_not_run)
    code, _, err = zcf("account", deep, "--json")
    refused(code, err, str(deep), "nested too deeply (20000 levels)", "allowed: at most 16")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_brackets_in_strings_and_comments_are_not_nesting(tmp_path):
    from zcf.sim.files import MAX_DEPTH, bracket_depth
    text = ('description = "' + "[" * 40 + '" # ' + "{" * 40 + "\n"
            "label = '" + "[" * 40 + "'\n" + 'note = """\n' + "{" * 40 + '\\"""\n"""\n'
            'x = [[1, 2], [3]]\n')
    assert bracket_depth(text) == 2 < MAX_DEPTH
    f = tmp_path / "s.toml"
    f.write_text('extends = "jiangsu"\ndescription = "' + "[" * 40 + '"  # ' + "[" * 40 + "\n")
    assert Scenario.load(f).cfg.description == "[" * 40


def test_unreadable_file_names_file_and_says_what_is_allowed(tmp_path, monkeypatch):
    path = factory(tmp_path)
    if os.geteuid() != 0:
        path.chmod(0)
    else:                                   # root reads anything: make the read fail as it would
        from zcf.sim import files
        real = open

        def no_permission(p, *a, **kw):
            if Path(p) == path:
                raise PermissionError(errno.EACCES, "Permission denied", str(p))
            return real(p, *a, **kw)
        monkeypatch.setattr(files, "open", no_permission, raising=False)
    refused(*zcf("account", path)[::2], path, "cannot be read (Permission denied)", "allowed")


def test_extends_is_read_beside_the_file_and_its_errors_name_file_and_key(tmp_path, monkeypatch):
    sub = tmp_path / "sub"
    sub.mkdir()
    scenario(sub, 'extends = "jiangsu"\n[population]\nfirms = 77\n', "parent.toml")
    child = scenario(sub, 'extends = "parent.toml"\n')
    monkeypatch.chdir(tmp_path)                       # not the folder of the files
    assert Scenario.load(child).cfg.population.firms == 77
    scenario(tmp_path, 'extends = "jiangsu"\n[population]\nfirms = 11\n', "parent.toml")
    assert Scenario.load(child).cfg.population.firms == 77    # never the current folder's
    for ref, words in [("/", "is a folder"), ("nowhere", "no scenario 'nowhere'"),
                       ("missing.toml", "no such file"), ("", "is empty"), (5, "a string")]:
        path = scenario(sub, to_toml({"extends": ref}))
        with pytest.raises(ScenarioError) as e:
            Scenario.load(path)
        assert str(path) in str(e.value) and "key 'extends'" in str(e.value)
        assert words in str(e.value) and "allowed" in str(e.value)


def test_unreadable_parent_names_the_child_and_key(tmp_path, monkeypatch):
    parent = scenario(tmp_path, 'extends = "jiangsu"\n', "parent.toml")
    parent.write_bytes(b"\xff\xfe")
    child = scenario(tmp_path, 'extends = "parent.toml"\n')
    code, _, err = zcf("run", child, *SMALL)
    refused(code, err, f"{child}: key 'extends': '{parent}': is not UTF-8")


# -- selections and cross-field rules (were tracebacks) -------------------------------------------
def test_selection_without_factories_is_refused_with_what_exists(tmp_path):
    path = scenario(tmp_path, 'extends = "baseline"\n[population]\nprovinces = ["Tibet"]\n'
                              'industries = ["steel"]\n')
    code, _, err = zcf("run", path, *SMALL)
    refused(code, err, path, "key 'population'", "hold no factories", "allowed", "cement")


def test_low_above_high_is_refused(tmp_path):
    path = scenario(tmp_path, 'extends = "baseline"\n[certification]\nresource_score_low = 0.8\n'
                              'resource_score_high = 0.5\n')
    refused(*zcf("run", path, *SMALL)[::2], "certification.resource_score_low", "allowed: <=")


def test_uncertain_low_and_high_may_not_cross(tmp_path):
    path = scenario(tmp_path, 'extends = "jiangsu"\n[uncertainty]\n'
                    '"certification.resource_score_low" = '
                    '{ dist = "uniform", loc = 0.2, scale = 0.75 }\n')
    with pytest.raises(ScenarioError, match="can draw .* together") as e:
        Scenario.load(path)
    assert "resource_score_high" in str(e.value)


@pytest.mark.parametrize("argv, words", [
    (["run", "jiangsu", "--seed", "-1"], ["--seed", ">= 0"]),
    (["compare", "jiangsu", "no-cbam", "--seeds", "0"], ["--seeds", ">= 1"]),
    (["compare", "jiangsu", "no-cbam", "--seed", "-3"], ["--seed", ">= 0"]),
    (["run", "jiangsu", "--years", "2025-"], ["--years", "2025-2060"]),
    (["run", "jiangsu", "--years", "2025-2026-2027"], ["--years"]),
    (["run", "jiangsu", "--out", ""], ["--out must name a folder"]),
    (["mc", "jiangsu", "--runs", "1", "--seed", "-1"], ["--seed", ">= 0"]),
    (["mc", "jiangsu", "--runs", "1", "--workers", "100000"], ["--workers", "<="]),
    (["mc", "jiangsu", "--runs", "10000000"], ["--runs", "<= 1,000,000"]),
    (["bench", "--firms", "0"], ["--firms", ">= 1"]),
])
def test_command_line_values_are_checked_before_any_work(argv, words):
    code, out, err = zcf(*argv, "--quiet") if argv[0] != "bench" else zcf(*argv)
    refused(code, err, *words)
    assert out == ""                                 # nothing ran


# -- non-finite and nonsense values (were accepted) -----------------------------------------------
@pytest.mark.parametrize("change, key", [
    ({"fuels__coal_t": float("inf")}, "fuels.coal_t"),
    ({"fuels__coal_t": 1e308}, "fuels.coal_t"),
    ({"output": float("nan")}, "output"),
    ({"output": True}, "output"),
    ({"output": "820000"}, "output"),
    ({"year": 2030.0}, "year"),
    ({"process__captured_tco2": 2e6}, "process.captured_tco2"),
    ({"prices__eu_ets_eur_per_tco2": 1.79e308}, "prices.eu_ets_eur_per_tco2"),
    ({"output": 1e308}, "output"),
    ({"exports__eu_output": 2e6}, "exports.eu_output"),
])
def test_factory_nonsense_is_refused(tmp_path, change, key):
    path = factory(tmp_path, **change)
    refused(*zcf("account", path, "--json")[::2], path, f"'{key}'", "allowed")


def test_account_json_is_strict_and_non_negative(tmp_path):
    path = factory(tmp_path, process__captured_tco2=100_000.0 + 400_000 * 1.9)   # all of it
    code, out, err = zcf("account", path, "--json")
    assert code == 0, err
    res = strict_json(out)
    assert res["scope1_tco2"] == pytest.approx(0.0, abs=1e-6)
    assert all(v >= 0 for v in res.values())


@pytest.mark.parametrize("text, key", [
    ('[prices]\nfuel_price_mult = { 2030 = 1.79e308 }\n', "prices.fuel_price_mult.2030"),
    ('[prices]\nelectricity_cny_per_mwh = inf\n', "prices.electricity_cny_per_mwh"),
    ('[options.ccus]\nopex_cny_per_unit_yr = nan\n', "options.ccus.opex_cny_per_unit_yr"),
    ('[options.rooftop_pv]\nopex_cny_per_unit_yr = -5.0\n',
     "options.rooftop_pv.opex_cny_per_unit_yr"),
    ('[population]\nfirms = true\n', "population.firms"),
    ('[population]\nfirms = 1e308\n', "population.firms"),
    ('[population]\nfirms = "820000"\n', "population.firms"),
    ('[time]\nend_year = 2030.0\n', "time.end_year"),
    ('[time]\nstart_year = 2030-01-01\n', "time.start_year"),
    ('[ets]\nprice_cny_per_tco2 = { 2030 = "150" }\n', "ets.price_cny_per_tco2.2030"),
    ('[ets]\nprice_cny_per_tco2 = { "2030.5" = 150.0 }\n', "ets.price_cny_per_tco2.2030.5"),
    ('[cbam]\nenabled = 1\n', "cbam.enabled"),
])
def test_scenario_nonsense_is_refused_with_what_is_allowed(tmp_path, text, key):
    path = scenario(tmp_path, 'extends = "jiangsu"\n' + text)
    err = refused(*zcf("run", path, *SMALL)[::2], path, f"'{key}'", "allowed")
    assert "got" in err and len(err) < 400               # the input, never the whole file


def test_model_refuses_a_fractional_firm_count():
    with pytest.raises(ScenarioError, match="population.firms.*whole number"):
        ZeroCarbonModel("jiangsu", firms=2.7)


# -- vague messages -------------------------------------------------------------------------------
def test_missing_key_says_what_is_allowed_without_echoing_the_file(tmp_path):
    path = scenario(tmp_path, 'extends = "jiangsu"\n[buyers]\nrequirements = [{ industry = '
                              '"steel", penalty_frac = 0.1, max_footprint_tco2_per_unit = 2.0 }]\n')
    err = refused(*zcf("run", path, *SMALL)[::2], "buyers.requirements.0.from_year", "missing",
                  "allowed: a whole number >= 2000 and <= 2100")
    assert "penalty_frac" not in err


def test_unknown_key_lists_the_keys_near_it(tmp_path):
    path = scenario(tmp_path, 'extends = "jiangsu"\n[options.ccus]\ncapex_cny = 3.0\n')
    refused(*zcf("run", path, *SMALL)[::2], "unknown key 'options.ccus.capex_cny'",
            "allowed keys here: capex_cny_per_unit", "did you mean 'capex_cny_per_unit'")
    path = scenario(tmp_path, 'extends = "jiangsu"\n[uncertainty]\n'
                    '"ets.price_cny.2030" = { dist = "norm", loc = 100, scale = 1 }\n')
    refused(*zcf("run", path, *SMALL)[::2], "allowed keys at 'ets'", "price_cny_per_tco2",
            "did you mean 'price_cny_per_tco2'")


def test_bad_distribution_parameters_say_what_is_allowed(tmp_path):
    path = scenario(tmp_path, 'extends = "jiangsu"\n[uncertainty]\n'
                    '"prices.eur_cny" = { dist = "lognorm", s = -1, scale = 7.8 }\n')
    refused(*zcf("run", path, *SMALL)[::2], "uncertainty.prices.eur_cny", "allowed: s > 0",
            "scale > 0")


# -- outside faults -------------------------------------------------------------------------------
def test_out_that_cannot_be_written_fails_before_the_run(tmp_path):
    (tmp_path / "file").write_text("x")
    read_only = Path("/sys/zcf-out") if os.geteuid() == 0 else tmp_path / "ro" / "out"
    if os.geteuid() != 0:
        read_only.parent.mkdir()
        read_only.parent.chmod(0o555)
    for out, words in [(tmp_path / "file", "exists and is not a folder"),
                       (tmp_path / "file" / "sub", "is not a folder, so"),
                       (read_only, "cannot write in")]:
        code, stdout, err = zcf("run", "jiangsu", *SMALL, "--out", out)
        refused(code, err, "--out", words)
        assert "net emissions" not in stdout                # refused before the run


def test_full_disk_leaves_nothing_half_written(tmp_path, monkeypatch):
    real, calls = pd.DataFrame.to_parquet, []

    def disk_full(self, path, *a, **kw):
        calls.append(path)
        if len(calls) > 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(self, path, *a, **kw)
    monkeypatch.setattr(pd.DataFrame, "to_parquet", disk_full)
    out = tmp_path / "new" / "run"
    refused(*zcf("run", "jiangsu", *SMALL, "--out", out)[::2], "No space left on device")
    assert not out.parent.exists()                           # nothing, not a partial folder
    calls.clear()
    mc = tmp_path / "mc"
    refused(*zcf("mc", "jiangsu", "--runs", "2", "--workers", "1", *SMALL, "--out", mc)[::2],
            "No space left on device")
    assert not [p for p in mc.rglob("*") if p.name.endswith(".tmp")]
    from zcf.experiments.store import RunStore
    assert RunStore(mc).finished() == set()             # nothing recorded as finished


def _answer(conn, reply: bytes | None) -> None:
    try:
        if reply is not None:
            conn.sendall(reply)
        while conn.recv(1 << 16):
            pass
    except OSError:
        pass
    finally:
        conn.close()


def _serve(reply: bytes | None):
    """A TCP server on a free port that answers every connection with ``reply`` (or stays
    silent); returns its port."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)

    def loop():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=_answer, args=(conn, reply), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return srv


@pytest.fixture
def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("reply, words", [
    (None, "no Dask scheduler answered within 1 s"),
    (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" * 4, "not a Dask scheduler"),
    (b"\xff" * 64, "not a Dask scheduler"),
])
def test_scheduler_that_is_not_dask_is_refused(tmp_path, reply, words):
    pytest.importorskip("distributed")
    srv = _serve(reply)
    try:
        address = f"tcp://127.0.0.1:{srv.getsockname()[1]}"
        out = tmp_path / "mc"
        code, _, err = zcf("mc", "jiangsu", "--runs", "2", *SMALL, "--scheduler", address,
                           "--connect-timeout", "1", "--out", out)
    finally:
        srv.close()
    refused(code, err, f"--scheduler {address}", words, "allowed")
    assert not out.exists()                                  # refused before the store


def test_refused_port_fails_at_once_and_missing_dask_names_the_extra(tmp_path, free_port,
                                                                     monkeypatch):
    pytest.importorskip("distributed")
    code, _, err = zcf("mc", "jiangsu", "--runs", "1", *SMALL, "--scheduler",
                       f"tcp://127.0.0.1:{free_port}")
    refused(code, err, "cannot connect (Connection refused)")
    monkeypatch.setitem(sys.modules, "distributed", None)     # as if not installed
    code, _, err = zcf("mc", "jiangsu", "--runs", "1", *SMALL, "--scheduler",
                       f"tcp://127.0.0.1:{free_port}")
    refused(code, err, "needs dask.distributed", "pip install 'zcf-sim[dask]'")


def test_installed_command_shows_no_traceback_for_a_bad_file(tmp_path):
    """The same through the real ``zcf`` entry point (the other tests call main())."""
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff")
    zcf_bin = Path(sys.executable).with_name("zcf")
    cmd = [str(zcf_bin)] if zcf_bin.exists() else [sys.executable, "-m", "zcf.sim.cli"]
    p = subprocess.run([*cmd, "account", str(bad), "--json"], capture_output=True, text=True,
                       timeout=300, cwd=ROOT)
    assert p.returncode == 2 and "Traceback" not in p.stderr and str(bad) in p.stderr


@pytest.mark.parametrize("value,words", [
    ('"a\\u0000b.csv"', ["key 'data.retrofits'", "is not a file name", "allowed"]),
    ('"."', ["key 'data'", "Is a directory", "allowed"]),
    ('"nowhere.csv"', ["key 'data'", "nowhere.csv: no such file", "allowed"]),
])
def test_a_bad_data_file_name_is_refused_with_what_is_allowed(tmp_path, value, words):
    """Main's [data] table (a user's copy of a data table) under issue 15's contract: exit 2,
    the scenario file, the key and what is allowed (a NUL in the name was a traceback)."""
    f = tmp_path / "s.toml"
    f.write_text(f'extends = "jiangsu"\n[data]\nretrofits = {value}\n')
    code, _, err = zcf("run", f, *SMALL)
    refused(code, err, str(f), *words)
