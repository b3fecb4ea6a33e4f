r"""Robustness of the stylized facts over a parameter space (``ci-sim robustness``).

A robustness file names factors (dotted key paths with ranges, as in an experiment file),
a Latin hypercube (or grid) over them, replications, and the checks to evaluate: stylized
facts of :mod:`ci_sim.experiments.facts` by name, a whole fact (``SF8``), ``all``, or
checks written out in the file::

    name: robustness_sf
    set: {steps: 120}                 # applied to every arm first
    design: lhs                       # lhs (default) | grid
    samples: 200
    factors:
      - {path: parameters.attention_beta, range: [1.0, 10.0]}
      - {path: parameters.outcome_rate, range: [0.015, 0.06]}
    replications: 4
    seed: 2026
    checks: [all]                     # or [sf1_outcome, SF8, {name: ..., a: ..., b: ..., metric: ...}]
    prim: {boxes: 2, min_coverage: 0.5}

**Runs.** At design point :math:`p` every arm of every check runs :math:`R` replications;
replication :math:`r` has the seed ``replication_seed(seed, r)`` in every arm and at every
point (common random numbers, as in sweeps and comparisons). An arm's scenario is its file,
then the file's ``set:``, then the point's factor values, then the arm's own overrides (what
a check pins stays pinned). An arm shared by several checks runs once.

**Holds.** With :math:`d_{pr} = m(A_{pr}) - m(B_{pr})` the paired difference of the check's
metric at its month (or of its change since ``since``), the check *holds* at :math:`p` when
the mean :math:`\bar d_p = \frac1R\sum_r d_{pr} > 0` (a tie, :math:`\bar d_p = 0`, does not
hold). It holds *clearly* when the paired Student-t 95% interval of :math:`\bar d_p` lies
above 0 and is *reversed* when it lies below (both need :math:`R \ge 2`). Runs that raise are
recorded with their traceback; a point without a paired replication is left out of the share.

**Share.** The share of the design points where the check holds, with a Wilson score 95%
interval (Wilson 1927; ``scipy.stats.binomtest(...).proportion_ci(method="wilson")``). A
Latin hypercube spreads its points more evenly than independent draws, so this binomial
interval is, if anything, conservative for the share of the box the ranges span.

**Where it fails.** For each check that fails at some points (at least ``prim.min_failures``,
default 5: a box around one or two points says nothing, so they are listed instead) but not
all, PRIM (Friedman & Fisher 1999; EMA Workbench's ``ema_workbench.analysis.prim``) with
:math:`x` the factor values and :math:`y` = fails finds up to ``prim.boxes`` boxes. From each peeling trajectory the box
kept is the densest (share of failing points inside) among those that still cover at least
``prim.min_coverage`` of the failing points (ties: the larger coverage). Each box is reported
with its coverage, density, mass and, per restricted factor, its limits and PRIM's quasi-p
value.

Every factor path must be one where the two arms of every check agree (or that an arm pins
in its own ``set:``): a factor that overwrote what a check compares (the underfunded
backbone's pool, say) would test nothing. The checks must share a horizon, and their months
must lie within it.
"""

from __future__ import annotations

import copy
import math
import sys
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError
from tqdm import tqdm

from ci_sim.experiments.compare import CONFIDENCE
from ci_sim.experiments.experiment import (
    Factor,
    _check_factor,
    _resolve_base,
    apply_experiment_overrides,
    load_blaming_overrides,
)
from ci_sim.experiments.facts import CHECKS, Arm, Check
from ci_sim.model.columns import METRIC_NAMES
from ci_sim.model.scenario import (
    Name,
    ScenarioError,
    _from_validation,
    _load_yaml,
    _PathError,
    _Strict,
    apply_overrides,
    validate_scenario,
)
from ci_sim.runs.seeds import replication_seed

if TYPE_CHECKING:
    from ci_sim.model.scenario import Scenario

