"""Experiment files: a base scenario, factors as dotted key paths, a design, replications.

An experiment is declared as data (YAML, validated like scenarios; errors are
:class:`~ci_sim.model.scenario.ScenarioError` with key paths, so the CLI exits 2 and writes
nothing)::

    name: backbones_sweep
    base: nine_backbones            # a shipped scenario name or a path (relative to this file)
    set: {steps: 120}               # overrides of the base, by dotted key path
    design: grid                    # grid | lhs | sobol | morris
    factors:
      - {path: issue_areas.0.backbones.count, levels: [1, 3, 5, 7, 9]}
      - {path: issue_areas.0.backbones.neutrality, range: [0.1, 0.9], num: 3}
    replications: 3
    seed: 2026
    metrics: [outcome_improvement, alignment]
    timeseries: false

Each run is (point, replication). Its seed depends on the replication alone,
:func:`~ci_sim.runs.runner.replication_seed` ``(seed, replication)``: common random numbers,
so within a replication every design point sees the same random draws and the differences
between points are the factors' effects, not seed noise (a factor without effect gives the
same numbers at every level, and a Sobol' index of exactly 0). Replication ``r`` of a point
is the run ``ci-sim run --seed SEED`` makes as its replication ``r`` with the point's values
set. Results do not depend on the executor, the worker count or the order in which runs
finish.

Every factor is checked before anything runs: its path must exist in the base scenario and
each of its levels (or both ends of its range) must give a valid scenario on its own. A
*combination* of factor values can still be refused when the run starts (say an event
moved past a shortened horizon); that run is recorded as failed and the sweep goes on.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, model_validator

from ci_sim.model.columns import KEY_METRICS, METRIC_NAMES
from ci_sim.model.scenario import (
    Name,
    Scenario,
    ScenarioError,
    _drop_late_events,
    _from_validation,
    _load_yaml,
    _PathError,
    _split_override,
    _Strict,
    apply_overrides,
    shipped_scenario_dir,
    upgrade_scenario_data,
    validate_scenario,
)
from ci_sim.runs.seeds import replication_seed

Design = Literal["grid", "lhs", "sobol", "morris"]
#: how run seeds are derived (in the fingerprint: a folder seeded otherwise is never resumed
#: or analysed as if its runs had these seeds)
SEEDING = "common random numbers: replication_seed(seed, replication) at every point"


def _kind(value: Any) -> str:
    """The kind of a level: bool, number or text (a factor's levels share one kind)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


class Factor(_Strict):
    """One factor: a dotted key path into the scenario and its levels or range."""

    path: str = Field(min_length=1, description="dotted key path into the base scenario")
    levels: list[Any] | None = Field(None, description="the values to try (grid), or their span (samplers)")
    range: list[float] | None = Field(None, description="[low, high] for samplers; a grid needs num too")
    num: int | None = Field(None, ge=2, le=1000, description="grid points evenly spread over the range")
    integer: bool | None = Field(
        None, description="round sampled values (default: if the scenario schema types the field int)"
    )

    @model_validator(mode="after")
    def _one_of(self) -> Factor:
        if (self.levels is None) == (self.range is None):
            raise _PathError("", self.path, "give either levels: [...] or range: [low, high]")
        if self.levels is not None:
            if not self.levels:
                raise _PathError("levels", self.levels, "at least one level")
            for j, v in enumerate(self.levels):
                if isinstance(v, float) and not math.isfinite(v):
                    raise _PathError(f"levels.{j}", v, "not a finite number: infinity and NaN are refused")
            kinds = {_kind(v) for v in self.levels}
            if len(kinds) > 1 or kinds - {"bool", "number", "text"}:
                raise _PathError("levels", self.levels, "levels of one kind: all numbers, all text or all true/false")
        if self.range is not None:
            if len(self.range) != 2:
                raise _PathError("range", self.range, "two numbers [low, high]")
            if not self.range[0] < self.range[1]:
                raise _PathError("range", self.range, "low < high (the range is empty or inverted)")
        return self

    @property
    def numeric(self) -> bool:
        """Whether the factor takes numbers (a range, or numeric levels)."""
        return self.range is not None or all(_kind(v) == "number" for v in self.levels)

    @property
    def bounds(self) -> list[float]:
        """``[low, high]`` of a numeric factor (its range, or the span of its levels)."""
        if self.range is not None:
            return [float(self.range[0]), float(self.range[1])]
        return [float(min(self.levels)), float(max(self.levels))]


class ExperimentSpec(_Strict):
    """The experiment file's schema."""

    name: Name
    description: str = ""
    base: str = Field(min_length=1, description="shipped scenario name, or a file relative to the experiment")
    set: dict[str, Any] = Field(default_factory=dict, description="overrides of the base, by dotted key path")
    design: Design = "grid"
    factors: list[Factor] = Field(min_length=1)
    samples: int = Field(16, ge=1, le=1_000_000, description="lhs points, sobol base N, morris trajectories")
    levels: int = Field(4, ge=2, le=20, description="morris grid levels")
    second_order: bool = Field(False, description="sobol: also second-order indices")
    replications: int = Field(1, ge=1, le=100_000)
    seed: int = Field(2026, ge=0)
    metrics: list[str] = Field(default_factory=lambda: list(KEY_METRICS), min_length=1)
    timeseries: bool = Field(False, description="keep every step of every run (timeseries/ parts)")


#: the keys ``--set`` addresses in the experiment itself; any other path goes to its base
EXPERIMENT_KEYS: tuple[str, ...] = tuple(ExperimentSpec.model_fields)


@dataclass
class Experiment:
    """A validated experiment: its spec, the base scenario data and the design points.

    Attributes:
        spec: the validated experiment file.
        source: where it came from (file name, for messages).
        base: the base scenario as raw data, with ``set:`` applied.
        points: one row per design point, one column per factor path (the values run).
        sample: the sampler's matrix before integer factors were rounded (Morris
            analyses need it); ``None`` for grids.
        drop_late_events: runs leave out events at or after their horizon instead of
            failing (``--allow-dropped-events``).
    """

    spec: ExperimentSpec
    source: str
    base: dict[str, Any]
    points: pd.DataFrame
    sample: np.ndarray | None = None
    drop_late_events: bool = False
    posterior: Any = None

    @property
    def factor_paths(self) -> list[str]:
        return [f.path for f in self.spec.factors]

    @property
    def posterior_paths(self) -> list[str]:
        """The posterior's parameters that the runs draw (those no factor sets)."""
        if self.posterior is None:
            return []
        return [p for p in self.posterior.params if p not in self.overridden_by_factors]

    @property
    def overridden_by_factors(self) -> list[str]:
        """Posterior parameters that a factor also sets: the factor's value is run, not the draw."""
        if self.posterior is None:
            return []

        def matches(pattern: str, path: str) -> bool:
            a, b = pattern.split("."), path.split(".")
            return len(a) == len(b) and all(x in ("*", y) for x, y in zip(a, b, strict=True))

        return [p for p in self.posterior.params if any(matches(p, f) for f in self.factor_paths)]

    def posterior_values(self, replication: int) -> dict[str, float]:
        """The posterior draw of ``replication`` (the same at every point: paired), without the factors' paths."""
        if self.posterior is None:
            return {}
        keep = set(self.posterior_paths)
        return {p: v for p, v in self.posterior.draw(self.spec.seed, replication).items() if p in keep}

    @property
    def n_runs(self) -> int:
        return len(self.points) * self.spec.replications

    def run_seed(self, point: int, replication: int) -> int:
        """The seed of run (point, replication): the replication's, the same at every point.

        Common random numbers across the design points of a replication (see the module
        docstring); independent of who runs it, and when. ``point`` is accepted so callers
        name the run, but does not change the seed.
        """
        del point  # common random numbers: every point of a replication shares its seed
        return replication_seed(self.spec.seed, replication)

    def overrides(self, point: int) -> dict[str, Any]:
        """The overrides (factor path -> value) of one point, as plain Python values."""
        return {path: _plain(self.points[path].iat[point]) for path in self.points.columns}

    def tasks(self, skip: set[int] | frozenset[int] = frozenset()) -> Iterator[RunTask]:
        """Every run not in ``skip`` as a small picklable task, in run_id order (point-major)."""
        reps = self.spec.replications
        for point in range(len(self.points)):
            over = None
            for rep in range(reps):
                run_id = point * reps + rep
                if run_id in skip:
                    continue
                over = over if over is not None else self.overrides(point)
                yield RunTask(run_id, point, rep, self.run_seed(point, rep), over, self.posterior_values(rep))

    def fingerprint(self) -> str:
        """A hash of everything that decides the runs' numbers (a resume must match it)."""
        spec = self.spec.model_dump(mode="json", exclude={"description"})
        blob = json.dumps(
            {
                "spec": spec,
                "base": self.base,
                "points": self.points.to_dict("list"),
                "seeds": SEEDING,
                **({"drop_late_events": True} if self.drop_late_events else {}),
                **({"posterior": self.posterior.sha256()} if self.posterior is not None else {}),
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        """The resolved experiment (``experiment.json`` of a sweep folder)."""
        return {
            "source": self.source,
            "spec": self.spec.model_dump(mode="json"),
            "factors": self.factor_paths,
            "base": self.base,
            "points": self.points.to_dict("list"),
            "n_points": len(self.points),
            "n_runs": self.n_runs,
            "drop_late_events": self.drop_late_events,
            "posterior": self.posterior.describe() if self.posterior is not None else None,
            "posterior_overridden_by_factors": self.overridden_by_factors,
            "fingerprint": self.fingerprint(),
        }


@dataclass(frozen=True)
class RunTask:
    """One run of a sweep (small and picklable)."""

    run_id: int
    point: int
    replication: int
    seed: int
    overrides: dict[str, Any]
    posterior: dict[str, float] = field(default_factory=dict)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _resolve_base(base: str, folder: Path, source: str) -> Path:
    for cand in (folder / base, Path(base), shipped_scenario_dir() / f"{base}.yaml", shipped_scenario_dir() / base):
        if cand.is_file():
            return cand
    raise ScenarioError(
        source, "base", base, "a scenario file (relative to the experiment file) or a shipped scenario name"
    )


def apply_experiment_overrides(
    raw: dict[str, Any], overrides: Sequence[str] | Mapping[str, Any], keys: Sequence[str] = EXPERIMENT_KEYS
) -> dict[str, Any]:
    """Apply ``--set`` overrides to raw experiment data.

    A path whose first key is an experiment key (``samples``, ``replications``, ``seed``,
    ``factors.0.levels``...; ``keys``, the file format's own keys) changes the experiment; any
    other path (``steps``, ``community.partners``...) changes the base scenario, as if added to
    ``set:``.

    Raises:
        ScenarioError: a malformed override or a path that does not exist.
    """
    raw = copy.deepcopy(raw)
    items = overrides.items() if isinstance(overrides, Mapping) else [_split_override(o, "--set") for o in overrides]
    for key, value in items:
        head, _, rest = key.partition(".")
        if head == "set" and rest:
            raw.setdefault("set", {})
            if not isinstance(raw["set"], dict):
                raise ScenarioError("--set", "set", raw["set"], "set: is a mapping of key paths to values")
            raw["set"][rest] = value
        elif head in keys:
            _set_plain(raw, key, value)
        else:
            raw.setdefault("set", {})
            if isinstance(raw["set"], dict):
                raw["set"][key] = value
    return raw


def _set_plain(data: Any, key: str, value: Any) -> None:
    parts = key.split(".")
    node = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError("--set", here, part, f"a list index from 0 to {len(node) - 1}")
            part = int(part)
        elif not isinstance(node, dict):
            raise ScenarioError("--set", here, part, f"{'.'.join(parts[:depth])} holds a value, not a mapping or list")
        if last:
            node[part] = value
        else:
            if isinstance(node, dict) and part not in node:
                node[part] = {}
            node = node[part]


def load_experiment(
    path: str | Path,
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
    *,
    drop_late_events: bool = False,
) -> Experiment:
    """Load and validate an experiment file, and build its design points.

    Args:
        path: the experiment YAML file.
        overrides: ``--set`` style overrides (see :func:`apply_experiment_overrides`).
        drop_late_events: leave out the base's events at or after its horizon (and each
            run's, if a factor moves the horizon) instead of refusing them.

    Raises:
        ScenarioError: with the key path of the first problem (the CLI exits 2). A problem
            that an override brings in names that ``--set`` option, not the file.
    """
    return load_blaming_overrides(lambda over: _load_experiment(path, over, drop_late_events), path, overrides)


def load_blaming_overrides(load, path, overrides, keys: Sequence[str] = EXPERIMENT_KEYS):
    """``load(overrides)``; if that fails but ``load(None)`` does not, blame the ``--set`` option.

    Args:
        load: loads the file with the given overrides (or none).
        path: the file, for messages.
        overrides: the ``--set`` options.
        keys: the file format's own keys (named in a message about an unknown key).

    Raises:
        ScenarioError: naming the file when the file itself is at fault, else the option.
    """
    try:
        return load(overrides)
    except ScenarioError as exc:
        if not overrides:
            raise
        try:
            load(None)
        except ScenarioError:
            raise exc from None  # the file itself is at fault: its message names the file
        raise _blame_overrides(exc, overrides, str(path), keys) from None


def _blame_overrides(exc: ScenarioError, overrides, source: str, keys=EXPERIMENT_KEYS) -> ScenarioError:
    """Name the ``--set`` option that made a valid experiment file invalid."""
    pairs = overrides.items() if isinstance(overrides, Mapping) else [o.partition("=")[::2] for o in overrides]
    changed = {str(k).strip(): f"--set {str(k).strip()}={v}" for k, v in pairs}
    allowed = exc.allowed
    if "would never happen" in allowed and "--allow-dropped-events" not in allowed:
        allowed += "; to run without them say so: --allow-dropped-events"
    if exc.path.startswith("set.") and ("no such key" in allowed or allowed.startswith("unknown key")):
        allowed += f"; or one of the file's own keys: {', '.join(keys)}"
    for key, option in changed.items():
        for path in (exc.path, exc.path.removeprefix("set.")):
            if path and (path == key or path.startswith(key + ".") or key.startswith(path + ".")):
                return ScenarioError(option, exc.path, exc.value, allowed)
    return ScenarioError(f"{', '.join(changed.values())} (applied to {source})", exc.path, exc.value, allowed)


def _load_experiment(path, overrides, drop_late_events: bool) -> Experiment:
    from ci_sim.experiments.samplers import design_points  # samplers import SALib: only when needed

    p = Path(path)
    source = str(p)
    raw = _load_yaml(p)
    if not isinstance(raw, dict):
        raise ScenarioError(source, "", raw, "an experiment is a YAML mapping with name, base, design and factors")
    if overrides:
        raw = apply_experiment_overrides(raw, overrides)
    try:
        spec = ExperimentSpec.model_validate(raw)
    except ValidationError as exc:
        err = _from_validation(exc, source)
        if err.allowed.startswith("unknown key"):
            keys = Factor.model_fields if err.path.startswith("factors.") else ExperimentSpec.model_fields
            err = ScenarioError(
                source, err.path, err.value, f"unknown key; known keys here: {', '.join(keys)} (experiments/README.md)"
            )
        raise err from None
    except _PathError as exc:
        raise ScenarioError(source, exc.path, exc.value, exc.allowed) from None
    base_path = _resolve_base(spec.base, p.parent, source)
    base = _load_yaml(base_path)
    if not isinstance(base, dict):
        raise ScenarioError(source, "base", spec.base, "a scenario file (a YAML mapping)")
    base = upgrade_scenario_data(base, str(base_path))  # one fingerprint whatever format the file is in
    try:
        base = apply_overrides(base, spec.set, source=source)
    except ScenarioError as exc:
        raise ScenarioError(source, f"set.{exc.path}", exc.value, exc.allowed) from None
    if drop_late_events:
        base = _drop_late_events(base)
    scenario = _validate_base(base, source)
    _check_metrics(spec, scenario, source)
    _check_design(spec, source)
    paths = [f.path for f in spec.factors]
    for i, factor in enumerate(spec.factors):
        if factor.path in paths[:i]:
            raise ScenarioError(source, f"factors.{i}.path", factor.path, "each factor path once")
        _check_factor(spec, factor, i, base, source, scenario, drop_late_events)
    points, sample = design_points(spec, base, source, scenario)
    return Experiment(
        spec=spec, source=source, base=base, points=points, sample=sample, drop_late_events=drop_late_events
    )


def _validate_base(data: dict[str, Any], source: str) -> Scenario:
    try:
        return validate_scenario(copy.deepcopy(data), source)
    except ScenarioError as exc:
        raise ScenarioError(source, f"set (base scenario {exc.path})", exc.value, exc.allowed) from None


def _check_metrics(spec: ExperimentSpec, scenario: Scenario, source: str) -> None:
    outcome_names = [f"outcome_{k}" for a in scenario.issue_areas for k in a.outcomes]
    known = [*METRIC_NAMES, *outcome_names]
    for i, m in enumerate(spec.metrics):
        if m not in known:
            raise ScenarioError(source, f"metrics.{i}", m, f"one of {', '.join(known)}")
    if len(set(spec.metrics)) != len(spec.metrics):
        raise ScenarioError(source, "metrics", spec.metrics, "each metric once")


#: scenario keys a sweep does not use: varying them would change nothing but the columns
_NO_EFFECT = {
    "seed": "another key path: each run's seed comes from the experiment's seed (SeedSequence of point and "
    "replication); for more seeds raise the experiment's replications",
    "replications": "another key path: a sweep runs the experiment's replications per point, not the scenario's",
    "format": "another key path: the scenario file format changes how a file is read, never a run's numbers",
}


def _check_design(spec: ExperimentSpec, source: str) -> None:
    """Settings that only make sense for some designs, and Morris's own requirements."""
    if spec.second_order and spec.design != "sobol":
        raise ScenarioError(
            source, "second_order", True, f"false: second-order indices need the sobol design, not {spec.design}"
        )
    if spec.design == "morris":
        if spec.levels % 2:
            raise ScenarioError(source, "levels", spec.levels, "an even number of Morris grid levels (4, 6, 8...)")
        if spec.samples < 2:
            raise ScenarioError(source, "samples", spec.samples, "at least 2 Morris trajectories (sigma needs two)")


def _check_factor(
    spec: ExperimentSpec,
    factor: Factor,
    i: int,
    base: dict[str, Any],
    source: str,
    scenario: Scenario,
    drop_late_events: bool = False,
) -> None:
    """The factor must suit the design, its path must exist and every value must be valid alone."""
    from ci_sim.experiments.samplers import is_integer

    key = f"factors.{i}"
    if factor.path in _NO_EFFECT:
        raise ScenarioError(source, f"{key}.path", factor.path, _NO_EFFECT[factor.path])
    sampled = spec.design != "grid"
    if factor.num is not None and (factor.levels is not None or sampled):
        why = (
            "list the levels themselves"
            if factor.levels is not None
            else f"the {spec.design} design draws `samples` points"
        )
        raise ScenarioError(
            source, f"{key}.num", factor.num, f"no num here: num spreads grid points over a range; {why}"
        )
    if sampled and not factor.numeric:
        raise ScenarioError(
            source,
            f"{key}.levels",
            factor.levels,
            f"numbers (levels or a range): the {spec.design} design samples numeric factors only",
        )
    if factor.integer is not None and not factor.numeric:
        raise ScenarioError(
            source, f"{key}.integer", factor.integer, "no integer: here; it applies to numeric factors only"
        )
    if factor.levels is not None:
        if sampled and min(factor.levels) == max(factor.levels):
            raise ScenarioError(
                source,
                f"{key}.levels",
                factor.levels,
                f"at least two different numbers: the {spec.design} design samples the span [min, max] of the levels",
            )
        if not sampled and len(set(factor.levels)) < len(factor.levels):
            raise ScenarioError(
                source, f"{key}.levels", factor.levels, "each level once (a repeated level repeats its runs)"
            )
    if spec.design == "grid" and factor.range is not None and factor.num is None:
        raise ScenarioError(source, f"{key}.num", None, "how many grid points over the range (2 or more)")
    probe = factor.levels if factor.levels is not None else factor.range
    if factor.numeric and is_integer(factor, base, scenario):
        where = f"{key}.levels" if factor.levels is not None else f"{key}.range"
        if not all(float(v).is_integer() for v in probe):
            raise ScenarioError(
                source,
                where,
                probe,
                "whole numbers: this factor takes integers (integer: true, or an int field of the scenario schema)",
            )
        if factor.num is not None and factor.num > factor.bounds[1] - factor.bounds[0] + 1:
            lo, hi = (int(b) for b in factor.bounds)
            raise ScenarioError(
                source,
                f"{key}.num",
                factor.num,
                f"at most {hi - lo + 1}: the factor takes whole numbers from {lo} to {hi}",
            )
        # a range is read as floats ([1, 9] -> [1.0, 9.0]); the runs get the rounded integers
        probe = [int(v) for v in probe]
    for value in probe:
        try:
            data = apply_overrides(base, {factor.path: value}, source=source)
        except ScenarioError as exc:
            raise ScenarioError(source, f"{key}.path", factor.path, f"a key path of the base: {exc.allowed}") from None
        try:
            validate_scenario(_drop_late_events(data) if drop_late_events else data, source)
        except ScenarioError as exc:
            raise ScenarioError(
                source, f"{key} ({factor.path}={value!r})", value, f"the scenario refuses it: {exc.path}: {exc.allowed}"
            ) from None
