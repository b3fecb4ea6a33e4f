"""Stylized facts SF1–SF9 (DESIGN.md §1) from the shipped scenarios.

Each fact is tested with 20 replications per scenario under common random numbers
(replication i uses the same seed in every scenario), so differences are paired: the 95%
confidence interval of the mean paired difference must lie on the claimed side of zero.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest
from conftest import paired_ci, shipped

from ci_sim import build_model, replication_seed, run_scenario

pytestmark = pytest.mark.slow
REPLICATIONS = 20


@cache
def runs(name: str, *overrides: str, replications: int = REPLICATIONS) -> pd.DataFrame:
    """Final metrics (and a few trajectory points) of replications 0..R-1 of a shipped scenario."""
    sc = shipped(name, list(overrides))
    rows = []
    for i in range(replications):
        ts = run_scenario(sc, replication_seed(sc.seed, i)).timeseries.set_index("step")
        row = ts.iloc[-1].to_dict()
        row["trust_at_start"] = ts.loc[0, "mean_trust"]
        for metric in ("mean_trust", "engagement", "meeting_hours"):  # SF7: trust and retention after two years
            row[f"{metric}_year2"] = ts.loc[24, metric]
        row["fundraising_at_start"] = ts.loc[0, "fundraising_share"]
        row["improvement_year5"] = ts.loc[60, "outcome_improvement"]
        # SF5: the community's data money over the first five years, and what it bought
        row["data_cost_5y"] = ts.loc[1:60, "data_cost"].sum()
        row["completeness_year5"] = ts.loc[60, "data_completeness"]
        row["data_cost_per_completeness_5y"] = row["data_cost_5y"] / max(row["completeness_year5"], 1e-9)
        rows.append(row)
    return pd.DataFrame(rows)


def above(a: str, b: str, metric: str, *, a_over=(), b_over=()) -> tuple[float, float, float]:
    mean, lo, hi = paired_ci(runs(a, *a_over)[metric], runs(b, *b_over)[metric])
    assert lo > 0, f"{a} − {b} on {metric}: mean {mean:.4f}, 95% CI [{lo:.4f}, {hi:.4f}] does not exclude 0"
    return mean, lo, hi


NINE = "issue_areas.0.backbones.count=9"


def test_sf1_competing_backbones_lower_alignment_and_outcomes():
    above("single_backbone", "nine_backbones", "outcome_improvement")
    above("single_backbone", "nine_backbones", "alignment")
    above("single_backbone", "two_backbones_one_area", "outcome_improvement")
    # the number alone, with the traits of the good backbone: nine copies of it still compete
    above("single_backbone", "single_backbone", "outcome_improvement", b_over=(NINE,))
    above("single_backbone", "single_backbone", "alignment", b_over=(NINE,))


# Closing every channel through which several backbones cost something (one joint table,
# agenda and data system; no fixed overhead; the same total in-kind money as one backbone)
# must leave nine backbones as good as one, within this margin: nothing charges for the count.
CHANNELS_CLOSED = ("parameters.overhead=0",)
NINE_JOINT = (NINE, "issue_areas.0.backbones.coordination=joint", f"issue_areas.0.backbones.in_kind={5000 / 9!r}")
# (margins on the 0–1 scale: 0.2 points of outcome, 0.005 of alignment and trust)
NO_COUNT_MARGIN = {"outcome_improvement": 0.002, "alignment": 0.005, "mean_trust": 0.005}


def test_nine_backbones_cost_nothing_once_every_channel_is_closed():
    one = runs("single_backbone", *CHANNELS_CLOSED)
    nine = runs("single_backbone", *NINE_JOINT, *CHANNELS_CLOSED)
    for metric, margin in NO_COUNT_MARGIN.items():
        mean, lo, hi = paired_ci(nine[metric], one[metric])
        assert -margin < lo and hi < margin, f"{metric}: {mean:.4f} [{lo:.4f}, {hi:.4f}]"
    gap = paired_ci(
        runs("single_backbone")["outcome_improvement"], runs("single_backbone", NINE)["outcome_improvement"]
    )
    assert NO_COUNT_MARGIN["outcome_improvement"] < 0.1 * gap[0], "the margin must be small next to the cost"


# SF2: "no penalty" is a non-inferiority claim with a margin tied to the penalty SF1 claims for
# the smallest case, a second backbone in the same area: one backbone per *different* area
# may not be worse by more than SF2_FRACTION of that penalty (the lower end of its paired 95%
# CI). The former fixed margin (±0.02) was about 40% of that penalty on alignment. The paired
# CI of a no-penalty difference must be narrow enough to show it: more replications here.
SF2_FRACTION = 0.1
SF2_REPLICATIONS = 60


# The outcome measure is the partnership's effect on the population (the gain over the
# counterfactual): the areas' outcomes differ (health and housing beside education), so their
# raw improvement also carries different counterfactual trends, which no partnership causes.
@pytest.mark.parametrize("metric", ["partnership_effect", "alignment"])
def test_sf2_one_backbone_per_issue_area_carries_no_penalty(metric):
    n = SF2_REPLICATIONS
    single = runs("single_backbone", replications=n)[metric]
    _, penalty_lo, _ = paired_ci(single, runs("two_backbones_one_area", replications=n)[metric])
    assert penalty_lo > 0, f"SF1's penalty on {metric} must be clear to set the margin"
    margin = SF2_FRACTION * penalty_lo
    mean, lo, hi = paired_ci(runs("backbones_per_issue_area", replications=n)[metric], single)
    assert lo > -margin, (
        f"{metric}: per-area backbones minus one backbone {mean:.4f}, 95% CI [{lo:.4f}, {hi:.4f}]: "
        f"cannot exclude a penalty of {margin:.4f} ({SF2_FRACTION:.0%} of the two-backbone penalty {penalty_lo:.4f})"
    )


TWO_AREA = ("community.second_area_share=0.3",)
FREE_MEETINGS = ("parameters.table_hours=0", "parameters.working_group_hours=0", "parameters.report_hours=0")


def test_sf2_with_partners_active_in_two_areas_holds_on_alignment_and_fails_on_outcomes():
    """Areas are not islands when 30% of the partners work in two areas (ODD §2.2, §7.1, §7.5).

    Alignment: SF2 holds (non-inferiority, margin as above). The partnership's effect: SF2
    *fails*, and this test states the finding. Measured at the calibrated defaults (60 paired
    replications): per-area backbones minus one backbone -0.0039 [-0.0044, -0.0034] against a
    margin of 0.0029, i.e. about 13% of the two-backbone penalty (before calibration -0.0030
    [-0.0034, -0.0026], margin 0.0022). The mechanism is time: a two-area partner sits at the
    table and in the working groups of each area's backbone (a second area's table is not a
    duplicate, yet it costs hours), so meeting hours rise (+1.6 h a partner-month) and program
    hours fall (-5.6 points of capacity), and the higher meeting load lowers engagement. With
    meetings and reporting costing no hours the penalty of the two-area partners almost vanishes
    (-0.0002 against -0.0029, 10 replications); switching any single mechanism off leaves 96% of it
    (``ci-sim decompose``), since the hours are no switch.
    """
    n = SF2_REPLICATIONS
    single = runs("single_backbone", replications=n)
    two_backbones = runs("two_backbones_one_area", replications=n)
    shared = runs("backbones_per_issue_area", *TWO_AREA, replications=n)
    _, penalty_lo, _ = paired_ci(single["alignment"], two_backbones["alignment"])
    mean, lo, hi = paired_ci(shared["alignment"], single["alignment"])
    assert lo > -SF2_FRACTION * penalty_lo, f"alignment: {mean:.4f} [{lo:.4f}, {hi:.4f}]"
    metric = "partnership_effect"
    _, penalty_lo, _ = paired_ci(single[metric], two_backbones[metric])
    mean, lo, hi = paired_ci(shared[metric], single[metric])
    assert hi < 0 and lo < -SF2_FRACTION * penalty_lo, (
        f"{metric}: the two-area penalty is expected (see the docstring): {mean:.4f} [{lo:.4f}, {hi:.4f}]"
    )
    # the penalty is the two-area partners' hours: with free meetings most of it goes
    own = runs("backbones_per_issue_area")[metric]
    gap = paired_ci(runs("backbones_per_issue_area", *TWO_AREA)[metric], own)
    free = paired_ci(
        runs("backbones_per_issue_area", *TWO_AREA, *FREE_MEETINGS)[metric],
        runs("backbones_per_issue_area", *FREE_MEETINGS)[metric],
    )
    assert gap[2] < 0 and free[0] > 0.25 * gap[0], f"two-area penalty {gap}, with free meetings {free}"


def test_sf3_neutral_servant_backbone_beats_biased_or_visible():
    above("single_backbone", "visible_backbone", "outcome_improvement")
    above("single_backbone", "biased_backbone", "outcome_improvement")
    above("single_backbone", "visible_backbone", "mean_trust")


def test_sf4_conveners_help_and_many_backbones_hurt():
    mean, lo, hi = paired_ci(
        runs("backbone_with_conveners")["outcome_improvement"], runs("single_backbone")["outcome_improvement"]
    )
    assert lo > 0, f"backbone + conveners ≥ one backbone: CI [{lo:.4f}, {hi:.4f}]"
    above("single_backbone", "nine_backbones", "outcome_improvement")
    above("backbone_with_conveners", "single_backbone", "action_plan_quality")


def test_sf5_central_data_system_costs_the_community_less_for_more_completeness():
    """Over five years, the community spends less on data with one backbone's system and gets a
    more complete picture; per unit of completeness the one system also beats nine backbones'
    separate ones (staff, reporting hours and completeness are all results of the mechanisms)."""
    above("no_backbone", "single_backbone", "data_cost_5y")
    above("single_backbone", "no_backbone", "completeness_year5")
    above("nine_backbones", "single_backbone", "data_cost_per_completeness_5y")


RESOURCES_OFF = ("parameters.effort_resources=0",)  # the backbones' resource mobilization (ODD §7.2, §7.7)


def test_sf6_marshalling_investment_cuts_fundraising_time():
    """The fall in fundraising time is the backbone's doing: without its resource-mobilization
    effort the fall disappears (exactly: aligned funding then never moves)."""
    above("no_backbone", "single_backbone", "fundraising_share")
    single, unmobilized = runs("single_backbone"), runs("single_backbone", *RESOURCES_OFF)
    fall = single["fundraising_at_start"] - single["fundraising_share"]
    fall_without = unmobilized["fundraising_at_start"] - unmobilized["fundraising_share"]
    mean, lo, hi = paired_ci(fall, fall_without)
    assert lo > 0, f"fall with − without resource mobilization: {mean:.4f} [{lo:.4f}, {hi:.4f}]"
    assert (fall_without == 0).all(), "without resource mobilization nothing moves fundraising"


def test_sf7_legitimacy_of_origin_shows_in_trust_and_retention_after_two_years():
    # sanity line: the origin's legitimacy sets the starting trust (an input, not the fact)
    above("single_backbone", "funder_created_backbone", "trust_at_start")
    for metric in ("mean_trust_year2", "engagement_year2", "meeting_hours_year2"):
        above("single_backbone", "funder_created_backbone", metric)
        above("funder_created_backbone", "self_declared_backbone", metric)


def test_sf8_consolidation_recovers_outcomes():
    above("consolidation", "nine_backbones", "outcome_improvement")
    # "go to three meetings and hear the same report three times": the duplicated hours. (Total
    # meeting hours are a choice now, ODD §7.1: partners of nine rival tables sit at few of them.)
    above("nine_backbones", "consolidation", "duplicate_meeting_hours")


def test_sf8_meeting_half_does_not_rest_on_the_table_cap():
    one_table = ("parameters.max_tables=1",)
    above("nine_backbones", "consolidation", "duplicate_meeting_hours", a_over=one_table, b_over=one_table)


def test_sf9_underfunded_backbone_is_a_bottleneck():
    above("single_backbone", "underfunded_backbone", "outcome_improvement")
    # outcomes plateau: the gain of the second five years is smaller than with a funded backbone
    under, single = runs("underfunded_backbone"), runs("single_backbone")
    mean, lo, _ = paired_ci(
        single["outcome_improvement"] - single["improvement_year5"],
        under["outcome_improvement"] - under["improvement_year5"],
    )
    assert lo > 0


def test_joint_coordination_closes_at_least_half_the_gap():
    joint = ("issue_areas.0.backbones.coordination=joint",)
    nine, single = runs("nine_backbones")["outcome_improvement"], runs("single_backbone")["outcome_improvement"]
    nine_joint = runs("nine_backbones", *joint)["outcome_improvement"]
    gap = float((single - nine).mean())
    closed = float((nine_joint - nine).mean()) / gap
    assert closed >= 0.5, f"joint coordination closes {closed:.0%} of the gap"
    mean, lo, _ = paired_ci(nine_joint, nine)
    assert lo > 0


def test_costs_of_many_backbones_shrink_along_the_coordination_scale():
    levels = ["none", "shared_data", "shared_agenda", "joint"]
    means = [
        runs("nine_backbones", f"issue_areas.0.backbones.coordination={c}")["outcome_improvement"].mean()
        for c in levels
    ]
    assert np.all(np.diff(means) > 0), dict(zip(levels, np.round(means, 4), strict=True))


def test_sf2_under_one_funders_pool_holds_for_alike_backbones_and_can_fail():
    """Areas that share one funders' pool (``funders.shared_pool``) are no longer islands: SF2
    still holds when the areas' backbones are alike, and fails where one area's backbone seeks
    visibility and draws the shared money away from the others."""
    shared = ("funders.shared_pool=true",)
    mean, lo, hi = paired_ci(
        runs("backbones_per_issue_area", *shared)["partnership_effect"],
        runs("backbones_per_issue_area")["partnership_effect"],
    )
    assert -0.002 < lo and hi < 0.002, f"alike backbones, shared pool minus own pools: {mean:.4f} [{lo:.4f}, {hi:.4f}]"
    visible = ("issue_areas.1.backbones.servant_leadership=0.0", "issue_areas.1.backbones.neutrality=0.2")
    budgets = {}
    for pool in ((), shared):
        model = build_model(shipped("backbones_per_issue_area", [*visible, *pool]), seed=3)
        for _ in range(24):
            model.step()
        budgets[pool] = model.last.budget.copy()
    # the visible health backbone draws more of one pool than of its own area's
    assert budgets[shared][1] > budgets[()][1] and budgets[shared][0] < budgets[()][0], budgets
    ed_own = runs("backbones_per_issue_area", *visible)["outcome_kindergarten_readiness"]
    ed_shared = runs("backbones_per_issue_area", *visible, *shared)["outcome_kindergarten_readiness"]
    mean, lo, _ = paired_ci(ed_own, ed_shared)
    assert lo > 0, f"education loses to a visible health backbone under one pool: {mean:.5f}, CI low {lo:.5f}"
