"""The dashboard's runs, pictures and words, without Solara (the page is :mod:`ci_sim.viz.dashboard`).

A strategy on screen is a :class:`Lane`: one scenario (a shipped one or a file, with the
controls' changes and the interventions pressed so far) and one seed. Its whole run is
computed at once with :func:`ci_sim.runs.runner.run_scenario` (about 60 ms for ten years at
150 partners), so the plots and numbers of any month are already known and a month on screen
costs only drawing. A live model, stepped to the month shown, gives the partner network.

Drawing less, since drawing sets the pace (DESIGN.md §6): a line plot of the whole run is drawn
once per run (:func:`line_plot`) and the page covers the months not yet reached, so a month
moves the cover instead of redrawing; only the network is drawn every month, on a figure
with fixed axes and no legend (the legend is HTML, one for every strategy).

An intervention is a scenario event (:mod:`ci_sim.model.mechanisms.events`) with ``at`` set to
the month on screen, appended to the scenario's events (:func:`intervention_event`); the
lane's run is then ``ci-sim run`` of that scenario, number for number.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from PIL import Image

from ci_sim.model.columns import KEY_METRICS, METRIC_NAMES, metric_label, metric_unit
from ci_sim.model.scenario import Scenario, ScenarioError, load_scenario, shipped_scenario_dir
from ci_sim.runs.runner import build_model, replication_seed, run_scenario
from ci_sim.viz import animation
from ci_sim.viz.plots import NEUTRAL_GREY, OKABE_ITO
from ci_sim.viz.words import plain_description  # noqa: F401 - part of this module's words

DEFAULT_SCENARIO = "single_backbone"
MAX_BACKBONES = 12
MAX_PARTNERS = 400
#: Paired replications behind the "how sure?" interval.
SURE_REPLICATIONS = 20
#: Pixels per inch of every picture; pictures are drawn at the size they are shown, so a font
#: of ``p`` points shows as ``p * DPI / 72`` pixels.
DPI = 100
#: Smallest text on a picture, in pixels as shown (at 1280x720 the page shows pictures 1:1).
MIN_TEXT_PX = 14
FONT_PT = MIN_TEXT_PX * 72 / DPI
#: Strategy colours and line styles in the compare view (not backbone colours; styles for print
#: and colour blindness).
STRATEGY_STYLES = [(OKABE_ITO[0], "-"), (OKABE_ITO[3], "--"), (OKABE_ITO[2], ":")]
#: Months the network layout relaxes each month shown (the first picture takes more).
LAYOUT_ITERATIONS = 4


# --------------------------------------------------------------------------- words


def plain_name(name: str) -> str:
    """A scenario's name in words: ``nine_backbones`` -> "nine backbones", a file -> its stem."""
    return Path(str(name)).stem.replace("_", " ")


def shipped_names() -> list[str]:
    """The shipped scenarios, by name."""
    return sorted(p.stem for p in shipped_scenario_dir().glob("*.yaml"))


def when(month: int) -> str:
    """The time so far in words: "after 3 years", "after 2 years 5 months", "at the start"."""
    if month <= 0:
        return "at the start"
    years, months = divmod(int(month), 12)
    parts = [f"{years} year{'s' if years != 1 else ''}"] if years else []
    parts += [f"{months} month{'s' if months != 1 else ''}"] if months else []
    return "after " + " ".join(parts)


def points(x: float) -> str:
    """An outcome change in percentage points: ``0.021`` -> "+2.1"."""
    value = round(100 * x, 1)
    return f"{value + 0.0:+.1f}"  # + 0.0: no "-0.0"


def format_metric(metric: str, x: float, short: bool = False) -> str:
    """A metric's value with its unit, in the report's words (outcomes in percentage points).

    ``short``: leave out a unit the row already names (percentage points, "0–1").
    """
    if not np.isfinite(x):
        return "–"
    unit = metric_unit(metric)
    if metric == "outcome_improvement":
        return points(x) if short else f"{points(x)} percentage points"
    if unit.startswith("share"):
        return f"{100 * x:.0f}%"
    if unit.startswith("hours"):
        return f"{x:,.1f} hours"
    if unit.startswith("$"):
        return f"${x:,.0f}"
    if unit.startswith("number"):
        return f"{x:.0f}"
    return f"{x:.2f} (0–1)" if "0–1" in unit and not short else f"{x:.2f}"


