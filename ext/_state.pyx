# cython: language_level=3
"""Compiled bookkeeping over all firms: retrofit effects from installed options, group sums.

- ``effects_into``: for the firms where something happens this year, which installed options are
  past their lead time (active), which reached the end of their life (due), the effect rows they
  imply and the next year something happens (reference:
  ``sim.decisions.Decisions.write_effects_reference``).
- ``segment_sums_into``: weighted sums of per-firm arrays per industry x province cell, for firms
  sorted by cell (reference: ``numpy.bincount``).
"""
from cython.parallel cimport prange
from libc.math cimport fmax, fmin
from libc.stdlib cimport free, malloc

from _firm cimport check_firm_indices, n_threads


def effects_into(
    int year, const long long[::1] idx, const int[::1] industry, const unsigned short[::1] installed,
    int[:, ::1] built, const double[:, ::1] cap, const double[:, ::1] applic,
    const long[::1] lead, const long[::1] life, const double[::1] effect, double cop,
    const double[::1] capex_per_unit,
    double[:, ::1] effects, int[::1] next_event, int[::1] due_opt, long long[::1] due_firm,
    int threads=0,
):
    """For the firms ``idx`` only: write their ``effects`` columns (rows of
    sim.state.EFFECT_FIELDS), list the options at end of life as (``due_opt``, ``due_firm``)
    pairs (capacity 9 x len(idx)), and set ``next_event``: the first year in which one of the
    firm's options becomes active or reaches the end of its life (assuming due options are
    replaced this year). Returns the number of due pairs.

    An option whose ``capex_per_unit`` is zero (green contracts and certificates: zero in 2025,
    so in every year) costs nothing to renew: it is renewed here when due (``built = year -
    lead``), never listed, and its end of life is no event (so a firm whose only options are
    contracts is not visited again).

    Firms whose ``next_event`` is later than ``year`` and who installed nothing need no update,
    so a year touches only the few firms where something happens. Option order is
    sim.schema.OPTIONS: pv, storage, contract, certificate, direct supply, electrification,
    efficiency, process innovation, CCUS. Firms are independent: ``threads`` (0: OpenMP's
    default) changes the speed, never the result (``idx`` must not repeat a firm).
    """
    cdef Py_ssize_t j, k, m = idx.shape[0], n = industry.shape[0]
    cdef long n_due = 0
    if built.shape[0] != 9 or effects.shape[0] != 10 or applic.shape[1] != 9:
        raise ValueError("effects_into: expects 9 options and 10 effect rows")
    if due_opt.shape[0] < 9 * m or due_firm.shape[0] < 9 * m:
        raise ValueError("effects_into: due_opt/due_firm need room for 9 x len(idx) pairs")
    if m == 0:
        return 0
    check_firm_indices(idx, n, "effects_into")
    cdef unsigned short* due = <unsigned short*>malloc(m * sizeof(unsigned short))
    if due == NULL:
        raise MemoryError()
    cdef int nt = n_threads(threads, m)
    try:
        for j in prange(m, nogil=True, schedule="static", chunksize=2048, num_threads=nt):
            due[j] = _effects_one(idx[j], n, year, &industry[0], &installed[0], &built[0, 0],
                                  &cap[0, 0], &applic[0, 0], &lead[0], &life[0], &effect[0], cop,
                                  &capex_per_unit[0], &effects[0, 0], &next_event[0])
        for j in range(m):              # due pairs in firm order, then option order
            if due[j]:
                for k in range(9):
                    if due[j] & (1 << k):
                        due_opt[n_due] = k
                        due_firm[n_due] = idx[j]
                        n_due += 1
    finally:
        free(due)
    return n_due


