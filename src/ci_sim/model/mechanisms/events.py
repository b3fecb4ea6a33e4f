"""Events (docs/ODD.md §7.13): scenario changes applied at the start of a month.

An event with ``at: m`` is applied to the state after ``m`` months, before the mechanisms of
month ``m + 1``; the model then re-derives attention, budgets, promoted agendas and hours.
Several events of the same month apply in file order. Events are rare, so they are plain
Python working on the model's arrays in place (the compiled mechanisms share those arrays).

- ``merge_backbones: {keep, others_become}``: ``keep: n`` keeps the n most followed (largest
  attention mass m_b, ties to the lower index), ``keep: NAME`` that backbone (the most followed
  if it has left). Followers' trust carries over, ``tau_ij <- max(tau_ij, sum_{b in others} pi_ib tau_ib)``,
  and plans are pooled, ``P_jk <- max(P_jk, max_{b in others} P_bk)``. The others become inactive;
  with ``others_become: conveners`` each, in decreasing attention mass, convenes the free outcome of
  the area its own programme g_b weights most (facilitation of the area's conveners, its own
  in-kind, starting plan P_bk).
- ``backbone_exits: NAME``: that backbone becomes inactive.
- ``add_conveners: {outcomes, facilitation}``: each listed outcome gets a convener.
- ``funder_shift: {backbone_pool, program_grants, to_backbone}``: replaces F_a and/or G_a;
  ``to_backbone`` sets f_b = 0 in the area and f_NAME = 1.

Each applied event adds a record to the model's ``event_log`` (:func:`log`): which backbones
it kept, which left the role and which became conveners. A merge that keeps "the most followed"
resolves to a backbone only in a run, so this is where a run says who kept the role.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ci_sim.model.model import CollectiveImpactModel


def apply_due_events(m: CollectiveImpactModel, month: int) -> bool:
    """Apply the events with ``at == month`` (in file order); return whether any happened."""
    happened = False
    while m.events and m.events[0]["at"] == month:
        event = m.events.pop(0)
        APPLY[event["kind"]](m, event, m.area_index[event["area"]])
        happened = True
    return happened


def log(m: CollectiveImpactModel, event: dict, kept=(), left=(), convening=()) -> None:
    """Record what ``event`` did: backbone indices kept, leaving the role, becoming conveners (names, "; "-joined)."""

    def names(indices) -> str:
        return "; ".join(m.backbone_names[j] for j in indices)

    m.event_log.append(
        {
            "at": int(event["at"]),
            "area": event["area"],
            "event": event["kind"],
            "kept": names(kept),
            "left": names(left),
            "convening": names(convening),
        }
    )


def merge_backbones(m: CollectiveImpactModel, event: dict, area: int) -> None:
    spec = event["merge_backbones"]
    members = np.flatnonzero((m.backbone_area == area) & m.backbone_active)
    if members.size == 0:
        log(m, event)
        return
    named = m.backbone_names.index(spec["keep"]) if isinstance(spec["keep"], str) else None
    if named is not None and named in members:
        keep = np.array([named])
    else:  # keep the most followed (also when the named backbone has already left)
        count = spec["keep"] if named is None else 1
        keep = members[np.argsort(-m.mass[members], kind="stable")[:count]]
    others = np.setdiff1d(members, keep)
    for j in keep:
        absorb(m, others, j, area)
    m.backbone_active[others] = False
    convening = []
    if spec["others_become"] == "conveners":
        free = [k for k in np.flatnonzero(m.outcome_area == area) if not m.convener_active[k]]
        facilitation = m.config.issue_areas[area].conveners.facilitation
        for j in others[np.argsort(-m.mass[others], kind="stable")]:
            if not free:
                break
            k = max(free, key=lambda k: m.own_agenda[j, k])
            free.remove(k)
            m.add_conveners(area, [k], facilitation, m.in_kind[j])
            m.convener_plan[k] = max(m.convener_plan[k], m.backbone_plan[j, k])
            convening.append(j)
    log(m, event, kept=keep, left=others, convening=convening)


def absorb(m: CollectiveImpactModel, others, into: int, area: int) -> None:
    """Backbone ``into`` takes over ``others``' followers' trust and plans (the caller ends the others).

    ``tau_i,into <- max(tau_i,into, sum_{b in others} pi_ib tau_ib)`` for the area's partners,
    ``P_into,k <- max(P_into,k, max_{b in others} P_bk)``.
    """
    followed_trust = (m.attention[:, others] * m.trust[:, others]).sum(axis=1)
    m.trust[:, into] = np.maximum(m.trust[:, into], followed_trust * m.in_area(area))
    m.backbone_plan[into] = np.maximum(m.backbone_plan[into], m.backbone_plan[others].max(axis=0, initial=0))


def backbone_exits(m: CollectiveImpactModel, event: dict, area: int) -> None:
    j = m.backbone_names.index(event["backbone_exits"])
    log(m, event, left=[j] if m.backbone_active[j] else [])
    m.backbone_active[j] = False


def add_conveners(m: CollectiveImpactModel, event: dict, area: int) -> None:
    spec = event["add_conveners"]
    names = spec["outcomes"]
    ks = np.flatnonzero(m.outcome_area == area) if names == "all" else [m.outcome_names.index(n) for n in names]
    m.add_conveners(area, list(ks), spec["facilitation"], m.config.issue_areas[area].conveners.in_kind)
    log(m, event)


def funder_shift(m: CollectiveImpactModel, event: dict, area: int) -> None:
    spec = event["funder_shift"]
    if spec["backbone_pool"] is not None:
        m.pool[area] = spec["backbone_pool"]
    if spec["program_grants"] is not None:
        m.grants[area] = spec["program_grants"]
    if spec["to_backbone"] is not None:
        m.funding_weight[m.backbone_area == area] = 0.0
        m.funding_weight[m.backbone_names.index(spec["to_backbone"])] = 1.0
    log(m, event)


#: event kind -> what it does
APPLY = {f.__name__: f for f in (merge_backbones, backbone_exits, add_conveners, funder_shift)}
