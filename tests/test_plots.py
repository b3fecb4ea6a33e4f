"""Figures of `ci-sim plot`: run, compare, sweep and sensitivity folders.

Every figure must exist as PNG and SVG *and carry content*: a blank or nearly blank image
(a failed draw) has next to no pixel variance, so the tests look at the pixels.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image

from ci_sim.cli import main
from ci_sim.viz.plots import (
    OKABE_ITO,
    PlotError,
    _is_baseline_row,
    _levels,
    categorical_colors,
    cell_decimals,
    detect_kinds,
    plot_results,
    plot_sensitivity,
    sweep_factors,
    timeseries_figure,
)

METRICS = ["outcome_improvement", "alignment", "mean_trust", "engagement", "meeting_hours"]
FACTORS = ["issue_areas.0.backbones.count", "issue_areas.0.backbones.neutrality"]


# --------------------------------------------------------------------------- helpers


def assert_has_content(png: Path, min_size: tuple[int, int] = (300, 200), min_std: float = 8.0) -> None:
    """The PNG is big enough and not blank: pixel values vary and several colours are used."""
    with Image.open(png) as im:
        assert im.width >= min_size[0] and im.height >= min_size[1], (png, im.size)
        pixels = np.asarray(im.convert("RGB"), dtype=float)
    assert pixels.std() > min_std, f"{png} looks blank (pixel std {pixels.std():.1f})"
    colours = np.unique(pixels.reshape(-1, 3)[::7], axis=0)
    assert len(colours) > 20, f"{png} uses only {len(colours)} colours"


def assert_svg(svg: Path) -> None:
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") or "<svg" in text[:500]
    assert text.count("<path") + text.count("<use") > 20, f"{svg} has hardly any drawing"


def figures(paths: list[Path], suffix: str = ".png") -> dict[str, Path]:
    return {p.stem: p for p in paths if p.suffix == suffix}


def synthetic_series(scenario: str | None, shift: float, reps: int = 3, steps: int = 24, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(reps):
        for t in range(steps + 1):
            base = 1 - np.exp(-t / 8)
            row = {"replication": r, "seed": 100 + r, "step": t}
            for k, m in enumerate(METRICS):
                row[m] = (0.3 + shift) * base + 0.1 * k + rng.normal(0, 0.01)
            row["outcome_kindergarten_readiness"] = 0.4 + shift * base
            rows.append(row)
    frame = pd.DataFrame(rows)
    if scenario is not None:
        frame.insert(0, "scenario", scenario)
    return frame


def make_compare_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    scenarios = {"single_backbone": 0.2, "nine_backbones": -0.1, "backbone_with_conveners": 0.3}
    rows = []
    for s, shift in scenarios.items():
        for m in METRICS:
            mean = 0.5 + shift
            diff = shift - 0.2
            rows.append(
                {
                    "scenario": s,
                    "metric": m,
                    "mean": mean,
                    "ci_low": mean - 0.05,
                    "ci_high": mean + 0.05,
                    "diff": np.nan if s == "single_backbone" else diff,
                    "diff_ci_low": np.nan if s == "single_backbone" else diff - 0.04,
                    "diff_ci_high": np.nan if s == "single_backbone" else diff + 0.04,
                    "effect_size": np.nan if s == "single_backbone" else diff / 0.1,
                    "n": 3,
                    "statement": f"{s} vs single_backbone",
                }
            )
    pd.DataFrame(rows).to_csv(folder / "compare.csv", index=False)
    series = pd.concat([synthetic_series(s, shift, seed=i) for i, (s, shift) in enumerate(scenarios.items())])
    series.to_parquet(folder / "timeseries.parquet", index=False)
    summary = series[series["step"] == series["step"].max()].drop(columns="step")
    summary.to_csv(folder / "summary.csv", index=False)
    return folder


def make_sweep_folder(folder: Path, failed: bool = True) -> Path:
    (folder / "runs").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    rows, run_id = [], 0
    for point, (count, neutrality) in enumerate((c, n) for c in (1, 3, 9) for n in (0.2, 0.5, 0.9)):
        for rep in range(3):
            row = {
                "run_id": run_id,
                "point": point,
                "replication": rep,
                "seed": 1000 + rep,
                "status": "ok",
                "error": None,
                FACTORS[0]: count,
                FACTORS[1]: neutrality,
            }
            for k, m in enumerate(METRICS):
                row[m] = 0.6 - 0.04 * count + 0.2 * neutrality + 0.05 * k + rng.normal(0, 0.01)
            rows.append(row)
            run_id += 1
    if failed:
        bad = dict(rows[0], run_id=run_id, status="error", error="ValueError: boom")
        bad.update({m: np.nan for m in METRICS})
        rows.append(bad)
    frame = pd.DataFrame(rows)
    # two part files, as a streaming sweep writes them
    frame.iloc[: len(frame) // 2].to_parquet(folder / "runs" / "part-0000.parquet", index=False)
    frame.iloc[len(frame) // 2 :].to_parquet(folder / "runs" / "part-0001.parquet", index=False)
    (folder / "experiment.json").write_text(
        json.dumps({"scenario": "nine_backbones", "factors": {FACTORS[0]: [1, 3, 9], FACTORS[1]: [0.2, 0.5, 0.9]}})
    )
    return folder


def sensitivity_frame() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    rows = []
    factors = [*FACTORS, "issue_areas.0.backbones.servant_leadership", "community.partners"]
    for m in METRICS[:3]:
        for f in factors:
            s1 = rng.uniform(0, 0.5)
            rows.append(
                {
                    "method": "sobol",
                    "metric": m,
                    "factor": f,
                    "S1": s1,
                    "S1_conf": 0.05,
                    "ST": s1 + 0.1,
                    "ST_conf": 0.06,
                }
            )
            rows.append(
                {
                    "method": "morris",
                    "metric": m,
                    "factor": f,
                    "mu_star": rng.uniform(0, 0.2),
                    "mu_star_conf": 0.02,
                    "sigma": rng.uniform(0, 0.1),
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    """A real small run folder made with the CLI (`ci-sim run ... -r 2 --steps 24`)."""
    out = tmp_path_factory.mktemp("run") / "single"
    res = CliRunner().invoke(main, ["run", "single_backbone", "-r", "2", "--steps", "24", "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    return out


# --------------------------------------------------------------------------- palette


def test_palette_is_okabe_ito_then_tol_for_many_categories():
    assert categorical_colors(3) == OKABE_ITO[:3]
    nine = categorical_colors(9)
    assert len(set(nine)) == 9, "nine backbones need nine distinct colours"


# --------------------------------------------------------------------------- sensitivity


def test_plot_sensitivity_writes_one_figure_per_method(tmp_path):
    paths = plot_sensitivity(sensitivity_frame(), tmp_path)
    pngs = figures(paths)
    assert set(pngs) == {"sensitivity_sobol", "sensitivity_morris"}
    for png in pngs.values():
        assert_has_content(png)
    for svg in figures(paths, ".svg").values():
        assert_svg(svg)
        assert "Number of backbones" in svg.read_text()  # factor labels are text


def test_plot_sensitivity_single_method_without_method_column(tmp_path):
    frame = sensitivity_frame()
    frame = frame[frame["method"] == "sobol"].drop(columns=["method", "mu_star", "mu_star_conf", "sigma"])
    paths = plot_sensitivity(frame, tmp_path)
    assert set(figures(paths)) == {"sensitivity_sobol"}


def test_plot_sensitivity_rejects_bad_table(tmp_path):
    with pytest.raises(PlotError, match="factor"):
        plot_sensitivity(pd.DataFrame({"metric": ["a"], "S1": [0.1]}), tmp_path)
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------- kinds


def test_detect_kinds(tmp_path, run_folder):
    assert detect_kinds(run_folder) == ["run"]
    assert detect_kinds(make_compare_folder(tmp_path / "c")) == ["compare"]
    assert detect_kinds(make_sweep_folder(tmp_path / "s")) == ["sweep"]
    (tmp_path / "sa").mkdir()
    sensitivity_frame().to_csv(tmp_path / "sa" / "sensitivity.csv", index=False)
    assert detect_kinds(tmp_path / "sa") == ["sensitivity"]
    assert detect_kinds(tmp_path) == []


def test_sweep_factors_follow_experiment_order():
    runs = pd.DataFrame({"run_id": [0], "b.y": [1], "a.x": [2], "alignment": [0.5]})
    assert sweep_factors(runs, {"factors": {"a.x": [1, 2], "b.y": [1]}}) == ["a.x", "b.y"]
    assert sweep_factors(runs, {"factors": [{"path": "b.y"}, {"path": "a.x"}]}) == ["b.y", "a.x"]
    assert sweep_factors(runs, None) == ["b.y", "a.x"]


# --------------------------------------------------------------------------- per kind


def test_plot_run_folder(run_folder):
    paths = plot_results(run_folder)
    pngs = figures(paths)
    assert {"timeseries_key_metrics", "timeseries_outcomes", "hours_budget"} <= set(pngs)
    assert all(p.parent == run_folder / "figures" for p in paths)
    for png in pngs.values():
        assert_has_content(png)
    for svg in figures(paths, ".svg").values():
        assert_svg(svg)
    text = (run_folder / "figures" / "timeseries_key_metrics.svg").read_text()
    assert "hours per partner per month" in text and "Months since start" in text  # units on the axes


def test_plot_compare_folder(tmp_path):
    folder = make_compare_folder(tmp_path / "cmp")
    pngs = figures(plot_results(folder, tmp_path / "figs"))
    assert set(pngs) == {"compare_means", "compare_differences", "compare_timeseries"}
    for png in pngs.values():
        assert_has_content(png)
    diff_svg = (tmp_path / "figs" / "compare_differences.svg").read_text()
    assert "nine_backbones" in diff_svg and "Difference to single_backbone" in diff_svg


def test_baseline_rows_are_found_per_scenario():
    nan = np.nan
    frame = pd.DataFrame(
        {
            "scenario": ["a", "a", "b", "b", "c", "c"],
            "metric": ["x", "y"] * 3,
            "diff": [nan, nan, 0.0, 0.3, 0.0, 0.0],
            "diff_ci_low": [nan, nan, 0.0, 0.2, 0.0, 0.0],
            "diff_ci_high": [nan, nan, 0.0, 0.4, 0.0, 0.0],
        }
    )
    # b's exact zero in x is a result (kept); c has no difference anywhere (a baseline written as zeros)
    assert _is_baseline_row(frame).tolist() == [True, True, False, False, True, True]


def test_plot_sweep_folder_skips_failed_runs(tmp_path):
    folder = make_sweep_folder(tmp_path / "sw")
    paths = plot_results(folder)
    pngs = figures(paths)
    assert set(pngs) == {"sweep_heatmap_backbones_count_x_backbones_neutrality", "sweep_main_effects"}
    for png in pngs.values():
        assert_has_content(png)
    svg = (folder / "figures" / "sweep_heatmap_backbones_count_x_backbones_neutrality.svg").read_text()
    assert "nan" not in svg.lower().replace("nano", "")  # the failed run's NaNs do not show up


def test_plot_sweep_continuous_factors_are_binned(tmp_path):
    folder = tmp_path / "lhs"
    (folder / "runs").mkdir(parents=True)
    rng = np.random.default_rng(3)
    n = 60
    frame = pd.DataFrame(
        {
            "run_id": range(n),
            "point": range(n),
            "replication": 0,
            "seed": 1,
            "status": "ok",
            "error": None,
            FACTORS[1]: rng.uniform(0, 1, n),
            "community.partners": rng.uniform(50, 300, n),
        }
    )
    for m in METRICS:
        frame[m] = frame[FACTORS[1]] + rng.normal(0, 0.05, n)
    frame.to_parquet(folder / "runs" / "part-0.parquet", index=False)
    pngs = figures(plot_results(folder))
    assert len(pngs) == 2
    for png in pngs.values():
        assert_has_content(png)


def test_factor_levels_keep_a_meaningful_order():
    coordination = pd.Series(["joint", "none", "shared_data", "none", "shared_agenda"])
    assert _levels(coordination)[1] == ["none", "shared_data", "shared_agenda", "joint"]
    assert _levels(pd.Series([9, 1, 3, 1]))[1] == [1, 3, 9]
    assert _levels(pd.Series([True, False]))[1] == [False, True]
    binned, levels = _levels(pd.Series(np.linspace(0, 1, 50)))
    assert 2 <= len(levels) <= 8 and binned.nunique() == len(levels)


def test_plot_sweep_with_a_categorical_factor(tmp_path):
    folder = tmp_path / "cat"
    (folder / "runs").mkdir(parents=True)
    rows = [
        {"run_id": i, "status": "ok", "issue_areas.0.coordination": c, FACTORS[0]: n, "alignment": 0.1 * n + k}
        for i, (k, c, n) in enumerate(
            (k, c, n) for k, c in enumerate(["joint", "none", "shared_data", "shared_agenda"]) for n in (1, 9)
        )
    ]
    pd.DataFrame(rows).to_parquet(folder / "runs" / "part-0.parquet", index=False)
    pngs = figures(plot_results(folder))
    assert set(pngs) == {"sweep_heatmap_coordination_x_backbones_count", "sweep_main_effects"}
    for png in pngs.values():
        assert_has_content(png)


def test_plot_sensitivity_folder(tmp_path):
    sensitivity_frame().to_csv(tmp_path / "sensitivity.csv", index=False)
    pngs = figures(plot_results(tmp_path))
    assert set(pngs) == {"sensitivity_sobol", "sensitivity_morris"}


# --------------------------------------------------------------------------- CLI


def test_cli_plot_run_folder_with_out(run_folder, tmp_path):
    out = tmp_path / "figs"
    res = CliRunner().invoke(main, ["plot", str(run_folder), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "timeseries_key_metrics.png").exists()
    assert str(out) in res.output


def test_cli_plot_bad_folder_exits_2_and_writes_nothing(tmp_path):
    (tmp_path / "junk.txt").write_text("x")
    res = CliRunner().invoke(main, ["plot", str(tmp_path)])
    assert res.exit_code == 2
    assert "not a results folder" in res.output
    assert not (tmp_path / "figures").exists()


def test_cli_plot_help_has_example():
    res = subprocess.run([sys.executable, "-m", "ci_sim.cli", "plot", "--help"], capture_output=True, text=True)
    assert res.returncode == 0
    assert "Example" in res.stdout and "ci-sim plot" in res.stdout


# --------------------------------------------------------------------------- readability


def test_grid_factor_levels_are_never_binned():
    """A grid of 1 to 9 backbones keeps its nine levels (binning made them 1.5, 3, 5, 7, 8.5)."""
    counts = pd.Series(list(range(1, 10)) * 3)
    values, levels = _levels(counts)
    assert levels == list(range(1, 10))
    assert values.equals(counts)
    _, continuous = _levels(pd.Series(np.random.default_rng(0).uniform(0, 1, 200)))
    assert 3 <= len(continuous) <= 6


def test_heatmap_cells_show_the_differences():
    assert cell_decimals(np.array([0.004, 0.028, np.nan])) == 3  # outcome gains: 0.012, not 0.01
    assert cell_decimals(np.array([8.2, 15.0])) == 1
    assert cell_decimals(np.array([0.31, 0.43])) == 2


def test_sweep_of_one_to_nine_backbones(tmp_path):
    folder = tmp_path / "nine"
    (folder / "runs").mkdir(parents=True)
    rows = [
        {"run_id": i, "status": "ok", FACTORS[0]: c, FACTORS[1]: n, "outcome_improvement": 0.03 - 0.002 * c + 0.01 * n}
        for i, (c, n) in enumerate((c, n) for c in range(1, 10) for n in (0.2, 0.5, 0.8))
    ]
    pd.DataFrame(rows).to_parquet(folder / "runs" / "part-0.parquet", index=False)
    pngs = figures(plot_results(folder))
    for png in pngs.values():
        assert_has_content(png)
    svg = (folder / "figures" / "sweep_heatmap_backbones_count_x_backbones_neutrality.svg").read_text()
    assert ">1.50<" not in svg and ">8.50<" not in svg  # no quantile bins of a grid factor
    for count in range(1, 10):
        assert f">{count}<" in svg
    assert "0.019" in svg  # 8 backbones at neutrality 0.5, with three decimals (two would say 0.02)


def test_count_metrics_get_whole_number_ticks():
    series = synthetic_series(None, 0.1)
    series["factions"] = 1.0  # constant: matplotlib would tick 0.995 .. 1.005
    fig = timeseries_figure(series, ["factions"], "t")
    ticks = [t for t in fig.axes[0].get_yticks() if fig.axes[0].get_ylim()[0] <= t <= fig.axes[0].get_ylim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks


def test_shared_legend_fills_an_empty_panel_slot():
    series = pd.concat([synthetic_series("a", 0.0), synthetic_series("b", 0.2, seed=1)])
    fig = timeseries_figure(series, METRICS, "t", by="scenario")  # 5 panels in a 2 x 3 grid
    holders = [ax for ax in fig.axes if ax.get_legend() is not None]
    assert len(holders) == 1 and not holders[0].axison
    assert [t.get_text() for t in holders[0].get_legend().get_texts()] == ["a", "b"]


def test_run_figures_read_well(run_folder, tmp_path):
    plot_results(run_folder, tmp_path)
    hours = (tmp_path / "hours_budget.svg").read_text()
    assert "Hours per month, per partner" in hours  # per partner, from the manifest
    assert "2 replications" in (tmp_path / "timeseries_key_metrics.svg").read_text()
    assert "((" not in (tmp_path / "timeseries_key_metrics.svg").read_text().replace(" ", "")


def test_a_sweep_of_many_factors_shows_every_factor_and_says_what_the_heat_maps_leave_out(tmp_path, capsys):
    from ci_sim.viz.plots import plot_sweep

    rng = np.random.default_rng(0)
    n = 64
    names = [f"parameters.f{j}" for j in range(8)]
    runs = pd.DataFrame({name: rng.integers(0, 2, n).astype(float) for name in names})
    runs.insert(0, "run_id", range(n))
    runs["point"], runs["replication"], runs["seed"], runs["status"], runs["error"] = range(n), 0, 1, "ok", ""
    runs["alignment"] = 0.99 + 0.01 * rng.random(n)  # near its bound: a raw interval would pass 1
    runs["outcome_improvement"] = 0.1 * runs["parameters.f7"] + 0.01 * rng.random(n)
    (tmp_path / "runs").mkdir()
    runs.to_parquet(tmp_path / "runs" / "part-1-0.parquet")
    paths = plot_sweep(tmp_path, tmp_path / "figures")
    names_written = {p.stem for p in paths}
    assert {"sweep_main_effects", "sweep_main_effects_2"} <= names_written  # factors 7 and 8 are drawn too
    assert "first 3 of 8 factors" in capsys.readouterr().err
