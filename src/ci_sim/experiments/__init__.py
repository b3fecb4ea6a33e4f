"""Experiments built on :func:`ci_sim.runs.runner.run_scenario`.

Experiment files (:mod:`.experiment`), designs (:mod:`.samplers`), executors
(:mod:`.evaluators`), streamed resumable sweeps (:mod:`.sweep`), paired comparisons
(:mod:`.compare`), Sobol' indices (:mod:`.sensitivity`) and the EMA Workbench bridge (:mod:`.ema`).
"""

from ci_sim.experiments.experiment import Experiment, RunTask, load_experiment

__all__ = ["Experiment", "RunTask", "load_experiment"]
