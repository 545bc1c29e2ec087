# cython: language_level=3
"""Compiled bookkeeping over all firms: retrofit effects from installed options, group sums.

- ``effects_into``: which installed options are past their lead time (active), which reached the
  end of their life (due), and the effect rows they imply (reference:
  ``sim.decisions.Decisions.write_effects_reference``).
- ``segment_sum_into``: weighted sums of a per-firm array per industry x province cell, for firms
  sorted by cell (reference: ``numpy.bincount``).
"""
from libc.math cimport fmax


def effects_into(
    int year, const int[::1] industry, const double[:, ::1] level, const int[:, ::1] built,
    const double[:, ::1] cap, const double[:, ::1] applic, const long[::1] lead,
    const long[::1] life, const double[::1] effect, double cop,
    double[:, ::1] effects, unsigned char[:, ::1] due,
):
    """Write ``effects`` (rows of sim.state.EFFECT_FIELDS) and ``due``; return the number due.

    Option order is sim.schema.OPTIONS: pv, storage, contract, certificate, direct supply,
    electrification, efficiency, process innovation, CCUS.
    """
    cdef Py_ssize_t i, k, n = industry.shape[0], n_opt = level.shape[0]
    cdef long n_due = 0
    cdef int ind
    cdef bint act[9]
    with nogil:
        for i in range(n):
            ind = industry[i]
            for k in range(n_opt):
                act[k] = level[k, i] > 0.0 and built[k, i] + lead[k] <= year
                due[k, i] = level[k, i] > 0.0 and year >= built[k, i] + lead[k] + life[k]
                n_due += due[k, i]
            effects[0, i] = fmax(applic[ind, 6], 0.0) if act[6] else 0.0
            effects[1, i] = fmax(applic[ind, 7], 0.0) if act[7] else 0.0
            effects[2, i] = fmax(applic[ind, 5], 0.0) if act[5] else 0.0
            effects[3, i] = cop if act[5] else 1.0
            effects[4, i] = cap[0, i] if act[0] else 0.0
            effects[5, i] = effect[1] if act[1] else (effect[0] if act[0] else 0.0)
            effects[6, i] = fmax(applic[ind, 2], 0.0) if act[2] else 0.0
            effects[7, i] = fmax(applic[ind, 3], 0.0) if act[3] else 0.0
            effects[8, i] = fmax(applic[ind, 4], 0.0) if act[4] else 0.0
            effects[9, i] = fmax(applic[ind, 8], 0.0) * effect[8] if act[8] else 0.0
    return n_due


def segment_sum_into(const long long[::1] starts, const double[::1] weight,
                     const double[::1] values, double[::1] out):
    """out[j] = sum of weight x values over firms starts[j] .. starts[j+1]-1 (firms sorted by cell).

    ``starts`` has one more entry than ``out`` (the last is the number of firms).
    """
    cdef Py_ssize_t j, i, m = out.shape[0]
    cdef double acc0, acc1
    with nogil:
        for j in range(m):
            acc0 = 0.0
            acc1 = 0.0
            i = starts[j]
            while i + 1 < starts[j + 1]:
                acc0 += weight[i] * values[i]
                acc1 += weight[i + 1] * values[i + 1]
                i += 2
            if i < starts[j + 1]:
                acc0 += weight[i] * values[i]
            out[j] = acc0 + acc1
