r"""Mechanism 3: promoted agendas (docs/ODD.md §7.3).

Followers' mean agenda ``abar_b = sum_i pi_ib a_i|a(b) / m_b`` (``g_b`` if ``m_b = 0``; ``a_i|a``: a
partner's agenda restricted to area a's outcomes and renormalized, which is a_i itself for a
partner of one area, ODD §2.2) and::

    p_b = nu_b abar_b + (1 - nu_b) g_b

A neutral backbone consolidates its followers' views; a biased one pulls toward its own
programme. In ``shared_agenda`` and ``joint`` areas (kappa_a >= 2) every backbone of the area
promotes one agenda, the attention-mass-weighted mean over the active ones::

    p_b = sum_{b' in a} m_b' p_b' / max(sum_{b' in a} m_b', 1e-12)

as does every area with ``mechanisms.competing_agendas`` off.
"""

from __future__ import annotations

import numpy as np

from ci_sim.model.mechanisms.common import area_mass, jit

SHARED_AGENDA = 2


@jit
def promoted_agendas(S, P) -> None:
    """Update ``S.promoted`` (p_b) from the followers' agendas and each backbone's own programme."""
    pi, x, g, nu, m, p = S.attention, S.agenda, S.own_agenda, S.neutrality, S.mass, S.promoted
    N, K = x.shape
    B = m.shape[0]
    A = S.pool.shape[0]
    followers_mean = np.zeros((B, K))
    two = 0
    for i in range(N):
        if S.partner_area2[i] >= 0:  # (after the others: the loop of one-area partners stays as it was)
            two += 1
            continue
        for b in range(B):
            if pi[i, b] > 0:
                for k in range(K):
                    followers_mean[b, k] += pi[i, b] * x[i, k]
    for i in range(N if two else 0):
        if S.partner_area2[i] < 0:
            continue
        for b in range(B):
            if pi[i, b] > 0:  # a_i|a(b): the follower's agenda in the backbone's area
                a = S.backbone_area[b]
                mass = area_mass(x[i], S.outcome_area, a)
                for k in range(K):
                    if S.outcome_area[k] == a:  # (no mass in the area: uniform, as in tv_area)
                        share = x[i, k] / mass if mass > 0 else 1.0 / S.outcomes_per_area[a]
                        followers_mean[b, k] += pi[i, b] * share
    for b in range(B):
        for k in range(K):
            mean = followers_mean[b, k] / m[b] if m[b] > 0 else g[b, k]
            p[b, k] = nu[b] * mean + (1.0 - nu[b]) * g[b, k]
    one = np.empty(A, dtype=np.bool_)  # the area promotes one agenda
    for a in range(A):
        one[a] = S.coordination[a] >= SHARED_AGENDA or not P.competing_agendas_on
    common = np.zeros((A, K))
    weight = np.zeros(A)
    for b in range(B):
        a = S.backbone_area[b]
        if one[a] and S.backbone_active[b]:
            weight[a] += m[b]
            for k in range(K):
                common[a, k] += m[b] * p[b, k]
    for b in range(B):
        a = S.backbone_area[b]
        if one[a]:
            for k in range(K):
                p[b, k] = common[a, k] / max(weight[a], 1e-12)
