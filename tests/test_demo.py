"""`ci-sim demo`: figures, network GIFs, the self-contained HTML report, and their pieces."""

from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image

from ci_sim import build_model, load_scenario, replication_seed
from ci_sim.cli import main
from ci_sim.model.metrics import agent_snapshot, factions, metric_names, model_metrics
from ci_sim.viz.animation import backbone_anchors, backbone_colors, camps, followed_backbone, simulate_frames
from ci_sim.viz.demo import DEMO_SCENARIOS, SCENARIO_TITLES, compare_table, representative_replication
from ci_sim.viz.indicators import FUNCTIONS, function_hours
from ci_sim.viz.report import final_frame_uri, story_paragraphs

STEPS = 36
COMPARE_COLUMNS = [
    "scenario",
    "metric",
    "mean",
    "ci_low",
    "ci_high",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
    "effect_size",
    "n",
    "statement",
]


def assert_has_content(im: Image.Image, min_size=(300, 200), min_std: float = 8.0) -> None:
    assert im.width >= min_size[0] and im.height >= min_size[1], im.size
    pixels = np.asarray(im.convert("RGB"), dtype=float)
    assert pixels.std() > min_std, f"image looks blank (pixel std {pixels.std():.1f})"
    assert len(np.unique(pixels.reshape(-1, 3)[::7], axis=0)) > 8


