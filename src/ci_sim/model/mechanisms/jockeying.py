r"""Mechanism 11: jockeying for the backbone role (docs/ODD.md §7.17), ``mechanisms.jockeying``.

"Jockeying among partners to become the backbone" (strive-backbone-vs-convener): once a year
(months 12, 24, ...) the backbones of each area are reviewed, then organizations of the area
weigh a claim.

**Exit or merge.** A backbone whose money has dried up (its budget does not cover its overhead,
``M_b <= O``) or whose followers have (``m_b < x_exit N_a / n_a``, with n_a the area's active
backbones: fewer than ``exit_followers`` of an even split) leaves. If another backbone of the
area remains, it merges into the most followed one (its followers' trust carries over and
plans are pooled, as in a ``merge_backbones`` event); otherwise it exits.

**Claims.** Up to ``claims_per_year`` organizations of the area (nonprofits, school districts,
public agencies, universities and community groups that are not backbones yet; drawn from the
model's ``jockeying`` stream) each weigh a claim, in turn, seeing the claims made before them.
A claimant would be self-declared (legitimacy L_sd), with neutrality ~ U(0.2, 0.8) and servant
leadership ~ U(0.1, 0.6) (aspiring leaders who want to be seen), and it expects an even share
of followers among n_a + 1 backbones, so rivalry ``r = (1 - 1/(n_a + 1)) R[kappa_a]`` and
visibility ``v = (1 - sigma)(v_0 + v_r r)``. It expects from the funders, by their rule::

    split_by_visibility:  E = m_a F_a u / (sum_{b in a} u_b + u),   u = L_sd (1 + psi v)
    one_agreed:           E = m_a F_a if the area has no active backbone, else 0
    joint:                E = m_a F_a / (n_a + 1)

and claims when ``E + V v - O >= margin`` (V: ``visibility_value``, what it counts visibility as
worth; O: the overhead a backbone must carry). A claimant brings its own in-kind money.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ci_sim.model.mechanisms.budget import (
    ONE_AGREED,
    RIVALRY_BY_COORDINATION,
    SPLIT_BY_VISIBILITY,
    visibility_effort,
    visibility_pull,
)
from ci_sim.model.mechanisms.events import absorb
from ci_sim.model.scenario import SECTORS

if TYPE_CHECKING:
    from ci_sim.model.model import CollectiveImpactModel

#: sectors whose organizations can claim the backbone role (funders fund, businesses sell)
CLAIMANT_SECTORS = ("nonprofit", "school_district", "public_agency", "higher_ed", "community_group")


def review(m: CollectiveImpactModel, month: int) -> bool:
    """The yearly review after ``month`` months (a multiple of 12): exits and merges, then claims.

    Returns whether any backbone left or appeared (the caller re-derives the state).
    """
    if month == 0 or month % 12:
        return False
    changed = False
    for a, area in enumerate(m.area_names):
        changed |= exits(m, a)
        changed |= claims(m, a, area)
    return changed


def exits(m: CollectiveImpactModel, a: int) -> bool:
    """Backbones of area ``a`` whose money or followers dried up leave (merge into the most followed)."""
    prm = m.params
    members = np.flatnonzero((m.backbone_area == a) & m.backbone_active)
    if members.size == 0:
        return False
    even = m.partners_per_area[a] / members.size
    leaving = [b for b in members if m.budget[b] <= prm.overhead or m.mass[b] < prm.exit_followers * even]
    staying = [b for b in members if b not in leaving]
    for b in leaving:
        if staying:
            absorb(m, [b], max(staying, key=lambda j: m.mass[j]), a)
        m.backbone_active[b] = False
    return bool(leaving)


def claims(m: CollectiveImpactModel, a: int, area: str) -> bool:
    """Organizations of area ``a`` weigh a claim, one after another; returns whether any claimed."""
    prm = m.params
    draw = m.streams["jockeying"]
    candidates = np.flatnonzero(
        m.in_area(a) & m.partner_active & np.isin(np.array(SECTORS)[m.partner_sector], CLAIMANT_SECTORS)
    )
    claimed = False
    for _ in range(prm.claims_per_year):
        # every draw is made whether or not the organization claims (common random numbers)
        who = candidates[draw.integers(candidates.size)] if candidates.size else -1
        neutrality, servant = draw.uniform(0.2, 0.8), draw.uniform(0.1, 0.6)
        if who < 0 or who in m.claimants:
            continue
        if expected_gain(m, a, servant) >= prm.claim_margin:
            m.claimants.add(int(who))
            m.add_backbone(
                area,
                f"{area}_claimant_{len(m.claimants)}",
                neutrality=float(neutrality),
                servant_leadership=float(servant),
                origin="self_declared",
                in_kind=prm.claimant_in_kind,
            )
            claimed = True
    return claimed


def expected_gain(m: CollectiveImpactModel, a: int, servant: float) -> float:
    """``E + V v - O``: what claiming area ``a``'s backbone role would bring, $/month (see the module)."""
    prm = m.params
    members = np.flatnonzero((m.backbone_area == a) & m.backbone_active)
    n = members.size
    rivalry = (1.0 - 1.0 / (n + 1)) * RIVALRY_BY_COORDINATION[m.coordination[a]]
    visibility = visibility_effort(m.P, servant, rivalry)
    pool = m.pool[a] * m.funder_factor[a]
    rule = m.funder_rule[a]
    if rule == SPLIT_BY_VISIBILITY:
        u = visibility_pull(m.P, 1.0, prm.legitimacy_self_declared, visibility)
        money = pool * u / (m.pull[members].sum() + u) if u > 0 else 0.0
    elif rule == ONE_AGREED:
        money = pool if n == 0 else 0.0
    else:
        money = pool / (n + 1)
    return money + prm.visibility_value * visibility - prm.overhead