def number_unit(metric: str) -> str:
    """The unit a numbers-panel row names (outcomes: percentage points)."""
    return "percentage points since the start" if metric == "outcome_improvement" else metric_unit(metric)


def number_rows(series: pd.DataFrame) -> list[str]:
    """The metrics of the numbers panel: the key ones, camps and the active organizations."""
    wanted = [*KEY_METRICS, "factions", "active_backbones", "active_conveners"]
    return [m for m in wanted if m in series.columns and m in METRIC_NAMES]


# --------------------------------------------------------------------------- controls


@dataclass(frozen=True)
class Control:
    """A control of the single view: a scenario setting with its words."""

    key: str
    label: str
    meaning: str
    kind: str  # "int", "float", "bool", "choice"
    low: float = 0
    high: float = 1
    step: float = 1
    unit: str = ""


CONTROLS = [
    Control(
        "backbones", "Backbones", "organizations claiming the backbone role in the issue area", "int", 0, MAX_BACKBONES
    ),
    Control(
        "neutrality", "Backbone neutrality", "0 pushes its own program, 1 is an honest broker", "float", 0, 1, 0.05
    ),
    Control(
        "servant_leadership",
        "Servant leadership",
        "share of credit the backbone gives to partners",
        "float",
        0,
        1,
        0.05,
    ),
    Control("conveners", "Conveners", "one convener runs each outcome's working group", "bool"),
    Control(
        "partners",
        "Partner organizations",
        "nonprofits, schools, agencies, funders, businesses",
        "int",
        20,
        MAX_PARTNERS,
        10,
    ),
    Control("coordination", "Coordination among backbones", "how much rival backbones share tables and data", "choice"),
]
COORDINATION_WORDS = {
    "none": "none: each backbone on its own",
    "shared_data": "shared data: one data system",
    "shared_tables": "shared tables: common working groups",
    "joint": "joint: one table for all",
}


def coordination_words(level: str) -> str:
    """A coordination level in words (the scenario's own term is kept at the front)."""
    return COORDINATION_WORDS.get(level, level.replace("_", " "))


def control_text(control: Control, value: Any) -> str:
    """A control's value in words: "9", "0.80", "on", "shared data"."""
    if control.kind == "bool":
        return "on" if value else "off"
    if control.kind == "float":
        return f"{float(value):.2f}"
    if control.kind == "choice":
        return str(value).replace("_", " ")
    return f"{int(value)}"


def _specs(area) -> list:
    return area.backbones if isinstance(area.backbones, list) else [area.backbones]


def control_defaults(base: Scenario) -> dict[str, Any]:
    """The control values that reproduce ``base`` (read from its first issue area)."""
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


def control_overrides(base: Scenario, **values: Any) -> dict[str, Any]:
    """Overrides (dotted key path -> value) for the controls moved away from ``base``.

    A moved control applies to every issue area. Controls left at the base scenario's value
    add nothing, so the untouched dashboard runs exactly the base scenario.

    Args:
        base: the validated base scenario.
        **values: control values (keys as in :func:`control_defaults`; None: unchanged).

    Returns:
        A mapping for ``load_scenario(..., overrides=...)``.
    """
    start = control_defaults(base)
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


def lane_scenario(
    base: str, values: dict[str, Any] | None = None, interventions: list[dict] | None = None
) -> tuple[Scenario, dict[str, Any], list[str]]:
    """The scenario a lane runs: ``base`` with the moved controls and the interventions.

    Args:
        base: a scenario file or shipped name.
        values: control values (see :func:`control_overrides`).
        interventions: events (``at`` and one kind, as in a scenario file) appended to the
            scenario's own events, as if written at the end of its ``events:`` list.

    Returns:
        The validated scenario, the overrides applied (dotted key path -> value) and notes
        for the user (events that had to be left out, a scenario with several areas).

    Raises:
        ScenarioError: the base scenario, or an intervention, is invalid.
    """
    base_sc = load_scenario(base)
    overrides = control_overrides(base_sc, **(values or {}))
    notes = []
    if len(base_sc.issue_areas) > 1:
        names = ", ".join(a.name for a in base_sc.issue_areas)
        notes.append(
            f"This scenario has {len(base_sc.issue_areas)} issue areas ({names}); the controls show the first "
            f"one, {base_sc.issue_areas[0].name}, and a moved control changes every area."
        )
    events = list(base_sc.events)
    try:
        trial = load_scenario(base, overrides) if overrides else base_sc
    except ScenarioError as exc:
        if not base_sc.events:
            raise
        # an event may name a backbone that the new count removes: run without the events
        events = []
        notes.append(
            f"The scenario's own events do not fit these settings and were left out ({exc.path} = {exc.value!r})."
        )
        trial = load_scenario(base, {**overrides, "events": []})
    if interventions:
        trial = load_scenario(base, {**overrides, "events": [*events, *interventions]})
        overrides = {**overrides, "events": [*events, *interventions]}
    elif not events and base_sc.events:
        overrides = {**overrides, "events": []}
    return trial, overrides, notes