class Refs(HTMLParser):
    """Collects tags and their src/href attributes."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "out"
    res = CliRunner().invoke(main, ["demo", "--replications", "2", "--steps", str(STEPS), "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    assert str(out / "report.html") in res.output  # the command says where the files are
    return out


# --------------------------------------------------------------------------- files


def test_demo_writes_everything(demo_dir):
    for name in (
        "report.html",
        "compare.csv",
        "indicators.csv",
        "summary.csv",
        "timeseries.parquet",
        "manifest.json",
        "figures/demo_timeseries.png",
        "figures/demo_timeseries.svg",
        "figures/demo_hours.png",
        "network_single_backbone.gif",
        "network_nine_backbones.gif",
    ):
        assert (demo_dir / name).is_file(), name


def test_demo_figures_carry_content(demo_dir):
    for name in ("demo_timeseries", "demo_hours", "compare_differences"):
        with Image.open(demo_dir / "figures" / f"{name}.png") as im:
            assert_has_content(im)
    svg = (demo_dir / "figures" / "demo_timeseries.svg").read_text()
    for label in (
        "Alignment with the common agenda",
        "Trust in the backbone followed",
        "Outcome improvement",
        *SCENARIO_TITLES.values(),
        "Months since start",
    ):
        assert label in svg, label


@pytest.mark.parametrize("scenario", ["single_backbone", "nine_backbones"])
def test_gif_has_a_frame_per_year_and_moves(demo_dir, scenario):
    with Image.open(demo_dir / f"network_{scenario}.gif") as im:
        assert im.format == "GIF"
        # the demo draws month 0 and every third month (frame_every=3): 13 frames for 36 months,
        # and the GIF must hold every one of them
        assert json.loads((demo_dir / "manifest.json").read_text())["demo"]["frame_every"] == 3
        assert im.n_frames == STEPS // 3 + 1 == 13
        im.seek(0)
        first = np.asarray(im.convert("RGB"), dtype=float)
        assert_has_content(im.convert("RGB"))
        im.seek(im.n_frames - 1)
        last = np.asarray(im.convert("RGB"), dtype=float)
    assert np.abs(first - last).mean() > 0.5, "the animation does not change"


def test_compare_csv_has_the_compare_format_and_paired_differences(demo_dir):
    compare = pd.read_csv(demo_dir / "compare.csv")
    assert list(compare.columns)[: len(COMPARE_COLUMNS)] == COMPARE_COLUMNS  # the contract first, then extras
    assert list(dict.fromkeys(compare["scenario"])) == DEMO_SCENARIOS
    base = compare[compare["scenario"] == "single_backbone"]
    assert base["diff"].isna().all()
    nine = compare[(compare["scenario"] == "nine_backbones") & (compare["metric"] == "alignment")].iloc[0]
    summary = pd.read_csv(demo_dir / "summary.csv")
    a = summary[summary["scenario"] == "nine_backbones"].set_index("replication")["alignment"]
    b = summary[summary["scenario"] == "single_backbone"].set_index("replication")["alignment"]
    assert nine["diff"] == pytest.approx((a - b).mean())
    assert nine["diff_ci_low"] <= nine["diff"] <= nine["diff_ci_high"]


def test_plot_command_understands_the_demo_folder(demo_dir, tmp_path):
    res = CliRunner().invoke(main, ["plot", str(demo_dir), "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "compare_timeseries.png").is_file()


# --------------------------------------------------------------------------- report


def test_report_is_self_contained(demo_dir):
    text = (demo_dir / "report.html").read_text(encoding="utf-8")
    parser = Refs()
    parser.feed(text)
    for tag, attrs in parser.tags:
        for key in ("src", "href", "srcset", "data", "poster"):
            value = attrs.get(key)
            if value is not None:
                assert value.startswith("data:") or value.startswith("#"), f"<{tag} {key}={value[:60]}>"
        assert tag != "link", "no external style sheets"
        assert not (tag == "script" and "src" in attrs), "no external scripts"
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", text, flags=re.I)
    assert "@import" not in text and "url(" not in text  # no fonts or images pulled in by CSS


def test_report_embeds_decodable_images(demo_dir):
    text = (demo_dir / "report.html").read_text(encoding="utf-8")
    uris = re.findall(r'src="data:image/(png|gif);base64,([A-Za-z0-9+/=]+)"', text)
    kinds = [k for k, _ in uris]
    assert kinds.count("png") >= 3 and kinds.count("gif") >= 2
    for kind, payload in uris:
        with Image.open(io.BytesIO(base64.b64decode(payload))) as im:
            assert im.format.lower() == kind
            assert_has_content(im.convert("RGB"))


def test_report_has_story_table_and_indicators(demo_dir):
    text = (demo_dir / "report.html").read_text(encoding="utf-8")
    assert "The story in plain language" in text
    assert text.count("<table") >= 3
    for title in SCENARIO_TITLES.values():
        assert title in text
    assert "95% confidence interval" in text
    for function, _ in FUNCTIONS:
        assert function in text, function
    indicators = pd.read_csv(demo_dir / "indicators.csv")
    assert set(indicators["function"]) == {f for f, _ in FUNCTIONS}
    assert set(indicators["scenario"]) == set(DEMO_SCENARIOS)
    assert indicators["mean"].notna().all()
    # the table shows the numbers of the CSV: the single-backbone alignment, as printed
    al = indicators[(indicators["scenario"] == "single_backbone") & (indicators["measure"].str.startswith("Alignment"))]
    assert f"{al['mean'].iloc[0]:.2f}" in text
    # the story names what the shipped community works on (read from the scenario, not assumed)
    assert "seven education outcomes, from kindergarten readiness to employment" in text


def test_story_names_the_outcomes_of_the_scenario():
    from ci_sim.viz.report import outcomes_phrase

    assert (
        outcomes_phrase({"health": ["asthma_visits", "obesity"]}) == "two health outcomes (asthma visits and obesity)"
    )
    three = {"education": ["reading", "math"], "health": ["obesity"], "housing": ["evictions", "homelessness"]}
    assert outcomes_phrase(three) == "five outcomes in three issue areas (education, health, housing)"
    sc = load_scenario("backbones_per_issue_area")
    areas = {a.name: a.outcomes for a in sc.issue_areas}
    phrase = outcomes_phrase(areas)
    assert len(areas) >= 2 and "issue areas" in phrase and all(name in phrase for name in areas)


def test_story_follows_the_numbers():
    def compare(diff, lo, hi):
        rows = []
        for s in ("a", "b"):
            for m, mean in (("outcome_improvement", 0.2), ("alignment", 0.7), ("mean_trust", 0.6)):
                base = s == "a"
                rows.append(
                    {
                        "scenario": s,
                        "metric": m,
                        "mean": mean,
                        "ci_low": mean,
                        "ci_high": mean,
                        "diff": np.nan if base else diff,
                        "diff_ci_low": np.nan if base else lo,
                        "diff_ci_high": np.nan if base else hi,
                    }
                )
        return pd.DataFrame(rows)

    info = {
        "scenarios": {"a": {"title": "Alpha"}, "b": {"title": "Beta"}},
        "baseline": "a",
        "steps": 120,
        "replications": 5,
    }
    worse = " ".join(story_paragraphs(compare(-0.05, -0.07, -0.03), info))
    assert "5.0 percentage points less than with alpha" in worse
    same = " ".join(story_paragraphs(compare(0.01, -0.01, 0.03), info))
    assert "no clear difference" in same and "more than" not in same and "less than" not in same


# --------------------------------------------------------------------------- pieces


def test_compare_table_pairs_by_replication():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, 6)
    summary = pd.DataFrame(
        {"scenario": ["a"] * 6 + ["b"] * 6, "replication": list(range(6)) * 2, "x": np.concatenate([a, a + 0.5])}
    )
    table = compare_table(summary, ["x"], "a")
    row = table[table["scenario"] == "b"].iloc[0]
    # paired: the difference is exactly 0.5 in every replication, so its CI has no width,
    # although the scenarios' own CIs are wide
    assert row["diff"] == pytest.approx(0.5)
    assert row["diff_ci_low"] == pytest.approx(0.5) and row["diff_ci_high"] == pytest.approx(0.5)
    assert row["ci_high"] - row["ci_low"] > 0.5
    assert "higher" in row["statement"]


def test_representative_replication_is_closest_to_median():
    summary = pd.DataFrame(
        {"scenario": ["s"] * 5, "replication": range(5), "outcome_improvement": [0.1, 0.5, 0.29, 0.3, 0.9]}
    )
    assert representative_replication(summary, "s") == 3


def test_followed_backbone_matches_agent_snapshot():
    """Both are checked against the state: the backbone with the most attention, -1 without any."""
    scenario = load_scenario("nine_backbones")
    model = build_model(scenario, replication_seed(2026, 0))
    for _ in range(6):
        model.step()
    pi = model.attention * model.last.valid
    expected = np.where(pi.sum(axis=1) > 0, pi.argmax(axis=1), -1)
    # a partner's top backbone is unambiguous here (no exact ties), so argmax is the answer
    top2 = -np.sort(-pi, axis=1)[:, :2]
    assert np.all((top2[:, 0] > top2[:, 1]) | (expected < 0))
    np.testing.assert_array_equal(followed_backbone(model), expected)
    snap = agent_snapshot(model)
    names = np.array([b["name"] for a in scenario.issue_areas for b in a.backbone_list()] + [""], dtype=object)
    assert (np.asarray(snap["followed_backbone"]) == names[expected]).all()
    assert len(set(expected)) > 1  # nine backbones: more than one camp


def test_function_hours_match_the_model():
    scenario = load_scenario("nine_backbones")
    model = build_model(scenario, replication_seed(2026, 1))
    for _ in range(12):
        model.step()
    final = dict(zip(metric_names(model), model_metrics(model), strict=True))
    for f, (_, parameter) in enumerate(FUNCTIONS):
        assert function_hours(final, scenario, parameter) == pytest.approx(model.last.fn_hours[:, f].sum(), rel=1e-9)


def test_gif_layout_is_seeded():
    scenario = load_scenario("nine_backbones", {"community.partners": 40})
    runs = [simulate_frames(build_model(scenario, 11), 6, every=3) for _ in range(2)]
    assert len(runs[0]) == 3
    for f0, f1 in zip(*runs, strict=True):
        np.testing.assert_array_equal(f0.partner_xy, f1.partner_xy)
        np.testing.assert_array_equal(f0.partner_follow, f1.partner_follow)


def test_demo_rejects_one_replication(tmp_path):
    res = CliRunner().invoke(main, ["demo", "--replications", "1", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2
    assert not (tmp_path / "x").exists()


def test_demo_never_overwrites(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "report.html").write_text("mine")
    res = CliRunner().invoke(main, ["demo", "-r", "2", "--steps", "12", "--out", str(tmp_path / "old")])
    assert res.exit_code == 2 and "never overwritten" in res.output
    assert [p.name for p in (tmp_path / "old").iterdir()] == ["report.html"]
    assert (tmp_path / "old" / "report.html").read_text() == "mine"


def test_demo_help_has_example():
    res = CliRunner().invoke(main, ["demo", "--help"])
    assert res.exit_code == 0 and "Example" in res.output and "ci-sim demo" in res.output


def test_readme_figure_is_small_and_exact(demo_dir, tmp_path):
    from ci_sim.viz.demo import write_readme_figure

    path = write_readme_figure(pd.read_parquet(demo_dir / "timeseries.parquet"), tmp_path / "img" / "demo.png")
    with Image.open(path) as im:
        assert im.size == (1200, 450)
        assert_has_content(im)
    assert path.stat().st_size < 200_000


def test_gif_replays_the_same_run_as_run_scenario():
    from ci_sim import run_scenario

    scenario = load_scenario("nine_backbones", {"community.partners": 60})
    seed = replication_seed(2026, 3)
    frames = simulate_frames(build_model(scenario, seed), 12, every=6)
    final = run_scenario(scenario, seed, steps=12).final
    assert [f.step for f in frames] == [0, 6, 12]
    assert frames[-1].outcome_improvement == pytest.approx(final["outcome_improvement"], abs=1e-12)
    assert frames[-1].factions == final["factions"]


# --------------------------------------------------------------------------- the network picture


def test_camps_are_the_factions_of_the_metric():
    for overrides in ({}, {"issue_areas.0.backbones.coordination": "joint"}):
        model = build_model(load_scenario("nine_backbones", overrides), replication_seed(2026, 0))
        for _ in range(6):
            model.step()
            assert len(camps(model)) == factions(model.state)
    assert len(camps(model)) == 1 and camps(model)[0].backbone == -1  # joint: one table


def test_layout_gathers_each_camp_around_its_fixed_backbone():
    model = build_model(load_scenario("nine_backbones"), replication_seed(2026, 1))
    anchors = backbone_anchors(model)
    frames = simulate_frames(model, 12, every=6)
    last = frames[-1]
    for f in frames:  # backbones never wander
        np.testing.assert_allclose(f.backbone_xy, np.array([anchors[j] for j in range(model.n_backbones)]))
    follows = last.partner_follow >= 0
    dist = np.linalg.norm(last.partner_xy[:, None, :] - last.backbone_xy[None, :, :], axis=2)
    own = dist[np.flatnonzero(follows), last.partner_follow[follows]]
    dist[np.flatnonzero(follows), last.partner_follow[follows]] = np.inf
    nearest_other = dist[follows].min(axis=1)
    assert (own < nearest_other).mean() > 0.8, "partners do not sit with the camp they follow"
    assert len(last.halos) == last.factions  # every faction has its halo


def test_gif_colours_partners_by_backbone(demo_dir):
    """The last frame of the nine-backbone GIF shows several camps in their backbones' colours."""
    with Image.open(demo_dir / "network_nine_backbones.gif") as im:
        im.seek(im.n_frames - 1)
        pixels = np.asarray(im.convert("RGB"), dtype=float).reshape(-1, 3)
    seen = []
    for colour in backbone_colors(9):
        rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)
        seen.append(int((np.abs(pixels - rgb).sum(axis=1) < 30).sum()))
    # a legend square has about 100 pixels of its colour; a camp of partners has many more
    assert sum(n > 400 for n in seen) >= 3, seen