cdef unsigned short _effects_one(
    Py_ssize_t i, Py_ssize_t n, int year, const int* industry, const unsigned short* installed,
    int* built,
    const double* cap, const double* applic, const long* lead, const long* life,
    const double* effect, double cop, const double* capex_per_unit, double* effects,
    int* next_event,
) noexcept nogil:
    """One firm of ``effects_into``; returns its due options as a bit mask."""
    cdef int k, start, end, nxt, ne = 2147483647
    cdef int ind = industry[i]
    cdef unsigned short due = 0
    cdef bint act[9]
    cdef const double* ap = &applic[ind * 9]
    for k in range(9):
        act[k] = False
        if (installed[i] >> k) & 1:
            start = built[k * n + i] + lead[k]
            end = start + life[k]
            act[k] = start <= year
            if not act[k]:
                nxt = start
            elif capex_per_unit[k] == 0.0:
                # free to renew (capex 0 now, so in every year): it runs on, renewed whenever
                # the firm is visited; its end of life is no event
                if year >= end:
                    built[k * n + i] = year - lead[k]
                nxt = 2147483647
            elif year >= end:
                due |= <unsigned short>(1 << k)
                nxt = year + life[k]         # replaced now: active again until then
            else:
                nxt = end
            if nxt < ne:
                ne = nxt
    next_event[i] = ne
    effects[i] = fmax(ap[6], 0.0) if act[6] else 0.0
    effects[n + i] = fmax(ap[7], 0.0) if act[7] else 0.0
    effects[2 * n + i] = fmax(ap[5], 0.0) if act[5] else 0.0
    effects[3 * n + i] = cop if act[5] else 1.0
    effects[4 * n + i] = cap[i] if act[0] else 0.0
    effects[5 * n + i] = effect[1] if act[1] else (effect[0] if act[0] else 0.0)
    effects[6 * n + i] = fmax(ap[2], 0.0) if act[2] else 0.0
    effects[7 * n + i] = fmax(ap[3], 0.0) if act[3] else 0.0
    effects[8 * n + i] = fmax(ap[4], 0.0) if act[4] else 0.0
    effects[9 * n + i] = fmax(ap[8], 0.0) * effect[8] if act[8] else 0.0
    return due


def option_sums_into(const long long[::1] starts, const double[::1] weight,
                     const double[:, ::1] level, const double[:, ::1] cap, double[:, ::1] out):
    """Per cell j (firms sorted by cell, ``starts`` as in ``segment_sums_into``) and option k:
    out[k, j] = weighted firms with k installed, out[n_opt + k, j] = their weighted capacity,
    out[2 n_opt, j] = weighted firms with any option installed.
    (reference: ``numpy.bincount`` of ``level > 0``, ``cap x (level > 0)``, ``any(level > 0)``)."""
    cdef Py_ssize_t j, i, k, m = out.shape[1], n_opt = level.shape[0]
    cdef double w
    cdef bint anyk, on
    cdef double acc[19]
    if out.shape[0] != 2 * n_opt + 1 or n_opt > 9:
        raise ValueError("option_sums_into: at most 9 options; out needs 2 x n_options + 1 rows")
    with nogil:
        for j in range(m):
            for k in range(2 * n_opt + 1):
                acc[k] = 0.0
            for i in range(starts[j], starts[j + 1]):   # branch-free: installed = 0 or 1
                w = weight[i]
                anyk = False
                for k in range(n_opt):
                    on = level[k, i] > 0.0
                    anyk = anyk | on
                    acc[k] += w * on
                    acc[n_opt + k] += w * on * cap[k, i]
                acc[2 * n_opt] += w * anyk
            for k in range(2 * n_opt + 1):
                out[k, j] = acc[k]