#: how a check's holding at a point is decided (recorded in the manifest)
HOLDS_RULE = (
    "holds at a point: the mean over its R paired replications of m(A) - m(B) is > 0; clearly: the paired "
    "Student-t 95% CI lies above 0; reversed: it lies below 0"
)
TABLE_COLUMNS = [
    "check",
    "fact",
    "claim",
    "points",
    "holds",
    "share",
    "share_lo",
    "share_hi",
    "share_clear",
    "share_reversed",
    "diff_median",
    "diff_p05",
    "diff_p95",
    "failed_runs",
    "where_it_fails",
]
BOX_COLUMNS = ["check", "box", "coverage", "density", "mass", "points", "factor", "low", "high", "range_low"]
BOX_COLUMNS += ["range_high", "qp_low", "qp_high"]


class ArmSpec(_Strict):
    """One arm of a check written in a robustness file."""

    scenario: str = Field(min_length=1, description="shipped scenario name, or a file relative to this file")
    set: dict[str, Any] = Field(default_factory=dict, description="overrides of this arm, by dotted key path")


class CheckSpec(_Strict):
    """A check written in a robustness file: ``metric`` of arm ``a`` above that of arm ``b``."""

    name: Name
    fact: str = ""
    a: ArmSpec
    b: ArmSpec
    metric: str = Field(min_length=1)
    month: int | None = Field(None, ge=0, description="month read (default: the horizon)")
    since: int | None = Field(None, ge=0, description="compare the change from this month instead of the level")


class PrimSpec(_Strict):
    """PRIM settings (EMA Workbench ``Prim``)."""

    boxes: int = Field(2, ge=1, le=10, description="boxes per failing check, at most")
    min_coverage: float = Field(0.5, gt=0, le=1, description="coverage a kept box must keep")
    peel_alpha: float = Field(0.05, gt=0, lt=0.5, description="share of points peeled per step")
    mass_min: float = Field(0.05, gt=0, lt=1, description="smallest box, as a share of the points")
    min_failures: int = Field(5, ge=1, description="failing points PRIM needs (fewer: they are listed, not boxed)")


class RobustnessSpec(_Strict):
    """The robustness file's schema."""

    name: Name
    description: str = ""
    set: dict[str, Any] = Field(default_factory=dict, description="overrides of every arm, by dotted key path")
    design: Literal["lhs", "grid"] = "lhs"
    factors: list[Factor] = Field(min_length=1)
    samples: int = Field(16, ge=2, le=1_000_000, description="lhs points")
    replications: int = Field(1, ge=1, le=100_000)
    seed: int = Field(2026, ge=0)
    checks: list[Any] = Field(default_factory=lambda: ["all"], min_length=1)
    prim: PrimSpec = Field(default_factory=PrimSpec)


#: the keys ``--set`` addresses in the robustness file itself; any other path goes to every arm
ROBUSTNESS_KEYS: tuple[str, ...] = tuple(RobustnessSpec.model_fields)


@dataclass
class Robustness:
    """A validated robustness file: its checks, their distinct arms and the design points.

    Attributes:
        spec: the validated file.
        source: the file name (for messages).
        checks: the checks to evaluate, in the file's order.
        arms: the distinct arms of the checks (each runs once per point and replication).
        bases: each arm's raw scenario: its file with the file's ``set:`` applied.
        steps: the horizon every arm shares.
        points: one row per design point, one column per factor path.
    """

    spec: RobustnessSpec
    source: str
    checks: list[Check]
    arms: list[Arm]
    bases: list[dict[str, Any]]
    steps: int
    points: pd.DataFrame

    @property
    def factor_paths(self) -> list[str]:
        return [f.path for f in self.spec.factors]

    @property
    def n_runs(self) -> int:
        return len(self.points) * self.spec.replications * len(self.arms)

    def arm_index(self, arm: Arm) -> int:
        return [a.key() for a in self.arms].index(arm.key())

    def readings(self) -> list[list[tuple[str, int]]]:
        """Per arm, the (metric, month) values its checks read."""
        need: list[dict[tuple[str, int], None]] = [{} for _ in self.arms]
        for check in self.checks:
            months = [check.month if check.month is not None else self.steps]
            if check.since is not None:
                months.append(check.since)
            for arm in (check.a, check.b):
                for month in months:
                    need[self.arm_index(arm)][check.metric, month] = None
        return [list(n) for n in need]

    def arm_data(self, arm: int, point: int) -> dict[str, Any]:
        """The raw scenario of one arm at one point (file, ``set:``, point values, the arm's overrides)."""
        values = {p: _plain(self.points[p].iat[point]) for p in self.factor_paths}
        data = apply_overrides(self.bases[arm], values, source=self.source)
        return apply_overrides(data, dict(self.arms[arm].set), source=self.source)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def column(metric: str, month: int) -> str:
    """The column of ``runs.parquet`` holding ``metric`` at ``month``: ``metric@month``."""
    return f"{metric}@{month}"


