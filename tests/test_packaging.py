"""What a wheel of the package holds: the compiled kernels and Python modules under ``zcf``,
the data and scenario files, the licence; never the Cython sources or the C they generate.
(Read from the build configuration, without compiling: ``pip wheel . --no-deps`` lists the
same files plus the five built ``zcf/ext/_*.so``.)"""
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
setuptools = pytest.importorskip("setuptools")


def test_wheel_gets_compiled_modules_and_data_only(tmp_path):
    from setuptools.dist import Distribution  # noqa: F401  (setuptools' run_setup needs it)
    from distutils.core import run_setup
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        dist = run_setup("setup.py", stop_after="config")
        build_py = dist.get_command_obj("build_py")
        build_py.build_lib = str(tmp_path)
        build_py.ensure_finalized()
        build_py.run()
    finally:
        os.chdir(cwd)
    assert sorted(e.name for e in dist.ext_modules) == [
        "zcf.ext._decisions", "zcf.ext._energy", "zcf.ext._state", "zcf.ext._twins", "zcf.ext._yearend"]
    files = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert not [f for f in files if f.endswith((".c", ".pyx", ".pxd", ".so"))], files
    assert {"zcf/__init__.py", "zcf/ext/accounting.py", "zcf/sim/model.py",
            "zcf/sim/data/industries.csv", "zcf/sim/scenarios/jiangsu-uncertain.toml"} <= files
    assert all(f.startswith("zcf/") for f in files)
    assert (dist.metadata.license_expression, dist.metadata.license_files) == ("MIT", ["LICENSE"])
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
