"""Model-level measures, each a small named function of the state (docs/ODD.md §7, "Observation").

Every measure is a compiled function of the state record ``S`` (:mod:`ci_sim.model.state`)
returning a float; :func:`fill` writes them all, in the column order of
:data:`ci_sim.model.columns.METRIC_NAMES`, plus one ``outcome_<name>`` per outcome, into one
row of a results table in one call (31 calls from Python would cost about 45 µs a month at
any size, measured: more than the step itself at 150 partners). :data:`MODEL_METRICS` gives
each as a function of the model, for Mesa's DataCollector and for scripts. Names, labels and
units are in :mod:`ci_sim.model.columns`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ci_sim.model.columns import KEY_METRICS, METRIC_LABELS, METRIC_NAMES, metric_label, metric_unit
from ci_sim.model.mechanisms.common import area_mass, jit, tv, tv_area

if TYPE_CHECKING:
    from ci_sim.model.model import CollectiveImpactModel

__all__ = ["KEY_METRICS", "METRIC_LABELS", "METRIC_NAMES", "MODEL_METRICS", "metric_label", "metric_unit"]

JOINT = 3
#: StriveTogether's proof point: at least 60% of a partnership's indicators improving
PROOF_POINT = 0.6


@jit
def area_consensus(S) -> np.ndarray:
    """Each area's consensus: the mean agenda of its partners, shape (A, K).

    A partner active in two areas counts in both, with its agenda in each, ``a_i|a`` (ODD §2.2).
    """
    x, area, N_a = S.agenda, S.partner_area, S.partners_per_area
    N, K = x.shape
    c = np.zeros((N_a.shape[0], K))
    for i in range(N):
        for k in range(K):
            c[area[i], k] += x[i, k]
    for i in range(N):
        a2 = S.partner_area2[i]
        if a2 >= 0:  # move the partner's second-area part out of its home area's sum, as a_i|a for each
            home = area[i]
            m_home, m_2 = area_mass(x[i], S.outcome_area, home), area_mass(x[i], S.outcome_area, a2)
            for k in range(K):
                c[home, k] -= x[i, k]
                if S.outcome_area[k] == home and m_home > 0:
                    c[home, k] += x[i, k] / m_home
                if S.outcome_area[k] == a2 and m_2 > 0:
                    c[a2, k] += x[i, k] / m_2
    for a in range(c.shape[0]):
        for k in range(K):
            c[a, k] /= max(N_a[a], 1.0)
    return c


@jit
def area_distances(S) -> tuple[np.ndarray, np.ndarray]:
    """Each partner's distances from its home area's consensus and from its second area's, two arrays (N,).

    Total-variation distances in [0, 1], of a_i|a for a two-area partner; the second is 0 for a
    partner of one area.
    """
    c = area_consensus(S)
    x, area = S.agenda, S.partner_area
    d = np.empty(x.shape[0])
    d2 = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        d[i] = tv(x[i], c[area[i]])
    for i in range(x.shape[0]):  # (apart: the loop above stays as fast as without two-area partners)
        a2 = S.partner_area2[i]
        if a2 >= 0:
            d[i] = tv_area(x[i], c[area[i]], S.outcome_area, area[i])
            d2[i] = tv_area(x[i], c[a2], S.outcome_area, a2)
    return d, d2


@jit
def distance_from_consensus(S) -> np.ndarray:
    """Each partner's distance from its area's consensus, shape (N,), in [0, 1].

    For a partner active in two areas, ``(1 - w_i) d_home + w_i d_second`` (w_i: ``second_weight``).
    """
    d, d2 = area_distances(S)
    w = S.second_weight
    for i in range(d.shape[0]):
        if S.partner_area2[i] >= 0:
            d[i] = (1.0 - w[i]) * d[i] + w[i] * d2[i]
    return d


@jit
def alignment(S) -> float:
    """1 − mean total-variation distance of partner agendas from their area's consensus, in [0, 1].

    The mean runs over (partner, area) pairs: a partner active in two areas counts in both.
    """
    d, d2 = area_distances(S)
    total = 0.0
    for i in range(d.shape[0]):  # (in partner order, as before)
        total += d[i]
    for i in range(d2.shape[0]):
        total += d2[i]
    return 1.0 - total / S.partners_per_area.sum()


@jit
def factions(S) -> float:
    """Number of camps, summed over areas.

    A camp is a table (a backbone, or the one table of a joint area) that is the first choice
    of at least 10% of the area's partners.
    """
    followed, area, kappa, N_a = S.followed, S.backbone_area, S.coordination, S.partners_per_area
    B = area.shape[0]
    A = N_a.shape[0]
    sizes = np.zeros(B + A)  # tables B..B+A-1: the joint table of each area
    for i in range(followed.shape[0]):
        b = followed[i]
        if b >= 0:
            sizes[B + area[b] if kappa[area[b]] == JOINT else b] += 1
    camps = 0
    for t in range(B + A):
        a = area[t] if t < B else t - B
        if sizes[t] > 0 and sizes[t] >= 0.1 * N_a[a]:
            camps += 1
    return float(camps)


@jit
def mean_trust(S) -> float:
    """Mean trust of partners in the backbones they follow (attention-weighted); 0 where nobody has one."""
    pi, tau = S.attention, S.trust
    followers = pi.shape[0] - S.without_backbone[0]
    if followers == 0:
        return 0.0
    total = 0.0  # sum_i sum_b pi_ib tau_ib, without an (N, B) temporary every month
    for i in range(pi.shape[0]):
        for b in range(pi.shape[1]):
            total += pi[i, b] * tau[i, b]
    return total / followers


@jit
def engagement(S) -> float:
    """Mean partner engagement, in [0, 1]."""
    return S.engagement.mean()


@jit
def meeting_hours(S) -> float:
    """Mean hours per partner per month in backbone tables and working groups."""
    return S.meeting_hours.sum() / S.meeting_hours.shape[0]


@jit
def fundraising_share(S) -> float:
    """Share of partner time spent fundraising (capacity-weighted)."""
    return (S.fundraising * S.capacity).sum() / S.capacity.sum()


@jit
def nonprofit_fundraising_share(S) -> float:
    """Share of time spent fundraising by nonprofits and community groups (0 if none)."""
    n = S.fundraises_for_itself.sum()
    return (S.fundraising * S.fundraises_for_itself).sum() / n if n else 0.0


@jit
def partner_weighted(x: np.ndarray, S) -> float:
    """Mean of a per-area quantity over partners (each area weighted by N_a; a two-area partner counts in both)."""
    return (x * S.partners_per_area).sum() / S.partners_per_area.sum()


@jit
def data_completeness(S) -> float:
    """Completeness of the community-wide data picture, partner-weighted over areas."""
    return partner_weighted(S.completeness, S)


@jit
def action_plan_quality(S) -> float:
    """Mean quality of the action plans partners work to, over outcomes."""
    return S.plan_effective.mean()


@jit
def outcome_mean(S) -> float:
    """Mean outcome level y_k over all outcomes, in [0, 1]."""
    return S.outcome.mean()


@jit
def outcome_improvement(S) -> float:
    """Mean of y_k(t) − y_k(0) over all outcomes."""
    return (S.outcome - S.outcome0).mean()


@jit
def data_cost(S) -> float:
    """Community money spent on data, $/month: backbone measurement staff, own systems, reporting hours."""
    return S.data_cost[0]


@jit
def backbone_staff_hours(S) -> float:
    """Backbone staff hours per month, all backbones."""
    return S.staff_hours.sum()


@jit
def visibility_effort(S) -> float:
    """Share of backbone staff time spent on visibility and recruitment."""
    hours = S.staff_hours.sum()
    return (S.staff_hours * S.visibility).sum() / hours if hours > 0 else 0.0


@jit
def aligned_funding(S) -> float:
    """Share of program grants flowing through aligned channels (partner-weighted)."""
    return partner_weighted(S.aligned_funding, S)


@jit
def ask_coherence(S) -> float:
    """How much the backbones' funding and policy asks agree (1: one ask), partner-weighted."""
    return partner_weighted(S.ask_coherence, S)


