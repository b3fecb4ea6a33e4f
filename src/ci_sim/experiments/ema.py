"""ci-sim for the EMA Workbench: uncertainties, levers and outcomes.

Exploratory Modelling and Analysis (Kwakkel 2017) separates what a community cannot control
(uncertainties: how open partners are, how costly meetings and contests are, how much money
funders put in) from what it can choose (levers: how many backbones, how they coordinate,
whether to use conveners). :func:`build_model` returns an EMA ``ReplicatorModel`` whose
function runs ci-sim's own :func:`~ci_sim.runs.runner.run_scenario` once per replication, with the
replication seeds of ci-sim (so EMA runs reproduce ``ci-sim run`` numbers).

Example:
    >>> from ema_workbench import perform_experiments
    >>> from ci_sim.experiments.ema import build_model
    >>> model = build_model(steps=24, replications=2)
    >>> experiments, outcomes = perform_experiments(model, scenarios=4, policies=2)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ci_sim.model.columns import KEY_METRICS
from ci_sim.model.scenario import load_scenario
from ci_sim.runs.runner import replication_seed, run_scenario

#: EMA name -> (scenario key path, low, high, integer?)
UNCERTAINTIES: dict[str, tuple[str, float, float, bool]] = {
    "openness_mean": ("parameters.openness_mean", 0.6, 0.95, False),
    "attention_beta": ("parameters.attention_beta", 1.0, 10.0, False),
    "tolerance": ("parameters.tolerance", 0.15, 0.5, False),
    "table_hours": ("parameters.table_hours", 2.0, 8.0, False),
    "burnout_cost": ("parameters.burnout_cost", 0.5, 2.0, False),
    "fire_cost": ("parameters.fire_cost", 0.0, 0.5, False),
    "backbone_pool": ("issue_areas.0.funding.backbone_pool", 10000.0, 80000.0, False),
    "capacity_hours": ("community.capacity_hours", 20.0, 60.0, False),
}

#: EMA name -> (scenario key path, low, high, integer?) or (path, [categories])
LEVERS: dict[str, tuple] = {
    "backbones": ("issue_areas.0.backbones.count", 1, 9, True),
    "neutrality": ("issue_areas.0.backbones.neutrality", 0.1, 0.9, False),
    "servant_leadership": ("issue_areas.0.backbones.servant_leadership", 0.1, 0.9, False),
    "coordination": ("issue_areas.0.backbones.coordination", ["none", "shared_data", "shared_agenda", "joint"]),
    "conveners": ("issue_areas.0.conveners.per_outcome", [False, True]),
}


#: direction of each outcome for EMA's optimization (1 maximize, -1 minimize, 0 info)
OUTCOME_KINDS: dict[str, int] = {
    "outcome_improvement": 1,
    "outcome_mean": 1,
    "alignment": 1,
    "mean_trust": 1,
    "engagement": 1,
    "data_completeness": 1,
    "action_plan_quality": 1,
    "meeting_hours": -1,
    "fundraising_share": -1,
    "factions": -1,
}


def _mean(values) -> float:
    """Mean over replications (a plain float, as EMA's scalar outcomes require)."""
    return float(np.mean(values))


def ci_sim_function(
    base: str = "nine_backbones",
    steps: int = 120,
    seed: int = 0,
    outcomes: tuple[str, ...] = tuple(KEY_METRICS),
    **values: Any,
) -> dict[str, float]:
    """Run one replication of ``base`` with EMA's sampled values; return the final metrics.

    Args:
        base: a shipped scenario name or a scenario file.
        steps: months to simulate.
        seed: the run's seed (EMA passes one per replication).
        outcomes: the metrics to return.
        **values: EMA parameter names of :data:`UNCERTAINTIES` and :data:`LEVERS`.
    """
    paths = {**{k: v[0] for k, v in UNCERTAINTIES.items()}, **{k: v[0] for k, v in LEVERS.items()}}
    integer = {k for k, v in LEVERS.items() if len(v) == 4 and v[3]}
    values = {k: v.item() if isinstance(v, np.generic) else v for k, v in values.items()}  # plain Python
    overrides = {paths[name]: int(v) if name in integer else v for name, v in values.items()}
    scenario = load_scenario(base, overrides)
    final = run_scenario(scenario, seed, steps=steps, timeseries=False).final
    return {m: final[m] for m in outcomes}


def build_model(base: str = "nine_backbones", steps: int = 120, replications: int = 5, seed: int | None = None):
    """An EMA Workbench ``ReplicatorModel`` of ci-sim with its uncertainties, levers and outcomes.

    Args:
        base: the scenario the sampled values change (shipped name or file).
        steps: months per run.
        replications: runs per experiment; outcomes are their mean.
        seed: base seed of the replications (default: the scenario's), so replication ``i``
            runs with :func:`~ci_sim.runs.runner.replication_seed` ``(seed, i)`` as in ``ci-sim run``.
    """
    from ema_workbench import (
        CategoricalParameter,
        Constant,
        IntegerParameter,
        RealParameter,
        ReplicatorModel,
        ScalarOutcome,
    )

    model = ReplicatorModel("ci_sim", function=ci_sim_function)
    model.uncertainties = [RealParameter(k, lo, hi) for k, (_, lo, hi, _) in UNCERTAINTIES.items()]
    levers = []
    for name, spec in LEVERS.items():
        if isinstance(spec[1], list):
            levers.append(CategoricalParameter(name, spec[1]))
        elif spec[3]:
            levers.append(IntegerParameter(name, spec[1], spec[2]))
        else:
            levers.append(RealParameter(name, spec[1], spec[2]))
    model.levers = levers
    model.constants = [Constant("base", base), Constant("steps", steps)]
    # the function returns one value per replication; EMA keeps their mean
    model.outcomes = [ScalarOutcome(m, kind=OUTCOME_KINDS.get(m, 0), function=_mean) for m in KEY_METRICS]
    base_seed = load_scenario(base).seed if seed is None else seed
    model.replications = [{"seed": replication_seed(base_seed, i)} for i in range(replications)]
    return model
