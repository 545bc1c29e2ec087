"""The certification programme: dynamic management, re-assessment and the yearly batches.

The close of a year (``ext/_rules.pxd``: ``firm_tier``, ``firm_apply``) assesses every firm
against the criteria in force and records the tier it applies for (paying the application cost).
``Programme.round`` then, once a year:

1. dynamic management: each title is removed with the yearly hazard ``removal_frac_per_yr``
   (MIIT removes listed green factories after failed reporting, false data or accidents);
2. re-assessment: a title whose validity (``validity_yr`` of its tier; 0 = none) has run out is
   renewed at the tier the firm now passes, at most its own: a firm that passes only a lower tier
   keeps that tier without a batch slot, one that passes none loses its title. Between
   re-assessments a title is kept whatever the thresholds do (grandfathering); firms see the
   announced threshold path (``anticipation_yr``) and invest ahead of it;
3. admission: the candidates of each tier are ranked by performance (the cut against their own
   base year for near-zero and zero-carbon titles, the green score for green titles). Selection
   keeps each province's best up to its quota (``province_cap_frac`` of the batch), then each
   industry's best up to its cap (``industry_cap_per_yr``), then the nation's best up to the batch
   cap (``batch_cap_per_yr``, factories a year; absent = no cap). The provinces first put forward
   the candidates selected for ``submission_multiple`` times the batch (they pay the evaluation);
   the batch is then selected among them. The other candidates wait, free, for a later round.
   Agents stand for ``weight`` factories: the agent straddling a quota is kept with the
   probability that keeps the expected count at the quota (one draw from the model's generator).

Admitted firms hold the title from the end of the year: its rewards, its upkeep and the one-off
award, and the evaluation cost of a candidacy put forward, count from the next close.

Titles earned before the model's yardstick: performance is measured against each firm's own
start year, so no firm can show a cut in the start year itself. The green list of the start year
(and the stock listed before it, ``zcf.sim.start.install_starting_titles``) rewards improvements
made before the start; it is filled from the firms without a title ranked by ``start_rank``
(leading firms first, then the resource score: the lists are dominated by large firms).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zcf.sim.datasets import CERT_TIERS
from zcf.sim.params import Setting
from zcf.sim.policy import path_value
from zcf.sim.state import FirmState


@dataclass
class Round:
    """One year's programme round: weighted applications and admissions per tier, titles removed
    or downgraded, and the firms whose title changed (with their title before the round)."""

    applied: np.ndarray          # (3,) weighted candidates per tier
    submitted: np.ndarray        # (3,) weighted candidacies put forward per tier
    admitted: np.ndarray         # (3,) weighted admissions per tier
    removed: float               # weighted titles removed by dynamic management
    downgraded: float            # weighted titles lowered or lost at re-assessment
    changed: np.ndarray          # firms whose title changed
    before: np.ndarray           # their titles before the round
    new_firms: np.ndarray        # firms admitted this round
    new_tier: np.ndarray         # the tier each was admitted to

    def rates(self, of: np.ndarray) -> np.ndarray:
        """``of`` (admitted or submitted) per candidate, per tier (1 where there was none)."""
        return np.where(self.applied > 0, of / np.where(self.applied > 0, self.applied, 1), 1.0)


class Programme:
    """The yearly round of the certification programme (see the module docstring)."""

    def __init__(self, st: Setting):
        self.st = st
        self.start_year = st.cfg.time.start_year
        c = st.cfg.certification
        self.validity = np.array([c.validity_yr.get(t, 0) for t in CERT_TIERS], dtype=np.int64)
        self.industry_cap = np.full(st.n_ind, np.inf)
        for ind, cap in c.industry_cap_per_yr.items():
            self.industry_cap[st.data.industry_ids.index(ind)] = cap

    def caps(self, year: int) -> np.ndarray:
        """Factories admitted per tier this year (inf: no cap)."""
        c = self.st.cfg.certification
        return np.array([path_value(c.batch_cap_per_yr[t], year) if t in c.batch_cap_per_yr else np.inf
                         for t in CERT_TIERS])

    def round(self, year: int, s: FirmState, rng: np.random.Generator) -> Round:
        """Dynamic management, re-assessment and admission (``s.tier``, ``s.assess_year`` and
        ``s.granted`` updated in place)."""
        c = self.st.cfg.certification
        before = s.tier.copy()
        s.granted[:] = 0                      # last round's awards and evaluation costs were paid
        s.submitted[:] = 0                    # at this year's close
        holders = np.flatnonzero(s.tier > 0)
        removed = 0.0
        if c.removal_frac_per_yr > 0 and len(holders):
            out = holders[rng.random(len(holders)) < c.removal_frac_per_yr]
            removed = float(s.weight[out].sum())
            s.tier[out] = 0
            holders = holders[s.tier[holders] > 0]
        title = s.tier[holders].astype(np.int64)
        valid = self.validity[title - 1]
        due = holders[(valid > 0) & (year - s.assess_year[holders] >= valid)]
        renewed = np.minimum(s.tier[due], s.assessed[due])
        downgraded = float(s.weight[due][renewed < s.tier[due]].sum())
        s.tier[due] = renewed
        s.assess_year[due] = year
        caps = self.caps(year)
        applicants = np.flatnonzero(s.applied > 0)
        applicants = applicants[before[applicants] == s.tier[applicants]]   # not removed meanwhile
        applied, submitted, admitted = np.zeros(3), np.zeros(3), np.zeros(3)
        new_firms, new_tier = [], []
        for k in (1, 2, 3):
            cand = applicants[s.applied[applicants] == k]
            before_start = k == 1 and year == self.start_year     # module docstring
            select = self.select_before_start if before_start else self.select
            if before_start:
                cand = np.flatnonzero(s.tier == 0)
            put = select(cand, s, caps[k - 1], c.submission_multiple, rng)
            s.submitted[put] = k
            submitted[k - 1] = s.weight[put].sum()
            # the start year's candidates are those put forward, not every firm without a title
            applied[k - 1] = submitted[k - 1] if before_start else s.weight[cand].sum()
            take = select(put, s, caps[k - 1], 1.0, rng)
            admitted[k - 1] = s.weight[take].sum()
            s.tier[take] = k
            s.assess_year[take] = year
            s.granted[take] = k
            new_firms.append(take)
            new_tier.append(np.full(len(take), k, np.int8))
        changed = np.flatnonzero(before != s.tier)
        return Round(applied, submitted, admitted, removed, downgraded, changed, before[changed],
                     np.concatenate(new_firms), np.concatenate(new_tier))

    def select(self, cand: np.ndarray, s: FirmState, cap: float, times: float,
               rng: np.random.Generator) -> np.ndarray:
        """The candidates ``cand`` selected for ``times`` a batch of ``cap`` factories: ranked by
        ``cert_score`` (best first, then firm order), within ``times`` the province quotas, the
        industry caps and the national cap. Only the best few times the batch are ranked (found
        by partition; widened until the batch fills or no candidate is left)."""
        cap = cap * times
        if not len(cand) or not np.isfinite(cap):
            return self._within_quotas(cand, s, cap, times, rng)
        n = int(min(len(cand), max(64, 4 * cap / max(float(s.weight[cand].mean()), 1e-12))))
        while True:
            best = cand if n >= len(cand) else cand[np.argpartition(-s.cert_score[cand], n - 1)[:n]]
            take = self._within_quotas(best, s, cap, times, rng)
            if n >= len(cand) or s.weight[take].sum() >= cap - s.weight[best].max():
                return take
            n = min(len(cand), 2 * n)

    def select_before_start(self, cand: np.ndarray, s: FirmState, cap: float, times: float,
                            rng: np.random.Generator) -> np.ndarray:
        """``select`` for titles earned before the start: ranked by ``start_rank`` instead of
        this year's scores (which are left as they were)."""
        score = s.cert_score.copy()
        s.cert_score[:] = start_rank(s)
        try:
            return self.select(cand, s, cap, times, rng)
        finally:
            s.cert_score[:] = score

    def _within_quotas(self, cand: np.ndarray, s: FirmState, cap: float, times: float,
                       rng: np.random.Generator) -> np.ndarray:
        if not len(cand):
            return cand
        order = np.lexsort((cand, -s.cert_score[cand]))
        cand = cand[order]
        keep = np.ones(len(cand), bool)
        province_cap = self.st.cfg.certification.province_cap_frac * cap
        if np.isfinite(province_cap):
            keep &= _quota(s.province[cand], s.weight[cand], province_cap, rng)
        ind_cap = self.industry_cap[s.industry[cand]] * times
        if np.isfinite(ind_cap).any():
            sub = np.flatnonzero(keep)
            keep[sub] = _quota(s.industry[cand[sub]], s.weight[cand[sub]], ind_cap[sub], rng)
        if np.isfinite(cap):
            sub = np.flatnonzero(keep)
            keep[sub] = _quota(np.zeros(len(sub), np.int64), s.weight[cand[sub]], cap, rng)
        return np.sort(cand[keep])


