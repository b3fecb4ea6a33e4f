"""ci-sim: an agent-based model of collective-impact partnerships.

Backbone organizations, conveners and partners in one or more issue areas; how the number
of backbones per issue area, their neutrality and servant leadership, and the use of
conveners shape partner alignment and outcome improvement.

The package is laid out by concern, with imports flowing one way
(``model`` ← ``runs`` ← ``experiments`` ← ``viz`` ← ``cli``):

- :mod:`ci_sim.model`: scenario files, the state, one module per mechanism, agents, metrics;
- :mod:`ci_sim.runs`: :func:`run_scenario` (the one way to run) and the results files;
- :mod:`ci_sim.experiments`: experiment files, samplers, evaluators, sweeps, comparisons,
  sensitivity analysis, the EMA Workbench bridge;
- :mod:`ci_sim.viz`: figures, animations, the report, the demo and the dashboard;
- :mod:`ci_sim.cli`: the ``ci-sim`` command.

The names below are loaded on first use, so that ``import ci_sim`` (and ``ci-sim --help``)
does not load the compiled step.

Example:
    >>> from ci_sim import load_scenario, run_scenario
    >>> result = run_scenario(load_scenario("nine_backbones"), seed=1, steps=24)
    >>> result.timeseries[["step", "alignment", "outcome_improvement"]].shape
    (25, 3)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"  # pyproject.toml and CITATION.cff say the same (tests/test_citation.py)

#: public name -> module that defines it (loaded on first access, PEP 562)
_EXPORTS = {
    "MODEL_VERSION": "ci_sim.model",
    "RunResult": "ci_sim.runs.runner",
    "build_model": "ci_sim.runs.runner",
    "replication_seed": "ci_sim.runs.runner",
    "run_scenario": "ci_sim.runs.runner",
    "Scenario": "ci_sim.model.scenario",
    "ScenarioError": "ci_sim.model.scenario",
    "load_scenario": "ci_sim.model.scenario",
    "CollectiveImpactModel": "ci_sim.model.model",
    "load_experiment": "ci_sim.experiments.experiment",
    "run_sweep": "ci_sim.experiments.sweep",
    "read_runs": "ci_sim.experiments.sweep",
    "read_timeseries": "ci_sim.experiments.sweep",
    "make_evaluator": "ci_sim.experiments.evaluators",
    "SerialEvaluator": "ci_sim.experiments.evaluators",
    "ProcessPoolEvaluator": "ci_sim.experiments.evaluators",
    "DaskEvaluator": "ci_sim.experiments.evaluators",
}

__all__ = [
    "MODEL_VERSION",
    "CollectiveImpactModel",
    "DaskEvaluator",
    "ProcessPoolEvaluator",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "SerialEvaluator",
    "build_model",
    "load_experiment",
    "load_scenario",
    "make_evaluator",
    "read_runs",
    "read_timeseries",
    "replication_seed",
    "run_scenario",
    "run_sweep",
    "__version__",
]

if TYPE_CHECKING:  # for type checkers and editors; at run time the names load lazily
    from ci_sim.experiments.evaluators import DaskEvaluator, ProcessPoolEvaluator, SerialEvaluator, make_evaluator
    from ci_sim.experiments.experiment import load_experiment
    from ci_sim.experiments.sweep import read_runs, read_timeseries, run_sweep
    from ci_sim.model import MODEL_VERSION
    from ci_sim.model.model import CollectiveImpactModel
    from ci_sim.model.scenario import Scenario, ScenarioError, load_scenario
    from ci_sim.runs.runner import RunResult, build_model, replication_seed, run_scenario


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ci_sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
