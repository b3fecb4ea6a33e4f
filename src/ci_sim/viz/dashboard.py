"""The live dashboard: a Mesa ``SolaraViz`` app of one ci-sim community, month by month.

A Mesa "app module": :class:`DashboardModel` (the ci-sim model with a keyword-only
constructor that SolaraViz can call with the slider values), the sliders
(:func:`model_params`), the components (a partner network drawn with matplotlib, live
plots, key numbers) and the page (:data:`Page`).

Start it with ``ci-sim dashboard [SCENARIO]``, which serves this module with
``solara run``. The base scenario comes from the environment variable
``CI_SIM_DASHBOARD_SCENARIO`` (a file or a shipped name; default ``single_backbone``);
sliders left at the scenario's value leave the scenario as it is, moved sliders override
it through :func:`ci_sim.model.scenario.load_scenario` (``overrides={key.path: value}``), and
the settings take effect when the user presses Reset (SolaraViz's controller). The seed
box takes the same base seed as ``ci-sim run --seed``: the dashboard shows replication 0
of that run, step by step.

The network view shares its layout and colours with the demo's GIFs (:mod:`ci_sim.viz.animation`):
backbones at fixed places, partners gathered around the backbone they follow, factions
haloed; the plots use the palette of :mod:`ci_sim.viz.plots`, so a backbone or a kind of hour
has the same colour in the dashboard, the figures and the report.

Only matplotlib components are used: the altair backend needs vega assets that are not
bundled with solara-assets, and the dashboard must work with no network.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import solara
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from mesa import DataCollector
from mesa.visualization import Slider, SolaraViz
from mesa.visualization.utils import update_counter

from ci_sim.model.metrics import MODEL_METRICS
from ci_sim.model.model import CollectiveImpactModel
from ci_sim.model.scenario import COORDINATION_LEVELS, Scenario, ScenarioError, load_scenario
from ci_sim.runs.runner import replication_seed
from ci_sim.viz import animation
from ci_sim.viz.dashboard_server import SCENARIO_ENV, TITLE, watch_parent
from ci_sim.viz.plots import NEUTRAL_GREY, OKABE_ITO

DEFAULT_SCENARIO = "single_backbone"
MAX_BACKBONES = 12
MAX_PARTNERS = 400

#: Colours: the palette of the figures and GIFs (Okabe–Ito; Paul Tol's muted for nine
#: backbones; :func:`ci_sim.viz.animation.backbone_colors`), so a backbone has the same colour
#: everywhere; beyond nine backbones colours repeat and the numbers in the squares tell them
#: apart.
NO_BACKBONE = NEUTRAL_GREY
CONVENER_COLOUR = animation.CONVENER_COLOUR
#: Trend lines and the partner-time bands, as in :mod:`ci_sim.viz.plots`.
TREND_COLOURS = {"alignment": OKABE_ITO[0], "mean_trust": OKABE_ITO[1], "engagement": OKABE_ITO[2]}
HOURS_COLOURS = {
    "hours_program": OKABE_ITO[2],
    "hours_meetings": OKABE_ITO[0],
    "hours_reporting": OKABE_ITO[5],
    "hours_fundraising": OKABE_ITO[3],
}
#: Figure size (inches) and resolution: 672 x 432 pixels, shown scaled down to the width
#: of a grid cell (about 410 pixels on a 1280-pixel screen), so text stays sharp and large
#: relative to the plot; the aspect fits a SolaraViz grid cell.
FIGSIZE, DPI = (5.6, 3.6), 120
STYLE = {
    "font.size": 11,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "legend.fontsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}


# --------------------------------------------------------------------------- scenario


def base_scenario_name() -> str:
    """The base scenario: ``$CI_SIM_DASHBOARD_SCENARIO`` or ``single_backbone``."""
    return os.environ.get(SCENARIO_ENV) or DEFAULT_SCENARIO


def _specs(area) -> list:
    return area.backbones if isinstance(area.backbones, list) else [area.backbones]


def slider_defaults(base: Scenario) -> dict[str, Any]:
    """The slider values that reproduce ``base`` (read from its first issue area)."""
    area = base.issue_areas[0]
    specs = _specs(area)
    first = specs[0] if specs else None
    return {
        "backbones": sum(s.count for s in specs),
        "neutrality": first.neutrality if first else 0.8,
        "servant_leadership": first.servant_leadership if first else 0.8,
        "conveners": bool(area.conveners.per_outcome or area.conveners.outcomes),
        "partners": base.community.partners,
        "coordination": area.coordination,
    }


def slider_overrides(base: Scenario, **values: Any) -> dict[str, Any]:
    """Overrides (dotted key path -> value) for the sliders moved away from ``base``.

    A moved slider applies to every issue area. Sliders left at the base scenario's value
    add nothing, so the untouched dashboard runs exactly the base scenario.

    Args:
        base: the validated base scenario.
        **values: slider values (keys as in :func:`slider_defaults`; None: unchanged).

    Returns:
        A mapping for ``load_scenario(..., overrides=...)``.
    """
    start = slider_defaults(base)
    moved = {k: v for k, v in values.items() if v is not None and v != start[k]}
    out: dict[str, Any] = {}
    if "partners" in moved:
        out["community.partners"] = int(moved["partners"])
    for i, area in enumerate(base.issue_areas):
        key = f"issue_areas.{i}"
        specs = _specs(area)
        if "coordination" in moved:
            out[f"{key}.coordination"] = moved["coordination"]
        if isinstance(area.backbones, list) and "backbones" in moved:
            # a count for a list of named backbones: one group modelled on the first one
            spec = specs[0].model_dump(exclude={"name", "count"}) if specs else {}
            spec["count"] = int(moved["backbones"])
            spec["coordination"] = moved.get("coordination", area.coordination)
            for name in ("neutrality", "servant_leadership"):
                if name in moved:
                    spec[name] = float(moved[name])
            out[f"{key}.backbones"] = spec
        else:
            paths = [f"{key}.backbones.{j}" for j in range(len(specs))] if isinstance(area.backbones, list) else []
            paths = paths or [f"{key}.backbones"]
            for path, spec in zip(paths, specs, strict=True):
                if "backbones" in moved:
                    out[f"{path}.count"] = int(moved["backbones"])
                for name in ("neutrality", "servant_leadership"):
                    if name in moved:
                        out[f"{path}.{name}"] = float(moved[name])
                if "coordination" in moved and spec.coordination is not None:
                    out[f"{path}.coordination"] = moved["coordination"]
        if "conveners" in moved:
            out[f"{key}.conveners.per_outcome"] = bool(moved["conveners"])
            out[f"{key}.conveners.outcomes"] = None
    return out


def dashboard_scenario(base: str, **values: Any) -> tuple[Scenario, dict[str, Any], list[str]]:
    """The scenario the dashboard runs: ``base`` with the moved sliders applied.

    Args:
        base: a scenario file or shipped name.
        **values: slider values (see :func:`slider_overrides`).

    Returns:
        The validated scenario, the overrides applied, and notes for the user (e.g. events
        that had to be dropped).

    Raises:
        ScenarioError: the base scenario is invalid.
    """
    base_sc = load_scenario(base)
    overrides = slider_overrides(base_sc, **values)
    if not overrides:
        return base_sc, overrides, []
    try:
        return load_scenario(base, overrides), overrides, []
    except ScenarioError as exc:
        if not base_sc.events:
            raise
        # an event may name a backbone that the new count removes: run without the events
        sc = load_scenario(base, {**overrides, "events": []})
        why = f"{exc.path} = {exc.value!r}: {exc.allowed}"
        return sc, overrides, [f"The scenario's events do not fit these settings and were left out ({why})."]


def parse_seed(value: Any, default: int) -> tuple[int, list[str]]:
    """A non-negative integer seed from the seed box (text), or ``default`` with a note."""
    if value is None or str(value).strip() == "":
        return default, []
    try:
        seed = int(str(value).strip())
    except ValueError:
        return default, [f"Seed {value!r} is not a whole number; using {default}."]
    if seed < 0:
        return default, [f"Seed {seed} is negative; using {default}."]
    return seed, []


# --------------------------------------------------------------------------- model


def _outcome_reporter(k: int):
    def reporter(m: CollectiveImpactModel) -> float:
        return float(m.outcome[k])

    return reporter


class DashboardModel(CollectiveImpactModel):
    """The ci-sim model built from slider values, recording its metrics every month.

    SolaraViz re-creates the model on Reset by calling this class with the slider values
    as keyword arguments, so the constructor takes only those (no ``scenario`` argument:
    Mesa would pass its own kind of scenario there).

    Args:
        backbones: backbones per issue area.
        neutrality: backbone neutrality (0 pushes its own program, 1 honest broker).
        servant_leadership: share of credit the backbone gives away.
        conveners: one convener per outcome, on or off.
        partners: number of partner organizations.
        coordination: coordination among an area's backbones (none ... joint).
        base: the base scenario (file or shipped name).
        rng: base seed (as ``ci-sim run --seed``); the model runs replication 0 of it.

    Attributes:
        datacollector: a Mesa DataCollector with every metric of :mod:`ci_sim.model.metrics`
            (and ``outcome_<name>``), one row per month from month 0.
        base_seed, horizon, notes: the seed used, the scenario's months, notes for the user.
        overrides: the scenario changes made by the sliders (dotted key path -> value).
    """

    def __init__(
        self,
        backbones: int | None = None,
        neutrality: float | None = None,
        servant_leadership: float | None = None,
        conveners: bool | None = None,
        partners: int | None = None,
        coordination: str | None = None,
        base: str | None = None,
        rng: int | str | None = None,
    ):
        base = base or base_scenario_name()
        scenario, overrides, notes = dashboard_scenario(
            base,
            backbones=backbones,
            neutrality=neutrality,
            servant_leadership=servant_leadership,
            conveners=conveners,
            partners=partners,
            coordination=coordination,
        )
        seed, seed_notes = parse_seed(rng, scenario.seed)
        super().__init__(scenario, rng=replication_seed(seed, 0))
        self.base_seed = seed
        self.overrides = overrides
        self.base_name = base
        self.horizon = scenario.steps
        self.notes = notes + seed_notes
        reporters = dict(MODEL_METRICS)
        reporters.update({f"outcome_{k}": _outcome_reporter(j) for j, k in enumerate(self.outcome_names)})
        self.datacollector = DataCollector(model_reporters=reporters)
        self.datacollector.collect(self)

    def step(self) -> None:
        """One month, then record the metrics; stop at the scenario's horizon."""
        super().step()
        self.datacollector.collect(self)
        self.running = self.steps < self.horizon


