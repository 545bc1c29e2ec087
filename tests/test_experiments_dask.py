"""Runs sent to a real dask.distributed LocalCluster equal the local ones."""
import pandas as pd
import pytest

from zcf import experiments
from zcf.sim import Scenario

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    path = tmp_path_factory.mktemp("scn") / "tiny.toml"
    path.write_text('extends = "jiangsu"\nname = "tiny"\n[population]\nfirms = 200\n[time]\n'
                    'end_year = 2027\n[uncertainty]\n'
                    '"cbam.verified_share_others" = { dist = "beta", a = 2, b = 5 }\n')
    return Scenario.load(path)


def test_dask_local_cluster_equals_local_runs(scenario, tmp_path):
    local = experiments.monte_carlo(scenario, runs=4, seed=21, workers=1, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        by_address = experiments.monte_carlo(scenario, runs=4, seed=21, progress=False,
                                             scheduler=cluster.scheduler_address,
                                             out=tmp_path / "mc")
        with distributed.Client(cluster) as client:
            swept = experiments.sweep(scenario, {"ets.price_cny_per_tco2.2030": [100.0, 200.0]},
                                      2, seed=21, scheduler=client, progress=False)
    for name in local.tables:
        pd.testing.assert_frame_equal(local.tables[name], by_address.tables[name], obj=name)
    local_sweep = experiments.sweep(scenario, {"ets.price_cny_per_tco2.2030": [100.0, 200.0]}, 2,
                                    seed=21, workers=1, progress=False)
    for name in local_sweep.tables:
        pd.testing.assert_frame_equal(local_sweep.tables[name], swept.tables[name], obj=name)
