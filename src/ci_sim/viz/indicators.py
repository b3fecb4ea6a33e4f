"""Backbone effectiveness indicators of the Collective Impact Forum, filled with simulated measures.

The Collective Impact Forum's office-hours slides "Navigating the Backbone Role" (2019; see
the seeds folder) list *illustrative backbone effectiveness indicators* for each of the six
backbone functions. The model does not survey anyone, but several of its measures speak to
those indicators directly; this module maps each function to the slide's indicators and to
the measures that correspond to them, as small named functions of one replication's metrics.

Each measure takes ``final`` (the final-step metrics of one replication, a mapping or a
``pandas.Series``), ``start`` (the step-0 metrics of the same replication) and the
:class:`~ci_sim.model.scenario.Scenario`, and returns a float. Most are metric columns as they
are; a few are derived from them:

* Backbone staff hours on a function: the model splits each backbone's staff hours (after
  overheads) between visibility and the six functions in the shares ``parameters.effort_*``;
  so ``backbone_staff_hours x (1 - visibility_effort) x share`` is exactly the hours spent
  on that function, all backbones together.
* Changes since the start ("increasingly aligned", "increasing levels of trust").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from ci_sim.model.scenario import Scenario

Row = Mapping[str, float] | pd.Series

#: The six backbone functions in the order of the slides, with the model's effort parameter.
FUNCTIONS = [
    ("Guide Vision and Strategy", "effort_vision"),
    ("Support Aligned Activities", "effort_aligned"),
    ("Establish Shared Measurement Practices", "effort_measurement"),
    ("Cultivate Community Engagement and Ownership", "effort_engagement"),
    ("Advance Policy", "effort_policy"),
    ("Mobilize Funding", "effort_resources"),
]


def function_share(scenario: Scenario, parameter: str) -> float:
    """Share of backbone function time given to one function (``parameters.effort_*``, normalized)."""
    prm = scenario.parameters
    shares = {name: float(getattr(prm, name)) for _, name in FUNCTIONS}
    total = sum(shares.values())
    return shares[parameter] / total if total > 0 else 1.0 / len(shares)


def function_hours(final: Row, scenario: Scenario, parameter: str) -> float:
    """Backbone staff hours per month on one function, all backbones (see the module docstring)."""
    return (
        float(final["backbone_staff_hours"])
        * (1.0 - float(final["visibility_effort"]))
        * function_share(scenario, parameter)
    )


def _hours_on(parameter: str) -> Callable[[Row, Row, Scenario], float]:
    def measure(final: Row, start: Row, scenario: Scenario) -> float:
        return function_hours(final, scenario, parameter)

    measure.__name__ = f"staff_hours_{parameter.removeprefix('effort_')}"
    return measure


def alignment_now(final: Row, start: Row, scenario: Scenario) -> float:
    return float(final["alignment"])


def alignment_gain(final: Row, start: Row, scenario: Scenario) -> float:
    return float(final["alignment"]) - float(start["alignment"])


def camps(final: Row, start: Row, scenario: Scenario) -> float:
    return float(final["factions"])


def trust_now(final: Row, start: Row, scenario: Scenario) -> float:
    return float(final["mean_trust"])


def trust_gain(final: Row, start: Row, scenario: Scenario) -> float:
    return float(final["mean_trust"]) - float(start["mean_trust"])


def meeting_hours(final: Row, start: Row, scenario: Scenario) -> float:
    return float(final["meeting_hours"])


def program_time_share(final: Row, start: Row, scenario: Scenario) -> float:
    """Share of partner hours left for program work (after meetings, reporting, fundraising)."""
    cap = float(final["hours_capacity"])
    return float(final["hours_program"]) / cap if cap > 0 else 0.0


def plan_quality(final: Row, start: Row, scenario: Scenario) -> float:
    return float(final["action_plan_quality"])


def data_completeness(final: Row, start: Row, scenario: Scenario) -> float:
    return float(final["data_completeness"])


def data_cost_per_partner(final: Row, start: Row, scenario: Scenario) -> float:
    """Community money spent on data per partner per month ($)."""
    return float(final["data_cost"]) / scenario.community.partners


def reporting_hours_per_partner(final: Row, start: Row, scenario: Scenario) -> float:
    return float(final["hours_reporting"]) / scenario.community.partners


def engagement_now(final: Row, start: Row, scenario: Scenario) -> float:
    return float(final["engagement"])


def behind_the_scenes(final: Row, start: Row, scenario: Scenario) -> float:
    """Share of backbone staff time NOT spent on visibility and recruitment."""
    return 1.0 - float(final["visibility_effort"])


def policy_alignment(final: Row, start: Row, scenario: Scenario) -> float:
    """Saturation of coherent policy advocacy (docs/ODD.md §7.9): the model's aligned policy."""
    return float(final["policy_alignment"])


