"""Comparing strategies: common random numbers, confidence intervals, plain language.

Replication ``i`` of every scenario in a comparison runs with the same seed
(:func:`~ci_sim.runs.runner.replication_seed`), so the scenarios share partners, agendas, networks
and noise, and differences are taken replication by replication (paired). For each scenario
and metric :func:`compare_table` gives:

- the mean with a Student-t 95% confidence interval;
- for each scenario after the first (the baseline): the paired difference to the baseline
  with a percentile-bootstrap 95% CI (seeded, so the table is reproducible), the relative
  difference with its bootstrap CI, and an effect size, Cohen's d (the mean difference over
  the pooled standard deviation of the two scenarios' replications; about 0.2 small, 0.5
  medium, 0.8 large). Cohen's d_z (over the standard deviation of the paired differences)
  is given too: with common random numbers it is far larger than d, because pairing removes
  most of the noise, so it measures how sure the difference is rather than how big;
- one sentence a community leader can read ("outcome improvement 38% lower than
  single_backbone, 95% CI 31–45%"). Relative wording is used when the baseline's mean is
  clearly away from zero, absolute differences otherwise.

Strategy files (YAML; ``experiments/strategies.yaml``) list the scenarios to weigh, each a
scenario file or shipped name with optional overrides::

    name: strategies
    replications: 20
    seed: 2026
    strategies:
      - {name: one backbone, scenario: single_backbone}
      - name: nine, joint
        scenario: nine_backbones
        set: {issue_areas.0.backbones.coordination: joint}
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError
from tqdm import tqdm

from ci_sim.model.scenario import (
    Name,
    Scenario,
    ScenarioError,
    _from_validation,
    _load_yaml,
    _PathError,
    _split_override,
    _Strict,
    load_scenario,
    shipped_scenario_dir,
)
from ci_sim.runs.results import manifest, write_csv, write_json, write_parquet
from ci_sim.runs.seeds import replication_seed

BOOTSTRAP_RESAMPLES = 4000
CONFIDENCE = 0.95
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
#: extra columns after the contracted ones: the relative difference and its CI
RELATIVE_COLUMNS = ["rel_diff", "rel_ci_low", "rel_ci_high"]
#: and then: the baseline of ``diff``, and Cohen's d_z of the paired differences
EXTRA_COLUMNS = ["baseline", "effect_size_dz"]


class Strategy(_Strict):
    """One strategy of a strategies file: a scenario and optional overrides."""

    name: Name
    scenario: str = Field(min_length=1, description="scenario file (relative to this file) or shipped name")
    set: dict[str, Any] = Field(default_factory=dict)
    description: str = ""


class StrategiesSpec(_Strict):
    """A strategies file: the scenarios a community weighs, compared with ``ci-sim compare``."""

    name: Name
    description: str = ""
    replications: int = Field(20, ge=2, le=100_000)
    seed: int = Field(2026, ge=0)
    strategies: list[Strategy] = Field(min_length=1)


def _scenario_path(name: str, folder: Path) -> Path:
    for cand in (folder / name, Path(name), shipped_scenario_dir() / f"{name}.yaml"):
        if cand.is_file():
            return cand
    return Path(name)  # load_scenario reports it


def load_entries(
    args: Sequence[str | Path],
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
    *,
    steps: int | None = None,
    drop_late_events: bool = False,
) -> tuple[list[tuple[str, Scenario]], StrategiesSpec | None]:
    """Resolve command-line arguments into labelled scenarios.

    Each argument is a scenario file or shipped name, or a strategies file (a mapping with
    ``strategies:``), which contributes all its strategies. ``overrides`` apply to every
    scenario (after a strategy's own ``set:``). Repeated labels get " (2)", " (3)"...
    ``steps`` and ``drop_late_events`` are passed to :func:`~ci_sim.model.scenario.load_scenario`
    for every scenario (the CLI's ``--steps`` and ``--allow-dropped-events``).

    Returns:
        ``[(label, scenario), ...]`` and the strategies file's spec (the last one given), if any.

    Raises:
        ScenarioError: for any argument that is not a valid scenario or strategies file.
    """
    entries: list[tuple[str, Scenario]] = []
    spec = None
    if overrides is None:
        extra: dict[str, Any] = {}
    elif isinstance(overrides, Mapping):
        extra = dict(overrides)
    else:
        extra = dict(_split_override(o, "--set") for o in overrides)
    for arg in args:
        p = Path(arg)
        raw = _load_yaml(p) if p.is_file() else None
        if isinstance(raw, dict) and "strategies" in raw:
            try:
                spec = StrategiesSpec.model_validate(raw)
            except ValidationError as exc:
                raise _from_validation(exc, str(p)) from None
            except _PathError as exc:
                raise ScenarioError(str(p), exc.path, exc.value, exc.allowed) from None
            for i, st in enumerate(spec.strategies):
                try:
                    sc = load_scenario(
                        _scenario_path(st.scenario, p.parent),
                        {**st.set, **extra},
                        steps=steps,
                        drop_late_events=drop_late_events,
                    )
                except ScenarioError as exc:
                    raise ScenarioError(
                        str(p), f"strategies.{i} ({exc.source}: {exc.path})", exc.value, exc.allowed
                    ) from None
                entries.append((st.name, sc))
        else:
            sc = load_scenario(p, overrides or None, steps=steps, drop_late_events=drop_late_events)
            entries.append((sc.name, sc))
    seen: dict[str, int] = {}
    labelled = []
    for label, sc in entries:
        seen[label] = seen.get(label, 0) + 1
        labelled.append((label if seen[label] == 1 else f"{label} ({seen[label]})", sc))
    return labelled, spec


def check_metrics(entries: list[tuple[str, Scenario]], metrics: Sequence[str]) -> list[str]:
    """The metrics asked for, if every scenario reports them (checked before any run).

    Raises:
        ScenarioError: a metric that some scenario does not report.
    """
    from ci_sim.model.columns import METRIC_NAMES

    for label, sc in entries:
        known = [*METRIC_NAMES, *(f"outcome_{k}" for a in sc.issue_areas for k in a.outcomes)]
        for m in metrics:
            if m not in known:
                raise ScenarioError(
                    "--metric", "", m, f"a metric every scenario reports ({label!r}: {', '.join(known)})"
                )
    return list(dict.fromkeys(metrics))


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out |= _flat(v, f"{prefix}{k}.")
        return out
    return {prefix.rstrip("."): data}


def check_comparable(entries: list[tuple[str, Scenario]], source: str = "compare") -> list[str]:
    """Refuse scenarios run over different horizons; say what else differs in their community.

    Final-step metrics after 12 and after 120 months are not comparable (the outcome of the
    longer run has had ten times as long to improve), so a comparison of unlike horizons is
    refused. A different community (partners, sector mix, capacity, network) can be the
    point of a comparison, so it is allowed but stated: the returned lines are printed above
    the table, recorded in the manifest and appended to each plain-language statement.

    ``source`` names the command in the error (the message starts with it).

    Returns:
        One line per community setting that differs from the baseline's (first entry's).

    Raises:
        ScenarioError: the scenarios' horizons (``steps``) differ.
    """
    horizons = {label: sc.steps for label, sc in entries}
    if len(set(horizons.values())) > 1:
        shown = ", ".join(f"{label!r}: {t}" for label, t in horizons.items())
        raise ScenarioError(
            source,
            "steps",
            shown,
            "scenarios with one horizon (final-month metrics of different horizons are not comparable); "
            f"pass --steps T to run every scenario T months (T <= {min(horizons.values())} keeps every horizon "
            "within its file)",
        )
    base_label, base = entries[0]
    base_community = _flat(base.community.model_dump(mode="json"))
    notes = []
    for label, sc in entries[1:]:
        community = _flat(sc.community.model_dump(mode="json"))
        for key in sorted(set(base_community) | set(community)):
            if base_community.get(key) != community.get(key):
                notes.append(
                    f"community.{key}: {label} has {community.get(key)!r}, {base_label} has {base_community.get(key)!r}"
                )
    return notes


def write_comparison(
    out: Path,
    table: pd.DataFrame,
    summary: pd.DataFrame,
    series: pd.DataFrame,
    entries: list[tuple[str, Scenario]],
    base_seed: int,
    replications: int,
    steps: int | None,
    started: datetime,
    seconds: float,
    differences: Sequence[str] = (),
    posterior=None,
    events: pd.DataFrame | None = None,
    command_line: list[str] | None = None,
) -> None:
    """Write ``compare.csv``, ``summary.csv``, ``timeseries.parquet``, ``manifest.json`` and ``events.csv``.

    ``differences`` (from :func:`check_comparable`) and the ``posterior`` used (its
    description) are recorded in the manifest, and ``command_line`` instead of the process's own
    (``ci-sim advise --anonymize``: without the roster's file name). ``events.csv`` (what each scenario event did in
    each run: which backbones a merge kept, which left, which became conveners) is written when
    a scenario has events.
    """
    write_csv(table, out / "compare.csv")
    write_csv(summary, out / "summary.csv")
    write_parquet(series, out / "timeseries.parquet")
    if events is not None and len(events):
        write_csv(events, out / "events.csv")
    write_json(
        manifest(
            scenarios={label: sc.model_dump(mode="json") for label, sc in entries},
            scenario_sha256={label: sc.sha256() for label, sc in entries},
            baseline=entries[0][0],
            differences_from_baseline=list(differences),
            dropped_events={label: sc.dropped_events for label, sc in entries if sc.dropped_events},
            base_seed=base_seed,
            replications=replications,
            steps=steps or entries[0][1].steps,
            seeds=[replication_seed(base_seed, i) for i in range(replications)],
            bootstrap_resamples=BOOTSTRAP_RESAMPLES,
            posterior=posterior.describe() if posterior is not None else None,
            parameter_uncertainty=POSTERIOR_LEGEND if posterior is not None else None,
            started=started.isoformat(),
            ended=datetime.now(UTC).isoformat(),
            wall_seconds=round(seconds, 3),
            **({"command_line": command_line} if command_line is not None else {}),
        ),
        out / "manifest.json",
    )


def compare_and_write(
    out: Path,
    entries: list[tuple[str, Scenario]],
    replications: int,
    seed: int,
    steps: int | None,
    evaluator,
    metrics: Sequence[str],
    differences: Sequence[str] = (),
    *,
    progress: bool = True,
    desc: str = "compare",
    posterior=None,
    command_line: list[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Run a comparison (:func:`run_comparison`), tabulate it (:func:`compare_table`) and write it into ``out``.

    ``ci-sim compare`` and ``ci-sim advise`` both go through here, so the same entries, seed and
    posterior give the same files.

    Returns:
        ``(table, summary, timeseries, events)`` (``events``: :data:`EVENT_COLUMNS`).
    """
    import time

    started, t0 = datetime.now(UTC), time.perf_counter()
    summary, series, events = run_comparison(
        entries, replications, seed, steps, evaluator, progress=progress, desc=desc, posterior=posterior
    )
    table = compare_table(summary, metrics, seed=seed, differences=differences)
    write_comparison(
        out,
        table,
        summary,
        series,
        entries,
        seed,
        replications,
        steps,
        started,
        time.perf_counter() - t0,
        differences=differences,
        posterior=posterior,
        events=events,
        command_line=command_line,
    )
    return table, summary, series, events


def _one(args) -> tuple[str, int, Any]:
    label, scenario, replication, seed, steps = args
    from ci_sim.runs.runner import run_scenario  # the engine loads only to run

    return label, replication, run_scenario(scenario, seed, steps=steps, agent_period=0)


def run_comparison(
    entries: list[tuple[str, Scenario]],
    replications: int,
    seed: int,
    steps: int | None,
    evaluator,
    progress: bool = True,
    desc: str = "compare",
    posterior=None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Run every scenario's replications with common random numbers.

    ``desc`` names the progress bar (the command running). With a ``posterior``
    (:class:`ci_sim.runs.posterior.Posterior`), replication ``i`` of every scenario takes the
    parameters of the same posterior draw (:meth:`~ci_sim.runs.posterior.Posterior.draw` of the
    base seed and ``i``) and the same seed: paired across strategies, so the intervals include
    parameter uncertainty and the differences stay paired.

    Returns:
        ``summary`` (scenario, replication, seed, final metrics), ``timeseries``
        (scenario, replication, seed, step, metrics) and ``events`` (:data:`EVENT_COLUMNS`: what
        each event did, e.g. which backbone a merge kept), all in (scenario, replication) order.
    """
    from ci_sim.runs.posterior import replication_scenarios

    per_rep = {label: replication_scenarios(sc, posterior, seed, replications) for label, sc in entries}
    tasks = [
        (label, per_rep[label][i][0], i, replication_seed(seed, i), steps)
        for label, _ in entries
        for i in range(replications)
    ]
    finals, series, events = {}, {}, {}
    with evaluator as executor:
        futures = [executor.submit(_one, t) for t in tasks]
        for future in tqdm(futures, desc=desc, unit="run", disable=not progress, file=sys.stderr):
            label, rep, result = future.result()
            drawn = per_rep[label][rep][1]
            finals[label, rep] = {"scenario": label, "replication": rep, "seed": result.seed, **drawn, **result.final}
            series[label, rep] = _tagged(result.timeseries, label, rep, result.seed)
            if len(result.events):  # a run without events adds nothing (and an empty frame would make "at" a float)
                events[label, rep] = _tagged(result.events, label, rep, result.seed)
    order = [(label, i) for label, _ in entries for i in range(replications)]
    logged = [events[k] for k in order if k in events]
    return (
        pd.DataFrame([finals[k] for k in order]),
        pd.concat([series[k] for k in order], ignore_index=True),
        pd.concat(logged, ignore_index=True) if logged else pd.DataFrame(columns=EVENT_COLUMNS),
    )


#: columns of ``events.csv``: what each scenario event did in each run (RunResult.events, tagged)
EVENT_COLUMNS = ["scenario", "replication", "seed", "at", "area", "event", "kept", "left", "convening"]


def _tagged(frame: pd.DataFrame, label: str, rep: int, seed: int) -> pd.DataFrame:
    """``frame`` with the run's scenario, replication and seed in front."""
    out = frame.copy()
    out.insert(0, "seed", seed)
    out.insert(0, "replication", rep)
    out.insert(0, "scenario", label)
    return out


# --------------------------------------------------------------------------- statistics


#: What a statistic that needs a spread says when there is none to estimate.
NEEDS_TWO = "n/a (needs ≥ 2 replications)"
#: A spread below this fraction of the values' size is rounding noise, not variation: an
#: effect size over it would be huge and meaningless (Cohen's d of -221536), so it is n/a.
SPREAD_RTOL = 1e-6
#: An effect size larger than this says how little a metric varies between replications
#: (one scenario pins it, say a share at 0), not how big the difference is: also n/a.
EFFECT_SIZE_LIMIT = 1000.0

#: Metrics on a bounded scale (their definitions in ci_sim.model.metrics): shares and 0–1 indices...
_UNIT_METRICS = {
    "alignment",
    "mean_trust",
    "engagement",
    "fundraising_share",
    "data_completeness",
    "action_plan_quality",
    "outcome_mean",
    "nonprofit_fundraising_share",
    "visibility_effort",
    "aligned_funding",
    "indicators_improving",
    "proof_point",
    "measured_outcome_mean",
    "program_share",
    "practice_changed",
}
#: ...differences of two 0–1 levels (and results seen, R_a), in [-1, 1]...
_SIGNED_UNIT_METRICS = {"outcome_improvement", "measured_improvement", "partnership_effect", "results_seen"}
#: ...and counts and hours, which cannot be negative
_NON_NEGATIVE_METRICS = {"factions", "meeting_hours", "active_backbones", "active_conveners", "backbone_staff_hours"}


def metric_bounds(metric: str) -> tuple[float, float] | None:
    """The range a metric's values (and so its mean) cannot leave, or None if unbounded.

    Shares and 0–1 indices (and each ``outcome_<name>`` level) lie in [0, 1]; differences of two
    levels (outcome and measured improvement, the partnership's effect) and the results partners
    see in [-1, 1]; counts and hours are ≥ 0. tests/test_compare.py checks every run's metrics
    against these bounds.
    """
    if metric in _SIGNED_UNIT_METRICS:
        return (-1.0, 1.0)
    if metric in _UNIT_METRICS or metric.startswith("outcome_"):
        return (0.0, 1.0)
    if metric in _NON_NEGATIVE_METRICS or metric.startswith("hours_"):
        return (0.0, np.inf)
    return None


def mean_ci(values, level: float = CONFIDENCE, bounds: tuple[float, float] | None = None) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of the mean (NaNs ignored).

    Args:
        values: the replications' values (1-D).
        level: the confidence level.
        bounds: the metric's range (:func:`metric_bounds`): the interval is cut at it, since
            the mean of a share cannot be below 0 or above 1 (the t interval, symmetric,
            runs past the bounds with few replications or values near a bound).

    Returns:
        ``(mean, low, high)``; ``low`` and ``high`` are NaN with fewer than two values (one
        value says nothing about the spread: print :data:`NEEDS_TWO`), and all three are
        NaN with none.
    """
    from scipy import stats  # here: ``ci-sim`` and every sweep worker import this module; stats is big

    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.nan, np.nan, np.nan
    m = float(values.mean())
    if values.size < 2:
        return m, np.nan, np.nan
    half = float(stats.t.ppf(0.5 + level / 2, values.size - 1)) * float(values.std(ddof=1)) / np.sqrt(values.size)
    lo, hi = m - half, m + half
    if bounds is not None:
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    return m, lo, hi


def format_ci(mean: float, low: float, high: float, fmt=lambda x: f"{x:.4f}") -> str:
    """``"0.5123 [0.4900, 0.5300]"``, or the mean and :data:`NEEDS_TWO` without an interval."""
    if not np.isfinite(mean):
        return "n/a (no values)"
    if not (np.isfinite(low) and np.isfinite(high)):
        return f"{fmt(mean)} [95% CI {NEEDS_TWO}]"
    return f"{fmt(mean)} [{fmt(low)}, {fmt(high)}]"


def pair_stream(seed: int, scenario: str, baseline: str, metric: str, *extra: int) -> np.random.Generator:
    """The bootstrap stream of one paired difference (scenario - baseline in ``metric``).

    Keyed by the base ``seed``, the unordered pair of labels and the metric's name (each as the
    first 32 bits of its SHA-256), plus ``extra`` integers (e.g. a month): the same whichever other
    scenarios or metrics are compared, and the same resamples for A - B and B - A, so their
    intervals mirror each other exactly.
    """

    def key(text: str) -> int:
        return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big")

    spawn = (*sorted((key(scenario), key(baseline))), key(metric), *extra)
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=spawn))


def bootstrap_paired(
    a, b, rng: np.random.Generator, resamples: int = BOOTSTRAP_RESAMPLES, level: float = CONFIDENCE
) -> dict[str, float]:
    """Paired difference ``a - b`` and relative difference ``(a - b) / |b|`` with bootstrap CIs.

    Percentile bootstrap: replications are resampled with their pairs kept together (the
    common random numbers), ``resamples`` times, with ``rng``.

    Returns:
        ``diff``, ``diff_ci_low``, ``diff_ci_high``, ``rel_diff``, ``rel_ci_low``,
        ``rel_ci_high``, ``effect_size`` (Cohen's d: the mean difference over the pooled
        standard deviation of ``a`` and ``b``) and ``effect_size_dz`` (Cohen's d_z: over the
        standard deviation of the differences). An effect size is NaN (n/a) when its standard
        deviation is ~0: below :data:`SPREAD_RTOL` times the values' size (rounding), or so
        small that the effect size would exceed :data:`EFFECT_SIZE_LIMIT`. The intervals and
        effect sizes are NaN with fewer than two pairs.
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    d = a - b
    if d.size == 0:
        return dict.fromkeys(_STAT_KEYS, np.nan)
    if d.size < 2:  # one pair: a difference, but no interval or effect size (see NEEDS_TWO)
        rel = float(d[0] / abs(b[0])) if b[0] != 0 else np.nan
        return dict.fromkeys(_STAT_KEYS, np.nan) | {"diff": float(d[0]), "rel_diff": rel}
    tails = [50 * (1 - level), 50 * (1 + level)]
    idx = rng.integers(0, d.size, size=(resamples, d.size))
    boot_diff = d[idx].mean(axis=1)
    lo, hi = np.percentile(boot_diff, tails)
    base = np.abs(b[idx].mean(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        boot_rel = np.where(base > 0, boot_diff / base, np.nan)
    rel = d.mean() / abs(b.mean()) if b.mean() != 0 else np.nan
    rlo, rhi = np.nanpercentile(boot_rel, tails) if np.isfinite(boot_rel).all() else (np.nan, np.nan)
    sd_d = d.std(ddof=1)
    sd_pooled = float(np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2))
    # spreads that are rounding noise (a metric the strategies hardly move, or that every
    # replication reproduces): an effect size over them is not a measurement, so n/a
    scale = max(np.abs(a).max(), np.abs(b).max(), np.finfo(float).tiny)
    floor = max(SPREAD_RTOL * scale, abs(d.mean()) / EFFECT_SIZE_LIMIT)
    sd_d, sd_pooled = (x if x > floor else 0.0 for x in (sd_d, sd_pooled))
    return {
        "diff": float(d.mean()),
        "diff_ci_low": float(lo),
        "diff_ci_high": float(hi),
        "effect_size": float(d.mean() / sd_pooled) if sd_pooled > 0 else np.nan,
        "rel_diff": float(rel),
        "rel_ci_low": float(rlo),
        "rel_ci_high": float(rhi),
        "effect_size_dz": float(d.mean() / sd_d) if sd_d > 0 else np.nan,
    }


_STAT_KEYS = ["diff", "diff_ci_low", "diff_ci_high", "effect_size", *RELATIVE_COLUMNS, "effect_size_dz"]


def _pct(x: float) -> str:
    return f"{abs(x) * 100:.0f}%"


def statement(metric: str, scenario: str, baseline: str, s: Mapping[str, float], relative: bool) -> str:
    """One sentence, e.g. "outcome improvement 38% lower than single_backbone, 95% CI 31–45%".

    Args:
        metric: the metric column.
        scenario: the scenario described.
        baseline: the scenario it is compared with.
        s: the output of :func:`bootstrap_paired`.
        relative: say it in percent of the baseline (only if its mean is clearly not zero).
    """
    from ci_sim.model.columns import metric_label  # labels are shared with the figures

    label = metric_label(metric).lower()
    lo, hi, diff = s["diff_ci_low"], s["diff_ci_high"], s["diff"]
    if not np.isfinite(diff):
        return f"{scenario}: {label} could not be compared with {baseline} (no paired results)"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return f"{scenario}: {label} {diff:+.3g} against {baseline}, 95% CI {NEEDS_TWO}"
    if lo > 0 or hi < 0:
        way = "higher" if diff > 0 else "lower"
        # the relative interval is a ratio of resampled means: say it only if it, too, excludes 0
        if relative and np.isfinite(s["rel_ci_low"]) and (s["rel_ci_low"] > 0 or s["rel_ci_high"] < 0):
            a, b = sorted((abs(s["rel_ci_low"]), abs(s["rel_ci_high"])))
            return f"{scenario}: {label} {_pct(s['rel_diff'])} {way} than {baseline}, 95% CI {_pct(a)}–{_pct(b)}"
        a, b = sorted((abs(lo), abs(hi)))
        return f"{scenario}: {label} {abs(diff):.3g} {way} than {baseline}, 95% CI {a:.3g}–{b:.3g}"
    if relative and np.isfinite(s["rel_ci_low"]):
        rel = f"{s['rel_diff'] * 100:+.0f}%, 95% CI {s['rel_ci_low'] * 100:+.0f}% to {s['rel_ci_high'] * 100:+.0f}%"
        return f"{scenario}: no clear difference in {label} from {baseline} ({rel})"
    return f"{scenario}: no clear difference in {label} from {baseline} ({diff:+.3g}, 95% CI {lo:+.3g} to {hi:+.3g})"


def compare_table(
    summary: pd.DataFrame,
    metrics: Sequence[str],
    baseline: str | None = None,
    seed: int = 0,
    differences: Sequence[str] = (),
) -> pd.DataFrame:
    """The comparison table: the columns of ``compare.csv``, then the relative ones and extras.

    ``n`` counts the scenario's replications with a value; the difference columns use the
    replications present in both the scenario and the baseline (paired).

    Args:
        summary: one row per (scenario, replication) with the metrics.
        metrics: the metrics to compare.
        baseline: the scenario differences are taken to (default: the first).
        seed: seeds the bootstrap; each paired difference gets its own stream (:func:`pair_stream`), so
            the table is reproducible, one cell does not depend on which others are asked for, and A
            against B has exactly the mirror of B against A's interval.
        differences: what differs between the scenarios besides the strategy
            (:func:`check_comparable`); each statement then says so.

    Intervals of bounded metrics are cut at their bounds (:func:`metric_bounds`); with fewer
    than two replications intervals and effect sizes are NaN and the statement says
    :data:`NEEDS_TWO`.
    """
    note = f" (note: the scenarios also differ in {'; '.join(differences)})" if differences else ""
    names = list(dict.fromkeys(summary["scenario"]))
    baseline = baseline or names[0]
    base = summary[summary["scenario"] == baseline].set_index("replication")
    rows = []
    for name in names:
        part = summary[summary["scenario"] == name].set_index("replication")
        for metric in metrics:
            mean, lo, hi = mean_ci(part[metric], bounds=metric_bounds(metric))
            row: dict[str, Any] = {"scenario": name, "metric": metric, "mean": mean, "ci_low": lo, "ci_high": hi}
            row |= dict.fromkeys(_STAT_KEYS, np.nan)
            row |= {"n": int(part[metric].notna().sum()), "statement": "", "baseline": baseline}
            if name != baseline:
                paired = part[[metric]].join(base[[metric]].add_suffix("_base"), how="inner")
                s = bootstrap_paired(
                    paired[metric], paired[f"{metric}_base"], pair_stream(seed, name, baseline, metric)
                )
                _, blo, bhi = mean_ci(base[metric])
                relative = blo > 0 or bhi < 0  # percentages of a baseline near zero mislead
                row |= s
                row["statement"] = statement(metric, name, baseline, s, relative) + note
            rows.append(row)
    return pd.DataFrame(rows, columns=[*COMPARE_COLUMNS, *RELATIVE_COLUMNS, *EXTRA_COLUMNS])


# --------------------------------------------------------------------------- terminal


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "-"
    return f"{x:.3g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.1e}"


#: the legend's line when parameters are drawn from a posterior
POSTERIOR_LEGEND = (
    "intervals include parameter uncertainty: replication i draws its parameters from the posterior "
    "(the same draw and seed in every scenario)"
)


def format_table(
    table: pd.DataFrame, metrics: Sequence[str], differences: Sequence[str] = (), posterior: str | None = None
) -> str:
    """The terminal table, then the plain-language lines of the first metric.

    Per metric, each scenario's mean [95% CI] and its difference to the baseline [bootstrap
    95% CI] with the effect size (Cohen's d); a legend says how to read them. ``differences``
    (:func:`check_comparable`) are stated first, where they cannot be missed. Intervals that
    cannot be estimated (one replication) read :data:`NEEDS_TWO`; an effect size over a zero
    spread reads "n/a". With ``posterior`` (its name) the legend says the intervals include
    parameter uncertainty.
    """
    from ci_sim.model.metrics import metric_label

    names = list(dict.fromkeys(table["scenario"]))
    baseline = names[0]
    lines = []
    if posterior:
        lines += [f"PARAMETERS: drawn from posterior {posterior}; {POSTERIOR_LEGEND}.", ""]
    if differences:
        lines.append("NOTE: the scenarios differ in more than the strategy; the differences below include this:")
        lines += [f"  {d}" for d in differences]
        lines.append("")
    for metric in metrics:
        lines.append(f"{metric_label(metric)} ({metric})")
        cells = []
        for name in names:
            r = table[(table.scenario == name) & (table.metric == metric)].iloc[0]
            mean = format_ci(r["mean"], r["ci_low"], r["ci_high"], _fmt)
            if name == baseline:
                diff, d = "(baseline)", ""
            elif not np.isfinite(r["diff"]):
                diff, d = "n/a (no paired results)", "n/a"
            else:
                diff = format_ci(r["diff"], r["diff_ci_low"], r["diff_ci_high"], _fmt)
                d = f"{r['effect_size']:+.2f}" if np.isfinite(r["effect_size"]) else "n/a"
            cells.append((name, mean, diff, d))
        w = [max(len(h), *(len(c[i]) for c in cells)) + 2 for i, h in enumerate(("scenario", "mean [95% CI]"))]
        w.append(max(len("vs " + baseline + " [95% CI]"), *(len(c[2]) for c in cells)) + 2)
        lines.append(f"  {'scenario':<{w[0]}}{'mean [95% CI]':<{w[1]}}{'vs ' + baseline + ' [95% CI]':<{w[2]}}{'d':>7}")
        lines += [f"  {n:<{w[0]}}{m:<{w[1]}}{df:<{w[2]}}{d:>7}" for n, m, df, d in cells]
        lines.append("")
    lines.append(
        "mean: over replications, Student-t 95% CI (cut at 0 and 1 for shares and 0-1 indices, at 0 for counts and "
        "hours).\nvs baseline: paired difference (replication i has the same seed in every scenario), "
        "percentile-bootstrap 95% CI.\nd: Cohen's d, the difference over the pooled SD (0.2 small, 0.5 medium, "
        "0.8 large); n/a when the SD is ~0 (replications\nidentical up to rounding, or |d| > 1000). compare.csv has "
        "the relative differences and d_z too."
    )
    if posterior:
        lines.append(f"parameters: posterior {posterior}; {POSTERIOR_LEGEND}.")
    lines.append("")
    first = table[(table.metric == metrics[0]) & (table.scenario != baseline)]
    if len(first):
        lines.append(f"In plain words ({metrics[0]}, {int(first['n'].max())} paired replications):")
        lines += [f"- {s}" for s in first["statement"]]
    return "\n".join(lines)