# --------------------------------------------------------------------------- loading


def load_robustness(path: str | Path, overrides: Sequence[str] | Mapping[str, Any] | None = None) -> Robustness:
    """Load and validate a robustness file and build its design points.

    Args:
        path: the robustness YAML file.
        overrides: ``--set`` style overrides: a path whose first key is one of
            :data:`ROBUSTNESS_KEYS` changes the file (``samples=8``); any other
            (``community.partners=80``) goes to every arm, as if added to ``set:``.

    Raises:
        ScenarioError: with the file (or the ``--set`` option), the key path of the first
            problem, the bad value and what is allowed (the CLI exits 2).
    """
    return load_blaming_overrides(lambda over: _load(Path(path), over), path, overrides, ROBUSTNESS_KEYS)


def _load(p: Path, overrides) -> Robustness:
    from ci_sim.experiments.samplers import design_points  # SALib loads only when needed

    source = str(p)
    raw = _load_yaml(p)
    if not isinstance(raw, dict):
        raise ScenarioError(source, "", raw, "a robustness file is a YAML mapping with name, factors and checks")
    if overrides:
        raw = apply_experiment_overrides(raw, overrides, ROBUSTNESS_KEYS)
    spec = _validate(RobustnessSpec, raw, source, "", ROBUSTNESS_KEYS)
    entries = [(i, check) for i, item in enumerate(spec.checks) for check in _resolve_check(item, i, source)]
    checks = [check for _, check in entries]
    seen: set[str] = set()
    for entry, check in entries:
        if check.name in seen:
            where = f"checks.{entry}" if not isinstance(spec.checks[entry], dict) else f"checks.{entry}.name"
            raise ScenarioError(source, where, check.name, "each check once (a fact's name brings all its checks)")
        seen.add(check.name)
    arms: list[Arm] = []
    for check in checks:
        for arm in (check.a, check.b):
            if arm.key() not in [a.key() for a in arms]:
                arms.append(arm)
    bases, scenarios = [], []
    for arm in arms:
        where = f"checks ({arm.label})"
        data = _load_yaml(_resolve_base(arm.scenario, p.parent, source))
        try:
            data = apply_overrides(data, spec.set, source=source)
        except ScenarioError as exc:
            raise ScenarioError(source, f"set.{exc.path}", exc.value, exc.allowed) from None
        try:
            scenarios.append(validate_scenario(apply_overrides(data, dict(arm.set), source=source), source))
        except ScenarioError as exc:
            raise ScenarioError(source, f"{where}: {exc.path}", exc.value, exc.allowed) from None
        bases.append(data)
    steps = _common_horizon(arms, scenarios, source)
    keys = [a.key() for a in arms]
    for entry, check in entries:
        where = _where(entry, check, spec.checks[entry])
        _check_reading(check, [scenarios[keys.index(x.key())] for x in (check.a, check.b)], source, where)
        _check_reading_months(check, steps, source, where)
    dumps = [sc.model_dump(mode="json") for sc in scenarios]
    for i, factor in enumerate(spec.factors):
        if factor.path in [f.path for f in spec.factors[:i]]:
            raise ScenarioError(source, f"factors.{i}.path", factor.path, "each factor path once")
        if factor.path == "steps":
            raise ScenarioError(
                source, f"factors.{i}.path", "steps", "another key path: the checks read fixed months; set: {steps: T}"
            )
        for arm, base, scenario in zip(arms, bases, scenarios, strict=True):
            try:
                _check_factor(spec, factor, i, base, source, scenario)
            except ScenarioError as exc:
                raise ScenarioError(source, exc.path, exc.value, f"{exc.allowed} (in arm {arm.label})") from None
        _check_agreement(factor, i, checks, arms, dumps, source)
    points, _ = design_points(spec, bases[0], source, scenarios[0])
    return Robustness(spec=spec, source=source, checks=checks, arms=arms, bases=bases, steps=steps, points=points)


