"""The partner network over time: the camp layout and the animated GIF of the demo.

Partners are dots coloured by the backbone they mostly follow (the model's
:meth:`~ci_sim.model.model.CollectiveImpactModel.followed_backbones`; grey if none) and sized by
their engagement. Backbones are numbered squares, conveners diamonds.

The layout is what makes factions visible. The backbones of an issue area sit at fixed
places on a ring (one backbone: at the centre), so a backbone never wanders; each partner
is tied to the backbone it follows by a strong spring and to its peers by weak ones, and a
force-directed layout (networkx's ``spring_layout`` with the backbones fixed) places the
partners. Partners that follow the same backbone therefore gather around it: a camp. Each
frame starts from the previous frame's positions and relaxes a little, so partners visibly
walk from one camp to another when they change allegiance; camps grow, shrink and dissolve
(e.g. when backbones merge). Camps that count as factions in the ``factions`` metric
(tables that are the first choice of at least 10% of the area's partners) get a soft halo
in their backbone's colour. Conveners sit in a row under their area's network, labelled
with the outcome they convene and sized by the quality of its action plan.

The same layout draws the live dashboard's network view (:mod:`ci_sim.viz.dashboard`). Every
layout computation has a fixed seed and none touches the model's random streams, so the
same model gives the same pictures and drawing does not change the simulation.

Frames are drawn with matplotlib (no pyplot) and written with Pillow.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib as mpl
import networkx as nx
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle
from PIL import Image

from ci_sim.model import metrics
from ci_sim.runs.results import atomic_write
from ci_sim.viz.plots import NEUTRAL_GREY, STYLE, categorical_colors

#: Seed of every layout computation (the pictures show the model, not chance).
LAYOUT_SEED = 2026
#: Radius of the ring on which an area's backbones sit, and the gap between areas.
RING_RADIUS = 1.0
AREA_GAP = 0.5
#: Radius (about) of a camp that holds all of an area's partners.
CAMP_RADIUS = 0.75
#: Spring strengths: a partner's tie to the backbone it follows, to a peer, and (for a
#: partner that follows none) to its area's centre.
FOLLOW_WEIGHT = 3.0
PEER_WEIGHT = 0.08
CENTRE_WEIGHT = 0.5
#: Gap between an area's network and the conveners' row under it, and the row's half width.
CONVENER_GAP = 0.35
CONVENER_ROW_HALF_WIDTH = 1.25
#: Colour of conveners and of the halo of a joint table (several backbones, one table).
CONVENER_COLOUR = "#3A3A3A"
JOINT_COLOUR = "#555555"
#: A camp is a table chosen first by at least this share of its area's partners (as in the
#: ``factions`` metric).
CAMP_SHARE = 0.1


# --------------------------------------------------------------------------- who follows whom


def followed_backbone(model) -> np.ndarray:
    """Per partner, the index of the backbone it gives most attention to (-1 if none).

    The model's own :meth:`followed_backbones`, the one the ``factions`` metric and the
    per-agent samples use, so the pictures and the numbers agree.
    """
    return model.followed_backbones()


def backbone_colors(n_backbones: int) -> list[str]:
    """One colour-blind-safe colour per backbone (Okabe–Ito up to eight, Tol muted for nine).

    Beyond nine the colours repeat; the numbers in the squares still tell backbones apart.
    """
    return categorical_colors(max(n_backbones, 1))


def luminance(color: str) -> float:
    """Relative luminance (0 black .. 1 white) of a colour, to pick readable text on it."""
    r, g, b = to_rgb(color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ink_on(color: str) -> str:
    """Black or white, whichever reads better on ``color``."""
    return "black" if luminance(color) > 0.45 else "white"


@dataclass
class Camp:
    """A faction: a table that is the first choice of at least :data:`CAMP_SHARE` of its area.

    Attributes:
        backbone: the backbone whose table it is, or -1 for the one table of a joint area.
        members: indices of the partners who chose it first.
    """

    backbone: int
    members: np.ndarray


def camps(model) -> list[Camp]:
    """The camps of the model's current state, as counted by :func:`ci_sim.model.metrics.factions`."""
    followed = followed_backbone(model)
    found = []
    for area in range(model.n_areas):
        in_area = (model.partner_area == area) & (followed >= 0)
        need = max(CAMP_SHARE * model.partners_per_area[area], 1e-9)
        if model.coordination[area] == 3:  # joint: every backbone sits at one table
            members = np.flatnonzero(in_area)
            if members.size >= need:
                found.append(Camp(-1, members))
            continue
        for j in np.flatnonzero(model.backbone_area == area):
            members = np.flatnonzero(in_area & (followed == j))
            if members.size >= need:
                found.append(Camp(int(j), members))
    return found


