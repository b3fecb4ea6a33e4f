"""The live dashboard: one community month by month, strategies side by side, or your own partnership.

A Solara page (:data:`Page`), served by ``ci-sim dashboard [SCENARIO]`` (see
:mod:`ci_sim.viz.dashboard_server`). The runs, pictures and words are in
:mod:`ci_sim.viz.dashboard_runs`, the roster and advice of the third view in
:mod:`ci_sim.viz.dashboard_roster`; this module holds the page and its state.

- **One strategy**: a starting point (a shipped scenario or the file given on the command
  line, loaded whole: qualities and events), controls that change it (each shows its value and
  a one-line meaning; a change starts the run again), interventions that apply a scenario
  event at the month on screen, the partner network, the numbers with units and the plots.
- **Compare strategies**: two or three scenarios with the same seed, months in step, one
  legend, the gap so far in words and numbers, and a "how sure?" button (20 paired runs).
- **Your partnership**: for community leaders, ``ci-sim roster check`` and ``ci-sim advise``
  on the page. A roster is chosen in a file dialog (one .xlsx workbook, or a .csv with its
  ``_outcomes.csv`` and ``_collaborations.csv``); its problems are shown, one per bad row, by
  file, row, column, value and what is allowed; the advice runs in a thread of its own (the number of paired
  runs and anonymizing chosen on the page, the page busy but never blocked), then the
  recommendation in the brief's words, the ranking and download buttons for the brief (PDF, A4
  and Letter; HTML) and a zip of every result file. Uploads and results stay in the page's own
  temporary folder, removed when the page closes or is culled.

Play, a step, a pace (months per second) and "jump to year" drive the first two views. The whole run
of each strategy is computed when it is chosen, so a month on screen costs only drawing the
network (the line plots are drawn once per run and uncovered month by month).

The page is built from Solara's own components (vuetify controls, HTML, images as data
URLs) so that nothing is fetched from the internet. Mesa's ``SolaraViz`` drives one model
with its own controls (play interval, render interval, threads); the compare view and the
trainer's words needed a page of its own, built on the same Solara.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import html
import itertools
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import reacton.ipyvuetify as rv
import solara
import traitlets
from ipyvuetify.extra import FileInput
from solara.server import kernel_context

from ci_sim.model.columns import metric_label
from ci_sim.model.scenario import COORDINATION_LEVELS, ScenarioError, load_scenario
from ci_sim.viz import animation
from ci_sim.viz.dashboard_roster import (
    DEFAULT_RUNS,
    OUTPUT_ZIP,
    POSTERIOR,
    RUN_CHOICES,
    TEMPLATE_NAME,
    Partnership,
    quick_look_note,
    ranking_rows,
    size_problem,
    template_bytes,
)
from ci_sim.viz.dashboard_runs import (
    CONTROLS,
    DEFAULT_SCENARIO,
    INTERVENTIONS,
    NEUTRAL_GREY,
    STRATEGY_STYLES,
    Lane,
    Plot,
    control_defaults,
    control_text,
    coordination_words,
    data_url,
    format_metric,
    gap_sentence,
    how_sure,
    number_rows,
    number_unit,
    outcome_plot,
    plain_description,
    plain_name,
    points,
    shipped_names,
    time_plot,
    trend_plot,
    when,
)
from ci_sim.viz.dashboard_server import SCENARIO_ENV, TITLE, watch_parent

#: Pace choices, months per second.
PACES = [1, 2, 4, 8, 12]
DEFAULT_PACE = 4
#: Picture sizes in pixels (drawn 1:1; at 1280x720 the single view's main part fits).
NETWORK_HEIGHT, NETWORK_MAX_WIDTH = 330, 560
KEY_PLOT_SIZE = (540, 240)
SIDE_PLOT_SIZE = (410, 240)
#: Compare view, by the number of strategies: network (height, widest).
COMPARE_NETWORK = {1: (300, 900), 2: (280, 460), 3: (220, 300)}
COMPARE_PLOT_SIZE = (470, 240)
VIEWS = {"One strategy": "one", "Compare strategies": "compare", "Your partnership": "partnership"}
HEADING = "Collective impact: backbones, conveners and partners"
NONE = "(none)"


def base_scenario_name() -> str:
    """The starting scenario: ``$CI_SIM_DASHBOARD_SCENARIO`` or ``single_backbone``."""
    return os.environ.get(SCENARIO_ENV) or DEFAULT_SCENARIO


def choices(base: str) -> list[str]:
    """The starting points offered: the shipped scenarios, and the file given on the command line."""
    names = shipped_names()
    return names if base in names else [base, *names]


def choice_label(name: str) -> str:
    return plain_name(name) + (" (your file)" if Path(name).suffix else "")


class Session:
    """What one browser page shows: the lanes, the month, play; shared by its threads.

    Args:
        base: the starting scenario (file or shipped name).
    """

    def __init__(self, base: str):
        self.lock = threading.RLock()
        self.counter = itertools.count(1)
        self.closed = False
        self.playing = False
        self.pace = DEFAULT_PACE
        self.base = base
        self.choices = choices(base)
        start = load_scenario(base)
        self.values: dict[str, Any] = control_defaults(start)
        self.seed = start.seed
        self.view = "one"
        self.compare = [base, "nine_backbones" if base != "nine_backbones" else "single_backbone", NONE]
        self.month = 0
        self.error = ""
        self.sure = ""
        self.message = ""
        self.single = Lane(base, None, self.seed)
        self.lanes: list[Lane] = []
        self.plots: dict[str, Any] = {}
        self.pictures: dict[str, bytes] = {}
        # drawing ahead: (month, generation, pictures); the generation changes with every
        # other drawing, so a picture drawn ahead is used only for the lanes it was drawn from
        self.ahead: tuple[int, int, dict[str, bytes]] | None = None
        self.generation = 0
        self.partnership: Partnership | None = None  # made when the view is first opened (its folder too)
        self._plot_single()
        self.draw()

    # ------------------------------------------------------------------ state changes
    @property
    def horizon(self) -> int:
        return min(lane.horizon for lane in self.shown_lanes())

    def shown_lanes(self) -> list[Lane]:
        return self.lanes if self.view == "compare" else [self.single]

    def _plot_single(self) -> None:
        lane = self.single
        self.plots = {
            "outcomes": outcome_plot([lane], KEY_PLOT_SIZE, single=True),
            "trends": trend_plot([lane], SIDE_PLOT_SIZE, single=True),
            "time": time_plot(lane, SIDE_PLOT_SIZE),
        }

    def _plot_compare(self) -> None:
        self.plots = {
            "outcomes": outcome_plot(self.lanes, COMPARE_PLOT_SIZE, single=False),
            "trends": trend_plot(self.lanes, COMPARE_PLOT_SIZE, single=False),
        }

    def _draw_month(self, month: int) -> dict[str, bytes]:
        if self.view != "compare":
            return {"one": self.single.network_png(month, NETWORK_HEIGHT, NETWORK_MAX_WIDTH)}
        size = COMPARE_NETWORK[len(self.lanes)]
        return {str(n): lane.network_png(month, *size) for n, lane in enumerate(self.lanes)}

    def draw(self) -> None:
        """Draw the network(s) of the month on screen (taken from the drawing ahead when it is ready)."""
        self.generation += 1
        self.pictures = self._draw_month(self.month)
        self._schedule_ahead()

    def _schedule_ahead(self) -> None:
        following, generation = self.month + 1, self.generation
        if following <= self.horizon and not self.closed:
            threading.Thread(target=self._draw_ahead, args=(following, generation), daemon=True).start()

    def go(self, month: int) -> None:
        """Show ``month`` (clipped to the run), then draw the next month ahead in the background."""
        with self.lock:
            self.month = max(0, min(int(month), self.horizon))
            ahead = self.ahead
            self.ahead = None
            if ahead is not None and ahead[:2] == (self.month, self.generation):
                self.pictures = ahead[2]
                self._schedule_ahead()
            else:
                self.draw()

    def _draw_ahead(self, month: int, generation: int) -> None:
        """Draw ``month`` before it is asked for: a Step or Play then only has to send it."""
        with self.lock:
            if self.closed or generation != self.generation or self.month + 1 != month:
                return  # the page moved on (or went away) meanwhile
            self.ahead = (month, generation, self._draw_month(month))

    def restart(self, **changes: Any) -> None:
        """Apply control changes (or a new starting point) and start the run again at month 0."""
        with self.lock:
            self.error = ""
            if "base" in changes:
                self.base = changes["base"]
                start = load_scenario(self.base)
                self.values = control_defaults(start)
                self.seed = start.seed
            for key, value in changes.items():
                if key in self.values:
                    self.values[key] = value
            if "seed" in changes:
                self.seed = changes["seed"]
            try:
                lane = Lane(self.base, dict(self.values), self.seed)
            except ScenarioError as exc:
                self.error = (
                    f"These settings do not make a valid community: {exc.allowed} ({exc.path} = {exc.value!r})."
                )
                return
            self.single = lane
            self.month = 0
            self.playing = False
            self._plot_single()
            self.draw()

    def intervene(self, key: str) -> None:
        """Apply intervention ``key`` at the month on screen (the run changes from the next month)."""
        with self.lock:
            if self.month >= self.single.horizon:
                self.message = "The run is over: go back to an earlier month to intervene."
                return
            lane = self.single.intervene(key, self.month)
            spec = next(i for i in INTERVENTIONS if i.key == key)
            if lane is None:
                self.message = f"{spec.label}: nothing to do at month {self.month}."
                return
            self.single = lane
            self.message = f"{spec.label} at month {self.month}: {spec.meaning}."
            self._plot_single()
            self.draw()

    def set_compare(self, slot: int, name: str) -> None:
        """Choose the strategy in ``slot`` (0–2) and build the compare view's lanes."""
        with self.lock:
            previous, self.compare[slot] = self.compare[slot], name
            self.build_compare()
            if self.error:  # keep the strategies on screen; the message says what was wrong
                self.compare[slot] = previous

    def build_compare(self) -> None:
        with self.lock:
            self.error = ""
            self.sure = ""
            names = [n for n in self.compare if n != NONE]
            try:
                lanes = [Lane(n, None, self.seed) for n in names]
            except ScenarioError as exc:
                self.error = f"That scenario cannot be used: {exc}"
                return
            self.lanes = lanes
            self.month = min(self.month, self.horizon)
            self._plot_compare()
            self.draw()

    def set_view(self, view: str) -> None:
        with self.lock:
            self.view = view
            self.playing = False
            self.month = 0
            if view == "compare":
                self.build_compare()
            elif view == "partnership":
                self.generation += 1  # a month being drawn ahead is for the view left: drop it
                if self.partnership is None and not self.closed:
                    self.partnership = Partnership()
            else:
                self._plot_single()
                self.draw()

    def close(self) -> None:
        """The page went away: stop playing, remove the partnership's files."""
        with self.lock:
            self.closed = True
            self.playing = False
            if self.partnership is not None:
                self.partnership.close()

    def how_sure(self) -> None:
        """Run the paired replications for the month on screen; set :attr:`sure` to the words."""
        lanes, month = list(self.lanes), max(self.month, 1)
        found = how_sure(lanes, month)
        lines = []
        for lane, s in zip(lanes[1:], found, strict=True):
            lines.append(
                f"{when(month).capitalize()}, {lane.label} minus {lanes[0].label}: outcomes "
                f"{points(s['mean'])} percentage points on average over {s['n']} paired runs "
                f"(95% interval {points(s['low'])} to {points(s['high'])})."
            )
        self.sure = " ".join(lines)


