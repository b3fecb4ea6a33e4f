"""The dashboard's runs, words and pictures, without a browser (see test_dashboard_browser.py)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import import_or_skip
from matplotlib.text import Text
from PIL import Image

import_or_skip("solara")  # skipped without solara, except under CI=true: there it fails

from ci_sim import load_scenario, replication_seed, run_scenario  # noqa: E402
from ci_sim.cli import main  # noqa: E402
from ci_sim.model.columns import METRIC_LABELS  # noqa: E402
from ci_sim.model.metrics import MODEL_METRICS  # noqa: E402
from ci_sim.model.scenario import shipped_scenario_dir  # noqa: E402
from ci_sim.viz import dashboard_runs as dr  # noqa: E402
from ci_sim.viz.animation import backbone_colors, followed_backbone  # noqa: E402
from ci_sim.viz.dashboard import Session, numbers_html, status_text  # noqa: E402


def test_untouched_lane_is_replication_zero_of_ci_sim_run():
    lane = dr.Lane("single_backbone", seed=5)
    want = run_scenario(load_scenario("single_backbone"), seed=replication_seed(5, 0)).timeseries
    pd.testing.assert_frame_equal(lane.series.reset_index(), want, check_exact=True)
    assert lane.overrides == {} and lane.horizon == 120


def test_live_model_shows_the_month_of_the_precomputed_run():
    """The network's model and the plotted numbers are one run, also after going back."""
    lane = dr.Lane("nine_backbones", {"partners": 60}, seed=3)
    for month in (4, 9, 2, 7):
        model = lane.model_at(month)
        assert model.steps == month
        for name in ("alignment", "mean_trust", "outcome_improvement", "factions"):
            assert MODEL_METRICS[name](model) == pytest.approx(lane.value(name, month), rel=1e-12, abs=1e-15)


def test_controls_reach_the_scenario():
    lane = dr.Lane(
        "single_backbone",
        dict(
            backbones=9,
            neutrality=0.3,
            servant_leadership=0.2,
            conveners=True,
            partners=80,
            coordination="shared_data",
        ),
        seed=1,
    )
    model = lane.model_at(0)
    assert model.n_backbones == 9 and model.n_partners == 80
    assert np.allclose(model.neutrality, 0.3) and np.allclose(model.servant, 0.2)
    assert model.convener_active.all()
    assert lane.scenario.issue_areas[0].coordination == "shared_data"
    assert lane.overrides["issue_areas.0.backbones.count"] == 9


def test_controls_at_the_scenario_values_change_nothing():
    base = load_scenario("nine_backbones")
    assert dr.control_overrides(base, **dr.control_defaults(base)) == {}
    moved = dr.control_overrides(base, **{**dr.control_defaults(base), "backbones": 2})
    assert moved == {"issue_areas.0.backbones.count": 2}


def test_preset_loads_the_whole_scenario_with_its_events():
    """Picking consolidation loads its merge at month 24: the lane is that scenario as shipped."""
    session = Session("single_backbone")
    session.restart(base="consolidation")
    want = load_scenario("consolidation")
    assert session.values == dr.control_defaults(want) and session.values["backbones"] == 9
    assert session.single.scenario.events == want.events
    assert session.single.marks() == [(24, "merge")]
    assert session.single.series["active_backbones"].iloc[30] == 1


def test_several_areas_say_the_controls_show_the_first():
    lane = dr.Lane("backbones_per_issue_area", {"backbones": 2, "conveners": True}, seed=3)
    model = lane.model_at(0)
    assert np.bincount(model.backbone_area).tolist() == [2, 2, 2]
    assert model.convener_active.sum() == model.n_outcomes
    assert any("first one, education" in note for note in lane.notes)


def test_events_that_no_longer_fit_are_dropped_with_a_note(tmp_path):
    data = yaml.safe_load(open(shipped_scenario_dir() / "nine_backbones.yaml"))
    data["events"] = [{"at": 6, "backbone_exits": "education_backbone_9"}]
    path = tmp_path / "exit.yaml"
    path.write_text(yaml.safe_dump(data))
    assert dr.Lane(str(path)).scenario.events  # as written, the event fits
    lane = dr.Lane(str(path), {"backbones": 3})
    assert lane.scenario.events == [] and lane.model_at(0).n_backbones == 3
    assert any("events" in n and "education_backbone_9" in n for n in lane.notes)


