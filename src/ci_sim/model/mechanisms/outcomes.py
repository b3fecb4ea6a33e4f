r"""Mechanism 9: changed practice (docs/ODD.md §7.9); population indicators follow it (§7.12).

Aligned effort of partner i on outcome k: its own program hours spread by its agenda, plus
the program hours grants buy (mechanism 7): aligned grants pay for work on the outcomes of the
working groups it sits in (iota_ik, spread evenly over its n_i groups), other grants for work
on its own priorities; all times engagement (program hours from the previous month's budget)::

    E_ik = e_i [(program_i + funded_i - funded^al_i) a_ik + funded^al_i iota_ik / max(sum_k iota_ik, 1)]
    E_k = sum_i E_ik

    es_k   = E_k / (sum_{i in a(k)} c_i / K_a)                       effort share against an even split
    abar_k = sum_i E_ik a_i / E_k
    coh_k  = 1 - sum_i E_ik TV(a_i, abar_k) / E_k   (0 if E_k = 0)   mutually reinforcing activities
             (a two-area partner enters abar_k and coh_k with its agenda in k's area, a_i|a(k))
    qbar_k = sum_i E_ik q-hat_ik / E_k                                effective plan quality
    Pi_a   = 1 + b_pol sat(coh^ask_a sum_{b in a} H_bP, H_pol)       policy work

    dx_k = r_y sat(es_k, E_half) coh_k (0.25 + 0.75 qbar_k) (0.5 + 0.5 C_a) Pi_a (1 - x_k)
    x_k <- min(1, x_k + dx_k)                       x_k(0) = 0: the share of practice changed
"""

from __future__ import annotations

import numpy as np

from ci_sim.model.mechanisms.common import area_mass, jit, sat, tv, tv_area

POLICY = 4  # column of H_bf


@jit
def update_practice(S, P) -> None:
    """Update the changed practice x_k (and coherence, plan quality and effort share per outcome)."""
    a, e, program, q_hat, x = S.agenda, S.engagement, S.program_hours, S.partner_plan, S.practice
    funded, aligned, iota = S.funded_hours, S.funded_aligned, S.interest
    N, K = a.shape
    A = S.pool.shape[0]
    E = np.empty((N, K))
    E_k = np.zeros(K)
    for i in range(N):
        groups = 0.0
        for k in range(K):
            groups += iota[i, k]
        own = program[i] + funded[i] - aligned[i]
        for k in range(K):
            E[i, k] = e[i] * (own * a[i, k] + (aligned[i] * iota[i, k] / max(groups, 1.0)))
            E_k[k] += E[i, k]
    one = np.empty(N, dtype=np.bool_)  # a partner of one area (two-area partners: loops of their own, below)
    two = False
    for i in range(N):
        one[i] = S.partner_area2[i] < 0
        two = two or S.partner_area2[i] >= 0
    centre = np.zeros(K)
    for k in range(K):
        safe = max(E_k[k], 1e-12)
        centre[:] = 0.0
        plan = 0.0
        for i in range(N):
            plan += E[i, k] * q_hat[i, k]
            if not one[i]:
                continue
            for j in range(K):
                centre[j] += E[i, k] * a[i, j]
        if two:  # two-area partners' agendas in k's area, a_i|a(k) (after the loop above, kept as it was)
            area = S.outcome_area[k]
            for i in range(N):
                if not one[i] and E[i, k] > 0:
                    mass = area_mass(a[i], S.outcome_area, area)
                    for j in range(K):
                        if S.outcome_area[j] == area:
                            centre[j] += E[i, k] * a[i, j] / mass
        for j in range(K):
            centre[j] /= safe
        spread = 0.0
        for i in range(N):
            if not one[i]:
                continue
            spread += E[i, k] * tv(a[i], centre)
        if two:
            for i in range(N):
                if not one[i] and E[i, k] > 0:
                    spread += E[i, k] * tv_area(a[i], centre, S.outcome_area, S.outcome_area[k])
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
            * (1.0 - x[k])
        )
        x[k] = min(x[k] + growth, 1.0)
