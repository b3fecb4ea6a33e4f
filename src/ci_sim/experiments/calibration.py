r"""Calibration: approximate Bayesian computation (ABC-SMC, pyabc) of mechanism parameters.

A calibration file (YAML, validated like scenarios: errors name the file, the key path, the
value and what is allowed) declares, as data::

    name: calibrate_strive
    scenarios:                         # one or several base scenarios (kinds of community)
      - base: strive_cincinnati         # a shipped name or a file relative to this one
        set: {steps: 60}
        targets:                       # observed patterns with their uncertainty
          - {name: year4, metric: indicators_improving, month: 48, successes: 34, trials: 53}
          - {name: lvl, metric: alignment, month: 60, value: 0.6, sd: 0.05}
          - {name: slope, metric: outcome_mean, month: 12, until: 60, value: 0.01, sd: 0.004}
    priors:                            # uniform (or log-uniform) over a plausible range
      - {path: parameters.population_effect, range: [0.02, 0.3]}
      - {path: "issue_areas.*.population.trend.1", range: [0.0, 0.02]}
    population: 200                     # particles per generation
    generations: 8                      # at most
    min_epsilon: 0.5                    # stop when the acceptance threshold falls below it
    max_simulations: 40000              # ... or after the generation that passed this many simulations
    seed: 2026
    predictive: 200                     # posterior-predictive draws per scenario
    predictions:                        # not fitted: what the posterior predicts elsewhere
      - {name: gap_1_vs_9, scenario: single_backbone, versus: nine_backbones,
         metric: partnership_effect, month: 120}

**Targets.** A *share* (``successes`` of ``trials``) is observed as
:math:`\hat p = s/n` with the binomial standard error :math:`\sigma = \sqrt{\tilde p(1-\tilde
p)/n}`, :math:`\tilde p` clipped to :math:`[\tfrac{1}{2n}, 1-\tfrac{1}{2n}]` so a share of 0 or 1
keeps a positive error; a *level* is ``value`` ± ``sd`` of the metric at ``month``; a *trend*
is the change of the metric per year from ``month`` to ``until``, ``value`` ± ``sd``.

**Summary statistics and distance.** A particle :math:`\theta` is simulated once (or
``replications`` times, averaged) per base scenario with :math:`\theta` set; each target's
summary statistic :math:`s_j(\theta)` is the simulated share, level or trend, and the
distance is the standardized Euclidean one,

.. math:: d(\theta) = \Big(\sum_j \big((s_j(\theta) - \hat s_j)/\sigma_j\big)^2\Big)^{1/2},

so a particle within one standard error of every target has :math:`d \le \sqrt{J}`.
ABC-SMC (Toni et al. 2009; Beaumont et al. 2009, as implemented by pyabc: Schälte et al.
2022) accepts particles with :math:`d \le \varepsilon_t`, the threshold falling each
generation (the median of the previous generation's distances), with a multivariate normal
perturbation kernel and importance weights.

**Reproducibility.** With ``--deterministic`` (pyabc's single-core sampler, the global numpy
generator seeded by ``seed``; every simulation's seed is drawn from it) a calibration is
reproduced number for number. The parallel samplers (multicore, Dask) accept particles in the
order they finish, so two parallel calibrations agree in distribution, not digit for digit:
the one exception to "same numbers on any executor", stated in the manifest.

**Resuming.** The pyabc history (``history.db``, SQLite) holds every finished generation;
``--resume`` continues an interrupted calibration from it (with a fresh random stream: a
resumed deterministic calibration is reproducible as resumed, not identical to one that ran
through) or says exactly why it cannot.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, model_validator

from ci_sim.experiments.compare import metric_bounds
from ci_sim.experiments.experiment import _resolve_base
from ci_sim.model.columns import METRIC_NAMES
from ci_sim.model.scenario import (
    Name,
    Scenario,
    ScenarioError,
    _from_validation,
    _load_yaml,
    _PathError,
    _Strict,
    apply_overrides,
    validate_scenario,
)
from ci_sim.runs.posterior import META_KEY, weighted_quantile, with_values
from ci_sim.runs.seeds import replication_seed


def is_share(metric: str) -> bool:
    """Whether ``metric`` is a share on [0, 1] (a target of it must lie there)."""
    return metric_bounds(metric) == (0.0, 1.0)


#: the central interval reported for each parameter and prediction
INTERVAL = 0.90


class Prior(_Strict):
    """A prior: uniform (or log-uniform) over ``range`` of the parameter at ``path``."""

    path: str = Field(min_length=1, description="dotted key path; * stands for every list item")
    range: list[float] = Field(description="[low, high] of the plausible range (docs/ODD.md §8)")
    distribution: Literal["uniform", "loguniform"] = "uniform"
    name: str | None = Field(None, description="a short name for tables and figures (default: from the path)")

    @model_validator(mode="after")
    def _ordered(self) -> Prior:
        if len(self.range) != 2 or not all(math.isfinite(v) for v in self.range):
            raise _PathError("range", self.range, "two finite numbers [low, high]")
        if not self.range[0] < self.range[1]:
            raise _PathError("range", self.range, "low < high (the range is empty or inverted)")
        if self.distribution == "loguniform" and self.range[0] <= 0:
            raise _PathError("range", self.range, "a positive low end for a log-uniform prior")
        return self

    @property
    def label(self) -> str:
        """The parameter's short name (pyabc's parameter name: letters, digits and _)."""
        if self.name:
            return self.name
        parts = [p for p in self.path.split(".") if p not in ("*", "parameters", "issue_areas", "population")]
        return re.sub(r"\W", "_", "_".join(parts))


class Target(_Strict):
    """An observed pattern: a share, a level or a trend of a metric, with its uncertainty."""

    name: Name
    metric: str
    month: int = Field(ge=0, description="the month of the share or level; the first month of a trend")
    successes: int | None = Field(None, ge=0, description="a share: how many of trials")
    trials: int | None = Field(None, ge=1, description="a share: out of how many")
    value: float | None = Field(None, description="a level, or a trend per year")
    sd: float | None = Field(None, gt=0, description="the standard error of value")
    until: int | None = Field(None, ge=1, description="a trend: its last month (value is the change per year)")

    @model_validator(mode="after")
    def _kind(self) -> Target:
        share = self.successes is not None or self.trials is not None
        level = self.value is not None or self.sd is not None
        if share == level:
            raise _PathError("", self.name, "either successes and trials (a share) or value and sd (a level or trend)")
        if share:
            if self.successes is None or self.trials is None:
                raise _PathError("trials" if self.trials is None else "successes", None, "both successes and trials")
            if self.successes > self.trials:
                raise _PathError("successes", self.successes, f"at most trials ({self.trials})")
            if self.until is not None:
                raise _PathError("until", self.until, "no until for a share (a trend takes value and sd)")
        else:
            if self.value is None or self.sd is None:
                raise _PathError("sd" if self.sd is None else "value", None, "both value and sd")
            if not (math.isfinite(self.value) and math.isfinite(self.sd)):
                raise _PathError("value", self.value, "finite numbers")
        if self.until is not None and self.until <= self.month:
            raise _PathError("until", self.until, f"a month after month ({self.month})")
        return self

    @property
    def kind(self) -> str:
        return "share" if self.trials is not None else ("trend" if self.until is not None else "level")

    @property
    def observed(self) -> float:
        """The observed summary statistic."""
        return self.successes / self.trials if self.kind == "share" else float(self.value)

    @property
    def error(self) -> float:
        """Its standard error (binomial for a share)."""
        if self.kind != "share":
            return float(self.sd)
        n = self.trials
        p = min(max(self.successes / n, 0.5 / n), 1 - 0.5 / n)
        return math.sqrt(p * (1 - p) / n)

    @property
    def last_month(self) -> int:
        return self.until if self.until is not None else self.month

    def statistic(self, series: pd.DataFrame) -> float:
        """The summary statistic of one run's time series (indexed by step)."""
        if self.kind == "trend":
            return (
                float(series.at[self.until, self.metric] - series.at[self.month, self.metric])
                * 12
                / (self.until - self.month)
            )
        return float(series.at[self.month, self.metric])