# --------------------------------------------------------------------------- interventions


@dataclass(frozen=True)
class Intervention:
    key: str
    label: str
    meaning: str
    mark: str  # the word on the plots


INTERVENTIONS = [
    Intervention(
        "merge", "Merge the backbones", "the most followed backbone stays; the others become conveners", "merge"
    ),
    Intervention("conveners", "Add conveners", "a convener for every outcome without one", "conveners"),
    Intervention(
        "funders", "Funders back one backbone", "all backbone money goes to the most followed backbone", "funders"
    ),
]
INTERVENTION_BY_KEY = {i.key: i for i in INTERVENTIONS}


def most_followed(model, area: int = 0) -> int | None:
    """Index of the active backbone of ``area`` with the largest attention mass, or None."""
    members = np.flatnonzero((model.backbone_area == area) & model.backbone_active)
    if members.size == 0:
        return None
    return int(members[np.argsort(-model.mass[members], kind="stable")[0]])


def intervention_event(key: str, month: int, model) -> dict[str, Any] | None:
    """The scenario event of intervention ``key`` at ``month``, for the first issue area.

    ``model`` is the run at ``month`` (it names the most followed backbone). Returns None
    when the intervention can do nothing there (no backbone to merge or fund, every outcome
    already convened).
    """
    area = model.area_names[0]
    if key == "merge":
        if int(((model.backbone_area == 0) & model.backbone_active).sum()) < 2:
            return None
        return {"at": int(month), "area": area, "merge_backbones": {"keep": 1, "others_become": "conveners"}}
    if key == "conveners":
        free = [model.outcome_names[k] for k in np.flatnonzero(model.outcome_area == 0) if not model.convener_active[k]]
        return {"at": int(month), "area": area, "add_conveners": {"outcomes": free}} if free else None
    if key == "funders":
        j = most_followed(model, 0)
        if j is None:
            return None
        return {"at": int(month), "area": area, "funder_shift": {"to_backbone": model.backbone_names[j]}}
    raise ValueError(f"unknown intervention {key!r}; one of {sorted(INTERVENTION_BY_KEY)}")


def event_mark(event: dict[str, Any]) -> str:
    """The word marking an intervention on the plots."""
    for i in INTERVENTIONS:
        kind = {"merge": "merge_backbones", "conveners": "add_conveners", "funders": "funder_shift"}[i.key]
        if kind in event:
            return i.mark
    return "event"


# --------------------------------------------------------------------------- lanes


