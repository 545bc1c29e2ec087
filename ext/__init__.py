"""Compiled kernels (Cython) and their plain-Python references.

- ``ext.accounting``: emissions and CBAM accounting over arrays of firms.
- ``ext.decisions``: retrofit valuation and logit choice over arrays of firms.
- ``ext.reference``: the same rules written per firm in plain Python, the tests' oracle.
"""