# --------------------------------------------------------------------------- network picture


def followed_backbone(model: CollectiveImpactModel) -> np.ndarray:
    """Index of the backbone each partner gives most attention to (-1: none); see :mod:`ci_sim.viz.animation`."""
    return animation.followed_backbone(model)


def backbone_label(model: CollectiveImpactModel, j: int) -> str:
    """A short readable name: "Backbone 3", or "health 2" when there are several areas."""
    name = model.backbone_names[j]
    area = model.area_names[model.backbone_area[j]]
    auto = f"{area}_backbone_"
    if name.startswith(auto):
        number = name[len(auto) :]
        return f"Backbone {number}" if model.n_areas == 1 else f"{area} {number}"
    return name.replace("_", " ")


def network_positions(model: CollectiveImpactModel) -> dict:
    """Positions of partners (0..N-1) and backbones (("b", j)), kept on the model.

    The camp layout of :mod:`ci_sim.viz.animation` (the demo's GIFs): backbones fixed on a ring
    per issue area, partners drawn to the backbone they follow, so camps show as clusters.
    Each month starts from last month's positions and relaxes a little, so partners walk
    from camp to camp instead of jumping. The layout has its own fixed seed: drawing never
    touches the model's random streams.
    """
    cache = getattr(model, "_network_layout", None)
    if cache is not None and cache[0] == model.steps:
        return cache[1]
    if cache is None:
        pos = animation.relax_layout(model, None, iterations=80)
    else:  # a few iterations per month since the last picture (a Play at a high render interval skips some)
        pos = animation.relax_layout(model, cache[1], iterations=min(8 * (model.steps - cache[0]), 40))
    model._network_layout = (model.steps, pos)
    return pos