@dataclass
class Lane:
    """One strategy on screen: a scenario, a seed, its whole run and a live model for the network.

    Attributes:
        base: the scenario file or shipped name.
        values: the control values (None: the scenario's own).
        seed: the base seed (as ``ci-sim run --seed``); the lane runs replication 0 of it.
        interventions: events added during the run (scenario-file form).
        scenario, overrides, notes: from :func:`lane_scenario`.
        series: the whole run's metrics (``run_scenario(...).timeseries``), one row per month
            from month 0, indexed by month.
    """

    base: str
    values: dict[str, Any] | None = None
    seed: int | None = None
    interventions: list[dict[str, Any]] = field(default_factory=list)
    label: str = ""

    def __post_init__(self) -> None:
        self.scenario, self.overrides, self.notes = lane_scenario(self.base, self.values, self.interventions)
        if self.seed is None:
            self.seed = self.scenario.seed
        self.label = self.label or plain_name(self.base)
        result = run_scenario(self.scenario, seed=replication_seed(self.seed, 0))
        self.series = result.timeseries.set_index("step")
        self.horizon = int(self.scenario.steps)
        self.model = None
        self.pos = None
        self.peers = None
        self._picture: NetworkPicture | None = None

    # the live model ------------------------------------------------------------------
    def model_at(self, month: int):
        """The live model stepped to ``month`` (rebuilt when going back), its layout relaxed."""
        month = int(np.clip(month, 0, self.horizon))
        if self.model is None or self.model.steps > month:
            # the picture stays steady: the layout goes on from the last positions
            self.model = build_model(self.scenario, replication_seed(self.seed, 0))
        jumped = month - self.model.steps
        while self.model.steps < month:
            self.model.step()
        if self.peers is None:
            self.peers = peer_matrix(self.model)
        if self.pos is None:
            self.pos = animation.relax_layout(self.model, None, iterations=60)
        elif jumped:
            self.pos = relax(self.model, self.pos, min(LAYOUT_ITERATIONS * jumped, 40), self.peers)
        return self.model

    def intervene(self, key: str, month: int) -> Lane | None:
        """This lane with intervention ``key`` at ``month`` (None if it can do nothing there)."""
        event = intervention_event(key, month, self.model_at(month))
        if event is None:
            return None
        lane = Lane(self.base, self.values, self.seed, [*self.interventions, event], self.label)
        lane.pos = self.pos  # the network keeps its places
        return lane

    def marks(self) -> list[tuple[int, str]]:
        """(month, word) of every event of the run (the scenario's and the interventions)."""
        return [(int(e["at"]), event_mark(e)) for e in self.scenario.events]

    def network_png(self, month: int, height: int, max_width: int) -> bytes:
        """The partner network at ``month`` as a PNG ``height`` pixels high (see :meth:`network_size`)."""
        model = self.model_at(month)
        size = self.network_size(height, max_width)
        if self._picture is None or self._picture.size != size:
            self._picture = NetworkPicture(model, size)
        return self._picture.render(model, self.pos)

    def network_size(self, height: int, max_width: int) -> tuple[int, int]:
        """The network picture's size: ``height`` high and as wide as its places need (at most ``max_width``)."""
        x0, x1, y0, y1 = network_limits(self.model_at(0) if self.model is None else self.model)
        return min(max_width, int(height * (x1 - x0) / (y1 - y0)) + 2), height

    def value(self, metric: str, month: int) -> float:
        return float(self.series[metric].iloc[int(np.clip(month, 0, self.horizon))])


def how_sure(lanes: list[Lane], month: int, replications: int = SURE_REPLICATIONS) -> list[dict[str, float]]:
    """Outcome differences from the first lane at ``month`` over paired replications.

    Replication r of every lane uses ``replication_seed(seed, r)`` (common random numbers, as
    ``ci-sim compare``), so the differences are paired.

    Returns:
        One dict per other lane: ``mean``, ``low``, ``high`` (95% interval of the mean
        difference of ``outcome_improvement``, 0–1 scale) and ``n``.
    """
    from ci_sim.experiments.compare import mean_ci

    month = max(int(month), 1)
    values = np.array(
        [
            [
                run_scenario(lane.scenario, seed=replication_seed(lane.seed, r), steps=month, timeseries=False).final[
                    "outcome_improvement"
                ]
                for r in range(replications)
            ]
            for lane in lanes
        ]
    )
    out = []
    for row in values[1:]:
        mean, low, high = mean_ci(row - values[0], bounds=(-1.0, 1.0))
        out.append({"mean": mean, "low": low, "high": high, "n": replications})
    return out


def gap_sentence(lanes: list[Lane], month: int) -> str:
    """The gap so far: "After 3 years: outcomes +2.1 percentage points with A, +0.4 with B"."""
    parts = [f"{points(lane.value('outcome_improvement', month))} with {lane.label}" for lane in lanes]
    head = when(month)
    return f"{head[0].upper()}{head[1:]}: outcomes {parts[0].replace(' with', ' percentage points with', 1)}" + (
        ", " + ", ".join(parts[1:]) if len(parts) > 1 else ""
    )


# --------------------------------------------------------------------------- pictures


