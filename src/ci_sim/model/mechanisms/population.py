r"""Mechanism 12: population indicators and what partners see of them (docs/ODD.md §7.12).

The partnership changes practice first (x_k, mechanism 9) and population indicators later.
Each outcome k has J_k measured indicators j (grades, subgroups, measures: StrivePartnership
tracked 53). The partnership's effect on k's population level follows changed practice with a
first-order lag of mean ``ell`` months (an exponential delay)::

    D_k <- D_k + (Delta x_k - D_k) / ell                         Delta: population_effect

Each indicator's true level is its baseline, its counterfactual trend (what would happen
without the partnership: drawn per run, negative as well as positive), the outcome's random
drift and persistent shocks (a recession, a policy change), and its sensitivity to the
partnership's effect::

    c_k <- c_k + xi_k + Sh_a(k)                                  xi_k ~ N(0, zeta^2), Sh_a: rare shocks
    Y_j  = clip_[0,1](Y_j(0) + tau_j t + c_k(j) + s_j D_k(j)),     y_k = mean_{j in k} Y_j

Indicators are measured once a year (months 0, 12, 24, ...) in a cohort of n_a people, with
the sampling error of a proportion::

    M_j = clip_[0,1](Y_j + eps_j sqrt(Y_j (1 - Y_j) / n_a)),      eps_j ~ N(0, 1)

An indicator improves when its latest measurement is above its baseline-year measurement
M_j(0) (StrivePartnership's count: "34 of 53 indicators improving"). What partners see of the
results is the share improving, signed and weighted by how complete the shared data is::

    R_a = C_a (2 imp_a - 1),     imp_a = #{j in a: M_j > M_j(0)} / J_a      (0 before the first year)

The random numbers (xi, Sh, eps) are drawn by the model and passed in, so every run draws the
same numbers whatever the switches (common random numbers).
"""

from __future__ import annotations

import numpy as np

from ci_sim.model.mechanisms.common import jit


@jit
def mean_by_outcome(values: np.ndarray, k_of: np.ndarray, out: np.ndarray) -> None:
    """``out[k]``: the mean of ``values[j]`` over the indicators j of outcome k (``k_of[j] = k``)."""
    counts = np.zeros(out.shape[0])
    out[:] = 0.0
    for j in range(values.shape[0]):
        out[k_of[j]] += values[j]
        counts[k_of[j]] += 1.0
    for k in range(out.shape[0]):
        out[k] /= counts[k]


@jit
def measure(S, sampling: np.ndarray) -> None:
    """Measure every indicator: ``S.indicator_measured`` M_j and the outcomes' mean ``S.measured``.

    ``sampling``: shape (J,), standard normal eps_j (zeros for exact measurement).
    """
    Y, M, k_of, n_a = S.indicator_level, S.indicator_measured, S.indicator_outcome, S.cohort
    for j in range(Y.shape[0]):
        se = np.sqrt(Y[j] * (1.0 - Y[j]) / n_a[S.outcome_area[k_of[j]]])
        M[j] = min(max(Y[j] + sampling[j] * se, 0.0), 1.0)
    mean_by_outcome(M, k_of, S.measured)


@jit
def update_population(S, P, month: int, drift: np.ndarray, shock: np.ndarray, sampling: np.ndarray) -> None:
    """One month of the population indicators; a yearly measurement and the results partners see.

    Args:
        S: the state record.
        P: the parameter record.
        month: the month now ending (1, 2, ...).
        drift: shape (K,), xi_k (zeros when ``mechanisms.outcome_noise`` is off).
        shock: shape (A,), this month's shock of each area (mostly zeros).
        sampling: shape (J,), eps_j (used in measurement months only).
    """
    ell = P.population_lag
    K = S.outcome.shape[0]
    for k in range(K):
        S.effect[k] += (P.population_effect * S.practice[k] - S.effect[k]) / ell
        S.outcome_shift[k] += drift[k]
        if P.counterfactual_on:
            S.outcome_shift[k] += shock[S.outcome_area[k]]
    levels_at(S, month if P.counterfactual_on else 0)
    if month % 12 == 0:
        measure(S, sampling)
        results_seen(S)


@jit
def levels_at(S, months: int) -> None:
    """True levels Y_j after ``months`` months of trend tau_j, and the outcomes' means y_k."""
    Y, k_of = S.indicator_level, S.indicator_outcome
    for j in range(Y.shape[0]):
        k = k_of[j]
        level = (
            S.indicator_level0[j]
            + S.indicator_trend[j] * months
            + S.outcome_shift[k]
            + S.indicator_sensitivity[j] * S.effect[k]
        )
        Y[j] = min(max(level, 0.0), 1.0)
    mean_by_outcome(Y, k_of, S.outcome)


@jit
def results_seen(S) -> None:
    """``S.results_seen`` R_a: the share of the area's indicators improving, signed, times completeness C_a."""
    A = S.results_seen.shape[0]
    improving = np.zeros(A)
    total = np.zeros(A)
    for j in range(S.indicator_measured.shape[0]):
        a = S.outcome_area[S.indicator_outcome[j]]
        total[a] += 1.0
        improving[a] += S.indicator_measured[j] > S.indicator_baseline[j]
    for a in range(A):
        S.results_seen[a] = S.completeness[a] * (2.0 * improving[a] / max(total[a], 1.0) - 1.0)
