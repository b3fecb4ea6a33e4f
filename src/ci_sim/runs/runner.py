"""The one way to run the model: :func:`run_scenario` runs one (scenario, seed).

Everything else (``ci-sim run``, ``compare``, ``sweep``, ``sensitivity``, the demo and the
dashboard) is built on this function. It is pure and picklable: the same scenario and seed
give the same numbers in any process, on any executor.

Seeds: replication ``i`` of a scenario whose base seed is ``S`` uses
:func:`replication_seed(S, i) <replication_seed>`, derived with
:class:`numpy.random.SeedSequence` from ``(S, i)`` alone, so replication ``i`` gives the same
numbers whether 1 or 20 replications are run, and the same seed in every scenario of a
comparison (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ci_sim.model.metrics import agent_snapshot, metric_names, model_metrics
from ci_sim.model.model import CollectiveImpactModel
from ci_sim.model.scenario import Scenario
from ci_sim.runs.seeds import replication_seed

__all__ = ["RunResult", "build_model", "replication_seed", "run_scenario"]


@dataclass
class RunResult:
    """What one run returns: tidy pandas frames, small enough to ship between processes.

    Attributes:
        timeseries: one row per step (0..T) with ``step`` and the model-level metrics.
        agents: per-partner samples (``step``, ``partner``, ...) or an empty frame.
        seed: the seed the model ran with.
        events: what each applied scenario event did, one row per event (``at``, ``area``,
            ``event``, ``kept``, ``left``, ``convening``: backbone names, "; "-joined; see
            :mod:`ci_sim.model.mechanisms.events`), or an empty frame.
    """

    timeseries: pd.DataFrame
    seed: int
    agents: pd.DataFrame = field(default_factory=pd.DataFrame)
    events: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def final(self) -> dict[str, float]:
        """The final-step metrics as a mapping (a row of ``summary.csv``)."""
        row = self.timeseries.iloc[-1].to_dict()
        row.pop("step", None)
        return row


def build_model(scenario: Scenario, seed: int) -> CollectiveImpactModel:
    """A fresh model of ``scenario`` seeded with ``seed`` (for step-by-step use)."""
    return CollectiveImpactModel(scenario, rng=seed)


def run_scenario(
    scenario: Scenario,
    seed: int | None = None,
    steps: int | None = None,
    agent_period: int | None = None,
    timeseries: bool = True,
) -> RunResult:
    """Run one replication of ``scenario`` with ``seed``.

    Args:
        scenario: a validated scenario (see :func:`ci_sim.load_scenario`).
        seed: the model's seed; defaults to replication 0 of ``scenario.seed``.
        steps: months to simulate; defaults to ``scenario.steps``.
        agent_period: sample per-partner state every this many steps (0: never);
            defaults to ``scenario.output.agent_period``.
        timeseries: keep every step (True) or only the final one (False, for big sweeps).

    Returns:
        A :class:`RunResult`.

    Example:
        >>> from ci_sim import load_scenario, run_scenario
        >>> result = run_scenario(load_scenario("single_backbone"), seed=1, steps=12)
        >>> round(result.final["alignment"], 3) > 0
        True
    """
    seed = replication_seed(scenario.seed, 0) if seed is None else int(seed)
    steps = scenario.steps if steps is None else int(steps)
    period = scenario.output.agent_period if agent_period is None else int(agent_period)
    model = build_model(scenario, seed)
    names = metric_names(model)
    rows = np.empty((steps + 1 if timeseries else 1, len(names)))
    snaps: list[pd.DataFrame] = []

    def sample(t: int) -> None:
        if period and t % period == 0:
            snap = pd.DataFrame(agent_snapshot(model))
            snap.insert(0, "step", t)
            snaps.append(snap)

    if timeseries:
        model_metrics(model, rows[0])
    sample(0)
    for t in range(1, steps + 1):
        model.step()
        if timeseries:
            model_metrics(model, rows[t])
        sample(t)
    if not timeseries:
        model_metrics(model, rows[0])
    frame = pd.DataFrame(rows, columns=names)
    frame.insert(0, "step", np.arange(steps + 1) if timeseries else [steps])
    agents = pd.concat(snaps, ignore_index=True) if snaps else pd.DataFrame()
    return RunResult(timeseries=frame, seed=seed, agents=agents, events=pd.DataFrame(model.event_log))