def release_memory() -> None:
    """Collect a closed page's objects and hand the freed memory back to the system.

    glibc keeps freed memory in its arenas, so without ``malloc_trim`` the server's resident
    size only grows over a day of page loads even when every page's objects are gone.
    """
    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except OSError:  # not glibc
            pass


# --------------------------------------------------------------------------- HTML pieces


def legend_html() -> str:
    """The one legend of the network pictures."""
    swatch = "<span class='ci-sw' style='background:{c};{extra}'></span>"
    return (
        "<div class='ci-legend'>"
        "<b>Network:</b> dot colour = the backbone a partner follows "
        f"({swatch.format(c=NEUTRAL_GREY, extra='border-radius:50%')}grey: none) · dot size = engagement · "
        f"{swatch.format(c='#777', extra='')}numbered square = backbone (faded: nobody follows it) · "
        f"{swatch.format(c=animation.CONVENER_COLOUR, extra='transform:rotate(45deg)')}diamond = convener · "
        "soft circle = a camp (10% or more of partners at one backbone's table)</div>"
    )


def numbers_html(lane: Lane, month: int) -> str:
    """The numbers panel: this month next to month 0, every number with its unit."""
    rows = "".join(
        f"<tr><th scope='row'>{html.escape(metric_label(m))} <span class='ci-unit'>{html.escape(number_unit(m))}"
        f"</span></th><td><b>{format_metric(m, lane.value(m, month), short=True)}</b></td>"
        f"<td>{format_metric(m, lane.value(m, 0), short=True)}</td></tr>"
        for m in number_rows(lane.series)
    )
    return (
        "<table class='ci-numbers' aria-label='Numbers this month and at the start'>"
        f"<tr><th></th><th scope='col'>month {month}</th><th scope='col'>start</th></tr>{rows}</table>"
    )


