r"""Mechanism 7: resources and grants (docs/ODD.md §7.7).

Resource-mobilization hours of the area ``H^R_a = sum_{b in a} H_bR``; funders hear one ask
only to the extent the backbones promote one agenda::

    pbar_a = sum_b H_bR p_b / max(H^R_a, 1e-12)
    coh_a  = 1 - sum_b H_bR TV(p_b, pbar_a) / max(H^R_a, 1e-12)

With ``qbar_a`` the area's mean effective plan quality (from the previous month's outcomes)::

    alpha*_a = sat(H^R_a coh_a, H_res) (0.5 + 0.5 qbar_a),      alpha_a <- alpha_a + rho_r (alpha*_a - alpha_a)
    phi_i   <- phi_i + rho_r (phi_i(0) (1 - alpha_a(i) [n_grp_i > 0]) - phi_i)

Partners in an action plan (at least one working group) raise less money themselves as
more funding flows through aligned channels (a two-area partner: ``(1 - w_i) alpha_a(i) + w_i alpha_a2(i)``;
in the grants below its capacity and fundraising hours count ``1 - w_i`` in its home area and ``w_i`` in its second).

Funders' backbone money responds to the coherence of the ask and to the results they see
(``mechanisms.funder_response``; results only with ``mechanisms.results_feedback``): the pool
paid out is ``m_a F_a``, with::

    m*_a = (1 - k_coh + k_coh coh_a)(1 + k_res R_a),     m_a <- m_a + rho_F (m*_a - m_a),   m_a(0) = 1

(funders back a partnership that speaks with one voice and shows results: the Strive funders'
"shock" at the cost of every partner's own data system, and funders aligning behind one agenda).

Program grants: the aligned part ``alpha_a G_a`` is paid to the partners in working groups,
in proportion to their capacity c_i, the rest to the partners who fundraise, in proportion to
their fundraising hours F_i; what nobody can take is reported unspent. Grants buy program
hours (``mechanisms.grant_capacity``)::

    funded_i = grant_i / omega_g,      funded^al_i = aligned grant_i / omega_g     (omega_g: program_cost)
"""

from __future__ import annotations

import numpy as np

from ci_sim.model.mechanisms.common import jit, partner_mean, sat, tv

RESOURCES = 5  # column of H_bf


@jit
def update_resources(S, P) -> None:
    """Update ask coherence, aligned funding alpha_a and fundraising shares phi_i; pay the grants."""
    H, p, area, coh, alpha = S.fn_hours, S.promoted, S.backbone_area, S.ask_coherence, S.aligned_funding
    phi, phi0, n_grp = S.fundraising, S.fundraising0, S.groups
    B, K = p.shape
    A = coh.shape[0]
    hours = np.zeros(A)  # H^R_a
    mean = np.zeros((A, K))  # pbar_a
    for b in range(B):
        hours[area[b]] += H[b, RESOURCES]
        for k in range(K):
            mean[area[b], k] += H[b, RESOURCES] * p[b, k]
    for a in range(A):
        for k in range(K):
            mean[a, k] /= max(hours[a], 1e-12)
    spread = np.zeros(A)
    for b in range(B):
        spread[area[b]] += H[b, RESOURCES] * tv(p[b], mean[area[b]])
    plan = np.zeros(A)
    for k in range(K):
        plan[S.outcome_area[k]] += S.plan_effective[k]
    for a in range(A):
        coh[a] = 1.0 - spread[a] / max(hours[a], 1e-12)
        target = sat(hours[a] * coh[a], P.resources_half_hours) * (0.5 + 0.5 * plan[a] / S.outcomes_per_area[a])
        alpha[a] += P.resources_rate * (target - alpha[a])
        if P.funder_response_on:
            seen = S.results_seen[a] if P.results_feedback_on else 0.0
            wanted = (1.0 - P.funder_coherence + P.funder_coherence * coh[a]) * (1.0 + P.funder_results * seen)
            S.funder_factor[a] += P.funder_rate * (wanted - S.funder_factor[a])
    for i in range(phi.shape[0]):
        linked = partner_mean(S, i, alpha) if n_grp[i] > 0 else 0.0
        phi[i] += P.resources_rate * (phi0[i] * (1 - linked) - phi[i])
    pay_grants(S, P)


@jit
def pay_grants(S, P) -> None:
    """The month's program grants and the program hours they buy.

    Writes ``S.grants_paid`` and ``S.grants_unspent`` per area ($/month), ``S.funded_hours`` and
    ``S.funded_aligned`` per partner (hours/month).
    """
    G, alpha, paid, unspent = S.grants, S.aligned_funding, S.grants_paid, S.grants_unspent
    n_grp, F, partner_area, c = S.groups, S.fundraising_hours, S.partner_area, S.capacity
    N = n_grp.shape[0]
    A = G.shape[0]
    linked = np.zeros(A)  # capacity of the partners in working groups
    fundraising = np.zeros(A)  # fundraising hours
    for i in range(N):  # a two-area partner: (1 - w_i) of its capacity and hours in its home area, w_i in its second
        a, a2, w = partner_area[i], S.partner_area2[i], S.second_weight[i]
        if n_grp[i] > 0 and S.partner_active[i]:
            linked[a] += c[i] * (1.0 - w)
            if a2 >= 0:
                linked[a2] += c[i] * w
        fundraising[a] += F[i] * (1.0 - w)
        if a2 >= 0:
            fundraising[a2] += F[i] * w
    for a in range(A):
        aligned = alpha[a] * G[a]
        paid[a] = aligned * (linked[a] > 0) + (G[a] - aligned) * (fundraising[a] > 0)
        unspent[a] = G[a] - paid[a]
    buys = 1.0 / P.program_cost if P.grant_capacity_on else 0.0
    for i in range(N):
        aligned, other = 0.0, 0.0
        for r in range(2):
            a = partner_area[i] if r == 0 else S.partner_area2[i]
            if a < 0:
                break
            part = 1.0 - S.second_weight[i] if r == 0 else S.second_weight[i]
            if n_grp[i] > 0 and S.partner_active[i] and linked[a] > 0:
                aligned += alpha[a] * G[a] * c[i] * part / linked[a]
            if fundraising[a] > 0:
                other += (G[a] - alpha[a] * G[a]) * F[i] * part / fundraising[a]
        S.funded_aligned[i] = aligned * buys
        S.funded_hours[i] = (aligned + other) * buys
