"""The model's state: one record of arrays that the model owns and every mechanism reads.

The state is a struct of arrays (docs/ODD.md §2.2): one row per partner ``i`` (N), column per
backbone ``b`` (B, active or not), outcome ``k`` (K) and issue area ``a`` (A). It is passed to
the compiled mechanisms as one numba ``StructRef`` (:class:`State`): a single pointer, so a
call costs about 2 µs however many arrays it holds (a named tuple of the same 80 arrays cost
15 µs a call, measured here). The arrays in it are the model's own numpy arrays, shared, not
copied: a kernel that writes ``S.trust[i, b]`` changes ``model.trust``. So the model never
rebinds a state array; it writes into it (events included) or, when the shape changes (a
backbone appears), builds a new record.

With ``NUMBA_DISABLE_JIT=1`` the record is a plain :class:`types.SimpleNamespace` with the
same fields, so the same kernels run as Python.

Entities can come and go: ``backbone_active``, ``convener_active`` and ``partner_active`` are
masks, and every mechanism skips what is inactive.
"""

from __future__ import annotations

from types import SimpleNamespace

import numba
import numpy as np
from numba.core import types
from numba.experimental import structref

from ci_sim.model.mechanisms.common import jit
from ci_sim.model.scenario import Mechanisms, Parameters

#: Fields of the state record, in groups (shapes in brackets; docs/ODD.md §2.2 for symbols).
STRUCTURE = (
    "partner_area",  # [N] int: a(i), the home area
    "partner_area2",  # [N] int: a2(i), the second area of a two-area partner (-1: none)
    "second_weight",  # [N] w_i: share of a two-area partner's capacity in its second area (0: one area)
    "backbone_area",  # [B] int: a(b)
    "outcome_area",  # [K] int: a(k)
    "coordination",  # [A] int: kappa_a, 0 none .. 3 joint (ODD §7.11)
    "funder_rule",  # [A] int: 0 split by visibility, 1 one agreed backbone, 2 joint (ODD §7.2)
    "shared_pool",  # [1] bool: one funders' pool for all areas (ODD §7.2)
    "partners_per_area",  # [A] N_a, partners active in a (a two-area partner counts in both)
    "outcomes_per_area",  # [A] K_a
    "peer_indptr",  # [N+1] int: row-normalized peer matrix P in CSR form
    "peer_indices",  # [nnz] int
    "peer_weights",  # [nnz] P_ij
    "function_shares",  # [6] chi_f normalized: vision, aligned, measurement, engagement, policy, resources
    "fair_effort",  # [K] capacity of the area of k / K_a (effort of an even split)
)
PARTNERS = (
    "partner_active",  # [N] bool
    "capacity",  # [N] c_i, hours/month
    "openness",  # [N] lambda_i
    "agenda0",  # [N, K] a_i(0)
    "agenda",  # [N, K] a_i
    "agenda_next",  # [N, K] scratch: the synchronous agenda update writes here first
    "trust",  # [N, B] tau_ib
    "attention",  # [N, B] pi_ib
    "engagement",  # [N] e_i
    "fundraising0",  # [N] phi_i(0)
    "fundraising",  # [N] phi_i
    "fundraises_for_itself",  # [N] bool: nonprofits and community groups
    "data_capacity",  # [N] d_i
)
BACKBONES = (
    "backbone_active",  # [B] bool
    "own_agenda",  # [B, K] g_b
    "neutrality",  # [B] nu_b
    "servant",  # [B] sigma_b
    "legitimacy",  # [B] L_b
    "in_kind",  # [B] I_b, $/month
    "funding_weight",  # [B] f_b
    "data_quality",  # [B] Q_b
    "backbone_plan",  # [B, K] P_bk
)
OUTCOMES = (
    "convener_active",  # [K] bool: z_k
    "convener_facilitation",  # [K] f^c_k
    "convener_in_kind",  # [K] I^c_k, $/month
    "convener_plan",  # [K] q_k
    "outcome0",  # [K] y_k(0), the mean true level of k's indicators at month 0
    "outcome",  # [K] y_k, the mean true level of k's indicators
    "practice",  # [K] x_k, share of practice changed by the partnership (ODD §7.9)
    "effect",  # [K] D_k, the partnership's lagged effect on the population level (ODD §7.12)
    "outcome_shift",  # [K] cumulative drift and shocks of k's population level
    "measured",  # [K] mean measured level of k's indicators (latest yearly measurement)
)
INDICATORS = (
    "indicator_outcome",  # [J] int: k(j)
    "indicator_level0",  # [J] Y_j(0)
    "indicator_trend",  # [J] tau_j, counterfactual trend per month
    "indicator_sensitivity",  # [J] s_j
    "indicator_level",  # [J] Y_j, true level
    "indicator_baseline",  # [J] M_j(0), measured in the baseline year
    "indicator_measured",  # [J] M_j, latest measurement
)
AREAS = (
    "pool",  # [A] F_a, funders' backbone pool, $/month
    "grants",  # [A] G_a, program grants, $/month
    "aligned_funding",  # [A] alpha_a
    "cohort",  # [A] n_a, people measured per indicator
    "results_seen",  # [A] R_a, results partners see in the shared data, in [-1, 1]
    "funder_factor",  # [A] m_a, funders' backbone money as a share of their commitment F_a
)
#: Quantities derived each month from the state (mechanisms 1, 2, 3, 5) or written by the
#: mechanisms for later ones and for the metrics; :attr:`CollectiveImpactModel.last` shows them.
DERIVED = (
    "valid",  # [N, B] bool: V_ib
    "has_backbone",  # [N] bool: has_i
    "without_backbone",  # [1] int: partners without a backbone
    "attend",  # [N, B] bool: T_ib, tables attended
    "in_groups",  # [N, B] bool: G_ib, backbone b's working groups attended
    "n_tables",  # [N] sum_b T_ib
    "followed",  # [N] int: the backbone of largest pi_ib (-1 without a backbone)
    "mass",  # [B] m_b
    "rivalry",  # [B] r_b
    "visibility",  # [B] v_b
    "pull",  # [B] u_b
    "budget",  # [B] M_b
    "overhead",  # [B] O_b
    "staff_money",  # [B] M_b - O_b
    "staff_hours",  # [B] S_b
    "fn_hours",  # [B, 6] H_bf
    "per_follower",  # [B, 6] h_bf
    "promoted",  # [B, K] p_b
    "interest",  # [N, K] bool: iota_ik
    "convened",  # [N, K] bool: cm_ik, i attends outcome k's convened working group
    "groups",  # [N] n^grp_i
    "meeting_hours",  # [N]
    "duplicate_hours",  # [N] meeting hours spent hearing the same report again
    "report_hours",  # [N]
    "fundraising_hours",  # [N] F_i
    "program_hours",  # [N]
    "meeting_load",  # [N] mu_i
    "pool_unspent",  # [A]
    "data_cost",  # [1] DC, $/month
    "completeness",  # [A] C_a
    "ask_coherence",  # [A] coh^ask_a
    "grants_paid",  # [A]
    "grants_unspent",  # [A]
    "partner_plan",  # [N, K] q-hat_ik
    "plan_effective",  # [K] q-bar_k
    "coherence",  # [K] coh_k
    "effort",  # [K] es_k
    "policy_alignment",  # [A]
    "funded_hours",  # [N] program hours bought with program grants
    "funded_aligned",  # [N] the part of them bought with aligned grants (spent on the partner's groups)
    "fires",  # [A] Phi_a, political fires burning unattended
)
STATE_FIELDS = STRUCTURE + PARTNERS + BACKBONES + OUTCOMES + INDICATORS + AREAS + DERIVED
#: fields with one column per backbone, (partner, backbone) arrays
PARTNER_BACKBONE_FIELDS = ("trust", "attention", "valid", "attend", "in_groups")
#: fields with one row per backbone (what a new backbone adds a row to)
BACKBONE_ROW_FIELDS = (
    "backbone_area",
    *BACKBONES,
    *("mass", "rivalry", "visibility", "pull", "budget", "overhead", "staff_money", "staff_hours"),
    *("fn_hours", "per_follower", "promoted"),
)