def install_into(
    int year, const signed char[::1] option, const double[::1] capacity,
    const double[::1] capex, const double[::1] subsidy, double ratio,
    const double[::1] credit_frac_by_option, const unsigned char[::1] replaced,
    const long long[::1] cell, const double[::1] weight,
    double[:, ::1] level, unsigned short[::1] installed, double[:, ::1] cap, int[:, ::1] built,
    double[::1] capex_cny, double[::1] subsidy_cny, double[::1] credit_support_cny,
    double[::1] cash_cny, double[::1] debt_cny, double[:, ::1] capex_by_option,
    double[:, ::1] option_sums,
    const int[::1] industry, const double[:, ::1] applic, const long[::1] lead,
    const long[::1] life, const double[::1] effect, double cop, const double[::1] capex_per_unit,
    double[:, ::1] effects, int[::1] next_event, const long long[::1] starts, int threads=0,
):
    """Install every firm's chosen option (``option`` >= 0) and pay for it and for this year's
    replacements (``replaced`` = 1): subsidies scaled by ``ratio`` (the budget's fill ratio),
    green-credit support = ``credit_frac_by_option[k]`` x capex net of subsidy (adopters only),
    net capex paid from cash first, then debt; weighted capex of new options per option x cell
    added to ``capex_by_option``; ``option_sums`` (rows as in ``option_sums_into``, one column
    per cell) kept up to date with the new options; adopters of an option without lead time get
    their effects now (as ``effects_into``), the others an event in the year it becomes active.
    (reference: ``sim.decisions.Decisions.install_reference``, ``option_sums_into`` and
    ``effects_into``). Firms are sorted by cell (``starts`` as in ``segment_sums_into``); cells
    are independent, so ``threads`` (0: OpenMP's default) changes the speed, never the result."""
    cdef Py_ssize_t i, j, n = option.shape[0], n_opt = level.shape[0], m = starts.shape[0] - 1
    cdef int k
    cdef long long c
    cdef double net, from_cash
    cdef bint again
    cdef int nt = n_threads(threads, n)
    if option_sums.shape[0] != 2 * n_opt + 1 or option_sums.shape[1] != capex_by_option.shape[1]:
        raise ValueError("install_into: option_sums needs 2 x n_options + 1 rows, one column per cell")
    if m < 0 or (m > 0 and starts[m] != n) or n_opt > 9:
        raise ValueError("install_into: starts must cover every firm; at most 9 options")
    # cells are independent (capex_by_option and option_sums are per cell): one thread per cell
    for j in prange(m, nogil=True, schedule="dynamic", chunksize=4, num_threads=nt):
        for i in range(starts[j], starts[j + 1]):
            k = option[i]
            if k < 0 and not replaced[i]:
                continue
            if replaced[i]:
                subsidy_cny[i] *= ratio
            if k >= 0:
                c = cell[i]
                again = (installed[i] >> k) & 1   # re-installed (a custom rule may do that)
                if again:                         # new size, and inactive again until its lead time
                    option_sums[n_opt + k, c] += weight[i] * (capacity[i] - cap[k, i])
                else:
                    option_sums[k, c] += weight[i]
                    option_sums[n_opt + k, c] += weight[i] * capacity[i]
                    if installed[i] == 0:
                        option_sums[2 * n_opt, c] += weight[i]
                level[k, i] = 1.0
                installed[i] = installed[i] | <unsigned short>(1 << k)
                cap[k, i] = capacity[i]
                built[k, i] = year
                if lead[k] == 0 or again:
                    _effects_one(i, n, year, &industry[0], &installed[0], &built[0, 0], &cap[0, 0],
                                 &applic[0, 0], &lead[0], &life[0], &effect[0], cop,
                                 &capex_per_unit[0], &effects[0, 0], &next_event[0])
                elif year + lead[k] < next_event[i]:
                    next_event[i] = year + lead[k]
                capex_cny[i] += capex[i]
                subsidy_cny[i] += subsidy[i] * ratio
                capex_by_option[k, c] += capex[i] * weight[i]
                credit_support_cny[i] = credit_frac_by_option[k] * (capex_cny[i] - subsidy_cny[i])
            net = capex_cny[i] - subsidy_cny[i]
            from_cash = fmin(fmax(cash_cny[i], 0.0), net)
            cash_cny[i] -= from_cash
            debt_cny[i] += net - from_cash


def segment_sums_into(const long long[::1] starts, const double[::1] weight,
                      const size_t[::1] rows, Py_ssize_t n, double[:, ::1] out, int threads=0):
    """Weighted sums per cell of many arrays in one call: ``rows[r]`` is the address of a
    contiguous float64 array of ``n`` firms (the caller keeps it alive); firms are sorted by
    cell and cell j holds firms ``starts[j] .. starts[j+1]-1`` (``starts`` has one entry more
    than ``out`` has columns, the last being ``n``); out[r, j] = sum of weight x rows[r] over cell
    j. Rows are independent: ``threads`` (0: OpenMP's default) changes only the speed."""
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


def prepare_decisions_into(
    const long long[::1] cell, const double[::1] peer_any_by_cell, double diffusion,
    double peer_weight, double review_frac, const double[::1] review_draw,
    const int[::1] industry, const double[::1] debt_cap_by_ind, const double[::1] cash,
    const double[::1] debt, const double[::1] revenue,
    double[::1] awareness, unsigned char[::1] review, double[::1] budget, int threads=0,
):
    """Before the decision kernel, per firm: awareness rises (diffusion + peer pull of its
    cell, capped at 1, on what is left to learn); the firm reviews its options if its draw is
    below awareness x ``review_frac``; its budget = cash (if positive) + unused debt capacity
    (``debt_cap_by_ind`` x revenue - debt, if positive). (reference:
    ``sim.decisions.Decisions.prepare_reference``)."""
    cdef Py_ssize_t i, n = cell.shape[0]
    cdef double push, a
    cdef int nt = n_threads(threads, n)
    for i in prange(n, nogil=True, schedule="static", chunksize=8192, num_threads=nt):
        push = fmin(1.0, diffusion + peer_weight * peer_any_by_cell[cell[i]])
        a = awareness[i] + (1.0 - awareness[i]) * push
        awareness[i] = a
        review[i] = review_draw[i] < a * review_frac
        budget[i] = fmax(cash[i], 0.0) + fmax(debt_cap_by_ind[industry[i]] * revenue[i] - debt[i], 0.0)

