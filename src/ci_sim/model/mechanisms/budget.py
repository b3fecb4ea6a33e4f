r"""Mechanism 2: budget, staff and the six backbone functions (docs/ODD.md §7.2).

Rivalry (share of the area's attention going to other backbones, scaled by coordination)
and visibility effort::

    r_b = (1 - m_b / max(N_a, 1)) R[kappa_a] [b active],       R = (1, 1, 0.5, 0)
    v_b = (1 - sigma_b) (v_0 + v_r r_b) [b active]

Funders' pull and the split of the pool F_a (visibility attracts money), overhead first::

    u_b = f_b L_b (1 + psi v_b) [b active]
    M_b = (u_b / sum_{b' in a} u_b' F_a + I_b) [b active]       (share 0 if the area's pull is 0: pool held)
    O_b = min(M_b, O),   S_b = (M_b - O_b) / omega_s            (staff hours/month)

Function hours ``H_bf = S_b (1 - v_b) chi_f`` for f in vision, aligned activities, measurement,
engagement, policy, resources; in ``joint`` areas pooled equally over the active members;
per follower ``h_bf = H_bf / max(m_b, 1)``.
"""

from __future__ import annotations

import numpy as np

from ci_sim.model.mechanisms.common import jit

#: R: how much of the rivalry among an area's backbones survives each coordination level
RIVALRY_BY_COORDINATION = np.array([1.0, 1.0, 0.5, 0.0])
JOINT = 3


@jit
def budget(S, P) -> None:
    """Update rivalry, visibility, pull, budgets, overheads, staff, function and per-follower hours."""
    B = S.mass.shape[0]
    A = S.pool.shape[0]
    pull_area = np.zeros(A)
    for b in range(B):
        a = S.backbone_area[b]
        on = 1.0 if S.backbone_active[b] else 0.0
        S.rivalry[b] = (
            (1.0 - S.mass[b] / max(S.partners_per_area[a], 1.0)) * RIVALRY_BY_COORDINATION[S.coordination[a]] * on
        )
        S.visibility[b] = (1.0 - S.servant[b]) * (P.visibility_base + P.visibility_rival * S.rivalry[b]) * on
        S.pull[b] = S.funding_weight[b] * S.legitimacy[b] * (1.0 + P.funding_visibility * S.visibility[b]) * on
        pull_area[a] += S.pull[b]
    for a in range(A):
        S.pool_unspent[a] = 0.0 if pull_area[a] > 0 else S.pool[a]  # no backbone to fund: funders hold it
    members = np.zeros(A)
    pooled = np.zeros((A, 6))
    for b in range(B):
        a = S.backbone_area[b]
        on = 1.0 if S.backbone_active[b] else 0.0
        share = S.pull[b] / pull_area[a] if pull_area[a] > 0 else 0.0
        S.budget[b] = (share * S.pool[a] + S.in_kind[b]) * on
        S.overhead[b] = min(S.budget[b], P.overhead)
        S.staff_money[b] = S.budget[b] - S.overhead[b]
        S.staff_hours[b] = S.staff_money[b] / P.staff_wage
        for f in range(6):
            S.fn_hours[b, f] = S.staff_hours[b] * (1.0 - S.visibility[b]) * S.function_shares[f]
            pooled[a, f] += S.fn_hours[b, f]
        members[a] += on
    for b in range(B):
        a = S.backbone_area[b]
        if S.coordination[a] == JOINT:  # one team: every active member works an equal part
            on = 1.0 if S.backbone_active[b] else 0.0
            for f in range(6):
                S.fn_hours[b, f] = pooled[a, f] / max(members[a], 1.0) * on
        for f in range(6):
            S.per_follower[b, f] = S.fn_hours[b, f] / max(S.mass[b], 1.0)