@structref.register
class StateType(types.StructRef):
    """numba type of :class:`State`."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class State(structref.StructRefProxy):
    """The state record as numba sees it (build it with :func:`make_state`)."""


structref.define_proxy(State, StateType, list(STATE_FIELDS))


@structref.register
class ParamsType(types.StructRef):
    """numba type of :class:`Params`."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class Params(structref.StructRefProxy):
    """The mechanism parameters and switches as numba sees them (build with :func:`make_params`)."""


#: mechanism switches (scenario ``mechanisms:``), as ``<name>_on`` parameters of the kernels
SWITCHES = tuple(Mechanisms.model_fields)
#: Fields of the parameter record: every :class:`~ci_sim.model.scenario.Parameters` field, then the switches.
PARAM_FIELDS = (*Parameters.model_fields, *(f"{name}_on" for name in SWITCHES))
structref.define_proxy(Params, ParamsType, list(PARAM_FIELDS))


@jit
def _new_state(*fields):
    # the proxies' own constructors are compiled afresh in every process (seconds); this one is cached
    return State(*fields)


@jit
def _new_params(*fields):
    return Params(*fields)


def _record(new, names, values):
    if numba.config.DISABLE_JIT:
        return SimpleNamespace(**dict(zip(names, values, strict=True)))
    return new(*values)


def make_state(arrays: dict[str, np.ndarray]) -> State | SimpleNamespace:
    """The state record over ``arrays`` (every name of :data:`STATE_FIELDS`), sharing their memory.

    Raises:
        KeyError: a field is missing.
    """
    values = []
    for name in STATE_FIELDS:
        a = arrays[name]
        # one array type per field whatever the scenario, so the kernels compile once
        values.append(np.ascontiguousarray(a) if a.ndim > 1 else a)
        if values[-1] is not a:
            raise ValueError(f"state array {name!r} must be C-contiguous (it is shared with the model)")
    return _record(_new_state, STATE_FIELDS, values)


def make_params(parameters: Parameters, mechanisms: Mechanisms) -> Params | SimpleNamespace:
    """The parameters and switches of a scenario as one record (fields :data:`PARAM_FIELDS`).

    Floats stay floats and whole-number settings ints, whatever the YAML literal, so every
    scenario uses the same compiled code.
    """
    values = []
    for name, field in Parameters.model_fields.items():
        kind = int if field.annotation is int else float
        values.append(kind(getattr(parameters, name)))
    values += [bool(getattr(mechanisms, name)) for name in SWITCHES]
    return _record(_new_params, PARAM_FIELDS, values)