class CalScenario(_Strict):
    """A base scenario and the targets observed in a community of its kind."""

    base: str = Field(min_length=1)
    set: dict[str, Any] = Field(default_factory=dict)
    targets: list[Target] = Field(min_length=1)


class Prediction(_Strict):
    """A pattern the calibration does not fit: the posterior's prediction of it is reported."""

    name: Name
    scenario: str = Field(min_length=1, description="a base scenario (shipped name or file)")
    versus: str | None = Field(None, description="a second scenario: the prediction is the paired difference")
    set: dict[str, Any] = Field(default_factory=dict, description="overrides of both scenarios")
    metric: str
    month: int = Field(ge=0)


class CalibrationSpec(_Strict):
    """The calibration file's schema."""

    name: Name
    description: str = ""
    scenarios: list[CalScenario] = Field(min_length=1)
    priors: list[Prior] = Field(min_length=1)
    replications: int = Field(1, ge=1, le=100, description="runs per particle and scenario, averaged")
    population: int = Field(200, ge=10, le=100_000, description="particles per generation")
    generations: int = Field(10, ge=1, le=100, description="at most this many generations")
    min_epsilon: float = Field(0.0, ge=0, description="stop once the acceptance threshold is below it")
    min_acceptance: float = Field(0.0, ge=0, le=1, description="stop once a generation accepts a smaller share")
    max_simulations: int = Field(
        1_000_000, ge=1, description="stop after the generation in which this many particles were simulated in all"
    )
    seed: int = Field(2026, ge=0)
    predictive: int = Field(100, ge=0, le=100_000, description="posterior-predictive draws per scenario")
    predictions: list[Prediction] = Field(default_factory=list)