@jit
def policy_alignment(S) -> float:
    """Saturation of coherent policy advocacy (drives the outcome bonus), partner-weighted."""
    return partner_weighted(S.policy_alignment, S)


@jit
def program_share(S) -> float:
    """Share of partner hours left for program work after fundraising, meetings, reporting."""
    return S.program_hours.sum() / S.capacity.sum()


@jit
def active_backbones(S) -> float:
    """Active backbones, all areas."""
    return float(S.backbone_active.sum())


@jit
def active_conveners(S) -> float:
    """Active conveners, all outcomes."""
    return float(S.convener_active.sum())


@jit
def money_convening(S) -> float:
    """Conveners' in-kind support, $/month."""
    return (S.convener_in_kind * S.convener_active).sum()


@jit
def money_in(S) -> float:
    """$ per month coming in: funders' pools (m_a F_a), in-kind of backbones and conveners, grants."""
    return (
        (S.pool * S.funder_factor).sum() + (S.in_kind * S.backbone_active).sum() + money_convening(S) + S.grants.sum()
    )


@jit
def money_overhead(S) -> float:
    """Backbones' fixed overheads, $/month."""
    return S.overhead.sum()


@jit
def money_staff(S) -> float:
    """Backbones' money for staff, $/month."""
    return S.staff_money.sum()