def png(canvas: FigureCanvasAgg) -> bytes:
    """The figure as PNG bytes: drawn once, fast compression (the page is local; drawing sets the pace)."""
    canvas.draw()
    out = io.BytesIO()
    Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


class NetworkPicture:
    """The partner network drawn on one reused figure with fixed axes (no legend: the page has it).

    Partners are dots coloured by the backbone they follow (grey: none) and sized by engagement;
    backbones are numbered squares, faded when nobody follows them; conveners diamonds; camps
    (``factions``) a soft halo. Colours and places as in the demo's GIFs (:mod:`ci_sim.viz.animation`).
    The artists are made once and their data replaced each month (making them costs more
    than drawing them).
    """

    def __init__(self, model, size: tuple[int, int]):
        self.size = size
        self.fig = Figure(figsize=(size[0] / DPI, size[1] / DPI), dpi=DPI)
        self.canvas = FigureCanvasAgg(self.fig)
        self.edges = np.asarray(model.peer_edges, dtype=int).reshape(-1, 2)
        self.colours = np.array([*animation.backbone_colors(model.n_backbones)[: model.n_backbones], NEUTRAL_GREY])
        self.rgba = matplotlib.colors.to_rgba_array(self.colours)
        self.scale = size[0] / 560 / model.n_areas
        ax = self.ax = self.fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_axis_off()
        x0, x1, y0, y1 = network_limits(model)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal", adjustable="box")
        self.lines = LineCollection([], colors="#DDDDDD", linewidths=0.5, antialiaseds=False, zorder=1)
        ax.add_collection(self.lines)
        self.dots = ax.scatter([], [], edgecolors="white", linewidths=0.4, zorder=2)
        anchors = animation.backbone_anchors(model)
        bxy = np.array([anchors[j] for j in range(model.n_backbones)]).reshape(-1, 2)
        self.squares = ax.scatter(
            bxy[:, 0],
            bxy[:, 1],
            marker="s",
            s=np.full(len(bxy), 320 * self.scale),
            c=self.rgba[: model.n_backbones],
            edgecolors="black",
            linewidths=1.2,
            zorder=3,
        )
        self.numbers = [
            ax.text(
                x,
                y,
                str(j + 1),
                ha="center",
                va="center",
                fontsize=FONT_PT,
                weight="bold",
                color=animation.ink_on(self.colours[j]),
                zorder=4,
            )
            for j, (x, y) in enumerate(bxy)
        ]
        places = animation.convener_positions(model)
        cxy = np.array([places[k] for k in range(model.n_outcomes)]).reshape(-1, 2)
        self.diamonds = ax.scatter(
            cxy[:, 0],
            cxy[:, 1],
            marker="D",
            s=np.zeros(len(cxy)),
            c=animation.CONVENER_COLOUR,
            edgecolors="white",
            linewidths=0.6,
            zorder=3,
        )
        self.halos: list = []

    def render(self, model, pos: dict) -> bytes:
        xy = np.array([pos[i] for i in range(model.n_partners)])
        follow = animation.followed_backbone(model)
        for patch in self.halos:
            patch.remove()
        self.halos = [
            self.ax.add_patch(animation.halo_patch(c, r, animation.JOINT_COLOUR if j < 0 else self.colours[j]))
            for j, c, r in animation.camp_halos(model, pos)
        ]
        if len(self.edges):
            self.lines.set_segments(np.stack([xy[self.edges[:, 0]], xy[self.edges[:, 1]]], axis=1))
        self.dots.set_offsets(xy)
        self.dots.set_sizes((8 + 80 * model.engagement) * self.scale)
        self.dots.set_facecolors(self.rgba[follow])
        counts = np.bincount(follow[follow >= 0], minlength=model.n_backbones)
        face = self.rgba[: model.n_backbones].copy()
        face[:, 3] = np.where(counts > 0, 1.0, 0.35) * model.backbone_active
        edge = np.zeros_like(face)
        edge[:, 3] = model.backbone_active
        self.squares.set_facecolors(face)
        self.squares.set_edgecolors(edge)
        for text, on in zip(self.numbers, model.backbone_active, strict=True):
            text.set_visible(bool(on))
        self.diamonds.set_sizes(np.where(model.convener_active, (30 + 200 * model.convener_plan) * self.scale, 0.0))
        return png(self.canvas)