def status_text(month: int, horizon: int) -> str:
    """The status line: "Month 14 of 120 · after 1 year 2 months", or "Ten years done" at the end."""
    years = horizon / 12
    if month >= horizon:
        span = f"{years:g} years" if horizon % 12 == 0 else f"{horizon} months"
        words = {"10 years": "Ten years"}.get(span, span.capitalize())
        return f"{words} done: month {month} of {horizon}"
    return f"Month {month} of {horizon} · {when(month)}"


def network_img(data: bytes, size: tuple[int, int], alt: str) -> str:
    w, h = size
    return f"<img class='ci-net' src='{data_url(data)}' width='{w}' height='{h}' alt='{html.escape(alt)}'>"


def network_alt(lane: Lane, month: int) -> str:
    s = lane.series.iloc[month]
    return (
        f"Partner network of {lane.label} at month {month}: {plural(int(s['active_backbones']), 'active backbone')}, "
        f"{plural(int(s['active_conveners']), 'convener')}, {plural(int(s['factions']), 'camp')}"
    )


def plural(n: int, thing: str) -> str:
    return f"{n} {thing}{'' if n == 1 else 's'}"


CSS = """
.ci-root { --ink: #1b1b1b; --muted: #3d3d3d; --line: #cfcfcf; --note: #7a3e00; font-size: 15px; color: var(--ink); }
.theme--dark .ci-root { --ink: #f2f2f2; --muted: #d6d6d6; --line: #5a5a5a; --note: #ffc27a; }
.ci-root h1 { font-size: 22px; line-height: 1.2; margin: 0; font-weight: 700; }
.ci-root .ci-bar { display: flex; align-items: center; gap: 12px; flex-wrap: nowrap; min-height: 44px; }
.ci-root .ci-bar .v-input { margin-top: 0; padding-top: 0; }
.ci-root .ci-status { font-size: 17px; font-weight: 600; white-space: nowrap; }
.ci-root .ci-done { color: var(--ink); background: rgba(0,158,115,0.25); padding: 2px 8px; border-radius: 4px; }
.ci-root .ci-side { width: 260px; min-width: 260px; max-height: calc(100vh - 110px); overflow-y: auto;
  padding-right: 6px; }
.ci-root .ci-meaning { font-size: 14px; color: var(--muted); margin: -18px 0 6px 0; line-height: 1.25; }
.ci-root .ci-note { color: var(--note); font-size: 14px; }
.ci-root .ci-about { color: var(--muted); font-size: 14px; margin: 2px 0 6px 0; }
.ci-root .ci-plot { position: relative; flex: none; }
.ci-root .ci-plot img, .ci-root img.ci-net { display: block; background: #fff; }
.ci-root .ci-cover { position: absolute; background: #fff; border-left: 2px solid #333; }
.ci-root .ci-numbers { border-collapse: collapse; font-size: 15px; width: 100%; }
.ci-root .ci-numbers th, .ci-root .ci-numbers td { padding: 1px 6px; border-bottom: 1px solid var(--line);
  text-align: left; font-weight: normal; line-height: 1.3; }
.ci-root .ci-numbers td { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.ci-root .ci-unit { font-size: 14px; color: var(--muted); }
.ci-root .ci-legend { font-size: 14px; color: var(--muted); line-height: 1.3; margin-top: 4px; }
.ci-root .ci-sw { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 2px; vertical-align: -1px; }
.ci-root .ci-gap { font-size: 17px; font-weight: 600; margin: 2px 0; }
.ci-root .ci-lane h2 { font-size: 17px; margin: 0 0 2px 0; }
.ci-root .ci-lane-numbers { font-size: 15px; }
.ci-root h2.ci-side-head { font-size: 16px; margin: 6px 0 2px 0; }
.ci-root .ci-head { margin-bottom: 2px; }
.ci-root .v-label { color: var(--ink) !important; opacity: 1 !important; }
.ci-root .v-input--is-disabled .v-label, .ci-root .v-btn--disabled { opacity: 1 !important; }
.ci-root .ci-wide-side { width: 320px; min-width: 320px; }
.ci-root .ci-wide-side .v-file-input .v-chip { height: auto; min-height: 24px; white-space: normal;
  overflow-wrap: anywhere; }
.ci-root .ci-ranking { border-collapse: collapse; font-size: 15px; margin: 4px 0; }
.ci-root .ci-ranking th, .ci-root .ci-ranking td { padding: 2px 8px; border-bottom: 1px solid var(--line);
  text-align: left; vertical-align: top; }
.ci-root .ci-ranking th { font-weight: 600; }
.ci-root .ci-problems h2, .ci-root .ci-checked h2 { font-size: 17px; margin: 4px 0; }
.ci-root .ci-problems { color: var(--ink); border-left: 4px solid var(--note); padding-left: 10px; }
.ci-root .ci-ok { color: var(--ink); background: rgba(0,158,115,0.25); padding: 1px 6px; border-radius: 4px; }
.ci-root .ci-summary { font-size: 14px; color: var(--muted); margin: 2px 0; }
.ci-root .ci-lead { font-size: 17px; margin: 2px 0 6px 0; }
.ci-root .ci-advice-status { font-size: 17px; font-weight: 600; margin: 4px 0; }
"""


