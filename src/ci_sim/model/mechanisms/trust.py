r"""Mechanism 10: trust, legitimacy and engagement (docs/ODD.md §7.10).

A partner active in two areas is compared with a backbone by its agenda in the backbone's area,
``TV_a(b)(a_i, .)`` in place of ``TV(a_i, .)``, and sees the results of the backbone's area
(credit ``cr_a(b)``; in engagement, the (1 - w, w) mean of its areas' ``R_a``).

Support per follower and the service partner i receives (better near a biased backbone's programme)::

    sup_b = sat(h_bA + h_bE, H_sup),    srv_ib = sup_b [nu_b + (1 - nu_b)(1 - TV(a_i, g_b))]

Results partners see in the shared data, R_a in [-1, 1] (mechanism 12), give a servant leader
credit to pass on (no results, half; visibly worse, none) and move trust itself::

    cr_a = (1 + R_a) / 2            (1 with ``mechanisms.results_feedback`` off, and R_a = 0)

Political fires "regularly emerge" in every partnership, more with visibility contests among
rival backbones; the backbones' "connect and support leaders" work (community engagement
hours per partner of the area) puts them out (``mechanisms.political_fires``)::

    ct_b = (1 - sigma_b) v_r r_b
    Phi_a = (phi_0 + sum_{b<b' in a} ct_b ct_b') (1 - sat(sum_{b in a} H_bE / N_a, H_sup))

Trust relaxes toward a target that is a product of shares of trust kept::

    tau*_ib = clip[(0.5 + 0.5 L_b) (tau_0 + gamma_c sigma_b srv_ib cr_a) (1 + k_R R_a) (1 - c_claim cl_b)
                   (1 - c_uneq (1 - nu_b) TV(a_i, g_b)) max(0, 1 - c_dist max(0, TV(a_i, p_b) - eps))
                   (1 - c_fire sat(Phi_a, 1))]
    cl_b = v_b / max(v_0 + v_r, 1e-12)
    tau_ib <- tau_ib + rho_tau (tau*_ib - tau_ib) V_ib

Legitimacy ("who says?") is earned and lost by the value partners see, the support a backbone
gives discounted by the results it can show, ``val_b = sup_b cr_a``: earned on what is not yet
granted, lost on what is granted but not seen (equilibrium ``val / (val + k_loss (1 - val))``)::

    L_b <- L_b + rho_L [val_b (1 - L_b) - k_loss (1 - val_b) L_b]      [b active]

Engagement, with the new trust::

    taubar_i = sum_b pi_ib tau_ib (0.5 without a backbone),   sv_i = sum_b pi_ib srv_ib
    cv_i = sum_k cm_ik f_k / max(sum_k iota_ik, 1)        (cm_ik: i attends k's convened group)
    e*_i = e_0 + k_tau (taubar_i - 0.5) + k_s max(sv_i, cv_i) + k_eR R_a - k_b max(0, mu_i - mu_0)
    e_i <- e_i + rho_e (clip(e*_i) - e_i)

Trust and legitimacy are frozen when ``mechanisms.trust`` is off, engagement when
``mechanisms.engagement`` is off.
"""

from __future__ import annotations

import numpy as np

from ci_sim.model.mechanisms.common import jit, partner_mean, sat, tv, tv_area

ALIGNED, ENGAGEMENT = 1, 3  # columns of H_bf