def _validate(model, raw: Any, source: str, prefix: str, keys: Sequence[str]):
    """``model.model_validate(raw)`` with errors as ScenarioError at ``prefix`` + key path."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = _from_validation(exc, source)
        path = prefix + err.path
        if err.allowed.startswith("unknown key"):
            inner = err.path.split(".")
            known = {"factors": Factor, "prim": PrimSpec, "a": ArmSpec, "b": ArmSpec}.get(inner[0], None)
            known = known.model_fields if known is not None and len(inner) > 1 else keys
            allowed = f"unknown key; known keys here: {', '.join(known)} (experiments/README.md)"
            raise ScenarioError(source, path, err.value, allowed) from None
        raise ScenarioError(source, path, err.value, err.allowed) from None
    except _PathError as exc:
        raise ScenarioError(source, prefix + exc.path, exc.value, exc.allowed) from None


def _resolve_check(item: Any, i: int, source: str) -> list[Check]:
    """One entry of ``checks:``: a check name, a fact (``SF8``), ``all``, or a check written out."""
    facts = sorted({c.fact for c in CHECKS.values()})
    if isinstance(item, str):
        if item == "all":
            return list(CHECKS.values())
        if item in CHECKS:
            return [CHECKS[item]]
        if item.upper() in facts:
            return [c for c in CHECKS.values() if c.fact == item.upper()]
        raise ScenarioError(
            source,
            f"checks.{i}",
            item,
            f"all, a fact ({', '.join(facts)}), a check name ({', '.join(CHECKS)}), "
            "or a check written out {name, a: {scenario, set}, b: {scenario, set}, metric, month, since}",
        )
    if not isinstance(item, dict):
        raise ScenarioError(source, f"checks.{i}", item, "a check name or a mapping {name, a, b, metric}")
    spec = _validate(CheckSpec, item, source, f"checks.{i}.", tuple(CheckSpec.model_fields))
    arm_a, arm_b = (Arm(s.scenario, dict(s.set)) for s in (spec.a, spec.b))
    return [Check(spec.name, spec.fact or "custom", arm_a, arm_b, spec.metric, spec.month, spec.since)]


def _where(entry: int, check: Check, item: Any) -> str:
    """The key path of a check's settings: ``checks.3`` written out, ``checks.0 (sf7_trust_self)`` by name."""
    return f"checks.{entry}" if isinstance(item, dict) else f"checks.{entry} ({check.name})"


def _common_horizon(arms: list[Arm], scenarios: list[Scenario], source: str) -> int:
    horizons = {arm.label: sc.steps for arm, sc in zip(arms, scenarios, strict=True)}
    if len(set(horizons.values())) > 1:
        shown = ", ".join(f"{k}: {v}" for k, v in horizons.items())
        raise ScenarioError(source, "set.steps", shown, "arms with one horizon: give set: {steps: T}")
    return next(iter(horizons.values()))


def _check_reading(check: Check, scenarios: list[Scenario], source: str, where: str) -> None:
    """The metric must be one both arms of the check report."""
    known = list(METRIC_NAMES)
    for sc in scenarios:
        known += [f"outcome_{k}" for a in sc.issue_areas for k in a.outcomes if f"outcome_{k}" not in known]
    if check.metric not in known:
        allowed = f"a metric both arms report: one of {', '.join(known)}"
        raise ScenarioError(source, f"{where}.metric", check.metric, allowed)


def _check_reading_months(check: Check, steps: int, source: str, where: str) -> None:
    """The months a check reads must lie within the horizon, ``since`` before ``month``."""
    month = check.month if check.month is not None else steps
    if month > steps:
        raise ScenarioError(source, f"{where}.month", month, f"a month from 0 to the horizon, {steps} (set: steps)")
    if check.since is not None and not check.since < month:
        raise ScenarioError(source, f"{where}.since", check.since, f"a month before the one read ({month})")