def test_indicators_hold_the_policy_measures(demo_dir):
    indicators = pd.read_csv(demo_dir / "indicators.csv")
    summary = pd.read_csv(demo_dir / "summary.csv")
    policy = indicators[(indicators["function"] == "Advance Policy") & indicators["measure"].str.startswith("Coherent")]
    for _, row in policy.iterrows():
        want = summary.loc[summary["scenario"] == row["scenario"], "policy_alignment"].mean()
        assert row["mean"] == pytest.approx(want)
    assert len(policy) == len(DEMO_SCENARIOS)


def test_report_mentions_no_address_at_all(demo_dir):
    text = (demo_dir / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"(https?|ftp|wss?):", text, flags=re.I)


# --------------------------------------------------------------------------- README images


ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("name", "size"), [("demo.png", (1200, 450)), ("dashboard.png", (1280, 720))]
)  # 1280x720: the room size it is laid out for
def test_readme_images_are_small_and_shown(name, size):
    path = ROOT / "docs" / "img" / name
    assert path.stat().st_size < 200_000, f"{path} is too big for the repository"
    with Image.open(path) as im:
        assert im.size == size
        assert_has_content(im)
    assert f"docs/img/{name}" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_first_command_ends_in_the_demo():
    lines = [line for line in (ROOT / "scripts" / "demo").read_text().splitlines() if line.strip()]
    assert "ci-sim demo" in lines[-1]


