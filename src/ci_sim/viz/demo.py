"""The training demo: one backbone, nine competing backbones, one backbone with conveners.

``ci-sim demo`` runs the three shipped scenarios with the same replication seeds (common
random numbers, so differences between scenarios are paired by replication), then writes:

* ``figures/demo_timeseries.png|svg``: alignment, trust and outcome improvement over the
  years, one colour per scenario with 95% bands;
* ``figures/demo_hours.png|svg``: where partners' hours go at the end, per scenario;
* ``figures/compare_means|compare_differences.png|svg``: every compared metric, with 95% CIs;
* ``network_<scenario>.gif``: the partner network over time for a representative replication
  (the one whose outcome improvement is closest to its scenario's median), stepped with
  :func:`ci_sim.build_model`;
* ``compare.csv`` (the format of ``ci-sim compare``), ``indicators.csv``, ``summary.csv``,
  ``timeseries.parquet``, ``manifest.json``;
* ``report.html``: a self-contained report for trainers and community leaders.

The output folder must be new or empty and appears only when complete (as with ``ci-sim run``).

Every run goes through :func:`ci_sim.run_scenario`; the GIF replays one replication's seed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from ci_sim.experiments.compare import compare_table
from ci_sim.model.scenario import Scenario, load_scenario
from ci_sim.runs.results import (
    atomic_write,
    check_new_dir,
    manifest,
    staged_dir,
    write_csv,
    write_json,
    write_parquet,
)
from ci_sim.runs.runner import build_model, replication_seed, run_scenario
from ci_sim.viz import animation, plots, report
from ci_sim.viz.indicators import MEASURES, indicator_frame

#: The demo's scenarios; the first is the baseline of every comparison.
DEMO_SCENARIOS = ["single_backbone", "nine_backbones", "backbone_with_conveners"]
#: Plain-language names for figures and the report.
SCENARIO_TITLES = {
    "single_backbone": "One backbone",
    "nine_backbones": "Nine competing backbones",
    "backbone_with_conveners": "One backbone + conveners",
}
#: Scenarios that get a network GIF.
GIF_SCENARIOS = ["single_backbone", "nine_backbones", "backbone_with_conveners"]
#: Metrics of the comparison table, in order.
TABLE_METRICS = [
    "outcome_improvement",
    "alignment",
    "mean_trust",
    "engagement",
    "factions",
    "meeting_hours",
    "fundraising_share",
    "data_completeness",
    "aligned_funding",
    "action_plan_quality",
]
#: The three measures of the side-by-side figure.
STORY_METRICS = ["alignment", "mean_trust", "outcome_improvement"]

Progress = Callable[[str], None] | None


def title_of(name: str) -> str:
    """Plain-language name of a scenario (its file name if it has none)."""
    return SCENARIO_TITLES.get(name, name)


# --------------------------------------------------------------------------- running


def run_all(
    scenarios: dict[str, Scenario], replications: int, steps: int, base_seed: int, progress: Progress = None
) -> pd.DataFrame:
    """Run every scenario's replications 0..R-1 with the seeds of ``base_seed``.

    Returns:
        The time series: ``scenario``, ``replication``, ``seed``, ``step`` and the metrics.
    """
    frames = []
    for name, sc in scenarios.items():
        t0 = time.perf_counter()
        for i in range(replications):
            res = run_scenario(sc, replication_seed(base_seed, i), steps=steps)
            frames.append(res.timeseries.assign(scenario=name, replication=i, seed=res.seed))
        if progress:
            progress(f"  ran {name}: {replications} replications x {steps} months ({time.perf_counter() - t0:.1f} s)")
    series = pd.concat(frames, ignore_index=True)
    lead = ["scenario", "replication", "seed", "step"]
    return series[lead + [c for c in series.columns if c not in lead]]


def final_rows(series: pd.DataFrame) -> pd.DataFrame:
    """The last step of each (scenario, replication): the rows of ``summary.csv``."""
    last = series.sort_values("step").groupby(["scenario", "replication"], sort=False).tail(1)
    return last.drop(columns="step").sort_values(["scenario", "replication"], key=_scenario_key).reset_index(drop=True)


def _scenario_key(col: pd.Series) -> pd.Series:
    if col.name != "scenario":
        return col
    order = {n: i for i, n in enumerate(DEMO_SCENARIOS)}
    return col.map(lambda s: order.get(s, len(order)))


# --------------------------------------------------------------------------- statistics


def indicator_table(series: pd.DataFrame, scenarios: dict[str, Scenario]) -> pd.DataFrame:
    """The backbone effectiveness indicators: mean and 95% CI per scenario and measure."""
    long = indicator_frame(series, scenarios)
    rows = []
    for m in MEASURES:
        for name in scenarios:
            vals = long[(long["label"] == m.label) & (long["function"] == m.function) & (long["scenario"] == name)]
            mean, lo, hi = plots.ci95(vals["value"].to_numpy())
            rows.append(
                {
                    "function": m.function,
                    "indicator": m.indicator,
                    "measure": m.label,
                    "unit": m.unit,
                    "better": m.better,
                    "scenario": name,
                    "mean": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                    "digits": m.digits,
                }
            )
    return pd.DataFrame(rows)


def representative_replication(summary: pd.DataFrame, scenario: str, metric: str = "outcome_improvement") -> int:
    """The replication of ``scenario`` whose ``metric`` is closest to the scenario's median."""
    part = summary[summary["scenario"] == scenario]
    gap = (part[metric] - part[metric].median()).abs()
    return int(part.loc[gap.idxmin(), "replication"])


