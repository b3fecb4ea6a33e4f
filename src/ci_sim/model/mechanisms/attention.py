r"""Mechanism 1: attention and tables (docs/ODD.md §7.1).

Validity :math:`V_{ib} = 1` if partner *i* and backbone *b* are active and b's area is one of
i's (its home area, or its second area ``a2(i)`` for a partner active in two);
:math:`\text{has}_i = \max_b V_{ib}`. A two-area partner's attention and free hours are shared
by both areas' backbones; ``max_tables`` and the joint table count per area (ODD §7.1).
Attention over the valid backbones::

    pi_ib = V_ib max(tau_ib, 1e-9)^beta / sum_b' V_ib' max(tau_ib', 1e-9)^beta      (0 without a backbone)

except in ``joint`` areas, where every valid backbone weighs 1 (one joint table). With
``mechanisms.attention`` off, the previous attention is kept and only re-normalized over the
valid backbones (after an exit or a merge); a partner left with no attention at all (its
backbones all left, or it was away) takes it from trust again.

Attendance is a choice (``mechanisms.attendance_choice``): a partner weighs what a backbone's
table is worth to it against the share of its free hours the meeting takes, and sits at the
table (and in the backbone's working groups) only when it is worth it. The worth grows with its
engagement, the backbone's share of its attention relative to its most attended one, its trust
in the backbone and the stake the backbone holds (its budget against the mean of the area's
active backbones, up to 2: a seat where money is steered is worth having even without trust)::

    val_ib = [e_i >= e_min] e_i (pi_ib / max_b' pi_ib') (tau_ib + k_st min(2, M_b / Mbar_a)),   free_i = c_i (1 - phi_i)

The participation threshold ``e_min`` (``attend_engagement``, default 0.2; 0 switches it off) is
the engagement below which a partner is a member on paper only: nothing the partnership offers
is worth its hours, however many it has free. Without it the cost ``c_att h / free`` vanishes for
partners with many free hours, and such partners kept their seats down to engagement 0.05.

(in a ``joint`` area the table is one: its worth uses the partner's mean trust ``sum_b pi_ib tau_ib``).
Commitments are weighed in decreasing worth, each against the hours still free once the more
valuable ones are taken (``free`` shrinks by h_tab per table and h_wg n_i per backbone's groups,
n_i the partner's outcomes of interest)::

    T_ib = V_ib and val_ib >= c_att h_tab / free and (tables so far) < n_tab
    G_ib = V_ib and val_ib >= c_att h_wg n_i / free          (b's working groups)

so a disengaged partner leaves its tables and comes back when its engagement does. With the
switch off, the fixed rule: ``T_ib = G_ib = V_ib and pi_ib >= theta_att max_b' pi_ib' > 0 and
rank_i(b) < n_tab``, ``rank_i(b) = #{b': pi_ib' > pi_ib}`` (at most ``max_tables``, the most
attended; exact ties at the cut keep every tied table).
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
    partner_area, partner_area2, backbone_area = S.partner_area, S.partner_area2, S.backbone_area
    partner_active, backbone_active = S.partner_active, S.backbone_active
    N, B = V.shape
    without = 0
    for i in range(N):
        has[i] = False
        for b in range(B):
            mine = partner_area[i] == backbone_area[b] or partner_area2[i] == backbone_area[b]
            V[i, b] = partner_active[i] and backbone_active[b] and mine
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
def choose_tables(
    S,
    P,
    i: int,
    top: float,
    mean_trust: np.ndarray,
    stake: np.ndarray,
    joint: np.ndarray,
    value: np.ndarray,
    scratch: np.ndarray,
) -> int:
    """Partner i's tables T_ib and groups G_ib by attendance choice; returns the number of tables.

    Commitments are taken in decreasing worth val_ib (0 below the participation threshold e_min,
    so such a partner takes none), each while it is worth the share of the hours still free that
    it takes (a table h_tab, a backbone's groups h_wg per outcome of interest in the backbone's
    area, from the previous month); one joint table or set of groups costs its hours once. A
    partner active in two areas weighs both areas' backbones against one stock of free hours;
    ``max_tables`` and the joint table count per area. ``mean_trust`` [A]: the partner's mean
    trust in each area's backbones (the worth of a joint table); ``scratch`` (4, A) is overwritten.
    """
    pi, tau, V, T, G = S.attention, S.trust, S.valid, S.attend, S.in_groups
    B = pi.shape[1]
    tables_a, joint_table, joint_groups, interests = scratch[0], scratch[1], scratch[2], scratch[3]
    scratch[:, :] = 0.0
    if S.partner_area2[i] < 0:  # outcomes of interest (last month), per area
        groups = 0.0
        for k in range(S.interest.shape[1]):
            groups += S.interest[i, k]
        interests[S.partner_area[i]] = groups
    else:
        for k in range(S.interest.shape[1]):
            interests[S.outcome_area[k]] += S.interest[i, k]
    engaged = 1.0 if S.engagement[i] >= P.attend_engagement else 0.0  # participation threshold e_min
    for b in range(B):
        T[i, b] = False
        G[i, b] = False
        value[b] = 0.0
        if V[i, b] and top > 0:
            trust = mean_trust[S.backbone_area[b]] if joint[b] else tau[i, b]
            value[b] = engaged * S.engagement[i] * (trust + stake[b]) * pi[i, b] / top
    free = S.capacity[i] * (1.0 - S.fundraising[i])
    tables = 0
    any_joint = False
    for b in range(B):
        any_joint = any_joint or (joint[b] and value[b] > 0)
    for _ in range(B):
        b, best = -1, 0.0
        for c in range(B):  # the most valued backbone not yet weighed
            if value[c] > best:
                b, best = c, value[c]
        if b < 0:
            break
        value[b] = -1.0
        a = S.backbone_area[b]
        group_hours = P.working_group_hours * max(interests[a], 1.0)
        if joint[b] and joint_table[a]:  # the joint table already taken: one table
            T[i, b] = True
            tables += 1
        elif tables_a[a] < P.max_tables and free > 0 and best >= P.attend_cost * P.table_hours / free:
            T[i, b] = True
            tables += 1
            tables_a[a] += 1.0
            free -= P.table_hours
            joint_table[a] = joint_table[a] or joint[b]
        if joint[b] and joint_groups[a]:
            G[i, b] = True
        elif free > 0 and best >= P.attend_cost * group_hours / free:
            G[i, b] = True
            free -= group_hours
            joint_groups[a] = joint_groups[a] or joint[b]
        if not (T[i, b] or G[i, b] or any_joint or S.partner_area2[i] >= 0):
            # b took nothing, so free hours and the table count are unchanged and every backbone
            # left is worth at most b's: none of them passes either (same result, fewer scans;
            # not for a two-area partner, whose other area may have tables or groups left)
            break
    return tables


@jit
def fixed_tables_two_areas(S, P, i: int, top: float) -> int:
    """The fixed rule of a two-area partner: ``rank_i(b)`` counts the backbones of b's area only."""
    pi, V, T, G = S.attention, S.valid, S.attend, S.in_groups
    B = pi.shape[1]
    n = 0
    for b in range(B):
        rank = 0
        for c in range(B):
            rank += V[i, c] and S.backbone_area[c] == S.backbone_area[b] and pi[i, c] > pi[i, b]
        T[i, b] = V[i, b] and top > 0 and pi[i, b] >= P.attend_threshold * top and rank < P.max_tables
        G[i, b] = T[i, b]
        n += T[i, b]
    return n


