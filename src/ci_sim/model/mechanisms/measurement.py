r"""Mechanism 6: shared measurement (docs/ODD.md §7.6).

Measurement hours feeding backbone b's data system: ``H~_bM = H_bM``, or the area's total
when the area shares data (kappa >= 1: one system). Then::

    Q_b <- [Q_b + rho_d (sat(H~_bM, H_data) - Q_b)] [b active]
    d_i <- d_i + rho_d (d*_i - d_i),   d*_i = sum_b pi_ib sat(h_bM, H_sup) if has_i, else d_own

Completeness of the area's community-wide picture is the best single system's quality times
its reach (a community-wide picture needs one system)::

    reach_b = sum_i R_ib d_i / max(N_a, 1)                 (kappa = 0)
    reach_a = sum_{i in a} R_i d_i / max(N_a, 1)           (kappa >= 1: the shared system)

(a partner active in two areas counts in the reach of each, by the systems of that area it reports to)
where partner i reports to the systems of the backbones it works with, ``R_ib = T_ib or G_ib``
(tables or working groups, mechanism 1), and ``R_i = max_b R_ib``.
    C_a = max_{b in a, active} Q_b reach    if the area has an active backbone,
          max_{i in a} d_i / max(N_a, 1)    otherwise (each partner's own system covers itself)

With ``mechanisms.fragmented_data`` off every area counts as sharing data (kappa >= 1).

The community's money spent on data (an imputed cost, $/month)::

    DC = omega_s sum_b H_bM + C_own #{i: not has_i} + omega_p sum_i report_i
"""

from __future__ import annotations

import numpy as np

from ci_sim.model.mechanisms.common import jit, sat

MEASUREMENT = 2  # column of H_bf
SHARED_DATA = 1


@jit
def update_measurement(S, P) -> None:
    """Update data quality Q_b, partners' data capacity d_i and completeness C_a."""
    pi, T, G, d, has, h, H = (
        S.attention,
        S.attend,
        S.in_groups,
        S.data_capacity,
        S.has_backbone,
        S.per_follower,
        S.fn_hours,
    )
    Q, C, area, active, kappa = S.data_quality, S.completeness, S.backbone_area, S.backbone_active, S.coordination
    partner_area, N_a = S.partner_area, S.partners_per_area
    N, B = pi.shape
    A = C.shape[0]
    shared = np.empty(A, dtype=np.bool_)  # one data system in the area
    for a in range(A):
        shared[a] = kappa[a] >= SHARED_DATA or not P.fragmented_data_on
    area_hours = np.zeros(A)
    active_in_area = np.zeros(A)
    for b in range(B):
        area_hours[area[b]] += H[b, MEASUREMENT]
        active_in_area[area[b]] += active[b]
    support = np.empty(B)  # sat(h_bM, H_sup), once per backbone
    for b in range(B):
        hours = area_hours[area[b]] if shared[area[b]] else H[b, MEASUREMENT]
        Q[b] += P.data_rate * (sat(hours, P.data_half_hours) - Q[b])
        if not active[b]:
            Q[b] = 0.0
        support[b] = sat(h[b, MEASUREMENT], P.support_need)
    reach = np.zeros(B)
    reach_shared = np.zeros(A)
    own_best = np.zeros(A)
    for i in range(N):
        target = P.own_data_capacity
        if has[i]:
            target = 0.0
            for b in range(B):
                target += pi[i, b] * support[b]
        d[i] += P.data_rate * (target - d[i])
        reports, reports2 = False, False  # to a system of its home area, of its second area
        for b in range(B):
            if T[i, b] or G[i, b]:
                reach[b] += d[i]
                if area[b] == partner_area[i]:
                    reports = True
                else:
                    reports2 = True
        if reports:
            reach_shared[partner_area[i]] += d[i]
        else:
            own_best[partner_area[i]] = max(own_best[partner_area[i]], d[i])
        a2 = S.partner_area2[i]
        if a2 >= 0:  # a two-area partner counts in the reach of both of its areas
            if reports2:
                reach_shared[a2] += d[i]
            else:
                own_best[a2] = max(own_best[a2], d[i])
    best = np.zeros(A)
    for b in range(B):
        a = area[b]
        r = (reach_shared[a] if shared[a] else reach[b]) / max(N_a[a], 1.0)
        if active[b]:
            best[a] = max(best[a], Q[b] * r)
    for a in range(A):
        C[a] = best[a] if active_in_area[a] > 0 else own_best[a] / max(N_a[a], 1.0)


@jit
def data_cost(S, P) -> None:
    """``S.data_cost[0]``: backbone measurement staff, partners' own systems and reporting hours, $/month."""
    H, report = S.fn_hours, S.report_hours
    staff = 0.0
    for b in range(H.shape[0]):
        staff += H[b, MEASUREMENT]
    reporting = 0.0
    for i in range(report.shape[0]):
        reporting += report[i]
    S.data_cost[0] = staff * P.staff_wage + S.without_backbone[0] * P.own_data_cost + reporting * P.partner_wage