def test_only_the_readme_images_are_committed():
    import shutil
    import subprocess

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    images = [f for f in files if f.lower().endswith((".png", ".gif", ".svg", ".jpg", ".jpeg", ".html", ".parquet"))]
    # the README's pictures, and the shipped posteriors (package data: `--posterior strive`, issue 12)
    allowed = ("docs/img/", "src/ci_sim/data/posteriors/")
    assert all(f.startswith(allowed) for f in images), images


# --------------------------------------------------------------------------- the report's numbers


class Tables(HTMLParser):
    """Every <table> of a page as rows of (cell text, text of the cell's 95% CI span)."""

    def __init__(self):
        super().__init__()
        self.tables: list[list[list[tuple[str, str]]]] = []
        self._cell: list[str] | None = None
        self._ci: list[str] = []
        self._in_ci = False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell, self._ci = [], []
        elif tag == "span" and dict(attrs).get("class") == "ci":
            self._in_ci = True

    def handle_endtag(self, tag):
        if tag == "span" and self._in_ci:
            self._in_ci = False
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(("".join(self._cell).strip(), "".join(self._ci).strip()))
            self._cell = None

    def handle_data(self, data):
        if self._in_ci:
            self._ci.append(data)
        elif self._cell is not None:
            self._cell.append(data)


