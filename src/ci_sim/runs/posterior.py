"""Posterior samples of calibrated parameters, and the parameters of one replication drawn from them.

A posterior is a Parquet file written by ``ci-sim calibrate`` (ABC-SMC with pyabc,
:mod:`ci_sim.experiments.calibration`): one column per calibrated parameter, named by its
dotted key path into a scenario (``parameters.population_effect``; ``*`` stands for every
item of a list, e.g. ``issue_areas.*.population.trend.1`` sets the upper end of the
counterfactual trend range of every issue area), and a ``weight`` column (the ABC-SMC
importance weights of the last generation, summing to 1). The shipped posteriors live in
``ci_sim/data/posteriors/`` and are named by their file stem (``strive``).

With ``--posterior`` (``ci-sim run``, ``compare``, ``sweep``) replication ``i`` under base
seed ``S`` takes the parameters of one posterior sample, drawn with probability equal to its
weight by a generator seeded from ``(S, i)`` alone (:meth:`Posterior.draw`): the draw does
not depend on the scenario, so replication ``i`` uses the same parameters and the same seed
in every strategy of a comparison (paired), and on any executor or worker count.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ci_sim.model.scenario import Scenario, ScenarioError, apply_overrides, validate_scenario

__all__ = [
    "POSTERIOR_DIR",
    "Posterior",
    "expand_path",
    "load_posterior",
    "replication_scenarios",
    "shipped_posteriors",
    "with_values",
]

#: the folder of shipped posteriors (package data)
POSTERIOR_DIR = Path(__file__).resolve().parent.parent / "data" / "posteriors"
#: a constant mixed into the draw's seed, so that posterior draws never share a stream with runs
_DRAW_STREAM = 0x706F7374  # "post"
#: Parquet metadata key holding the calibration's description
META_KEY = b"ci_sim.posterior"


def shipped_posteriors() -> list[str]:
    """Names of the posteriors shipped with the package (``--posterior NAME``)."""
    return sorted(p.stem for p in POSTERIOR_DIR.glob("*.parquet"))


def expand_path(path: str, data: dict[str, Any]) -> list[str]:
    """The concrete key paths that ``path`` names in ``data``: each ``*`` becomes every list index.

    Args:
        path: a dotted key path; a ``*`` part stands for every index of the list found there.
        data: scenario data (a resolved scenario's ``model_dump(mode="json")``).

    Returns:
        The expanded paths, in list order (``path`` itself when it has no ``*``).

    Raises:
        KeyError: a ``*`` where ``data`` holds no list.
    """
    parts = path.split(".")
    if "*" not in parts:
        return [path]
    star = parts.index("*")
    node: Any = data
    for part in parts[:star]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if not isinstance(node, list):
        raise KeyError(".".join(parts[: star + 1]))
    out: list[str] = []
    for i in range(len(node)):
        out += expand_path(".".join([*parts[:star], str(i), *parts[star + 1 :]]), data)
    return out


def with_values(scenario: Scenario, values: dict[str, Any], source: str = "--posterior") -> Scenario:
    """``scenario`` with the parameter ``values`` (key path -> value, ``*`` allowed) set, validated again.

    The values are applied to the resolved scenario (every default written out), so a path
    may name a key the scenario file left to its default (``issue_areas.0.population.trend.1``).

    Raises:
        ScenarioError: a path that the scenario does not have, or a value it refuses (the
            message names ``source``, the key path, the value and what is allowed).
    """
    if not values:
        return scenario
    data = scenario.model_dump(mode="json")
    concrete: dict[str, Any] = {}
    for path, value in values.items():
        try:
            for p in expand_path(path, data):
                concrete[p] = value
        except (KeyError, IndexError, ValueError):
            raise ScenarioError(
                source, path, value, "a key path of the scenario (* stands for every list item)"
            ) from None
    return validate_scenario(apply_overrides(data, concrete, source), source)


@dataclass(frozen=True)
class Posterior:
    """Weighted posterior samples of calibrated parameters.

    Attributes:
        name: the shipped name, or the file's stem.
        source: where it was read from (for messages and manifests).
        samples: one row per sample; one float column per parameter (its key path) and
            ``weight`` (non-negative, summing to 1).
        meta: what the calibration recorded (calibration name, targets, model version...).
    """

    name: str
    source: str
    samples: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def params(self) -> list[str]:
        """The calibrated parameters' key paths."""
        return [c for c in self.samples.columns if c != "weight"]

    def sha256(self) -> str:
        """A hash of the samples and weights (recorded in manifests and sweep fingerprints)."""
        blob = self.samples.to_csv(index=False, float_format="%.17g").encode()
        return hashlib.sha256(blob).hexdigest()

    def draw(self, seed: int, replication: int) -> dict[str, float]:
        """The parameters of replication ``replication`` under base seed ``seed``.

        One sample, chosen with probability equal to its weight by a generator seeded from
        ``(seed, replication)`` only: the same in every scenario (paired) and process.
        """
        rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(replication), _DRAW_STREAM)))
        i = int(rng.choice(len(self.samples), p=self.samples["weight"].to_numpy()))
        row = self.samples.iloc[i]
        return {p: float(row[p]) for p in self.params}

    def median(self) -> dict[str, float]:
        """The weighted posterior median of each parameter."""
        return {p: weighted_quantile(self.samples[p], self.samples["weight"], 0.5) for p in self.params}

    def describe(self) -> dict[str, Any]:
        """What a manifest records of the posterior used."""
        return {
            "name": self.name,
            "source": self.source,
            "sha256": self.sha256(),
            "samples": len(self.samples),
            "parameters": self.params,
            "calibration": self.meta.get("calibration"),
            "model_version": self.meta.get("model_version"),
        }

    def check(self, scenario: Scenario, label: str) -> None:
        """Every parameter path exists in ``scenario`` and the median values validate.

        Raises:
            ScenarioError: naming the posterior, the scenario, the path and what is allowed.
        """
        try:
            with_values(scenario, self.median(), f"{self.source} (on scenario {label})")
        except ScenarioError as exc:
            raise ScenarioError(
                f"--posterior {self.source}",
                exc.path,
                exc.value,
                f"{exc.allowed} (in scenario {label}: a posterior must name parameters that scenario has)",
            ) from None