def draw_network(model: CollectiveImpactModel) -> Figure:
    """The partner network: partners coloured by the backbone they follow, sized by engagement.

    Backbones are numbered squares (size: followers), conveners diamonds under their
    area's network (size: action-plan quality), labelled with their outcome; camps (tables
    chosen first by at least 10% of an area's partners, the ``factions`` metric) have a halo.
    """
    pos = network_positions(model)
    followed = followed_backbone(model)
    colours = animation.backbone_colors(model.n_backbones)
    partner_colour = [colours[j] if j >= 0 else NO_BACKBONE for j in followed]
    xy = np.array([pos[i] for i in range(model.n_partners)])
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        # a figure title: the axes are narrow (the legend takes the right) and would clip it
        fig.suptitle(f"Who follows which backbone (month {model.steps})", fontsize=13, weight="bold")
        ax.axis("off")
        for j, centre, radius in animation.camp_halos(model, pos):
            ax.add_patch(animation.halo_patch(centre, radius, animation.JOINT_COLOUR if j < 0 else colours[j]))
        peers = xy[model.peer_edges]
        ax.add_collection(LineCollection(peers, colors="#999999", linewidths=0.4, alpha=0.3, zorder=1))
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=(10 + 90 * model.engagement) / model.n_areas,  # several areas: smaller dots
            c=partner_colour,
            edgecolors="white",
            linewidths=0.4,
            zorder=2,
        )
        handles = []
        counts = np.bincount(followed[followed >= 0], minlength=model.n_backbones)
        for j in np.flatnonzero(model.backbone_active):
            x, y = pos[("b", int(j))]
            ax.scatter(
                [x],
                [y],
                marker="s",
                s=110 + 300 * counts[j] / max(model.partners_per_area[model.backbone_area[j]], 1),
                c=colours[j],
                edgecolors="black",
                linewidths=1.2,
                zorder=3,
                alpha=1.0 if counts[j] else 0.35,
            )
            ax.text(
                x,
                y,
                str(j + 1),
                ha="center",
                va="center",
                color=animation.ink_on(colours[j]),
                fontsize=9,
                weight="bold",
                zorder=4,
            )
            handles.append(_legend_marker("s", colours[j], f"{backbone_label(model, j)}: {counts[j]}"))
        if (followed < 0).any():
            handles.append(_legend_marker("o", NO_BACKBONE, f"no backbone: {(followed < 0).sum()}"))
        if model.n_areas > 1:
            for area, name in enumerate(model.area_names):
                x, y = animation.area_centre(model, area)
                top = y + animation.area_extent(model, area)
                ax.text(x, top, name, ha="center", va="bottom", fontsize=11, weight="bold")
        _draw_conveners(ax, model)
        handles.append(Line2D([], [], linestyle="none", label=" "))
        handles.append(_legend_marker("o", "white", "partner (size: engagement)", edge="black"))
        if model.backbone_active.any():
            handles.append(_legend_marker("s", "white", "backbone (size: followers)", edge="black"))
        if model.convener_active.any():
            handles.append(_legend_marker("D", CONVENER_COLOUR, "convener (size: plan quality)"))
        handles.append(animation.halo_patch((0, 0), 1, "#777777", label="camp (≥10% of partners)"))
        ax.legend(
            handles=handles,
            title="Partners following",
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            frameon=False,
            fontsize=9,
            title_fontsize=10,
            handletextpad=0.3,
            labelspacing=0.35,
        )
        ax.set_aspect("equal", adjustable="datalim")
        ax.autoscale_view()
    return fig