@pytest.mark.parametrize("key", ["merge", "conveners", "funders"])
def test_intervention_matches_ci_sim_run_with_the_event(tmp_path, key):
    """Pressing the button at month 7 = `ci-sim run` of the scenario with that event `at: 7`."""
    lane = dr.Lane("nine_backbones", {"partners": 60}, seed=11)
    changed = lane.intervene(key, 7)
    assert changed is not None and changed.marks() == [(7, key)]
    event = {k: v for k, v in changed.interventions[0].items()}
    data = yaml.safe_load(open(shipped_scenario_dir() / "nine_backbones.yaml"))
    data["community"]["partners"] = 60
    data["events"] = [event]
    path = tmp_path / "with_event.yaml"
    path.write_text(yaml.safe_dump(data))
    out = tmp_path / "run"
    res = CliRunner().invoke(main, ["run", str(path), "-r", "1", "--seed", "11", "-q", "--out", str(out)])
    assert res.exit_code == 0, res.output
    cli = pd.read_parquet(out / "timeseries.parquet").drop(columns=["replication", "seed"])
    got = changed.series.reset_index()[cli.columns]
    pd.testing.assert_frame_equal(got, cli, check_exact=True)
    # the same months before it, a different run after it
    before, after = lane.series.iloc[:8], changed.series.iloc[:8]
    pd.testing.assert_frame_equal(before, after)
    assert not np.allclose(lane.series.iloc[9:].to_numpy(), changed.series.iloc[9:].to_numpy())


def test_merge_leaves_one_backbone_and_makes_conveners():
    lane = dr.Lane("nine_backbones", {"partners": 60}, seed=2).intervene("merge", 5)
    assert lane.value("active_backbones", 5) == 9 and lane.value("active_backbones", 6) == 1
    assert lane.value("active_conveners", 6) == 7  # seven outcomes, eight former backbones


def test_interventions_that_can_do_nothing_say_so():
    single = dr.Lane("single_backbone", {"partners": 40}, seed=1)
    assert single.intervene("merge", 3) is None  # one backbone: nothing to merge
    convened = dr.Lane("backbone_with_conveners", {"partners": 40}, seed=1)
    assert convened.intervene("conveners", 3) is None  # every outcome has one
    session = Session("single_backbone")
    session.go(3)
    session.intervene("merge")
    assert "nothing to do" in session.message and session.single.interventions == []
    session.go(120)
    session.intervene("conveners")
    assert "over" in session.message


def test_session_compare_view_keeps_months_in_step():
    session = Session("single_backbone")
    session.set_view("compare")
    session.set_compare(2, "consolidation")
    assert [lane.label for lane in session.lanes] == ["single backbone", "nine backbones", "consolidation"]
    assert len({lane.seed for lane in session.lanes}) == 1
    session.go(36)
    assert set(session.pictures) == {"0", "1", "2"} and session.month == 36
    sentence = dr.gap_sentence(session.lanes, 36)
    one = dr.points(session.lanes[0].value("outcome_improvement", 36))
    assert sentence.startswith(f"After 3 years: outcomes {one} percentage points with single backbone, ")
    session.set_compare(2, "no_such_file.yaml")
    assert "no_such_file" in session.error and len(session.lanes) == 3


def test_how_sure_pairs_the_replications():
    lanes = [dr.Lane("single_backbone", {"partners": 40}, seed=4), dr.Lane("nine_backbones", {"partners": 40}, seed=4)]
    (gap,) = dr.how_sure(lanes, 12, replications=4)
    diffs = [
        run_scenario(lanes[1].scenario, seed=replication_seed(4, r), steps=12).final["outcome_improvement"]
        - run_scenario(lanes[0].scenario, seed=replication_seed(4, r), steps=12).final["outcome_improvement"]
        for r in range(4)
    ]
    assert gap["mean"] == pytest.approx(np.mean(diffs), abs=1e-12)
    assert gap["low"] < gap["mean"] < gap["high"] and gap["n"] == 4


@pytest.mark.parametrize(
    ("metric", "value", "text"),
    [
        ("outcome_improvement", 0.0214, "+2.1 percentage points"),
        ("outcome_improvement", -0.0001, "+0.0 percentage points"),
        ("alignment", 0.634, "0.63 (0–1)"),
        ("fundraising_share", 0.361, "36%"),
        ("meeting_hours", 8.14, "8.1 hours"),
        ("money_in", 40000.0, "$40,000"),
        ("active_backbones", 9.0, "9"),
    ],
)
def test_numbers_carry_their_units(metric, value, text):
    assert dr.format_metric(metric, value) == text


def test_every_number_on_the_panel_has_a_unit():
    lane = dr.Lane("nine_backbones", {"partners": 40}, seed=1)
    panel = numbers_html(lane, 12)
    for metric in dr.number_rows(lane.series):
        assert METRIC_LABELS[metric][0] in panel
    assert "percentage points" in panel and "outcome_improvement" not in panel


@pytest.mark.parametrize("name", dr.shipped_names())
def test_shipped_descriptions_show_no_internal_codes(name):
    text = dr.plain_description(load_scenario(name).description)
    assert text and not any(code in text for code in ("SF1", "SF2", "SF3", "strive:", "_"))


