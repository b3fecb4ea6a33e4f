"""Pictures and pages: figures, animations, the report, the demo and the dashboard.

Built on :mod:`ci_sim.experiments` and :mod:`ci_sim.runs`; nothing below imports from here.
"""