def _legend_marker(marker: str, colour: str, label: str, edge: str = "none") -> Line2D:
    return Line2D(
        [], [], marker=marker, linestyle="none", markersize=8, color=colour, markeredgecolor=edge, label=label
    )


def _draw_conveners(ax, model: CollectiveImpactModel) -> None:
    """Conveners as a row of diamonds under their area's network, labelled with the outcome."""
    places = animation.convener_positions(model)
    for area in range(model.n_areas):
        active = np.flatnonzero(model.convener_active & (model.outcome_area == area))
        if not active.size:
            continue
        xy = np.array([places[int(k)] for k in active])
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            marker="D",
            s=30 + 250 * model.convener_plan[active],
            c=CONVENER_COLOUR,
            zorder=3,
        )
        if model.n_areas > 1:  # too many to label side by side: say how many
            centre = animation.area_centre(model, area)[0]
            ax.text(centre, xy[0, 1] - 0.2, f"{active.size} conveners", ha="center", va="top", fontsize=9)
            continue
        for n, ((x, y), k) in enumerate(zip(xy, active, strict=True)):
            # alternate two label rows so that neighbouring outcome names do not overlap
            ax.text(
                x,
                y - 0.15 - 0.28 * (n % 2),
                animation.outcome_label(model.outcome_names[k], 13),
                ha="center",
                va="top",
                fontsize=7,
                color="#333333",
                linespacing=0.95,
            )