@jit
def money_grants(S) -> float:
    """Program grants paid, $/month."""
    return S.grants_paid.sum()


@jit
def money_unspent(S) -> float:
    """Money reported unspent, $/month: pools of areas without a backbone, grants nobody could take."""
    return S.pool_unspent.sum() + S.grants_unspent.sum()


@jit
def hours_capacity(S) -> float:
    """Partner capacity, hours/month, all partners."""
    return S.capacity.sum()


@jit
def hours_fundraising(S) -> float:
    """Fundraising hours/month, all partners."""
    return S.fundraising_hours.sum()


@jit
def hours_meetings(S) -> float:
    """Meeting hours/month, all partners."""
    return S.meeting_hours.sum()


@jit
def hours_reporting(S) -> float:
    """Reporting hours/month, all partners."""
    return S.report_hours.sum()


@jit
def hours_program(S) -> float:
    """Program hours/month, all partners."""
    return S.program_hours.sum()


@jit
def duplicate_meeting_hours(S) -> float:
    """Mean hours per partner per month hearing the same report again (extra tables, extra groups per outcome)."""
    return S.duplicate_hours.sum() / S.duplicate_hours.shape[0]


@jit
def practice_changed(S) -> float:
    """Mean share of practice the partnership has changed, x_k, over outcomes, in [0, 1]."""
    return S.practice.mean()


@jit
def partnership_effect(S) -> float:
    """The partnership's effect on the population levels (what the counterfactual lacks), mean over indicators."""
    total = 0.0
    for j in range(S.indicator_outcome.shape[0]):
        total += S.indicator_sensitivity[j] * S.effect[S.indicator_outcome[j]]
    return total / S.indicator_outcome.shape[0]


@jit
def measured_outcome_mean(S) -> float:
    """Mean measured level over outcomes (latest yearly measurement), in [0, 1]."""
    return S.measured.mean()


@jit
def measured_improvement(S) -> float:
    """Mean over indicators of the latest measurement minus the baseline-year measurement."""
    return (S.indicator_measured - S.indicator_baseline).mean()


@jit
def indicators_improving(S) -> float:
    """Share of measured indicators better than in the baseline year (StrivePartnership's count)."""
    return (S.indicator_measured > S.indicator_baseline).mean()


@jit
def proof_point(S) -> float:
    """1 if at least 60% of the indicators improve (StriveTogether's proof point), else 0."""
    return 1.0 if indicators_improving(S) >= PROOF_POINT - 1e-12 else 0.0


@jit
def results_seen(S) -> float:
    """Results partners see in the shared data, R_a in [-1, 1], partner-weighted."""
    return partner_weighted(S.results_seen, S)


@jit
def funder_money(S) -> float:
    """Funders' backbone money as a share of their commitment, m_a, partner-weighted."""
    return partner_weighted(S.funder_factor, S)


@jit
def political_fires(S) -> float:
    """Political fires left burning, Phi_a, partner-weighted."""
    return partner_weighted(S.fires, S)


#: the measures, in the column order of METRIC_NAMES (a test checks the two agree)
MEASURES = (
    alignment, factions, mean_trust, engagement, meeting_hours, fundraising_share, data_completeness,
    action_plan_quality, outcome_mean, outcome_improvement, nonprofit_fundraising_share, data_cost,
    backbone_staff_hours, visibility_effort, aligned_funding, ask_coherence, policy_alignment, program_share,
    active_backbones, active_conveners, money_in, money_overhead, money_staff, money_convening, money_grants,
    money_unspent, hours_capacity, hours_fundraising, hours_meetings, hours_reporting, hours_program,
    practice_changed, partnership_effect, measured_outcome_mean, measured_improvement, indicators_improving,
    proof_point, results_seen, funder_money, political_fires, duplicate_meeting_hours,
)  # fmt: skip