# --------------------------------------------------------------------------- components


@solara.component
def ControlInput(control, value, on_value):
    """One control: its value in the label, and its meaning underneath."""
    label = f"{control.label}: {control_text(control, value)}"
    if control.kind in ("int", "float"):
        cast = int if control.kind == "int" else float
        ReleaseSlider(label, cast(value), control.low, control.high, control.step, lambda v: on_value(cast(v)))
    elif control.kind == "bool":
        solara.Checkbox(label=label, value=bool(value), on_value=on_value)
    else:
        words = {coordination_words(c): c for c in COORDINATION_LEVELS}
        solara.Select(
            control.label,
            values=list(words),
            value=coordination_words(str(value)),
            on_value=lambda w: on_value(words[w]),
        )
    if control.kind != "choice":
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(control.meaning), classes=["ci-meaning"])


@solara.component
def ReleaseSlider(label: str, value: float, low: float, high: float, step: float, on_change):
    """A slider that reports its value when let go.

    Solara's sliders report every value on the way, and each change here starts a new run.
    """
    slider = rv.Slider(
        v_model=value, label=label, min=low, max=high, step=step, thumb_label=False, hide_details=True, dense=False
    )

    def listen():
        widget = solara.get_widget(slider)

        def changed(_widget, _event, data):
            on_change(data)

        widget.on_event("change", changed)
        return lambda: widget.on_event("change", changed, remove=True)

    solara.use_effect(listen, [on_change])
    return slider


@solara.component
def PlotView(plot: Plot, month: int, alt: str):
    """A whole-run plot with the months after ``month`` covered; a month moves only the cover."""
    w, h = plot.size
    img = solara.use_memo(
        lambda: f"<img src='{data_url(plot.png)}' width='{w}' height='{h}' alt='{html.escape(alt)}'>", [plot, alt]
    )
    x = plot.x_fraction(month + 0.5) * 100
    shown = month < plot.months[1]
    cover = (
        f"left:{x:.2f}%;width:{100 * plot.right - x + 1.5:.2f}%;top:{100 * plot.top - 2:.2f}%;"
        f"height:{100 * (plot.bottom - plot.top) + 2.5:.2f}%;display:{'block' if shown else 'none'}"
    )
    with solara.Div(classes=["ci-plot"], style={"width": f"{w}px", "height": f"{h}px"}):
        solara.HTML(tag="div", unsafe_innerHTML=img)
        solara.HTML(
            tag="div", unsafe_innerHTML="", classes=["ci-cover"], style=cover, attributes={"aria-hidden": "true"}
        )


