r"""Mechanism 4: agenda update in Friedkin–Johnsen form (docs/ODD.md §7.4).

Influence weights (the weight on others grows with the trust a partner places in the
backbones it follows and with their vision-and-strategy work per follower)::

    taubar_i = sum_b pi_ib tau_ib,   str_i = sum_b pi_ib sat(h_bV, H_sup)
    w_i = w_min + (w_max - w_min) taubar_i str_i,   s_i = s [has_i]

Conveners facilitate multi-sector networks (``mechanisms.convener_network``): the members of a
convened working group hear each other, so part of a member's peer influence comes from its
groups' engagement-weighted mean agendas, and being convened adds weight on others::

    cv_i = sum_k cm_ik f_k / max(sum_k iota_ik, 1),   abar^grp_k = sum_j cm_jk e_j a_j / sum_j cm_jk e_j
    (the plain mean of the members if every member has e_j = 0)
    n_i  = (1 - g cv_i) sum_j P_ij a_j + g cv_i sum_k cm_ik f_k abar^grp_k / sum_k cm_ik f_k

(cm_ik: active partner i attends outcome k's convened group, mechanism 5).
    w_i <- min(1, w_i + w_c cv_i)

and the synchronous update of every partner's agenda (all read the previous month's agendas)::

    a_i(t) = lambda_i [(1 - w_i) a_i(t-1) + w_i (s_i sum_b pi_ib p_b + (1 - s_i) n_i)] + (1 - lambda_i) a_i(0)

Friedkin & Johnsen (1999), "Social influence networks and opinion change", Advances in Group
Processes 16. With attention and trust frozen the update is linear, and its fixed point
``x* = (I - Lambda W)^-1 (I - Lambda) x(0)`` is the exact test oracle of tests/test_fj_oracle.py.
Skipped (agendas stay at a_i(0)) when ``mechanisms.agendas`` is off; an inactive partner keeps its agenda.
"""

from __future__ import annotations

import numpy as np

from ci_sim.model.mechanisms.common import area_mass, in_area, jit, sat

VISION = 0  # column of h_bf


@jit
def influence_weights(S, P, w: np.ndarray, s: np.ndarray) -> None:
    """Fill ``w`` (w_i, weight on others) and ``s`` (s_i, the backbones' share of it), both shape (N,)."""
    pi, tau, h, has = S.attention, S.trust, S.per_follower, S.has_backbone
    N, B = pi.shape
    vision = np.empty(B)  # sat(h_bV, H_sup), once per backbone
    for b in range(B):
        vision[b] = sat(h[b, VISION], P.support_need)
    for i in range(N):
        trust, strength = 0.0, 0.0
        for b in range(B):
            trust += pi[i, b] * tau[i, b]
            strength += pi[i, b] * vision[b]
        w[i] = P.influence_min + (P.influence_max - P.influence_min) * trust * strength
        s[i] = P.backbone_share if has[i] else 0.0


@jit
def update_agendas(S, P) -> None:
    """a_i(t) from a_i(t-1), the promoted agendas p_b and the peers' agendas (rows of the peer matrix P)."""
    x, x0, lam, pi, p, new = S.agenda, S.agenda0, S.openness, S.attention, S.promoted, S.agenda_next
    indptr, indices, P_ij, active = S.peer_indptr, S.peer_indices, S.peer_weights, S.partner_active
    N, K = x.shape
    B = pi.shape[1]
    w = np.empty(N)
    s = np.empty(N)
    influence_weights(S, P, w, s)
    iota, f, e = S.interest, S.convener_facilitation, S.engagement
    group_mean = np.zeros((K, K))  # abar^grp_k (row k)
    if P.convener_network_on:
        weight = np.zeros(K)
        for j in range(N):
            if active[j]:
                for k in range(K):
                    if S.convened[j, k]:
                        weight[k] += e[j]
                        if S.partner_area2[j] >= 0:  # a two-area member brings its agenda in k's area, a_j|a(k)
                            a = S.outcome_area[k]
                            mass = max(area_mass(x[j], S.outcome_area, a), 1e-12)
                            for q in range(K):
                                if S.outcome_area[q] == a:
                                    group_mean[k, q] += e[j] * x[j, q] / mass
                            continue
                        for q in range(K):
                            group_mean[k, q] += e[j] * x[j, q]
        for k in range(K):
            for q in range(K):  # (by the weight itself however small: a floor would shrink the mean off the simplex)
                group_mean[k, q] = group_mean[k, q] / weight[k] if weight[k] > 0 else 0.0
            if weight[k] == 0.0:  # every member disengaged (e_j = 0): their plain mean keeps the group on the simplex
                members = 0.0
                for j in range(N):
                    if active[j] and S.convened[j, k]:
                        members += 1.0
                        two = S.partner_area2[j] >= 0
                        mass = max(area_mass(x[j], S.outcome_area, S.outcome_area[k]), 1e-12) if two else 1.0
                        for q in range(K):
                            if not two or S.outcome_area[q] == S.outcome_area[k]:
                                group_mean[k, q] += x[j, q] / mass
                for q in range(K):
                    group_mean[k, q] /= max(members, 1.0)

    backbones = np.empty(K)  # sum_b pi_ib p_b
    peers = np.empty(K)  # n_i
    groups = np.empty(K)  # the groups' mean agenda
    for i in range(N):
        if not active[i]:
            new[i] = x[i]
            continue
        convened, interests = 0.0, 0.0
        groups[:] = 0.0
        if P.convener_network_on:
            for k in range(K):
                if iota[i, k]:
                    interests += 1.0
                    if S.convened[i, k]:
                        convened += f[k]
                        for q in range(K):
                            groups[q] += f[k] * group_mean[k, q]
        g_i = 0.0
        if convened > 0:
            for q in range(K):
                groups[q] /= convened
            g_i = P.group_convergence * convened / max(interests, 1.0)
        w_i = min(1.0, w[i] + P.convened_influence * convened / max(interests, 1.0))
        backbones[:] = 0.0
        for b in range(B):
            if pi[i, b] > 0:  # (other areas' backbones: no attention)
                for k in range(K):
                    backbones[k] += pi[i, b] * p[b, k]
        peers[:] = 0.0
        for edge in range(indptr[i], indptr[i + 1]):
            j = indices[edge]
            if S.partner_area2[j] >= 0 and not (in_area(S, i, S.partner_area[j]) and in_area(S, i, S.partner_area2[j])):
                # a two-area peer speaks of the area the two share: a_j|a
                a = S.partner_area[j] if in_area(S, i, S.partner_area[j]) else S.partner_area2[j]
                mass = max(area_mass(x[j], S.outcome_area, a), 1e-12)
                for k in range(K):
                    if S.outcome_area[k] == a:
                        peers[k] += P_ij[edge] * x[j, k] / mass
                continue
            for k in range(K):
                peers[k] += P_ij[edge] * x[j, k]
        for k in range(K):
            heard = (1 - g_i) * peers[k] + g_i * groups[k]
            new[i, k] = (
                lam[i] * ((1 - w_i) * x[i, k] + w_i * (s[i] * backbones[k] + (1 - s[i]) * heard))
                + (1 - lam[i]) * x0[i, k]
            )
    x[:, :] = new