def peer_matrix(model) -> np.ndarray:
    """Peer ties as a dense weighted matrix (partners x partners), the layout's weak springs."""
    a = np.zeros((model.n_partners, model.n_partners))
    edges = np.asarray(model.peer_edges, dtype=int).reshape(-1, 2)
    a[edges[:, 0], edges[:, 1]] = a[edges[:, 1], edges[:, 0]] = animation.PEER_WEIGHT
    return a


def relax(model, pos: dict | None, iterations: int, peers: np.ndarray) -> dict:
    """The camp layout of :func:`ci_sim.viz.animation.relax_layout`, without building a graph.

    The same springs (peers weak, each partner strongly to the backbone it follows or its
    area's centre), the same spacing ``k`` and networkx's own Fruchterman–Reingold step
    (``_fruchterman_reingold``); the matrix is built with numpy instead of from a networkx graph,
    which took half the time at 400 partners. Large areas (500 nodes or more, where networkx
    switches method) use :func:`ci_sim.viz.animation.relax_layout`.
    """
    from networkx.drawing.layout import _fruchterman_reingold

    if pos is None or model.partners_per_area.max() + model.n_backbones + model.n_areas >= 500:
        return animation.relax_layout(model, pos, iterations)
    fixed = animation._fixed_nodes(model)
    follow = animation.followed_backbone(model)
    out = dict(fixed)
    for area in range(model.n_areas):
        anchors = [
            n for n in fixed if (n[0] == "a" and n[1] == area) or (n[0] == "b" and model.backbone_area[n[1]] == area)
        ]
        members = np.flatnonzero(model.partner_area == area)
        n, size = members.size, members.size + len(anchors)
        a = np.zeros((size, size))
        a[:n, :n] = peers[np.ix_(members, members)]
        where = {node: n + i for i, node in enumerate(anchors)}
        targets = [where[("b", int(j))] if j >= 0 else where[("a", area)] for j in follow[members]]
        weights = np.where(follow[members] >= 0, animation.FOLLOW_WEIGHT, animation.CENTRE_WEIGHT)
        a[np.arange(n), targets] = weights
        a[targets, np.arange(n)] = weights
        start = np.array([pos[int(i)] for i in members] + [fixed[node] for node in anchors], dtype=float)
        k = animation.CAMP_RADIUS / (max(float(n), 1.0) / animation.FOLLOW_WEIGHT) ** (1 / 3)
        new = _fruchterman_reingold(
            a, k, start, np.arange(n, size), iterations, 1e-4, 2, np.random.RandomState(animation.LAYOUT_SEED)
        )
        out.update({int(i): new[m] for m, i in enumerate(members)})
    return out


def network_limits(model) -> tuple[float, float, float, float]:
    """Axis limits that hold every place a partner, backbone or convener can take (the view never jumps)."""
    xs, ys = [], []
    for area in range(model.n_areas):
        cx, cy = animation.area_centre(model, area)
        ring = (model.backbone_area == area).sum() > 1
        # a whole camp can gather round a backbone on the ring (after a merge, one camp of everyone)
        reach = (
            max(animation.area_extent(model, area), animation.RING_RADIUS + animation.CAMP_RADIUS if ring else 0) + 0.15
        )
        xs += [cx - reach, cx + reach]
        ys += [cy + reach, cy - reach - animation.CONVENER_GAP - 0.1]
    for x, y in animation.convener_positions(model).values():
        xs += [x - 0.15, x + 0.15]
        ys += [y - 0.15]
    return min(xs), max(xs), min(ys), max(ys)


@dataclass
class Plot:
    """A line plot of a whole run, drawn once; the page covers the months not reached yet.

    Attributes:
        png: the picture.
        size: its size in pixels.
        left, right, top, bottom: the plot area as fractions of the picture (from its top-left).
        months: the month at the left and right edges of the plot area.
    """

    png: bytes
    size: tuple[int, int]
    left: float
    right: float
    top: float
    bottom: float
    months: tuple[float, float]

    def x_fraction(self, month: float) -> float:
        """Where ``month`` falls, as a fraction of the picture's width."""
        m0, m1 = self.months
        return self.left + (self.right - self.left) * (month - m0) / (m1 - m0)


