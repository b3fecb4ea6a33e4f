"""Global sensitivity analysis with SALib on a finished sweep.

The experiment's design must be ``sobol`` (Sobol' indices S1 and ST with their bootstrap
confidence intervals) or ``morris`` (elementary effects: mu* with its confidence interval,
and sigma). Each point's output is the mean of its replications, so replications damp the
model's own noise before the analysis. The analysis is seeded with the experiment's seed.

``sensitivity.csv`` has one row per (metric, factor): ``method`` ("sobol"/"morris"),
``metric``, ``factor`` (the dotted key path), then ``S1, S1_conf, ST, ST_conf`` or
``mu_star, mu_star_conf, sigma``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ci_sim.experiments.experiment import Experiment
from ci_sim.experiments.samplers import salib_problem
from ci_sim.model.scenario import ScenarioError

SOBOL_COLUMNS = ["method", "metric", "factor", "S1", "S1_conf", "ST", "ST_conf"]
MORRIS_COLUMNS = ["method", "metric", "factor", "mu_star", "mu_star_conf", "sigma"]


class MissingPointsError(RuntimeError):
    """Some design points have no successful run, so the indices cannot be computed."""


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


def point_means(exp: Experiment, runs: pd.DataFrame, metric: str) -> np.ndarray:
    """Mean of ``metric`` over each point's successful replications, in point order.

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


def analyze(exp: Experiment, runs: pd.DataFrame) -> pd.DataFrame:
    """Sensitivity indices per factor and metric (the rows of ``sensitivity.csv``)."""
    from SALib.analyze import morris, sobol

    require_analysable(exp)
    spec = exp.spec
    problem = salib_problem(spec)
    rows = []
    for metric in spec.metrics:
        y = point_means(exp, runs, metric)
        if spec.design == "sobol":
            res = sobol.analyze(problem, y, calc_second_order=spec.second_order, seed=spec.seed)
            keys = ("S1", "S1_conf", "ST", "ST_conf")
        else:
            # the unrounded sample: which factor moved in each step of a trajectory
            x = exp.sample if exp.sample is not None else exp.points[problem["names"]].to_numpy(float)
            res = morris.analyze(problem, x, y, num_levels=spec.levels, seed=spec.seed)
            keys = ("mu_star", "mu_star_conf", "sigma")
        for i, name in enumerate(problem["names"]):
            row = {"method": spec.design, "metric": metric, "factor": name}
            row |= {k: float(res[k][i]) for k in keys}
            rows.append(row)
    return pd.DataFrame(rows, columns=SOBOL_COLUMNS if spec.design == "sobol" else MORRIS_COLUMNS)
