r"""Mechanism 8: working groups and action plans (docs/ODD.md §7.8).

Engaged interest ``iota~_ik = iota_ik e_i``; interested partners per outcome ``n_k = max(sum_i iota_ik, 1)``.

Backbone-run groups (thin facilitation from aligned-activities staff time)::

    part_bk = sum_i G_ib iota~_ik / n_k              (joint areas: sum_i max_b G_ib iota~_ik / n_k)
    phi_b   = f_thin sat(H~_bA / K_a, H_fac)          (H~_bA: the area's total in joint areas)
    P_bk   <- [P_bk + rho_q phi_b part_bk (1 - P_bk) - delta_q P_bk] [a(k) = a(b)]

(G_ib: partner i attends b's working groups, mechanism 1). With ``mechanisms.fragmented_plans``
off every area plans as a joint area does (one group per outcome, the area's staff hours).

Convener-run groups (one table per outcome, open to every interested partner)::

    part_k = sum_i cm_ik e_i / n_k            (cm_ik: i attends k's convened group, mechanism 5)
    q_k   <- [q_k + rho_q f_k part_k (1 - q_k) - delta_q q_k] z_k

Yearly update with new data (months 12, 24, ...): ``q_k += u_q C_a (1 - q_k) z_k`` and
``P_bk += u_q C_a (1 - P_bk)`` for active backbones. The plan partner i works to for outcome k
is ``q_k`` if k has a convener, else ``sum_b pi_ib P_bk`` (for a partner active in two areas,
divided by its attention to the backbones of k's area).
"""

from __future__ import annotations

import numpy as np

from ci_sim.model.mechanisms.common import jit, sat

ALIGNED = 1  # column of H_bf
JOINT = 3


@jit
def update_plans(S, P, month: int) -> None:
    """Update backbone plans P_bk, convener plans q_k and the plans partners work to, ``S.partner_plan``."""
    iota, e, T, pi, has = S.interest, S.engagement, S.in_groups, S.attention, S.has_backbone
    Pb, q, z, C = S.backbone_plan, S.convener_plan, S.convener_active, S.completeness
    N, K = iota.shape
    B = pi.shape[1]
    A = S.pool.shape[0]
    interested = np.zeros(K)  # sum_i iota_ik
    engaged = np.zeros(K)  # sum_i iota~_ik
    engaged_joint = np.zeros(K)  # sum_i has_i iota~_ik
    engaged_b = np.zeros((B, K))  # sum_i G_ib iota~_ik
    for i in range(N):
        in_groups, in_groups2 = False, False  # attends the (joint) groups of its home area, of its second area
        for b in range(B):
            if S.backbone_area[b] == S.partner_area[i]:
                in_groups = in_groups or T[i, b]
            else:
                in_groups2 = in_groups2 or T[i, b]
        for k in range(K):
            if iota[i, k]:
                interested[k] += 1.0
                if S.convened[i, k]:  # a member of k's convened group
                    engaged[k] += e[i]
                if has[i] and (in_groups if S.outcome_area[k] == S.partner_area[i] else in_groups2):
                    engaged_joint[k] += e[i]
        for b in range(B):
            if T[i, b]:  # (a partner sits at few tables: test the table once, not once per outcome)
                for k in range(K):
                    if iota[i, k]:
                        engaged_b[b, k] += e[i]
    aligned_area = np.zeros(A)
    for b in range(B):
        aligned_area[S.backbone_area[b]] += S.fn_hours[b, ALIGNED]
    yearly = month % 12 == 0  # new data each year: plans are updated
    for b in range(B):
        a = S.backbone_area[b]
        joint = S.coordination[a] == JOINT or not P.fragmented_plans_on
        aligned = aligned_area[a] if joint else S.fn_hours[b, ALIGNED]
        phi = P.thin_facilitation * sat(aligned / S.outcomes_per_area[a], P.facilitation_half_hours)
        for k in range(K):
            if S.outcome_area[k] != a:
                Pb[b, k] = 0.0
                continue
            part = (engaged_joint[k] if joint else engaged_b[b, k]) / max(interested[k], 1.0)
            Pb[b, k] += P.plan_rate * phi * part * (1 - Pb[b, k]) - P.plan_decay * Pb[b, k]
            if yearly and S.backbone_active[b]:
                Pb[b, k] += P.plan_update * C[a] * (1 - Pb[b, k])
    for k in range(K):
        if not z[k]:
            q[k] = 0.0
            continue
        part = engaged[k] / max(interested[k], 1.0)
        q[k] += P.plan_rate * S.convener_facilitation[k] * part * (1 - q[k]) - P.plan_decay * q[k]
        if yearly:
            q[k] += P.plan_update * C[S.outcome_area[k]] * (1 - q[k])
    q_hat = S.partner_plan
    for i in range(N):
        for k in range(K):
            if z[k]:
                q_hat[i, k] = q[k]
            else:
                q_hat[i, k] = 0.0
                for b in range(B):
                    if pi[i, b] > 0:  # (other areas' backbones: no attention)
                        q_hat[i, k] += pi[i, b] * Pb[b, k]
                if S.partner_area2[i] >= 0:  # two areas: the attention to k's area's backbones, renormalized
                    weight = 0.0
                    for b in range(B):
                        if S.backbone_area[b] == S.outcome_area[k]:
                            weight += pi[i, b]
                    q_hat[i, k] = q_hat[i, k] / weight if weight > 0 else 0.0