@jit
def attention(S, P, recompute: bool) -> None:
    """Update attention and attendance.

    Writes ``S.attention`` (pi), ``S.attend`` (T), ``S.in_groups`` (G), ``S.n_tables``, ``S.mass`` (m)
    and ``S.followed``.

    Args:
        S: the state record.
        P: the parameter record.
        recompute: compute pi from trust (always at the start of a run; afterwards only while
            ``mechanisms.attention`` is on), else re-normalize the previous pi over the valid backbones.
    """
    pi, tau, V, T, G, m = S.attention, S.trust, S.valid, S.attend, S.in_groups, S.mass
    has, followed, n_tables = S.has_backbone, S.followed, S.n_tables
    N, B = pi.shape
    joint = np.empty(B, dtype=np.bool_)
    for b in range(B):
        joint[b] = S.coordination[S.backbone_area[b]] == JOINT
    beta, theta, n_tab, choice = P.attention_beta, P.attend_threshold, P.max_tables, P.attendance_choice_on
    whole = beta == np.floor(beta) and 0.0 <= beta <= 64.0  # tau^beta by repeated squaring
    m[:] = 0.0
    top_k = np.empty(max(n_tab, 1))
    value = np.empty(B)  # scratch: val_ib of one partner
    stake = np.zeros(B)  # k_st min(2, M_b / Mbar_a), from the previous month's budgets
    if choice:
        money = np.zeros(S.pool.shape[0])
        count = np.zeros(S.pool.shape[0])
        for b in range(B):
            if S.backbone_active[b]:
                money[S.backbone_area[b]] += S.budget[b]
                count[S.backbone_area[b]] += 1.0
        for b in range(B):
            mean = money[S.backbone_area[b]] / max(count[S.backbone_area[b]], 1.0)
            stake[b] = P.attend_stake * min(2.0, S.budget[b] / mean) if mean > 0 else 0.0
    A = S.pool.shape[0]
    scratch = np.empty((4, A))  # of choose_tables
    trust_a = np.zeros(A)  # the partner's mean trust in each area's backbones (a joint table's worth)
    for i in range(N):
        two = S.partner_area2[i] >= 0
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
        top, first, mean_trust = 0.0, -1, 0.0
        for b in range(B):
            pi[i, b] = pi[i, b] / total if total > 0 else 0.0
            mean_trust += pi[i, b] * tau[i, b]
            m[b] += pi[i, b]
            if pi[i, b] > top:
                top, first = pi[i, b], b
        followed[i] = first if has[i] else -1
        if choice:
            trust_a[S.partner_area[i]] = mean_trust
            if two:  # per area: sum_{b in a} pi_ib tau_ib / sum_{b in a} pi_ib
                for a in (S.partner_area[i], S.partner_area2[i]):
                    weight, trust = 0.0, 0.0
                    for b in range(B):
                        if S.backbone_area[b] == a:
                            weight += pi[i, b]
                            trust += pi[i, b] * tau[i, b]
                    trust_a[a] = trust / weight if weight > 0 else 0.0
            n = choose_tables(S, P, i, top, trust_a, stake, joint, value, scratch)
        elif two:
            n = fixed_tables_two_areas(S, P, i, top)
        else:  # the tables with at least attend_threshold of the top table's attention
            cut = kth_largest(pi[i], n_tab, top_k) if B > n_tab else -np.inf
            n = 0
            for b in range(B):
                T[i, b] = V[i, b] and top > 0 and pi[i, b] >= theta * top and pi[i, b] >= cut
                G[i, b] = T[i, b]
                n += T[i, b]
        n_tables[i] = n