# --------------------------------------------------------------------------- trend plots


def draw_trends(
    model: DashboardModel, title: str, series: dict[str, tuple[str, str]], ylabel: str, unit=False
) -> Figure:
    """A line plot of recorded metrics over the months so far.

    Args:
        model: the running model.
        title: plot title.
        series: column -> (label, colour).
        ylabel: y-axis label.
        unit: fix the y axis to [0, 1].
    """
    df = model.datacollector.get_model_vars_dataframe()
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        for column, (label, colour) in series.items():
            ax.plot(df.index, df[column], label=label, color=colour, linewidth=2.2)
            ax.plot(df.index[-1:], df[column].iloc[-1:], "o", color=colour)
        _month_axis(ax, model)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        if unit:
            ax.set_ylim(0, 1.02)
        ax.legend(loc="lower right" if unit else "best")
    return fig


def draw_outcomes(model: DashboardModel) -> Figure:
    """Change of each outcome since month 0 (thin) and their mean (thick)."""
    df = model.datacollector.get_model_vars_dataframe()
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        for j, name in enumerate(model.outcome_names):
            col = df[f"outcome_{name}"]
            ax.plot(
                df.index, col - col.iloc[0], color="#9E9E9E", linewidth=0.9, label="each outcome" if j == 0 else None
            )
        ax.plot(df.index, df["outcome_improvement"], color=OKABE_ITO[3], linewidth=2.8, label="mean of the outcomes")
        ax.plot(df.index[-1:], df["outcome_improvement"].iloc[-1:], "o", color=OKABE_ITO[3])
        ax.axhline(0, color="black", linewidth=0.8)
        _month_axis(ax, model)
        ax.set_title("Outcomes: change since month 0")
        ax.set_ylabel("change in outcome level (0–1 scale)")
        ax.legend(loc="upper left")
    return fig


