# cython: language_level=3
"""Compiled bookkeeping over all firms: retrofit effects from installed options, installation and
payment, group sums, and the set-up of the decision step.

- ``effects_into``: for the firms where something happens this year (``firm_effects``).
- ``install_into``: new options, subsidies, green-credit support and payment (``firm_pay``),
  running adoption sums per cell, and the effects of options that act at once.
- ``option_sums_into`` / ``segment_sums_into``: weighted sums per industry x province cell.
- ``prepare_decisions_into``: awareness, who reviews, budgets (``firm_awareness``, ``firm_budget``).
Every per-firm rule is in ``ext/_rules.pxd`` (Python twins in ``ext/rules.py``).
"""
import numpy as np

from cython.parallel cimport parallel, prange, threadid
from libc.stdint cimport uint64_t

from _layout cimport *
from _rules cimport (Effects, any_installed, check_firm_indices, firm_awareness, firm_budget,
                     firm_effects, firm_pay, is_installed, n_threads, store_effects)


cdef inline int _refresh_one(int year, Py_ssize_t i, Py_ssize_t n, Py_ssize_t n_opt,
                             Py_ssize_t words, const uint64_t* installed, int* built,
                             const double* cap, const double* applic_row, const double* op,
                             double* effects, unsigned char* due) noexcept nogil:
    """``firm_effects`` of firm i stored into its column of ``effects``; returns its next event."""
    cdef Effects e
    cdef int ne = firm_effects(year, i, n, n_opt, words, installed, built, cap, applic_row, op,
                               &e, due)
    store_effects(e, effects, n, i)
    return ne