def _number(text: str) -> float:
    return float(text.replace("−", "-").replace(",", "").strip())


def _shown(cell: tuple[str, str]) -> tuple[float, float, float]:
    """(mean, low, high) as printed in a table cell."""
    main, ci = cell
    low, high = ci.strip("[]").split(", ")
    return _number(main), _number(low), _number(high)


def _decimals(text: str) -> int:
    text = text.strip()
    return len(text.split(".")[1]) if "." in text else 0


def _assert_printed(cell, want: tuple[float, float, float], where: str) -> None:
    """Each printed number is the CSV's, rounded to the digits printed."""
    got = _shown(cell)
    texts = [cell[0], *cell[1].strip("[]").split(", ")]
    for g, w, text, part in zip(got, want, texts, ("mean", "low", "high"), strict=True):
        tol = 0.5 * 10 ** -_decimals(text) + 1e-9
        assert abs(g - w) <= tol, f"{where} {part}: printed {text!r}, CSV {w!r}"


@pytest.fixture(scope="module")
def report_parts(demo_dir):
    text = (demo_dir / "report.html").read_text(encoding="utf-8")
    parser = Tables()
    parser.feed(text)
    compare = pd.read_csv(demo_dir / "compare.csv")
    indicators = pd.read_csv(demo_dir / "indicators.csv")
    return text, parser.tables, compare, indicators


def test_report_tables_print_the_numbers_of_compare_csv(report_parts):
    _, tables, compare, _ = report_parts
    means, diffs = tables[0], tables[1]
    titles = [SCENARIO_TITLES[n] for n in DEMO_SCENARIOS]
    assert [c[0] for c in means[0]][2:] == titles and [c[0] for c in diffs[0]][2:] == titles[1:]
    metrics = list(dict.fromkeys(compare["metric"]))
    assert len(means) - 1 == len(metrics) == len(diffs) - 1
    for row_means, row_diffs, metric in zip(means[1:], diffs[1:], metrics, strict=True):
        assert row_means[0][0] == row_diffs[0][0]  # one measure per row, in the CSV's order
        for j, name in enumerate(DEMO_SCENARIOS):
            r = compare[(compare["scenario"] == name) & (compare["metric"] == metric)].iloc[0]
            _assert_printed(row_means[2 + j], (r["mean"], r["ci_low"], r["ci_high"]), f"{name}/{metric}")
            if j:
                want = (r["diff"], r["diff_ci_low"], r["diff_ci_high"])
                _assert_printed(row_diffs[1 + j], want, f"{name}/{metric} difference")
                if abs(r["diff"]) > 10 ** -_decimals(row_diffs[1 + j][0]):
                    assert row_diffs[1 + j][0].startswith("+" if r["diff"] > 0 else "−"), (name, metric)


