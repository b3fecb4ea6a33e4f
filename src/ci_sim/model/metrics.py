"""Model-level measures, each a small named function of the model's arrays.

Every function takes a :class:`ci_sim.model.model.CollectiveImpactModel` and returns a float.
:func:`model_metrics` gathers them (plus one ``outcome_<name>`` per outcome) into the
columns of ``summary.csv`` and ``timeseries.parquet``; the definitions are in the README
and docs/ODD.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ci_sim.model.model import tv_distance

if TYPE_CHECKING:
    from ci_sim.model.model import CollectiveImpactModel


def _area_consensus(m: CollectiveImpactModel) -> np.ndarray:
    """Each partner's area consensus: the mean agenda of the partners of its area."""
    if m.n_areas == 1:
        return (m.agenda.sum(axis=0) / m.n_partners)[None, :]
    sums = m.area_onehot_p.T @ m.agenda
    return (sums / np.maximum(m.partners_per_area, 1)[:, None])[m.partner_area]


def alignment(m: CollectiveImpactModel) -> float:
    """1 − mean total-variation distance of partner agendas from their area's consensus."""
    # the mean of 0.5 sum_k |x_ik - c_k| over partners, as one sum over the whole array
    return float(1.0 - 0.5 * np.abs(m.agenda - _area_consensus(m)).sum() / m.n_partners)


def factions(m: CollectiveImpactModel) -> float:
    """Number of camps, summed over areas.

    A camp is a table (a backbone, or the one table of a joint area) that is the first
    choice of at least 10% of the area's partners.
    """
    followed = m.followed_backbones()
    chosen = followed[followed >= 0]
    if chosen.size == 0:
        return 0.0
    # in a joint area every backbone sits at the one table: count the area, not the backbone
    table = np.where(m.coordination[m.backbone_area] == 3, m.n_backbones + m.backbone_area, np.arange(m.n_backbones))
    sizes = np.bincount(table[chosen], minlength=m.n_backbones + m.n_areas)
    area_of_table = np.concatenate([m.backbone_area, np.arange(m.n_areas)])
    return float(((sizes > 0) & (sizes >= 0.1 * m.partners_per_area[area_of_table])).sum())


def mean_trust(m: CollectiveImpactModel) -> float:
    """Mean trust of partners in the backbones they follow (attention-weighted).

    0 where no partner has a backbone to trust.
    """
    followers = m.n_partners - m.partners_without_backbone
    # followed_trust is zero for partners without a backbone, so the sum runs over followers only
    return float(m.followed_trust().sum() / followers) if followers else 0.0


def engagement(m: CollectiveImpactModel) -> float:
    """Mean partner engagement, in [0,1]."""
    return float(m.engagement.sum() / m.n_partners)


def meeting_hours(m: CollectiveImpactModel) -> float:
    """Mean hours per partner per month in backbone tables and working groups."""
    return float(m.last.meeting_hours.sum() / m.n_partners)


def fundraising_share(m: CollectiveImpactModel) -> float:
    """Share of partner time spent fundraising (capacity-weighted)."""
    return float((m.fundraising * m.capacity).sum() / m.capacity.sum())


def nonprofit_fundraising_share(m: CollectiveImpactModel) -> float:
    """Share of time spent fundraising by nonprofits and community groups (0 if none)."""
    sel = m.fundraises_for_itself
    return float(m.fundraising[sel].mean()) if sel.any() else 0.0


def data_completeness(m: CollectiveImpactModel) -> float:
    """Completeness of the community-wide data picture, partner-weighted over areas."""
    return float((m.last.completeness * m.partners_per_area).sum() / m.n_partners)


def action_plan_quality(m: CollectiveImpactModel) -> float:
    """Mean quality of the action plans partners work to, over outcomes."""
    return float(m.last.plan_effective.sum() / m.n_outcomes)


def outcome_mean(m: CollectiveImpactModel) -> float:
    """Mean outcome level y_k over all outcomes, in [0,1]."""
    return float(m.outcome.sum() / m.n_outcomes)


def outcome_improvement(m: CollectiveImpactModel) -> float:
    """Mean of y_k(t) − y_k(0) over all outcomes."""
    return float((m.outcome - m.outcome0).sum() / m.n_outcomes)


