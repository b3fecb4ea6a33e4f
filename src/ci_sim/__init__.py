"""ci-sim: an agent-based model of collective-impact partnerships.

Backbone organizations, conveners and partners in one or more issue areas; how the number
of backbones per issue area, their neutrality and servant leadership, and the use of
conveners shape partner alignment and outcome improvement.

Example:
    >>> from ci_sim import load_scenario, run_scenario
    >>> result = run_scenario(load_scenario("nine_backbones"), seed=1, steps=24)
    >>> result.timeseries[["step", "alignment", "outcome_improvement"]].shape
    (25, 3)
"""

from ci_sim.runner import RunResult, build_model, replication_seed, run_scenario
from ci_sim.scenario import Scenario, ScenarioError, load_scenario

__version__ = "0.1.0"

__all__ = [
    "RunResult",
    "Scenario",
    "ScenarioError",
    "build_model",
    "load_scenario",
    "replication_seed",
    "run_scenario",
    "__version__",
]
