"""Figures for whatever ``ci-sim run``, ``compare``, ``sweep`` or ``sensitivity`` produced.

Every figure is written twice, as PNG (for slides and the HTML report) and SVG (for print).
Figures are built on :class:`matplotlib.figure.Figure` directly, not through ``pyplot``, so
they need no GUI backend and leave no global state behind (the dashboard may run in the same
process). Colours come from the Okabe–Ito palette, which stays distinguishable for the common
forms of colour blindness; Paul Tol's nine-colour "muted" palette takes over where more than
eight categories must be told apart.

:func:`plot_results` looks at a results folder, decides what produced it from its files and
calls :func:`plot_run`, :func:`plot_compare`, :func:`plot_sweep` or :func:`plot_sensitivity`.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter
from scipy import stats

from ci_sim.experiments.compare import NEEDS_TWO, mean_ci, metric_bounds
from ci_sim.model.metrics import KEY_METRICS, METRIC_LABELS, metric_label, metric_unit
from ci_sim.model.scenario import COORDINATION_LEVELS
from ci_sim.runs.results import atomic_write

#: Okabe & Ito (2008) colour-blind-safe palette, black last (it is kept for reference lines).
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
#: Paul Tol's "muted" palette: nine colour-blind-safe colours for nine competing backbones.
TOL_MUTED = ["#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499"]
#: Colour for "none" (partners following no backbone, missing values).
NEUTRAL_GREY = "#BBBBBB"

#: Readable defaults for a room of trainees: large text, light grid, no top/right spines.
STYLE = {
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "figure.dpi": 100,
    "savefig.dpi": 130,
    "savefig.bbox": "tight",
    "svg.fonttype": "none",  # text stays text in SVG: searchable, editable, small
    "axes.prop_cycle": mpl.cycler(color=OKABE_ITO),
}


#: Plain names of common sweep factors (dotted paths below ``issue_areas.<i>``, or top level).
FACTOR_NAMES = {
    "backbones.count": "Number of backbones",
    "backbones.neutrality": "Backbone neutrality",
    "backbones.servant_leadership": "Backbone servant leadership",
    "backbones.in_kind": "Backbone in-kind support ($/month)",
    "backbones.funding_weight": "Funders' preference for the backbone",
    "coordination": "Coordination among backbones",
    "backbones.coordination": "Coordination among backbones",
    "conveners.facilitation": "Conveners' facilitation skill",
    "conveners.per_outcome": "Conveners per outcome",
    "funding.backbone_pool": "Funders' backbone pool ($/month)",
    "funding.program_grants": "Program grants ($/month)",
    "community.partners": "Number of partners",
    "community.capacity_hours": "Partner capacity (hours/month)",
    # mechanism constants (docs/ODD.md, parameter table); the key stays visible for --set
    "parameters.attention_beta": "Attention focus β (attention_beta)",
    "parameters.table_hours": "Hours per table (table_hours)",
    "parameters.overhead": "Overhead per backbone, $/month (overhead)",
    "parameters.visibility_rival": "Visibility contest effort (visibility_rival)",
    "parameters.fire_cost": "Trust lost to political fires (fire_cost)",
    "parameters.burnout_cost": "Burn-out from meetings (burnout_cost)",
    "parameters.openness_mean": "Partners' openness (openness_mean)",
}

#: Columns of result tables that are bookkeeping, not metrics.
ID_COLUMNS = {
    "scenario",
    "replication",
    "seed",
    "step",
    "run_id",
    "point",
    "status",
    "error",
    "elapsed",
    "wall_seconds",
}


class PlotError(ValueError):
    """A results folder or table that cannot be plotted (the message says why)."""


# --------------------------------------------------------------------------- helpers


def axis_label(metric: str) -> str:
    """``"Label (unit)"`` for a y axis."""
    return f"{metric_label(metric)}\n({metric_unit(metric)})"


def factor_label(factor: str) -> str:
    """A readable label for a dotted factor path (``issue_areas.0.backbones.count``).

    Well-known settings get a plain name ("Number of backbones"); other paths are shown as
    they are, minus a leading ``issue_areas.0.`` (the first, often only, area), so labels
    stay unique and can be typed back into ``--set``.
    """
    label = re.sub(r"^issue_areas\.0\.", "", factor)
    label = re.sub(r"\.backbones\.\d+\.", ".backbones.", label) if label.startswith("backbones.") else label
    return FACTOR_NAMES.get(label, label)


def categorical_colors(n: int) -> list[str]:
    """``n`` colour-blind-safe colours: Okabe–Ito up to eight, Tol muted up to nine, then cycled."""
    base = OKABE_ITO if n <= len(OKABE_ITO) else TOL_MUTED
    return [base[i % len(base)] for i in range(n)]


def new_figure(width: float, height: float) -> Figure:
    """A figure with the house style, not attached to pyplot."""
    with mpl.rc_context(STYLE):
        return Figure(figsize=(width, height), layout="constrained")


def save_figure(fig: Figure, out_dir: Path, stem: str) -> list[Path]:
    """Write ``fig`` as ``stem.png`` and ``stem.svg`` in ``out_dir`` (atomically); return both paths."""
    out_dir = Path(out_dir)
    paths = []
    with mpl.rc_context(STYLE):
        for ext in ("png", "svg"):
            path = out_dir / f"{stem}.{ext}"
            atomic_write(path, lambda p, ext=ext: fig.savefig(p, format=ext))
            paths.append(path)
    return paths


def grid_shape(n: int, max_cols: int = 3) -> tuple[int, int]:
    """Rows and columns of a panel grid for ``n`` panels."""
    cols = min(max_cols, max(n, 1))
    return int(np.ceil(n / cols)), cols


def subplots(n: int, panel_w: float, panel_h: float, max_cols: int = 3, **kwargs) -> tuple[Figure, list]:
    """A figure with ``n`` panels in a grid; surplus axes are hidden. Returns (figure, axes)."""
    rows, cols = grid_shape(n, max_cols)
    fig = new_figure(panel_w * cols, panel_h * rows)
    with mpl.rc_context(STYLE):
        axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False, **kwargs)).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def t_quantile(n: np.ndarray | int) -> np.ndarray | float:
    """The 97.5% quantile of Student's t with ``n - 1`` degrees of freedom (0 where n < 2).

    With 10–20 replications the normal 1.96 would make intervals about 5–10% too narrow.
    """
    n = np.asarray(n, dtype=float)
    q = stats.t.ppf(0.975, np.maximum(n - 1, 1))
    return np.where(n >= 2, q, 0.0) if q.ndim else (float(q) if n >= 2 else 0.0)


def ci95(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% confidence interval of the mean (Student's t; NaNs are ignored)."""
    return mean_ci(values)