# --------------------------------------------------------------------------- the layout


def area_extent(model, area: int) -> float:
    """How far an area's partners reach from its centre (about): past the ring, or one camp's radius."""
    ring = (model.backbone_area == area).sum() > 1
    return RING_RADIUS + 0.45 if ring else CAMP_RADIUS + 0.1


def area_centre(model, area: int) -> np.ndarray:
    """Centre of an issue area's network in layout coordinates: areas side by side, left to right."""
    widths = [2 * area_extent(model, a) + AREA_GAP for a in range(area + 1)]
    return np.array([sum(widths[:-1]) + widths[-1] / 2 - widths[0] / 2, 0.0])


def backbone_anchors(model) -> dict[int, np.ndarray]:
    """Fixed place of every backbone (active or not): a ring per area, clockwise from the top.

    An area with a single backbone has it at the centre.
    """
    anchors = {}
    for area in range(model.n_areas):
        members = np.flatnonzero(model.backbone_area == area)
        for n, j in enumerate(members):
            if members.size == 1:
                anchors[int(j)] = area_centre(model, area)
            else:
                angle = np.pi / 2 - 2 * np.pi * n / members.size
                anchors[int(j)] = area_centre(model, area) + RING_RADIUS * np.array([np.cos(angle), np.sin(angle)])
    return anchors


def convener_positions(model) -> dict[int, np.ndarray]:
    """Place of the convener of every outcome: a row just under its area's network."""
    pos = {}
    for area in range(model.n_areas):
        ks = np.flatnonzero(model.outcome_area == area)
        xs = np.linspace(-CONVENER_ROW_HALF_WIDTH, CONVENER_ROW_HALF_WIDTH, ks.size) if ks.size > 1 else [0.0]
        y = -(area_extent(model, area) + CONVENER_GAP)
        for x, k in zip(xs, ks, strict=True):
            pos[int(k)] = area_centre(model, area) + np.array([x, y])
    return pos


def _fixed_nodes(model) -> dict:
    nodes = {("b", j): xy for j, xy in backbone_anchors(model).items()}
    nodes.update({("a", a): area_centre(model, a) for a in range(model.n_areas)})
    return nodes


def layout_graph(model) -> nx.Graph:
    """Partners (nodes 0..N-1) with their springs; backbones ``("b", j)``, area centres ``("a", a)``.

    Each partner is tied to the backbone it follows (strong) or, if it follows none, to its
    area's centre; peers are tied weakly, so camps pull apart although the peer network mixes
    them. Backbones and area centres are fixed in :func:`relax_layout`.
    """
    g = nx.Graph()
    g.add_nodes_from(range(model.n_partners))
    g.add_nodes_from(_fixed_nodes(model))
    g.add_edges_from(model.peer_edges.tolist(), weight=PEER_WEIGHT)
    followed = followed_backbone(model)
    for i, j in enumerate(followed.tolist()):
        if j >= 0:
            g.add_edge(i, ("b", j), weight=FOLLOW_WEIGHT)
        else:
            g.add_edge(i, ("a", int(model.partner_area[i])), weight=CENTRE_WEIGHT)
    return g


def initial_positions(model) -> dict:
    """Starting places: each partner near the backbone it follows (or its area's centre)."""
    fixed = _fixed_nodes(model)
    rng = np.random.default_rng(LAYOUT_SEED)  # the layout's own stream, never the model's
    jitter = rng.normal(0.0, 0.2, size=(model.n_partners, 2))
    followed = followed_backbone(model)
    pos = dict(fixed)
    for i, j in enumerate(followed.tolist()):
        home = fixed[("b", j)] if j >= 0 else fixed[("a", int(model.partner_area[i]))]
        pos[i] = home + jitter[i]
    return pos