# --------------------------------------------------------------------------- figures


def plot_story(
    series: pd.DataFrame, out_dir: Path, stem: str = "demo_timeseries", figsize: tuple[float, float] = (12, 4.3)
) -> list[Path]:
    """The side-by-side figure: alignment, trust and outcome improvement, one colour per scenario."""
    titled = series.assign(scenario=series["scenario"].map(title_of))
    order = [title_of(n) for n in dict.fromkeys(series["scenario"])]
    years = series["step"].max() / 12
    span = f"{years:.0f} years" if years >= 3 else f"{series['step'].max()} months"
    return plots.plot_timeseries_panels(
        titled,
        STORY_METRICS,
        out_dir,
        stem,
        f"Over {span}: mean of {series['replication'].nunique()} simulations per situation, with 95% band",
        by="scenario",
        order=order,
        figsize=figsize,
    )


def plot_hours(summary: pd.DataFrame, scenarios: dict[str, Scenario], out_dir: Path) -> list[Path]:
    """Horizontal stacked bars: a partner's month at the end, per scenario (hours per partner)."""
    parts = [
        ("hours_program", "Program work", plots.OKABE_ITO[2]),
        ("hours_meetings", "Meetings", plots.OKABE_ITO[0]),
        ("hours_reporting", "Reporting data", plots.OKABE_ITO[5]),
        ("hours_fundraising", "Fundraising", plots.OKABE_ITO[3]),
    ]
    names = list(scenarios)
    mean = summary.groupby("scenario")[[c for c, _, _ in parts]].mean().reindex(names)
    per_partner = mean.div([scenarios[n].community.partners for n in names], axis=0)
    fig = plots.new_figure(10, 1.4 + 0.75 * len(names))
    with plots.mpl.rc_context(plots.STYLE):
        ax = fig.add_subplot()
        left = np.zeros(len(names))
        y = np.arange(len(names))[::-1]
        for col, label, color in parts:
            vals = per_partner[col].to_numpy()
            ax.barh(y, vals, left=left, color=color, label=label, height=0.6)
            for yi, l0, v in zip(y, left, vals, strict=True):
                if v >= 2.5:  # label segments wide enough to hold the number
                    ax.text(
                        l0 + v / 2,
                        yi,
                        f"{v:.0f}",
                        ha="center",
                        va="center",
                        color="black" if color == plots.OKABE_ITO[5] else "white",  # contrast on light blue
                        fontsize=11,
                        fontweight="bold",
                    )
            left += vals
        ax.set_yticks(y, [title_of(n) for n in names])
        ax.set_xlabel("Hours per partner per month (final month, mean over replications)")
        ax.set_title("Where a partner's month goes")
        ax.grid(axis="y", visible=False)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=4)
    return plots.save_figure(fig, out_dir, "demo_hours")


# --------------------------------------------------------------------------- the demo


