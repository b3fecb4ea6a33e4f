"""Every scenario event kind takes the effect ODD §7.13 describes, checked on the state.

An event with ``at: m`` is applied at the start of step m+1: the tests run m steps, keep the
state, step once more and compare. Trust is frozen (``mechanisms.trust`` off) so that the
trust a merge carries over is exact, and plans do not decay (``plan_decay: 0``) so that a plan
handed over at the event can only have grown by the end of the step.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small

from ci_sim import build_model
from ci_sim.model.metrics import metric_names, model_metrics
from ci_sim.model.scenario import EDUCATION_OUTCOMES, ScenarioError

AT = 3
NAMES = ["a", "b", "c", "d"]
BACKBONES = [
    {"name": "a", "neutrality": 0.9, "servant_leadership": 0.9, "in_kind": 1000.0},
    {"name": "b", "neutrality": 0.3, "servant_leadership": 0.2, "in_kind": 2000.0},
    {"name": "c", "neutrality": 0.6, "servant_leadership": 0.5, "in_kind": 4000.0, "origin": "self_declared"},
    {"name": "d", "neutrality": 0.5, "servant_leadership": 0.7, "in_kind": 8000.0, "origin": "funder_created"},
]
SEED = 4


def scenario(events, conveners=None):
    area = {"name": "education", "backbones": BACKBONES, "conveners": conveners or {"facilitation": 0.55}}
    return small(
        steps=12,
        community={"partners": 60},
        issue_areas=[area],
        events=events,
        mechanisms={"trust": False},
        parameters={"plan_decay": 0.0},
    )


def before_and_after(events, conveners=None, at=AT):
    """The model and copies of its state after ``at`` months, then the model one step later."""
    model = build_model(scenario(events, conveners), SEED)
    for _ in range(at):
        model.step()
    last = model.last
    state = {
        "mass": last.mass.copy(),
        "trust": model.trust.copy(),
        "attention": model.attention.copy(),
        "plan": model.backbone_plan.copy(),
        "active": model.backbone_active.copy(),
    }
    model.step()
    return state, model


def metrics(model) -> dict[str, float]:
    return dict(zip(metric_names(model), model_metrics(model), strict=True))


def carried_trust(state, keep, others):
    """ODD §7.13: tau_ij <- max(tau_ij, sum_{b in others} pi_ib tau_ib) for each kept j."""
    followed = (state["attention"][:, others] * state["trust"][:, others]).sum(axis=1)
    return np.maximum(state["trust"][:, keep], followed[:, None])


def most_followed(state, n):
    return np.argsort(-state["mass"], kind="stable")[:n]


@pytest.mark.parametrize("keep", [1, 2])
def test_merge_keeps_the_most_followed_and_the_others_become_conveners(keep):
    ev = {"at": AT, "merge_backbones": {"keep": keep, "others_become": "conveners"}}
    state, model = before_and_after([ev])
    kept = np.sort(most_followed(state, keep))
    others = np.setdiff1d(np.arange(4), kept)
    assert np.flatnonzero(model.backbone_active).tolist() == kept.tolist()
    # the others, in decreasing attention mass, each take the free outcome their program weights most
    free = list(range(len(model.convener_active)))
    expected = {}
    for j in others[np.argsort(-state["mass"][others], kind="stable")]:
        k = max(free, key=lambda k: model.own_agenda[j, k])
        free.remove(k)
        expected[k] = j
    assert sorted(np.flatnonzero(model.convener_active).tolist()) == sorted(expected)
    for k, j in expected.items():
        assert model.convener_facilitation[k] == pytest.approx(0.55)  # the area's conveners.facilitation
        assert model.convener_plan[k] >= state["plan"][j, k] - 1e-12  # starting plan q_k = P_bk
    # the former backbones' in-kind now pays for convening
    assert metrics(model)["money_convening"] == pytest.approx(model.in_kind[others].sum())
    # followers' trust carries over; plans are pooled into the kept backbones
    np.testing.assert_allclose(model.trust[:, kept], carried_trust(state, kept, others), rtol=0, atol=1e-15)
    for j in kept:
        assert np.all(model.backbone_plan[j] >= state["plan"][others].max(axis=0) - 1e-12)
    # the run's event log names whom the merge kept (which only the run knows), who left and who convenes
    order = others[np.argsort(-state["mass"][others], kind="stable")]
    assert (
        model.event_log
        == [
            {
                "at": AT,
                "area": "education",
                "event": "merge_backbones",
                "kept": "; ".join(NAMES[j] for j in most_followed(state, keep)),  # most followed first
                "left": "; ".join(NAMES[j] for j in others),
                "convening": "; ".join(NAMES[j] for j in order[: len(expected)]),
            }
        ]
    )


def test_merge_with_exit_creates_no_convener():
    ev = {"at": AT, "merge_backbones": {"keep": 1, "others_become": "exit"}}
    state, model = before_and_after([ev])
    kept = most_followed(state, 1)
    others = np.setdiff1d(np.arange(4), kept)
    assert np.flatnonzero(model.backbone_active).tolist() == kept.tolist()
    assert not model.convener_active.any() and metrics(model)["money_convening"] == 0.0
    np.testing.assert_allclose(model.trust[:, kept], carried_trust(state, kept, others), rtol=0, atol=1e-15)
    # attention moved to the kept backbone: partners follow it alone
    assert np.allclose(model.attention[:, others], 0.0) and np.allclose(model.attention[:, kept[0]], 1.0)
    assert [(e["kept"], e["left"], e["convening"]) for e in model.event_log] == [
        (NAMES[kept[0]], "; ".join(NAMES[j] for j in others), "")
    ]


def test_the_event_log_is_a_runs_events_frame():
    from ci_sim.runs.runner import run_scenario

    events = [{"at": 2, "backbone_exits": "b"}, {"at": 3, "add_conveners": {"outcomes": "all"}}]
    result = run_scenario(scenario(events), SEED, steps=5)
    assert result.events[["at", "event", "left"]].values.tolist() == [
        [2, "backbone_exits", "b"],
        [3, "add_conveners", ""],
    ]
    assert run_scenario(scenario([]), SEED, steps=2).events.empty


def test_merge_keeps_a_backbone_by_name_even_the_least_followed():
    probe, _ = before_and_after([])
    least = int(np.argmin(probe["mass"]))
    assert least != int(most_followed(probe, 1)[0])
    ev = {"at": AT, "merge_backbones": {"keep": NAMES[least], "others_become": "exit"}}
    state, model = before_and_after([ev])
    np.testing.assert_array_equal(state["mass"], probe["mass"])  # same run up to the event
    assert np.flatnonzero(model.backbone_active).tolist() == [least]


def test_merge_keeping_a_backbone_that_already_left_is_refused():
    """The file cannot be honoured (the named backbone left at month 1): refused, not silently replaced."""
    events = [
        {"at": 1, "backbone_exits": "a"},
        {"at": AT, "merge_backbones": {"keep": "a", "others_become": "exit"}},
    ]
    with pytest.raises(ScenarioError, match=r"events\.1\.merge_backbones\.keep.*'a'"):
        scenario(events)


def test_backbone_exit_moves_its_followers_and_the_last_exit_holds_the_pool():
    state, model = before_and_after([{"at": AT, "backbone_exits": "b"}])
    assert state["active"][1] and not model.backbone_active[1] and model.backbone_active[[0, 2, 3]].all()
    assert np.all(model.attention[:, 1] == 0.0)
    np.testing.assert_allclose(model.attention.sum(axis=1), 1.0)  # attention moved to the others
    assert model.last.budget[1] == 0.0
    exits = [{"at": AT, "backbone_exits": n} for n in NAMES]
    _, alone = before_and_after(exits)
    assert not alone.backbone_active.any() and not alone.last.has_backbone.any()
    assert np.all(alone.attention == 0.0)
    pool = alone.pool.sum()
    assert pool > 0 and metrics(alone)["money_unspent"] >= pool - 1e-6  # nobody draws it: held


def test_add_conveners_takes_over_the_outcomes_working_groups():
    outcomes = ["kindergarten_readiness", "employment"]
    ev = {"at": AT, "add_conveners": {"outcomes": outcomes, "facilitation": 0.3}}
    state, model = before_and_after([ev], conveners={"in_kind": 1234.0})
    ks = [EDUCATION_OUTCOMES.index(o) for o in outcomes]  # the area's default outcomes, in order
    assert np.flatnonzero(model.convener_active).tolist() == ks
    np.testing.assert_allclose(model.convener_facilitation[ks], 0.3)
    assert metrics(model)["money_convening"] == pytest.approx(2 * 1234.0)
    for k in ks:  # the plan starts at the best active backbone plan of the outcome
        assert model.convener_plan[k] >= state["plan"][state["active"], k].max() - 1e-12


def test_add_conveners_to_all_keeps_the_higher_facilitation_of_an_existing_one():
    ev = {"at": AT, "add_conveners": {"outcomes": "all", "facilitation": 0.3}}
    _, model = before_and_after([ev], conveners={"outcomes": ["employment"], "facilitation": 0.8})
    assert model.convener_active.all()
    assert model.convener_facilitation[EDUCATION_OUTCOMES.index("employment")] == pytest.approx(0.8)
    np.testing.assert_allclose(model.convener_facilitation[:6], 0.3)


def test_funder_shift_replaces_the_pool_and_grants_and_funds_one_backbone():
    ev = {"at": AT, "funder_shift": {"backbone_pool": 1000.0, "program_grants": 2000.0, "to_backbone": "c"}}
    _, model = before_and_after([ev])
    assert model.pool[0] == 1000.0 and model.grants[0] == 2000.0
    np.testing.assert_array_equal(model.funding_weight, [0.0, 0.0, 1.0, 0.0])
    in_kind = np.array([b["in_kind"] for b in BACKBONES])
    # c receives the whole pool the funders pay out (m_a F_a, ODD §7.7); the others only their own in-kind
    np.testing.assert_allclose(model.last.budget, in_kind + np.array([0, 0, 1000.0, 0]) * model.funder_factor[0])
    m = metrics(model)
    assert m["money_in"] == pytest.approx(1000.0 * model.funder_factor[0] + 2000.0 + in_kind.sum())
    assert m["money_grants"] <= 2000.0 + 1e-9
    # once c has left, the pool is held
    events = [ev, {"at": AT + 1, "backbone_exits": "c"}]
    _, later = before_and_after(events, at=AT + 1)
    assert not later.backbone_active[2]
    assert metrics(later)["money_unspent"] >= 1000.0 * later.funder_factor[0] - 1e-9 > 900.0


@pytest.mark.parametrize("field", ["backbone_pool", "program_grants"])
def test_funder_shift_of_one_amount_leaves_the_other(field):
    ev = {"at": AT, "funder_shift": {field: 777.0}}
    _, model = before_and_after([ev])
    base = build_model(scenario([]), SEED)
    other = "grants" if field == "backbone_pool" else "pool"
    mine = "pool" if field == "backbone_pool" else "grants"
    assert getattr(model, mine)[0] == 777.0 and getattr(model, other)[0] == getattr(base, other)[0]
    np.testing.assert_array_equal(model.funding_weight, base.funding_weight)


def test_a_comparisons_event_log_keeps_whole_months_beside_runs_without_events(tmp_path):
    # events.csv: a scenario without events (empty logs) beside one with them; "at" stays a month, not 3.0
    from ci_sim.experiments.compare import run_comparison
    from ci_sim.experiments.evaluators import SerialEvaluator

    entries = [("none", scenario([])), ("exit", scenario([{"at": AT, "backbone_exits": "b"}]))]
    _, _, events = run_comparison(entries, 2, SEED, AT + 2, SerialEvaluator(), progress=False)
    assert events["at"].dtype.kind == "i" and events["at"].tolist() == [AT, AT]
    assert events["scenario"].tolist() == ["exit", "exit"] and events["replication"].tolist() == [0, 1]