def relax_layout(model, previous: dict | None, iterations: int) -> dict:
    """Positions of partners and backbones after ``iterations`` steps of the spring layout.

    Args:
        model: the model in its current state.
        previous: the positions of the last frame (None: start from :func:`initial_positions`).
        iterations: layout iterations (many for the first frame, a few per later frame).

    Returns:
        A mapping from node (partner index, ``("b", j)``, ``("a", area)``) to an (x, y) array.
    """
    g = layout_graph(model)
    start = initial_positions(model) if previous is None else {n: previous[n] for n in g.nodes}
    fixed = _fixed_nodes(model)
    pos = dict(fixed)
    for area in range(model.n_areas):  # areas apart: partners of one area never push another's
        nodes = [
            n for n in fixed if (n[0] == "a" and n[1] == area) or (n[0] == "b" and model.backbone_area[n[1]] == area)
        ]
        members = np.flatnonzero(model.partner_area == area).tolist()
        sub = g.subgraph(members + nodes)
        # spring_layout's k sets the spacing; a camp of n partners on springs of strength w
        # reaches a radius of about k (n / w)^(1/3), so all partners in one camp fill CAMP_RADIUS
        crowd = max(float(len(members)), 1.0)
        pos.update(
            nx.spring_layout(
                sub,
                pos={n: start[n] for n in sub.nodes},
                fixed=nodes,
                iterations=iterations,
                k=CAMP_RADIUS / (crowd / FOLLOW_WEIGHT) ** (1 / 3),
                weight="weight",
                seed=LAYOUT_SEED,
            )
        )
    return pos


def camp_halos(model, pos: dict) -> list[tuple[int, np.ndarray, float]]:
    """A soft circle around each camp: (backbone or -1, centre, radius) in layout coordinates.

    The circle is centred on the camp's members and holds 85% of them (stragglers on their way
    elsewhere stay outside).
    """
    halos = []
    for camp in camps(model):
        xy = np.array([pos[int(i)] for i in camp.members])
        centre = xy.mean(axis=0)
        radius = float(np.quantile(np.linalg.norm(xy - centre, axis=1), 0.85)) + 0.08
        halos.append((camp.backbone, centre, radius))
    return halos


def halo_patch(centre, radius: float, colour: str, **kwargs) -> Circle:
    """The soft disc of a camp: a light fill and a clear rim in the camp's colour."""
    r, g, b = to_rgb(colour)
    return Circle(
        centre, radius, facecolor=(r, g, b, 0.14), edgecolor=(r, g, b, 0.75), linewidth=1.6, zorder=1.5, **kwargs
    )


def outcome_label(name: str, width: int = 12) -> str:
    """An outcome name wrapped for a label under a convener."""
    return "\n".join(textwrap.wrap(name.replace("_", " "), width, break_long_words=False))


# --------------------------------------------------------------------------- frames


@dataclass
class Frame:
    """What one frame shows: places, colours and sizes of every marker, and the headline numbers."""

    step: int
    partner_xy: np.ndarray
    partner_follow: np.ndarray  # index of the backbone followed, -1 if none
    partner_engagement: np.ndarray
    backbone_xy: np.ndarray
    backbone_active: np.ndarray
    convener_xy: np.ndarray
    convener_active: np.ndarray
    convener_plan: np.ndarray
    alignment: float
    trust: float
    factions: float
    outcome_improvement: float
    halos: list = field(default_factory=list)


def capture(model, pos: dict) -> Frame:
    """The frame of the model's current state, with layout positions ``pos``."""
    b, k = model.n_backbones, model.n_outcomes
    conv = convener_positions(model)
    return Frame(
        step=int(model.steps),
        partner_xy=np.array([pos[i] for i in range(model.n_partners)]),
        partner_follow=followed_backbone(model).copy(),
        partner_engagement=model.engagement.copy(),
        backbone_xy=np.array([pos[("b", j)] for j in range(b)]).reshape(b, 2),
        backbone_active=model.backbone_active.copy(),
        convener_xy=np.array([conv[j] for j in range(k)]).reshape(k, 2),
        convener_active=model.convener_active.copy(),
        convener_plan=model.convener_plan.copy(),
        alignment=metrics.MODEL_METRICS["alignment"](model),
        trust=metrics.MODEL_METRICS["mean_trust"](model),
        factions=metrics.MODEL_METRICS["factions"](model),
        outcome_improvement=metrics.MODEL_METRICS["outcome_improvement"](model),
        halos=camp_halos(model, pos),
    )


def simulate_frames(model, steps: int, every: int = 3, on_step: Callable[[int], None] | None = None) -> list[Frame]:
    """Step ``model`` ``steps`` months, capturing a frame at month 0, every ``every`` months and at the end.

    Args:
        model: a fresh model from :func:`ci_sim.build_model`.
        steps: months to simulate.
        every: months between frames.
        on_step: optional callback after each month (for progress).

    Returns:
        The frames, in time order.
    """
    pos = relax_layout(model, None, iterations=80)
    frames = [capture(model, pos)]
    for t in range(1, steps + 1):
        model.step()
        if on_step:
            on_step(t)
        if t % every == 0 or t == steps:
            pos = relax_layout(model, pos, iterations=15)
            frames.append(capture(model, pos))
    return frames