@jit
def update_trust_engagement(S, P) -> None:
    """Update trust tau_ib, legitimacy L_b and engagement e_i."""
    tau, pi, V, a, g, p = S.trust, S.attention, S.valid, S.agenda, S.own_agenda, S.promoted
    nu, sigma, L, e, iota = S.neutrality, S.servant, S.legitimacy, S.engagement, S.interest
    f_c, mu, has, partner_active = (
        S.convener_facilitation,
        S.meeting_load,
        S.has_backbone,
        S.partner_active,
    )
    N, B = pi.shape
    K = a.shape[1]
    A = S.pool.shape[0]
    support = np.empty(B)
    for b in range(B):
        support[b] = sat(S.per_follower[b, ALIGNED] + S.per_follower[b, ENGAGEMENT], P.support_need)
    seen = np.zeros(A)  # R_a as the mechanisms use it
    credit = np.ones(A)  # cr_a
    if P.results_feedback_on:
        for area in range(A):
            seen[area] = S.results_seen[area]
            credit[area] = 0.5 * (1.0 + seen[area])
    political_fires(S, P)
    kept = np.empty(B)  # the factors of the trust target that depend on the backbone alone
    if P.trust_on:
        for b in range(B):
            area = S.backbone_area[b]
            claim = S.visibility[b] / max(P.visibility_base + P.visibility_rival, 1e-12)
            kept[b] = (
                (0.5 + 0.5 * L[b])
                * (1 - P.claim_cost * claim)
                * (1 - P.fire_cost * sat(S.fires[area], 1.0))
                * (1 + P.results_trust * seen[area])
            )
    # the parameters as locals: read once, not once per pair (the loop writes arrays the compiler
    # cannot prove are not the parameter record)
    dynamic, tau_0, gamma_c, c_uneq, c_dist, eps, rho = (
        P.trust_on,
        P.trust_base,
        P.credit_gain,
        P.unequal_cost,
        P.distance_cost,
        P.tolerance,
        P.trust_rate,
    )
    # a two-area partner's distances: of its agenda in the backbone's area, a_i|a(b) (computed
    # apart, so that the loop below stays as fast as for one-area partners)
    d_own2, d_promoted2 = two_area_distances(S, g), two_area_distances(S, p)
    for i in range(N):
        served = 0.0
        two = S.partner_area2[i] >= 0
        for b in range(B):
            if not V[i, b]:
                continue
            cr = credit[S.backbone_area[b]]  # (the results of the backbone's area)
            d_own = d_own2[i, b] if two else tv(a[i], g[b])
            fair = 1.0 - (1.0 - nu[b]) * d_own  # nu + (1 - nu)(1 - d)
            service = fair * support[b]
            served += pi[i, b] * service
            if dynamic:
                d_promoted = d_promoted2[i, b] if two else tv(a[i], p[b])
                far = max(0.0, 1.0 - c_dist * max(0.0, d_promoted - eps))
                target = kept[b] * (tau_0 + gamma_c * sigma[b] * service * cr) * ((1.0 - c_uneq) + c_uneq * fair) * far
                tau[i, b] += rho * (min(max(target, 0.0), 1.0) - tau[i, b])
        if P.engagement_on and partner_active[i]:
            trust = 0.5
            if has[i]:
                trust = 0.0
                for b in range(B):
                    trust += pi[i, b] * tau[i, b]
            convened, interests = 0.0, 0.0
            for k in range(K):
                if iota[i, k]:
                    interests += 1.0
                    if S.convened[i, k]:  # attends k's convened group
                        convened += f_c[k]
            convened /= max(interests, 1.0)
            target = (
                P.engagement_base
                + P.engagement_trust * (trust - 0.5)
                + P.engagement_support * max(served, convened)
                + P.engagement_results * partner_mean(S, i, seen)
                - P.burnout_cost * max(0.0, mu[i] - P.burnout_tolerance)
            )
            e[i] += P.engagement_rate * (min(max(target, 0.0), 1.0) - e[i])
    if P.trust_on:
        for b in range(B):
            if S.backbone_active[b]:  # legitimacy is earned and lost by the value partners see ("who says?")
                value = support[b] * credit[S.backbone_area[b]]
                L[b] += P.legitimacy_rate * (value * (1.0 - L[b]) - P.legitimacy_loss * (1.0 - value) * L[b])


@jit
def two_area_distances(S, y: np.ndarray) -> np.ndarray:
    """``TV(a_i|a(b), y_b|a(b))`` for the valid pairs of two-area partners, shape (N, B) (N = 0 rows without any)."""
    N, B = S.valid.shape
    two = False
    for i in range(N):
        two = two or S.partner_area2[i] >= 0
    out = np.zeros((N if two else 0, B))
    for i in range(out.shape[0]):
        if S.partner_area2[i] >= 0:
            for b in range(B):
                if S.valid[i, b]:
                    out[i, b] = tv_area(S.agenda[i], y[b], S.outcome_area, S.backbone_area[b])
    return out


@jit
def political_fires(S, P) -> None:
    """``S.fires`` Phi_a: the political fires of each area left burning (0 with ``mechanisms.political_fires`` off)."""
    A = S.fires.shape[0]
    contest_sum = np.zeros(A)
    contest_sq = np.zeros(A)
    leaders = np.zeros(A)  # the backbones' "connect and support leaders" hours
    for b in range(S.backbone_area.shape[0]):
        area = S.backbone_area[b]
        contest = (1.0 - S.servant[b]) * P.visibility_rival * S.rivalry[b] * P.visibility_contests_on
        contest_sum[area] += contest
        contest_sq[area] += contest * contest
        leaders[area] += S.fn_hours[b, ENGAGEMENT]
    for area in range(A):
        emerging = P.fire_base + (contest_sum[area] ** 2 - contest_sq[area]) / 2  # pairs b < b'
        put_out = sat(leaders[area] / max(S.partners_per_area[area], 1.0), P.support_need)
        S.fires[area] = emerging * (1.0 - put_out) * P.political_fires_on
