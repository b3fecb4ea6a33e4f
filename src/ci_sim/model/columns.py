"""The names, labels and units of the model-level metrics: what results files and figures call them.

Importing this module is cheap (no compiled code), so the command line can name and check
metrics without loading the model. The metrics themselves are in :mod:`ci_sim.model.metrics`.
"""

from __future__ import annotations

#: The model-level metrics, in column order (the contract of DESIGN.md §5 first); one
#: function of the same name each in :mod:`ci_sim.model.metrics`.
METRIC_NAMES: tuple[str, ...] = (
    "alignment",
    "factions",
    "mean_trust",
    "engagement",
    "meeting_hours",
    "fundraising_share",
    "data_completeness",
    "action_plan_quality",
    "outcome_mean",
    "outcome_improvement",
    "nonprofit_fundraising_share",
    "data_cost",
    "backbone_staff_hours",
    "visibility_effort",
    "aligned_funding",
    "ask_coherence",
    "policy_alignment",
    "program_share",
    "active_backbones",
    "active_conveners",
    "money_in",
    "money_overhead",
    "money_staff",
    "money_convening",
    "money_grants",
    "money_unspent",
    "hours_capacity",
    "hours_fundraising",
    "hours_meetings",
    "hours_reporting",
    "hours_program",
    "practice_changed",
    "partnership_effect",
    "measured_outcome_mean",
    "measured_improvement",
    "indicators_improving",
    "proof_point",
    "results_seen",
    "funder_money",
    "political_fires",
    "duplicate_meeting_hours",
)

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
    "practice_changed": ("Practice changed by the partnership", "share of practice, 0–1"),
    "partnership_effect": ("Partnership's effect on the population", "share of the population, 0–1 scale"),
    "measured_outcome_mean": ("Measured outcome level", "mean measured level, 0–1"),
    "measured_improvement": ("Measured improvement", "change since the baseline year, 0–1 scale"),
    "indicators_improving": ("Indicators improving", "share of indicators better than the baseline year"),
    "proof_point": ("Proof point (60% of indicators improving)", "1 yes, 0 no"),
    "results_seen": ("Results partners see", "index, -1 to 1"),
    "funder_money": ("Funders' backbone money", "share of their commitment"),
    "political_fires": ("Political fires burning", "index, 0 and up"),
    "duplicate_meeting_hours": ("Meeting time hearing the same report again", "hours per partner per month"),
}


def metric_label(metric: str) -> str:
    """Title-style label of a metric column (``outcome_<name>`` becomes "Outcome: name")."""
    if metric in METRIC_LABELS:
        return METRIC_LABELS[metric][0]
    if metric.startswith("outcome_"):
        return "Outcome: " + metric.removeprefix("outcome_").replace("_", " ")
    if metric.startswith("measured_"):
        return "Measured: " + metric.removeprefix("measured_").replace("_", " ")
    return metric.replace("_", " ").capitalize()


def metric_unit(metric: str) -> str:
    """Unit of a metric column, for axis labels."""
    if metric in METRIC_LABELS:
        return METRIC_LABELS[metric][1]
    if metric.startswith("outcome_"):
        return "outcome level, 0–1"
    if metric.startswith("measured_"):
        return "measured level, 0–1 (yearly)"
    return "value"