def _limits(frames: list[Frame], any_conveners: bool) -> tuple[float, float, float, float]:
    """Axis limits that hold every marker of every frame (the view does not jump)."""
    parts = [np.vstack([f.partner_xy, f.backbone_xy]) for f in frames]
    if any_conveners:
        parts.append(frames[0].convener_xy + np.array([0.0, -0.5]))  # room for the labels
    pts = np.concatenate(parts)
    pts = pts[np.isfinite(pts).all(axis=1)]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 0.08 * (hi - lo).max()
    return lo[0] - pad, hi[0] + pad, lo[1] - pad, hi[1] + pad


def draw_frame(fig: Figure, frame: Frame, model_info: dict, limits, edges: np.ndarray) -> None:
    """Draw one frame on ``fig`` (cleared first).

    Args:
        fig: the figure to draw on.
        frame: from :func:`capture`.
        model_info: ``title``, ``n_backbones``, ``outcome_names`` and ``n_areas``.
        limits: axis limits (x0, x1, y0, y1), the same for every frame.
        edges: peer ties as an (E, 2) array of partner indices.
    """
    fig.clear()
    n_b = model_info["n_backbones"]
    palette = backbone_colors(n_b)
    colors = np.array(palette[:n_b] + [NEUTRAL_GREY])  # index -1: follows none
    followers = np.bincount(frame.partner_follow[frame.partner_follow >= 0], minlength=n_b)
    with mpl.rc_context(STYLE):
        ax = fig.add_axes((0.0, 0.0, 0.66, 0.9))
        ax.set_axis_off()
        ax.set_xlim(limits[0], limits[1])
        ax.set_ylim(limits[2], limits[3])
        ax.set_aspect("equal", adjustable="box")
        for j, centre, radius in frame.halos:  # factions: a soft disc behind each camp
            tint = JOINT_COLOUR if j < 0 else palette[j]
            ax.add_patch(halo_patch(centre, radius, tint))
        xy = frame.partner_xy
        if len(edges):  # peer ties: faint, so that the camps (colours) carry the picture
            segs = np.stack([xy[edges[:, 0]], xy[edges[:, 1]]], axis=1)
            # not antialiased: a few flat colours keep the GIF small
            ax.add_collection(LineCollection(segs, colors="#ECECEC", linewidths=0.5, antialiaseds=False, zorder=1))
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=(10 + 120 * frame.partner_engagement) / model_info.get("n_areas", 1),  # several areas: smaller
            c=colors[frame.partner_follow],
            edgecolors="white",
            linewidths=0.4,
            zorder=2,
        )
        for j, (x, y) in enumerate(frame.backbone_xy):
            if not frame.backbone_active[j]:
                continue
            alone = followers[j] == 0  # a claimant nobody follows is drawn faded
            ax.scatter(
                [x],
                [y],
                s=420,
                marker="s",
                c=[colors[j]],
                edgecolors="black",
                linewidths=1.6,
                zorder=4,
                alpha=0.35 if alone else 1.0,
            )
            ax.text(
                x,
                y,
                str(j + 1),
                ha="center",
                va="center",
                fontsize=10,
                fontweight="bold",
                color=ink_on(colors[j]),
                zorder=5,
            )
        conv = frame.convener_active
        if conv.any():
            cx, cy = frame.convener_xy[conv].T
            ax.scatter(
                cx,
                cy,
                s=40 + 260 * frame.convener_plan[conv],
                marker="D",
                c=CONVENER_COLOUR,
                edgecolors="white",
                linewidths=0.8,
                zorder=3,
            )
            for n, k in enumerate(np.flatnonzero(conv)):
                x, y = frame.convener_xy[k]
                ax.text(
                    x,
                    y - 0.14 - 0.24 * (n % 2),
                    outcome_label(model_info["outcome_names"][k]),
                    ha="center",
                    va="top",
                    fontsize=8.5,
                    color="#333333",
                    linespacing=0.95,
                    zorder=3,
                )
        # header and side panel: time, the numbers, the key
        fig.text(0.02, 0.955, model_info["title"], fontsize=15, fontweight="bold", va="center")
        fig.text(
            0.985, 0.955, f"month {frame.step:3d}  (year {frame.step / 12:4.1f})", fontsize=13, ha="right", va="center"
        )
        lines = [
            ("Alignment (0–1)", f"{frame.alignment:.2f}"),
            ("Trust (0–1)", f"{frame.trust:.2f}"),
            ("Camps (factions)", f"{frame.factions:.0f}"),
            ("Outcome gain", f"{100 * frame.outcome_improvement:+.1f} pts"),
        ]
        for i, (label, value) in enumerate(lines):
            fig.text(0.68, 0.85 - 0.06 * i, label, fontsize=12, va="center")
            fig.text(0.985, 0.85 - 0.06 * i, value, fontsize=12, va="center", ha="right")
        active = [j for j in range(n_b) if frame.backbone_active[j]]
        handles = [
            Line2D(
                [],
                [],
                marker="s",
                ls="",
                markersize=10,
                markerfacecolor=colors[j],
                markeredgecolor="black",
                label=f"{j + 1}: {followers[j]}",
            )
            for j in active
        ]
        top = 0.6
        if handles:
            fig.legend(
                handles=handles,
                loc="upper left",
                bbox_to_anchor=(0.67, top),
                fontsize=11,
                frameon=False,
                ncol=3 if len(handles) > 3 else 1,
                handletextpad=0.2,
                columnspacing=0.7,
                title="Backbone: partners following",
                title_fontsize=11,
                alignment="left",
            )
            top -= 0.055 * (1.5 + int(np.ceil(len(handles) / (3 if len(handles) > 3 else 1))))
        others = []
        if (frame.partner_follow < 0).any():
            others.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    ls="",
                    markersize=7,
                    markerfacecolor=NEUTRAL_GREY,
                    markeredgecolor="white",
                    label=f"follows none: {(frame.partner_follow < 0).sum()}",
                )
            )
        if conv.any():
            others.append(
                Line2D(
                    [],
                    [],
                    marker="D",
                    ls="",
                    markersize=8,
                    markerfacecolor=CONVENER_COLOUR,
                    markeredgecolor="white",
                    label="convener (size: plan quality)",
                )
            )
        if frame.halos:
            others.append(halo_patch((0, 0), 1, "#777777", label="camp (≥10% of partners)"))
        if others:
            fig.legend(
                handles=others,
                loc="upper left",
                bbox_to_anchor=(0.67, top),
                fontsize=10.5,
                frameon=False,
                handletextpad=0.4,
                alignment="left",
            )
        fig.text(
            0.68, 0.04, "Dot colour: backbone followed\nDot size: engagement", fontsize=10, va="bottom", color="#444444"
        )