def band_frame(series: pd.DataFrame, metric: str, by: Sequence[str] = ("step",)) -> pd.DataFrame:
    """Per ``by`` group: mean and 95% CI of the mean over replications (columns mean, low, high).

    With one replication the band has no width (there is no spread to show); bands of
    bounded metrics are cut at their bounds (:func:`~ci_sim.experiments.compare.metric_bounds`).
    """
    g = series.groupby(list(by))[metric]
    mean, sd, n = g.mean(), g.std(ddof=1).fillna(0.0), g.count()
    half = t_quantile(n.to_numpy()) * sd / np.sqrt(n.clip(lower=1))
    low, high = mean - half, mean + half
    bounds = metric_bounds(metric)
    if bounds is not None:
        low, high = low.clip(lower=bounds[0]), high.clip(upper=bounds[1])
    return pd.DataFrame({"mean": mean, "low": low, "high": high}).reset_index()


def time_axis(steps: pd.Series | np.ndarray) -> tuple[np.ndarray, str]:
    """Steps (months) as x values: in years when the run is longer than three years."""
    steps = np.asarray(steps, dtype=float)
    if steps.size and steps.max() > 36:
        return steps / 12.0, "Years since start"
    return steps, "Months since start"


def metric_columns(frame: pd.DataFrame, preferred: Iterable[str] = KEY_METRICS) -> list[str]:
    """The numeric metric columns of ``frame``: ``preferred`` ones first, in that order."""
    numeric = [c for c in frame.columns if c not in ID_COLUMNS and pd.api.types.is_numeric_dtype(frame[c])]
    first = [m for m in preferred if m in numeric]
    return first + [c for c in numeric if c not in first]


def _finish_legend(fig: Figure, axes: list, ncol: int | None = None, title: str | None = None) -> None:
    """One shared legend (taken from the first axes that has entries).

    It goes into the first empty slot of the panel grid when there is one (next to the
    panels, where the eye looks), else under the panels.
    """
    for ax in axes:
        handles, labels = ax.get_legend_handles_labels()
        if not handles:
            continue
        spare = [a for a in fig.axes if not a.get_visible()]
        if spare:
            slot = spare[0]
            slot.set_visible(True)
            slot.set_axis_off()
            slot.legend(handles, labels, loc="center", handlelength=3, title=title, fontsize=13, title_fontsize=13)
        else:
            fig.legend(handles, labels, loc="outside lower center", ncol=ncol or min(len(labels), 4), handlelength=3)
        return


# --------------------------------------------------------------------------- sensitivity


def _sensitivity_panel(ax, part: pd.DataFrame, method: str, factors: list[str]) -> None:
    """Horizontal bars per factor with 95% CI error bars (Sobol S1/ST or Morris mu*/sigma).

    ``factors`` fixes the order (top to bottom), the same in every panel so they compare.
    """
    if method == "sobol":
        bars = [("S1", "S1_conf", "First order S1", OKABE_ITO[0]), ("ST", "ST_conf", "Total order ST", OKABE_ITO[1])]
        xlabel = "Share of output variance"
    else:
        bars = [
            ("mu_star", "mu_star_conf", "μ* (mean |elementary effect|)", OKABE_ITO[0]),
            ("sigma", None, "σ (interactions, non-linearity)", OKABE_ITO[1]),
        ]
        xlabel = "Elementary effect (metric units)"
    present = [b for b in bars if b[0] in part.columns]
    if not present:
        raise PlotError(f"sensitivity table for method {method!r} has none of the columns {[b[0] for b in bars]}")
    part = part.set_index("factor").reindex(factors[::-1]).reset_index()
    y = np.arange(len(part))
    height = 0.8 / len(present)
    flagged = _flagged(part)
    noise = float(part["noise_share"].iloc[0]) if "noise_share" in part.columns and len(part) else float("nan")
    if method == "sobol" and np.isfinite(noise) and noise > 0:
        # indices inside this band could be produced by seed noise alone
        ax.axvspan(0, noise, color=NEUTRAL_GREY, alpha=0.35, linewidth=0, label="Seed-noise level")
    for j, (col, conf, label, color) in enumerate(present):
        xerr = part[conf].to_numpy(dtype=float) if conf and conf in part.columns else None
        offset = (j - (len(present) - 1) / 2) * height
        bars = ax.barh(
            y - offset,
            part[col].to_numpy(dtype=float),
            height=height,
            xerr=xerr,
            color=color,
            label=label,
            error_kw={"ecolor": "#333333", "capsize": 3, "elinewidth": 1.2},
        )
        for bar, bad in zip(bars, flagged, strict=True):
            if bad:  # hatched: the warnings column of sensitivity.csv says why
                bar.set_hatch("///")
                bar.set_edgecolor("#333333")
    # the mark goes next to the bars, not into the tick labels: panels share their y axis
    ends = np.nanmax(
        [
            part[c].to_numpy(float) + (part[cf].to_numpy(float) if cf and cf in part.columns else 0)
            for c, cf, *_ in present
        ],
        axis=0,
    )
    for yi, end, bad in zip(y, ends, flagged, strict=True):
        if bad:
            ax.text(max(end, 0.0) if np.isfinite(end) else 0.0, yi, " (!)", va="center", fontsize=11, weight="bold")
    ax.set_yticks(y, [factor_label(f) for f in part["factor"]])
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)


def _flagged(part: pd.DataFrame) -> list[bool]:
    """Per row, whether its ``warnings`` cell holds a warning."""
    if "warnings" not in part.columns:
        return [False] * len(part)
    return [isinstance(w, str) and bool(w.strip()) for w in part["warnings"]]


