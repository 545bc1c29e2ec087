"""Builds the Cython kernels in ext/ (metadata lives in pyproject.toml).

Before Cython runs, ``ext/layouts.py`` writes ``ext/_layout.pxd`` (the packed-table layouts the
kernels and Python share, declared once)."""
import runpy
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = Path(__file__).parent
runpy.run_path(str(HERE / "ext" / "layouts.py"))["write_pxd"](HERE / "ext" / "_layout.pxd")

KERNELS = ["energy", "decisions", "state", "yearend", "twins"]   # all built with OpenMP

extensions = [
    Extension(
        f"zcf.ext._{name}",
        [f"ext/_{name}.pyx"],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3", "-fopenmp"],
        extra_link_args=["-fopenmp"],
    )
    for name in KERNELS
]

setup(ext_modules=cythonize(extensions, language_level=3, include_path=["ext"],
                            compiler_directives={"boundscheck": False, "wraparound": False,
                                                 "cdivision": True, "initializedcheck": False}))
