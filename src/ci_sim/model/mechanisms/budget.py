r"""Mechanism 2: budget, staff and the six backbone functions (docs/ODD.md §7.2).

Rivalry (share of the area's attention going to other backbones, scaled by coordination)
and visibility effort::

    r_b = (1 - m_b / max(N_a, 1)) R[kappa_a] [b active],       R = (1, 1, 0.5, 0)
    v_b = (1 - sigma_b) (v_0 + v_r r_b) [b active]

Funders' pull and the split of the pool m_a F_a (m_a: funders' response to results and
coherent asks, mechanism 7), overhead first. The pull follows the area's funders' rule
(``funding.rule``): ``split_by_visibility`` (legitimacy and visibility attract money),
``one_agreed`` (only the area's most legitimate active backbone, largest f_b L_b, first on
ties, is funded) or ``joint`` (the area's backbones are funded as one joint backbone of
backbones, in equal parts)::

    u_b = f_b L_b (1 + psi v_b) [b active]            split_by_visibility
    u_b = f_b L_b [b = argmax_{b' in a} f_b' L_b']     one_agreed
    u_b = f_b [b active]                               joint
    M_b = (u_b / sum_{b' in a} u_b' m_a F_a + I_b) [b active]

With one funders' pool for all areas (``funders.shared_pool``) both sums run over every area:
``M_b = u_b / sum_b' u_b' sum_a m_a F_a + I_b``.       (share 0 if the area's pull is 0: pool held)
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
SPLIT_BY_VISIBILITY, ONE_AGREED = 0, 1  # funders' rules, in scenario.FUNDER_RULES order (2: joint)


@jit
def visibility_effort(P, servant: float, rivalry: float) -> float:
    """Visibility effort of an active backbone, v = (1 - sigma)(v_0 + v_r r); 0 with visibility contests off."""
    return (1.0 - servant) * (P.visibility_base + P.visibility_rival * rivalry) * P.visibility_contests_on


@jit
def visibility_pull(P, weight: float, legitimacy: float, visibility: float) -> float:
    """Funders' pull under ``split_by_visibility``: u = f L (1 + psi v)."""
    return weight * legitimacy * (1.0 + P.funding_visibility * visibility)


@jit
def budget(S, P) -> None:
    """Update rivalry, visibility, pull, budgets, overheads, staff, function and per-follower hours."""
    m, area, active, coordination = S.mass, S.backbone_area, S.backbone_active, S.coordination
    r, v, u, M, O_b, staff_money, S_b = (
        S.rivalry,
        S.visibility,
        S.pull,
        S.budget,
        S.overhead,
        S.staff_money,
        S.staff_hours,
    )
    H, h, chi, F, N_a = S.fn_hours, S.per_follower, S.function_shares, S.pool, S.partners_per_area
    B = m.shape[0]
    A = F.shape[0]
    pull_area = np.zeros(A)
    agreed = np.full(A, -1)  # the most legitimate active backbone of each area (rule one_agreed)
    for b in range(B):
        a = area[b]
        if active[b] and (
            agreed[a] < 0
            or S.funding_weight[b] * S.legitimacy[b] > S.funding_weight[agreed[a]] * S.legitimacy[agreed[a]]
        ):
            agreed[a] = b
    for b in range(B):
        a = area[b]
        on = 1.0 if active[b] else 0.0
        r[b] = (1.0 - m[b] / max(N_a[a], 1.0)) * RIVALRY_BY_COORDINATION[coordination[a]] * on
        v[b] = visibility_effort(P, S.servant[b], r[b]) * on
        rule = S.funder_rule[a]
        if rule == SPLIT_BY_VISIBILITY:
            u[b] = visibility_pull(P, S.funding_weight[b], S.legitimacy[b], v[b]) * on
        elif rule == ONE_AGREED:
            u[b] = S.funding_weight[b] * S.legitimacy[b] if b == agreed[a] else 0.0
        else:
            u[b] = S.funding_weight[b] * on
        pull_area[a] += u[b]
    paid = np.empty(A)  # m_a F_a, what the funders pay out
    for a in range(A):
        paid[a] = F[a] * S.funder_factor[a]
    if S.shared_pool[0]:  # one pool for all areas, split by the pull of every area's backbones
        total_pull, total_paid = pull_area.sum(), paid.sum()
        for a in range(A):
            pull_area[a] = total_pull
            paid[a] = total_paid if total_pull > 0 else paid[a]  # (nobody to fund: each area's part is held)
    for a in range(A):
        S.pool_unspent[a] = 0.0 if pull_area[a] > 0 else paid[a]  # no backbone to fund: funders hold it
    members = np.zeros(A)
    pooled = np.zeros((A, 6))
    for b in range(B):
        a = area[b]
        on = 1.0 if active[b] else 0.0
        share = u[b] / pull_area[a] if pull_area[a] > 0 else 0.0
        M[b] = (share * paid[a] + S.in_kind[b]) * on
        O_b[b] = min(M[b], P.overhead)
        staff_money[b] = M[b] - O_b[b]
        S_b[b] = staff_money[b] / P.staff_wage
        for f in range(6):
            H[b, f] = S_b[b] * (1.0 - v[b]) * chi[f]
            pooled[a, f] += H[b, f]
        members[a] += on
    for b in range(B):
        a = area[b]
        if coordination[a] == JOINT:  # one team: every active member works an equal part
            on = 1.0 if active[b] else 0.0
            for f in range(6):
                H[b, f] = pooled[a, f] / max(members[a], 1.0) * on
        for f in range(6):
            h[b, f] = H[b, f] / max(m[b], 1.0)