def _value_at(data: Any, path: str) -> Any:
    node = data
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def _check_agreement(factor: Factor, i: int, checks, arms, dumps, source: str) -> None:
    """Refuse a factor that would overwrite what a check compares (its arms differ there)."""
    keys = [a.key() for a in arms]
    for check in checks:
        pinned = factor.path in check.a.set or factor.path in check.b.set
        values = [_value_at(dumps[keys.index(arm.key())], factor.path) for arm in (check.a, check.b)]
        if not pinned and values[0] != values[1]:
            raise ScenarioError(
                source,
                f"factors.{i}.path",
                factor.path,
                f"a key path where the arms of every check agree: {check.name} compares {check.a.label} "
                f"({values[0]!r}) with {check.b.label} ({values[1]!r}) there, and the factor would overwrite "
                "that difference (leave the check out, or pin the path in an arm's set:)",
            )


# --------------------------------------------------------------------------- running


def _run_point(task) -> tuple[int, int, list[dict[str, Any]]]:
    """Run every arm at one (point, replication): the executors' function (pure, picklable)."""
    from ci_sim.runs.runner import run_scenario  # the engine loads only to run

    point, replication, seed, arms, source = task
    rows = []
    for arm, data, readings in arms:
        row: dict[str, Any] = {"arm": arm, "point": point, "replication": replication, "seed": seed}
        try:
            scenario = validate_scenario(data, source)
            partial_months = any(month != scenario.steps for _, month in readings)
            result = run_scenario(scenario, seed, timeseries=partial_months, agent_period=0)
            if partial_months:
                series = result.timeseries.set_index("step")
                values = {column(m, t): float(series.at[t, m]) for m, t in readings}
            else:
                values = {column(m, t): float(result.final[m]) for m, t in readings}
            row |= {"status": "ok", "error": "", **values}
        except Exception:  # noqa: BLE001 - a failed run is recorded, the others go on
            row |= {"status": "error", "error": traceback.format_exc()}
            row |= {column(m, t): math.nan for m, t in readings}
        rows.append(row)
    return point, replication, rows


def run_robustness(rob: Robustness, evaluator, progress: bool = True) -> pd.DataFrame:
    """Run every arm at every point and replication (common random numbers).

    Returns:
        One row per run, in (point, replication, arm) order: ``arm`` (index into
        ``rob.arms``), ``arm_label``, ``point``, ``replication``, ``seed``, ``status``,
        ``error`` and one ``metric@month`` column per reading (NaN where an arm does not
        read it, or the run failed).
    """
    readings = rob.readings()
    reps = rob.spec.replications

    def tasks():
        for point in range(len(rob.points)):
            arms = [(a, rob.arm_data(a, point), readings[a]) for a in range(len(rob.arms))]
            for rep in range(reps):
                yield point, rep, replication_seed(rob.spec.seed, rep), copy.deepcopy(arms), rob.source

    done: dict[tuple[int, int], list[dict[str, Any]]] = {}
    total = len(rob.points) * reps
    bar = tqdm(total=total, desc=rob.spec.name, unit="point", disable=not progress, file=sys.stderr)
    with evaluator as executor, bar:
        window = max(4, 4 * getattr(evaluator, "workers", 1))
        pending = tasks()
        in_flight: list = []
        for task in pending:
            in_flight.append(executor.submit(_run_point, task))
            if len(in_flight) >= window:
                _collect(in_flight.pop(0), done, bar)
        for future in in_flight:
            _collect(future, done, bar)
    rows = [row for key in sorted(done) for row in done[key]]
    frame = pd.DataFrame(rows)
    frame.insert(1, "arm_label", [rob.arms[a].label for a in frame["arm"]])
    return frame


def _collect(future, done, bar) -> None:
    point, rep, rows = future.result()
    done[point, rep] = rows
    bar.update(1)


# --------------------------------------------------------------------------- analysis


def paired_differences(rob: Robustness, runs: pd.DataFrame, check: Check) -> pd.DataFrame:
    """The paired differences A − B of one check: one row per (point, replication) with both arms."""
    month = check.month if check.month is not None else rob.steps

    def reading(arm: Arm) -> pd.Series:
        part = runs[runs["arm"] == rob.arm_index(arm)].set_index(["point", "replication"])
        value = part[column(check.metric, month)]
        if check.since is not None:
            value = value - part[column(check.metric, check.since)]
        return value

    diff = (reading(check.a) - reading(check.b)).dropna()
    return diff.rename("diff").reset_index()


