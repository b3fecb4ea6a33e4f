"""Invariants over random valid scenarios (hypothesis): trust, engagement, data quality and
outcomes stay in [0, 1], agendas stay on their areas' simplex (two areas for a partner active
in two), partners attend only their areas' backbones, nothing is NaN."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ci_sim import build_model
from ci_sim.model.metrics import model_metrics
from ci_sim.model.scenario import ScenarioError, validate_scenario

unit = st.floats(0.0, 1.0, allow_nan=False)
coordination = st.sampled_from(["none", "shared_data", "shared_agenda", "joint"])
origin = st.sampled_from(["partner_agreed", "funder_created", "self_declared"])


@st.composite
def scenarios(draw):
    n_areas = draw(st.integers(1, 3))
    areas = []
    for a in range(n_areas):
        k = draw(st.integers(1, 5))
        backbones = draw(
            st.lists(
                st.fixed_dictionaries(
                    {"neutrality": unit, "servant_leadership": unit, "origin": origin, "in_kind": st.floats(0, 20000)}
                ),
                min_size=0,
                max_size=5,
            )
        )
        for j, b in enumerate(backbones):
            b["name"] = f"a{a}b{j}"
        areas.append(
            {
                "name": f"area{a}",
                "outcomes": [f"a{a}k{i}" for i in range(k)],
                "backbones": backbones,
                "coordination": draw(coordination),
                "conveners": {
                    "per_outcome": draw(st.booleans()),
                    "outcomes": draw(st.lists(st.sampled_from([f"a{a}k{i}" for i in range(k)]), unique=True)),
                    "facilitation": draw(unit),
                },
                "funding": {"backbone_pool": draw(st.floats(0, 1e5)), "program_grants": draw(st.floats(0, 1e6))},
            }
        )
    steps = draw(st.integers(2, 30))
    events = []
    for _ in range(draw(st.integers(0, 3))):
        a = draw(st.integers(0, n_areas - 1))
        names = [b["name"] for b in areas[a]["backbones"]]
        at = draw(st.integers(0, steps - 1))
        kind = draw(st.sampled_from(["merge", "exit", "conveners", "shift"]))
        if kind == "merge":
            events.append(
                {
                    "at": at,
                    "area": f"area{a}",
                    "merge_backbones": {
                        "keep": draw(st.integers(1, 3) | st.sampled_from(names or [1])),
                        "others_become": draw(st.sampled_from(["conveners", "exit"])),
                    },
                }
            )
        elif kind == "exit" and names:
            events.append({"at": at, "backbone_exits": draw(st.sampled_from(names))})
        elif kind == "conveners":
            events.append({"at": at, "area": f"area{a}", "add_conveners": {"outcomes": "all"}})
        else:
            shift = {"backbone_pool": draw(st.floats(0, 1e5))}
            if names:
                shift["to_backbone"] = draw(st.sampled_from(names))
            events.append({"at": at, "area": f"area{a}", "funder_shift": shift})
    params = {
        "attention_beta": draw(st.floats(0, 30)),
        "openness_mean": draw(unit),
        "tolerance": draw(unit),
        "table_hours": draw(st.floats(0, 60)),
        "overhead": draw(st.floats(0, 50000)),
        "claim_cost": draw(unit),
        "fire_cost": draw(unit),
        "trust_rate": draw(unit),
        "engagement_rate": draw(unit),
        "plan_rate": draw(unit),
        "outcome_rate": draw(st.floats(0, 1)),
        "outcome_noise": draw(st.floats(0, 0.2)),
    }
    mechanisms = {m: draw(st.booleans()) for m in ("attention", "trust", "engagement", "agendas", "outcome_noise")}
    mechanisms["attendance_choice"] = draw(st.booleans())
    # partners active in two areas (possible with two areas or more)
    second = draw(st.sampled_from([0.0]) | unit) if n_areas > 1 else 0.0
    data = {
        "name": "random",
        "mechanisms": mechanisms,
        "steps": steps,
        "community": {
            "partners": draw(st.integers(1, 60)),
            "network": {"kind": draw(st.sampled_from(["small_world", "random", "scale_free"]))},
            "second_area_share": second,
            "second_area_weight": draw(st.floats(0.01, 0.5)),
        },
        "issue_areas": areas,
        "events": [],
        "parameters": params,
    }
    # keep the drawn events that can act (the schema refuses, say, a merge in an area left
    # with one backbone, or an exit of a backbone that already left)
    for event in events:
        try:
            validate_scenario({**data, "events": [*data["events"], event]})
        except ScenarioError:
            continue
        data["events"].append(event)
    return data


def check_state(model) -> None:
    for name in (
        "trust",
        "engagement",
        "data_capacity",
        "data_quality",
        "outcome",
        "fundraising",
        "legitimacy",
        "backbone_plan",
        "convener_plan",
        "aligned_funding",
    ):
        x = getattr(model, name)
        assert np.isfinite(x).all(), name
        assert (x >= -1e-12).all() and (x <= 1 + 1e-12).all(), (name, x.min(), x.max())
    a = model.agenda
    assert np.isfinite(a).all()
    assert (a >= -1e-12).all()
    np.testing.assert_allclose(a.sum(axis=1), 1.0, atol=1e-9)
    outside = (model.partner_area[:, None] != model.outcome_area[None, :]) & (
        model.partner_area2[:, None] != model.outcome_area[None, :]
    )
    assert np.abs(a[outside]).max(initial=0) == 0, "agenda outside the partner's areas"
    # a partner works only with backbones of its areas
    mine = (model.partner_area[:, None] == model.backbone_area[None, :]) | (
        model.partner_area2[:, None] == model.backbone_area[None, :]
    )
    assert not (model.attention > 0)[~mine].any() and not model.last.attend[~mine].any()
    assert np.isfinite(model_metrics(model)).all()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_invariants_hold_every_step(data, seed):
    model = build_model(validate_scenario(data), seed)
    check_state(model)
    for _ in range(data["steps"]):
        model.step()
        check_state(model)
