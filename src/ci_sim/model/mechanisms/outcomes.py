r"""Mechanism 9: outcomes (docs/ODD.md §7.9).

Aligned effort of partner i on outcome k (program hours x engagement x agenda weight, with
program hours from the previous month's time budget): ``E_ik = program_i e_i a_ik``, ``E_k = sum_i E_ik``::

    es_k   = E_k / (sum_{i in a(k)} c_i / K_a)                       effort share against an even split
    abar_k = sum_i E_ik a_i / E_k
    coh_k  = 1 - sum_i E_ik TV(a_i, abar_k) / E_k   (0 if E_k = 0)   mutually reinforcing activities
    qbar_k = sum_i E_ik q-hat_ik / E_k                                effective plan quality
    Pi_a   = 1 + b_pol sat(coh^ask_a sum_{b in a} H_bP, H_pol)       policy work

    dy_k = r_y sat(es_k, E_half) coh_k (0.25 + 0.75 qbar_k) (0.5 + 0.5 C_a) Pi_a (1 - y_k)
    y_k <- clip_[0,1](y_k + dy_k + xi_k),    xi_k ~ N(0, zeta^2), drawn by the model (0 if outcome_noise is off)
"""

from __future__ import annotations

import numpy as np

from ci_sim.model.mechanisms.common import jit, sat, tv

POLICY = 4  # column of H_bf


@jit
def update_outcomes(S, P, noise: np.ndarray) -> None:
    """Update y_k; ``noise`` (shape (K,)) is this month's xi_k from the model's noise stream."""
    a, e, program, q_hat, y = S.agenda, S.engagement, S.program_hours, S.partner_plan, S.outcome
    N, K = a.shape
    A = S.pool.shape[0]
    E = np.empty((N, K))  # E_ik = program_i e_i a_ik
    E_k = np.zeros(K)
    for i in range(N):
        for k in range(K):
            E[i, k] = program[i] * e[i] * a[i, k]
            E_k[k] += E[i, k]
    centre = np.zeros(K)
    for k in range(K):
        safe = max(E_k[k], 1e-12)
        centre[:] = 0.0
        plan = 0.0
        for i in range(N):
            plan += E[i, k] * q_hat[i, k]
            for j in range(K):
                centre[j] += E[i, k] * a[i, j]
        for j in range(K):
            centre[j] /= safe
        spread = 0.0
        for i in range(N):
            spread += E[i, k] * tv(a[i], centre)
        S.coherence[k] = 1.0 - spread / safe if E_k[k] > 0 else 0.0
        S.plan_effective[k] = plan / safe
        S.effort[k] = E_k[k] / S.fair_effort[k]
    policy_hours = np.zeros(A)
    for b in range(S.fn_hours.shape[0]):
        policy_hours[S.backbone_area[b]] += S.fn_hours[b, POLICY]
    for area in range(A):
        S.policy_alignment[area] = sat(policy_hours[area] * S.ask_coherence[area], P.policy_half_hours)
    for k in range(K):
        area = S.outcome_area[k]
        growth = (
            P.outcome_rate
            * sat(S.effort[k], P.effort_half)
            * S.coherence[k]
            * (0.25 + 0.75 * S.plan_effective[k])
            * (0.5 + 0.5 * S.completeness[area])
            * (1.0 + P.policy_gain * S.policy_alignment[area])
            * (1.0 - y[k])
        )
        y[k] = min(max(y[k] + growth + noise[k], 0.0), 1.0)