def point_table(rob: Robustness, runs: pd.DataFrame) -> pd.DataFrame:
    """Per check and design point: the mean paired difference, its 95% t CI, and whether it holds.

    Columns: ``check``, ``point``, the factor values, ``n`` (paired replications), ``diff``,
    ``diff_lo``, ``diff_hi`` (NaN with n < 2), ``holds`` (``diff > 0``; NaN without pairs),
    ``clear`` (``diff_lo > 0``) and ``reversed`` (``diff_hi < 0``).
    """
    from ci_sim.experiments.compare import mean_ci

    frames = []
    for check in rob.checks:
        diffs = paired_differences(rob, runs, check).groupby("point")["diff"]
        rows = []
        for point in range(len(rob.points)):
            values = diffs.get_group(point).to_numpy(float) if point in diffs.groups else np.array([])
            mean, lo, hi = mean_ci(values, CONFIDENCE)
            holds = float(mean > 0) if values.size else math.nan
            rows.append(
                {
                    "check": check.name,
                    "point": point,
                    "n": int(values.size),
                    "diff": mean,
                    "diff_lo": lo,
                    "diff_hi": hi,
                    "holds": holds,
                    "clear": float(lo > 0) if np.isfinite(lo) else math.nan,
                    "reversed": float(hi < 0) if np.isfinite(hi) else math.nan,
                }
            )
        frame = pd.DataFrame(rows)
        frames.append(
            pd.concat([frame[["check", "point"]], rob.points, frame.drop(columns=["check", "point"])], axis=1)
        )
    return pd.concat(frames, ignore_index=True)


def wilson(k: int, n: int, level: float = CONFIDENCE) -> tuple[float, float, float]:
    """Share ``k / n`` and its Wilson score interval (Wilson 1927), via scipy; NaN if ``n == 0``."""
    from scipy.stats import binomtest

    if n == 0:
        return math.nan, math.nan, math.nan
    ci = binomtest(k, n).proportion_ci(level, method="wilson")
    return k / n, float(ci.low), float(ci.high)


@dataclass
class PrimBox:
    """One PRIM box: where a check fails.

    Attributes:
        check: the check's name.
        box: 1 for the first box found, 2 for the next (found among the points outside the first)...
        coverage: share of all failing points that lie in the box.
        density: share of the points in the box that fail.
        mass: share of all points in the box.
        points: points in the box.
        limits: per restricted factor, ``(low, high, range_low, range_high, qp_low, qp_high)``.
    """

    check: str
    box: int
    coverage: float
    density: float
    mass: float
    points: int
    limits: dict[str, tuple[float, float, float, float, float, float]]

    def describe(self) -> str:
        """E.g. ``parameters.overhead ≥ 5.95e+03 (coverage 100%, density 100%, 10 points)``."""
        parts = []
        for factor, (low, high, r_low, r_high, _, _) in self.limits.items():
            cut_low, cut_high = low > r_low, high < r_high
            if cut_low and cut_high:
                parts.append(f"{_num(low)} ≤ {factor} ≤ {_num(high)}")
            elif cut_low:
                parts.append(f"{factor} ≥ {_num(low)}")
            else:
                parts.append(f"{factor} ≤ {_num(high)}")
        where = " and ".join(parts) or "the whole space"
        n = f"{self.points} point{'' if self.points == 1 else 's'}"
        return f"{where} (coverage {self.coverage:.0%}, density {self.density:.0%}, {n})"


def _num(x: float) -> str:
    return f"{x:.3g}"