@dataclass
class Line:
    x: np.ndarray
    y: np.ndarray
    colour: str
    label: str | None = None
    width: float = 2.4
    style: str = "-"


def line_figure(
    lines: list[Line],
    title: str,
    ylabel: str,
    horizon: int,
    size: tuple[int, int],
    ylim: tuple[float, float] | None = None,
    marks: list[tuple[int, str]] = (),
    stacked: list[tuple[np.ndarray, str, str]] | None = None,
    zero_line: bool = False,
) -> tuple[Figure, tuple[float, float, float, float]]:
    """Draw a whole run's lines (or stacked bands) once, with fixed margins, month 0..horizon.

    The legend sits above the plot area (outside the part the page covers). Marks are
    vertical dashed lines with a word (the interventions and the scenario's events).
    """
    w, h = size
    fig = Figure(figsize=(w / DPI, h / DPI), dpi=DPI)
    FigureCanvasAgg(fig)  # sets fig.canvas
    # margins in pixels: room for 14-pixel tick labels, the y label and the title + legend row
    left, right, top, bottom = 64 / w, 1 - 14 / w, 62 / h, 1 - 46 / h
    with matplotlib.rc_context({"font.size": FONT_PT, "axes.spines.top": False, "axes.spines.right": False}):
        ax = fig.add_axes((left, 1 - bottom, right - left, bottom - top))
        if stacked:
            ax.stackplot(
                np.arange(len(stacked[0][0])),
                *[s for s, _, _ in stacked],
                labels=[lab for _, lab, _ in stacked],
                colors=[c for _, _, c in stacked],
                alpha=0.85,
            )
        for line in lines:
            ax.plot(line.x, line.y, color=line.colour, linewidth=line.width, linestyle=line.style, label=line.label)
        if zero_line:
            ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xlim(0, horizon)
        if ylim:
            ax.set_ylim(*ylim)
        ax.set_xticks(range(0, horizon + 1, 24 if horizon > 60 else 12))
        ax.set_xlabel("month", fontsize=FONT_PT, labelpad=1)
        ax.set_ylabel(ylabel, fontsize=FONT_PT)
        ax.grid(alpha=0.3)
        lo, hi = ax.get_ylim()
        for month, word in marks:
            ax.axvline(month, color="#333333", linestyle="--", linewidth=1.2)
            ax.text(month + horizon * 0.01, hi, word, va="top", ha="left", fontsize=FONT_PT, color="#333333")
        fig.text(8 / w, 1 - 6 / h, title, ha="left", va="top", fontsize=FONT_PT + 1, weight="bold")
        handles, labels = ax.get_legend_handles_labels()
        if stacked:
            handles, labels = handles[::-1], labels[::-1]
        if handles:
            fig.legend(
                handles,
                labels,
                loc="upper left",
                bbox_to_anchor=(4 / w, 1 - 26 / h),
                ncol=len(handles),
                frameon=False,
                fontsize=FONT_PT,
                handlelength=1.6,
                columnspacing=1.0,
                handletextpad=0.4,
                borderaxespad=0,
            )
    return fig, (left, right, top, bottom)


def line_plot(lines: list[Line], title: str, ylabel: str, horizon: int, size: tuple[int, int], **kwargs) -> Plot:
    """:func:`line_figure` as a PNG, with where its plot area lies (for the page's cover)."""
    fig, (left, right, top, bottom) = line_figure(lines, title, ylabel, horizon, size, **kwargs)
    return Plot(png(fig.canvas), size, left, right, top, bottom, (0.0, float(horizon)))


def shared_limits(values: list[np.ndarray], pad: float = 0.05, floor: float | None = None) -> tuple[float, float]:
    """Y limits holding every strategy's whole run (the same scale side by side)."""
    lo = min(float(np.nanmin(v)) for v in values)
    hi = max(float(np.nanmax(v)) for v in values)
    span = max(hi - lo, 1e-6)
    lo, hi = lo - pad * span, hi + pad * span
    return (max(lo, floor) if floor is not None else lo), hi


