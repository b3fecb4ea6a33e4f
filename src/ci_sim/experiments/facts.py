"""The stylized facts of ODD §1.2 as data: paired checks "arm A is above arm B".

Each :class:`Check` compares two arms, each a shipped scenario with optional overrides, on
one metric at one month: it claims that the paired difference A − B (replication ``i`` of
both arms runs with the same seed) is positive. A claim of the form "B is lower" is written
with the arms swapped, so every check has the one direction. ``ci-sim robustness``
(:mod:`ci_sim.experiments.robustness`) evaluates them over a parameter space; the figures of
``tests/test_stylized_facts.py`` test the same comparisons (and a few more: SF2's
non-inferiority margin, SF5's five-year costs, SF6's fall with and without resource
mobilization, the coordination scale) at the shipped scenarios' own parameters.

Example:
    >>> from ci_sim.experiments.facts import CHECKS
    >>> CHECKS["sf1_outcome"].describe()
    'single_backbone > nine_backbones on outcome_improvement at the horizon'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Arm:
    """One side of a check: a scenario (shipped name or file) and overrides by dotted key path."""

    scenario: str
    set: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``scenario`` and its overrides, e.g. ``nine_backbones [parameters.max_tables=1]``."""
        if not self.set:
            return self.scenario
        return f"{self.scenario} [{', '.join(f'{k}={v}' for k, v in self.set.items())}]"

    def key(self) -> tuple:
        """A hashable identity: arms with the same key are one set of runs."""
        return (self.scenario, tuple(sorted((k, repr(v)) for k, v in self.set.items())))


@dataclass(frozen=True)
class Check:
    """A paired claim: ``metric`` of arm ``a`` is above that of arm ``b``.

    Attributes:
        name: identifier (lower case, used in tables and on the command line).
        fact: the pattern of ODD §1.2 it belongs to (``SF1``...).
        a: the arm claimed higher.
        b: the arm claimed lower.
        metric: a metric column (``ci_sim.model.columns.METRIC_NAMES`` or ``outcome_<name>``).
        month: the month read (``None``: the horizon, the scenario's ``steps``).
        since: if given, the metric's change from this month to ``month`` is compared instead
            of its level (e.g. the gain of the second five years, SF9).
    """

    name: str
    fact: str
    a: Arm
    b: Arm
    metric: str
    month: int | None = None
    since: int | None = None

    def describe(self) -> str:
        """The claim in words: ``A > B on metric at month t`` (or ``at the horizon``)."""
        when = "at the horizon" if self.month is None else f"at month {self.month}"
        what = self.metric if self.since is None else f"the change of {self.metric} from month {self.since}"
        return f"{self.a.label} > {self.b.label} on {what} {when}"


SINGLE = Arm("single_backbone")
NINE = Arm("nine_backbones")
ONE_TABLE = {"parameters.max_tables": 1}

#: The sign claims of ODD §1.2, in its order (the pairs tests/test_stylized_facts.py checks).
CHECKS: dict[str, Check] = {
    c.name: c
    for c in (
        Check("sf1_outcome", "SF1", SINGLE, NINE, "outcome_improvement"),
        Check("sf1_alignment", "SF1", SINGLE, NINE, "alignment"),
        Check("sf1_two_backbones", "SF1", SINGLE, Arm("two_backbones_one_area"), "outcome_improvement"),
        Check(
            "sf1_count_only", "SF1", SINGLE, Arm("single_backbone", {"issue_areas.0.backbones.count": 9}), "alignment"
        ),
        Check("sf3_visible", "SF3", SINGLE, Arm("visible_backbone"), "outcome_improvement"),
        Check("sf3_biased", "SF3", SINGLE, Arm("biased_backbone"), "outcome_improvement"),
        Check("sf3_visible_trust", "SF3", SINGLE, Arm("visible_backbone"), "mean_trust"),
        Check("sf4_conveners", "SF4", Arm("backbone_with_conveners"), SINGLE, "outcome_improvement"),
        Check("sf4_conveners_plans", "SF4", Arm("backbone_with_conveners"), SINGLE, "action_plan_quality"),
        Check("sf5_completeness", "SF5", SINGLE, Arm("no_backbone"), "data_completeness", month=60),
        Check("sf6_fundraising", "SF6", Arm("no_backbone"), SINGLE, "fundraising_share"),
        Check("sf7_trust_funder", "SF7", SINGLE, Arm("funder_created_backbone"), "mean_trust", month=24),
        Check("sf7_trust_self", "SF7", Arm("funder_created_backbone"), Arm("self_declared_backbone"), "mean_trust", 24),
        Check("sf7_engagement_funder", "SF7", SINGLE, Arm("funder_created_backbone"), "engagement", month=24),
        Check("sf7_meetings_funder", "SF7", SINGLE, Arm("funder_created_backbone"), "meeting_hours", month=24),
        Check("sf8_outcome", "SF8", Arm("consolidation"), NINE, "outcome_improvement"),
        Check("sf8_meetings", "SF8", NINE, Arm("consolidation"), "duplicate_meeting_hours"),
        Check(
            "sf8_meetings_one_table",
            "SF8",
            Arm("nine_backbones", ONE_TABLE),
            Arm("consolidation", ONE_TABLE),
            "duplicate_meeting_hours",
        ),
        Check("sf9_outcome", "SF9", SINGLE, Arm("underfunded_backbone"), "outcome_improvement"),
        Check("sf9_plateau", "SF9", SINGLE, Arm("underfunded_backbone"), "outcome_improvement", since=60),
        Check(
            "j_joint",
            "J",
            Arm("nine_backbones", {"issue_areas.0.backbones.coordination": "joint"}),
            NINE,
            "outcome_improvement",
        ),
    )
}