@solara.component
def Page():
    """The dashboard page; every browser page gets its own :class:`Session`."""
    solara.Title(TITLE)
    session = solara.use_memo(lambda: Session(base_scenario_name()), [])
    version = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    busy = solara.use_reactive(False)

    def refresh() -> None:
        version.set(next(session.counter))

    def close() -> None:  # the page went away: stop playing, remove its files, let the session go
        session.close()
        threading.Timer(2.0, release_memory).start()

    def on_close() -> Any:
        # also when the server culls a page that lost its connection (its kernel closes)
        kernel_context.get_current_context().on_close(session.close)
        return close

    solara.use_effect(on_close, [])

    def play_loop(context) -> None:
        with context:  # a plain thread: show its months in this page's kernel
            while session.playing and not session.closed and session.month < session.horizon:
                start = time.monotonic()
                session.go(session.month + 1)
                refresh()
                time.sleep(max(0.0, 1.0 / session.pace - (time.monotonic() - start)))
            session.playing = False
            if not session.closed:
                playing.set(False)
                refresh()

    def toggle_play() -> None:
        if session.playing:
            session.playing = False
            playing.set(False)
        else:
            if session.month >= session.horizon:
                session.go(0)
            session.playing = True
            playing.set(True)
            # a thread of our own, not solara.lab.use_task: a task's store outlives the page
            # (it kept every closed page's session alive)
            context = kernel_context.get_current_context()
            threading.Thread(target=play_loop, args=(context,), name="ci-sim-play", daemon=True).start()
        refresh()

    def act(fn, *args, **kwargs):
        """A handler: stop playing, do ``fn``, show the result."""

        def run(*more):
            session.playing = False
            playing.set(False)
            try:
                fn(*args, *more, **kwargs)
            except Exception as exc:  # say it on the page rather than lose it in the server's log
                logging.getLogger(__name__).exception("dashboard action failed")
                session.error = f"That did not work: {exc}"
            refresh()

        return run

    def sure() -> None:
        """Run the paired replications in a thread, so the page says it is running them."""

        def run(context) -> None:
            with context:
                try:
                    session.how_sure()
                except Exception as exc:  # say it on the page rather than lose it in the server's log
                    logging.getLogger(__name__).exception("how sure? failed")
                    session.sure = f"That did not work: {exc}"
                if not session.closed:
                    busy.set(False)
                    refresh()

        busy.set(True)
        threading.Thread(target=run, args=(kernel_context.get_current_context(),), daemon=True).start()

    month, horizon = session.month, session.horizon
    done = month >= horizon
    with solara.Column(classes=["ci-root"], style={"padding": "2px 12px", "gap": "2px"}):
        solara.Style(CSS)
        with solara.Row(classes=["ci-bar"], style={"gap": "14px"}):
            solara.HTML(tag="h1", unsafe_innerHTML=html.escape(HEADING))
            view = {v: k for k, v in VIEWS.items()}[session.view]
            solara.ToggleButtonsSingle(
                value=view, values=list(VIEWS), on_value=act(lambda v: session.set_view(VIEWS[v]))
            )
        if session.view == "partnership" and session.partnership is not None:
            PartnershipView(session.partnership, refresh, version.value)
            return
        with solara.Row(classes=["ci-bar"]):
            solara.Button(
                "❚❚ Pause" if playing.value else "▶ Play",
                on_click=toggle_play,
                color="primary",
                attributes={"aria-label": "Pause" if playing.value else "Play"},
            )
            solara.Button("Step +1 month", on_click=act(lambda: session.go(session.month + 1)), disabled=done)
            solara.Select(
                "Pace",
                values=[f"{p} months a second" for p in PACES],
                value=f"{session.pace} months a second",
                on_value=lambda v: setattr(session, "pace", int(v.split()[0])),
                style={"max-width": "180px"},
            )
            solara.Select(
                "Jump to",
                values=JUMPS[: horizon // 12 + 1],
                value=None,
                on_value=act(lambda v: session.go(12 * JUMPS.index(v))),
                style={"max-width": "120px"},
            )
            status = html.escape(status_text(month, horizon))
            solara.HTML(
                tag="div",
                unsafe_innerHTML=f"<span class='{'ci-done' if done else ''}'>{status}</span>",
                classes=["ci-status"],
                attributes={"role": "status", "aria-live": "polite"},
            )
        with solara.Row(style={"gap": "14px", "align-items": "flex-start", "flex-wrap": "nowrap"}):
            with solara.Column(classes=["ci-side"], style={"gap": "0"}):
                if session.view == "one":
                    SingleControls(session, act, version.value)
                else:
                    CompareControls(session, act, sure, busy, version.value)
            if session.view == "one":
                SingleMain(session, version.value)
            else:
                CompareMain(session, version.value)


JUMPS = ["start"] + [f"year {y}" for y in range(1, 101)]


@solara.component
def SingleControls(session: Session, act, version: int):
    lane = session.single
    labels = {choice_label(n): n for n in session.choices}
    solara.Select(
        "Starting point (a whole scenario)",
        values=list(labels),
        value=choice_label(session.base),
        on_value=act(lambda label: session.restart(base=labels[label])),
    )
    solara.HTML(
        tag="div", unsafe_innerHTML=html.escape(plain_description(lane.scenario.description)), classes=["ci-about"]
    )
    for note in lane.notes:
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(note), classes=["ci-note"])
    if session.error:
        solara.HTML(
            tag="div", unsafe_innerHTML=html.escape(session.error), classes=["ci-note"], attributes={"role": "alert"}
        )
    solara.HTML(tag="h2", unsafe_innerHTML="Settings (a change starts again)", classes=["ci-side-head"])
    listed = lane.scenario.community.organizations
    for control in CONTROLS:
        if control.key == "partners" and listed is not None:  # a roster's organizations: no count to move
            solara.HTML(
                tag="div",
                unsafe_innerHTML=html.escape(f"Partners: the {len(listed)} organizations the scenario lists by name"),
                classes=["ci-meaning"],
            )
            continue
        ControlInput(control, session.values[control.key], act(lambda v, k=control.key: session.restart(**{k: v})))
    solara.InputText(
        "Seed: the same seed gives the same run",
        value=str(session.seed),
        on_value=act(lambda v: session.restart(seed=int(v)) if str(v).strip().isdigit() else None),
    )
    solara.HTML(tag="h2", unsafe_innerHTML=f"Interventions now (month {session.month})", classes=["ci-side-head"])
    for spec in INTERVENTIONS:
        solara.Button(
            spec.label,
            on_click=act(session.intervene, spec.key),
            disabled=session.month >= lane.horizon,
            outlined=True,
            style={"margin": "2px 0"},
        )
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(spec.meaning), classes=["ci-about"])
    if session.message:
        solara.HTML(
            tag="div", unsafe_innerHTML=html.escape(session.message), classes=["ci-note"], attributes={"role": "status"}
        )