def ask_coherence(final: Row, start: Row, scenario: Scenario) -> float:
    """How much the backbones' asks to funders and policymakers agree (1: one ask)."""
    return float(final["ask_coherence"])


def aligned_funding(final: Row, start: Row, scenario: Scenario) -> float:
    return float(final["aligned_funding"])


def fundraising_share(final: Row, start: Row, scenario: Scenario) -> float:
    return float(final["fundraising_share"])


def nonprofit_fundraising_share(final: Row, start: Row, scenario: Scenario) -> float:
    return float(final["nonprofit_fundraising_share"])


@dataclass(frozen=True)
class Measure:
    """One simulated measure standing in for one or more of the slide's indicators."""

    function: str
    indicator: str  # the slide's wording (quoted) or a close paraphrase
    label: str  # what the model measures, in plain words
    unit: str
    better: str  # "higher" or "lower"
    compute: Callable[[Row, Row, Scenario], float]
    digits: int = 2


#: Indicator wording for rows that add context rather than quote the slide's indicator list.
CHANGE = "(the same, as change since the start)"
EFFORT = "(backbone effort on this function)"

#: The six functions, the slide's indicators (quoted) and the simulated measures that fill them.
#: Where the model measures something close to, but not the same as, the indicator, the
#: measure's label says so.
MEASURES: list[Measure] = [
    # Guide Vision and Strategy
    Measure(
        FUNCTIONS[0][0],
        "Partners' individual work is increasingly aligned with common agenda",
        "Alignment of partners' agendas with the common agenda",
        "0–1",
        "higher",
        alignment_now,
    ),
    Measure(FUNCTIONS[0][0], CHANGE, "Change in alignment since the start", "0–1", "higher", alignment_gain),
    Measure(
        FUNCTIONS[0][0],
        "Board members and key leaders increasingly look to backbone organization for "
        "initiative support, strategic guidance and leadership",
        "Camps: rival tables each followed by at least 10% of partners (1 = everyone looks to one table)",
        "number",
        "lower",
        camps,
        1,
    ),
    Measure(
        FUNCTIONS[0][0],
        EFFORT,
        "Backbone staff time on vision and strategy",
        "hours/month",
        "higher",
        _hours_on("effort_vision"),
        0,
    ),
    # Support Aligned Activities
    Measure(
        FUNCTIONS[1][0],
        "Partners report increasing levels of trust with one another",
        "Partners' trust in the backbone they follow (the model tracks trust in backbones, not among partners)",
        "0–1",
        "higher",
        trust_now,
    ),
    Measure(FUNCTIONS[1][0], CHANGE, "Change in trust since the start", "0–1", "higher", trust_gain),
    Measure(
        FUNCTIONS[1][0],
        "Partners improve efficiency of their work",
        "Meeting time per partner",
        "hours/month",
        "lower",
        meeting_hours,
        1,
    ),
    Measure(
        FUNCTIONS[1][0],
        "Partners improve efficiency of their work",
        "Share of partner time left for program work",
        "share",
        "higher",
        program_time_share,
    ),
    Measure(
        FUNCTIONS[1][0],
        "Partners improve quality of their work",
        "Quality of the action plans partners work to",
        "0–1",
        "higher",
        plan_quality,
    ),
    Measure(
        FUNCTIONS[1][0],
        EFFORT,
        "Backbone staff time on aligned activities",
        "hours/month",
        "higher",
        _hours_on("effort_aligned"),
        0,
    ),
    # Establish Shared Measurement Practices
    Measure(
        FUNCTIONS[2][0],
        "Shared data system is in development",
        "Completeness of the community-wide data picture",
        "share",
        "higher",
        data_completeness,
    ),
    Measure(
        FUNCTIONS[2][0],
        "Partners have robust / shared data capacity",
        "Community spending on data systems and reporting, per partner",
        "$/month",
        "lower",
        data_cost_per_partner,
        0,
    ),
    Measure(
        FUNCTIONS[2][0],
        "Partners have robust / shared data capacity",
        "Reporting time per partner",
        "hours/month",
        "lower",
        reporting_hours_per_partner,
        1,
    ),
    Measure(
        FUNCTIONS[2][0],
        EFFORT,
        "Backbone staff time on shared measurement",
        "hours/month",
        "higher",
        _hours_on("effort_measurement"),
        0,
    ),
    # Cultivate Community Engagement and Ownership
    Measure(
        FUNCTIONS[3][0],
        "Community members increasingly take action",
        "Engagement of partner organizations (the model has no residents; partners stand in)",
        "0–1",
        "higher",
        engagement_now,
    ),
    Measure(
        FUNCTIONS[3][0],
        "(highlights of successful backbones:) Stay 'behind the scenes' to establish collective ownership",
        "Share of backbone staff time not spent on its own visibility",
        "share",
        "higher",
        behind_the_scenes,
    ),
    Measure(
        FUNCTIONS[3][0],
        EFFORT,
        "Backbone staff time on community engagement",
        "hours/month",
        "higher",
        _hours_on("effort_engagement"),
        0,
    ),
    # Advance Policy
    Measure(
        FUNCTIONS[4][0],
        "Public policy is increasingly aligned with initiative goals",
        "Coherent policy advocacy: the backbones' policy hours times the agreement of their asks, "
        "saturating (what drives the model's policy bonus to outcomes)",
        "0–1",
        "higher",
        policy_alignment,
    ),
    Measure(
        FUNCTIONS[4][0],
        "Target audiences advocate for changes to the system aligned with initiative goals",
        "Agreement of the backbones' asks to policymakers and funders (1 = one ask; "
        "the model has no policymakers, only the asks they hear)",
        "0–1",
        "higher",
        ask_coherence,
    ),
    Measure(
        FUNCTIONS[4][0],
        EFFORT,
        "Backbone staff time on policy advocacy",
        "hours/month",
        "higher",
        _hours_on("effort_policy"),
        0,
    ),
    # Mobilize Funding
    Measure(
        FUNCTIONS[5][0],
        "Funders are redirecting funds to support initiative goals",
        "Share of program grants flowing through aligned channels",
        "share",
        "higher",
        aligned_funding,
    ),
    Measure(
        FUNCTIONS[5][0],
        "(StriveTogether: the backbone can reduce partners' fundraising burden)",
        "Share of partner time spent fundraising",
        "share",
        "lower",
        fundraising_share,
    ),
    Measure(
        FUNCTIONS[5][0],
        "(StriveTogether: nonprofit directors who spent 'over 90 percent of their time fundraising')",
        "Share of nonprofits' and community groups' time spent fundraising",
        "share",
        "lower",
        nonprofit_fundraising_share,
    ),
    Measure(
        FUNCTIONS[5][0],
        EFFORT,
        "Backbone staff time on mobilizing funding",
        "hours/month",
        "higher",
        _hours_on("effort_resources"),
        0,
    ),
]


def indicator_values(final: Row, start: Row, scenario: Scenario) -> dict[str, float]:
    """All measures of one replication, keyed by ``"<function> | <label>"``."""
    return {f"{m.function} | {m.label}": m.compute(final, start, scenario) for m in MEASURES}


def indicator_frame(series: pd.DataFrame, scenarios: Mapping[str, Scenario]) -> pd.DataFrame:
    """Long table of every measure per (scenario, replication).

    Args:
        series: time series with columns ``scenario``, ``replication``, ``step`` and metrics.
        scenarios: the scenario objects by name (for effort shares and community size).

    Returns:
        Columns ``scenario``, ``replication``, ``function``, ``label``, ``value``.
    """
    rows = []
    for (name, rep), part in series.groupby(["scenario", "replication"], sort=False):
        part = part.sort_values("step")
        start, final = part.iloc[0], part.iloc[-1]
        for m in MEASURES:
            rows.append(
                {
                    "scenario": name,
                    "replication": rep,
                    "function": m.function,
                    "label": m.label,
                    "value": m.compute(final, start, scenarios[name]),
                }
            )
    return pd.DataFrame(rows)
