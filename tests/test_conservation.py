"""Conservation: money and hours balance every step (what comes in is spent, held or
reported unspent), in scenarios that exercise every branch of the ledgers."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shipped, small

from ci_sim import build_model, run_scenario

MONEY_OUT = ["money_overhead", "money_staff", "money_convening", "money_grants", "money_unspent"]
HOURS_OUT = ["hours_fundraising", "hours_meetings", "hours_reporting", "hours_program"]

CASES = {
    "nine_backbones": lambda: shipped("nine_backbones", ["steps=36"]),
    "consolidation (merge event)": lambda: shipped("consolidation", ["steps=36", "events.0.at=12"]),
    "no_backbone (pool held)": lambda: shipped("no_backbone", ["steps=24"]),
    "overhead above budget": lambda: shipped("underfunded_backbone", ["steps=24", "parameters.overhead=50000"]),
    "meetings exceed hours": lambda: shipped("nine_backbones", ["steps=24", "parameters.table_hours=40"]),
    "funder shift then exit": lambda: small(
        steps=30,
        issue_areas=[
            {
                "name": "education",
                "backbones": [{"name": "a"}, {"name": "b"}],
                "conveners": {"outcomes": ["employment"]},
            }
        ],
        events=[
            {"at": 5, "funder_shift": {"to_backbone": "a", "program_grants": 1000.0}},
            {"at": 10, "backbone_exits": "a"},
            {"at": 20, "backbone_exits": "b"},
        ],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_money_and_hours_balance_every_step(case):
    ts = run_scenario(CASES[case](), seed=5).timeseries
    money_gap = ts["money_in"] - ts[MONEY_OUT].sum(axis=1)
    hours_gap = ts["hours_capacity"] - ts[HOURS_OUT].sum(axis=1)
    assert np.abs(money_gap).max() <= 1e-6 * ts["money_in"].max()
    assert np.abs(hours_gap).max() <= 1e-9 * ts["hours_capacity"].max()
    assert (ts[MONEY_OUT + HOURS_OUT] >= -1e-9).all().all(), "no negative spending or hours"


def test_unspent_money_is_reported_where_nobody_can_spend_it():
    ts = run_scenario(CASES["funder shift then exit"](), seed=5).timeseries
    # after both backbones left, the funders' backbone pool is held, not silently lost
    assert ts.loc[ts.step > 21, "money_unspent"].min() >= 40000.0 - 1e-6
    assert ts.loc[ts.step < 5, "money_unspent"].max() < 40000.0


def test_meeting_hours_are_cut_to_the_hours_partners_have():
    model = build_model(CASES["meetings exceed hours"](), seed=5)
    for _ in range(6):
        model.step()
    L = model.last
    avail = model.capacity - L.fundraising_hours
    used = L.meeting_hours + L.report_hours
    overbooked = L.meeting_load * model.capacity > avail
    assert overbooked.sum() > 10, "the case must overbook partners to test anything"
    assert np.all(used <= avail + 1e-9)
    np.testing.assert_allclose(used[overbooked], avail[overbooked], rtol=1e-12)
    assert np.all(L.program_hours[overbooked] <= 1e-9)