def data_cost(m: CollectiveImpactModel) -> float:
    """Community money spent on data, $/month.

    Backbone measurement staff, partners' own systems and the value of partners' reporting hours.
    """
    return float(m.last.data_cost)


def backbone_staff_hours(m: CollectiveImpactModel) -> float:
    """Backbone staff hours per month, all backbones."""
    return float(m.last.staff_hours.sum())


def visibility_effort(m: CollectiveImpactModel) -> float:
    """Share of backbone staff time spent on visibility and recruitment."""
    hours = m.last.staff_hours
    return float((hours * m.last.visibility).sum() / hours.sum()) if hours.sum() > 0 else 0.0


def aligned_funding(m: CollectiveImpactModel) -> float:
    """Share of program grants flowing through aligned channels (partner-weighted)."""
    return float((m.aligned_funding * m.partners_per_area).sum() / m.n_partners)


def ask_coherence(m: CollectiveImpactModel) -> float:
    """How much the backbones' funding and policy asks agree (1: one ask), partner-weighted."""
    return float((m.last.ask_coherence * m.partners_per_area).sum() / m.n_partners)


def policy_alignment(m: CollectiveImpactModel) -> float:
    """Saturation of coherent policy advocacy (drives the outcome bonus), partner-weighted."""
    return float((m.last.policy_alignment * m.partners_per_area).sum() / m.n_partners)


def program_share(m: CollectiveImpactModel) -> float:
    """Share of partner hours left for program work after fundraising, meetings, reporting."""
    return float(m.last.program_hours.sum() / m.capacity.sum())


def active_backbones(m: CollectiveImpactModel) -> float:
    return float(m.backbone_active.sum())


def active_conveners(m: CollectiveImpactModel) -> float:
    return float(m.convener_active.sum())


def money_in(m: CollectiveImpactModel) -> float:
    """$ per month coming in: funders' pools, in-kind of backbones and conveners, grants."""
    return float(
        m.pool.sum()
        + (m.in_kind * m.backbone_active).sum()
        + (m.convener_in_kind * m.convener_active).sum()
        + m.grants.sum()
    )


def money_overhead(m: CollectiveImpactModel) -> float:
    return float(m.last.overhead.sum())


def money_staff(m: CollectiveImpactModel) -> float:
    return float(m.last.staff_money.sum())


def money_convening(m: CollectiveImpactModel) -> float:
    return float((m.convener_in_kind * m.convener_active).sum())


def money_grants(m: CollectiveImpactModel) -> float:
    return float(m.last.grants_paid.sum())


def money_unspent(m: CollectiveImpactModel) -> float:
    """Money reported unspent: pools of areas without a backbone, grants nobody could take."""
    return float(m.last.pool_unspent.sum() + m.last.grants_unspent.sum())


def hours_capacity(m: CollectiveImpactModel) -> float:
    return float(m.capacity.sum())


def hours_fundraising(m: CollectiveImpactModel) -> float:
    return float(m.last.fundraising_hours.sum())


def hours_meetings(m: CollectiveImpactModel) -> float:
    return float(m.last.meeting_hours.sum())


def hours_reporting(m: CollectiveImpactModel) -> float:
    return float(m.last.report_hours.sum())


def hours_program(m: CollectiveImpactModel) -> float:
    return float(m.last.program_hours.sum())


#: The model-level metrics, in column order (the contract of DESIGN.md §5 first).
MODEL_METRICS: dict[str, Callable[[CollectiveImpactModel], float]] = {
    f.__name__: f
    for f in (
        alignment,
        factions,
        mean_trust,
        engagement,
        meeting_hours,
        fundraising_share,
        data_completeness,
        action_plan_quality,
        outcome_mean,
        outcome_improvement,
        nonprofit_fundraising_share,
        data_cost,
        backbone_staff_hours,
        visibility_effort,
        aligned_funding,
        ask_coherence,
        policy_alignment,
        program_share,
        active_backbones,
        active_conveners,
        money_in,
        money_overhead,
        money_staff,
        money_convening,
        money_grants,
        money_unspent,
        hours_capacity,
        hours_fundraising,
        hours_meetings,
        hours_reporting,
        hours_program,
    )
}