def start_rank(s: FirmState) -> np.ndarray:
    """Rank of firms for titles earned before the start (module docstring): leaders first, then
    the resource score (0-1)."""
    return s.leader + s.resource_score


def _quota(group: np.ndarray, weight: np.ndarray, cap, rng: np.random.Generator) -> np.ndarray:
    """Which of the ranked entries (best first) fit within their group's quota ``cap`` (a number
    or one per entry) by cumulative weight; the entry straddling a quota is kept with probability
    (quota left) / weight."""
    n = len(group)
    if n == 0:
        return np.zeros(0, bool)
    order = np.argsort(group, kind="stable")          # groups together, rank order within
    g, w = group[order], weight[order]
    cap = np.broadcast_to(np.asarray(cap, float), (n,))[order]
    start = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    total = np.cumsum(w)
    before_group = np.repeat(total[start] - w[start], np.diff(np.r_[start, n]))
    cum = total - before_group                         # inclusive, within the group
    prev = cum - w
    ok = cum <= cap * (1 + 1e-12)
    straddle = (prev < cap) & ~ok
    if straddle.any():
        ok[straddle] = rng.random(int(straddle.sum())) < (cap - prev)[straddle] / w[straddle]
    out = np.empty(n, bool)
    out[order] = ok
    return out