def draw_partner_time(model: DashboardModel) -> Figure:
    """How partners spend their hours: program work, fundraising, meetings, reporting."""
    df = model.datacollector.get_model_vars_dataframe()
    total = df["hours_capacity"].to_numpy()
    parts = {
        "program work": ("hours_program", HOURS_COLOURS["hours_program"]),
        "meetings": ("hours_meetings", HOURS_COLOURS["hours_meetings"]),
        "data reporting": ("hours_reporting", HOURS_COLOURS["hours_reporting"]),
        "fundraising": ("hours_fundraising", HOURS_COLOURS["hours_fundraising"]),
    }
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        shares = [100 * df[col].to_numpy() / total for col, _ in parts.values()]
        ax.stackplot(df.index, *shares, labels=list(parts), colors=[c for _, c in parts.values()], alpha=0.85)
        _month_axis(ax, model)
        ax.set_ylim(0, 100)
        ax.set_title("Partner time: where the hours go")
        ax.set_ylabel("% of partner hours")
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return fig


def _month_axis(ax, model: DashboardModel) -> None:
    ax.set_xlabel("month")
    ax.set_xlim(0, max(12, model.steps))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


# --------------------------------------------------------------------------- components


def _figure_component(draw, name: str):
    """A component showing ``draw(model)`` as a PNG, redrawn when the month changes."""

    @solara.component
    def FigureView(model: DashboardModel):
        update_counter.get()
        fig = solara.use_memo(lambda: draw(model), [model, model.steps])
        solara.FigureMatplotlib(fig, format="png", dependencies=[model, model.steps])

    FigureView.__name__ = name
    return FigureView


NetworkView = _figure_component(draw_network, "NetworkView")
AlignmentTrustPlot = _figure_component(
    lambda m: draw_trends(
        m,
        "Alignment, trust and engagement",
        {
            "alignment": ("alignment of agendas", TREND_COLOURS["alignment"]),
            "mean_trust": ("trust in the backbone", TREND_COLOURS["mean_trust"]),
            "engagement": ("engagement", TREND_COLOURS["engagement"]),
        },
        "0 = none, 1 = complete",
        unit=True,
    ),
    "AlignmentTrustPlot",
)
OutcomesPlot = _figure_component(draw_outcomes, "OutcomesPlot")
PartnerTimePlot = _figure_component(draw_partner_time, "PartnerTimePlot")


def settings_text(scenario: Scenario) -> str:
    """The slider settings a model runs with, in words (the sliders show no numbers)."""
    v = slider_defaults(scenario)
    return (
        f"neutrality {v['neutrality']:.2f} · servant leadership {v['servant_leadership']:.2f} · "
        f"conveners {'on' if v['conveners'] else 'off'} · coordination {v['coordination'].replace('_', ' ')}"
    )