def plot_sensitivity(frame: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Bar charts of a sensitivity analysis: one panel per metric, one bar group per factor.

    Sobol analyses show first-order (S1) and total-order (ST) indices, Morris analyses show
    μ* and σ; error bars are the 95% confidence intervals SALib reports (``*_conf``).
    One figure per method, ``sensitivity_<method>.png`` and ``.svg``.

    Args:
        frame: rows of ``sensitivity.csv`` (columns ``method``, ``metric``, ``factor`` and the
            index columns ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` or ``mu_star``,
            ``mu_star_conf``, ``sigma``).
        out_dir: folder to write into (created if needed).

    Returns:
        The paths written.

    Raises:
        PlotError: if the table lacks the needed columns or is empty.
    """
    missing = {"metric", "factor"} - set(frame.columns)
    if missing:
        raise PlotError(f"sensitivity table lacks column(s) {sorted(missing)}; it has {list(frame.columns)}")
    if frame.empty:
        raise PlotError("sensitivity table is empty")
    frame = frame.copy()
    if "method" not in frame.columns:
        frame["method"] = "sobol" if "ST" in frame.columns else "morris"
    paths: list[Path] = []
    for method, by_method in frame.groupby("method", sort=True):
        method = str(method).lower()
        metrics = [m for m in KEY_METRICS if m in set(by_method["metric"])] + [
            m for m in by_method["metric"].unique() if m not in KEY_METRICS
        ]
        key = "ST" if "ST" in by_method.columns else "mu_star" if "mu_star" in by_method.columns else None
        if key is None:
            factors = list(dict.fromkeys(by_method["factor"]))
        else:  # most influential first, by the mean index over metrics
            factors = by_method.groupby("factor")[key].mean().sort_values(ascending=False).index.tolist()
        n_factors = len(factors)
        # at least 2.4 in: one or two factors would leave no room under the titles and legend
        panel_h = max(2.4, 0.9 + 0.42 * n_factors * (1.4 if method == "sobol" else 1.0))
        fig, axes = subplots(len(metrics), 4.6, panel_h, max_cols=3, sharey=True)
        for ax, metric in zip(axes, metrics, strict=True):
            _sensitivity_panel(ax, by_method[by_method["metric"] == metric], method, factors)
            ax.set_title(metric_label(metric))
        name = "Sobol" if method == "sobol" else "Morris" if method == "morris" else method
        title = f"Which settings drive the results? ({name} sensitivity, bars with 95% CI)"
        if any(_flagged(by_method)):
            note = (
                "(!) hatched: index flagged (impossible value, interval wider than the index, or within seed "
                "noise): see the warnings column of sensitivity.csv"
            )
            # wrapped to the figure's width: a line wider than the figure collapses the layout
            title += "\n" + textwrap.fill(note, width=max(40, int(fig.get_figwidth() * 9)))
        fig.suptitle(title, fontsize=14)
        _finish_legend(fig, axes, ncol=3)
        paths += save_figure(fig, out_dir, f"sensitivity_{method}")
    return paths


def plot_second_order(frame: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Heat maps of second-order Sobol' indices: one panel per metric, one cell per factor pair.

    Each cell shows S2 and its 95% confidence interval (``±S2_conf``); cells whose interval is
    wider than the index are marked ``(!)``. Written as ``sensitivity_s2.png`` and ``.svg``.

    Args:
        frame: rows of ``sensitivity_s2.csv`` (columns ``metric``, ``factor``, ``factor_2``,
            ``S2``, ``S2_conf`` and optionally ``warnings``).
        out_dir: folder to write into (created if needed).

    Returns:
        The paths written.

    Raises:
        PlotError: if the table lacks the needed columns or is empty.
    """
    missing = {"metric", "factor", "factor_2", "S2", "S2_conf"} - set(frame.columns)
    if missing:
        raise PlotError(f"second-order table lacks column(s) {sorted(missing)}; it has {list(frame.columns)}")
    if frame.empty:
        raise PlotError("second-order table is empty")
    metrics = list(dict.fromkeys(frame["metric"]))
    factors = list(dict.fromkeys([*frame["factor"], *frame["factor_2"]]))
    index = {f: i for i, f in enumerate(factors)}
    n = len(factors)
    fig, axes = subplots(len(metrics), 3.5 + 1.4 * n, 2.0 + 1.1 * n, max_cols=2)
    for ax, metric in zip(axes, metrics, strict=True):
        grid = np.full((n, n), np.nan)
        rows = frame[frame["metric"] == metric]
        for (_, r), bad in zip(rows.iterrows(), _flagged(rows), strict=True):
            i, j = index[r["factor"]], index[r["factor_2"]]
            grid[i, j] = r["S2"]
            ax.text(
                j,
                i,
                f"{r['S2']:.2f}\n±{r['S2_conf']:.2f}" + ("\n(!)" if bad else ""),
                ha="center",
                va="center",
                fontsize=9,
            )
        with mpl.rc_context(STYLE):
            # colour scale at least 0..0.05: indices of 1e-6 should not look like strong interactions
            top = float(np.nanmax(np.abs(grid))) if np.isfinite(grid).any() else 0.0
            ax.imshow(grid, cmap="Blues", vmin=0, vmax=max(0.05, top))
            # columns by the last key of the path (the rows carry the full labels)
            ax.set_xticks(range(n), [f.rsplit(".", 1)[-1] for f in factors], rotation=30, ha="right")
            ax.set_yticks(range(n), [factor_label(f) for f in factors])
            ax.grid(False)
        ax.set_title(metric_label(metric))
    fig.suptitle("Interactions: second-order Sobol' indices S2 (±95% CI; (!) interval wider than S2)", fontsize=14)
    return save_figure(fig, out_dir, "sensitivity_s2")


# --------------------------------------------------------------------------- time series


#: Line styles that go with the colours, so that lines lying on top of each other stay visible
#: (and the figure still reads in black and white).
LINE_STYLES = ["-", (0, (5, 2.5)), (0, (1.2, 1.8)), "-.", (0, (8, 2, 1.5, 2)), (0, (3, 1.5))]


def _band(ax, x: np.ndarray, band: pd.DataFrame, color: str, label: str | None, linestyle="-") -> None:
    """A mean line with a shaded 95% band."""
    ax.fill_between(x, band["low"], band["high"], color=color, alpha=0.22, linewidth=0)
    ax.plot(x, band["mean"], color=color, linewidth=2.4, label=label, linestyle=linestyle)


def timeseries_figure(
    series: pd.DataFrame,
    metrics: Sequence[str],
    title: str,
    by: str | None = None,
    order: Sequence[str] | None = None,
    max_cols: int = 3,
    figsize: tuple[float, float] | None = None,
    sharey: bool = False,
) -> Figure:
    """One panel per metric: the mean over replications with a 95% band, per group of ``by``.

    :func:`plot_timeseries_panels` draws this figure and writes it.

    Args:
        series: rows per (replication, step) [and ``by``], with the metric columns.
        metrics: the columns to draw, one panel each.
        title: figure title.
        by: optional column that splits lines (e.g. ``scenario``), one colour each.
        order: order of the ``by`` groups (default: order of first appearance).
        max_cols: panels per row.
        figsize: figure size in inches (default: from the number of panels).
        sharey: one y scale for all panels (metrics of the same unit, e.g. the outcomes).

    Returns:
        The figure.
    """
    metrics = [m for m in metrics if m in series.columns]
    if not metrics:
        raise PlotError(f"none of the metrics to plot are in the time series (it has {list(series.columns)})")
    groups = list(order) if order is not None else (list(dict.fromkeys(series[by])) if by else [None])
    colors = dict(zip(groups, categorical_colors(len(groups)), strict=True))
    styles = {g: LINE_STYLES[i % len(LINE_STYLES)] for i, g in enumerate(groups)}
    rows, cols = grid_shape(len(metrics), max_cols)
    panel = (figsize[0] / cols, figsize[1] / rows) if figsize else (4.6, 3.3)
    fig, axes = subplots(len(metrics), *panel, max_cols=max_cols, sharex=True, sharey=sharey)
    for ax, metric in zip(axes, metrics, strict=True):
        for group in groups:
            part = series if group is None else series[series[by] == group]
            if part.empty:
                continue
            band = band_frame(part, metric)
            x, xlabel = time_axis(band["step"])
            color = colors[group] if group is not None else OKABE_ITO[0]
            _band(ax, x, band, color, None if group is None else str(group), styles[group])
        ax.set_title(metric_label(metric))
        ax.set_ylabel(metric_unit(metric))
        ax.set_xlabel(xlabel)
        ax.tick_params(labelleft=True)
        if metric_unit(metric).startswith("number"):  # counts: whole numbers, never 0.995 .. 1.005
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            lo, hi = ax.get_ylim()
            if hi - lo < 2:
                mid = round((lo + hi) / 2)
                ax.set_ylim(max(mid - 1.5, -0.5) if lo >= 0 else mid - 1.5, mid + 1.5)
        ax.tick_params(labelbottom=True)
    fig.suptitle(title, fontsize=14)
    if by:
        _finish_legend(fig, axes, title="Mean and 95% band")
    return fig


def plot_timeseries_panels(
    series: pd.DataFrame, metrics: Sequence[str], out_dir: Path, stem: str, title: str, **kwargs
) -> list[Path]:
    """Draw :func:`timeseries_figure` and write it as ``stem.png`` and ``stem.svg`` in ``out_dir``.

    Returns:
        The paths written.
    """
    return save_figure(timeseries_figure(series, metrics, title, **kwargs), out_dir, stem)


def plot_hours_budget(
    series: pd.DataFrame, out_dir: Path, stem: str, title: str, partners: int | None = None
) -> list[Path]:
    """Stacked areas: where partners' hours go each month (program, meetings, reporting, fundraising).

    Hours per partner when the number of partners is known, else for all partners together.
    """
    parts = [
        ("hours_program", "Program work"),
        ("hours_meetings", "Meetings"),
        ("hours_reporting", "Reporting data"),
        ("hours_fundraising", "Fundraising"),
    ]
    parts = [(c, lab) for c, lab in parts if c in series.columns]
    if not parts:
        return []
    mean = series.groupby("step")[[c for c, _ in parts]].mean()
    if partners:
        mean = mean / partners
    x, xlabel = time_axis(mean.index.to_numpy())
    fig = new_figure(7.5, 4.2)
    with mpl.rc_context(STYLE):
        ax = fig.add_subplot()
        ax.stackplot(
            x,
            *[mean[c].to_numpy() for c, _ in parts],
            labels=[lab for _, lab in parts],
            colors=[OKABE_ITO[2], OKABE_ITO[0], OKABE_ITO[5], OKABE_ITO[3]][: len(parts)],
            alpha=0.9,
        )
        ax.set_xlabel(xlabel)
        who = "per partner" if partners else "all partners"
        ax.set_ylabel(f"Hours per month, {who}\n(mean over replications)")
        ax.set_title(title)
        handles, labels = ax.get_legend_handles_labels()  # top to bottom, as stacked
        ax.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0))
        ax.margins(x=0)
    return save_figure(fig, out_dir, stem)


def _manifest(folder: Path) -> dict:
    """``manifest.json`` of a results folder ({} if missing or unreadable)."""
    try:
        man = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}
    return man if isinstance(man, dict) else {}


def _run_title(folder: Path, series: pd.DataFrame) -> str:
    """Scenario name and number of replications (from ``manifest.json`` and the series)."""
    scenario = _manifest(folder).get("scenario")
    name = scenario.get("name") if isinstance(scenario, dict) else None
    reps = series["replication"].nunique() if "replication" in series.columns else 1
    return f"{name or folder.name}, {reps} replication{'s' if reps != 1 else ''}"


def _partners(folder: Path) -> int | None:
    """Number of partners of a run's scenario (from ``manifest.json``), if known."""
    scenario = _manifest(folder).get("scenario")
    try:
        return int(scenario["community"]["partners"])
    except (TypeError, KeyError, ValueError):
        return None


def plot_run(folder: Path, out_dir: Path) -> list[Path]:
    """Figures of a ``ci-sim run`` folder: key metrics and each outcome over time, hours budget.

    Args:
        folder: a folder holding ``timeseries.parquet`` (and ideally ``manifest.json``).
        out_dir: folder to write the figures into.

    Returns:
        The paths written.
    """
    series = pd.read_parquet(folder / "timeseries.parquet")
    title = _run_title(folder, series)
    paths = plot_timeseries_panels(
        series,
        KEY_METRICS + ["factions", "aligned_funding"],
        out_dir,
        "timeseries_key_metrics",
        f"{title}: mean and 95% band over replications",
    )
    outcomes = [c for c in series.columns if c.startswith("outcome_") and c not in METRIC_LABELS]
    if outcomes:
        paths += plot_timeseries_panels(
            series,
            outcomes,
            out_dir,
            "timeseries_outcomes",
            f"{title}: each outcome, mean and 95% band",
            max_cols=4,
            sharey=True,
        )
    paths += plot_hours_budget(
        series, out_dir, "hours_budget", f"{title}: where partners' hours go", partners=_partners(folder)
    )
    return paths


# --------------------------------------------------------------------------- compare


def _scenario_order(compare: pd.DataFrame) -> list[str]:
    """Scenarios in the order they appear (the baseline is listed first by ``ci-sim compare``)."""
    return list(dict.fromkeys(compare["scenario"].astype(str)))


def _is_baseline_row(frame: pd.DataFrame) -> pd.Series:
    """Rows of the baseline scenario(s) (compared with itself: no difference in any metric).

    Decided per scenario, not per row: another scenario may well have a zero difference in
    one metric, and that is a result to show.
    """
    d = frame[["diff", "diff_ci_low", "diff_ci_high"]].astype(float)
    no_diff = d.isna().all(axis=1) | (d.fillna(0.0) == 0.0).all(axis=1)
    baseline = no_diff.groupby(frame["scenario"]).transform("all")
    return baseline | d["diff"].isna()


def plot_compare_table(compare: pd.DataFrame, out_dir: Path, stem: str = "compare_means") -> list[Path]:
    """Dot-and-whisker panels per metric: scenario means and differences to the baseline.

    ``compare_means`` shows each scenario's mean with its 95% CI, ``compare_differences`` the
    difference to the baseline with its 95% CI (the baseline's own rows are left out).
    """
    need = {"scenario", "metric", "mean", "ci_low", "ci_high"}
    if need - set(compare.columns):
        raise PlotError(f"compare table lacks column(s) {sorted(need - set(compare.columns))}")
    scenarios = _scenario_order(compare)
    colors = dict(zip(scenarios, categorical_colors(len(scenarios)), strict=True))
    metrics = [m for m in KEY_METRICS if m in set(compare["metric"])] + [
        m for m in dict.fromkeys(compare["metric"]) if m not in KEY_METRICS
    ]
    paths = []
    for kind in ("means", "differences"):
        cols = ("mean", "ci_low", "ci_high") if kind == "means" else ("diff", "diff_ci_low", "diff_ci_high")
        if not set(cols) <= set(compare.columns):
            continue
        table = compare if kind == "means" else compare[~_is_baseline_row(compare)]
        shown = [s for s in scenarios if s in set(table["scenario"].astype(str))]
        if table.empty or not shown:
            continue
        fig, axes = subplots(len(metrics), 4.4, 1.25 + 0.45 * len(shown), max_cols=3, sharey=True)
        y = {s: i for i, s in enumerate(reversed(shown))}
        for ax, metric in zip(axes, metrics, strict=True):
            part = table[table["metric"] == metric]
            for _, row in part.iterrows():
                s = str(row["scenario"])
                m, lo, hi = (float(row[c]) for c in cols)
                if not np.isfinite(m):
                    continue
                if not (np.isfinite(lo) and np.isfinite(hi)):  # one replication: a dot, and why no whisker
                    ax.plot(m, y[s], "o", color=colors[s], markersize=8)
                    ax.annotate(
                        f"95% CI {NEEDS_TWO}",
                        (m, y[s]),
                        xytext=(0, 9),
                        textcoords="offset points",
                        ha="center",
                        fontsize=8,
                    )
                    continue
                ax.errorbar(
                    m,
                    y[s],
                    xerr=[[max(m - lo, 0)], [max(hi - m, 0)]],
                    fmt="o",
                    color=colors[s],
                    markersize=8,
                    capsize=4,
                    elinewidth=2,
                )
            if kind == "differences":
                ax.axvline(0, color="#333333", linewidth=1)
            ax.set_yticks(list(y.values()), list(y.keys()))
            ax.set_ylim(-0.6, len(shown) - 0.4)
            ax.margins(x=0.08)  # dots at the ends stay whole
            ax.set_title(metric_label(metric))
            ax.set_xlabel(metric_unit(metric) if kind == "means" else f"difference, {metric_unit(metric)}")
            ax.grid(axis="y", visible=False)
        base = [s for s in scenarios if s not in shown]
        what = (
            "Mean and 95% CI per scenario"
            if kind == "means"
            else (f"Difference to {base[0] if base else 'the baseline'} with 95% CI (right of 0 = higher)")
        )
        fig.suptitle(what, fontsize=14)
        paths += save_figure(fig, out_dir, "compare_means" if kind == "means" else "compare_differences")
    return paths


def plot_compare(folder: Path, out_dir: Path) -> list[Path]:
    """Figures of a ``ci-sim compare`` folder.

    Scenario means and differences with 95% CIs, and the key metrics over time, one colour
    per scenario.

    Args:
        folder: a folder holding ``compare.csv`` (and optionally ``timeseries.parquet``).
        out_dir: folder to write the figures into.

    Returns:
        The paths written.
    """
    compare = pd.read_csv(folder / "compare.csv")
    paths = plot_compare_table(compare, out_dir)
    ts = folder / "timeseries.parquet"
    if ts.exists():
        series = pd.read_parquet(ts)
        if "scenario" in series.columns:
            order = [s for s in _scenario_order(compare) if s in set(series["scenario"])]
            order += [s for s in dict.fromkeys(series["scenario"]) if s not in order]
            reps = series["replication"].nunique() if "replication" in series.columns else 1
            paths += plot_timeseries_panels(
                series,
                KEY_METRICS + ["factions", "aligned_funding"],
                out_dir,
                "compare_timeseries",
                f"Scenarios over time: mean and 95% band over {reps} replications",
                by="scenario",
                order=order,
            )
    return paths


# --------------------------------------------------------------------------- decomposition

#: how the rows of decomposition.csv that are not a channel are labelled in the figure
_DECOMPOSITION_ROWS = {
    "remainder": "Remainder (1 − sum)",
    "remainder_no_channel": "  … through no channel",
    "remainder_interactions": "  … interactions",
}


def plot_decomposition(frame: pd.DataFrame, out_dir: Path, labels: tuple[str, str] | None = None) -> list[Path]:
    """Horizontal bars of each channel's share of the A − B gap, with 95% CI whiskers.

    One panel per metric; the remainder (and, one at a time, its two parts) below the
    channels, in grey. A metric whose gap is within its noise gets a panel saying so instead
    of bars. One figure per method: ``decomposition.png``/``.svg`` (one at a time) and
    ``decomposition_shapley.png``/``.svg``.

    Args:
        frame: rows of ``decomposition.csv`` (:func:`ci_sim.experiments.decompose.decomposition_table`).
        out_dir: folder to write into (created if needed).
        labels: the two scenarios' names, for the title.

    Returns:
        The paths written.

    Raises:
        PlotError: if the table lacks the needed columns or is empty.
    """
    need = {"metric", "channel", "share", "share_lo", "share_hi", "method", "kind", "gap", "gap_lo", "gap_hi"}
    missing = need - set(frame.columns)
    if missing:
        raise PlotError(f"decomposition table lacks column(s) {sorted(missing)}; it has {list(frame.columns)}")
    if frame.empty:
        raise PlotError("decomposition table is empty")
    gap_name = f"{labels[0]} − {labels[1]}" if labels else "A − B"
    paths: list[Path] = []
    for method, by_method in frame.groupby("method", sort=False):
        metrics = list(dict.fromkeys(by_method["metric"]))
        n_rows = by_method.groupby("metric").size().max()
        fig, axes = subplots(len(metrics), 5.6, max(2.6, 0.9 + 0.42 * n_rows), max_cols=2)
        for ax, metric in zip(axes, metrics, strict=True):
            part = by_method[by_method["metric"] == metric].iloc[::-1]  # first row on top
            first = part.iloc[-1]
            gap = f"gap {first['gap']:.3g} [{first['gap_lo']:.3g}, {first['gap_hi']:.3g}]"
            ax.set_title(f"{metric_label(metric)}\n{gap}", fontsize=12)
            names = [
                _DECOMPOSITION_ROWS.get(c, c) if method == "one_at_a_time" or k == "channel" else "No channel"
                for c, k in zip(part["channel"], part["kind"], strict=True)
            ]
            y = np.arange(len(part))
            ax.set_yticks(y, names)
            ax.grid(axis="y", visible=False)
            share = part["share"].to_numpy(float)
            if not np.isfinite(share).any():
                ax.text(
                    0.5,
                    0.5,
                    "gap within noise\n(95% CI includes 0):\nshares n/a",
                    transform=ax.transAxes,
                    ha="center",
                    va="center",
                    fontsize=12,
                )
                ax.set_xticks([])
                continue
            lo, hi = part["share_lo"].to_numpy(float), part["share_hi"].to_numpy(float)
            err = np.vstack([np.clip(share - lo, 0, None), np.clip(hi - share, 0, None)])
            colors = [OKABE_ITO[0] if k == "channel" else NEUTRAL_GREY for k in part["kind"]]
            bars = ax.barh(
                y, share, xerr=err, color=colors, error_kw={"ecolor": "#333333", "capsize": 3, "elinewidth": 1.2}
            )
            for bar, kind in zip(bars, part["kind"], strict=True):
                if kind == "remainder_part":
                    bar.set_hatch("///")
                    bar.set_edgecolor("#666666")
            ax.axvline(0, color="#333333", linewidth=0.8)
            ax.xaxis.set_major_formatter(PercentFormatter(1.0))
            ax.set_xlabel(f"share of the gap {gap_name}")
        what = "one channel off at a time" if method == "one_at_a_time" else "Shapley values"
        fig.suptitle(f"Which mechanisms carry the gap? ({what}; bars with 95% bootstrap CI)", fontsize=14)
        paths += save_figure(fig, out_dir, "decomposition" if method == "one_at_a_time" else f"decomposition_{method}")
    return paths


def plot_decompose(folder: Path, out_dir: Path) -> list[Path]:
    """Figures of a ``ci-sim decompose`` folder (its ``decomposition.csv``)."""
    labels = None
    manifest = _manifest(folder)
    if "scenario_a" in manifest and "scenario_b" in manifest:
        labels = (manifest["scenario_a"], manifest["scenario_b"])
    return plot_decomposition(pd.read_csv(folder / "decomposition.csv"), out_dir, labels)


# --------------------------------------------------------------------------- sweep


FAILED_STATUS = {"error", "failed", "fail", "crashed", "timeout"}


def sweep_factors(runs: pd.DataFrame, experiment: dict | None = None) -> list[str]:
    """The factor columns of a sweep's runs table, in the experiment's order when known.

    Factors are named by their dotted key path in the scenario (``issue_areas.0.backbones.count``);
    ``experiment.json`` may list them under ``factors`` (a mapping or a list of objects with
    ``path``/``name``), which fixes their order.
    """
    declared: list[str] = []
    factors = (experiment or {}).get("factors")
    if isinstance(factors, dict):
        declared = list(factors)
    elif isinstance(factors, list):
        for f in factors:
            if isinstance(f, str):
                declared.append(f)
            elif isinstance(f, dict):
                declared.append(str(f.get("path") or f.get("name") or f.get("key") or ""))
    found = [f for f in declared if f in runs.columns]
    found += [c for c in runs.columns if "." in c and c not in found and c not in ID_COLUMNS]
    return found


def ok_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs that finished (status not failed, no error message)."""
    keep = pd.Series(True, index=runs.index)
    if "status" in runs.columns:
        keep &= ~runs["status"].astype(str).str.lower().isin(FAILED_STATUS)
    if "error" in runs.columns:
        err = runs["error"]
        keep &= err.isna() | (err.astype(str).str.strip().isin(["", "None", "nan"]))
    return runs[keep]


def _levels(values: pd.Series, max_levels: int = 12, bins: int = 6) -> tuple[pd.Series, list]:
    """Levels of a factor; continuous samples (e.g. Latin hypercube, Sobol') are binned in quantiles.

    A factor with at most ``max_levels`` distinct values (every grid design, e.g. 1 to 9
    backbones) keeps them as they are; one with more is cut into ``bins`` quantile bins,
    each shown at its midpoint. Numbers are sorted; categories keep the model's order when
    they are coordination levels (none < shared_data < shared_agenda < joint), else their
    order of first appearance.
    """
    present = list(dict.fromkeys(values.dropna()))
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        if set(present) <= set(COORDINATION_LEVELS):
            return values, [c for c in COORDINATION_LEVELS if c in present]
        return values, sorted(present) if pd.api.types.is_bool_dtype(values) else present
    if len(present) <= max_levels:
        return values, list(np.sort(values.dropna().unique()))
    binned = pd.qcut(values.astype(float), q=bins, duplicates="drop")
    mids = binned.map(lambda iv: iv.mid).astype(float)
    return mids, list(np.sort(mids.dropna().unique()))


def cell_decimals(values: np.ndarray) -> int:
    """Decimals that show the differences between heatmap cells: two significant digits of the range."""
    finite = values[np.isfinite(values)]
    if finite.size < 2 or np.ptp(finite) == 0:
        return 2
    return int(np.clip(np.ceil(-np.log10(np.ptp(finite))) + 1, 0, 4))


def _fmt_level(v) -> str:
    """A factor level as a tick label (long category names break at underscores)."""
    if isinstance(v, float | np.floating):
        return f"{v:g}" if float(v).is_integer() or abs(v) >= 10 else f"{v:.2f}"
    return str(v).replace("_", "\n")


def plot_sweep_heatmaps(
    runs: pd.DataFrame, fx: str, fy: str, metrics: Sequence[str], out_dir: Path, factors: Sequence[str] = ()
) -> list[Path]:
    """One heatmap per metric: mean over replications (and over the other ``factors``) by ``fx`` x ``fy``."""
    xs, xlev = _levels(runs[fx])
    ys, ylev = _levels(runs[fy])
    frame = runs.assign(_x=xs, _y=ys)
    cols = 2 if len(xlev) > 6 else 3  # wide panels (e.g. 1 to 9 backbones): two per row
    fig, axes = subplots(len(metrics), 1.3 + 0.62 * max(len(xlev), 4), 0.9 + 0.5 * max(len(ylev), 4), max_cols=cols)
    for ax, metric in zip(axes, metrics, strict=True):
        grid = frame.pivot_table(index="_y", columns="_x", values=metric, aggfunc="mean").reindex(
            index=ylev, columns=xlev
        )
        values = grid.to_numpy(dtype=float)
        im = ax.imshow(values, origin="lower", aspect="auto", cmap="cividis")
        finite = values[np.isfinite(values)]
        mid = (finite.min() + finite.max()) / 2 if finite.size else 0.0
        digits = cell_decimals(values)
        if len(xlev) * len(ylev) <= 80:  # numbers in the cells while they stay readable
            for (i, j), v in np.ndenumerate(values):
                if np.isfinite(v):
                    ax.text(
                        j,
                        i,
                        f"{v:.{digits}f}",
                        ha="center",
                        va="center",
                        fontsize=9,
                        color="black" if v > mid else "white",
                    )
        ax.set_xticks(range(len(xlev)), [_fmt_level(v) for v in xlev])
        ax.set_yticks(range(len(ylev)), [_fmt_level(v) for v in ylev])
        ax.set_xlabel(factor_label(fx))
        ax.set_ylabel(factor_label(fy))
        ax.set_title(metric_label(metric))
        ax.grid(False)
        cbar = fig.colorbar(im, ax=ax, shrink=0.85)
        cbar.set_label(metric_unit(metric))
    others = [f for f in factors if f not in (fx, fy)]
    over = "replications and " + ", ".join(factor_label(f) for f in others) if others else "replications"
    fig.suptitle(f"Sweep: {factor_label(fx)} × {factor_label(fy)} (mean over {over})", fontsize=14)
    short = [re.sub(r"[^A-Za-z0-9]+", "_", re.sub(r"^issue_areas\.0\.", "", f)).strip("_") for f in (fx, fy)]
    stem = "sweep_heatmap_" + "_x_".join(short)
    return save_figure(fig, out_dir, stem)


def plot_sweep_main_effects(
    runs: pd.DataFrame, factors: Sequence[str], metrics: Sequence[str], out_dir: Path, name: str = "sweep_main_effects"
) -> list[Path]:
    """Rows = metrics, columns = factors: mean and 95% CI of each metric at each factor level.

    Intervals of bounded metrics are cut at their bounds (:func:`ci_sim.experiments.compare.metric_bounds`).
    """
    n_r, n_c = len(metrics), len(factors)
    fig = new_figure(3.6 * n_c + 0.6, 2.7 * n_r + 0.6)
    with mpl.rc_context(STYLE):
        axes = fig.subplots(n_r, n_c, squeeze=False, sharey="row")
    for i, metric in enumerate(metrics):
        for j, factor in enumerate(factors):
            ax = axes[i, j]
            levels, order = _levels(runs[factor])
            cis = pd.DataFrame(
                [ci95(runs.loc[levels == lev, metric].to_numpy()) for lev in order], columns=["mean", "low", "high"]
            )
            bounds = metric_bounds(metric)
            if bounds is not None:  # an interval never runs outside the values the metric can take
                cis[["low", "high"]] = cis[["low", "high"]].clip(*bounds)
            numeric = pd.api.types.is_numeric_dtype(pd.Series(order)) and not pd.api.types.is_bool_dtype(
                pd.Series(order)
            )
            x = np.asarray(order, dtype=float) if numeric else np.arange(len(order))
            if not numeric:  # categories (e.g. coordination levels) are named on the axis
                ax.set_xticks(x, [_fmt_level(v) for v in order])
            ax.fill_between(x, cis["low"], cis["high"], color=OKABE_ITO[0], alpha=0.22, linewidth=0)
            ax.plot(x, cis["mean"], "o-", color=OKABE_ITO[0], linewidth=2)
            if i == n_r - 1:
                ax.set_xlabel(factor_label(factor))
            if j == 0:
                ax.set_ylabel(f"{metric_label(metric)}\n({metric_unit(metric)})", fontsize=10)
    fig.suptitle("Sweep: effect of each factor (mean and 95% CI over all other settings)", fontsize=14)
    return save_figure(fig, out_dir, name)


def plot_sweep(folder: Path, out_dir: Path) -> list[Path]:
    """Figures of a ``ci-sim sweep`` folder.

    Heatmaps of the key metrics over pairs of factors (e.g. number of backbones x neutrality)
    and main-effect lines per factor.

    Args:
        folder: a folder holding ``runs/`` (Parquet parts) and ``experiment.json``.
        out_dir: folder to write the figures into.

    Returns:
        The paths written.

    Raises:
        PlotError: if no run finished or no factor column is found.
    """
    try:
        experiment = json.loads((folder / "experiment.json").read_text())
    except (OSError, ValueError):
        experiment = None
    runs = ok_runs(pd.read_parquet(folder / "runs"))
    if runs.empty:
        raise PlotError(f"{folder / 'runs'}: no finished runs to plot")
    factors = [f for f in sweep_factors(runs, experiment) if runs[f].nunique() > 1]
    if not factors:
        raise PlotError(f"{folder / 'runs'}: no factor column varies (factor columns are dotted key paths)")
    metrics = [m for m in KEY_METRICS if m in runs.columns] or metric_columns(runs.drop(columns=factors))[:6]
    paths = []
    for a in range(min(len(factors), 3)):  # pairs among the first three factors
        for b in range(a + 1, min(len(factors), 3)):
            paths += plot_sweep_heatmaps(runs, factors[a], factors[b], metrics, out_dir, factors)
    if len(factors) > 3:  # said, never silently left out
        print(
            f"note: heat maps show pairs of the first 3 of {len(factors)} factors ({', '.join(factors[:3])}); "
            "the main-effect figures show every factor",
            file=sys.stderr,
        )
    main_metrics = [
        m for m in ("outcome_improvement", "alignment", "mean_trust", "meeting_hours") if m in metrics
    ] or metrics[:4]
    for start in range(0, len(factors), 6):  # six factors a figure, every factor in one of them
        name = "sweep_main_effects" if start == 0 else f"sweep_main_effects_{start // 6 + 1}"
        paths += plot_sweep_main_effects(runs, factors[start : start + 6], main_metrics, out_dir, name)
    return paths


# --------------------------------------------------------------------------- dispatcher


def detect_kinds(folder: Path) -> list[str]:
    """What produced ``folder``, from its files: any of sensitivity, compare, decompose, robustness, sweep, run."""
    folder = Path(folder)
    kinds = []
    if (folder / "sensitivity.csv").is_file():
        kinds.append("sensitivity")
    if (folder / "compare.csv").is_file():
        kinds.append("compare")
    if (folder / "decomposition.csv").is_file():
        kinds.append("decompose")
    if (folder / "robustness.csv").is_file():
        kinds.append("robustness")
    if (folder / "runs").is_dir() and (
        (folder / "experiment.json").is_file() or any((folder / "runs").glob("*.parquet"))
    ):
        kinds.append("sweep")
    if not kinds and (folder / "timeseries.parquet").is_file():
        kinds.append("run")
    return kinds


def plot_results(folder: Path, out_dir: Path | None = None) -> list[Path]:
    """Plot whatever a results folder holds; figures go to ``folder/figures`` unless ``out_dir``.

    Args:
        folder: a folder written by ``ci-sim run``, ``compare``, ``sweep`` or ``sensitivity``.
        out_dir: where to write the PNG and SVG files.

    Returns:
        The paths written.

    Raises:
        PlotError: if the folder is missing or holds none of the known result files.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise PlotError(f"{folder}: no such folder")
    kinds = detect_kinds(folder)
    if not kinds:
        raise PlotError(
            f"{folder}: not a results folder; expected timeseries.parquet (run), compare.csv (compare), "
            "decomposition.csv (decompose), robustness.csv (robustness), "
            "experiment.json + runs/ (sweep) or sensitivity.csv (sensitivity)"
        )
    out_dir = Path(out_dir) if out_dir is not None else folder / "figures"
    paths: list[Path] = []
    for kind in kinds:
        if kind == "sensitivity":
            paths += plot_sensitivity(pd.read_csv(folder / "sensitivity.csv"), out_dir)
            if (folder / "sensitivity_s2.csv").is_file():
                paths += plot_second_order(pd.read_csv(folder / "sensitivity_s2.csv"), out_dir)
        elif kind == "compare":
            paths += plot_compare(folder, out_dir)
        elif kind == "decompose":
            paths += plot_decompose(folder, out_dir)
        elif kind == "robustness":
            boxes = pd.read_csv(folder / "prim_boxes.csv")
            paths += plot_robustness(
                pd.read_csv(folder / "robustness.csv"), pd.read_csv(folder / "points.csv"), boxes, out_dir
            )
        elif kind == "sweep":
            paths += plot_sweep(folder, out_dir)
        else:
            paths += plot_run(folder, out_dir)
    return paths


# --------------------------------------------------------------------------- robustness


def plot_robustness(table: pd.DataFrame, points: pd.DataFrame, boxes: pd.DataFrame, out_dir: Path) -> list[Path]:
    """The share of the parameter space where each check holds, and where the least robust one fails.

    Left: one bar per check (coloured by its stylized fact), the share of the design points
    where it holds with its Wilson 95% interval, and a tick at the share where it holds
    clearly (paired CI above 0). Right, if some check fails somewhere and PRIM found a box:
    the design points of the check holding least, on the box's first two restricted factors
    (or its one factor against the mean paired difference), failing points in red, the box
    shaded. Writes ``robustness.png`` and ``.svg``.

    Args:
        table: ``robustness.csv`` (:func:`ci_sim.experiments.robustness.robustness_table`).
        points: ``points.csv`` (:func:`ci_sim.experiments.robustness.point_table`).
        boxes: ``prim_boxes.csv`` (:func:`ci_sim.experiments.robustness.boxes_frame`).
        out_dir: folder to write into (created if needed).

    Raises:
        PlotError: the table lacks columns or is empty.
    """
    need = {"check", "fact", "share", "share_lo", "share_hi", "share_clear"}
    if not need <= set(table.columns) or table.empty:
        raise PlotError(f"robustness table lacks column(s) {sorted(need - set(table.columns))} or is empty")
    worst = boxes.merge(table[["check", "share"]], on="check").sort_values(["share", "check"]) if len(boxes) else None
    fig, axes = subplots(1 if worst is None else 2, 6.4, max(3.0, 0.7 + 0.32 * len(table)), max_cols=2)
    ax = axes[0]
    facts = list(dict.fromkeys(table["fact"]))
    colors = dict(zip(facts, categorical_colors(len(facts)), strict=True))
    y = np.arange(len(table))[::-1]
    share = table["share"].to_numpy(float)
    err = np.vstack([share - table["share_lo"].to_numpy(float), table["share_hi"].to_numpy(float) - share])
    ax.barh(y, share, color=[colors[f] for f in table["fact"]], alpha=0.85)
    ax.errorbar(share, y, xerr=np.nan_to_num(err), fmt="none", ecolor="black", capsize=3, lw=1)
    ax.plot(table["share_clear"].to_numpy(float), y, "|", color="black", markersize=10, label="holds clearly")
    ax.set_yticks(y, table["check"])
    ax.set_xlim(0, 1.02)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of the parameter space where the check holds\n(Wilson 95% CI; tick: paired CI above 0)")
    ax.grid(axis="y", visible=False)
    ax.set_title("Stylized facts over the parameter space", fontsize=12)
    if worst is not None:
        _prim_panel(axes[1], worst, points)
    return save_figure(fig, out_dir, "robustness")


def _prim_panel(ax, worst: pd.DataFrame, points: pd.DataFrame) -> None:
    """The design points of the least robust check with PRIM's first box."""
    check = worst["check"].iloc[0]
    box = worst[(worst["check"] == check) & (worst["box"] == worst["box"].min())]
    part = points[(points["check"] == check) & points["holds"].notna()]
    fails = part["holds"] == 0
    x_name = box["factor"].iloc[0]
    y_name = box["factor"].iloc[1] if len(box) > 1 else "diff"
    for mask, color, label in ((~fails, OKABE_ITO[2], "holds"), (fails, OKABE_ITO[3], "fails")):
        ax.scatter(part.loc[mask, x_name], part.loc[mask, y_name], s=14, color=color, label=label)
    lim = box.set_index("factor")
    x0, x1 = lim.at[x_name, "low"], lim.at[x_name, "high"]
    if y_name == "diff":
        ax.axvspan(x0, x1, color=OKABE_ITO[3], alpha=0.12, label="PRIM box")
        ax.axhline(0, color="black", lw=0.8)
        ax.set_ylabel("mean paired difference A − B")
    else:
        y0, y1 = lim.at[y_name, "low"], lim.at[y_name, "high"]
        ax.fill_between([x0, x1], y0, y1, color=OKABE_ITO[3], alpha=0.12, label="PRIM box")
        ax.set_ylabel(factor_label(y_name))
    ax.set_xlabel(factor_label(x_name))
    first = box.iloc[0]
    ax.set_title(f"where {check} fails (box 1: coverage {first['coverage']:.0%}, density {first['density']:.0%})")
    ax.legend(fontsize=9)