def render_gif(
    frames: list[Frame],
    path: Path,
    title: str,
    edges: np.ndarray,
    n_backbones: int,
    outcome_names: list[str] | None = None,
    n_areas: int = 1,
    size_px: tuple[int, int] = (820, 520),
    frame_ms: int = 450,
    hold_last_ms: int = 2500,
) -> Path:
    """Write ``frames`` as an animated GIF (looping; the last frame is held a little longer).

    Args:
        frames: from :func:`simulate_frames`.
        path: the GIF to write (atomically).
        title: headline of every frame.
        edges: peer ties as an (E, 2) array of partner indices.
        n_backbones: number of backbones in the model (fixes the colours).
        outcome_names: the model's outcomes (labels of the conveners).
        n_areas: the model's issue areas (several: smaller dots).
        size_px: frame size in pixels.
        frame_ms: display time of a frame.
        hold_last_ms: display time of the last frame.

    Returns:
        ``path``.
    """
    dpi = 100
    fig = Figure(figsize=(size_px[0] / dpi, size_px[1] / dpi), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    limits = _limits(frames, any(f.convener_active.any() for f in frames))
    info = {"title": title, "n_backbones": n_backbones, "outcome_names": outcome_names or [], "n_areas": n_areas}
    images = []
    for frame in frames:
        draw_frame(fig, frame, info, limits, edges)
        canvas.draw()
        rgb = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB")
        # one adaptive palette per frame, no dithering: flat colours stay flat and the file small;
        # 96 colours keep nine backbone colours true beside the halos' tints (48 merged some)
        images.append(rgb.quantize(colors=96, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE))
    durations = [frame_ms] * (len(images) - 1) + [hold_last_ms]

    def write(p: Path) -> None:
        images[0].save(p, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0, disposal=1)

    atomic_write(Path(path), write)
    return Path(path)


def network_gif(model, steps: int, path: Path, title: str, every: int = 3, **kwargs) -> Path:
    """Simulate ``model`` for ``steps`` months and write the network GIF to ``path``.

    Args:
        model: a fresh model (:func:`ci_sim.build_model`).
        steps: months to simulate.
        path: the GIF to write.
        title: headline of every frame.
        every: months between frames (at least one frame per simulated year needs ``every <= 12``).
        **kwargs: passed to :func:`render_gif`.

    Returns:
        ``path``.
    """
    edges = np.asarray(model.peer_edges, dtype=int).reshape(-1, 2)
    frames = simulate_frames(model, steps, every=every)
    return render_gif(frames, path, title, edges, model.n_backbones, list(model.outcome_names), model.n_areas, **kwargs)