@solara.component
def CompareControls(session: Session, act, sure, busy, version: int):
    solara.HTML(tag="h2", unsafe_innerHTML="Strategies (same seed)", classes=["ci-side-head"])
    for slot in range(3):
        names = session.choices + [n for n in [session.compare[slot]] if n not in session.choices]
        labels = {choice_label(n): n for n in names}
        if slot == 2:
            labels[NONE] = NONE
        solara.Select(
            f"Strategy {slot + 1}",
            values=list(labels),
            value=choice_label(session.compare[slot]) if session.compare[slot] != NONE else NONE,
            on_value=act(lambda label, s=slot, labels=labels: session.set_compare(s, labels[label])),
        )
    solara.InputText(
        "Or a scenario file for strategy 3 (path)",
        value="",
        on_value=act(lambda path: session.set_compare(2, path.strip()) if path.strip() else None),
    )
    if session.error:
        solara.HTML(
            tag="div", unsafe_innerHTML=html.escape(session.error), classes=["ci-note"], attributes={"role": "alert"}
        )
    solara.HTML(tag="h2", unsafe_innerHTML="How sure?", classes=["ci-side-head"])
    solara.Button(
        "How sure? (20 paired runs)", on_click=sure, disabled=busy.value or len(session.lanes) < 2, outlined=True
    )
    text = "Running 20 paired runs…" if busy.value else session.sure
    solara.HTML(
        tag="div",
        unsafe_innerHTML=html.escape(text or "The same 20 seeds for every strategy, at the month on screen."),
        classes=["ci-about", "ci-sure"],
        attributes={"role": "status", "aria-live": "polite"},
    )


@solara.component
def SingleMain(session: Session, version: int):
    lane, month = session.single, session.month
    s = lane.series.iloc[month]
    head = (
        f"<div class='ci-head'><b>{plural(int(s['active_backbones']), 'active backbone')}</b> · "
        f"{plural(int(s['active_conveners']), 'convener')} · {lane.scenario.community.partners} partners · "
        f"seed {lane.seed}</div>"
    )
    size = lane.network_size(NETWORK_HEIGHT, NETWORK_MAX_WIDTH)
    with solara.Column(style={"gap": "4px"}):
        with solara.Row(style={"gap": "14px", "flex-wrap": "nowrap"}):
            solara.HTML(
                tag="div", unsafe_innerHTML=network_img(session.pictures["one"], size, network_alt(lane, month))
            )
            solara.HTML(
                tag="div",
                unsafe_innerHTML=head + numbers_html(lane, month) + legend_html(),
                style="flex: 1; min-width: 300px; max-width: 620px",
            )
        with solara.Row(style={"gap": "14px", "flex-wrap": "nowrap"}):
            PlotView(session.plots["outcomes"], month, "Outcomes: change since month 0, in percentage points")
            PlotView(session.plots["trends"], month, "Alignment, trust and engagement, 0 to 1")
        PlotView(
            session.plots["time"], month, "Partner time: share of hours on program, meetings, reporting, fundraising"
        )


@solara.component
def CompareMain(session: Session, version: int):
    lanes, month = session.lanes, session.month
    with solara.Column(style={"gap": "4px"}):
        with solara.Row(style={"gap": "12px", "flex-wrap": "nowrap"}):
            for n, lane in enumerate(lanes):
                size = lane.network_size(*COMPARE_NETWORK[len(lanes)])
                colour, _ = STRATEGY_STYLES[n % len(STRATEGY_STYLES)]
                s = lane.series.iloc[month]
                numbers = (
                    f"<div class='ci-lane-numbers'>outcomes <b>{points(s['outcome_improvement'])}</b> percentage points"
                    f" · alignment <b>{s['alignment']:.2f}</b> (0–1) · {plural(int(s['factions']), 'camp')}"
                    f" · {plural(int(s['active_backbones']), 'backbone')}</div>"
                )
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=(
                        f"<h2><span class='ci-sw' style='background:{colour}'></span>{html.escape(lane.label)}</h2>"
                        + network_img(session.pictures[str(n)], size, network_alt(lane, month))
                        + numbers
                    ),
                    classes=["ci-lane"],
                    style=f"width: {max(size[0], 260)}px",
                )
        solara.HTML(tag="div", unsafe_innerHTML=legend_html())
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(gap_sentence(lanes, month)) + ".", classes=["ci-gap"])
        with solara.Row(style={"gap": "14px", "flex-wrap": "nowrap"}):
            PlotView(
                session.plots["outcomes"],
                month,
                "Outcomes of each strategy: change since month 0, in percentage points",
            )
            PlotView(session.plots["trends"], month, "Alignment of each strategy, 0 to 1")


