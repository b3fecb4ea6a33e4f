"""Global sensitivity analysis with SALib on a finished sweep.

The experiment's design must be ``sobol`` (Sobol' indices S1 and ST with their bootstrap
confidence intervals, and S2 with ``second_order: true``) or ``morris`` (elementary effects:
mu* with its confidence interval, and sigma). The analysis is seeded with the experiment's
seed.

**Seed noise.** The runs of one replication share one seed at every design point (common
random numbers, :meth:`~ci_sim.experiments.experiment.Experiment.run_seed`): a factor that
does nothing changes nothing, so its indices are 0, not the share of the variance that
different seeds would add. Each point's output is the mean of its replications. The seed
noise left in those means is estimated from the spread of the replications at each point,

    noise_share = mean over points of (var_over_seeds / n_replications) / var(point means),

the share of the analysed variance that seed noise can explain (NaN with one replication:
the noise cannot be told apart from the factors' effects then). An index whose lower
confidence bound does not exceed it is flagged: seed noise alone could produce it.

**Warnings.** Indices that cannot be true (below 0 or above 1: too few samples) and indices
whose confidence interval is wider than the index itself are flagged in the ``warnings``
column (``;``-separated, empty when the index is fine), printed by the CLI and marked in
the figure.

``sensitivity.csv`` has one row per (metric, factor): ``method`` ("sobol"/"morris"),
``metric``, ``factor`` (the dotted key path), then ``S1, S1_conf, ST, ST_conf`` or
``mu_star, mu_star_conf, sigma``, then ``noise_share`` and ``warnings``.
``sensitivity_s2.csv`` (``second_order: true``) has one row per (metric, pair of factors):
``method``, ``metric``, ``factor``, ``factor_2``, ``S2``, ``S2_conf``, ``warnings``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ci_sim.experiments.experiment import Experiment
from ci_sim.experiments.samplers import salib_problem
from ci_sim.model.scenario import ScenarioError

TAIL_COLUMNS = ["noise_share", "warnings"]
SOBOL_COLUMNS = ["method", "metric", "factor", "S1", "S1_conf", "ST", "ST_conf", *TAIL_COLUMNS]
MORRIS_COLUMNS = ["method", "metric", "factor", "mu_star", "mu_star_conf", "sigma", *TAIL_COLUMNS]
S2_COLUMNS = ["method", "metric", "factor", "factor_2", "S2", "S2_conf", "warnings"]
#: below this an index is zero: the estimators are exact differences of identical outputs
#: for a factor without effect under common random numbers, but sums of floats are not
EPS = 1e-12


class MissingPointsError(RuntimeError):
    """Some design points have no successful run, so the indices cannot be computed."""


class IncompleteSweepError(RuntimeError):
    """The sweep folder does not hold every run of the design (it was interrupted)."""


@dataclass
class Analysis:
    """What :func:`analyze` computes.

    Attributes:
        indices: the rows of ``sensitivity.csv`` (columns :data:`SOBOL_COLUMNS` or
            :data:`MORRIS_COLUMNS`).
        second_order: the rows of ``sensitivity_s2.csv`` (:data:`S2_COLUMNS`), or ``None``
            when the experiment did not ask for second-order indices.
        warnings: one line per flagged index or metric, for the terminal.
    """

    indices: pd.DataFrame
    second_order: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)


def require_analysable(exp: Experiment) -> None:
    """Refuse designs SALib cannot analyse (before any run)."""
    if exp.spec.design not in ("sobol", "morris"):
        raise ScenarioError(exp.source, "design", exp.spec.design, "sobol or morris for a sensitivity analysis")


def check_sweep_folder(exp: Experiment, folder: str | Path) -> None:
    """A folder given with ``--from`` must hold a sweep of this very experiment."""
    meta = Path(folder) / "experiment.json"
    if not meta.is_file():
        raise ScenarioError(str(folder), "--from", str(folder), "a sweep folder (with experiment.json)")
    previous = json.loads(meta.read_text()).get("fingerprint")
    if previous != exp.fingerprint():
        raise ScenarioError(
            str(meta), "fingerprint", previous, f"a sweep of {exp.source} as it is now (same design, --set options)"
        )


def check_complete(exp: Experiment, runs: pd.DataFrame, folder: str | Path) -> None:
    """Every run of the design must be recorded (ok or failed) before indices are computed.

    Raises:
        IncompleteSweepError: fewer runs than the design has (a killed sweep), with how
            many and the command that finishes it.
    """
    recorded = runs["run_id"].nunique() if "run_id" in runs else 0
    if recorded < exp.n_runs:
        raise IncompleteSweepError(
            f"{folder}: {recorded} of {exp.n_runs} runs recorded; finish with --resume "
            f"(ci-sim sweep {exp.source} --resume --out {folder}), then analyse again"
        )


def point_means(exp: Experiment, runs: pd.DataFrame, metric: str) -> np.ndarray:
    """Mean of ``metric`` over each point's successful replications, in point order.

    Returns:
        Shape ``(n_points,)``, in the metric's units.

    Raises:
        MissingPointsError: some point has no successful run (the indices need every point).
    """
    ok = runs[runs["status"] == "ok"]
    means = ok.groupby("point")[metric].mean().reindex(range(len(exp.points)))
    missing = means.index[means.isna()].tolist()
    if missing:
        raise MissingPointsError(
            f"{len(missing)} of {len(means)} design points have no successful run (first: {missing[:5]}); "
            "the indices need every point: finish the sweep with --resume, or see the failed runs' tracebacks"
        )
    return means.to_numpy(dtype=float)


def noise_share(runs: pd.DataFrame, metric: str, means: np.ndarray) -> float:
    """Share of the variance of the point means that seed noise can explain (0..1).

    The seed variance at a point is the variance of its replications (ddof 1); a point mean
    of n replications carries 1/n of it. ``NaN`` when no point has two successful
    replications (the noise cannot be estimated).
    """
    ok = runs[runs["status"] == "ok"]
    grouped = ok.groupby("point")[metric]
    n, var = grouped.count(), grouped.var(ddof=1)
    usable = n >= 2
    if not usable.any():
        return float("nan")
    noise = float((var[usable] / n[usable]).mean())
    total = float(np.var(means, ddof=1)) if means.size > 1 else 0.0
    if total <= EPS:
        return 1.0 if noise > EPS else 0.0
    return float(min(1.0, noise / total))


def _flags(row: dict, method: str, noise: float) -> str:
    """The warnings of one row of indices (``;``-separated; empty if none)."""
    flags = []
    if method == "sobol":
        # a share of variance lies in [0, 1]; anything outside is estimation error
        for key in ("S1", "ST"):
            if row[key] < -EPS:
                flags.append(f"{key} = {row[key]:.3g} < 0 is impossible (too few samples)")
            if row[key] > 1 + EPS:
                flags.append(f"{key} = {row[key]:.3g} > 1 is impossible (too few samples)")
        for key in ("S1", "ST"):
            if row[f"{key}_conf"] > abs(row[key]) + EPS:
                flags.append(f"{key} interval ±{row[f'{key}_conf']:.3g} wider than the index {row[key]:.3g}")
        if np.isfinite(noise) and row["ST"] - row["ST_conf"] <= noise:
            flags.append(f"ST not distinguishable from seed noise (noise share {noise:.3g})")
    elif row["mu_star_conf"] > abs(row["mu_star"]) + EPS:
        flags.append(f"mu_star interval ±{row['mu_star_conf']:.3g} wider than the index {row['mu_star']:.3g}")
    return "; ".join(flags)


def analyze(exp: Experiment, runs: pd.DataFrame) -> Analysis:
    """Sensitivity indices per factor and metric, their warnings and the seed-noise share.

    Args:
        exp: the experiment (design ``sobol`` or ``morris``).
        runs: every run of its sweep (:func:`ci_sim.experiments.sweep.read_runs`).

    Raises:
        ScenarioError: the design is not sobol or morris.
        MissingPointsError: some design point has no successful run.
    """
    from SALib.analyze import morris, sobol

    require_analysable(exp)
    spec = exp.spec
    problem = salib_problem(spec)
    names = problem["names"]
    rows, pairs, lines = [], [], []
    if spec.replications < 2:
        lines.append(
            "replications: 1: seed noise cannot be told apart from the factors' effects "
            "(run 2 or more replications to estimate it)"
        )
    for metric in spec.metrics:
        y = point_means(exp, runs, metric)
        noise = noise_share(runs, metric, y)
        if spec.design == "sobol":
            res = sobol.analyze(problem, y, calc_second_order=spec.second_order, seed=spec.seed)
            keys = ("S1", "S1_conf", "ST", "ST_conf")
        else:
            # the unrounded sample: which factor moved in each step of a trajectory
            x = exp.sample if exp.sample is not None else exp.points[names].to_numpy(float)
            res = morris.analyze(problem, x, y, num_levels=spec.levels, seed=spec.seed)
            keys = ("mu_star", "mu_star_conf", "sigma")
        if np.isfinite(noise) and noise > 0.5:
            lines.append(f"{metric}: seed noise explains {noise:.0%} of the variance of the point means")
        for i, name in enumerate(names):
            row = {"method": spec.design, "metric": metric, "factor": name}
            row |= {k: float(res[k][i]) for k in keys}
            row["noise_share"] = noise
            row["warnings"] = _flags(row, spec.design, noise)
            if row["warnings"]:
                lines.append(f"{metric} / {name}: {row['warnings']}")
            rows.append(row)
        if spec.design == "sobol" and spec.second_order:
            for i, j in zip(*np.triu_indices(len(names), k=1), strict=True):
                s2, conf = float(res["S2"][i, j]), float(res["S2_conf"][i, j])
                warn = f"S2 interval ±{conf:.3g} wider than the index {s2:.3g}" if conf > abs(s2) + EPS else ""
                pairs.append(
                    {
                        "method": "sobol",
                        "metric": metric,
                        "factor": names[i],
                        "factor_2": names[j],
                        "S2": s2,
                        "S2_conf": conf,
                        "warnings": warn,
                    }
                )
            wide = sum(bool(p["warnings"]) for p in pairs if p["metric"] == metric)
            if wide:  # one line per metric: D(D-1)/2 pairs would flood the terminal
                lines.append(
                    f"{metric}: {wide} of {len(names) * (len(names) - 1) // 2} S2 indices have an interval wider "
                    "than the index (see sensitivity_s2.csv)"
                )
    columns = SOBOL_COLUMNS if spec.design == "sobol" else MORRIS_COLUMNS
    second = pd.DataFrame(pairs, columns=S2_COLUMNS) if spec.design == "sobol" and spec.second_order else None
    return Analysis(pd.DataFrame(rows, columns=columns), second, lines)
