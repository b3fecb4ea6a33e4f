r"""Mechanism 5: hours (docs/ODD.md §7.5).

Interest: partner i joins outcome k's working group if ``iota_ik = [a(k) = a(i)] [a_ik K_a >= theta_int]``.
With ``J_i`` a partner of a joint area that has a backbone:

- tables ``n_tab_i = 1`` if J_i, else ``sum_b T_ib``;
- working groups ``n_grp_i = sum_k iota_ik l_ik``, with ``l_ik = 1`` if k has a convener or J_i,
  else the number of attended backbones of k's area (one group per attended backbone);
- data systems ``n_sys_i = 1`` if the area shares data (kappa >= 1) and has_i, else ``sum_b T_ib``.

Demand and the time budget::

    F_i = phi_i c_i,   D_meet = n_tab h_tab + n_grp h_wg,   D_rep = n_sys h_rep
    s_i = min(1, (c_i - F_i) / (D_meet + D_rep))              (1 if no demand)
    meeting_i = s_i D_meet,  report_i = s_i D_rep,  program_i = c_i - F_i - meeting_i - report_i >= 0

The meeting load that drives burn-out is the demand ``mu_i = D_meet / c_i``. An inactive
partner gives no hours at all.
"""

from __future__ import annotations

from ci_sim.model.mechanisms.common import jit

JOINT = 3
SHARED_DATA = 1


@jit
def hours(S, P) -> None:
    """Update interest, groups and the partners' fundraising, meeting, reporting and program hours."""
    x, iota, T, c, z = S.agenda, S.interest, S.attend, S.capacity, S.convener_active
    partner_area, outcome_area, K_a, kappa = S.partner_area, S.outcome_area, S.outcomes_per_area, S.coordination
    has, active, n_tab, phi, n_grp = S.has_backbone, S.partner_active, S.n_tables, S.fundraising, S.groups
    F, meeting, report, program, mu = (
        S.fundraising_hours,
        S.meeting_hours,
        S.report_hours,
        S.program_hours,
        S.meeting_load,
    )
    N, K = x.shape
    B = T.shape[1]
    theta, h_tab, h_wg, h_rep = P.interest_threshold, P.table_hours, P.working_group_hours, P.report_hours
    for i in range(N):
        a = partner_area[i]
        joint = kappa[a] == JOINT and has[i]
        groups = 0.0
        for k in range(K):
            iota[i, k] = outcome_area[k] == a and x[i, k] * K_a[a] >= theta
            if iota[i, k]:
                if z[k] or joint:
                    groups += 1.0
                else:  # one group per attended backbone (all of the partner's area)
                    for b in range(B):
                        groups += T[i, b]
        n_grp[i] = groups
        tables = 1.0 if joint else n_tab[i]
        systems = 1.0 if kappa[a] >= SHARED_DATA and has[i] else n_tab[i]
        on = 1.0 if active[i] else 0.0
        F[i] = phi[i] * c[i] * on
        meeting_demand = (tables * h_tab + groups * h_wg) * on
        report_demand = systems * h_rep * on
        demand = meeting_demand + report_demand
        scale = min(1.0, (c[i] * on - F[i]) / demand) if demand > 0 else 1.0
        meeting[i] = meeting_demand * scale
        report[i] = report_demand * scale
        program[i] = c[i] * on - F[i] - meeting[i] - report[i]
        mu[i] = meeting_demand / c[i]
