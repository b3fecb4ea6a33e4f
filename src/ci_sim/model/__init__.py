"""The model: scenario files, the state, one module per mechanism, agents and metrics.

- :mod:`ci_sim.model.scenario`: scenario files and their validation (no compiled code);
- :mod:`ci_sim.model.mechanisms`: one module per submodel of docs/ODD.md §7, each a compiled kernel;
- :mod:`ci_sim.model.model`: :class:`~ci_sim.model.model.CollectiveImpactModel`, the Mesa model
  that owns the state and calls the mechanisms in order;
- :mod:`ci_sim.model.agents`: the Mesa agents, views onto rows of the state;
- :mod:`ci_sim.model.metrics`: model-level measures, small named functions of the state.
"""