def weighted_quantile(values: pd.Series | np.ndarray, weights: pd.Series | np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``values`` under ``weights`` (inverse of the weighted CDF, midpoint rule)."""
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    order = np.argsort(v)
    v, w = v[order], w[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return float(np.interp(q, cdf, v))


def load_posterior(spec: str | Path) -> Posterior:
    """A posterior by shipped name (``strive``) or Parquet file.

    Raises:
        ScenarioError: an unknown name, an unreadable file, no ``weight`` column, a
            non-numeric or non-finite value, a negative weight or weights that sum to 0.
    """
    text = str(spec)
    path = Path(text)
    if not path.is_file():
        cand = POSTERIOR_DIR / f"{text}.parquet"
        if not cand.is_file():
            names = ", ".join(shipped_posteriors()) or "none shipped"
            raise ScenarioError(
                "--posterior", "", text, f"a shipped posterior name ({names}) or a posterior .parquet file"
            )
        path = cand
    source = str(path) if path.parent != POSTERIOR_DIR else f"{path.stem} (shipped)"
    try:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        samples = table.to_pandas()
        raw_meta = (table.schema.metadata or {}).get(META_KEY)
        meta = json.loads(raw_meta) if raw_meta else {}
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same clear message
        raise ScenarioError(source, "", path.name, f"a Parquet file written by ci-sim calibrate ({exc})") from None
    if "weight" not in samples.columns:
        raise ScenarioError(source, "weight", list(samples.columns), "a weight column beside the parameters")
    if len(samples) == 0 or len(samples.columns) < 2:
        raise ScenarioError(source, "", f"{len(samples)} rows", "at least one sample and one parameter column")
    for col in samples.columns:
        values = pd.to_numeric(samples[col], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(values.to_numpy(dtype=float)))
        if len(bad):
            raise ScenarioError(source, f"{col} (row {bad[0]})", samples[col].iat[bad[0]], "a finite number")
        samples[col] = values.astype(float)
    if (samples["weight"] < 0).any() or samples["weight"].sum() <= 0:
        raise ScenarioError(source, "weight", samples["weight"].min(), "non-negative weights with a positive sum")
    samples["weight"] = samples["weight"] / samples["weight"].sum()
    name = path.stem if path.parent == POSTERIOR_DIR else str(meta.get("calibration") or path.stem)
    return Posterior(name=name, source=source, samples=samples.reset_index(drop=True), meta=meta)


def replication_scenarios(
    scenario: Scenario, posterior: Posterior | None, seed: int, replications: int
) -> list[tuple[Scenario, dict[str, float]]]:
    """The scenario of each replication 0..R-1 and the posterior values it took ({} without a posterior)."""
    if posterior is None:
        return [(scenario, {})] * replications
    out = []
    for i in range(replications):
        values = posterior.draw(seed, i)
        out.append((with_values(scenario, values, f"--posterior {posterior.source}"), values))
    return out
