"""Builds the Cython kernels in ext/ (metadata lives in pyproject.toml)."""
import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

KERNELS = ["accounting", "decisions", "state", "yearend"]
PARALLEL = {"accounting", "decisions", "yearend", "state"}   # kernels built with OpenMP (firms are independent: prange)

extensions = [
    Extension(
        f"zcf.ext._{name}",
        [f"ext/_{name}.pyx"],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3", "-fopenmp"] if name in PARALLEL else ["-O3"],
        extra_link_args=["-fopenmp"] if name in PARALLEL else [],
    )
    for name in KERNELS
]

setup(ext_modules=cythonize(extensions, language_level=3, include_path=["ext"],
                            compiler_directives={"boundscheck": False, "wraparound": False,
                                                 "cdivision": True, "initializedcheck": False}))