def effects_into(int year, const long long[::1] idx, const int[::1] industry,
                 const uint64_t[:, ::1] installed, int[:, ::1] built, const double[:, ::1] cap,
                 const double[:, ::1] applic, const double[:, ::1] op,
                 double[:, ::1] effects, int[::1] next_event, int threads=0):
    """For the firms ``idx`` only (increasing, unique): write their ``effects`` columns, set
    ``next_event`` (``firm_effects``) and return the options at the end of their life that cost
    something to replace, as (option, firm) pairs sorted by firm, then option. Every other firm's
    effects are unchanged this year (``next_event`` says when that stops being true)."""
    cdef Py_ssize_t j, k, m = idx.shape[0], n = industry.shape[0], n_opt = op.shape[0]
    if built.shape[0] != n_opt or cap.shape[0] != n_opt or applic.shape[1] != n_opt \
            or op.shape[1] != N_OP or effects.shape[0] != N_E or installed.shape[1] * 64 < n_opt:
        raise ValueError("effects_into: option tables, effects or installed of the wrong shape")
    if m == 0 or n_opt == 0:
        return np.empty(0, np.int32), np.empty(0, np.int64)
    check_firm_indices(idx, n, "effects_into")
    cdef unsigned char[:, ::1] due = np.zeros((m, n_opt), dtype=np.uint8)
    cdef int nt = n_threads(threads, m)
    for j in prange(m, nogil=True, schedule="static", chunksize=2048, num_threads=nt):
        next_event[idx[j]] = _refresh_one(year, idx[j], n, n_opt, installed.shape[1],
                                          &installed[0, 0], &built[0, 0], &cap[0, 0],
                                          &applic[industry[idx[j]], 0], &op[0, 0],
                                          &effects[0, 0], &due[j, 0])
    flat = np.flatnonzero(np.asarray(due).ravel())
    return (flat % n_opt).astype(np.int32), np.asarray(idx)[flat // n_opt].astype(np.int64)


def option_sums_into(const long long[::1] starts, const double[::1] weight,
                     const uint64_t[:, ::1] installed, const double[:, ::1] cap,
                     double[:, ::1] out):
    """Per cell j (firms sorted by cell, cell j = firms ``starts[j] .. starts[j+1]-1``) and
    option k: out[k, j] = weighted firms with k installed, out[n_opt + k, j] = their weighted
    capacity, out[2 n_opt, j] = weighted firms with any option installed."""
    cdef Py_ssize_t j, i, k, m = out.shape[1], n_opt = cap.shape[0], words = installed.shape[1]
    cdef double w
    if out.shape[0] != 2 * n_opt + 1 or starts.shape[0] != m + 1 or words * 64 < n_opt:
        raise ValueError("option_sums_into: out needs 2 x n_options + 1 rows and one column per cell")
    with nogil:
        out[:, :] = 0.0
        for j in range(m):
            for i in range(starts[j], starts[j + 1]):
                w = weight[i]
                if not any_installed(&installed[0, 0], words, i):
                    continue
                out[2 * n_opt, j] += w
                for k in range(n_opt):
                    if is_installed(&installed[0, 0], words, i, k):
                        out[k, j] += w
                        out[n_opt + k, j] += w * cap[k, i]


def install_into(int year, dict choice, dict firms, dict tables, dict out, int threads=0):
    """Install every firm's chosen option and pay for it and for this year's replacements.

    ``choice``: option (int32, -1 none), capacity, capex, subsidy; ``ratio`` (float: the subsidy
    budget's fill ratio), ``replaced`` (uint8: 1 where a replacement was paid this year).
    ``firms``: cell (int64), weight, industry (int32), installed (n, words), cap, built,
    capex_cny, subsidy_cny, credit_support_cny, cash_cny, debt_cny, effects, next_event.
    ``tables``: applic, op, credit_frac (per option: green-credit support per CNY of net capex),
    starts (firms sorted by cell). ``out``: capex_by_option (n_opt, cells), option_sums
    (2 n_opt + 1, cells), both added to. Subsidies are scaled by ``ratio``; net capex is paid
    from cash first, then debt (``firm_pay``); options without lead time act at once, the others
    get an event in the year they become active. Cells are independent: ``threads`` changes the
    speed, never the result."""
    cdef const int[::1] option = choice["option"]
    cdef const double[::1] capacity = choice["capacity"]
    cdef const double[::1] capex = choice["capex"]
    cdef const double[::1] subsidy = choice["subsidy"]
    cdef double ratio = choice["ratio"]
    cdef const unsigned char[::1] replaced = choice["replaced"]
    cdef const long long[::1] cell = firms["cell"]
    cdef const double[::1] weight = firms["weight"]
    cdef const int[::1] industry = firms["industry"]
    cdef uint64_t[:, ::1] installed = firms["installed"]
    cdef double[:, ::1] cap = firms["cap"]
    cdef int[:, ::1] built = firms["built"]
    cdef double[::1] capex_cny = firms["capex_cny"]
    cdef double[::1] subsidy_cny = firms["subsidy_cny"]
    cdef double[::1] credit_support_cny = firms["credit_support_cny"]
    cdef double[::1] cash_cny = firms["cash_cny"]
    cdef double[::1] debt_cny = firms["debt_cny"]
    cdef double[:, ::1] effects = firms["effects"]
    cdef int[::1] next_event = firms["next_event"]
    cdef const double[:, ::1] applic = tables["applic"]
    cdef const double[:, ::1] op = tables["op"]
    cdef const double[::1] credit_frac = tables["credit_frac"]
    cdef const long long[::1] starts = tables["starts"]
    cdef double[:, ::1] capex_by_option = out["capex_by_option"]
    cdef double[:, ::1] option_sums = out["option_sums"]
    cdef Py_ssize_t i, j, n = option.shape[0], n_opt = op.shape[0], m = starts.shape[0] - 1
    cdef Py_ssize_t words = installed.shape[1]
    cdef int k, t
    cdef long long c
    cdef bint again
    if option_sums.shape[0] != 2 * n_opt + 1 or option_sums.shape[1] != capex_by_option.shape[1] \
            or capex_by_option.shape[0] != n_opt or words * 64 < n_opt:
        raise ValueError("install_into: option_sums (2 n_opt + 1, cells), capex_by_option (n_opt, cells)")
    if m < 0 or (m > 0 and starts[m] != n):
        raise ValueError("install_into: starts must cover every firm")
    if n == 0:
        return
    cdef int nt = n_threads(threads, n)
    cdef unsigned char[:, ::1] due = np.zeros((nt, max(n_opt, 1)), dtype=np.uint8)
    with nogil, parallel(num_threads=nt):
        t = threadid()
        for j in prange(m, schedule="dynamic", chunksize=4):
            for i in range(starts[j], starts[j + 1]):
                k = option[i]
                if k < 0 and not replaced[i]:
                    continue
                if replaced[i]:
                    subsidy_cny[i] *= ratio
                if k >= 0:
                    c = cell[i]
                    again = is_installed(&installed[0, 0], words, i, k)   # a custom rule may
                    if again:                   # re-install: new size, inactive until its lead time
                        option_sums[n_opt + k, c] += weight[i] * (capacity[i] - cap[k, i])
                    else:
                        option_sums[k, c] += weight[i]
                        option_sums[n_opt + k, c] += weight[i] * capacity[i]
                        if not any_installed(&installed[0, 0], words, i):
                            option_sums[2 * n_opt, c] += weight[i]
                    installed[i, k >> 6] = installed[i, k >> 6] | ((<uint64_t>1) << (k & 63))
                    cap[k, i] = capacity[i]
                    built[k, i] = year
                    if op[k, OP_LEAD_TIME_YR] == 0.0 or again:
                        next_event[i] = _refresh_one(year, i, n, n_opt, words, &installed[0, 0],
                                                     &built[0, 0], &cap[0, 0],
                                                     &applic[industry[i], 0], &op[0, 0],
                                                     &effects[0, 0], &due[t, 0])
                    elif year + <int>op[k, OP_LEAD_TIME_YR] < next_event[i]:
                        next_event[i] = year + <int>op[k, OP_LEAD_TIME_YR]
                    capex_cny[i] += capex[i]
                    subsidy_cny[i] += subsidy[i] * ratio
                    capex_by_option[k, c] += capex[i] * weight[i]
                    credit_support_cny[i] = credit_frac[k] * (capex_cny[i] - subsidy_cny[i])
                firm_pay(capex_cny[i] - subsidy_cny[i], &cash_cny[i], &debt_cny[i])


def segment_sums_into(const long long[::1] starts, const double[::1] weight,
                      const size_t[::1] rows, Py_ssize_t n, double[:, ::1] out, int threads=0):
    """Weighted sums per cell of many arrays in one call: ``rows[r]`` is the address of a
    contiguous float64 array of ``n`` firms (the caller keeps it alive); firms are sorted by
    cell and cell j holds firms ``starts[j] .. starts[j+1]-1``; out[r, j] = sum of weight x
    rows[r] over cell j. Rows are independent: ``threads`` changes only the speed."""
    cdef Py_ssize_t r, j, i, m = out.shape[1], n_rows = rows.shape[0]
    cdef const double* v
    cdef double acc0, acc1
    cdef int nt = n_threads(threads, n)
    if out.shape[0] != n_rows or starts.shape[0] != m + 1 or weight.shape[0] != n \
            or (m > 0 and starts[m] != n):
        raise ValueError("segment_sums_into: shapes of starts, weight, rows and out disagree")
    for r in prange(n_rows, nogil=True, schedule="dynamic", num_threads=nt):
        v = <const double*>rows[r]
        for j in range(m):
            acc0 = 0.0
            acc1 = 0.0
            i = starts[j]
            while i + 1 < starts[j + 1]:
                acc0 = acc0 + weight[i] * v[i]
                acc1 = acc1 + weight[i + 1] * v[i + 1]
                i = i + 2
            if i < starts[j + 1]:
                acc0 = acc0 + weight[i] * v[i]
            out[r, j] = acc0 + acc1


def prepare_decisions_into(const long long[::1] cell, const double[::1] peer_any_by_cell,
                           const double[::1] sc, const double[::1] review_draw,
                           const int[::1] industry, const double[:, ::1] ip,
                           const double[::1] cash, const double[::1] debt,
                           const double[::1] revenue, double[::1] awareness,
                           unsigned char[::1] review, double[::1] budget, int threads=0):
    """Before the decision kernel, per firm: awareness rises (``firm_awareness``); the firm
    reviews its options if its draw is below awareness x the review share; its budget is
    ``firm_budget``."""
    cdef Py_ssize_t i, n = cell.shape[0]
    cdef double a
    cdef int nt = n_threads(threads, n)
    if sc.shape[0] != N_SC or ip.shape[1] != N_IP:
        raise ValueError("prepare_decisions_into: sc (N_SC,) and ip (n_ind, N_IP)")
    if n == 0:
        return
    for i in prange(n, nogil=True, schedule="static", chunksize=8192, num_threads=nt):
        a = firm_awareness(awareness[i], peer_any_by_cell[cell[i]], &sc[0])
        awareness[i] = a
        review[i] = review_draw[i] < a * sc[SC_REVIEW_FRAC]
        budget[i] = firm_budget(cash[i], debt[i], revenue[i], ip[industry[i], IP_DEBT_CAPACITY_FRAC])