@pytest.mark.parametrize(
    ("month", "words"),
    [(0, "at the start"), (5, "after 5 months"), (36, "after 3 years"), (29, "after 2 years 5 months")],
)
def test_time_in_words(month, words):
    assert dr.when(month) == words


def test_ten_years_done_is_said():
    assert status_text(120, 120) == "Ten years done: month 120 of 120"
    assert status_text(13, 120) == "Month 13 of 120 · after 1 year 1 month"


def _text_px(fig) -> list[float]:
    fig.canvas.draw()
    texts = fig.findobj(lambda a: isinstance(a, Text) and a.get_visible() and a.get_text())
    return [t.get_fontsize() * fig.dpi / 72 for t in texts]


def test_plot_text_is_at_least_14_pixels():
    lane = dr.Lane("nine_backbones", {"partners": 40}, seed=1)
    fig, _ = dr.line_figure(
        [dr.Line(np.arange(121), np.zeros(121), "k", "a line")], "Title", "unit", 120, (540, 240), marks=[(10, "merge")]
    )
    sizes = _text_px(fig)
    assert len(sizes) > 10 and min(sizes) >= dr.MIN_TEXT_PX
    picture = dr.NetworkPicture(lane.model_at(0), (300, 300))
    assert min(_text_px(picture.fig)) >= dr.MIN_TEXT_PX


def test_plot_cover_starts_at_the_month_on_screen():
    lane = dr.Lane("single_backbone", {"partners": 40}, seed=1)
    plot = dr.outcome_plot([lane], (540, 240), single=True)
    assert Image.open(io.BytesIO(plot.png)).size == (540, 240)
    assert plot.x_fraction(0) == pytest.approx(plot.left) and plot.x_fraction(120) == pytest.approx(plot.right)


def test_network_colours_partners_by_the_backbone_they_follow():
    """Same colours as the figures and GIFs: Tol muted for nine backbones, grey for none."""
    lane = dr.Lane("single_backbone", {"backbones": 9, "partners": 60}, seed=4)
    lane.network_png(3, 300, 400)
    model = lane.model_at(3)
    want = [backbone_colors(9)[j] if j >= 0 else dr.NEUTRAL_GREY for j in followed_backbone(model)]
    got = lane._picture.dots.get_facecolors()
    np.testing.assert_allclose(got, [dr.matplotlib.colors.to_rgba(c) for c in want])
    assert len(set(followed_backbone(model))) > 3


def test_drawing_does_not_touch_the_model_random_streams():
    drawn = dr.Lane("single_backbone", {"backbones": 4, "partners": 50}, seed=9)
    for month in range(6):
        drawn.network_png(month, 300, 400)
    plain = run_scenario(drawn.scenario, seed=replication_seed(9, 0), steps=6).final
    model = drawn.model_at(6)
    assert MODEL_METRICS["alignment"](model) == plain["alignment"]


def test_fast_layout_keeps_partners_in_their_camps():
    """The numpy-built springs pull each partner towards the backbone it follows, as the GIF layout does."""
    lane = dr.Lane("nine_backbones", {"partners": 90}, seed=6)
    model = lane.model_at(24)
    pos = dr.relax(model, lane.pos, 40, dr.peer_matrix(model))
    follow = followed_backbone(model)
    anchors = np.array([pos[("b", j)] for j in range(model.n_backbones)])
    xy = np.array([pos[i] for i in range(model.n_partners)])
    nearest = np.argmin(np.linalg.norm(xy[:, None, :] - anchors[None], axis=2), axis=1)
    following = follow >= 0
    assert (nearest[following] == follow[following]).mean() > 0.75  # (79% at this seed, 2026-11-30)


def test_network_view_holds_a_camp_on_the_ring():
    """After a merge everyone gathers round one backbone on the ring: the picture must hold the camp."""
    lane = dr.Lane("consolidation", {"partners": 60}, seed=2)
    model = lane.model_at(48)
    x0, x1, y0, y1 = dr.network_limits(model)
    xy = np.array([lane.pos[i] for i in range(model.n_partners)])
    assert (xy[:, 0] > x0).all() and (xy[:, 0] < x1).all() and (xy[:, 1] > y0).all() and (xy[:, 1] < y1).all()


def test_the_month_drawn_ahead_is_the_month_asked_for():
    """A Step shows the picture drawn in the background, identical to drawing it then."""
    import time

    def ahead(session, month):
        deadline = time.monotonic() + 30
        while (session.ahead is None or session.ahead[0] != month) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert session.ahead is not None and session.ahead[0] == month
        return session.ahead[2]["one"]

    session = Session("nine_backbones")
    first = ahead(session, 1)
    session.go(1)
    assert session.pictures["one"] is first
    second = ahead(session, 2)
    session.go(2)
    assert session.pictures["one"] is second
    session.closed = True
    fresh = dr.Lane("nine_backbones")
    assert [fresh.network_png(m, 330, 560) for m in (0, 1, 2)][1:] == [first, second]