def outcome_plot(lanes: list[Lane], size: tuple[int, int], single: bool) -> Plot:
    """The key plot: outcome change since month 0 in percentage points (one line per strategy).

    In the single view each outcome is a thin grey line under the mean.
    """
    horizon = max(lane.horizon for lane in lanes)
    lines = []
    ys = []
    if single:
        lane = lanes[0]
        names = [c for c in lane.series.columns if c.startswith("outcome_") and c not in METRIC_NAMES]
        for j, c in enumerate(names):
            y = 100 * (lane.series[c] - lane.series[c].iloc[0]).to_numpy()
            ys.append(y)
            lines.append(Line(lane.series.index.to_numpy(), y, "#9E9E9E", "each outcome" if j == 0 else None, 1.0))
    for n, lane in enumerate(lanes):
        colour, style = STRATEGY_STYLES[n % len(STRATEGY_STYLES)] if not single else (OKABE_ITO[3], "-")
        y = 100 * lane.series["outcome_improvement"].to_numpy()
        ys.append(y)
        lines.append(
            Line(lane.series.index.to_numpy(), y, colour, "mean of the outcomes" if single else lane.label, 3.0, style)
        )
    marks = lanes[0].marks() if single else []
    return line_plot(
        lines,
        "Outcomes: change since month 0",
        "percentage points",
        horizon,
        size,
        ylim=shared_limits(ys),
        marks=marks,
        zero_line=True,
    )


def trend_plot(lanes: list[Lane], size: tuple[int, int], single: bool) -> Plot:
    """Alignment, trust and engagement (single view), or alignment per strategy (compare view); 0–1."""
    horizon = max(lane.horizon for lane in lanes)
    if single:
        lane = lanes[0]
        colours = {"alignment": OKABE_ITO[0], "mean_trust": OKABE_ITO[1], "engagement": OKABE_ITO[2]}
        words = {"alignment": "alignment", "mean_trust": "trust", "engagement": "engagement"}
        lines = [Line(lane.series.index.to_numpy(), lane.series[m].to_numpy(), c, words[m]) for m, c in colours.items()]
        return line_plot(
            lines,
            "Alignment, trust and engagement",
            "0 = none, 1 = full",
            horizon,
            size,
            ylim=(0, 1.02),
            marks=lane.marks(),
        )
    lines = [
        Line(
            lane.series.index.to_numpy(),
            lane.series["alignment"].to_numpy(),
            *STRATEGY_STYLES[n % 3][:1],
            lane.label,
            3.0,
            STRATEGY_STYLES[n % 3][1],
        )
        for n, lane in enumerate(lanes)
    ]
    return line_plot(lines, metric_label("alignment"), "0 = none, 1 = full", horizon, size, ylim=(0, 1.02))


def time_plot(lane: Lane, size: tuple[int, int]) -> Plot:
    """Where partner hours go: program work, meetings, reporting, fundraising (% of hours)."""
    s = lane.series
    total = s["hours_capacity"].to_numpy()
    bands = [
        (100 * s["hours_program"].to_numpy() / total, "program", OKABE_ITO[2]),
        (100 * s["hours_meetings"].to_numpy() / total, "meetings", OKABE_ITO[0]),
        (100 * s["hours_reporting"].to_numpy() / total, "reporting", OKABE_ITO[5]),
        (100 * s["hours_fundraising"].to_numpy() / total, "fundraising", OKABE_ITO[3]),
    ]
    return line_plot(
        [],
        "Partner time: where the hours go",
        "% of partner hours",
        lane.horizon,
        size,
        ylim=(0, 100),
        marks=lane.marks(),
        stacked=bands,
    )


def plot_html(plot: Plot, month: int, alt: str, css_class: str = "ci-plot") -> str:
    """The plot as an image, with the months after ``month`` covered (the run is not shown ahead)."""
    w, h = plot.size
    x = plot.x_fraction(month + 0.5) * 100
    cover = (
        f"<div class='ci-cover' style='left:{x:.2f}%;width:{100 * plot.right - x + 1.2:.2f}%;"
        f"top:{100 * plot.top - 2:.2f}%;height:{100 * (plot.bottom - plot.top) + 2:.2f}%'></div>"
        if month < plot.months[1]
        else ""
    )
    return (
        f"<div class='{css_class}' style='width:{w}px;height:{h}px'>"
        f"<img src='{data_url(plot.png)}' width='{w}' height='{h}' alt='{alt}'>{cover}</div>"
    )
