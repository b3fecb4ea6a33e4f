"""Partners active in two issue areas (``community.second_area_share``, docs/ODD.md §2.2, §5):
what the setting must leave alone (one-area results and draws) and what it changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import shipped

from ci_sim import build_model, run_scenario
from ci_sim.model.mechanisms.common import tv, tv_area

SHARE = "community.second_area_share"


def test_at_share_0_the_second_area_weight_changes_nothing():
    """With no two-area partner, w must not reach any equation (capacity splits, grants, metrics)."""
    base = run_scenario(shipped("backbones_per_issue_area", ["steps=36"]), seed=4).timeseries
    for over in ([f"{SHARE}=0.0", "community.second_area_weight=0.5"], ["community.second_area_weight=0.01"]):
        other = run_scenario(shipped("backbones_per_issue_area", ["steps=36", *over]), seed=4).timeseries
        pd.testing.assert_frame_equal(base, other, check_exact=True)


def test_second_areas_come_from_their_own_stream():
    """Common random numbers: home areas, sectors, capacities, openness, engagement, the network's
    one-area ties' partners and the one-area partners' agendas and trust are the draws of share 0."""
    a = build_model(shipped("backbones_per_issue_area"), seed=11)
    b = build_model(shipped("backbones_per_issue_area", [f"{SHARE}=0.3"]), seed=11)
    two = b.partner_area2 >= 0
    assert two.sum() == round(0.3 * 450) and (b.partner_area2[two] != b.partner_area[two]).all()
    np.testing.assert_array_equal(
        b.partners_per_area, a.partners_per_area + np.bincount(b.partner_area2[two], minlength=3)
    )
    for name in ("partner_area", "partner_sector", "capacity", "openness", "engagement", "outcome0", "own_agenda"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    np.testing.assert_array_equal(a.agenda0[~two], b.agenda0[~two])
    np.testing.assert_array_equal(a.trust[~two], b.trust[~two])
    # a two-area partner starts with (1 - w) of its agenda at home and w in its second area
    home = (b.outcome_area[None, :] == b.partner_area[two][:, None]) * b.agenda0[two]
    np.testing.assert_allclose(home.sum(axis=1), 0.7, rtol=1e-12)
    # and trusts the backbones of both of its areas, no other
    mine = (b.backbone_area[None, :] == b.partner_area[:, None]) | (
        b.backbone_area[None, :] == b.partner_area2[:, None]
    )
    assert (b.trust[~mine] == 0).all() and (b.trust[two][mine[two]] > 0).mean() > 0.9


def test_restricted_distance_is_the_distance_for_agendas_on_one_area():
    rng = np.random.default_rng(3)
    area = np.array([0, 0, 0, 1, 1])
    for _ in range(50):
        x = np.r_[rng.dirichlet(np.ones(3)), 0.0, 0.0]
        y = np.r_[rng.dirichlet(np.ones(3)), 0.0, 0.0]
        assert abs(tv_area(x, y, area, 0) - tv(x, y)) < 1e-15
        # mass elsewhere does not count: a two-area agenda is compared by its part in the area
        mixed = np.r_[0.6 * x[:3], 0.4 * rng.dirichlet(np.ones(2))]
        assert abs(tv_area(mixed, y, area, 0) - tv(x, y)) < 1e-14


def test_two_area_partners_sit_at_tables_of_both_areas_from_one_budget():
    model = build_model(shipped("backbones_per_issue_area", [f"{SHARE}=0.3"]), seed=2)
    for _ in range(24):
        model.step()
    two = model.partner_area2 >= 0
    T = model.last.attend
    second = model.backbone_area[None, :] == model.partner_area2[:, None]
    assert T[two & (model.last.n_tables > 0)][:, :].any() and (T & second)[two].any(axis=1).mean() > 0.3
    # more meetings, fewer program hours than one-area partners, and no duplicate for another area's table
    L = model.last
    assert L.meeting_hours[two].mean() > L.meeting_hours[~two].mean()
    assert (L.duplicate_hours[two] == 0).all(), "one backbone per area: a second area's table is not a duplicate"