@solara.component
def RosterUpload(on_files, on_refused, disabled: bool):
    """A file chooser for the roster's files (several at once; dropping them on it works too).

    Solara's ``FileDrop`` takes dropped files only; leaders also need a button that opens the
    file dialog, so this wires ipyvuetify's ``FileInput`` (a vuetify file input) as Solara wires
    its own drop zone: the browser sends the bytes when asked, in a thread of the page.
    """
    info, set_info = solara.use_state(None)
    wired, set_wired = solara.use_state(None)
    chooser = RosterInput.element(
        multiple=True, accept=".csv,.xlsx", on_file_info=set_info, disabled=disabled, show_progress=True
    )

    def wire() -> None:
        if not info:
            return
        widget = solara.get_widget(chooser)
        widget.version += 1  # as solara.FileDrop: a new version for every choice
        widget.reset_stats()
        set_wired(widget.get_files())

    solara.use_effect(wire, [info])

    def read(cancel) -> None:
        if not wired:
            return
        for f in wired:  # before any byte is sent: a file too big is refused unread
            problem = size_problem(f["name"], f["size"])
            if problem:
                on_refused(problem)
                return
        on_files([(f["name"], f["file_obj"].read()) for f in wired])

    result = solara.use_thread(read, [wired])
    if result.error:
        logging.getLogger(__name__).error("roster upload failed: %s", result.error)
    return chooser


class RosterInput(FileInput):
    """ipyvuetify's file input with a label (it has none), so the page says what to choose."""

    template = traitlets.Unicode(
        FileInput.class_traits()["template"].default_value.replace(
            "<v-file-input",
            # the whole file name in each chip (vuetify cuts it at 22 characters: "lakeside_c…ations.csv")
            '<v-file-input label="Roster files (.csv or .xlsx)" prepend-icon="mdi-paperclip" :truncate-length="1000"',
            1,
        )
    ).tag(sync=True)


RUN_WORDS = {4: "4 (a quick look)", 10: "10", 20: "20 (as ci-sim advise)", 40: "40 (surest, slowest)"}
DOWNLOADS = [  # file, label, MIME type
    ("brief_a4.pdf", "Brief, A4 (PDF)", "application/pdf"),
    ("brief_letter.pdf", "Brief, Letter (PDF)", "application/pdf"),
    ("brief.html", "Brief (web page)", "text/html"),
    (OUTPUT_ZIP, "Everything: brief, ranking, strategy scenario files (zip)", "application/zip"),
]


@solara.component
def PartnershipView(partnership: Partnership, refresh, version: int):
    """Upload a roster, see its problems, run the advice, read the ranking and download the brief."""
    runs = solara.use_reactive(DEFAULT_RUNS)
    anonymized = solara.use_reactive(False)
    p = partnership

    def changed_in(context):
        def changed() -> None:
            with context:  # called from the upload's or the run's thread: redraw this page
                if not p.closed:
                    refresh()

        return changed

    def got_files(files) -> None:
        p.upload(files)
        changed_in(kernel_context.get_current_context())()

    def refused(problem) -> None:
        p.refuse(problem)
        changed_in(kernel_context.get_current_context())()

    def start() -> None:
        changed = changed_in(kernel_context.get_current_context())
        thread = p.start(runs.value, anonymized.value, on_change=changed)
        if thread is None:
            return

        def tick() -> None:  # the seconds on the busy line
            while thread.is_alive() and not p.closed:
                time.sleep(1.0)
                changed()

        threading.Thread(target=tick, name="ci-sim-advice-clock", daemon=True).start()
        refresh()

    with solara.Row(style={"gap": "18px", "align-items": "flex-start", "flex-wrap": "nowrap"}):
        with solara.Column(classes=["ci-side", "ci-wide-side"], style={"gap": "0"}):
            solara.HTML(tag="h2", unsafe_innerHTML="Your roster", classes=["ci-side-head"])
            solara.HTML(
                tag="div",
                unsafe_innerHTML=(
                    "Choose your roster: one Excel workbook (.xlsx), or the .csv file together with its "
                    "_outcomes.csv and _collaborations.csv. The files stay on this computer and are deleted when "
                    "you close the page. To start one, fill in the example below (in a terminal, "
                    "<code>ci-sim roster template</code> writes it too)."
                ),
                classes=["ci-about"],
            )
            TemplateDownload()
            RosterUpload(got_files, refused, p.running)
            solara.HTML(tag="h2", unsafe_innerHTML="The advice", classes=["ci-side-head"])
            solara.Select(
                "Paired runs per strategy",
                values=[RUN_WORDS[n] for n in RUN_CHOICES],
                value=RUN_WORDS[runs.value],
                on_value=lambda w: runs.set(next(n for n, t in RUN_WORDS.items() if t == w)),
                disabled=p.running,
            )
            solara.HTML(
                tag="div",
                unsafe_innerHTML=(
                    "Fewer runs are faster but less sure: more strategies come out too close to call. "
                    "On a two-core computer 20 runs take about half a minute, 4 about ten seconds."
                ),
                classes=["ci-about"],
            )
            solara.Checkbox(
                label="Anonymize: Organization A, B… instead of names in the brief and files",
                value=anonymized,
                disabled=p.running,
            )
            solara.Button(
                "Run the advice",
                on_click=start,
                disabled=p.roster is None or p.running,
                color="primary",
                style={"margin": "6px 0"},
            )
            if p.ranking is not None and not p.running:
                solara.HTML(tag="div", unsafe_innerHTML=f"Done in {p.seconds:.0f} s.", classes=["ci-about"])
        with solara.Column(style={"gap": "4px", "max-width": "900px"}):
            if p.running:  # on top of the results, where the leader looks after clicking
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=html.escape(
                        f"Running the advice: {runs.value} paired runs of each strategy, then the brief… "
                        f"{time.monotonic() - p.started:.0f} s"
                    ),
                    classes=["ci-advice-status"],
                    attributes={"role": "status", "aria-live": "polite"},
                )
                solara.ProgressLinear(True)
            PartnershipMain(p, version)


