"""The dashboard's model and pictures, without a browser (see test_dashboard_browser.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import import_or_skip
from matplotlib.colors import to_rgba

import_or_skip("solara")  # skipped without solara, except under CI=true: there it fails

from mesa.visualization.solara_viz import _check_model_params  # noqa: E402

from ci_sim import load_scenario, replication_seed, run_scenario  # noqa: E402
from ci_sim.model.scenario import shipped_scenario_dir  # noqa: E402
from ci_sim.viz.animation import backbone_colors  # noqa: E402
from ci_sim.viz.dashboard import (  # noqa: E402
    DashboardModel,
    draw_network,
    draw_outcomes,
    draw_partner_time,
    followed_backbone,
    initial_model,
    model_params,
    parse_seed,
    settings_text,
    slider_defaults,
    slider_overrides,
)


def test_untouched_dashboard_is_replication_zero_of_ci_sim_run():
    """Same numbers as `ci-sim run single_backbone --seed 5`, replication 0, month by month."""
    model = DashboardModel(base="single_backbone", rng="5")
    for _ in range(12):
        model.step()
    got = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    want = run_scenario(load_scenario("single_backbone"), seed=replication_seed(5, 0), steps=12).timeseries
    assert len(got) == 13
    pd.testing.assert_frame_equal(got, want.drop(columns="step")[got.columns], check_exact=False, rtol=1e-12)


def test_sliders_reach_the_model():
    model = DashboardModel(
        base="single_backbone",
        backbones=9,
        neutrality=0.3,
        servant_leadership=0.2,
        conveners=True,
        partners=80,
        coordination="shared_data",
        rng=1,
    )
    assert model.n_backbones == 9 and model.n_partners == 80
    assert np.allclose(model.neutrality, 0.3) and np.allclose(model.servant, 0.2)
    assert model.convener_active.all()
    assert model.config.issue_areas[0].coordination == "shared_data"
    assert model.base_seed == 1 and model.notes == []
    assert model.overrides["issue_areas.0.backbones.count"] == 9
    assert DashboardModel(base="single_backbone", rng=1).overrides == {}


def test_sliders_at_the_scenario_values_change_nothing():
    base = load_scenario("nine_backbones")
    assert slider_overrides(base, **slider_defaults(base)) == {}
    moved = slider_overrides(base, **{**slider_defaults(base), "backbones": 2})
    assert moved == {"issue_areas.0.backbones.count": 2}


def test_sliders_apply_to_every_issue_area():
    model = DashboardModel(base="backbones_per_issue_area", backbones=2, conveners=True, rng=3)
    assert np.bincount(model.backbone_area).tolist() == [2, 2, 2]
    assert model.convener_active.sum() == model.n_outcomes


def test_list_of_named_backbones_becomes_a_group(tmp_path):
    data = yaml.safe_load(open(shipped_scenario_dir() / "single_backbone.yaml"))
    data["issue_areas"][0]["backbones"] = [
        {"name": "strive", "neutrality": 0.9, "coordination": "none"},
        {"name": "united_way", "neutrality": 0.4},
    ]
    path = tmp_path / "named.yaml"
    path.write_text(yaml.safe_dump(data))
    assert DashboardModel(base=str(path), rng=1).backbone_names == ["strive", "united_way"]
    model = DashboardModel(base=str(path), backbones=4, coordination="joint", rng=1)
    assert model.n_backbones == 4 and model.config.issue_areas[0].coordination == "joint"
    assert np.allclose(model.neutrality, 0.9)  # the group is modelled on the first backbone


def test_events_that_no_longer_fit_are_dropped_with_a_note(tmp_path):
    data = yaml.safe_load(open(shipped_scenario_dir() / "nine_backbones.yaml"))
    data["events"] = [{"at": 6, "backbone_exits": "education_backbone_9"}]
    path = tmp_path / "exit.yaml"
    path.write_text(yaml.safe_dump(data))
    assert DashboardModel(base=str(path), rng=1).events  # as written, the event fits
    model = DashboardModel(base=str(path), backbones=3, rng=1)
    assert model.events == [] and model.n_backbones == 3
    assert "events" in model.notes[0] and "education_backbone_9" in model.notes[0]


@pytest.mark.parametrize(
    ("text", "seed", "noted"),
    [("42", 42, False), (" 7 ", 7, False), ("", 2026, False), ("x1", 2026, True), (-3, 2026, True)],
)
def test_seed_box(text, seed, noted):
    got, notes = parse_seed(text, 2026)
    assert got == seed and bool(notes) == noted


def test_model_params_fit_the_model_signature():
    """Mesa rebuilds the model from these names on Reset: each must be a constructor argument."""
    params = model_params("nine_backbones")
    _check_model_params(DashboardModel.__init__, params)
    assert params["backbones"].value == 9 and params["backbones"].max >= 9
    model = initial_model(params)
    assert model.n_backbones == 9 and model.base_seed == load_scenario("nine_backbones").seed


def test_model_stops_at_the_horizon():
    model = DashboardModel(base="single_backbone", rng=1, partners=20)
    model.horizon = 3
    for _ in range(3):
        assert model.running
        model.step()
    assert not model.running


def test_drawing_does_not_touch_the_model_random_streams():
    drawn, plain = DashboardModel(backbones=4, rng=9), DashboardModel(backbones=4, rng=9)
    for _ in range(6):
        draw_network(drawn)
        drawn.step()
        plain.step()
    pd.testing.assert_frame_equal(
        drawn.datacollector.get_model_vars_dataframe(), plain.datacollector.get_model_vars_dataframe()
    )


@pytest.mark.parametrize(
    ("base", "values"),
    [
        ("single_backbone", {"backbones": 9}),
        ("no_backbone", {}),
        ("backbone_with_conveners", {}),
        ("backbones_per_issue_area", {"conveners": True}),
        ("consolidation", {}),
    ],
)
def test_pictures_draw(base, values):
    model = DashboardModel(base=base, rng=2, **values)
    for _ in range(30 if base == "consolidation" else 3):  # consolidation merges at month 24
        model.step()
    fig = draw_network(model)
    legend = fig.axes[0].get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    followed = followed_backbone(model)
    # one legend line per active backbone (plus "no backbone"), counts adding up to the partners
    counts = [int(label.rsplit(": ", 1)[1]) for label in labels if label.rsplit(": ", 1)[-1].isdigit()]
    assert sum(counts) == model.n_partners
    assert len(counts) == model.backbone_active.sum() + (followed < 0).any()
    assert f"month {model.steps}" in fig._suptitle.get_text()
    for draw in (draw_outcomes, draw_partner_time):
        assert draw(model).axes[0].lines or draw(model).axes[0].collections


def test_network_view_colours_partners_by_the_backbone_they_follow():
    """Same colours as the figures and GIFs: Tol muted for nine backbones, grey for none."""
    model = DashboardModel(base="single_backbone", backbones=9, rng=4)
    for _ in range(3):
        model.step()
    fig = draw_network(model)
    dots = next(c for c in fig.axes[0].collections if len(c.get_offsets()) == model.n_partners)
    want = np.array([to_rgba(backbone_colors(9)[j]) for j in followed_backbone(model)])
    np.testing.assert_allclose(dots.get_facecolors(), want)
    assert len(set(followed_backbone(model))) > 3  # several camps, several colours


def test_settings_are_spelled_out():
    """The sliders show no numbers, so the panel says what the running model uses."""
    model = DashboardModel(base="nine_backbones", neutrality=0.35, conveners=True, rng=1)
    text = settings_text(model.config)
    assert "neutrality 0.35" in text and "conveners on" in text and "coordination none" in text
