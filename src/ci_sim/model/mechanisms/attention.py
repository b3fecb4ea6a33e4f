r"""Mechanism 1: attention and tables (docs/ODD.md §7.1).

Validity :math:`V_{ib} = 1` if partner *i* and backbone *b* are active and in the same area;
:math:`\text{has}_i = \max_b V_{ib}`. Attention over the valid backbones::

    pi_ib = V_ib max(tau_ib, 1e-9)^beta / sum_b' V_ib' max(tau_ib', 1e-9)^beta      (0 without a backbone)

except in ``joint`` areas, where every valid backbone weighs 1 (one joint table). With
``mechanisms.attention`` off, the previous attention is kept and only re-normalized over the
valid backbones (after an exit or a merge); a partner left with no attention at all (its
backbones all left, or it was away) takes it from trust again.

Tables attended: ``T_ib = V_ib and pi_ib >= theta_att * max_b' pi_ib' > 0 and rank_i(b) < n_tab``,
with ``rank_i(b) = #{b': pi_ib' > pi_ib}``
(at most ``max_tables``, the most attended; exact ties at the cut keep every tied table).
Attention mass (followers in partner units): ``m_b = sum_i pi_ib``.
"""

from __future__ import annotations

import numpy as np

from ci_sim.model.mechanisms.common import jit, power

JOINT = 3  # coordination level of a "backbone of backbones" (ODD §7.11)


@jit
def validity(S) -> None:
    """``S.valid`` (V_ib), ``S.has_backbone`` and ``S.without_backbone`` from the active masks."""
    V, has = S.valid, S.has_backbone
    partner_area, backbone_area = S.partner_area, S.backbone_area
    partner_active, backbone_active = S.partner_active, S.backbone_active
    N, B = V.shape
    without = 0
    for i in range(N):
        has[i] = False
        for b in range(B):
            V[i, b] = partner_active[i] and backbone_active[b] and partner_area[i] == backbone_area[b]
            has[i] = has[i] or V[i, b]
        without += not has[i]
    S.without_backbone[0] = without


@jit
def kth_largest(row: np.ndarray, k: int, top: np.ndarray) -> float:
    """The k-th largest value of ``row``, counting repeated values (``np.partition``'s order statistic).

    ``pi_ib >= kth_largest(pi_i, n_tab)`` is ``rank_i(b) < n_tab``, ties at the cut kept. Keeps the
    k largest so far in ``top`` (scratch, length >= k): O(B k) without allocation; counting
    ranks pairwise measured 45% slower at nine backbones, sorting a copy of each row slower still.
    """
    top[:k] = -np.inf
    for v in row:
        if v > top[k - 1]:
            j = k - 1
            while j > 0 and top[j - 1] < v:
                top[j] = top[j - 1]
                j -= 1
            top[j] = v
    return top[k - 1]


@jit
def attention(S, P, recompute: bool) -> None:
    """Update ``S.attention`` (pi), ``S.attend`` (T), ``S.n_tables``, ``S.mass`` (m) and ``S.followed``.

    Args:
        S: the state record.
        P: the parameter record.
        recompute: compute pi from trust (always at the start of a run; afterwards only while
            ``mechanisms.attention`` is on), else re-normalize the previous pi over the valid backbones.
    """
    pi, tau, V, T, m = S.attention, S.trust, S.valid, S.attend, S.mass
    has, followed, n_tables = S.has_backbone, S.followed, S.n_tables
    N, B = pi.shape
    joint = np.empty(B, dtype=np.bool_)
    for b in range(B):
        joint[b] = S.coordination[S.backbone_area[b]] == JOINT
    beta, theta, n_tab = P.attention_beta, P.attend_threshold, P.max_tables
    whole = beta == np.floor(beta) and 0.0 <= beta <= 64.0  # tau^beta by repeated squaring
    m[:] = 0.0
    top_k = np.empty(max(n_tab, 1))
    for i in range(N):
        total = 0.0
        for b in range(B):  # unnormalized weights, written in place
            pi[i, b] = pi[i, b] if V[i, b] and not recompute else 0.0
            total += pi[i, b]
        if recompute or total == 0:  # (frozen attention: a partner with none left takes it from trust)
            total = 0.0
            for b in range(B):
                w = 0.0
                if V[i, b]:
                    w = 1.0 if joint[b] else power(max(tau[i, b], 1e-9), beta, whole)
                pi[i, b] = w
                total += w
        top, first = 0.0, -1
        for b in range(B):
            pi[i, b] = pi[i, b] / total if total > 0 else 0.0
            m[b] += pi[i, b]
            if pi[i, b] > top:
                top, first = pi[i, b], b
        followed[i] = first if has[i] else -1
        # a partner sits at the tables with at least attend_threshold of its top table's attention,
        # at most max_tables of them (its most attended)
        cut = kth_largest(pi[i], n_tab, top_k) if B > n_tab else -np.inf
        n = 0
        for b in range(B):
            T[i, b] = V[i, b] and top > 0 and pi[i, b] >= theta * top and pi[i, b] >= cut
            n += T[i, b]
        n_tables[i] = n