@jit
def fill(S, out: np.ndarray) -> None:
    """Write every measure of :data:`MEASURES`, then y_k, then each outcome's measured level (length 41 + 2K)."""
    out[0] = alignment(S)
    out[1] = factions(S)
    out[2] = mean_trust(S)
    out[3] = engagement(S)
    out[4] = meeting_hours(S)
    out[5] = fundraising_share(S)
    out[6] = data_completeness(S)
    out[7] = action_plan_quality(S)
    out[8] = outcome_mean(S)
    out[9] = outcome_improvement(S)
    out[10] = nonprofit_fundraising_share(S)
    out[11] = data_cost(S)
    out[12] = backbone_staff_hours(S)
    out[13] = visibility_effort(S)
    out[14] = aligned_funding(S)
    out[15] = ask_coherence(S)
    out[16] = policy_alignment(S)
    out[17] = program_share(S)
    out[18] = active_backbones(S)
    out[19] = active_conveners(S)
    out[20] = money_in(S)
    out[21] = money_overhead(S)
    out[22] = money_staff(S)
    out[23] = money_convening(S)
    out[24] = money_grants(S)
    out[25] = money_unspent(S)
    out[26] = hours_capacity(S)
    out[27] = hours_fundraising(S)
    out[28] = hours_meetings(S)
    out[29] = hours_reporting(S)
    out[30] = hours_program(S)
    out[31] = practice_changed(S)
    out[32] = partnership_effect(S)
    out[33] = measured_outcome_mean(S)
    out[34] = measured_improvement(S)
    out[35] = indicators_improving(S)
    out[36] = proof_point(S)
    out[37] = results_seen(S)
    out[38] = funder_money(S)
    out[39] = political_fires(S)
    out[40] = duplicate_meeting_hours(S)
    K = S.outcome.shape[0]
    out[41 : 41 + K] = S.outcome
    out[41 + K :] = S.measured


def _reporter(measure) -> Callable[[CollectiveImpactModel], float]:
    def report(m: CollectiveImpactModel) -> float:
        return float(measure(m.state))

    report.__name__ = measure.__name__
    report.__doc__ = measure.__doc__
    return report


#: Each model-level metric as a function of the model (Mesa DataCollector reporters), in column order.
MODEL_METRICS: dict[str, Callable[[CollectiveImpactModel], float]] = {f.__name__: _reporter(f) for f in MEASURES}


def metric_names(m: CollectiveImpactModel) -> list[str]:
    """All column names for this model: the named metrics, ``outcome_<name>``, then ``measured_<name>``."""
    return list(METRIC_NAMES) + [f"outcome_{k}" for k in m.outcome_names] + [f"measured_{k}" for k in m.outcome_names]


def model_metrics(m: CollectiveImpactModel, out: np.ndarray | None = None) -> np.ndarray:
    """The values of :func:`metric_names` for the model's current state, shape (41 + 2K,).

    Args:
        m: the model.
        out: a row to write into (e.g. of a preallocated results table); a new array if None.
    """
    if out is None:
        out = np.empty(len(METRIC_NAMES) + 2 * m.n_outcomes)
    fill(m.state, out)
    return out


def agent_snapshot(m: CollectiveImpactModel) -> dict[str, np.ndarray]:
    """Per-partner state (for the agent table sampled every ``output.agent_period`` steps)."""
    followed = m.followed_backbones()
    names = np.array([*m.backbone_names, ""], dtype=object)
    return {
        "partner": np.arange(m.n_partners),
        "area": np.array(m.area_names, dtype=object)[m.partner_area],
        "sector": np.array([a.sector for a in m.partner_agents], dtype=object),
        "followed_backbone": names[followed],
        "trust_followed": m.followed_trust(),
        "engagement": m.engagement.copy(),
        "distance_from_consensus": distance_from_consensus(m.state),
        "fundraising_share": m.fundraising.copy(),
        "data_capacity": m.data_capacity.copy(),
        "meeting_hours": m.meeting_hours.copy(),
    }
