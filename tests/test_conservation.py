"""Conservation: money and hours balance every step (what comes in is spent, held or
reported unspent), in scenarios that exercise every branch of the ledgers; and the ledger's
totals match what the scenario file puts in (funders' pools and grants, backbones' and
conveners' in-kind), computed here from the file, not from the model's ledger."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import shipped, small
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ci_sim import build_model, run_scenario
from ci_sim.model.scenario import validate_scenario

MONEY_OUT = ["money_overhead", "money_staff", "money_convening", "money_grants", "money_unspent"]
HOURS_OUT = ["hours_fundraising", "hours_meetings", "hours_reporting", "hours_program"]

CASES = {
    "nine_backbones": lambda: shipped("nine_backbones", ["steps=36"]),
    "consolidation (merge event)": lambda: shipped("consolidation", ["steps=36", "events.0.at=12"]),
    "no_backbone (pool held)": lambda: shipped("no_backbone", ["steps=24"]),
    "overhead above budget": lambda: shipped("underfunded_backbone", ["steps=24", "parameters.overhead=50000"]),
    # (the fixed attendance rule: partners who choose would not sit at a 40-hour table)
    "meetings exceed hours": lambda: shipped(
        "nine_backbones", ["steps=24", "parameters.table_hours=40", "mechanisms.attendance_choice=false"]
    ),
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
    # after both backbones left, the funders' backbone pool (what they pay out, m_a F_a) is held,
    # not silently lost
    held = 40000.0 * ts["funder_money"]
    assert (ts.loc[ts.step > 21, "money_unspent"] >= held[ts.step > 21] - 1e-6).all()
    assert (held > 30000).all()
    assert ts.loc[ts.step < 5, "money_unspent"].max() < 30000.0


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


def funders_money(sc) -> dict[str, float]:
    """Monthly money the scenario file puts in (ODD §7.15), from the file alone ($/month)."""
    pools = [a.funding.backbone_pool for a in sc.issue_areas]
    grants = sum(a.funding.program_grants for a in sc.issue_areas)
    in_kind = sum(b["in_kind"] for a in sc.issue_areas for b in a.backbone_list())
    convening = 0.0
    for a in sc.issue_areas:
        convened = a.outcomes if a.conveners.per_outcome else (a.conveners.outcomes or [])
        convening += a.conveners.in_kind * len(convened)
    return {"pools": np.array(pools), "grants": grants, "in_kind": in_kind, "convening": convening}


@pytest.mark.parametrize("name", ["single_backbone", "nine_backbones", "backbone_with_conveners"])
def test_the_ledger_holds_what_the_scenario_puts_in_and_partners_receive(name):
    """Every backbone active and every partner fundraising and in working groups: the pools are
    drawn in full (what the funders pay out, m_a F_a, §7.7), the grants are paid in full (the
    aligned part to partners in action plans, the rest to fundraisers), nothing is unspent."""
    sc = shipped(name, ["steps=24"])
    want = funders_money(sc)
    model = build_model(sc, seed=5)
    rows, pools = [], []
    for _ in range(sc.steps):
        model.step()
        pools.append(want["pools"] @ model.funder_factor)
        last = model.last
        # the conditions under which §7.7 pays every grant, checked on the state
        assert last.fundraising_hours.sum() > 0 and (last.meeting_hours > 0).any()
        assert model.backbone_active.all()
        rows.append(run_row(model))
    ts = pd.DataFrame(rows)
    pools = np.array(pools)
    assert 0.5 < pools.min() and np.ptp(pools) > 0, "funders respond (m_a moves), within reason"
    total_in = pools + want["grants"] + want["in_kind"] + want["convening"]
    np.testing.assert_allclose(ts["money_in"], total_in, rtol=1e-12)
    np.testing.assert_allclose(ts["money_grants"], want["grants"], rtol=1e-12)
    np.testing.assert_allclose(ts["money_convening"], want["convening"], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(ts["money_overhead"] + ts["money_staff"], pools + want["in_kind"], rtol=1e-12)
    np.testing.assert_allclose(ts["money_unspent"], 0.0, atol=1e-6)
    np.testing.assert_allclose(ts["hours_capacity"], model.capacity.sum(), rtol=1e-12)
    assert (want["convening"] > 0) == (name == "backbone_with_conveners")


def test_a_pool_without_backbone_is_held_and_grants_reach_only_who_can_take_them():
    sc = shipped("no_backbone", ["steps=12"])
    want = funders_money(sc)
    ts = run_scenario(sc, seed=5).timeseries
    # no backbone draws the pool: it is held in full; no working group: the aligned part of
    # the grants cannot be paid, the fundraisers' part can
    pools = want["pools"].sum() * ts["funder_money"]
    assert (ts["money_unspent"] >= pools - 1e-6).all()
    assert (ts["money_grants"] > 0).all() and (ts["money_grants"] <= want["grants"] + 1e-6).all()
    np.testing.assert_allclose(ts["money_in"], pools + want["grants"] + want["in_kind"], rtol=1e-12)
    np.testing.assert_allclose(ts["money_overhead"] + ts["money_staff"], 0.0, atol=1e-9)


def run_row(model) -> dict[str, float]:
    from ci_sim.model.metrics import metric_names, model_metrics

    return dict(zip(metric_names(model), model_metrics(model), strict=True))


# ---------------------------------------------------------------- partners active in two areas


@st.composite
def two_area_scenarios(draw):
    """Scenarios with two or three areas and a share of partners active in two of them."""
    n_areas = draw(st.integers(2, 3))
    areas = []
    for a in range(n_areas):
        k = draw(st.integers(1, 4))
        areas.append(
            {
                "name": f"area{a}",
                "outcomes": [f"a{a}k{i}" for i in range(k)],
                "backbones": [{"name": f"a{a}b{j}"} for j in range(draw(st.integers(0, 3)))],
                "coordination": draw(st.sampled_from(["none", "shared_data", "shared_agenda", "joint"])),
                "conveners": {"per_outcome": draw(st.booleans())},
                "funding": {"program_grants": draw(st.floats(0, 1e6))},
            }
        )
    return {
        "name": "two_areas",
        "steps": draw(st.integers(2, 24)),
        "community": {
            "partners": draw(st.integers(2, 80)),
            "second_area_share": draw(st.floats(0.01, 1.0)),
            "second_area_weight": draw(st.floats(0.01, 0.5)),
        },
        "issue_areas": areas,
        "funders": {"shared_pool": draw(st.booleans())},
        "parameters": {"table_hours": draw(st.floats(0, 60)), "max_tables": draw(st.integers(1, 4))},
        "mechanisms": {
            m: draw(st.booleans()) for m in ("attendance_choice", "duplicated_meetings", "fragmented_data", "attention")
        },
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=two_area_scenarios(), seed=st.integers(0, 2**32 - 1))
def test_hours_and_money_balance_with_two_area_partners(data, seed):
    """A two-area partner has one stock of hours: fundraising, meetings of both areas, reporting
    and program hours add up to its capacity, none negative; the money ledger still balances."""
    sc = validate_scenario(data)
    model = build_model(sc, seed)
    assert (model.partner_area2 >= 0).any() or sc.community.partners * sc.community.second_area_share < 0.5
    for _ in range(sc.steps):
        model.step()
        L = model.last
        used = L.fundraising_hours + L.meeting_hours + L.report_hours + L.program_hours
        np.testing.assert_allclose(used, model.capacity * model.partner_active, rtol=1e-12, atol=1e-9)
        assert min(L.meeting_hours.min(), L.report_hours.min(), L.program_hours.min()) >= -1e-9
        assert (L.duplicate_hours <= L.meeting_hours + 1e-9).all()
        row = run_row(model)
        assert abs(row["money_in"] - sum(row[k] for k in MONEY_OUT)) <= 1e-6 * max(row["money_in"], 1.0)
