"""The order of the mechanisms in a month (docs/ODD.md §3), as two compiled functions.

:func:`derive` computes the quantities that follow from the state (mechanisms 1, 2, 3, 5 and
the month's data cost); :func:`advance` is one month of the dynamic mechanisms followed by
:func:`derive`. The Mesa model (:mod:`ci_sim.model.model`) applies the events and draws the
month's random numbers, then calls :func:`advance` once: calling the eleven kernels one by
one from Python cost about 25 µs more a month (2 µs a call), a fifth of a month at 150 partners.
"""

from __future__ import annotations

import numpy as np

from ci_sim.model.mechanisms.agendas import update_agendas
from ci_sim.model.mechanisms.attention import attention, validity
from ci_sim.model.mechanisms.budget import budget
from ci_sim.model.mechanisms.common import jit
from ci_sim.model.mechanisms.hours import hours
from ci_sim.model.mechanisms.measurement import data_cost, update_measurement
from ci_sim.model.mechanisms.outcomes import update_practice
from ci_sim.model.mechanisms.plans import update_plans
from ci_sim.model.mechanisms.population import update_population
from ci_sim.model.mechanisms.promoted import promoted_agendas
from ci_sim.model.mechanisms.resources import update_resources
from ci_sim.model.mechanisms.trust import update_trust_engagement


@jit
def derive(S, P, recompute_attention: bool) -> None:
    """Validity, 1 attention, 2 budget and staff, 3 promoted agendas, 5 hours, then the data cost.

    ``recompute_attention``: compute attention from trust (see
    :func:`ci_sim.model.mechanisms.attention.attention`).
    """
    validity(S)
    attention(S, P, recompute_attention)
    budget(S, P)
    promoted_agendas(S, P)
    hours(S, P)
    data_cost(S, P)


@jit
def advance(S, P, month: int, drift: np.ndarray, shock: np.ndarray, sampling: np.ndarray) -> None:
    """One month ``month`` (1, 2, ...): mechanisms 4, 6, 7, 8, 9, 12, 10, then :func:`derive` from the new state.

    Each mechanism sees what the earlier ones wrote this month and, for the rest, the derived
    quantities of the end of the previous month (ODD §3, "update scheme"). ``drift`` (K,),
    ``shock`` (A,) and ``sampling`` (J,) are the month's random numbers of mechanism 12
    (:meth:`ci_sim.model.model.CollectiveImpactModel.draw_month`).
    """
    if P.agendas_on:
        update_agendas(S, P)
    update_measurement(S, P)
    update_resources(S, P)
    update_plans(S, P, month)
    update_practice(S, P)
    update_population(S, P, month, drift, shock, sampling)
    update_trust_engagement(S, P)
    derive(S, P, P.attention_on)
