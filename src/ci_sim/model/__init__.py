"""The model: scenario files, the state, one module per mechanism, agents and metrics.

- :mod:`ci_sim.model.scenario`: scenario files and their validation (no compiled code);
- :mod:`ci_sim.model.mechanisms`: one module per submodel of docs/ODD.md §7, each a compiled kernel;
- :mod:`ci_sim.model.model`: :class:`~ci_sim.model.model.CollectiveImpactModel`, the Mesa model
  that owns the state and calls the mechanisms in order;
- :mod:`ci_sim.model.agents`: the Mesa agents, views onto rows of the state;
- :mod:`ci_sim.model.metrics`: model-level measures, small named functions of the state.
"""

#: The version of the model that docs/ODD.md describes (stated at its top; a test keeps the two
#: equal). It changes when the model's equations, schedule or defaults change, which the package
#: version alone does not say: 1.x was ci-sim 0.1; 2.0 is the realism revision (issue 11:
#: population indicators, results feedback, grants, attendance choice, jockeying).
MODEL_VERSION = "2.0"
