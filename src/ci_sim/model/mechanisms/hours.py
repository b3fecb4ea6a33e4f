r"""Mechanism 5: hours (docs/ODD.md §7.5).

Interest: partner i joins outcome k's working group if
``iota_ik = [a(k) in {a(i), a2(i)}] [(a_i|a(k))_k K_a >= theta_int]``
(``a_i|a``: its agenda restricted to area a and renormalized; ``a_i`` itself for a one-area partner).
For a partner active in two areas, tables, ``J_i`` and data systems are counted per area and added.
With ``J_i`` a partner of a joint area that has a backbone:

- tables ``n_tab_i = 1`` if J_i, else ``sum_b T_ib``;
- working groups ``n_grp_i = sum_k iota_ik l_ik``, with ``l_ik = 1`` if k has a convener or J_i
  (with ``mechanisms.attendance_choice``, a convened group only if ``e_i >= e_min`` and
  ``e_i f_k >= c_att h_wg / free_i``:
  then i is a member of k's convened group, ``cm_ik``, which mechanisms 4, 8 and 10 read),
  else ``sum_b G_ib``, one group per backbone whose groups it attends (mechanism 1);
- data systems ``n_sys_i = max_b R_ib`` if the area shares data (kappa >= 1), else ``sum_b R_ib``, with
  ``R_ib = T_ib or G_ib``: a partner reports to the system of each backbone it works with (mechanism 6).

With ``mechanisms.duplicated_meetings`` off, a partner counts one table and one group per
outcome however many backbones it follows; with ``mechanisms.fragmented_data`` off, one data
system, as if the area shared data.

Demand and the time budget::

    F_i = phi_i c_i,   D_meet = n_tab h_tab + n_grp h_wg,   D_rep = n_sys h_rep
    s_i = min(1, (c_i - F_i) / (D_meet + D_rep))              (1 if no demand)
    meeting_i = s_i D_meet,  report_i = s_i D_rep,  program_i = c_i - F_i - meeting_i - report_i >= 0

Duplicated meeting hours (tables beyond the first, groups beyond one per outcome: "go to three
meetings and hear the same report three times") are ``s_i ((n_tab_i - 1)^+ h_tab + (n_grp_i -
sum_k iota_ik min(l_ik, 1)) h_wg)``. The meeting load that drives burn-out is the demand
``mu_i = D_meet / c_i``. An inactive partner gives no hours at all.
"""

from __future__ import annotations

import numpy as np

from ci_sim.model.mechanisms.common import area_mass, jit

JOINT = 3
SHARED_DATA = 1


@jit
def hours(S, P) -> None:
    """Update interest, groups and the partners' fundraising, meeting, reporting and program hours."""
    x, iota, T, G, c, z = S.agenda, S.interest, S.attend, S.in_groups, S.capacity, S.convener_active
    outcome_area, K_a, kappa = S.outcome_area, S.outcomes_per_area, S.coordination
    active, phi, n_grp, V = S.partner_active, S.fundraising, S.groups, S.valid
    F, meeting, report, program, mu = (
        S.fundraising_hours,
        S.meeting_hours,
        S.report_hours,
        S.program_hours,
        S.meeting_load,
    )
    N, K = x.shape
    B = T.shape[1]
    A = K_a.shape[0]
    theta, h_tab, h_wg, h_rep = P.interest_threshold, P.table_hours, P.working_group_hours, P.report_hours
    tables_a = np.zeros(A)  # per area of the partner: sum_b T_ib, sum_b G_ib, sum_b R_ib, has a backbone, one table
    groups_a = np.zeros(A)
    reports_a = np.zeros(A)
    joint_a = np.zeros(A, dtype=np.bool_)
    mass = np.ones(A)  # sum_{k in a} x_ik for a two-area partner (1: a one-area partner's agenda as it is)
    areas = np.empty(2, dtype=np.int64)
    for i in range(N):
        areas[0], areas[1] = S.partner_area[i], S.partner_area2[i]
        n_areas = 2 if areas[1] >= 0 else 1
        for r in range(n_areas):
            a = areas[r]
            tables_a[a], groups_a[a], reports_a[a], joint_a[a] = 0.0, 0.0, 0.0, False
            if n_areas == 2:
                mass[a] = area_mass(x[i], outcome_area, a)
        if n_areas == 1:  # every valid backbone is of the home area (the fast loop of one-area partners)
            a = areas[0]
            for b in range(B):
                groups_a[a] += G[i, b]
                reports_a[a] += T[i, b] or G[i, b]
            tables_a[a], joint_a[a] = S.n_tables[i], S.has_backbone[i]
        else:
            for b in range(B):
                a = S.backbone_area[b]
                if V[i, b]:  # (valid: b is of one of the partner's areas)
                    tables_a[a] += T[i, b]
                    groups_a[a] += G[i, b]
                    reports_a[a] += T[i, b] or G[i, b]
                    joint_a[a] = True  # has a backbone in a
        for r in range(n_areas):
            a = areas[r]
            joint_a[a] = (kappa[a] == JOINT or not P.duplicated_meetings_on) and joint_a[a]
        group_cost = P.attend_cost * h_wg / max(c[i] * (1.0 - phi[i]), 1e-12)  # (no free hours: no group is worth it)
        groups = 0.0
        distinct = 0.0  # groups counted once per outcome: what hearing each report once would take
        for k in range(K):
            a = outcome_area[k]
            mine = a == areas[0] or a == areas[1]
            share = x[i, k] if n_areas == 1 else x[i, k] / max(mass[a], 1e-12)  # a_ik|a(k)
            iota[i, k] = mine and share * K_a[a] >= theta
            S.convened[i, k] = False
            if iota[i, k]:
                if z[k]:
                    e = S.engagement[i]
                    worth = not P.attendance_choice_on or (
                        e >= P.attend_engagement and e * S.convener_facilitation[k] >= group_cost
                    )
                    S.convened[i, k] = worth and active[i]
                    attended = 1.0 if worth else 0.0
                else:  # one group per backbone of k's area whose groups it attends
                    attended = min(groups_a[a], 1.0) if joint_a[a] else groups_a[a]
                groups += attended
                distinct += min(attended, 1.0)
        n_grp[i] = groups
        tables, extra_tables, systems = 0.0, 0.0, 0.0
        for r in range(n_areas):  # tables and data systems per area
            a = areas[r]
            t = min(tables_a[a], 1.0) if joint_a[a] else tables_a[a]
            tables += t
            extra_tables += max(t - 1.0, 0.0)
            shared = kappa[a] >= SHARED_DATA or not P.fragmented_data_on
            systems += min(reports_a[a], 1.0) if shared else reports_a[a]
        on = 1.0 if active[i] else 0.0
        F[i] = phi[i] * c[i] * on
        meeting_demand = (tables * h_tab + groups * h_wg) * on
        report_demand = systems * h_rep * on
        demand = meeting_demand + report_demand
        scale = min(1.0, (c[i] * on - F[i]) / demand) if demand > 0 else 1.0
        meeting[i] = meeting_demand * scale
        # the same report heard again: tables beyond the first of each area, groups beyond one per outcome
        S.duplicate_hours[i] = (extra_tables * h_tab + (groups - distinct) * h_wg) * on * scale
        report[i] = report_demand * scale
        program[i] = c[i] * on - F[i] - meeting[i] - report[i]
        mu[i] = meeting_demand / c[i]