#: Metrics that users compare first (tables, plain-language lines, figures).
KEY_METRICS = [
    "outcome_improvement",
    "alignment",
    "mean_trust",
    "engagement",
    "meeting_hours",
    "fundraising_share",
    "data_completeness",
]


#: Plain-language label and unit of each metric column (definitions above).
METRIC_LABELS: dict[str, tuple[str, str]] = {
    "alignment": ("Alignment with the common agenda", "index, 0–1"),
    "factions": ("Factions (camps around rival tables)", "number of camps"),
    "mean_trust": ("Trust in the backbone followed", "index, 0–1"),
    "engagement": ("Partner engagement", "share of partners' potential, 0–1"),
    "meeting_hours": ("Meeting time", "hours per partner per month"),
    "fundraising_share": ("Time spent fundraising", "share of partner time"),
    "data_completeness": ("Shared data completeness", "share of the community picture"),
    "action_plan_quality": ("Action-plan quality", "index, 0–1"),
    "outcome_mean": ("Outcome level", "mean outcome level, 0–1"),
    "outcome_improvement": ("Outcome improvement", "gain since start, 0–1 scale"),
    "nonprofit_fundraising_share": ("Nonprofit time spent fundraising", "share of nonprofit time"),
    "data_cost": ("Community cost of data", "$ per month"),
    "backbone_staff_hours": ("Backbone staff time", "hours per month"),
    "visibility_effort": ("Backbone effort on visibility", "share of staff time"),
    "aligned_funding": ("Funding through aligned channels", "share of program grants"),
    "active_backbones": ("Active backbones", "number"),
    "active_conveners": ("Active conveners", "number"),
    "money_in": ("Money coming in", "$ per month"),
    "money_overhead": ("Backbone overheads", "$ per month"),
    "money_staff": ("Backbone staff money", "$ per month"),
    "money_convening": ("Conveners' in-kind support", "$ per month"),
    "money_grants": ("Program grants paid", "$ per month"),
    "money_unspent": ("Money left unspent", "$ per month"),
    "hours_capacity": ("Partner capacity", "hours per month, all partners"),
    "hours_fundraising": ("Fundraising time", "hours per month, all partners"),
    "hours_meetings": ("Meeting time", "hours per month, all partners"),
    "hours_reporting": ("Reporting time", "hours per month, all partners"),
    "hours_program": ("Program time", "hours per month, all partners"),
}


def metric_label(metric: str) -> str:
    """Title-style label of a metric column (``outcome_<name>`` becomes "Outcome: name")."""
    if metric in METRIC_LABELS:
        return METRIC_LABELS[metric][0]
    if metric.startswith("outcome_"):
        return "Outcome: " + metric.removeprefix("outcome_").replace("_", " ")
    return metric.replace("_", " ").capitalize()


def metric_unit(metric: str) -> str:
    """Unit of a metric column, for axis labels."""
    if metric in METRIC_LABELS:
        return METRIC_LABELS[metric][1]
    if metric.startswith("outcome_"):
        return "outcome level, 0–1"
    return "value"


def metric_names(m: CollectiveImpactModel) -> list[str]:
    """All column names for this model: the named metrics then ``outcome_<name>``."""
    return list(MODEL_METRICS) + [f"outcome_{k}" for k in m.outcome_names]


def model_metrics(m: CollectiveImpactModel) -> list[float]:
    """The values of :func:`metric_names` for the model's current state."""
    return [f(m) for f in MODEL_METRICS.values()] + m.outcome.tolist()


def agent_snapshot(m: CollectiveImpactModel) -> dict[str, np.ndarray]:
    """Per-partner state (for the agent table sampled every ``output.agent_period`` steps)."""
    L = m.last
    followed = m.followed_backbones()
    names = np.array([*m.backbone_names, ""], dtype=object)
    return {
        "partner": np.arange(m.n_partners),
        "area": np.array(m.area_names, dtype=object)[m.partner_area],
        "sector": np.array([a.sector for a in m.partner_agents], dtype=object),
        "followed_backbone": names[followed],
        "trust_followed": m.followed_trust(),
        "engagement": m.engagement.copy(),
        "distance_from_consensus": tv_distance(m.agenda, _area_consensus(m)),
        "fundraising_share": m.fundraising.copy(),
        "data_capacity": m.data_capacity.copy(),
        "meeting_hours": L.meeting_hours.copy(),
    }
