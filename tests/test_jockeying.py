"""Jockeying for the backbone role (docs/ODD.md §7.17): claims when a claim pays, exits and
merges when money or followers dry up, and the funders' rule deciding which happens."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import paired_ci, shipped

from ci_sim import build_model, replication_seed, run_scenario

REPLICATIONS = 10


def active_backbones(name: str, *overrides: str, month: int = 120, replications: int = REPLICATIONS) -> np.ndarray:
    sc = shipped(name, [f"steps={month}", *overrides])
    return np.array(
        [run_scenario(sc, replication_seed(sc.seed, i)).final["active_backbones"] for i in range(replications)]
    )


def test_funding_one_agreed_backbone_settles_at_one():
    # from one agreed backbone: nobody claims (a claim brings no pool money) ...
    assert (active_backbones("jockeying_one_agreed") == 1).all()
    # ... and from nine self-declared claimants: the unfunded ones cannot pay their overhead and
    # leave (merging into the most followed) at the first yearly review
    nine = ("issue_areas.0.funding.rule=one_agreed", "mechanisms.jockeying=true")
    assert (active_backbones("nine_backbones", *nine, month=13) == 1).all()
    assert (active_backbones("nine_backbones", *nine) == 1).all()


def test_splitting_by_visibility_draws_many_claimants():
    counts = active_backbones("jockeying_split", month=61)
    assert counts.min() >= 5, counts  # "NINE backbone organizations in the education space!"
    mean, lo, _ = paired_ci(counts.astype(float), active_backbones("jockeying_one_agreed", month=61).astype(float))
    assert lo > 4, f"split minus one-agreed: {mean:.1f} backbones, CI low {lo:.1f}"


def test_a_joint_backbone_of_backbones_takes_claimants_in_and_competes_with_none():
    sc = shipped("jockeying_joint", ["steps=61"])
    model = build_model(sc, seed=replication_seed(sc.seed, 0))
    for _ in range(sc.steps):
        model.step()
    assert model.backbone_active.sum() >= 3
    assert model.coordination[0] == 3  # the funders' rule makes the area joint
    np.testing.assert_allclose(model.last.rivalry, 0.0)  # no rival tables, no visibility contests
    active = model.backbone_active
    np.testing.assert_allclose(
        model.last.budget[active] - model.in_kind[active], model.last.budget[active][0] - model.in_kind[active][0]
    )


def test_no_claim_below_the_margin_and_claims_only_in_review_months():
    # a claim must be expected to pay this much a month: nobody claims
    assert (active_backbones("jockeying_split", "parameters.claim_margin=1000000", month=61) == 1).all()
    sc = shipped("jockeying_split", ["steps=13"])
    ts = run_scenario(sc, replication_seed(sc.seed, 0)).timeseries
    assert (ts.loc[ts.step <= 12, "active_backbones"] == 1).all() and ts["active_backbones"].iloc[-1] > 1


@pytest.mark.parametrize("rule", ["split_by_visibility", "one_agreed", "joint"])
def test_jockeying_is_reproducible_and_off_leaves_the_backbones_alone(rule):
    name = {"split_by_visibility": "jockeying_split", "one_agreed": "jockeying_one_agreed", "joint": "jockeying_joint"}[
        rule
    ]
    sc = shipped(name, ["steps=40"])
    a = run_scenario(sc, seed=7).timeseries
    b = run_scenario(sc, seed=7).timeseries
    assert a.equals(b)
    off = run_scenario(shipped(name, ["steps=40", "mechanisms.jockeying=false"]), seed=7).timeseries
    assert (off["active_backbones"] == 1).all()