def prim_boxes(rob: Robustness, points: pd.DataFrame) -> list[PrimBox]:
    """PRIM boxes of the points where each check fails (checks that fail everywhere or nowhere get none)."""
    import logging
    import warnings

    with warnings.catch_warnings():  # EMA warns about optional parallel back ends it does not need here
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

    logging.getLogger("EMA").setLevel(logging.WARNING)
    ranges = {f.path: f.bounds for f in rob.spec.factors}
    out = []
    for check in rob.checks:
        part = points[(points["check"] == check.name) & points["holds"].notna()].reset_index(drop=True)
        fails = (part["holds"] == 0).to_numpy()
        if not rob.spec.prim.min_failures <= fails.sum() < len(part):
            continue
        with warnings.catch_warnings():  # EMA's own use of a keyword pandas deprecates (not ours to fix)
            warnings.filterwarnings("ignore", message="The inplace keyword")
            finder = prim.Prim(
                part[rob.factor_paths].astype(float),
                fails,
                peel_alpha=rob.spec.prim.peel_alpha,
                mass_min=rob.spec.prim.mass_min,
            )
        for number in range(1, rob.spec.prim.boxes + 1):
            box = finder.find_box()
            if box is None:
                break
            chosen = _choose(box.peeling_trajectory, rob.spec.prim.min_coverage)
            if chosen is None:
                break
            box.select(chosen)  # the next box is looked for among the points outside this one
            stats, limits = box.inspect(chosen, style="data")[0]
            initial = box.box_lims[0]  # PRIM's first box: the points' own minima and maxima
            box_limits = {}
            for factor, row in limits.iterrows():
                low, high, qp_low, qp_high = (float(v) for v in row.to_numpy()[:4])
                r_low, r_high = ranges[str(factor)]
                # a side PRIM did not peel is the factor's range, not the extreme point drawn
                low = low if low > initial.at[0, factor] else r_low
                high = high if high < initial.at[1, factor] else r_high
                box_limits[str(factor)] = (low, high, r_low, r_high, qp_low, qp_high)
            out.append(
                PrimBox(
                    check.name,
                    number,
                    float(stats["coverage"]),
                    float(stats["density"]),
                    float(stats["mass"]),
                    int(stats["n"]),
                    box_limits,
                )
            )
            if float(stats["coverage"]) >= 1:  # every failing point is in it: nothing left to find
                break
    return out


def _choose(trajectory: pd.DataFrame, min_coverage: float) -> int | None:
    """The box kept from a peeling trajectory: densest with coverage ≥ min_coverage (ties: larger coverage)."""
    ok = trajectory[(trajectory["coverage"] >= min_coverage) & (trajectory["res_dim"] > 0)]
    if ok.empty:
        return None
    best = ok.sort_values(["density", "coverage"], ascending=[False, False], kind="stable")
    return int(best.index[0])


def robustness_table(rob: Robustness, points: pd.DataFrame, runs: pd.DataFrame, boxes: list[PrimBox]) -> pd.DataFrame:
    """One row per check (the columns :data:`TABLE_COLUMNS`): the share of the space where it holds."""
    rows = []
    for check in rob.checks:
        part = points[(points["check"] == check.name) & points["holds"].notna()]
        k, n = int(part["holds"].sum()), len(part)
        share, lo, hi = wilson(k, n)
        arms = {rob.arm_index(check.a), rob.arm_index(check.b)}
        failed = int(((runs["status"] == "error") & runs["arm"].isin(arms)).sum())
        diff = part["diff"].to_numpy(float)
        where = "; ".join(b.describe() for b in boxes if b.check == check.name)
        if 0 < n - k < rob.spec.prim.min_failures:
            failing = part.loc[part["holds"] == 0, "point"].tolist()
            where = (
                f"fails at {n - k} point(s), too few for PRIM: point(s) {', '.join(map(str, failing))} of points.csv"
            )
        elif n and k == 0:
            where = "fails everywhere"
        elif n and k == n:
            where = "holds everywhere"
        rows.append(
            {
                "check": check.name,
                "fact": check.fact,
                "claim": check.describe(),
                "points": n,
                "holds": k,
                "share": share,
                "share_lo": lo,
                "share_hi": hi,
                "share_clear": part["clear"].mean() if part["clear"].notna().any() else math.nan,
                "share_reversed": part["reversed"].mean() if part["reversed"].notna().any() else math.nan,
                "diff_median": float(np.median(diff)) if n else math.nan,
                "diff_p05": float(np.percentile(diff, 5)) if n else math.nan,
                "diff_p95": float(np.percentile(diff, 95)) if n else math.nan,
                "failed_runs": failed,
                "where_it_fails": where,
            }
        )
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def boxes_frame(boxes: list[PrimBox]) -> pd.DataFrame:
    """The PRIM boxes as rows (one per box and restricted factor): ``prim_boxes.csv``."""
    rows = [
        {
            "check": b.check,
            "box": b.box,
            "coverage": b.coverage,
            "density": b.density,
            "mass": b.mass,
            "points": b.points,
            "factor": factor,
            "low": lim[0],
            "high": lim[1],
            "range_low": lim[2],
            "range_high": lim[3],
            "qp_low": lim[4],
            "qp_high": lim[5],
        }
        for b in boxes
        for factor, lim in b.limits.items()
    ]
    return pd.DataFrame(rows, columns=BOX_COLUMNS)


