"""The ``ci-sim`` command line.

Exit status: 0 done; 2 bad input (the message names the file, the key path, the bad value
and what is allowed, and nothing is written); 3 a sweep finished but some of its runs raised
(each is recorded with its traceback), or a sensitivity analysis was asked of a sweep folder
that does not hold every run (finish it with --resume); 130 interrupted (Ctrl-C); 1 a bug.
"""

from __future__ import annotations

import math
import shlex
import sys
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import click
import pandas as pd
from tqdm import tqdm

from ci_sim import __version__
from ci_sim.model import MODEL_VERSION
from ci_sim.model.columns import KEY_METRICS
from ci_sim.model.scenario import (
    FORMAT_VERSION,
    ScenarioError,
    load_scenario,
    scenario_format,
    shipped_scenario_dir,
    validate_scenario,
)
from ci_sim.runs.results import (
    check_new_dir,
    check_out_dir,
    default_out_dir,
    manifest,
    staged_dir,
    write_csv,
    write_json,
    write_parquet,
)


class _Cli(click.Group):
    """A group that turns bad input anywhere below it into one clear line and exit 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ScenarioError as exc:
            for problem in getattr(exc, "problems", [exc]):  # a roster: every bad row, one line each
                click.echo(f"error: {problem}", err=True)
            ctx.exit(2)
        except click.UsageError as exc:
            # an option or argument Click itself refused (a folder that is a file, a number out of
            # range, a missing argument): one line like every other bad input, not a usage block
            command = f"ci-sim {exc.ctx.info_name} --help" if exc.ctx and exc.ctx is not ctx else "ci-sim --help"
            click.echo(f"error: {exc.format_message()} (see `{command}`)", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            # Click would print "Aborted!" and exit 1, the status of a bug; 130 is the shell's
            # convention for "stopped by Ctrl-C" (128 + SIGINT)
            click.echo("\ninterrupted (Ctrl-C); nothing more was written", err=True)
            ctx.exit(EXIT_INTERRUPTED)


class _FiniteFloat(click.FloatRange):
    """A float option that must be finite.

    Click's FloatRange lets ``inf`` pass and, since every comparison with NaN is false, ``nan`` too.
    """

    def convert(self, value, param, ctx):
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):  # before the range: "-inf is below 0.1" would miss the point
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return super().convert(number, param, ctx)


#: exit status after Ctrl-C (128 + SIGINT, as shells report it)
EXIT_INTERRUPTED = 130

#: ``--posterior``: run, compare and sweep draw each replication's parameters from a posterior
_posterior_option = click.option(
    "--posterior",
    metavar="NAME|FILE",
    help="Draw each replication's calibrated parameters from a posterior (shipped name, e.g. strive, or a "
    "posterior.parquet of `ci-sim calibrate`); replication i uses the same draw and seed in every scenario.",
)


def _load_posterior(spec):
    """The posterior of ``--posterior`` (None without it)."""
    if not spec:
        return None
    from ci_sim.runs.posterior import load_posterior

    return load_posterior(spec)


#: ``--allow-dropped-events``: the commands that take --steps share it
_allow_dropped = click.option(
    "--allow-dropped-events",
    is_flag=True,
    help="Run even if some events fall at or after the horizon (--steps): they are dropped, said so, and "
    "listed in the manifest. Without it such a horizon is refused.",
)


def _note_dropped(label: str, sc) -> None:
    """Say which events a shortened horizon drops (the user allowed it; it must not pass unseen)."""
    from ci_sim.model.scenario import describe_events

    if sc.dropped_events:
        shown = describe_events(list(enumerate(sc.dropped_events)))
        click.echo(
            f"note: {label}: {len(sc.dropped_events)} event(s) at or after month {sc.steps} dropped "
            f"(--allow-dropped-events): {shown.replace('events.', 'dropped event ')}",
            err=True,
        )


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    version=__version__,  # this checkout's, also when run from a source tree (installed metadata may be older)
    prog_name="ci-sim",
    message=f"%(prog)s %(version)s (model {MODEL_VERSION}, docs/ODD.md; scenario format {FORMAT_VERSION})",
)
def main() -> None:
    """ci-sim: simulate collective-impact partnerships (backbones, conveners, partners).

    \b
    Example:
      ci-sim scenarios
      ci-sim run scenarios/nine_backbones.yaml --replications 20
    """


def run_replications(
    scenario, replications: int, seed: int, steps: int | None, quiet: bool, label: str, posterior=None
):
    """Run replications 0..R-1 of ``scenario`` (serially), with a progress bar.

    Returns:
        ``(i, result, values)`` per replication; ``values`` are the parameters drawn from
        ``posterior`` for it ({} without one).
    """
    from ci_sim.runs.posterior import replication_scenarios
    from ci_sim.runs.runner import replication_seed, run_scenario  # the compiled step loads only to run

    scenarios = replication_scenarios(scenario, posterior, seed, replications)
    results = []
    for i in tqdm(range(replications), desc=label, unit="run", disable=quiet, file=sys.stderr):
        sc, values = scenarios[i]
        results.append((i, run_scenario(sc, replication_seed(seed, i), steps=steps), values))
    return results


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--replications", "-r", type=click.IntRange(min=1), help="Replications (default: the scenario's).")
@click.option("--steps", "-t", type=click.IntRange(min=1), help="Months to simulate (default: the scenario's).")
@click.option("--seed", "-s", type=click.IntRange(min=0), help="Base seed (default: the scenario's).")
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (default: results/<name>/<UTC time>/).",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a scenario value by dotted key path; repeatable.",
)
@click.option(
    "--agent-period", type=click.IntRange(min=0), help="Also write agents.parquet, sampling partners every N steps."
)
@_allow_dropped
@_posterior_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar, no table.")
def run(scenario, replications, steps, seed, out, overrides, agent_period, allow_dropped_events, posterior, quiet):
    """Run a scenario's replications; write summary.csv, timeseries.parquet, manifest.json.

    SCENARIO is a YAML file, or the name of a shipped scenario (see `ci-sim scenarios`).

    \b
    Example:
      ci-sim run scenarios/nine_backbones.yaml --replications 20
      ci-sim run single_backbone -r 5 --set community.partners=300 --out results/big
      ci-sim run strive_cincinnati -r 20 --posterior strive
    """
    sc = load_scenario(scenario, list(overrides), steps=steps, drop_late_events=allow_dropped_events)
    post = _load_posterior(posterior)
    if post is not None:
        post.check(sc, sc.name)
    steps = sc.steps  # --steps is now the scenario's horizon (checked against its events)
    if agent_period is not None:
        sc = sc.model_copy(update={"output": sc.output.model_copy(update={"agent_period": agent_period})})
    reps = replications or sc.replications
    base_seed = sc.seed if seed is None else seed
    out = out or default_out_dir(sc.name)
    check_new_dir(out)  # before any run, not after them
    started, t0 = datetime.now(UTC), time.perf_counter()
    results = run_replications(sc, reps, base_seed, steps, quiet, sc.name, post)
    summary = pd.DataFrame([{"replication": i, "seed": r.seed, **v, **r.final} for i, r, v in results])
    series = pd.concat([r.timeseries.assign(replication=i, seed=r.seed) for i, r, _ in results], ignore_index=True)
    series = series[["replication", "seed", *[c for c in series.columns if c not in ("replication", "seed")]]]
    agents = [r.agents.assign(replication=i) for i, r, _ in results if not r.agents.empty]
    with staged_dir(out) as tmp:  # the folder appears complete or not at all
        write_csv(summary, tmp / "summary.csv")
        write_parquet(series, tmp / "timeseries.parquet")
        if agents:
            write_parquet(pd.concat(agents, ignore_index=True), tmp / "agents.parquet")
        write_json(
            manifest(
                scenario=sc.model_dump(mode="json"),
                scenario_file=str(scenario),
                scenario_sha256=sc.sha256(),
                base_seed=base_seed,
                replications=reps,
                steps=steps or sc.steps,
                seeds=summary["seed"].tolist(),
                posterior=post.describe() if post is not None else None,
                started=started.isoformat(),
                ended=datetime.now(UTC).isoformat(),
                wall_seconds=round(time.perf_counter() - t0, 3),
            ),
            tmp / "manifest.json",
        )
    _note_dropped(sc.name, sc)
    if post is not None:
        click.echo(
            f"parameters drawn from posterior {post.name} ({len(post.params)} parameters; intervals include them)"
        )
    if not quiet:
        from ci_sim.experiments.compare import NEEDS_TWO, mean_ci, metric_bounds

        click.echo(f"{sc.name}: {reps} replications x {steps} months")
        for metric in KEY_METRICS:
            m, lo, hi = mean_ci(summary[metric], bounds=metric_bounds(metric))
            ci = f"[{lo:.4f}, {hi:.4f}]" if reps >= 2 and pd.notna(lo) else NEEDS_TWO
            click.echo(f"  {metric:<22} {m:10.4f}   95% CI {ci}")
    click.echo(f"results in {out}")


@main.command()
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of scenarios (default: the shipped ones).",
)
def scenarios(folder):
    """List the shipped scenarios with the source claim each illustrates.

    \b
    Example:
      ci-sim scenarios
    """
    if folder is not None and not folder.is_dir():
        what = "is a file" if folder.exists() else "does not exist"
        raise ScenarioError("--dir", "", str(folder), f"an existing folder of scenario files (*.yaml); this {what}")
    folder = folder or shipped_scenario_dir()
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise ScenarioError("--dir", "", str(folder), "a folder holding scenario files (*.yaml); it holds none")
    width = max((len(f.stem) for f in files), default=10)
    for f in files:
        try:
            sc = load_scenario(f)
            click.echo(f"{f.stem:<{width}}  {sc.description}")
        except ScenarioError as exc:
            click.echo(f"{f.stem:<{width}}  (invalid: {exc})")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override before validating; repeatable.")
def validate(files, overrides):
    """Check scenario, experiment and strategies files without running anything.

    Each file is recognised from its keys (strategies: a strategies file; checks: a
    robustness file; factors: an experiment; otherwise a scenario) and checked the way the
    command that reads it would (run or compare, robustness, sweep or sensitivity,
    compare). Every file is checked and each problem gets one line on stderr. Exit status 0
    if all are valid, 2 if any is not.

    \b
    Example:
      ci-sim validate scenarios/*.yaml
      ci-sim validate experiments/*.yaml
    """
    bad = 0
    for f in files:
        try:
            click.echo(f"ok    {f}  ({_validate_one(f, list(overrides))})")
        except ScenarioError as exc:
            click.echo(f"error: {exc}", err=True)
            bad += 1
    if bad:
        click.echo(f"{bad} of {len(files)} file(s) invalid", err=True)
        sys.exit(2)


def _validate_one(path: Path, overrides: list[str]) -> str:
    """Validate one file of any kind; return a one-line description of it."""
    from ci_sim.model.scenario import _load_yaml

    raw = _load_yaml(path) if path.is_file() else None
    if isinstance(raw, dict) and "strategies" in raw:
        from ci_sim.experiments.compare import check_comparable, load_entries

        entries, _ = load_entries([path], overrides)
        check_comparable(entries)
        return f"strategies: {len(entries)} scenario(s)"
    if isinstance(raw, dict) and "priors" in raw:
        from ci_sim.experiments.calibration import load_calibration

        if overrides:
            raise ScenarioError("--set", "", overrides[0], "no --set for a calibration file: edit the file")
        cal = load_calibration(path)
        return f"calibration {cal.spec.name}: {len(cal.spec.priors)} parameter(s), {len(cal.target_keys())} target(s)"
    if isinstance(raw, dict) and "checks" in raw:
        from ci_sim.experiments.robustness import load_robustness

        rob = load_robustness(path, overrides)
        return f"robustness {rob.spec.name}: {len(rob.checks)} checks, {len(rob.points)} point(s), {rob.n_runs} run(s)"
    if isinstance(raw, dict) and "factors" in raw:
        from ci_sim.experiments.experiment import load_experiment

        exp = load_experiment(path, overrides)
        return f"experiment {exp.spec.name}: {exp.spec.design}, {len(exp.points)} point(s), {exp.n_runs} run(s)"
    sc = load_scenario(path, overrides)
    text = f"{sc.name}: {len(sc.issue_areas)} area(s), {sc.community.partners} partners"
    written = scenario_format(raw, str(path)) if isinstance(raw, dict) else FORMAT_VERSION
    if written < FORMAT_VERSION:
        text += f"; format {written}, read as format {FORMAT_VERSION} (`ci-sim upgrade --in-place {path}` writes it)"
    return text


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the upgraded file here (a new file)."
)
@click.option("--in-place", is_flag=True, help="Replace each file by its upgraded text.")
def upgrade(files, out, in_place):
    """Rewrite scenario files of an older format in the current one.

    Without --out or --in-place the upgraded text is printed. The `format` line is set and
    the rest of the file (comments too) is kept whenever the upgrade changes no other key.
    A file already in the current format is left as it is. Every file is checked before
    anything is written.

    \b
    Example:
      ci-sim upgrade my_partnership.yaml --out my_partnership_v2.yaml
      ci-sim upgrade --in-place scenarios/*.yaml
    """
    from ci_sim.model.scenario import _load_yaml, upgrade_scenario_text
    from ci_sim.runs.results import atomic_write

    if out is not None and (in_place or len(files) > 1):
        raise ScenarioError("--out", "", str(out), "one FILE and no --in-place (--in-place rewrites several)")
    if out is not None and out.exists():
        raise ScenarioError("--out", "", str(out), "a new file (files are never overwritten; or use --in-place)")
    if out is not None:
        check_out_dir(out.parent, "--out", may_hold_files=True)
    texts = {}
    for f in files:  # an invalid file (missing, too large, not a scenario, too new) stops all before any write
        validate_scenario(_load_yaml(f), str(f))
        texts[f] = upgrade_scenario_text(f.read_text(encoding="utf-8"), str(f))
    for f, text in texts.items():
        if text is None:
            click.echo(f"{f}: already format {FORMAT_VERSION}; left as it is", err=True)
        elif out is None and not in_place:
            click.echo(text, nl=False)
        else:
            target = out or f
            atomic_write(target, lambda p, text=text: p.write_text(text, encoding="utf-8"))
            click.echo(f"{f}: upgraded to format {FORMAT_VERSION} in {target}", err=True)


@main.command()
@click.argument("results_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out", "-o", type=click.Path(file_okay=False, path_type=Path), help="Figures folder (default: DIR/figures)."
)
def plot(results_dir, out):
    """Draw the figures (PNG and SVG) of a run, compare, decompose, sweep or sensitivity folder.

    The kind of folder is recognised from its files: timeseries.parquet (run), compare.csv
    (compare), decomposition.csv (decompose), experiment.json + runs/ (sweep),
    sensitivity.csv (sensitivity).

    \b
    Example:
      ci-sim run nine_backbones -r 5 --out results/nine
      ci-sim plot results/nine
      ci-sim compare single_backbone nine_backbones -r 5 --out results/cmp
      ci-sim plot results/cmp --out slides/figures
    """
    from ci_sim.viz.plots import PlotError, plot_results  # matplotlib loads only when plotting

    check_out_dir(out or Path(results_dir) / "figures", "--out", may_hold_files=True)  # before drawing anything
    try:
        paths = plot_results(results_dir, out)
    except PlotError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    for path in paths:
        click.echo(f"  {path}")
    click.echo(f"{len(paths)} figure files in {Path(out) if out else Path(results_dir) / 'figures'}")


@main.command()
@click.option(
    "--out", "-o", type=click.Path(file_okay=False, path_type=Path), help="Output folder (default: results/demo/...)."
)
@click.option("--replications", "-r", type=click.IntRange(min=2), default=20, show_default=True, help="Per scenario.")
@click.option("--steps", "-t", type=click.IntRange(min=12), help="Months to simulate (default: the scenarios' 120).")
@click.option("--quiet", "-q", is_flag=True, help="No progress messages.")
def demo(out, replications, steps, quiet):
    """Run the training demo: one backbone vs nine vs one backbone with conveners.

    Writes a side-by-side figure of alignment, trust and outcome improvement with 95% bands,
    an animated GIF of the partner network per scenario, the comparison table and the
    Collective Impact Forum backbone effectiveness indicators as CSV, and a self-contained
    HTML report (report.html) that opens in any browser with no network. About half a
    minute with the defaults.

    \b
    Example:
      ci-sim demo
      ci-sim demo --replications 10 --out results/demo/workshop
      ci-sim demo -r 2 --steps 36 -q          (a quick check)
    """
    from ci_sim.viz.demo import run_demo  # matplotlib loads only when needed

    out = out or default_out_dir("demo")
    check_new_dir(out)  # before any run, not after them
    files = run_demo(out, replications=replications, steps=steps, progress=None if quiet else click.echo)
    click.echo("demo files:")
    width = max(len(name) for name in files)
    for name, path in files.items():
        click.echo(f"  {name:<{width}}  {path}")
    click.echo(f"open the report in a web browser: {files['report'].resolve()}")


@main.command()
@click.argument("scenario", default="single_backbone")
@click.option("--port", "-p", type=click.IntRange(1, 65535), default=8765, show_default=True, help="Port to serve on.")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0: reachable from other machines of the room).",
)
def dashboard(scenario, port, host):
    """Open the live dashboard: one strategy month by month, or two or three side by side.

    SCENARIO (a YAML file or a shipped name, default single_backbone) is the starting
    point; any shipped scenario can be picked on the page, controls change it (backbones,
    neutrality, servant leadership, conveners, partners, coordination, seed), interventions
    apply a scenario event at the month on screen, and the compare view runs strategies
    with the same seed. Open the address it prints in a web browser; no internet connection
    is needed. Ctrl-C stops it.

    \b
    Example:
      ci-sim dashboard
      ci-sim dashboard nine_backbones --port 8766
      ci-sim dashboard scenarios/consolidation.yaml --host 0.0.0.0
    """
    from ci_sim.viz.dashboard_server import port_problem, serve  # Solara starts in the server process

    load_scenario(scenario)  # bad input stops here, before anything starts
    path = Path(scenario)
    base = str(path.resolve()) if path.exists() else scenario
    problem = port_problem(host, port)
    if problem:
        click.echo(f"error: {problem}", err=True)
        sys.exit(2)
    sys.exit(serve(base, host, port, echo=click.echo))


def _paired_run_options(default_out: str):
    """The options ``compare`` and ``decompose`` share: seeds, horizon, overrides, where runs execute and results go."""

    def decorate(fn):
        options = [
            click.option(
                "--seed",
                "-s",
                type=click.IntRange(min=0),
                help="Base seed: replication i uses the same seed in every scenario (default: the first scenario's).",
            ),
            click.option(
                "--steps", "-t", type=click.IntRange(min=1), help="Months to simulate (default: each scenario's)."
            ),
            click.option(
                "--set",
                "overrides",
                multiple=True,
                metavar="KEY=VALUE",
                help="Override a value in every scenario by dotted key path; repeatable.",
            ),
            click.option(
                "--workers", "-w", type=click.IntRange(min=1), help="Local processes (default: all cores; 1: serial)."
            ),
            click.option("--scheduler", metavar="ADDRESS|local", help="Run on Dask: 'local' or tcp://HOST:PORT."),
            click.option(
                "--out",
                "-o",
                type=click.Path(file_okay=False, path_type=Path),
                help=f"Output folder (default: {default_out}).",
            ),
            _allow_dropped,
            click.option("--quiet", "-q", is_flag=True, help="No progress bar."),
        ]
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate


@main.command()
@click.argument("scenarios", nargs=-1, required=True)
@click.option(
    "--replications", "-r", type=click.IntRange(min=2), help="Replications per scenario (default 20, or the file's)."
)
@click.option("--metric", "metrics", multiple=True, help="Metric to compare (repeatable; default: the key metrics).")
@_posterior_option
@_paired_run_options("results/compare/<UTC time>/")
def compare(
    scenarios,
    replications,
    seed,
    steps,
    overrides,
    metrics,
    posterior,
    workers,
    scheduler,
    out,
    allow_dropped_events,
    quiet,
):
    """Compare strategies with common random numbers; print a table and write compare.csv.

    SCENARIOS are scenario files or shipped names, or a strategies file
    (experiments/strategies.yaml). Replication i uses the same seed in every scenario, so
    differences are paired. Per scenario and metric: the mean with a 95% CI; against the first
    scenario, the difference with a bootstrap 95% CI, an effect size (Cohen's d) and one
    plain-language line. Also writes summary.csv, timeseries.parquet and manifest.json.

    The scenarios must share a horizon (else pass --steps); if their communities differ, that
    is stated above the table, in each statement and in the manifest. With one replication
    with a value, intervals read "n/a (needs ≥ 2 replications)".

    \b
    Example:
      ci-sim compare single_backbone nine_backbones backbone_with_conveners -r 20
      ci-sim compare experiments/strategies.yaml --out results/strategies
      ci-sim compare nine_backbones consolidation --set community.partners=300
      ci-sim compare single_backbone nine_backbones --posterior strive
    """
    from ci_sim.experiments.compare import (
        check_comparable,
        check_metrics,
        compare_and_write,
        format_table,
        load_entries,
    )
    from ci_sim.experiments.evaluators import make_evaluator

    entries, spec = load_entries(scenarios, list(overrides), steps=steps, drop_late_events=allow_dropped_events)
    differences = check_comparable(entries)
    reps = replications or (spec.replications if spec else 20)
    base_seed = seed if seed is not None else (spec.seed if spec else entries[0][1].seed)
    metrics = check_metrics(entries, list(metrics) or KEY_METRICS)
    post = _load_posterior(posterior)
    for label, sc in entries if post is not None else ():
        post.check(sc, label)
    out = out or default_out_dir("compare")
    check_new_dir(out)  # before any run, not after them
    evaluator = make_evaluator(workers, scheduler)
    with staged_dir(out) as tmp:  # the folder appears complete or not at all
        table, *_ = compare_and_write(
            tmp, entries, reps, base_seed, steps, evaluator, metrics, differences, progress=not quiet, posterior=post
        )
    for label, sc in entries:
        _note_dropped(label, sc)
    click.echo(format_table(table, metrics, differences, posterior=post.name if post is not None else None))
    click.echo(f"results in {out}")


@main.command()
@click.argument("scenario_a")
@click.argument("scenario_b")
@click.option(
    "--channels",
    metavar="NAME,NAME...",
    help="Mechanism switches to switch off one at a time, comma-separated (default: every switch of a "
    "scenario's mechanisms: section except *_noise ones; the list is read from the model).",
)
@click.option(
    "--metrics",
    "--metric",
    "metrics",
    multiple=True,
    metavar="NAME[,NAME...]",
    help="Metrics to decompose (comma-separated or repeated; default: the key metrics).",
)
@click.option("--month", type=click.IntRange(min=0), help="Month to decompose the gap at (default: the horizon).")
@click.option(
    "--replications",
    "-r",
    type=click.IntRange(min=2),
    default=20,
    show_default=True,
    help="Replications (each with one seed in both scenarios and every variant).",
)
@click.option(
    "--shapley",
    is_flag=True,
    help="Also give Shapley values (interactions shared out): 2^n coalitions of the n channels, each run in both "
    "scenarios for every replication, so many more runs (n <= 6, or use --shapley-permutations).",
)
@click.option(
    "--shapley-permutations",
    type=click.IntRange(min=1),
    metavar="N",
    help="Shapley values from N random orders of the channels (implies --shapley; for more than 6 channels).",
)
@_paired_run_options("results/decompose/<A>_vs_<B>/<UTC time>/")
@_posterior_option
def decompose(
    scenario_a,
    scenario_b,
    channels,
    metrics,
    month,
    replications,
    seed,
    steps,
    overrides,
    shapley,
    shapley_permutations,
    workers,
    scheduler,
    out,
    allow_dropped_events,
    quiet,
    posterior,
):
    """Decompose the gap between two scenarios into the mechanisms that carry it.

    Each channel (a mechanism switch: attention, trust, engagement, agendas, ...) is switched
    off, one at a time, in both scenarios, with the same seeds (replication i has one seed in
    both scenarios and every variant). A channel's share of the gap A - B in a metric is
    (gap - gap without it) / gap; the remainder, 1 - the sum of the shares, is split into the
    gap left with every channel off and the interactions. 95% CIs from a paired bootstrap over
    replications; a gap whose own CI includes 0 gets no shares ("n/a").

    Writes decomposition.csv, runs.csv (every run's seed and metrics at the month),
    figures/decomposition.png and .svg, and manifest.json. Runs: 2 x replications x
    (channels + 2); --shapley needs 2 x replications x 2^channels.

    \b
    Example:
      ci-sim decompose single_backbone nine_backbones -r 10
      ci-sim decompose single_backbone nine_backbones --channels attention,agendas --month 60
      ci-sim decompose single_backbone nine_backbones --channels trust,agendas,engagement --shapley
      ci-sim decompose single_backbone nine_backbones --posterior strive
    """
    from ci_sim.experiments.compare import check_comparable, check_metrics, load_entries
    from ci_sim.experiments.decompose import (
        check_month,
        decomposition_table,
        format_decomposition,
        parse_channels,
        resolve_channels,
        run_variants,
        shapley_coalitions,
        variants_needed,
        write_decomposition,
    )
    from ci_sim.experiments.evaluators import make_evaluator
    from ci_sim.runs.seeds import replication_seed

    requested = parse_channels(channels)
    entries, _ = load_entries(
        [scenario_a, scenario_b], list(overrides), steps=steps, drop_late_events=allow_dropped_events
    )
    if len(entries) != 2:  # a strategies file holds several scenarios
        raise ScenarioError(
            "decompose", "", [label for label, _ in entries], "two scenarios (files or shipped names), A and B"
        )
    differences = check_comparable(entries, source="decompose")
    post = _load_posterior(posterior)
    for label, sc in entries if post is not None else ():
        post.check(sc, label)
    chosen, skipped = resolve_channels(requested, entries)
    wanted = [m.strip() for text in metrics for m in text.split(",") if m.strip()]
    metric_list = check_metrics(entries, wanted or KEY_METRICS)
    horizon = entries[0][1].steps
    month = check_month(month, horizon)
    base_seed = seed if seed is not None else entries[0][1].seed
    shapley_plan = None
    if shapley or shapley_permutations:
        shapley_plan = shapley_coalitions(chosen, shapley_permutations, base_seed)
    variants = variants_needed(chosen, shapley_plan[0] if shapley_plan else ())
    names = [sc.name for _, sc in entries]
    out = out or default_out_dir("decompose", f"{names[0]}_vs_{names[1]}")
    check_new_dir(out)  # before any run, not after them
    evaluator = make_evaluator(workers, scheduler)
    notes = [*differences, *skipped]
    labels = (entries[0][0], entries[1][0])
    click.echo(
        f"decompose: {len(chosen)} channel(s), {len(variants)} variant(s) x 2 scenarios x {replications} "
        f"replications = {2 * len(variants) * replications} runs",
        err=True,
    )
    started, t0 = datetime.now(UTC), time.perf_counter()
    runs = run_variants(
        entries, variants, replications, base_seed, steps, month, evaluator, progress=not quiet, posterior=post
    )
    table = decomposition_table(runs, metric_list, chosen, base_seed, shapley_plan)
    from ci_sim.viz.plots import plot_decomposition  # matplotlib loads only now

    with staged_dir(out) as tmp:  # the folder appears complete or not at all
        plot_decomposition(table, tmp / "figures", labels)
        write_decomposition(
            tmp,
            table,
            runs,
            entries,
            chosen,
            differences_between_scenarios=list(differences),
            channels_left_out=list(skipped),
            metrics=metric_list,
            base_seed=base_seed,
            replications=replications,
            seeds=[replication_seed(base_seed, i) for i in range(replications)],
            steps=horizon,
            month=month,
            posterior=post.describe() if post is not None else None,
            variants=[sorted(v) for v in variants],
            shapley=None
            if shapley_plan is None
            else {"exact": shapley_permutations is None, "permutations": shapley_permutations},
            evaluator=getattr(evaluator, "label", type(evaluator).__name__),
            workers=getattr(evaluator, "workers", None),
            started=started.isoformat(),
            ended=datetime.now(UTC).isoformat(),
            wall_seconds=round(time.perf_counter() - t0, 3),
        )
    for label, sc in entries:
        _note_dropped(label, sc)
    click.echo(format_decomposition(table, labels, notes=notes))
    click.echo(f"results in {out}")


@main.command()
@click.argument("experiment", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override the file (samples=8, replications=2) or every arm's scenario (steps=60); repeatable.",
)
@click.option("--workers", "-w", type=click.IntRange(min=1), help="Local processes (default: all cores; 1: serial).")
@click.option("--scheduler", metavar="ADDRESS|local", help="Run on Dask: 'local' or tcp://HOST:PORT.")
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (default: results/robustness/<name>/<UTC time>/).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def robustness(experiment, overrides, workers, scheduler, out, quiet):
    """Where in the parameter space do the stylized facts hold? A Latin hypercube of paired checks.

    EXPERIMENT is a robustness file (experiments/robustness_sf.yaml): factors with ranges, a
    design, replications and the checks (stylized facts SF1-SF9 by name, or written out). At
    every design point each check's two arms run with the same seeds; the check holds there
    when the mean paired difference A - B is > 0. Per check: the share of the points where it
    holds with a Wilson 95% CI and, where it fails somewhere, PRIM boxes (EMA Workbench) saying
    where. Writes robustness.csv, points.csv, prim_boxes.csv, runs.parquet,
    figures/robustness.png and .svg, and manifest.json.

    \b
    Example:
      ci-sim robustness experiments/robustness_sf.yaml --workers 2
      ci-sim robustness experiments/robustness_sf.yaml --set samples=20 --set replications=2
    """
    from ci_sim.experiments.evaluators import make_evaluator
    from ci_sim.experiments.robustness import (
        boxes_frame,
        format_robustness,
        load_robustness,
        point_table,
        prim_boxes,
        robustness_table,
        run_robustness,
        write_robustness,
    )

    rob = load_robustness(experiment, list(overrides))
    out = out or default_out_dir("robustness", rob.spec.name)
    check_new_dir(out)  # before any run, not after them
    evaluator = make_evaluator(workers, scheduler)
    click.echo(
        f"{rob.spec.name}: {len(rob.checks)} checks, {len(rob.arms)} arms x {len(rob.points)} points x "
        f"{rob.spec.replications} replications = {rob.n_runs} runs",
        err=True,
    )
    started, t0 = datetime.now(UTC), time.perf_counter()
    runs = run_robustness(rob, evaluator, progress=not quiet)
    points = point_table(rob, runs)
    boxes = prim_boxes(rob, points)
    table = robustness_table(rob, points, runs, boxes)
    from ci_sim.viz.plots import plot_robustness  # matplotlib loads only now

    with staged_dir(out) as tmp:  # the folder appears complete or not at all
        plot_robustness(table, points, boxes_frame(boxes), tmp / "figures")
        write_robustness(
            tmp,
            rob,
            runs,
            points,
            table,
            boxes,
            evaluator=getattr(evaluator, "label", type(evaluator).__name__),
            workers=getattr(evaluator, "workers", None),
            started=started.isoformat(),
            ended=datetime.now(UTC).isoformat(),
            wall_seconds=round(time.perf_counter() - t0, 3),
        )
    click.echo(format_robustness(table, rob.spec.replications))
    click.echo(f"results in {out}")
    failed = int((runs["status"] == "error").sum())
    if failed:
        click.echo(f"error: {failed} run(s) failed; their tracebacks are in {out / 'runs.parquet'}", err=True)
        sys.exit(EXIT_RUNS_FAILED)


#: exit status of a sweep that finished but recorded failed runs (1 stays "ci-sim crashed")
EXIT_RUNS_FAILED = 3


def _sweep_options(fn):
    """The options ``sweep`` and ``sensitivity`` share."""
    options = [
        click.option(
            "--workers", "-w", type=click.IntRange(min=1), help="Worker processes (default: all cores; 1: serial)."
        ),
        click.option(
            "--scheduler",
            metavar="ADDRESS|local",
            help="Run on Dask: 'local' starts a LocalCluster (--workers workers), tcp://HOST:PORT joins one.",
        ),
        click.option(
            "--resume", is_flag=True, help="Finish an interrupted sweep in --out (runs already recorded are skipped)."
        ),
        click.option(
            "--out",
            "-o",
            type=click.Path(file_okay=False, path_type=Path),
            help="Sweep folder (default: results/<experiment>/<UTC time>/); must be new or empty without --resume.",
        ),
        click.option(
            "--set",
            "overrides",
            multiple=True,
            metavar="KEY=VALUE",
            help="Override the experiment (samples=64, replications=2) or its base scenario (steps=24); repeatable.",
        ),
        click.option(
            "--flush-rows",
            type=click.IntRange(min=1),
            default=500,
            show_default=True,
            help="Write a part file at least every N finished runs...",
        ),
        click.option(
            "--flush-seconds",
            type=_FiniteFloat(min=0.1),
            default=5.0,
            show_default=True,
            help="...and at least this often: about the most work a kill can lose.",
        ),
        _allow_dropped,
        _posterior_option,
        click.option("--quiet", "-q", is_flag=True, help="No progress bar."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _with_posterior(exp, posterior):
    """Attach ``--posterior`` to a loaded experiment; say which of its parameters factors override."""
    post = _load_posterior(posterior)
    if post is None:
        return exp
    from ci_sim.model.scenario import validate_scenario

    post.check(validate_scenario(exp.base, exp.source), exp.spec.base)
    exp.posterior = post
    if exp.overridden_by_factors:
        click.echo(
            f"note: factor(s) {', '.join(exp.overridden_by_factors)} also in posterior {post.name}: the factor's "
            "values are run, not the posterior's draw (recorded in the manifest)",
            err=True,
        )
    return exp


def _resume_command(
    command: str, experiment: Path, overrides, workers, scheduler, allow_dropped, posterior, out
) -> str:
    """The command line that finishes an interrupted sweep, with ``--resume --out OUT``.

    The same experiment and options: they decide the sweep's fingerprint, which a resume checks.
    """
    args = ["ci-sim", command, str(experiment)]
    for override in overrides:
        args += ["--set", override]
    if workers:
        args += ["--workers", str(workers)]
    if scheduler:
        args += ["--scheduler", scheduler]
    if allow_dropped:
        args.append("--allow-dropped-events")
    if posterior:
        args += ["--posterior", posterior]
    return shlex.join([*args, "--resume", "--out", str(out)])


def _run_sweep(exp, out, workers, scheduler, resume, quiet, flush_rows, flush_seconds, again):
    """Run (or resume) the sweep of ``exp`` into ``out`` and print its summary.

    The folder is checked and named before any run (so a long sweep's output is known from
    the start); Ctrl-C keeps what finished, prints ``again(out)`` (the command that resumes
    it) and exits 130.
    """
    from ci_sim.experiments.evaluators import make_evaluator
    from ci_sim.experiments.sweep import check_folder, run_sweep

    if resume and out is None:
        raise ScenarioError("--resume", "--out", None, "the folder of the sweep to finish (--out DIR)")
    out = out or default_out_dir(exp.spec.name)
    check_folder(exp, out, resume)
    click.echo(f"{exp.spec.name}: {exp.n_runs} runs; results go to {out}", err=True)
    try:
        summary = run_sweep(
            exp,
            out,
            make_evaluator(workers, scheduler),
            resume=resume,
            progress=not quiet,
            flush_rows=flush_rows,
            flush_seconds=flush_seconds,
        )
    except KeyboardInterrupt:
        click.echo(
            f"\ninterrupted (Ctrl-C): the runs finished so far are kept in {out}\nto finish the sweep, run:\n  "
            + again(out),
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)
    click.echo(
        f"{exp.spec.name}: {summary.total} runs in the design; {summary.skipped} already done, {summary.ran} ran now "
        f"in {summary.seconds:.1f} s; {summary.ok} ok, {summary.failed} failed"
    )
    click.echo(f"results in {out}")
    if summary.failed:
        click.echo(
            f"error: {summary.failed} run(s) failed; their tracebacks are in the 'error' column of {out / 'runs'} "
            "(rows with status == 'error')",
            err=True,
        )
    return out, summary


@main.command()
@click.argument("experiment", type=click.Path(dir_okay=False, path_type=Path))
@_sweep_options
def sweep(
    experiment,
    workers,
    scheduler,
    resume,
    out,
    overrides,
    flush_rows,
    flush_seconds,
    allow_dropped_events,
    posterior,
    quiet,
):
    """Run every point x replication of an experiment, streaming one row per run to Parquet.

    Rows (factors, point, replication, seed, status, final metrics) land in OUT/runs/ as runs
    finish, in the order they finish; read them sorted with
    ci_sim.experiments.sweep.read_runs(OUT). The folder is printed at the start. A sweep
    killed at any moment finishes with --resume: every run present once, the same numbers;
    Ctrl-C prints the command that does it. A run that raises is recorded with its traceback
    and the sweep goes on.

    Exit status: 0 every run ok; 2 bad input (nothing written); 3 the sweep finished but some
    runs failed; 130 interrupted (resume it); 1 ci-sim itself crashed (resume it).

    \b
    Example:
      ci-sim sweep experiments/backbones_sweep.yaml --workers 2
      ci-sim sweep experiments/backbones_sweep.yaml --resume --out results/backbones_sweep/20261122T101500.000000Z
      ci-sim sweep experiments/sobol_main.yaml --scheduler tcp://10.0.0.5:8786 --set samples=512
      ci-sim sweep experiments/backbones_sweep.yaml --posterior strive
    """
    from ci_sim.experiments.experiment import load_experiment

    exp = _with_posterior(
        load_experiment(experiment, list(overrides), drop_late_events=allow_dropped_events), posterior
    )
    again = partial(
        _resume_command, "sweep", experiment, overrides, workers, scheduler, allow_dropped_events, posterior
    )
    _, summary = _run_sweep(exp, out, workers, scheduler, resume, quiet, flush_rows, flush_seconds, again)
    if summary.failed:
        sys.exit(EXIT_RUNS_FAILED)


@main.command()
@click.argument("experiment", type=click.Path(dir_okay=False, path_type=Path))
@_sweep_options
@click.option(
    "--from",
    "from_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Analyse this finished sweep folder of EXPERIMENT instead of running one.",
)
def sensitivity(
    experiment,
    workers,
    scheduler,
    resume,
    out,
    overrides,
    flush_rows,
    flush_seconds,
    allow_dropped_events,
    posterior,
    quiet,
    from_dir,
):
    """Global sensitivity analysis (SALib): Sobol' S1/ST (and S2) or Morris mu*/sigma per factor and metric.

    Runs the experiment's sobol or morris design as a sweep (or reuses a finished sweep folder
    with --from), then writes sensitivity.csv (with confidence intervals, the share of the
    variance that is seed noise and a warnings column), sensitivity_s2.csv with
    second_order: true, and bar figures (figures/sensitivity_*.png and .svg) into the folder.
    Impossible indices (below 0 or above 1), intervals wider than their index and indices seed
    noise could produce are flagged in the CSV and the figure and printed as warnings.

    Exit status: 0 done (warnings do not change it); 2 bad input; 3 runs failed, or the sweep
    folder is incomplete (finish it with --resume first).

    \b
    Example:
      ci-sim sensitivity experiments/sobol_main.yaml --workers 2
      ci-sim sensitivity experiments/sobol_main.yaml --set samples=32 --set steps=60
      ci-sim sensitivity experiments/sobol_main.yaml --from results/sobol_main/20261122T101500.000000Z
    """
    from ci_sim.experiments.experiment import load_experiment
    from ci_sim.experiments.sensitivity import (
        IncompleteSweepError,
        MissingPointsError,
        analyze,
        check_complete,
        check_sweep_folder,
        require_analysable,
    )
    from ci_sim.experiments.sweep import read_runs
    from ci_sim.viz.plots import plot_second_order, plot_sensitivity

    exp = _with_posterior(
        load_experiment(experiment, list(overrides), drop_late_events=allow_dropped_events), posterior
    )
    require_analysable(exp)
    if from_dir is not None:
        check_sweep_folder(exp, from_dir)
        out = out or from_dir
        check_out_dir(out, "--out", may_hold_files=True)  # sensitivity.csv and figures go here
    else:
        again = partial(
            _resume_command, "sensitivity", experiment, overrides, workers, scheduler, allow_dropped_events, posterior
        )
        out, _ = _run_sweep(exp, out, workers, scheduler, resume, quiet, flush_rows, flush_seconds, again)
    runs = read_runs(from_dir or out)
    try:
        # indices from part of the design would be wrong, not approximate: refuse them
        check_complete(exp, runs, from_dir or out)
        analysis = analyze(exp, runs)
    except (MissingPointsError, IncompleteSweepError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_RUNS_FAILED)
    indices = analysis.indices
    write_csv(indices, out / "sensitivity.csv")
    figures = plot_sensitivity(indices, out / "figures")
    if analysis.second_order is not None:
        write_csv(analysis.second_order, out / "sensitivity_s2.csv")
        figures += plot_second_order(analysis.second_order, out / "figures")
    key = "ST" if "ST" in indices.columns else "mu_star"
    click.echo(f"most influential factors ({key}, largest first):")
    for metric, rows in indices.groupby("metric", sort=False):
        top = rows.nlargest(3, key)
        noise = rows["noise_share"].iloc[0]
        said = f" (seed noise {noise:.0%} of the variance)" if pd.notna(noise) else ""
        click.echo(f"  {metric}{said}: " + ", ".join(f"{r.factor} {getattr(r, key):.3g}" for r in top.itertuples()))
    for line in analysis.warnings:
        click.echo(f"warning: {line}", err=True)
    click.echo(f"sensitivity indices in {out / 'sensitivity.csv'}")
    if analysis.second_order is not None:
        click.echo(f"second-order indices in {out / 'sensitivity_s2.csv'}")
    click.echo("figures: " + ", ".join(str(f) for f in figures))
    failed = int((runs["status"] == "error").sum())
    if failed:
        click.echo(f"error: {failed} run(s) failed; the indices use each point's successful replications", err=True)
        sys.exit(EXIT_RUNS_FAILED)


@main.command()
@click.argument("calibration", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--workers", "-w", type=click.IntRange(min=1), help="Local processes (default: all cores; 1: single-core)."
)
@click.option(
    "--scheduler", metavar="ADDRESS|local", help="Run on Dask: 'local' or tcp://HOST:PORT (pyabc's Dask sampler)."
)
@click.option(
    "--deterministic",
    is_flag=True,
    help="pyabc's single-core sampler: the same file and seed give the same posterior, number for number.",
)
@click.option("--resume", is_flag=True, help="Continue the interrupted calibration in --out from its history.")
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (default: results/calibrate/<name>/<UTC time>/); must be new without --resume.",
)
@click.option("--quiet", "-q", is_flag=True, help="No per-generation messages.")
def calibrate(calibration, workers, scheduler, deterministic, resume, out, quiet):
    """Calibrate mechanism parameters by ABC-SMC (pyabc) against observed patterns.

    CALIBRATION is a YAML file (experiments/calibrate_strive.yaml): base scenario(s), priors
    over parameters by key path, targets (a share as successes of trials, a level or a trend,
    with their uncertainty), population size, generations and stopping rules. Writes
    posterior.parquet (samples and weights: use it with --posterior), posterior_summary.csv
    (median, 90% interval and its width against the prior's), generations.csv,
    predictive.csv, predictions.csv (patterns NOT fitted), figures/ and manifest.json, and
    history.db (pyabc's history: --resume continues from it).

    Parallel samplers accept particles in the order they finish: two parallel calibrations
    agree in distribution, not digit for digit. --deterministic reproduces by seed.

    \b
    Example:
      ci-sim calibrate experiments/calibrate_strive.yaml --workers 2
      ci-sim calibrate experiments/calibrate_strive.yaml --deterministic --out results/cal
      ci-sim calibrate experiments/calibrate_strive.yaml --resume --out results/cal
    """
    from ci_sim.experiments.calibration import check_resume, load_calibration, run_calibration
    from ci_sim.viz.calibration import plot_calibration

    cal = load_calibration(calibration)
    if scheduler and scheduler != "local" and "://" not in scheduler and ":" not in scheduler:
        raise ScenarioError("--scheduler", "", scheduler, "'local' or a Dask scheduler address, tcp://HOST:PORT")
    if resume:
        if out is None:
            raise ScenarioError("--resume", "--out", None, "the folder of the calibration to continue (--out DIR)")
        check_resume(cal, out)
    else:
        out = out or default_out_dir("calibrate", cal.spec.name)
        check_new_dir(out)
        if out.exists():  # an empty folder the user made: the calibration creates it afresh
            out.rmdir()
    click.echo(
        f"{cal.spec.name}: ABC-SMC, {cal.spec.population} particles x at most {cal.spec.generations} "
        f"generations; results go to {out}",
        err=True,
    )
    try:
        result = run_calibration(
            cal, out, workers=workers, scheduler=scheduler, deterministic=deterministic, resume=resume, quiet=quiet
        )
    except KeyboardInterrupt:
        again = shlex.join(["ci-sim", "calibrate", str(calibration), "--resume", "--out", str(out)])
        click.echo(
            f"\ninterrupted (Ctrl-C): finished generations are kept in {out / 'history.db'}\n"
            f"to continue, run:\n  {again}",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)
    figures = plot_calibration(cal, result.posterior, result.predictive, result.generations, out / "figures")
    click.echo(
        f"{cal.spec.name}: {len(result.generations)} generations, {result.simulations} simulations, "
        f"{result.seconds:.0f} s; final threshold {result.generations['epsilon'].iloc[-1]:.3g}"
    )
    click.echo("posterior (median [90% interval]; width / prior's):")
    for r in result.summary.itertuples():
        click.echo(f"  {r.parameter:<40} {r.median:.4g} [{r.q05:.4g}, {r.q95:.4g}]; {r.width_ratio:.2f}")
    click.echo("figures: " + ", ".join(str(f) for f in figures))
    click.echo(f"results in {out}")


# --------------------------------------------------------------------------- community leaders


@main.group()
def roster() -> None:
    """Rosters: describe your own partnership in a spreadsheet (docs/roster.md).

    \b
    Example:
      ci-sim roster template --out my_partnership.xlsx
      ci-sim roster check my_partnership.xlsx
      ci-sim advise my_partnership.xlsx
    """


@roster.command("template")
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("roster_template.xlsx"),
    show_default=True,
    help="The file to write: .xlsx (with a README sheet), or .csv (with _outcomes.csv and _collaborations.csv).",
)
def roster_template(out):
    """Write a filled-in example roster with notes: 60 organizations of a fictional city, to edit."""
    from ci_sim.experiments.roster import write_template

    for path in write_template(out):
        click.echo(f"wrote {path}")


@roster.command("check")
@click.argument("roster_file", type=click.Path(dir_okay=False, path_type=Path))
def roster_check(roster_file):
    """Validate a roster and say what the model will make of it (nothing is written)."""
    from ci_sim.experiments.advise import roster_summary
    from ci_sim.experiments.roster import load_roster

    head, *lines = roster_summary(load_roster(roster_file))
    click.echo(f"{roster_file}: {head}")
    for line in lines:
        click.echo(f"- {line}")


@main.command()
@click.argument("roster_file", metavar="ROSTER", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--metric", default="indicators_improving", show_default=True, help="Metric to rank strategies by.")
@click.option(
    "--steps",
    "-t",
    type=click.IntRange(min=1, max=10_000),
    default=120,
    show_default=True,
    help="Months to simulate (the brief reports 5 and 10 years where the horizon reaches).",
)
@click.option(
    "--replications", "-r", type=click.IntRange(min=2), default=20, show_default=True, help="Paired runs per strategy."
)
@click.option("--seed", "-s", type=click.IntRange(min=0), default=2026, show_default=True, help="Base seed.")
@click.option(
    "--merge-year",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Year of the 'merge in year N' strategy (left out if at or after the horizon).",
)
@click.option(
    "--posterior",
    default="strive",
    show_default=True,
    metavar="NAME|FILE|none",
    help="Parameter uncertainty: draw each run's calibrated parameters from this posterior; none: defaults.",
)
@click.option(
    "--anonymize",
    is_flag=True,
    help="Replace every organization's name by 'Organization A', 'Organization B'... in all outputs.",
)
@click.option("--workers", "-w", type=click.IntRange(min=1), help="Local processes (default: all cores; 1: serial).")
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (default: results/advise/<UTC time>/).",
)
@click.option(
    "--reasons/--no-reasons",
    default=True,
    show_default=True,
    help="Decompose the recommended strategy's gap to keeping things as they are (more runs) for the brief's reasons.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def advise(
    roster_file, metric, steps, replications, seed, merge_year, posterior, anonymize, workers, out, reasons, quiet
):
    """Compare the strategies open to your partnership and write a one-page brief for the board.

    ROSTER is a roster (.csv or .xlsx; `ci-sim roster template` writes an example). The strategies
    (keep as is; merge now; merge in year N; one backbone with the others as conveners; the
    claimants share data, share an agenda, or act jointly) are written as scenario files with a
    strategies.yaml (rerun: ci-sim compare strategies.yaml --posterior strive), run with paired
    replications, and ranked by the metric; a strategy whose paired 95% CI against the best
    includes zero is "too close to call". Writes brief.html, brief_a4.pdf, brief_letter.pdf,
    ranking.csv and what `ci-sim compare` writes.

    \b
    Example:
      ci-sim advise examples/roster_midsize_city.csv --out results/my_advice
      ci-sim advise my_partnership.xlsx --anonymize --metric outcome_improvement
    """
    from ci_sim.experiments.evaluators import make_evaluator
    from ci_sim.experiments.roster import anonymize as anonymized
    from ci_sim.experiments.roster import load_roster
    from ci_sim.viz.advice import run_advice
    from ci_sim.viz.brief import pdf_problem

    r = load_roster(roster_file)
    problem = pdf_problem()  # before any run: the brief is what the runs are for
    if problem:
        click.echo(f"error: {problem}", err=True)
        sys.exit(2)
    if anonymize:
        r = anonymized(r)
    post = None if posterior.lower() == "none" else _load_posterior(posterior)
    out = out or default_out_dir("advise")
    check_new_dir(out)
    t0 = time.perf_counter()
    ranking = run_advice(
        r,
        out,
        metric=metric,
        steps=steps,
        replications=replications,
        seed=seed,
        merge_year=merge_year,
        posterior=post,
        evaluator=make_evaluator(workers),
        progress=not quiet,
        explain=reasons,
        # the roster's file name may name the partnership: an anonymized manifest does not say it
        command_line=[r.source if arg == str(roster_file) else arg for arg in sys.argv] if anonymize else None,
    )
    for row in ranking.itertuples():
        click.echo(
            f"{row.rank}. {row.strategy}: {row.mean:.3g} [{row.ci_low:.3g}, {row.ci_high:.3g}]"
            + (
                ""
                if row.rank == 1
                else f"; vs best {row.diff:+.3g} [{row.diff_ci_low:+.3g}, {row.diff_ci_high:+.3g}] {row.verdict}"
            )
        )
    click.echo(f"brief: {out / 'brief.html'}, {out / 'brief_a4.pdf'}, {out / 'brief_letter.pdf'}")
    click.echo(f"results in {out} ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":  # pragma: no cover
    main()