@solara.component
def KeyNumbers(model: DashboardModel):
    """This month's numbers next to month 0's, and how to use the controls."""
    update_counter.get()
    df = model.datacollector.get_model_vars_dataframe()
    now, start = df.iloc[-1], df.iloc[0]
    n_bb, n_conv = int(now["active_backbones"]), int(now["active_conveners"])
    rows = [
        ("Alignment of agendas", "alignment", "{:.2f}"),
        ("Trust in the backbone", "mean_trust", "{:.2f}"),
        ("Outcome improvement", "outcome_improvement", "{:+.3f}"),
        ("Meeting hours / partner / month", "meeting_hours", "{:.1f}"),
        ("Share of time fundraising", "fundraising_share", "{:.0%}"),
        ("Data completeness", "data_completeness", "{:.2f}"),
        ("Camps (factions)", "factions", "{:.0f}"),
    ]
    cells = "".join(
        f"<tr><td>{label}</td><td class='num'><b>{fmt.format(now[c])}</b></td>"
        f"<td class='num'>{fmt.format(start[c])}</td></tr>"
        for label, c, fmt in rows
    )
    notes = "".join(f"<p class='note'><b>Note:</b> {html.escape(n)}</p>" for n in model.notes)
    scenario = html.escape(Path(str(model.base_name)).stem)
    about = html.escape(model.config.description or "")
    settings = html.escape(settings_text(model.config))
    if model.overrides:
        changes = " ".join(f"--set {k}={v}" for k, v in model.overrides.items())
        about = f"changed by the sliders, as <code>ci-sim run</code> {html.escape(changes)}"
    solara.HTML(
        tag="div",
        unsafe_innerHTML=f"""
<style>
.ci-key {{ font-size: 14px; line-height: 1.35; padding: 0 12px; max-height: 385px; overflow-y: auto; }}
.ci-key h3 {{ font-size: 19px; margin: 2px 0 4px 0; }}
.ci-key table {{ border-collapse: collapse; margin: 6px 0; width: 100%; }}
.ci-key th, .ci-key td {{ padding: 1px 10px; border-bottom: 1px solid #e0e0e0; text-align: left; }}
.ci-key .num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.ci-key .note {{ color: #8a4b00; }}
.ci-key .settings {{ color: #333333; font-size: 13px; }}
.ci-key .about {{ color: #555555; font-style: italic; font-size: 12px; margin-top: 2px; }}
</style>
<div class="ci-key">
<h3>Month {model.steps} of {model.horizon}</h3>
<div><b>{n_bb} active backbone{"" if n_bb == 1 else "s"}</b> · {n_conv} convener{"" if n_conv == 1 else "s"} ·
{model.n_partners} partners</div>
<div>scenario <code>{scenario}</code> · seed {model.base_seed}</div>
<div class="settings">{settings}</div>
<div class="about">{about}</div>
<table><tr><th></th><th class="num">now</th><th class="num">month 0</th></tr>{cells}</table>
<div>Move the sliders, then press <b>RESET</b> to start a new community with those settings;
<b>STEP</b> advances one month, <b>&#9654;</b> plays.</div>{notes}
</div>""",
    )


def model_params(base: str | None = None) -> dict[str, Any]:
    """The SolaraViz inputs, starting at the base scenario's values."""
    base = base or base_scenario_name()
    scenario = load_scenario(base)
    start = slider_defaults(scenario)
    return {
        "base": base,
        "rng": {"type": "InputText", "value": str(scenario.seed), "label": "Seed (as ci-sim run --seed)"},
        "backbones": Slider(
            "Backbones per issue area", value=start["backbones"], min=0, max=max(MAX_BACKBONES, start["backbones"])
        ),
        "neutrality": Slider(
            "Backbone neutrality (1 = honest broker)", value=float(start["neutrality"]), min=0.0, max=1.0, step=0.05
        ),
        "servant_leadership": Slider(
            "Servant leadership (gives credit away)",
            value=float(start["servant_leadership"]),
            min=0.0,
            max=1.0,
            step=0.05,
        ),
        "conveners": {"type": "Checkbox", "value": start["conveners"], "label": "Conveners: one per outcome"},
        "partners": Slider(
            "Partner organizations", value=start["partners"], min=20, max=max(MAX_PARTNERS, start["partners"]), step=10
        ),
        "coordination": {
            "type": "Select",
            "value": start["coordination"],
            "values": list(COORDINATION_LEVELS),
            "label": "Coordination among backbones",
        },
    }


COMPONENTS = [NetworkView, AlignmentTrustPlot, OutcomesPlot, PartnerTimePlot, KeyNumbers]


def initial_model(params: dict[str, Any]) -> DashboardModel:
    """The model shown before the first Reset: the slider start values."""
    values = {
        k: (v.value if isinstance(v, Slider) else v["value"] if isinstance(v, dict) else v) for k, v in params.items()
    }
    return DashboardModel(**values)


@solara.component
def Page():
    """The dashboard page; every browser session gets its own model."""
    solara.Title(TITLE)  # the browser tab (the served <title> is set by dashboard_server too)
    params = solara.use_memo(model_params, [])
    model = solara.use_memo(lambda: initial_model(params), [])
    SolaraViz(
        model,
        components=COMPONENTS,
        model_params=params,
        name="ci-sim: backbones, conveners and partners",
        play_interval=150,
    )


# a server started by `ci-sim dashboard` stops when that command dies, even by SIGKILL
watch_parent()
