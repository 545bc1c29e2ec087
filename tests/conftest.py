"""Shared fixtures: small populations only (national runs belong in ``zcf bench``)."""
import pytest

from zcf.sim import Scenario, ZeroCarbonModel


@pytest.fixture(scope="session")
def jiangsu():
    return Scenario.load("jiangsu")


@pytest.fixture(scope="session")
def small_run(jiangsu):
    """Jiangsu, 2,000 firms, 2025-2030, seed 7 (run once per session)."""
    scn = jiangsu.replace({"population.firms": 2000, "time.end_year": 2030})
    return ZeroCarbonModel(scn, rng=7).run()


@pytest.fixture(scope="module")
def scenario_file(request, tmp_path_factory):
    """The test module's ``TINY`` scenario text, written to a file."""
    path = tmp_path_factory.mktemp("scn") / "tiny.toml"
    path.write_text(request.module.TINY)
    return path


def pytest_configure(config):
    """The suite runs from the repository root, where the folders ``sim/``, ``ext/`` ... sit on
    ``sys.path``: make sure nothing imports them under their bare names (only ``zcf.*`` exists
    once installed)."""
    import sys
    for bare in ("sim", "ext", "agents", "experiments"):
        sys.modules.setdefault(bare, None)      # ``import sim`` now fails (ModuleNotFoundError)