#: settings that do not decide the particles of a generation (a resume may change them)
_NOT_IN_FINGERPRINT = {
    "description",
    "predictions",
    "predictive",
    "generations",
    "min_epsilon",
    "min_acceptance",
    "max_simulations",
}


@dataclass
class Calibration:
    """A validated calibration: its spec, the base scenarios (validated) and the targets."""

    spec: CalibrationSpec
    source: str
    bases: list[tuple[str, Scenario]]
    predictions: list[tuple[Prediction, Scenario, Scenario | None]]

    @property
    def labels(self) -> list[str]:
        return [p.label for p in self.spec.priors]

    def target_keys(self) -> list[tuple[str, Target, int]]:
        """(summary-statistic key, target, index of its base scenario) for every target."""
        multi = len(self.bases) > 1
        return [
            (f"{label}.{t.name}" if multi else t.name, t, k)
            for k, (label, _) in enumerate(self.bases)
            for t in self.spec.scenarios[k].targets
        ]

    def observed(self) -> dict[str, float]:
        return {key: t.observed for key, t, _ in self.target_keys()}

    def values(self, theta: dict[str, float]) -> dict[str, float]:
        """Key path -> value of a particle (pyabc names its parameters by label)."""
        return {p.path: float(theta[p.label]) for p in self.spec.priors}

    def fingerprint(self) -> str:
        """A hash of everything that decides the calibration's particles (a resume must match it)."""
        blob = json.dumps(
            {
                # the stopping rules are left out: a resume may go on for more generations
                "spec": self.spec.model_dump(mode="json", exclude=_NOT_IN_FINGERPRINT),
                "bases": [sc.sha256() for _, sc in self.bases],
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()


def _known_metrics(scenario: Scenario) -> list[str]:
    outcomes = [f"{p}_{k}" for a in scenario.issue_areas for k in a.outcomes for p in ("outcome", "measured")]
    return [*METRIC_NAMES, *outcomes]


def _load_base(base: str, overrides: dict[str, Any], folder: Path, source: str, key: str) -> Scenario:
    path = _resolve_base(base, folder, source)
    data = _load_yaml(path)
    if not isinstance(data, dict):
        raise ScenarioError(source, key, base, "a scenario file (a YAML mapping)")
    try:
        data = apply_overrides(data, overrides, source=source)
    except ScenarioError as exc:
        raise ScenarioError(source, f"{key}.set.{exc.path}", exc.value, exc.allowed) from None
    try:
        return validate_scenario(data, str(path))
    except ScenarioError as exc:
        raise ScenarioError(
            source, f"{key} (base scenario {base}: {exc.path})", exc.value, f"a valid scenario: {exc.allowed}"
        ) from None


def _check_metric(metric: str, month: int, scenario: Scenario, source: str, key: str) -> None:
    known = _known_metrics(scenario)
    if metric not in known:
        raise ScenarioError(source, f"{key}.metric", metric, f"one of {', '.join(known)}")
    if month > scenario.steps:
        raise ScenarioError(
            source, f"{key}.month", month, f"a month within the scenario's horizon (0..{scenario.steps}); raise steps"
        )


def load_calibration(path: str | Path) -> Calibration:
    """Read and check a calibration file; nothing runs.

    Every base scenario must validate; every target's metric must exist and its months lie
    within the horizon; a share target's value within [0, 1]; every prior's path must exist in
    every base scenario and both ends of its range must give a valid scenario.

    Raises:
        ScenarioError: naming the file, the key path, the bad value and what is allowed.
    """
    p = Path(path)
    source = str(p)
    if not p.is_file():
        raise ScenarioError(source, "", source, "a calibration file (YAML), e.g. experiments/calibrate_strive.yaml")
    raw = _load_yaml(p)
    if not isinstance(raw, dict):
        raise ScenarioError(source, "", raw, "a calibration is a YAML mapping with name, scenarios and priors")
    try:
        spec = CalibrationSpec.model_validate(raw)
    except ValidationError as exc:
        raise _from_validation(exc, source) from None
    except _PathError as exc:
        raise ScenarioError(source, exc.path, exc.value, exc.allowed) from None
    bases: list[tuple[str, Scenario]] = []
    for k, cs in enumerate(spec.scenarios):
        sc = _load_base(cs.base, cs.set, p.parent, source, f"scenarios.{k}")
        for j, t in enumerate(cs.targets):
            key = f"scenarios.{k}.targets.{j}"
            _check_metric(t.metric, t.last_month, sc, source, key)
            if t.kind == "level" and is_share(t.metric) and not 0 <= t.value <= 1:
                raise ScenarioError(source, f"{key}.value", t.value, f"a share in [0, 1] ({t.metric} is a share)")
        names = [t.name for t in cs.targets]
        if len(set(names)) != len(names):
            raise ScenarioError(source, f"scenarios.{k}.targets", names, "each target name once")
        bases.append((sc.name if sc.name not in [b for b, _ in bases] else f"{sc.name}_{k}", sc))
    labels = [pr.label for pr in spec.priors]
    for i, prior in enumerate(spec.priors):
        if prior.path in [q.path for q in spec.priors[:i]] or prior.label in labels[:i]:
            raise ScenarioError(source, f"priors.{i}.path", prior.path, "each parameter (and short name) once")
        for label, sc in bases:
            for end in prior.range:
                try:
                    with_values(sc, {prior.path: end}, source)
                except ScenarioError as exc:
                    raise ScenarioError(
                        source,
                        f"priors.{i}.range ({prior.path}={end!r} in {label})",
                        end,
                        f"a value the scenario accepts: {exc.path}: {exc.allowed}",
                    ) from None
    predictions = []
    for i, pr in enumerate(spec.predictions):
        a = _load_base(pr.scenario, pr.set, p.parent, source, f"predictions.{i}")
        b = _load_base(pr.versus, pr.set, p.parent, source, f"predictions.{i}") if pr.versus else None
        for sc in (a, b):
            if sc is not None:
                _check_metric(pr.metric, pr.month, sc, source, f"predictions.{i}")
                for prior in spec.priors:
                    try:
                        with_values(sc, {prior.path: prior.range[0]}, source)
                    except ScenarioError as exc:
                        raise ScenarioError(
                            source, f"predictions.{i}.scenario", sc.name, f"a scenario with {prior.path}: {exc.allowed}"
                        ) from None
        predictions.append((pr, a, b))
    return Calibration(spec=spec, source=source, bases=bases, predictions=predictions)


# --------------------------------------------------------------------------- simulation


class Simulator:
    """pyabc's model: a particle's parameters -> its summary statistics (picklable, for Dask).

    Each simulation's seed comes from numpy's global generator, which pyabc seeds: by
    ``seed`` with the single-core sampler (so the calibration reproduces), afresh in each
    worker process with the parallel ones.
    """

    def __init__(self, cal: Calibration):
        self.cal = cal

    def __call__(self, theta: dict[str, float]) -> dict[str, float]:
        seed = int(np.random.randint(0, 2**31 - 1))
        return simulate(self.cal, self.cal.values(theta), seed)


def simulate(cal: Calibration, values: dict[str, float], seed: int) -> dict[str, float]:
    """The summary statistics of one particle: each target's statistic, averaged over replications."""
    from ci_sim.runs.runner import run_scenario

    stats: dict[str, float] = {}
    for k, (_, base) in enumerate(cal.bases):
        sc = with_values(base, values, cal.source)
        targets = [(key, t) for key, t, j in cal.target_keys() if j == k]
        steps = max(t.last_month for _, t in targets)
        sums = dict.fromkeys([key for key, _ in targets], 0.0)
        for r in range(cal.spec.replications):
            series = run_scenario(sc, replication_seed(seed, r), steps=steps).timeseries.set_index("step")
            for key, t in targets:
                sums[key] += t.statistic(series)
        stats.update({key: v / cal.spec.replications for key, v in sums.items()})
    return stats


def make_distance(cal: Calibration):
    """The standardized Euclidean distance between simulated and observed statistics."""
    scale = {key: t.error for key, t, _ in cal.target_keys()}

    def distance(x: dict[str, float], x0: dict[str, float]) -> float:
        return math.sqrt(sum(((x[k] - x0[k]) / s) ** 2 for k, s in scale.items()))

    return distance


def make_prior(cal: Calibration):
    import pyabc

    rvs = {}
    for p in cal.spec.priors:
        lo, hi = p.range
        rvs[p.label] = (
            pyabc.RV("uniform", lo, hi - lo) if p.distribution == "uniform" else pyabc.RV("loguniform", lo, hi)
        )
    return pyabc.Distribution(**rvs)


def make_sampler(workers: int | None, scheduler: str | None, deterministic: bool):
    """Pyabc's sampler: single-core (deterministic), multicore (local) or Dask (``--scheduler``).

    Returns:
        (sampler, description, dask client or None): close the client when done.
    """
    from pyabc.sampler import DaskDistributedSampler, MulticoreEvalParallelSampler, SingleCoreSampler

    if deterministic or (workers == 1 and not scheduler):
        return SingleCoreSampler(), "single-core (deterministic: reproduces by seed)", None
    if scheduler:
        from distributed import Client, LocalCluster

        if scheduler == "local":
            cluster = LocalCluster(n_workers=workers or None, threads_per_worker=1, processes=True)
            client = Client(cluster)
        else:
            if "://" not in scheduler and ":" not in scheduler:
                raise ScenarioError(
                    "--scheduler", "", scheduler, "'local' or a Dask scheduler address, tcp://HOST:PORT"
                )
            client = Client(scheduler, timeout="20s")
        return DaskDistributedSampler(dask_client=client), f"Dask ({scheduler})", client
    import os

    n = workers or os.cpu_count() or 1
    return MulticoreEvalParallelSampler(n_procs=n), f"multicore ({n} processes)", None


@dataclass
class CalibrationResult:
    """What :func:`run_calibration` returns (its files are in ``out``)."""

    out: Path
    posterior: pd.DataFrame
    generations: pd.DataFrame
    simulations: int
    seconds: float
    predictive: pd.DataFrame
    summary: pd.DataFrame


def run_calibration(
    cal: Calibration,
    out: Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    deterministic: bool = False,
    resume: bool = False,
    quiet: bool = False,
) -> CalibrationResult:
    """Run (or resume) ABC-SMC; write the history, posterior, diagnostics and manifest into ``out``.

    ``out`` must be new (or, with ``resume``, hold this calibration's history).

    Raises:
        ScenarioError: a resume that cannot be done (no history, another calibration's folder).
    """
    import logging
    import time
    from datetime import UTC, datetime

    import pyabc

    from ci_sim.runs.results import write_json

    history_db = out / "history.db"
    started, t0 = datetime.now(UTC), time.perf_counter()
    level = logging.WARNING if quiet else logging.INFO
    for name in ("ABC", "pyabc", "Epsilon", "Distance", "Acceptor", "Sampler"):
        logging.getLogger(name).setLevel(level)
    sampler, sampler_text, client = make_sampler(workers, scheduler, deterministic)
    try:
        abc = pyabc.ABCSMC(
            Simulator(cal),
            make_prior(cal),
            make_distance(cal),
            population_size=cal.spec.population,
            sampler=sampler,
        )
        done_sims = 0
        if resume:
            history = abc.load(f"sqlite:///{history_db}", 1)
            done_t = history.max_t + 1
            done_sims = int(history.total_nr_simulations)
            # a fresh stream for the generations left, derived from the seed and how far it got
            np.random.seed(replication_seed(cal.spec.seed, 1000 + done_t) % 2**32)
        else:
            out.mkdir(parents=True, exist_ok=False)
            write_json(
                {"fingerprint": cal.fingerprint(), "spec": cal.spec.model_dump(mode="json")}, out / "calibration.json"
            )
            abc.new(f"sqlite:///{history_db}", cal.observed())
            done_t = 0
            np.random.seed(cal.spec.seed)
        left = cal.spec.generations - done_t
        if left > 0 and not _stopped(abc.history, cal):
            abc.run(
                minimum_epsilon=cal.spec.min_epsilon,
                max_nr_populations=left,
                min_acceptance_rate=cal.spec.min_acceptance,
                max_total_nr_simulations=max(cal.spec.max_simulations - done_sims, 1),
            )
    finally:
        if client is not None:
            client.close()
    history = abc.history
    seconds = time.perf_counter() - t0
    result = write_outputs(cal, out, history, sampler_text, deterministic, started, seconds, resumed=resume)
    return result


def _stopped(history, cal: Calibration) -> bool:
    """Whether a loaded history already met a stopping rule (resume has nothing left to do)."""
    if history.max_t < 0:
        return False
    pops = history.get_all_populations()
    pops = pops[pops.t >= 0]
    if pops.empty:
        return False
    last = pops.iloc[-1]
    return bool(last.epsilon <= cal.spec.min_epsilon or history.total_nr_simulations >= cal.spec.max_simulations)


def check_resume(cal: Calibration, out: Path) -> None:
    """Say exactly why ``out`` cannot be resumed, or return.

    Raises:
        ScenarioError: no folder, no history, another calibration's folder, or a history
            without a finished generation.
    """
    if not out.is_dir():
        raise ScenarioError("--out", "", str(out), "the folder of the calibration to resume (it does not exist)")
    meta = out / "calibration.json"
    if not (out / "history.db").is_file() or not meta.is_file():
        raise ScenarioError(
            "--out", "", str(out), "a calibration folder holding history.db and calibration.json (run without --resume)"
        )
    try:
        fingerprint = json.loads(meta.read_text()).get("fingerprint")
    except (OSError, ValueError) as exc:
        raise ScenarioError(
            str(meta), "fingerprint", "unreadable", f"a calibration.json written by ci-sim ({exc})"
        ) from None
    if fingerprint != cal.fingerprint():
        raise ScenarioError(
            str(meta),
            "fingerprint",
            str(fingerprint)[:16],
            f"this calibration's ({cal.fingerprint()[:16]}): the folder holds another calibration, or the file, "
            "its base scenarios or priors changed since; start a new folder",
        )


def posterior_frame(cal: Calibration, history) -> pd.DataFrame:
    """The last generation's particles as key-path columns plus ``weight``."""
    df, w = history.get_distribution(m=0, t=history.max_t)
    frame = pd.DataFrame({p.path: df[p.label].to_numpy(dtype=float) for p in cal.spec.priors})
    frame["weight"] = np.asarray(w, dtype=float) / np.sum(w)
    return frame


def summarize(cal: Calibration, post: pd.DataFrame) -> pd.DataFrame:
    """Per parameter: prior range, posterior mean, median, 90% interval and its width against the prior's.

    ``width_ratio`` (identifiability) is the 90% posterior interval's width over the 90% prior
    interval's: near 1 the targets did not inform the parameter; near 0 they pinned it.
    """
    rows = []
    lo_q, hi_q = (1 - INTERVAL) / 2, 1 - (1 - INTERVAL) / 2
    for p in cal.spec.priors:
        lo, hi = p.range
        if p.distribution == "uniform":
            prior_width = INTERVAL * (hi - lo)
        else:
            prior_width = lo * (hi / lo) ** hi_q - lo * (hi / lo) ** lo_q
        q05 = weighted_quantile(post[p.path], post["weight"], lo_q)
        q95 = weighted_quantile(post[p.path], post["weight"], hi_q)
        rows.append(
            {
                "parameter": p.path,
                "name": p.label,
                "prior_low": lo,
                "prior_high": hi,
                "mean": float(np.average(post[p.path], weights=post["weight"])),
                "median": weighted_quantile(post[p.path], post["weight"], 0.5),
                "q05": q05,
                "q95": q95,
                "width_ratio": (q95 - q05) / prior_width,
            }
        )
    return pd.DataFrame(rows)


def _draws(post: pd.DataFrame, n: int, seed: int) -> list[int]:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x70726564,)))
    return rng.choice(len(post), size=n, p=post["weight"].to_numpy()).tolist()