@solara.component
def PartnershipMain(p: Partnership, version: int):
    if p.error:
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(p.error), classes=["ci-note"], attributes={"role": "alert"})
    if p.ranking is not None:
        rows = ranking_rows(p.ranking)
        head = "".join(f"<th scope='col'>{html.escape(k)}</th>" for k in rows[0])
        body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r.values()) + "</tr>" for r in rows)
        quick = quick_look_note(p.replications)
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                "<h2>The advice</h2>"
                + (f"<p class='ci-note ci-quick' role='note'>{html.escape(quick)}</p>" if quick else "")
                + f"<div class='ci-lead'>{p.lead}</div>"
                f"<table class='ci-ranking' aria-label='Ranking of the strategies'><tr>{head}</tr>{body}</table>"
                "<p class='ci-about'>Mean over the paired runs with its 95% range; against the recommended strategy, "
                "the paired difference and its 95% range: too close to call when that range includes zero. "
                "This is not a forecast: it weighs strategies in a simulated partnership built from the roster.</p>"
            ),
        )
        with solara.Row(style={"gap": "8px", "flex-wrap": "wrap"}):
            for name, label, mime in DOWNLOADS:
                Download(p, name, label, mime)
    if p.problems:
        solara.HTML(
            tag="div",
            unsafe_innerHTML="<h2>Your roster has a problem</h2>" + problems_html(p.problems),
            classes=["ci-problems"],
            attributes={"role": "alert"},
        )
    elif p.roster is not None:
        head, *lines = p.summary
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                f"<h2><span class='ci-ok'>✓ Roster OK</span> {html.escape(p.roster_name)}: {html.escape(head)}</h2>"
                "<ul class='ci-summary'>" + "".join(f"<li>{html.escape(x)}</li>" for x in lines) + "</ul>"
            ),
            classes=["ci-checked"],
            attributes={"role": "status"},
        )
    else:
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                "<h2>Which strategy suits your partnership?</h2><p>Describe your partnership in a roster (one row per "
                "organization: docs/roster.md), choose its files on the left, and run the advice: the strategies open "
                "to it are simulated side by side, ranked, and written up in a one-page brief for your board. The "
                f"model's parameters are drawn from the calibrated posterior {POSTERIOR}, as ci-sim advise does.</p>"
            ),
            classes=["ci-about"],
        )


@solara.component
def Download(p: Partnership, name: str, label: str, mime: str):
    """A download button for one result file; its bytes are read only when it is clicked."""
    out = str(p.out)
    data = solara.use_memo(lambda: functools.partial(p.download, name), [out, name])  # stable, or a click is lost
    solara.FileDownload(data, filename=name, label=label, mime_type=mime)


PROBLEM_COLUMNS = {  # heading -> Problem field; Row, Organization and Column only when some problem has one
    "File": "file",
    "Row": "row",
    "Organization": "organization",
    "Column": "column",
    "Value": "value",
    "What is allowed": "allowed",
}
OPTIONAL_PROBLEM_COLUMNS = ("Row", "Organization", "Column")


@solara.component
def TemplateDownload():
    """The example roster as an .xlsx workbook to fill in (a leader may have no terminal for the template command)."""
    try:
        data = template_bytes()
    except ScenarioError:  # no openpyxl on this server: the CSV example is a terminal away
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                "The example workbook needs openpyxl on this computer (<code>pip install 'ci-sim[leaders]'</code>); "
                "<code>ci-sim roster template --out roster.csv</code> writes it as CSV."
            ),
            classes=["ci-note"],
        )
        return
    solara.FileDownload(
        data,
        filename=TEMPLATE_NAME,
        label="Example roster (.xlsx)",
        mime_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def problems_html(problems) -> str:
    """The upload's problems as a table: file, row, organization, column, value, what is allowed.

    A column blank in every problem is left out (a refused .txt file has no row), and so is the
    note on row numbers when no problem has a row.
    """
    shown = {
        head: key
        for head, key in PROBLEM_COLUMNS.items()
        if head not in OPTIONAL_PROBLEM_COLUMNS or any(getattr(x, key) for x in problems)
    }
    head = "".join(f"<th scope='col'>{h}</th>" for h in shown)
    cells = "".join(
        "<tr>" + "".join(f"<td>{html.escape(getattr(x, key))}</td>" for key in shown.values()) + "</tr>"
        for x in problems
    )
    note = (
        "<p class='ci-about'>Rows are numbered as in your file (as a spreadsheet or text editor shows them); a row's "
        "first problem is shown. Fix them and choose the files again.</p>"
        if "Row" in shown
        else ""
    )
    return f"<table class='ci-ranking' aria-label='Problems in the roster'><tr>{head}</tr>{cells}</table>{note}"


# a server started by `ci-sim dashboard` stops when that command dies, even by SIGKILL
watch_parent()