def run_demo(
    out: Path,
    replications: int = 20,
    steps: int | None = None,
    seed: int | None = None,
    scenario_names: Sequence[str] = DEMO_SCENARIOS,
    gif_scenarios: Sequence[str] = GIF_SCENARIOS,
    frame_every: int = 3,
    progress: Progress = None,
) -> dict[str, Path]:
    """Run the demo and write its files into ``out``.

    Args:
        out: output folder: new or empty; it appears, complete, when everything is written.
        replications: replications per scenario (at least 2, for confidence intervals).
        steps: months to simulate (default: the first scenario's, 120).
        seed: base seed of the replications (default: the first scenario's).
        scenario_names: shipped scenarios to compare; the first is the baseline.
        gif_scenarios: those of them that get a network GIF.
        frame_every: months between GIF frames.
        progress: optional callable receiving progress lines.

    Returns:
        The files written, by role (``report``, ``timeseries_figure``, ``gif_<scenario>``, ...).

    Raises:
        ScenarioError: ``out`` already holds files (nothing is run or written).
    """
    say = progress or (lambda _msg: None)
    out = Path(out)
    check_new_dir(out)  # before any run: results are never overwritten
    started, t0 = datetime.now(UTC), time.perf_counter()
    scenarios = {n: load_scenario(n, steps=steps) for n in scenario_names}  # refuses events past --steps
    first = scenarios[scenario_names[0]]
    steps = steps or first.steps
    base_seed = first.seed if seed is None else seed
    say(f"ci-sim demo: {len(scenarios)} scenarios x {replications} replications x {steps} months")
    series = run_all(scenarios, replications, steps, base_seed, say)
    summary = final_rows(series)
    compare = compare_table(summary, [m for m in TABLE_METRICS if m in summary.columns], scenario_names[0])
    indicators = indicator_table(series, scenarios)
    info = {
        "scenarios": {n: {"title": title_of(n), "description": sc.description} for n, sc in scenarios.items()},
        "baseline": scenario_names[0],
        # what the baseline community works on, for the report's words (areas with their outcomes)
        "areas": {a.name: list(a.outcomes) for a in scenarios[scenario_names[0]].issue_areas},
        "replications": replications,
        "steps": steps,
        "base_seed": base_seed,
        "started": started.isoformat(),
        "frame_every": frame_every,
    }
    files: dict[str, Path] = {}
    with staged_dir(out) as tmp:  # the folder appears complete or not at all
        fig_dir = tmp / "figures"
        write_parquet(series, tmp / "timeseries.parquet")
        write_csv(summary, tmp / "summary.csv")
        write_csv(compare, tmp / "compare.csv")
        write_csv(indicators.drop(columns="digits"), tmp / "indicators.csv")
        files.update(compare_table=tmp / "compare.csv", indicators_table=tmp / "indicators.csv")
        files["timeseries_figure"] = plot_story(series, fig_dir)[0]
        files["hours_figure"] = plot_hours(summary, scenarios, fig_dir)[0]
        compare_figs = plots.plot_compare_table(compare.assign(scenario=compare["scenario"].map(title_of)), fig_dir)
        files["differences_figure"] = next(p for p in compare_figs if p.name == "compare_differences.png")
        gifs = {}
        for name in gif_scenarios:
            t1 = time.perf_counter()
            rep = representative_replication(summary, name)
            model = build_model(scenarios[name], replication_seed(base_seed, rep))
            path = animation.network_gif(model, steps, tmp / f"network_{name}.gif", title_of(name), every=frame_every)
            gifs[name] = (path, rep)
            files[f"gif_{name}"] = path
            say(f"  drew network_{name}.gif (replication {rep}, {time.perf_counter() - t1:.1f} s)")
        files["report"] = report.write_report(
            tmp / "report.html",
            info=info,
            compare=compare,
            indicators=indicators,
            figures={
                "timeseries": files["timeseries_figure"],
                "hours": files["hours_figure"],
                "differences": files["differences_figure"],
            },
            gifs=gifs,
            versions=manifest()["versions"],
        )
        write_json(
            manifest(
                demo=info,
                seeds=[replication_seed(base_seed, i) for i in range(replications)],
                gif_replications={n: rep for n, (_, rep) in gifs.items()},
                scenario_sha256={n: sc.sha256() for n, sc in scenarios.items()},
                ended=datetime.now(UTC).isoformat(),
                wall_seconds=round(time.perf_counter() - t0, 3),
            ),
            tmp / "manifest.json",
        )
        files["manifest"] = tmp / "manifest.json"
    say(f"  done in {time.perf_counter() - t0:.1f} s")
    return {role: out / path.relative_to(tmp) for role, path in files.items()}


def write_readme_figure(series: pd.DataFrame, path: Path, size_px: tuple[int, int] = (1200, 450)) -> Path:
    """A small PNG of the side-by-side figure, exactly ``size_px``, for the README.

    Example:
        >>> series = pd.read_parquet("results/demo/<time>/timeseries.parquet")  # doctest: +SKIP
        >>> write_readme_figure(series, Path("docs/img/demo.png"))  # doctest: +SKIP
    """
    dpi = 100
    titled = series.assign(scenario=series["scenario"].map(title_of))
    order = [title_of(n) for n in dict.fromkeys(series["scenario"])]
    fig = plots.timeseries_figure(
        titled,
        STORY_METRICS,
        f"One backbone, nine, or one with conveners ({series['replication'].nunique()} simulations each, "
        "mean and 95% band)",
        by="scenario",
        order=order,
        figsize=(size_px[0] / dpi, size_px[1] / dpi),
    )
    with plots.mpl.rc_context({**plots.STYLE, "savefig.bbox": "standard"}):  # exactly size_px
        atomic_write(Path(path), lambda p: fig.savefig(p, format="png", dpi=dpi))
    return Path(path)