def format_robustness(table: pd.DataFrame, replications: int) -> str:
    """The terminal table: per check the share of the space where it holds [Wilson 95% CI] and where it fails."""
    width = max(len("check"), *(len(c) for c in table["check"])) + 2
    lines = [f"{'check':<{width}}{'holds at':>10}  {'share [95% CI]':<22}{'clearly':>9}  where it fails (PRIM)"]
    for r in table.itertuples():
        share = f"{r.share:.0%} [{r.share_lo:.0%}, {r.share_hi:.0%}]" if r.points else "n/a (no runs)"
        clear = f"{r.share_clear:.0%}" if np.isfinite(r.share_clear) else "n/a"
        lines.append(f"{r.check:<{width}}{f'{r.holds}/{r.points}':>10}  {share:<22}{clear:>9}  {r.where_it_fails}")
    lines.append(
        f"\nholds at a point: the mean of {replications} paired replication(s) of A − B is > 0 (same seeds in both "
        "arms); clearly: its paired 95% t CI lies above 0.\nshare: of the design points, Wilson 95% CI. PRIM boxes: "
        "where the check fails (coverage: share of the failing points inside; density: share of the points inside "
        "that fail)."
    )
    return "\n".join(lines)


def write_robustness(
    out: Path,
    rob: Robustness,
    runs: pd.DataFrame,
    points: pd.DataFrame,
    table: pd.DataFrame,
    boxes: list[PrimBox],
    **fields: Any,
) -> None:
    """Write ``robustness.csv``, ``points.csv``, ``prim_boxes.csv``, ``runs.parquet`` and ``manifest.json``.

    ``fields`` (evaluator, timings...) are added to the manifest.
    """
    from ci_sim.runs.results import manifest, write_csv, write_json, write_parquet

    write_csv(table, out / "robustness.csv")
    write_csv(points, out / "points.csv")
    write_csv(boxes_frame(boxes), out / "prim_boxes.csv")
    write_parquet(runs, out / "runs.parquet")
    write_json(
        manifest(
            robustness=rob.spec.name,
            robustness_file=rob.source,
            spec=rob.spec.model_dump(mode="json"),
            checks=[
                {
                    "name": c.name,
                    "fact": c.fact,
                    "claim": c.describe(),
                    "a": {"scenario": c.a.scenario, "set": dict(c.a.set)},
                    "b": {"scenario": c.b.scenario, "set": dict(c.b.set)},
                    "metric": c.metric,
                    "month": c.month if c.month is not None else rob.steps,
                    "since": c.since,
                }
                for c in rob.checks
            ],
            arms=[a.label for a in rob.arms],
            steps=rob.steps,
            factors=rob.factor_paths,
            n_points=len(rob.points),
            replications=rob.spec.replications,
            n_runs=rob.n_runs,
            failed_runs=int((runs["status"] == "error").sum()),
            seeds=[replication_seed(rob.spec.seed, r) for r in range(rob.spec.replications)],
            seeding="common random numbers: replication_seed(seed, replication) in every arm at every point",
            holds_rule=HOLDS_RULE,
            share_interval="Wilson score 95% interval over design points (scipy.stats.binomtest)",
            prim_boxes=[{**vars(b), "where": b.describe()} for b in boxes],
            table=table.to_dict("records"),
            **fields,
        ),
        out / "manifest.json",
    )