def test_report_indicator_table_prints_indicators_csv(report_parts):
    _, tables, _, indicators = report_parts
    table = tables[2]
    assert [c[0] for c in table[0]][3:] == [SCENARIO_TITLES[n] for n in DEMO_SCENARIOS]
    rows = [r for r in table[1:] if len(r) > 1]  # the function rows span the table
    measures = indicators.drop_duplicates(["function", "measure"])
    assert len(rows) == len(measures)
    for row, (_, m) in zip(rows, measures.iterrows(), strict=True):
        assert row[1][0] == m["measure"]
        for j, name in enumerate(DEMO_SCENARIOS):
            r = indicators[
                (indicators["function"] == m["function"])
                & (indicators["measure"] == m["measure"])
                & (indicators["scenario"] == name)
            ].iloc[0]
            _assert_printed(row[3 + j], (r["mean"], r["ci_low"], r["ci_high"]), f"{m['measure']}/{name}")


def test_report_story_tells_the_numbers_of_compare_csv(report_parts):
    text, _, compare, _ = report_parts
    story = text[text.index("The story in plain language") : text.index('<div class="callout">')]
    paras = dict(re.findall(r"<p><b>([^<]+)\.</b>(.*?)</p>", story))

    def row(name, metric):
        return compare[(compare["scenario"] == name) & (compare["metric"] == metric)].iloc[0]

    def points(x):
        return f"{100 * abs(x):.1f} percentage point"

    base = paras[SCENARIO_TITLES["single_backbone"]]
    assert f"alignment reaches {row('single_backbone', 'alignment')['mean']:.2f} " in base
    assert f"trust in the backbone reaches {row('single_backbone', 'mean_trust')['mean']:.2f}," in base
    assert f"improve by {points(row('single_backbone', 'outcome_improvement')['mean'])}" in base
    for name in DEMO_SCENARIOS[1:]:
        para = paras[SCENARIO_TITLES[name]]
        out = row(name, "outcome_improvement")
        assert para.startswith(f" Outcomes improve by {points(out['mean'])}"), para
        clear = (out["diff_ci_low"] > 0 or out["diff_ci_high"] < 0) and abs(out["diff"]) >= 0.001
        if clear:
            word = "less" if out["diff"] < 0 else "more"
            lo, hi = sorted((abs(out["diff_ci_low"]), abs(out["diff_ci_high"])))
            assert f", {points(out['diff'])}s {word} than with" in para
            assert f"(95% confidence interval: {100 * lo:.1f} to {100 * hi:.1f} percentage points {word})" in para
        else:
            assert "no clear difference" in para
        # every "lower/higher (A instead of B)" is the scenario's and the baseline's mean, in that direction
        for what, metric in (("alignment", "alignment"), ("trust in the backbone", "mean_trust")):
            m = re.search(rf"{what} is (lower|higher) \(([\d.]+) instead of ([\d.]+)\)", para)
            if m:
                r, b = row(name, metric), row("single_backbone", metric)
                assert m.group(1) == ("lower" if r["diff"] < 0 else "higher")
                assert (m.group(2), m.group(3)) == (f"{r['mean']:.2f}", f"{b['mean']:.2f}")
    # the shipped demo's story does tell differences (else the checks above would be empty)
    assert "less than with one backbone" in paras[SCENARIO_TITLES["nine_backbones"]]
    assert "instead of" in paras[SCENARIO_TITLES["nine_backbones"]]


def test_printed_animation_is_its_final_month(tmp_path):
    """A printer shows a GIF's first frame (month 0); the report prints the last one instead."""
    frames = [Image.new("RGB", (20, 10), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    uri = final_frame_uri(path)
    assert uri.startswith("data:image/png;base64,")
    with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as still:
        assert still.convert("RGB").getpixel((5, 5)) == (0, 0, 255)


def test_report_prints_stills_keeps_headings_and_speaks_plainly(demo_dir):
    text = (demo_dir / "report.html").read_text(encoding="utf-8")
    css = text[text.index("@media print") :]
    assert ".gifs img.anim { display: none; }" in css and ".gifs img.still { display: block" in css
    assert "break-after: avoid-page" in css
    assert text.count('class="still"') == text.count('class="anim"') >= 2
    words = re.sub(r"data:[^\"']+", "", text)  # the images' base64 can hold any letters
    assert "percentage points" in words and "SF1" not in words and "<code>nine_backbones</code>" not in words