def predictive(cal: Calibration, post: pd.DataFrame) -> pd.DataFrame:
    """Posterior-predictive statistics: ``predictive`` draws, each simulated with its own seed."""
    rows = []
    for d, i in enumerate(_draws(post, cal.spec.predictive, cal.spec.seed)):
        values = {p.path: float(post.at[i, p.path]) for p in cal.spec.priors}
        stats = simulate(cal, values, replication_seed(cal.spec.seed, d))
        rows.append({"draw": d, "sample": i, **stats})
    return pd.DataFrame(rows)


def predictions(cal: Calibration, post: pd.DataFrame) -> pd.DataFrame:
    """What the posterior predicts for the patterns it was not fitted to (paired when ``versus``)."""
    from ci_sim.runs.runner import run_scenario

    rows = []
    draws = _draws(post, cal.spec.predictive, cal.spec.seed)
    for pr, a, b in cal.predictions:
        values = []
        for d, i in enumerate(draws):
            theta = {p.path: float(post.at[i, p.path]) for p in cal.spec.priors}
            seed = replication_seed(cal.spec.seed, d)
            va = run_scenario(with_values(a, theta), seed, steps=pr.month).final[pr.metric]
            vb = run_scenario(with_values(b, theta), seed, steps=pr.month).final[pr.metric] if b is not None else 0.0
            values.append(va - vb)
        v = np.asarray(values)
        lo, hi = np.quantile(v, [(1 - INTERVAL) / 2, 1 - (1 - INTERVAL) / 2]) if len(v) else (math.nan, math.nan)
        rows.append(
            {
                "prediction": pr.name,
                "what": f"{pr.metric} at month {pr.month} in {a.name}" + (f" minus {b.name} (paired)" if b else ""),
                "draws": len(v),
                "mean": float(v.mean()) if len(v) else math.nan,
                "q05": float(lo),
                "q95": float(hi),
                "share_above_0": float((v > 0).mean()) if len(v) else math.nan,
                "fitted": False,
            }
        )
    return pd.DataFrame(rows)


