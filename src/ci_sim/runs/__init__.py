"""One run of one (scenario, seed), and the files results are written to.

:func:`ci_sim.runs.runner.run_scenario` is the one way to run the model; everything in
:mod:`ci_sim.experiments` and :mod:`ci_sim.viz` is built on it.
"""
