"""Fuzz the edges (issue 15): mutated factory files, scenario files and command lines end in exit
0 with finite results or exit 2 with a message naming the file or option and what is allowed;
never a traceback, NaN or infinity. Examples are derandomised (the same every run) and bounded:
about 40 s on an idle 2-core machine, two minutes under load; ``tests/fuzz_campaign.py`` runs
thousands of random ones."""
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzzing as F

EXAMPLES = {"factory": 1000, "scenario": 350, "command": 180}
SCALE = float(os.environ.get("ZCF_FUZZ_SCALE", "1"))   # e.g. 0.2 for a quick look


def bounded(kind):
    return settings(max_examples=max(1, int(EXAMPLES[kind] * SCALE)), deadline=None,
                    derandomize=True, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much,
                                           HealthCheck.large_base_example])


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@bounded("factory")
@given(data=F.factory_files)
def test_mutated_factory_files(folder, data):
    path = F.write(folder, "factory.toml", data)
    assert F.check_factory(path) in (F.ACCEPTED, F.REFUSED)


@bounded("scenario")
@given(data=F.scenario_files, firms=st.integers(1, 80), seed=st.integers(0, 2**32))
def test_mutated_scenario_files(folder, data, firms, seed):
    path = F.write(folder, "scenario.toml", data)
    assert F.check_scenario(path, firms, seed) in (F.ACCEPTED, F.REFUSED)


@bounded("command")
@given(argv=F.command_lines())
def test_mutated_command_lines(folder, argv):
    scn = F.write(folder, "small.toml", b'extends = "jiangsu"\nname = "small"\n[uncertainty]\n'
                  b'"prices.eur_cny" = { dist = "uniform", loc = 7.4, scale = 0.8 }\n')
    factory = F.write(folder, "f.toml", F.to_toml({"industry": "steel", "province": "Hebei",
                                                  "year": 2030, "output": 1e6,
                                                  "fuels": {"coal_t": 4e5}}).encode())
    (folder / "file.txt").write_text("not a folder")
    fill = {"tmp": str(folder), "scn": str(scn), "factory": str(factory)}
    assert F.check_command(argv, fill) in (F.ACCEPTED, F.REFUSED)