def generations_frame(history) -> pd.DataFrame:
    pops = history.get_all_populations()
    pops = pops[pops.t >= 0].rename(columns={"t": "generation", "samples": "simulations"})
    pops["acceptance_rate"] = pops["particles"] / pops["simulations"]
    return pops[["generation", "epsilon", "particles", "simulations", "acceptance_rate"]].reset_index(drop=True)


def write_posterior(post: pd.DataFrame, path: Path, meta: dict[str, Any]) -> None:
    """The posterior as Parquet, with the calibration's description in the file's metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(post, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), META_KEY: json.dumps(meta).encode()})
    pq.write_table(table, path)


def write_outputs(cal, out: Path, history, sampler_text, deterministic, started, seconds, resumed) -> CalibrationResult:
    """posterior.parquet, posterior_summary.csv, generations.csv, predictive.csv, predictions.csv, manifest.json.

    The figures are drawn by :func:`ci_sim.viz.calibration.plot_calibration` (viz imports
    experiments, never the reverse).
    """
    from datetime import UTC, datetime

    from ci_sim.runs.results import manifest, versions, write_csv, write_json

    post = posterior_frame(cal, history)
    summary = summarize(cal, post)
    gens = generations_frame(history)
    sims = int(history.total_nr_simulations)
    meta = {
        "calibration": cal.spec.name,
        "source": cal.source,
        "fingerprint": cal.fingerprint(),
        "targets": {k: {"observed": t.observed, "error": t.error, "kind": t.kind} for k, t, _ in cal.target_keys()},
        "priors": [p.model_dump(mode="json") for p in cal.spec.priors],
        "created": datetime.now(UTC).isoformat(),
    }
    meta["model_version"] = versions()["model_version"]
    write_posterior(post, out / "posterior.parquet", meta)
    write_csv(summary, out / "posterior_summary.csv")
    write_csv(gens, out / "generations.csv")
    pred = predictive(cal, post) if cal.spec.predictive else pd.DataFrame()
    write_csv(pred, out / "predictive.csv")
    unfitted = predictions(cal, post) if cal.predictions and cal.spec.predictive else pd.DataFrame()
    write_csv(unfitted, out / "predictions.csv")
    write_json(
        manifest(
            calibration=cal.spec.model_dump(mode="json"),
            calibration_file=cal.source,
            fingerprint=cal.fingerprint(),
            base_scenarios={label: sc.sha256() for label, sc in cal.bases},
            sampler=sampler_text,
            reproducibility=(
                "deterministic: the same file and seed give the same posterior"
                if deterministic
                else "parallel ABC-SMC accepts particles in the order they finish: two parallel calibrations "
                "agree in distribution, not digit for digit (use --deterministic to reproduce by seed)"
            ),
            resumed=resumed,
            generations=len(gens),
            simulations=sims,
            final_epsilon=float(gens["epsilon"].iloc[-1]) if len(gens) else None,
            posterior_summary=summary.to_dict("records"),
            predictions_not_fitted=unfitted.to_dict("records"),
            started=started.isoformat(),
            wall_seconds=round(seconds, 1),
        ),
        out / "manifest.json",
    )
    return CalibrationResult(
        out=out, posterior=post, generations=gens, simulations=sims, seconds=seconds, predictive=pred, summary=summary
    )


__all__ = [
    "Calibration",
    "CalibrationResult",
    "CalibrationSpec",
    "check_resume",
    "load_calibration",
    "run_calibration",
    "simulate",
    "summarize",
]
