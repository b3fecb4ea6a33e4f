"""Initialization (docs/ODD.md §5): the state arrays of a new run, drawn from the model's streams.

Each component draws from its own stream (``partners``, ``agendas``, ``backbones``,
``network``, ``trust``, ``outcomes``), all spawned from the Mesa model's generator, so that
scenarios differing in one component (e.g. the number of backbones) still share partners,
agendas, networks and initial outcomes: common random numbers.
"""

from __future__ import annotations

import random

import networkx as nx
import numpy as np
import scipy.sparse as sp

from ci_sim.model.mechanisms.common import tv_area, tv_matrix
from ci_sim.model.scenario import COORDINATION_LEVELS, FUNDER_RULES, SECTORS, Scenario

LEGITIMACY_FIELDS = {
    "partner_agreed": "legitimacy_partner_agreed",
    "funder_created": "legitimacy_funder_created",
    "self_declared": "legitimacy_self_declared",
}
FUNCTION_EFFORTS = ("effort_vision", "effort_aligned", "effort_measurement", "effort_engagement", "effort_policy",
                    "effort_resources")  # fmt: skip


def dirichlet(alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row-wise Dirichlet draws, shape of ``alpha`` (zeros in ``alpha`` stay zero)."""
    g = rng.gamma(np.where(alpha > 0, alpha, 1.0)) * (alpha > 0)
    return g / g.sum(axis=-1, keepdims=True)


def areas(sc: Scenario) -> dict:
    """Areas and outcomes: names, ``outcome_area`` [K], coordination kappa_a, pools and grants [A]."""
    names = [a.name for a in sc.issue_areas]
    outcome_area = np.array([i for i, a in enumerate(sc.issue_areas) for _ in a.outcomes], dtype=np.int64)
    return {
        "area_names": names,
        "outcome_names": [k for a in sc.issue_areas for k in a.outcomes],
        "outcome_area": outcome_area,
        "outcomes_per_area": np.bincount(outcome_area, minlength=len(names)).astype(float),
        "coordination": np.array([COORDINATION_LEVELS.index(a.coordination) for a in sc.issue_areas], dtype=np.int64),
        "funder_rule": np.array([FUNDER_RULES.index(a.funding.rule) for a in sc.issue_areas], dtype=np.int64),
        "shared_pool": np.array([sc.funders.shared_pool], dtype=np.bool_),
        "pool": np.array([a.funding.backbone_pool for a in sc.issue_areas], dtype=float),
        "grants": np.array([a.funding.program_grants for a in sc.issue_areas], dtype=float),
    }


def partners(sc: Scenario, draw: np.random.Generator) -> dict:
    """Each partner's area (shares by largest remainder, shuffled) and sector (drawn from the mix).

    With ``community.organizations`` listed, each partner is one of them, in list order: its
    (home) area is the first of its areas and its sector its own; nothing is drawn.
    """
    n, n_areas = sc.community.partners, len(sc.issue_areas)
    if sc.community.organizations is not None:
        names = [a.name for a in sc.issue_areas]
        area = np.array([names.index(o.areas[0]) for o in sc.community.organizations], dtype=np.int64)
        return {
            "partner_names": [o.name for o in sc.community.organizations],
            "partner_area": area,
            "partner_sector": np.array([SECTORS.index(o.sector) for o in sc.community.organizations], dtype=np.int64),
            "partners_per_area": np.bincount(area, minlength=n_areas).astype(float),
        }
    shares = np.array([a.share if a.share is not None else 1.0 / n_areas for a in sc.issue_areas])
    counts = np.floor(shares * n).astype(int)
    for i in np.argsort(-(shares * n - counts), kind="stable")[: n - counts.sum()]:  # add up to n exactly
        counts[i] += 1
    area = np.repeat(np.arange(n_areas), counts).astype(np.int64)
    draw.shuffle(area)
    mix = sc.community.sector_mix
    present = [s for s in SECTORS if mix.get(s, 0) > 0]
    probs = np.array([mix[s] for s in present])
    sector = draw.choice(len(present), size=n, p=probs / probs.sum())
    return {
        "partner_names": None,  # drawn partners have no names (a list of N strings would cost a sweep memory)
        "partner_area": area,
        "partner_sector": np.array([SECTORS.index(present[s]) for s in sector], dtype=np.int64),
        "partners_per_area": np.bincount(area, minlength=n_areas).astype(float),
    }


def second_areas(sc: Scenario, s: dict, draw: np.random.Generator) -> dict:
    """Partners active in a second issue area (ODD §5): ``partner_area2`` [N] (-1: none) and ``second_weight`` [N].

    ``round(second_area_share N)`` partners, drawn without replacement, each with a second area
    other than its home area, drawn in proportion to the areas' shares. Draws come from their
    own stream (``second_area``), so that every other draw of a run is the same with and without
    two-area partners (common random numbers). ``second_weight`` is w for a two-area partner,
    0 otherwise; ``partners_per_area`` N_a counts a two-area partner in both of its areas.
    With ``community.organizations`` listed, the second area is an organization's second listed
    area (nothing is drawn).
    """
    n, n_areas = sc.community.partners, len(sc.issue_areas)
    home = s["partner_area"]
    second = np.full(n, -1, dtype=np.int64)
    count = int(round(sc.community.second_area_share * n))
    if sc.community.organizations is not None:
        for i, o in enumerate(sc.community.organizations):
            if len(o.areas) == 2:
                second[i] = s["area_names"].index(o.areas[1])
    elif count and n_areas > 1:
        shares = np.array([a.share if a.share is not None else 1.0 / n_areas for a in sc.issue_areas])
        who = np.sort(draw.choice(n, size=count, replace=False))
        u = draw.random(count)
        for i, x in zip(who, u, strict=True):
            p = np.where(np.arange(n_areas) == home[i], 0.0, shares)
            second[i] = min(int(np.searchsorted(np.cumsum(p / p.sum()), x, side="right")), n_areas - 1)
    weight = np.where(second >= 0, sc.community.second_area_weight, 0.0)
    per_area = s["partners_per_area"] + np.bincount(second[second >= 0], minlength=n_areas)
    return {"partner_area2": second, "second_weight": weight, "partners_per_area": per_area}


def in_area(s: dict, a: int) -> np.ndarray:
    """Mask [N] of the partners active in area ``a`` (home or second area)."""
    return (s["partner_area"] == a) | (s["partner_area2"] == a)


def backbone_specs(sc: Scenario) -> list[tuple[int, dict]]:
    """(area index, backbone spec) for every backbone of the scenario, in file order."""
    return [(i, b) for i, a in enumerate(sc.issue_areas) for b in a.backbone_list()]


def backbones(sc: Scenario) -> dict:
    """Backbone qualities [B]: area, neutrality nu_b, servant leadership sigma_b, in-kind, funding weight, L_b(0)."""
    specs = backbone_specs(sc)
    prm = sc.parameters
    return {
        "backbone_names": [b["name"] for _, b in specs],
        "backbone_origins": [b["origin"] for _, b in specs],
        "backbone_area": np.array([i for i, _ in specs], dtype=np.int64),
        "neutrality": np.array([b["neutrality"] for _, b in specs], dtype=float),
        "servant": np.array([b["servant_leadership"] for _, b in specs], dtype=float),
        "in_kind": np.array([b["in_kind"] for _, b in specs], dtype=float),
        "funding_weight": np.array([b["funding_weight"] for _, b in specs], dtype=float),
        "legitimacy": np.array([getattr(prm, LEGITIMACY_FIELDS[b["origin"]]) for _, b in specs], dtype=float),
        "backbone_active": np.ones(len(specs), dtype=np.bool_),
    }


def area_graph(n: int, net, rnd: random.Random) -> nx.Graph:
    """The peer graph of one area's ``n`` partners, from networkx's generators (``net``: the scenario's network)."""
    degree = min(net.degree, n - 1)
    if n < 4 or degree < 2:
        return nx.complete_graph(n)
    if net.kind == "small_world":
        return nx.watts_strogatz_graph(n, degree, net.rewire, seed=rnd)
    if net.kind == "random":
        return nx.gnp_random_graph(n, degree / (n - 1), seed=rnd)
    return nx.barabasi_albert_graph(n, max(1, degree // 2), seed=rnd)


def peer_network(sc: Scenario, s: dict, draw: np.random.Generator) -> dict:
    """One graph per area (partners influence agendas within their area), row-normalized: P_ij.

    A two-area partner is a node of both areas' graphs (``s``: what :func:`partners` and
    :func:`second_areas` returned); two partners linked in both graphs count the tie twice.
    A partner without peers keeps its own agenda as the peer term (P_ii = 1). Given ties
    (``community.network.edges``, each joining two partners of one area) are the graph, each
    counted once; nothing is drawn.

    Returns:
        ``peer_edges`` (E, 2), ``peer_matrix`` (scipy CSR, N x N) and its CSR arrays.
    """
    n = s["partner_area"].shape[0]
    rnd = random.Random(int(draw.integers(2**63)))  # networkx draws from a Python Random seeded by the stream
    if sc.community.network.edges is not None:
        index = {name: i for i, name in enumerate(s["partner_names"])}
        edges = np.array([[index[a], index[b]] for a, b in sc.community.network.edges], dtype=np.int64).reshape(-1, 2)
    else:
        parts = []
        for a in range(len(sc.issue_areas)):
            members = np.flatnonzero(in_area(s, a))
            sub = area_graph(len(members), sc.community.network, rnd)
            parts.append(members[np.array(list(sub.edges()), dtype=np.int64).reshape(-1, 2)])  # (a list: 5x faster)
        edges = np.concatenate(parts)
    r = np.concatenate([edges[:, 0], edges[:, 1]])
    c = np.concatenate([edges[:, 1], edges[:, 0]])
    adj = sp.csr_matrix((np.ones(r.size), (r, c)), shape=(n, n))
    deg = np.asarray(adj.sum(axis=1)).ravel()
    adj = adj + sp.diags((deg == 0).astype(float))
    deg = np.asarray(adj.sum(axis=1)).ravel()
    matrix = (sp.diags(1.0 / deg) @ adj).tocsr()
    return {
        "peer_edges": edges,
        "peer_matrix": matrix,
        "peer_indptr": matrix.indptr.astype(np.int64),
        "peer_indices": matrix.indices.astype(np.int64),
        "peer_weights": matrix.data.astype(float),
    }


def partner_state(sc: Scenario, s: dict, streams: dict) -> dict:
    """Agendas a_i(0) and g_b, openness, capacity, trust tau_ib(0), engagement, fundraising, outcomes y_k(0).

    ``s`` holds what :func:`areas`, :func:`partners` and :func:`backbones` returned.
    """
    prm = sc.parameters
    n, b = s["partner_area"].shape[0], s["backbone_area"].shape[0]
    n_areas = len(s["area_names"])
    outcome_area = s["outcome_area"]
    mask_k = s["partner_area"][:, None] == outcome_area[None, :]
    # sector profiles: what each sector emphasizes in each area (drawn per run)
    area_mask = (np.arange(n_areas)[:, None] == outcome_area[None, :]).astype(float)
    profiles = dirichlet(np.repeat(area_mask[:, None, :], len(SECTORS), axis=1), streams["agendas"])
    alpha = prm.agenda_concentration * profiles[s["partner_area"], s["partner_sector"]] + 0.05 * mask_k
    agenda0 = dirichlet(alpha, streams["agendas"])
    two = np.flatnonzero(s["partner_area2"] >= 0)
    if two.size:  # (1 - w) a_home + w a_second, the second drawn alike from its own stream
        a2 = s["partner_area2"][two]
        alpha2 = prm.agenda_concentration * profiles[a2, s["partner_sector"][two]] + 0.05 * (
            a2[:, None] == outcome_area[None, :]
        )
        w = s["second_weight"][two, None]
        agenda0[two] = (1 - w) * agenda0[two] + w * dirichlet(alpha2, streams["second_area"])
    on_area = (outcome_area[None, :] == s["backbone_area"][:, None]).astype(float)
    own_agenda = dirichlet(prm.backbone_focus * on_area, streams["backbones"])
    m = prm.openness_mean
    openness = streams["partners"].beta(8 * m, 8 * (1 - m), size=n) if 0.001 < m < 0.999 else np.full(n, m)
    capacity = sc.community.capacity_hours * np.exp(streams["partners"].normal(-0.045, 0.3, size=n))
    if sc.community.organizations is not None:  # each organization's own hours (the draw above keeps later draws)
        capacity = np.array([o.hours for o in sc.community.organizations], dtype=float)
    # initial trust: homophilous (closeness of agendas) and scaled by legitimacy of origin
    dist = tv_matrix(agenda0, own_agenda)
    for i in two:  # a two-area partner's distance to a backbone: of its agenda in the backbone's area
        for j, area_j in enumerate(s["backbone_area"]):
            dist[i, j] = tv_area(agenda0[i], own_agenda[j], outcome_area, area_j)
    trust0 = s["legitimacy"][None, :] * (prm.trust_base + prm.trust_homophily * (0.5 - dist))
    same_area = (s["partner_area"][:, None] == s["backbone_area"][None, :]) | (
        s["partner_area2"][:, None] == s["backbone_area"][None, :]
    )
    trust = np.clip(trust0 + streams["trust"].normal(0, 0.03, size=(n, b)), 0, 1) * same_area
    engagement = np.clip(prm.engagement_base + streams["partners"].normal(0, 0.05, size=n), 0, 1)
    sector = np.array(SECTORS)[s["partner_sector"]]
    for_itself = np.isin(sector, ["nonprofit", "community_group"])
    fundraising0 = np.where(
        for_itself, prm.fundraising_nonprofit, np.where(sector == "funder", 0.0, prm.fundraising_other)
    )
    outcome0 = streams["outcomes"].uniform(0.3, 0.6, size=len(outcome_area))
    shares = np.array([getattr(prm, f) for f in FUNCTION_EFFORTS])
    # a two-area partner's capacity counts (1 - w) in its home area and w in its second
    capacity_area = np.bincount(s["partner_area"], weights=capacity * (1 - s["second_weight"]), minlength=n_areas)
    if two.size:
        capacity_area += np.bincount(s["partner_area2"][two], weights=capacity[two] * s["second_weight"][two],
                                     minlength=n_areas)  # fmt: skip
    return {
        "partner_active": np.ones(n, dtype=np.bool_),
        "agenda0": agenda0,
        "agenda": agenda0.copy(),
        "agenda_next": np.zeros_like(agenda0),
        "own_agenda": own_agenda,
        "openness": openness,
        "capacity": capacity,
        "trust": np.ascontiguousarray(trust),
        "attention": np.zeros((n, b)),
        "engagement": engagement,
        "fundraising0": fundraising0,
        "fundraising": fundraising0.copy(),
        "fundraises_for_itself": for_itself,
        "data_capacity": np.full(n, 0.2),
        "data_quality": np.zeros(b),
        "backbone_plan": np.zeros((b, len(outcome_area))),
        "aligned_funding": np.zeros(n_areas),
        "outcome0": outcome0,
        "outcome": outcome0.copy(),
        "function_shares": shares / shares.sum() if shares.sum() > 0 else np.full(6, 1 / 6),
        # the effort that would give each outcome an equal share of its area's capacity
        "fair_effort": np.maximum(capacity_area[outcome_area] / s["outcomes_per_area"][outcome_area], 1e-12),
        "convener_active": np.zeros(len(outcome_area), dtype=np.bool_),
        "convener_facilitation": np.zeros(len(outcome_area)),
        "convener_in_kind": np.zeros(len(outcome_area)),
        "convener_plan": np.zeros(len(outcome_area)),
    }


def population(sc: Scenario, s: dict, draw: np.random.Generator) -> dict:
    """Indicators of each outcome (ODD §5, §7.12): baselines, trends, sensitivities, the baseline measurement.

    An outcome with one indicator keeps its level y_k(0); with several, the indicators
    (grades, subgroups) scatter around it (sd 0.08, kept in [0.05, 0.95]). Trends: the outcome's
    tau_k ~ U(trend) per year plus each indicator's own N(0, trend_spread). Sensitivities
    s_j ~ U(1 - effect_spread, 1 + effect_spread), divided by their outcome's mean (so one indicator
    has s_j = 1). Also the funders' pools with their per-partner part.
    """
    prm = sc.parameters
    counts = [n for a in sc.issue_areas for n in a.indicator_counts()]
    k_of = np.repeat(np.arange(len(counts)), counts).astype(np.int64)
    J = len(k_of)
    area_of_k = s["outcome_area"]
    trend_range = np.array([sc.issue_areas[a].population.trend for a in area_of_k])
    spread = np.array([sc.issue_areas[a].population.trend_spread for a in area_of_k])
    tau_k = draw.uniform(trend_range[:, 0], trend_range[:, 1])
    trend = (tau_k[k_of] + draw.normal(0.0, 1.0, size=J) * spread[k_of]) / 12.0
    several = np.array(counts)[k_of] > 1
    level0 = s["outcome0"][k_of] + np.where(several, draw.normal(0.0, 0.08, size=J), 0.0)
    level0 = np.where(several, np.clip(level0, 0.05, 0.95), level0)
    # sensitivities average exactly 1 within an outcome: D_k is the outcome's mean effect
    sensitivity = draw.uniform(1.0 - prm.effect_spread, 1.0 + prm.effect_spread, size=J)
    sensitivity /= (np.bincount(k_of, weights=sensitivity, minlength=len(counts)) / np.array(counts))[k_of]
    cohort = np.array([a.population.cohort for a in sc.issue_areas], dtype=float)
    baseline_error = draw.normal(0.0, 1.0, size=J) * (sc.mechanisms.sampling_noise * 1.0)
    baseline = np.clip(level0 + baseline_error * np.sqrt(level0 * (1 - level0) / cohort[area_of_k[k_of]]), 0, 1)
    outcome0 = np.bincount(k_of, weights=level0, minlength=len(counts)) / np.array(counts)
    per_partner = np.array([a.funding.backbone_per_partner for a in sc.issue_areas])
    return {
        "indicator_outcome": k_of,
        "indicator_level0": level0,
        "indicator_trend": trend,
        "indicator_sensitivity": sensitivity,
        "indicator_level": level0.copy(),
        "indicator_baseline": baseline,
        "indicator_measured": baseline.copy(),
        "outcome0": outcome0,
        "outcome": outcome0.copy(),
        "practice": np.zeros(len(counts)),
        "effect": np.zeros(len(counts)),
        "outcome_shift": np.zeros(len(counts)),
        "measured": np.bincount(k_of, weights=baseline, minlength=len(counts)) / np.array(counts),
        "cohort": cohort,
        "results_seen": np.zeros(len(cohort)),
        "funder_factor": np.ones(len(cohort)),
        "pool": s["pool"] + per_partner * s["partners_per_area"],
    }


def derived_arrays(n: int, b: int, k: int, n_areas: int) -> dict:
    """Zeroed arrays for the derived quantities (:data:`ci_sim.model.state.DERIVED`), at their initial values.

    Before the first month: completeness 0, coherence 1, ask coherence 1, plans 0 (ODD §5).
    """
    f8 = np.float64
    return {
        "valid": np.zeros((n, b), dtype=np.bool_),
        "has_backbone": np.zeros(n, dtype=np.bool_),
        "without_backbone": np.zeros(1, dtype=np.int64),
        "attend": np.zeros((n, b), dtype=np.bool_),
        "n_tables": np.zeros(n),
        "followed": np.full(n, -1, dtype=np.int64),
        **{
            name: np.zeros(b, dtype=f8)
            for name in ("mass", "rivalry", "visibility", "pull", "budget", "overhead", "staff_money", "staff_hours")
        },  # fmt: skip
        "fn_hours": np.zeros((b, 6)),
        "per_follower": np.zeros((b, 6)),
        "promoted": np.zeros((b, k)),
        "interest": np.zeros((n, k), dtype=np.bool_),
        "convened": np.zeros((n, k), dtype=np.bool_),
        **{
            name: np.zeros(n)
            for name in (
                "groups",
                "meeting_hours",
                "duplicate_hours",
                "report_hours",
                "fundraising_hours",
                "program_hours",
                "meeting_load",
            )
        },  # fmt: skip
        "pool_unspent": np.zeros(n_areas),
        "data_cost": np.zeros(1),
        "completeness": np.zeros(n_areas),
        "ask_coherence": np.ones(n_areas),
        "grants_paid": np.zeros(n_areas),
        "grants_unspent": np.zeros(n_areas),
        "partner_plan": np.zeros((n, k)),
        "plan_effective": np.zeros(k),
        "coherence": np.ones(k),
        "effort": np.zeros(k),
        "policy_alignment": np.zeros(n_areas),
        "in_groups": np.zeros((n, b), dtype=np.bool_),
        "funded_hours": np.zeros(n),
        "funded_aligned": np.zeros(n),
        "fires": np.zeros(n_areas),
    }
