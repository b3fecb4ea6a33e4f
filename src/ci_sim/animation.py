"""Animated GIF of the partner network: who follows which backbone, month by month.

Partners are dots coloured by the backbone they mostly follow (the largest entry of their
row of ``model.attention`` among the backbones valid for them; grey if none) and sized by
their engagement. Backbones are large squares, conveners diamonds. The layout is a spring
layout of the peer network *plus* weighted ties from each partner to the backbones it
attends to, relaxed a little from the previous frame's positions each frame: camps around
rival backbones pull apart as they form and merge again if they dissolve, while the picture
moves smoothly. Every layout call is seeded, so the same model gives the same GIF.

Frames are drawn with matplotlib (no pyplot) and written with Pillow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import networkx as nx
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from ci_sim import metrics
from ci_sim.plots import NEUTRAL_GREY, STYLE, categorical_colors
from ci_sim.results import atomic_write

#: Seed of every layout computation (the GIF is a picture of the model, not of chance).
LAYOUT_SEED = 2026
#: Layout weights: a partner's tie to the backbone it follows (times its attention to it),
#: to a peer, and to the convener of an outcome it works on.
FOLLOW_WEIGHT = 3.0
PEER_WEIGHT = 0.08
CONVENER_WEIGHT = 0.3


@dataclass
class Frame:
    """What one frame shows: positions and colours of every marker, plus the headline numbers."""

    step: int
    partner_xy: np.ndarray
    partner_follow: np.ndarray  # index of the backbone followed, -1 if none
    partner_engagement: np.ndarray
    backbone_xy: np.ndarray
    backbone_active: np.ndarray
    convener_xy: np.ndarray
    convener_active: np.ndarray
    alignment: float
    trust: float
    factions: float
    outcome_improvement: float


def followed_backbone(model) -> np.ndarray:
    """Per partner, the index of the valid backbone with the largest attention (-1 if none)."""
    if model.n_backbones == 0:
        return np.full(model.n_partners, -1)
    pi = model.attention * model.last.valid
    return np.where(model.last.has_backbone, pi.argmax(axis=1), -1)


def layout_graph(model) -> nx.Graph:
    """The peer network plus a tie from each partner to the backbone it follows (and conveners).

    Backbone ``j`` is node ``("b", j)``; the convener of outcome ``k`` is node ``("c", k)``.
    Peer ties are weak and follow ties strong, so camps around rival backbones pull apart
    even though the peer network mixes them.
    """
    g = nx.Graph()
    g.add_nodes_from(range(model.n_partners))
    g.add_edges_from(model.graph.edges(), weight=PEER_WEIGHT)
    pi = model.attention * model.last.valid
    follow = followed_backbone(model)
    for j in range(model.n_backbones):
        g.add_node(("b", j))
    for i in np.flatnonzero(follow >= 0):
        g.add_edge(int(i), ("b", int(follow[i])), weight=FOLLOW_WEIGHT * float(pi[i, follow[i]]))
    interest = getattr(model.last, "interest", np.zeros((model.n_partners, model.n_outcomes), dtype=bool))
    for k in np.flatnonzero(model.convener_active):
        g.add_node(("c", int(k)))
        for i in np.flatnonzero(interest[:, k]):
            g.add_edge(int(i), ("c", int(k)), weight=CONVENER_WEIGHT)
    return g


def relax_layout(model, previous: dict | None, iterations: int) -> dict:
    """Spring layout of :func:`layout_graph`, starting from ``previous`` positions if given."""
    g = layout_graph(model)
    pos = None
    if previous is not None:
        rng = np.random.default_rng(LAYOUT_SEED)  # new nodes (e.g. added conveners) start near 0
        pos = {n: previous.get(n, rng.uniform(-0.1, 0.1, 2)) for n in g.nodes}
    k = 1.6 / np.sqrt(max(g.number_of_nodes(), 1))
    return nx.spring_layout(g, pos=pos, iterations=iterations, seed=LAYOUT_SEED, weight="weight", k=k)


def capture(model, pos: dict) -> Frame:
    """The frame of the model's current state, with layout positions ``pos``."""
    n, b, k = model.n_partners, model.n_backbones, model.n_outcomes
    return Frame(
        step=int(model.steps),
        partner_xy=np.array([pos[i] for i in range(n)]),
        partner_follow=followed_backbone(model),
        partner_engagement=model.engagement.copy(),
        backbone_xy=np.array([pos[("b", j)] for j in range(b)]).reshape(b, 2),
        backbone_active=model.backbone_active.copy(),
        convener_xy=np.array([pos.get(("c", j), (np.nan, np.nan)) for j in range(k)]).reshape(k, 2),
        convener_active=model.convener_active.copy(),
        alignment=metrics.alignment(model),
        trust=metrics.mean_trust(model),
        factions=metrics.factions(model),
        outcome_improvement=metrics.outcome_improvement(model),
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
    pos = relax_layout(model, None, iterations=200)
    frames = [capture(model, pos)]
    for t in range(1, steps + 1):
        model.step()
        if on_step:
            on_step(t)
        if t % every == 0 or t == steps:
            pos = relax_layout(model, pos, iterations=25)
            frames.append(capture(model, pos))
    return frames


def _limits(frames: list[Frame]) -> tuple[float, float, float, float]:
    """Axis limits that hold every marker of every frame (the view does not jump)."""
    pts = np.concatenate([np.vstack([f.partner_xy, f.backbone_xy, f.convener_xy[f.convener_active]]) for f in frames])
    pts = pts[np.isfinite(pts).all(axis=1)]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 0.06 * (hi - lo).max()
    return lo[0] - pad, hi[0] + pad, lo[1] - pad, hi[1] + pad


def luminance(color: str) -> float:
    """Relative luminance (0 black .. 1 white) of a colour, to pick readable text on it."""
    r, g, b = to_rgb(color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def backbone_colors(n_backbones: int) -> list[str]:
    """One colour-blind-safe colour per backbone."""
    return categorical_colors(max(n_backbones, 1))


def draw_frame(fig: Figure, frame: Frame, model_info: dict, limits, edges: np.ndarray) -> None:
    """Draw one frame on ``fig`` (cleared first)."""
    fig.clear()
    colors = np.array(backbone_colors(model_info["n_backbones"]) + [NEUTRAL_GREY])
    with mpl.rc_context(STYLE):
        ax = fig.add_axes((0.0, 0.0, 0.66, 0.9))
        ax.set_axis_off()
        ax.set_xlim(limits[0], limits[1])
        ax.set_ylim(limits[2], limits[3])
        # peer ties: faint, so that the camps (colours) carry the picture
        xy = frame.partner_xy
        if len(edges):
            segs = np.stack([xy[edges[:, 0]], xy[edges[:, 1]]], axis=1)
            # not antialiased: a few flat colours keep the GIF small
            ax.add_collection(LineCollection(segs, colors="#E2E2E2", linewidths=0.5, antialiaseds=False, zorder=1))
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=12 + 110 * frame.partner_engagement,
            c=colors[frame.partner_follow],
            edgecolors="white",
            linewidths=0.4,
            zorder=2,
        )
        followers = np.bincount(frame.partner_follow[frame.partner_follow >= 0], minlength=model_info["n_backbones"])
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
            ink = "black" if luminance(colors[j]) > 0.45 else "white"  # readable on light and dark squares
            ax.text(x, y, str(j + 1), ha="center", va="center", fontsize=10, fontweight="bold", color=ink, zorder=5)
        conv = frame.convener_active & np.isfinite(frame.convener_xy).all(axis=1)
        if conv.any():
            cx, cy = frame.convener_xy[conv].T
            ax.scatter(cx, cy, s=170, marker="D", c="white", edgecolors="black", linewidths=1.4, zorder=3)
        # header and side panel: time, the numbers, the key
        years = frame.step / 12
        fig.text(0.02, 0.955, model_info["title"], fontsize=15, fontweight="bold", va="center")
        fig.text(0.985, 0.955, f"month {frame.step:3d}  (year {years:4.1f})", fontsize=13, ha="right", va="center")
        lines = [
            ("Alignment (0–1)", f"{frame.alignment:.2f}"),
            ("Trust (0–1)", f"{frame.trust:.2f}"),
            ("Camps", f"{frame.factions:.0f}"),
            ("Outcome gain", f"{100 * frame.outcome_improvement:+.1f} pts"),
        ]
        for i, (label, value) in enumerate(lines):
            fig.text(0.68, 0.85 - 0.06 * i, label, fontsize=12, va="center")
            fig.text(0.985, 0.85 - 0.06 * i, value, fontsize=12, va="center", ha="right")
        many = model_info["n_backbones"] > 3
        handles = [
            Line2D(
                [],
                [],
                marker="s",
                ls="",
                markersize=11,
                markerfacecolor=colors[j],
                markeredgecolor="black",
                label=str(j + 1) if many else f"backbone {j + 1}",
            )
            for j in range(model_info["n_backbones"])
            if frame.backbone_active[j]
        ]
        if many:  # a compact grid of numbered backbones, then the other markers
            fig.legend(
                handles=handles,
                loc="upper left",
                bbox_to_anchor=(0.67, 0.6),
                fontsize=11,
                frameon=False,
                ncol=3,
                handletextpad=0.2,
                columnspacing=0.8,
                title="Backbones",
                title_fontsize=11,
                alignment="left",
            )
            handles = []
        if conv.any():
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="D",
                    ls="",
                    markersize=9,
                    markerfacecolor="white",
                    markeredgecolor="black",
                    label="convener",
                )
            )
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                markersize=7,
                markerfacecolor=NEUTRAL_GREY,
                markeredgecolor="white",
                label="follows none",
            )
        )
        fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(0.67, 0.42 if many else 0.6),
            fontsize=11,
            frameon=False,
            handletextpad=0.3,
        )
        fig.text(
            0.68, 0.05, "Dot colour: backbone followed\nDot size: engagement", fontsize=10, va="bottom", color="#444444"
        )


def render_gif(
    frames: list[Frame],
    path: Path,
    title: str,
    edges: np.ndarray,
    n_backbones: int,
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
        size_px: frame size in pixels.
        frame_ms: display time of a frame.
        hold_last_ms: display time of the last frame.

    Returns:
        ``path``.
    """
    dpi = 100
    fig = Figure(figsize=(size_px[0] / dpi, size_px[1] / dpi), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    limits = _limits(frames)
    info = {"title": title, "n_backbones": n_backbones}
    images = []
    for frame in frames:
        draw_frame(fig, frame, info, limits, edges)
        canvas.draw()
        rgb = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB")
        # one adaptive palette per frame keeps the few flat colours exact and the file small
        images.append(rgb.quantize(colors=48, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE))
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
    edges = np.array(model.graph.edges(), dtype=int).reshape(-1, 2)
    frames = simulate_frames(model, steps, every=every)
    return render_gif(frames, path, title, edges, model.n_backbones, **kwargs)
