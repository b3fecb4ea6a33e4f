"""The collective-impact model: partners, backbones and conveners in one or more issue areas.

One step is one month. The state lives in numpy arrays owned by the model (struct of
arrays); the Mesa agents in :mod:`ci_sim.model.agents` are views onto their rows. The step
applies the ten mechanisms of docs/ODD.md in order, each vectorized over all partners,
backbones and outcomes at once:

1. attention, 2. budget and staff, 3. promoted agendas, 4. agenda update
(Friedkin–Johnsen), 5. hours, 6. shared measurement, 7. resources, 8. action plans,
9. outcomes, 10. trust and engagement.

No term depends on the number of backbones as such: every cost of several backbones comes
from a mechanism that can be switched off or varied (attention split across tables,
duplicated working groups, overheads paid per backbone, competing agendas, fragmented data
systems, visibility contests).
"""

from __future__ import annotations

import random
from types import SimpleNamespace

import networkx as nx
import numpy as np
import scipy.sparse as sp
from mesa import Model

from ci_sim.model.agents import BackboneAgent, ConvenerAgent, PartnerAgent
from ci_sim.model.scenario import COORDINATION_LEVELS, SECTORS, Scenario

#: How much of the rivalry among an area's backbones survives each coordination level.
RIVALRY_BY_COORDINATION = np.array([1.0, 1.0, 0.5, 0.0])
STREAMS = ("partners", "agendas", "backbones", "network", "trust", "outcomes", "noise")
FUNCTIONS = ("vision", "aligned", "measurement", "engagement", "policy", "resources")


def saturate(x: np.ndarray | float, half: float) -> np.ndarray:
    """Diminishing returns: ``x / (x + half)`` (0 at 0, 1/2 at ``half``, toward 1)."""
    return x / (x + half)


def tv_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Total-variation distance ``0.5 * sum|a - b|`` along the last axis."""
    return 0.5 * np.abs(a - b).sum(axis=-1)


def tv_pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """TV distance between every row of ``a`` (n, K) and every row of ``b`` (m, K): (n, m).

    Rows are distributions over the same K outcomes (each sums to 1), so the distance is
    ``1 - sum_k min(a_k, b_k)``: one minimum and one sum per outcome, accumulated over the K
    outcomes (few) rather than building an (n, m, K) temporary. The result is column-major,
    like the model's other (partner, backbone) arrays.
    """
    overlap = np.zeros((a.shape[0], b.shape[0]), order="F")
    tmp = np.empty_like(overlap)
    for k in range(a.shape[1]):
        np.minimum(a[:, k, None], b[None, :, k], out=tmp)
        overlap += tmp
    return np.subtract(1.0, overlap, out=overlap)


def kth_largest(x: np.ndarray, k: int) -> np.ndarray:
    """Each row's k-th largest value, counting repeated values (as ``np.partition`` does), as a column.

    Walks down each row's distinct values from the top until k values are at or above the
    current one: a few whole-array operations, which on the model's column-major
    (partner, backbone) arrays cost much less than partitioning every short row.
    """
    cur = x.max(axis=1)
    for _ in range(k - 1):
        short = (x >= cur[:, None]).sum(axis=1) < k
        if not short.any():
            break
        below = np.where(x < cur[:, None], x, -np.inf).max(axis=1)
        cur = np.where(short, below, cur)
    return cur[:, None]


def power(x: np.ndarray, beta: float) -> np.ndarray:
    """``x ** beta``, by repeated multiplication when ``beta`` is a small whole number.

    Attention raises every trust value to ``attention_beta`` each step; ``pow`` per element
    costs several times more than the few multiplications of exponentiation by squaring.
    """
    if beta != int(beta) or not 0 <= beta <= 64:
        return np.power(x, beta)
    n, result, base = int(beta), None, x
    while n:
        if n & 1:
            result = base if result is None else result * base
        n >>= 1
        if n:
            base = base * base
    if result is None:
        return np.ones_like(x)
    return result.copy() if result is x else result  # never hand back the caller's own array


class CollectiveImpactModel(Model):
    """A community of partners working on issue areas with backbones and conveners.

    Args:
        scenario: a validated :class:`ci_sim.model.scenario.Scenario`.
        rng: seed of the model's random generator (every random draw comes from it).

    Attributes:
        steps: months simulated so far (Mesa's counter).
        partner_agents, backbone_agents, convener_agents: the Mesa agents by role.
        last: the quantities of the last step (hours, money, completeness, ...), read by
            :mod:`ci_sim.model.metrics`.
    """

    def __init__(self, scenario: Scenario, rng: int | None = None):
        super().__init__(rng=rng)
        # One independent stream per component, all spawned from the model's generator:
        # scenarios that differ in one component (e.g. the number of backbones) still share
        # partners, agendas, networks, initial outcomes and noise (common random numbers).
        self.streams = dict(zip(STREAMS, self.rng.spawn(len(STREAMS)), strict=True))
        self.config = scenario
        self.params = prm = scenario.parameters
        self.switches = scenario.mechanisms
        self._build_areas(scenario)
        self._build_partners(scenario)
        self._build_backbones(scenario)
        self._build_network(scenario)
        self._init_state(prm)
        self._build_conveners(scenario)
        self._init_constants()
        self.events = sorted(scenario.events, key=lambda e: e["at"])
        self.running = True
        self.last = SimpleNamespace()
        self._derive_membership()
        self._compute_step_quantities()  # attention, hours... of the initial state (step 0)

    # ------------------------------------------------------------------ construction

    def _build_areas(self, sc: Scenario) -> None:
        areas = sc.issue_areas
        self.area_names = [a.name for a in areas]
        self.area_index = {a: i for i, a in enumerate(self.area_names)}
        self.n_areas = len(areas)
        self.outcome_names = [k for a in areas for k in a.outcomes]
        self.outcome_area = np.array([i for i, a in enumerate(areas) for _ in a.outcomes])
        self.n_outcomes = len(self.outcome_names)
        self.coordination = np.array([COORDINATION_LEVELS.index(a.coordination) for a in areas])
        self.pool = np.array([a.funding.backbone_pool for a in areas], dtype=float)
        self.grants = np.array([a.funding.program_grants for a in areas], dtype=float)
        self.outcomes_per_area = np.bincount(self.outcome_area, minlength=self.n_areas).astype(float)

    def _build_partners(self, sc: Scenario) -> None:
        n = sc.community.partners
        shares = np.array([a.share if a.share is not None else 1.0 / self.n_areas for a in sc.issue_areas])
        counts = np.floor(shares * n).astype(int)
        # largest remainder so that the counts add up to n exactly
        for i in np.argsort(-(shares * n - counts), kind="stable")[: n - counts.sum()]:
            counts[i] += 1
        area = np.repeat(np.arange(self.n_areas), counts)
        draw = self.streams["partners"]
        draw.shuffle(area)
        mix = sc.community.sector_mix
        sector_names = [s for s in SECTORS if mix.get(s, 0) > 0]
        probs = np.array([mix[s] for s in sector_names])
        sector = draw.choice(len(sector_names), size=n, p=probs / probs.sum())
        self.n_partners = n
        self.partner_area = area
        self.partner_sector = np.array([SECTORS.index(sector_names[s]) for s in sector])
        self.partners_per_area = np.bincount(area, minlength=self.n_areas).astype(float)
        self.partner_outcome_mask = area[:, None] == self.outcome_area[None, :]
        self.area_onehot_p = (area[:, None] == np.arange(self.n_areas)[None, :]).astype(float)
        self.partner_agents = [
            PartnerAgent(self, i, SECTORS[self.partner_sector[i]], self.area_names[area[i]]) for i in range(n)
        ]

    def _build_backbones(self, sc: Scenario) -> None:
        prm = sc.parameters
        specs = [(i, b) for i, a in enumerate(sc.issue_areas) for b in a.backbone_list()]
        self.n_backbones = len(specs)
        self.backbone_area = np.array([i for i, _ in specs], dtype=int)
        self.backbone_names = [b["name"] for _, b in specs]
        self.neutrality = np.array([b["neutrality"] for _, b in specs], dtype=float)
        self.servant = np.array([b["servant_leadership"] for _, b in specs], dtype=float)
        self.in_kind = np.array([b["in_kind"] for _, b in specs], dtype=float)
        self.funding_weight = np.array([b["funding_weight"] for _, b in specs], dtype=float)
        legit = {
            "partner_agreed": prm.legitimacy_partner_agreed,
            "funder_created": prm.legitimacy_funder_created,
            "self_declared": prm.legitimacy_self_declared,
        }
        self.legitimacy = np.array([legit[b["origin"]] for _, b in specs], dtype=float)
        self.backbone_active = np.ones(self.n_backbones, dtype=bool)
        self.backbone_agents = [
            BackboneAgent(self, j, b["name"], self.area_names[i], b["origin"]) for j, (i, b) in enumerate(specs)
        ]
        # (partner, backbone) arrays are column-major: the step reduces them over backbones,
        # which is many times faster along contiguous columns than along short rows
        self.partner_backbone_mask = np.asfortranarray(self.partner_area[:, None] == self.backbone_area[None, :])
        self.area_onehot_b = (self.backbone_area[:, None] == np.arange(self.n_areas)[None, :]).astype(float)
        self.outcome_backbone_mask = self.outcome_area[None, :] == self.backbone_area[:, None]

    def _build_conveners(self, sc: Scenario) -> None:
        k = self.n_outcomes
        self.convener_active = np.zeros(k, dtype=bool)
        self.convener_facilitation = np.zeros(k)
        self.convener_in_kind = np.zeros(k)
        self.convener_plan = np.zeros(k)
        self.convener_agents: list[ConvenerAgent] = []
        for a, area in enumerate(sc.issue_areas):
            conv = area.conveners
            if conv.per_outcome or conv.outcomes:
                names = conv.outcomes or area.outcomes
                self.add_conveners(a, [self.outcome_names.index(n) for n in names], conv.facilitation, conv.in_kind)

    def _build_network(self, sc: Scenario) -> None:
        """Build the peer network: one graph per issue area, row-normalized for agendas.

        Partners influence agendas within their area, so each area gets its own graph, drawn
        with networkx from the model's generator.
        """
        n, net = self.n_partners, sc.community.network
        # networkx draws from a Python Random seeded by the model's network stream
        self._network_random = random.Random(int(self.streams["network"].integers(2**63)))
        parts = []
        for a in range(self.n_areas):
            members = np.flatnonzero(self.partner_area == a)
            sub = self._area_graph(len(members), net)
            parts.append(members[np.array(sub.edges(), dtype=int).reshape(-1, 2)])
        edges = self.peer_edges = np.concatenate(parts)
        self._graph = None  # the networkx view is built when a picture asks for it (see graph)
        r = np.concatenate([edges[:, 0], edges[:, 1]])
        c = np.concatenate([edges[:, 1], edges[:, 0]])
        adj = sp.csr_matrix((np.ones(r.size), (r, c)), shape=(n, n))
        deg = np.asarray(adj.sum(axis=1)).ravel()
        # a partner without peers keeps its own agenda as the peer term
        adj = adj + sp.diags((deg == 0).astype(float))
        deg = np.asarray(adj.sum(axis=1)).ravel()
        self.peer_matrix = (sp.diags(1.0 / deg) @ adj).tocsr()

    @property
    def graph(self) -> nx.Graph:
        """The peer network as a networkx graph (node i is partner i), for pictures.

        The step uses the sparse peer matrix; building the networkx graph costs more than a
        whole run at thousands of partners, so it is made on first use only.
        """
        if self._graph is None:
            self._graph = nx.empty_graph(self.n_partners)
            self._graph.add_edges_from(self.peer_edges.tolist())
        return self._graph

    def _area_graph(self, n: int, net) -> nx.Graph:
        degree = min(net.degree, n - 1)
        if n < 4 or degree < 2:
            return nx.complete_graph(n)
        if net.kind == "small_world":
            return nx.watts_strogatz_graph(n, degree, net.rewire, seed=self._network_random)
        if net.kind == "random":
            return nx.gnp_random_graph(n, degree / (n - 1), seed=self._network_random)
        return nx.barabasi_albert_graph(n, max(1, degree // 2), seed=self._network_random)

    @staticmethod
    def _dirichlet(alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Row-wise Dirichlet draws (zeros in ``alpha`` stay zero)."""
        g = rng.gamma(np.where(alpha > 0, alpha, 1.0)) * (alpha > 0)
        return g / g.sum(axis=-1, keepdims=True)

    def _init_state(self, prm) -> None:
        n, k, b = self.n_partners, self.n_outcomes, self.n_backbones
        mask_k = self.partner_outcome_mask
        # sector profiles: what each sector emphasizes in each area (drawn per run)
        area_mask = (np.arange(self.n_areas)[:, None] == self.outcome_area[None, :]).astype(float)
        profiles = self._dirichlet(np.repeat(area_mask[:, None, :], len(SECTORS), axis=1), self.streams["agendas"])
        alpha = prm.agenda_concentration * profiles[self.partner_area, self.partner_sector] + 0.05 * mask_k
        # column-major: the step reads agendas outcome by outcome (distances, interest)
        self.agenda0 = np.asfortranarray(self._dirichlet(alpha, self.streams["agendas"]))
        self.agenda = self.agenda0.copy(order="F")
        self.own_agenda = self._dirichlet(
            prm.backbone_focus * self.outcome_backbone_mask.astype(float), self.streams["backbones"]
        )
        m = prm.openness_mean
        if 0.001 < m < 0.999:
            self.openness = self.streams["partners"].beta(8 * m, 8 * (1 - m), size=n)
        else:
            self.openness = np.full(n, m)
        self.capacity = self.community_capacity() * np.exp(self.streams["partners"].normal(-0.045, 0.3, size=n))
        # initial trust: homophilous (closeness of agendas) and scaled by legitimacy of origin
        dist = tv_pairwise(self.agenda0, self.own_agenda)
        trust0 = self.legitimacy[None, :] * (prm.trust_base + prm.trust_homophily * (0.5 - dist))
        self.trust = np.asfortranarray(
            np.clip(trust0 + self.streams["trust"].normal(0, 0.03, size=(n, b)), 0, 1) * self.partner_backbone_mask
        )
        self.engagement = np.clip(prm.engagement_base + self.streams["partners"].normal(0, 0.05, size=n), 0, 1)
        sec = np.array(SECTORS)[self.partner_sector]
        self.fundraising0 = np.where(
            np.isin(sec, ["nonprofit", "community_group"]),
            prm.fundraising_nonprofit,
            np.where(sec == "funder", 0.0, prm.fundraising_other),
        )
        self.fundraising = self.fundraising0.copy()
        self.fundraises_for_itself = np.isin(sec, ["nonprofit", "community_group"])
        self.data_capacity = np.full(n, 0.2)
        self.data_quality = np.zeros(b)
        self.backbone_plan = np.zeros((b, k))
        self.aligned_funding = np.zeros(self.n_areas)
        self.outcome0 = self.streams["outcomes"].uniform(0.3, 0.6, size=k)
        self.outcome = self.outcome0.copy()

    def _init_constants(self) -> None:
        """Quantities that stay fixed during a run, derived once so that the step reuses them."""
        prm = self.params
        coord_b = self.coordination[self.backbone_area]
        coord_p = self.coordination[self.partner_area]
        shares = np.array(
            [
                prm.effort_vision,
                prm.effort_aligned,
                prm.effort_measurement,
                prm.effort_engagement,
                prm.effort_policy,
                prm.effort_resources,
            ]
        )
        capacity_area = np.bincount(self.partner_area, weights=self.capacity, minlength=self.n_areas)
        self._const = SimpleNamespace(
            ones_n=np.ones(self.n_partners),
            ones_b=np.ones(self.n_backbones),
            ones_k=np.ones(self.n_outcomes),
            joint_b=coord_b == 3,
            any_joint=bool((coord_b == 3).any()),
            shared_agenda_b=coord_b >= 2,
            any_shared_agenda=bool((coord_b >= 2).any()),
            shared_data_b=coord_b >= 1,
            joint_p=coord_p == 3,
            shared_data_p=coord_p >= 1,
            rivalry_scale=RIVALRY_BY_COORDINATION[coord_b],
            function_shares=shares / shares.sum() if shares.sum() > 0 else np.full(6, 1 / 6),
            partners_area=np.maximum(self.partners_per_area, 1),
            partners_b=np.maximum(self.partners_per_area[self.backbone_area], 1),
            outcomes_in_area=self.outcomes_per_area[self.outcome_area][None, :],
            outcomes_b=self.outcomes_per_area[self.backbone_area],
            outcome_backbone_f=self.outcome_backbone_mask.astype(float),
            partner_outcome_mask=np.asfortranarray(self.partner_outcome_mask),
            stubborn_agenda=np.asfortranarray((1 - self.openness)[:, None] * self.agenda0),  # (1 - lam) x0
            # the effort that would give each outcome an equal share of its area's capacity
            fair_effort=np.maximum(capacity_area[self.outcome_area] / self.outcomes_per_area[self.outcome_area], 1e-12),
        )

    def community_capacity(self) -> float:
        return self.config.community.capacity_hours

    # ------------------------------------------------------------------ helpers

    def backbones_in(self, area: str) -> list[BackboneAgent]:
        """Active backbones of an issue area."""
        a = self.area_index[area]
        return [x for x in self.backbone_agents if self.backbone_area[x.index] == a and x.active]

    def add_conveners(self, area: int, outcomes: list[int], facilitation: float, in_kind: float) -> None:
        """Give each outcome a convener (an existing one is kept, with the better skill)."""
        for k in outcomes:
            if not self.convener_active[k]:
                self.convener_agents.append(ConvenerAgent(self, k, f"convener_{self.outcome_names[k]}"))
                # the convener takes over the working group and its plan so far
                in_area = (self.backbone_area == area) & self.backbone_active
                if in_area.any():
                    self.convener_plan[k] = max(self.convener_plan[k], self.backbone_plan[in_area, k].max())
            self.convener_active[k] = True
            self.convener_facilitation[k] = max(self.convener_facilitation[k], facilitation)
            self.convener_in_kind[k] = max(self.convener_in_kind[k], in_kind)

    def _area_sum_b(self, x: np.ndarray) -> np.ndarray:
        """Sum a per-backbone quantity over each area: shape (areas,)."""
        return x @ self.area_onehot_b

    # ------------------------------------------------------------------ events

    def _apply_events(self) -> bool:
        """Apply the events due this month; return whether any happened."""
        happened = False
        month = self.steps - 1  # Mesa counts this step already; the state is still at month-start
        while self.events and self.events[0]["at"] == month:
            ev = self.events.pop(0)
            getattr(self, "_event_" + ev["kind"])(ev, self.area_index[ev["area"]])
            happened = True
        return happened

    def _event_merge_backbones(self, ev: dict, area: int) -> None:
        spec = ev["merge_backbones"]
        members = np.flatnonzero((self.backbone_area == area) & self.backbone_active)
        if members.size == 0:
            return
        named = self.backbone_names.index(spec["keep"]) if isinstance(spec["keep"], str) else None
        if named is not None and named in members:
            keep = np.array([named])
        else:  # keep the most followed (also when the named backbone has already left)
            count = spec["keep"] if named is None else 1
            keep = members[np.argsort(-self.last.mass[members], kind="stable")[:count]]
        others = np.setdiff1d(members, keep)
        # followers carry their trust over to the kept backbone(s); plans are pooled
        followed_trust = (self.attention[:, others] * self.trust[:, others]).sum(axis=1)
        for j in keep:
            self.trust[:, j] = np.maximum(self.trust[:, j], followed_trust * self.partner_backbone_mask[:, j])
            self.backbone_plan[j] = np.maximum(self.backbone_plan[j], self.backbone_plan[others].max(axis=0, initial=0))
        self.backbone_active[others] = False
        if spec["others_become"] == "conveners":
            free = [k for k in np.flatnonzero(self.outcome_area == area) if not self.convener_active[k]]
            conv = self.config.issue_areas[area].conveners
            for j in others[np.argsort(-self.last.mass[others], kind="stable")]:
                if not free:
                    break
                k = max(free, key=lambda k: self.own_agenda[j, k])
                free.remove(k)
                self.add_conveners(area, [k], conv.facilitation, self.in_kind[j])
                self.convener_plan[k] = max(self.convener_plan[k], self.backbone_plan[j, k])

    def _event_backbone_exits(self, ev: dict, area: int) -> None:
        self.backbone_active[self.backbone_names.index(ev["backbone_exits"])] = False

    def _event_add_conveners(self, ev: dict, area: int) -> None:
        spec = ev["add_conveners"]
        names = spec["outcomes"]
        ks = (
            np.flatnonzero(self.outcome_area == area)
            if names == "all"
            else [self.outcome_names.index(n) for n in names]
        )
        self.add_conveners(area, list(ks), spec["facilitation"], self.config.issue_areas[area].conveners.in_kind)

    def _event_funder_shift(self, ev: dict, area: int) -> None:
        spec = ev["funder_shift"]
        if spec["backbone_pool"] is not None:
            self.pool[area] = spec["backbone_pool"]
        if spec["program_grants"] is not None:
            self.grants[area] = spec["program_grants"]
        if spec["to_backbone"] is not None:
            target = self.backbone_names.index(spec["to_backbone"])
            in_area = self.backbone_area == area
            self.funding_weight[in_area] = 0.0
            self.funding_weight[target] = 1.0

    # ------------------------------------------------------------------ the step

    def step(self) -> None:
        """Advance one month: events, then the mechanisms in the documented order."""
        if self._apply_events():
            self._derive_membership()
            self._compute_step_quantities()  # an event changed who is active: re-derive
        L = self.last
        prm = self.params
        self._update_agendas(L)
        self._update_measurement(L)
        self._update_resources(L)
        self._update_plans(L)
        self._update_outcomes(L)
        self._update_trust_engagement(L, prm)
        self._compute_step_quantities()

    # -- mechanisms 1, 2, 3, 5 (derived each step from the state) -----------------

    def _derive_membership(self) -> None:
        """Who can follow which backbone: fixed between events, so derived only when they happen."""
        c = self._const
        self._valid = self.partner_backbone_mask & self.backbone_active  # (N, B), column-major
        self._has_backbone = self._valid.any(axis=1)
        self._joint_p = c.joint_p & self._has_backbone
        self._shared_data_p = c.shared_data_p & self._has_backbone
        self.partners_without_backbone = self.n_partners - int(np.count_nonzero(self._has_backbone))

    def _compute_step_quantities(self) -> None:
        """Attention, budgets, promoted agendas and hours for the current state."""
        prm, L, c = self.params, self.last, self._const
        active = self.backbone_active
        valid, has_bb = self._valid, self._has_backbone
        # 1. attention: pi_ib ~ tau_ib^beta over the area's active backbones; one table if joint
        if self.switches.attention or not hasattr(self, "attention"):
            weight = power(np.maximum(self.trust, 1e-9), prm.attention_beta) * valid
            if c.any_joint:
                weight = np.where(c.joint_b & valid, 1.0, weight)
        else:  # frozen attention: a backbone that left frees its share for the others
            weight = self.attention * valid
        total = weight.sum(axis=1)
        # (a partner without a backbone has no weight at all: 0 / 1 leaves its row at zero)
        weight /= np.where(total > 0, total, 1.0)[:, None]
        self.attention = weight
        # (attention is zero outside the valid pairs, so it is used as pi_ib directly below)
        pi = self.attention
        rowmax = pi.max(axis=1, initial=0.0)[:, None]
        # a partner sits at the tables it gives at least attend_threshold of its top table's
        # attention, at most max_tables of them (its most attended)
        attend = valid & (pi >= prm.attend_threshold * rowmax) & (rowmax > 0)
        if self.n_backbones > prm.max_tables:
            attend &= pi >= kth_largest(pi, prm.max_tables)  # (exact ties at the cut keep both tables)
        attend_f = attend.astype(float)
        n_tables = attend_f @ c.ones_b
        mass = pi.sum(axis=0)
        # 2. budget and staff: visibility contests, the funders' pool, overheads, functions
        rivalry = (1.0 - mass / c.partners_b) * c.rivalry_scale * active
        visibility = (1.0 - self.servant) * (prm.visibility_base + prm.visibility_rival * rivalry) * active
        pull = self.funding_weight * self.legitimacy * (1.0 + prm.funding_visibility * visibility) * active
        pull_area = self._area_sum_b(pull)[self.backbone_area]
        pool_share = pull / np.where(pull_area > 0, pull_area, 1.0)  # (no pull in the area: no share)
        budget = (pool_share * self.pool[self.backbone_area] + self.in_kind) * active
        overhead = np.minimum(budget, prm.overhead)
        staff_money = budget - overhead
        staff_hours = staff_money / prm.staff_wage
        fn_hours = (staff_hours * (1.0 - visibility))[:, None] * c.function_shares[None, :]  # (B, 6)
        if c.any_joint:  # joint areas pool staff effort: every member works as an equal part of one team
            members = np.maximum(self._area_sum_b(active.astype(float)), 1)[self.backbone_area]
            pooled = (self.area_onehot_b.T @ fn_hours)[self.backbone_area] / members[:, None]
            fn_hours = np.where(c.joint_b[:, None], pooled * active[:, None], fn_hours)
        per_follower = fn_hours / np.maximum(mass, 1.0)[:, None]
        # 3. promoted agendas: neutral backbones consolidate followers, biased ones pull
        followers_mean = np.divide(
            pi.T @ self.agenda, mass[:, None], out=self.own_agenda.copy(), where=mass[:, None] > 0
        )
        promoted = self.neutrality[:, None] * followers_mean + (1 - self.neutrality[:, None]) * self.own_agenda
        if c.any_shared_agenda:
            w = (mass * active)[:, None] * promoted
            common = (self.area_onehot_b.T @ w) / np.maximum(self._area_sum_b(mass * active), 1e-12)[:, None]
            promoted = np.where(c.shared_agenda_b[:, None], common[self.backbone_area], promoted)
        # 5. hours: fundraising, meetings (tables + working groups), reporting, program
        interest = c.partner_outcome_mask & (self.agenda * c.outcomes_in_area >= prm.interest_threshold)
        interest_f = interest.astype(float)
        joint_p = self._joint_p
        tables = np.where(joint_p, 1.0, n_tables)
        groups_per_outcome = (c.outcome_backbone_f.T @ attend_f.T).T  # column-major, like interest
        if c.any_joint:
            groups_per_outcome = np.where(joint_p[:, None], 1.0, groups_per_outcome)
        if self.convener_active.any():  # a convener runs the one working group of its outcome
            groups_per_outcome = np.where(self.convener_active[None, :], 1.0, groups_per_outcome)
        groups_per_outcome *= interest_f
        groups = groups_per_outcome @ c.ones_k
        systems = np.where(self._shared_data_p, 1.0, n_tables)
        fundraising_h = self.fundraising * self.capacity
        meeting_demand = tables * prm.table_hours + groups * prm.working_group_hours
        report_demand = systems * prm.report_hours
        avail = self.capacity - fundraising_h
        demand = meeting_demand + report_demand
        scale = np.minimum(1.0, np.divide(avail, demand, out=np.ones_like(avail), where=demand > 0))
        L.meeting_hours = meeting_demand * scale
        L.report_hours = report_demand * scale
        L.fundraising_hours = fundraising_h
        L.program_hours = self.capacity - fundraising_h - L.meeting_hours - L.report_hours
        L.meeting_load = meeting_demand / self.capacity
        L.has_backbone, L.valid, L.attend, L.attend_f, L.mass = has_bb, valid, attend, attend_f, mass
        L.interest, L.interest_f, L.groups = interest, interest_f, groups
        L.visibility, L.budget, L.overhead, L.staff_money, L.staff_hours = (
            visibility,
            budget,
            overhead,
            staff_money,
            staff_hours,
        )
        L.fn_hours, L.per_follower, L.promoted = fn_hours, per_follower, promoted
        L.followed = None  # derived on demand by followed_backbones()
        L.rivalry = rivalry
        L.pool_unspent = np.where(self._area_sum_b(pull) > 0, 0.0, self.pool)  # no backbone to fund: funders hold it
        # 6 (cost side). money spent on data: backbone measurement staff, partners' own systems
        # (partners without a backbone), and the value of partners' reporting hours
        L.data_cost = float(
            fn_hours[:, 2].sum() * prm.staff_wage
            + self.partners_without_backbone * prm.own_data_cost
            + L.report_hours.sum() * prm.partner_wage
        )
        if not hasattr(L, "completeness"):
            L.completeness = np.zeros(self.n_areas)
            L.plan_effective = np.zeros(self.n_outcomes)
            L.coherence = np.ones(self.n_outcomes)
            L.effort = np.zeros(self.n_outcomes)
            L.ask_coherence = np.ones(self.n_areas)
            L.policy_alignment = np.zeros(self.n_areas)
            self._pay_grants(L)

    def followed_backbones(self) -> np.ndarray:
        """Per partner, the index of the backbone it gives most attention to (-1 without any).

        Computed once per step, on first use (metrics, agent samples and pictures share it).
        """
        L = self.last
        if L.followed is None:
            first = np.ascontiguousarray(self.attention).argmax(axis=1) if self.n_backbones else 0
            L.followed = np.where(L.has_backbone, first, -1)
        return L.followed

    def followed_trust(self) -> np.ndarray:
        """Per partner, the attention-weighted trust in its area's backbones (0 without any)."""
        return (self.attention * self.trust) @ self._const.ones_b

    def influence_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Agenda weights of mechanism 4: ``w_i`` (weight of others) and ``s_i`` (backbone share).

        ``w_i`` grows with the trust a partner places in the backbones it follows and with
        their vision work per follower; ``s_i`` is zero for partners without a backbone.
        """
        prm, L = self.params, self.last
        strength = self.attention @ saturate(L.per_follower[:, 0], prm.support_need)
        w = prm.influence_min + (prm.influence_max - prm.influence_min) * self.followed_trust() * strength
        s = np.where(L.has_backbone, prm.backbone_share, 0.0)
        return w, s

    # -- mechanism 4: agendas (Friedkin–Johnsen) ---------------------------------

    def _update_agendas(self, L) -> None:
        if not self.switches.agendas:
            return
        w, s = self.influence_weights()
        # both terms column-major like the agendas: arithmetic mixing layouts is several times slower
        influence = (L.promoted.T @ self.attention.T).T
        peers = np.asfortranarray(self.peer_matrix @ self.agenda)
        # x' = lam ((1 - w) x + w (s influence + (1 - s) peers)) + (1 - lam) x0, with the
        # per-partner weights multiplied out first (vectors, not (N, K) arrays)
        lam = self.openness
        new = (lam * (1 - w))[:, None] * self.agenda
        new += (lam * w * s)[:, None] * influence
        new += (lam * w * (1 - s))[:, None] * peers
        new += self._const.stubborn_agenda
        self.agenda = new

    # -- mechanism 6: shared measurement -----------------------------------------

    def _update_measurement(self, L) -> None:
        prm, c = self.params, self._const
        active = self.backbone_active
        meas = L.fn_hours[:, 2]
        hours = np.where(c.shared_data_b, self._area_sum_b(meas)[self.backbone_area], meas)
        self.data_quality += prm.data_rate * (saturate(hours, prm.data_half_hours) - self.data_quality)
        self.data_quality *= active
        ta = self.attention @ saturate(L.per_follower[:, 2], prm.support_need)
        target = np.where(L.has_backbone, ta, prm.own_data_capacity)
        self.data_capacity += prm.data_rate * (target - self.data_capacity)
        # completeness of the community-wide picture, per area: one system's reach
        n_area = c.partners_area
        reach_b = (self.data_capacity @ L.attend_f) / n_area[self.backbone_area]
        reach_shared = (
            np.bincount(self.partner_area, weights=self.data_capacity * L.has_backbone, minlength=self.n_areas) / n_area
        )
        per_b = self.data_quality * np.where(c.shared_data_b, reach_shared[self.backbone_area], reach_b) * active
        best = np.zeros(self.n_areas)
        np.maximum.at(best, self.backbone_area, per_b)
        own = np.zeros(self.n_areas)
        np.maximum.at(own, self.partner_area, self.data_capacity * ~L.has_backbone)
        L.completeness = np.where(self._area_sum_b(active.astype(float)) > 0, best, own / n_area)

    # -- mechanism 7: resources ---------------------------------------------------

    def _update_resources(self, L) -> None:
        prm = self.params
        res = L.fn_hours[:, 5]
        res_area = self._area_sum_b(res)
        # funders hear one ask only to the extent the backbones promote one agenda
        mean_p = (self.area_onehot_b.T @ (res[:, None] * L.promoted)) / np.maximum(res_area, 1e-12)[:, None]
        spread = self._area_sum_b(res * tv_distance(L.promoted, mean_p[self.backbone_area])) / np.maximum(
            res_area, 1e-12
        )
        L.ask_coherence = 1.0 - spread
        plan_area = (
            np.bincount(self.outcome_area, weights=L.plan_effective, minlength=self.n_areas) / self.outcomes_per_area
        )
        target = saturate(res_area * L.ask_coherence, prm.resources_half_hours) * (0.5 + 0.5 * plan_area)
        self.aligned_funding += prm.resources_rate * (target - self.aligned_funding)
        linked = L.groups > 0
        alpha_i = self.aligned_funding[self.partner_area] * linked
        self.fundraising += prm.resources_rate * (self.fundraising0 * (1 - alpha_i) - self.fundraising)
        self._pay_grants(L)

    def _pay_grants(self, L) -> None:
        """Pay the month's program grants.

        The aligned part goes to partners in action plans, the rest to fundraisers; what no
        partner can take is reported unspent.
        """
        any_linked = np.bincount(self.partner_area, weights=L.groups > 0, minlength=self.n_areas) > 0
        any_fundraiser = np.bincount(self.partner_area, weights=L.fundraising_hours, minlength=self.n_areas) > 0
        aligned = self.aligned_funding * self.grants
        L.grants_paid = aligned * any_linked + (self.grants - aligned) * any_fundraiser
        L.grants_unspent = self.grants - L.grants_paid

    # -- mechanism 8: conveners and action plans ----------------------------------

    def _update_plans(self, L) -> None:
        prm, c = self.params, self._const
        interested = L.interest_f * self.engagement[:, None]
        denom = np.maximum(c.ones_n @ L.interest_f, 1.0)  # interested partners per outcome
        # backbone-run groups (thin facilitation from aligned-activities staff time)
        part_b = (L.attend_f.T @ interested) / denom[None, :]
        aligned_h = L.fn_hours[:, 1]
        if c.any_joint:
            aligned_h = np.where(c.joint_b, self._area_sum_b(aligned_h)[self.backbone_area], aligned_h)
            part_joint = ((L.has_backbone @ interested) / denom)[None, :]
            part_b = np.where(c.joint_b[:, None], part_joint, part_b)
        facil_b = prm.thin_facilitation * saturate(aligned_h / c.outcomes_b, prm.facilitation_half_hours)
        self.backbone_plan += (
            prm.plan_rate * facil_b[:, None] * part_b * (1 - self.backbone_plan) - prm.plan_decay * self.backbone_plan
        )
        self.backbone_plan *= self.outcome_backbone_mask
        # convener-run groups: one table per outcome, open to every interested partner
        any_convener = self.convener_active.any()  # (no convener: their plans stay at zero)
        if any_convener:
            part_c = (c.ones_n @ interested) / denom
            dq = (
                prm.plan_rate * self.convener_facilitation * part_c * (1 - self.convener_plan)
                - prm.plan_decay * self.convener_plan
            )
            self.convener_plan = (self.convener_plan + dq) * self.convener_active
        if self.steps % 12 == 0:  # new data each year (months 12, 24, ...): plans are updated
            comp_k = L.completeness[self.outcome_area]
            if any_convener:
                self.convener_plan += prm.plan_update * comp_k * (1 - self.convener_plan) * self.convener_active
            comp_b = L.completeness[self.backbone_area][:, None]
            self.backbone_plan += (
                prm.plan_update * comp_b * (1 - self.backbone_plan) * self.outcome_backbone_mask
            ) * self.backbone_active[:, None]
        L.partner_plan = (self.backbone_plan.T @ self.attention.T).T  # column-major, like the agendas
        if any_convener:
            L.partner_plan = np.where(self.convener_active[None, :], self.convener_plan[None, :], L.partner_plan)

    # -- mechanism 9: outcomes ----------------------------------------------------

    def _update_outcomes(self, L) -> None:
        prm, c = self.params, self._const
        effort = (L.program_hours * self.engagement)[:, None] * self.agenda  # aligned hours on k
        total = c.ones_n @ effort
        e_share = total / c.fair_effort
        safe = np.maximum(total, 1e-12)
        centre = (effort.T @ self.agenda) / safe[:, None]  # (K, K): contributors' mean agenda
        spread = c.ones_n @ (effort * tv_pairwise(self.agenda, centre)) / safe
        coherence = np.where(total > 0, 1.0 - spread, 0.0)
        plan = c.ones_n @ (effort * L.partner_plan) / safe
        policy_h = self._area_sum_b(L.fn_hours[:, 4]) * L.ask_coherence
        L.policy_alignment = saturate(policy_h, prm.policy_half_hours)
        policy = 1.0 + prm.policy_gain * L.policy_alignment
        growth = (
            prm.outcome_rate
            * saturate(e_share, prm.effort_half)
            * coherence
            * (0.25 + 0.75 * plan)
            * (0.5 + 0.5 * L.completeness[self.outcome_area])
            * policy[self.outcome_area]
            * (1 - self.outcome)
        )
        noise = (
            self.streams["noise"].normal(0.0, prm.outcome_noise, size=self.n_outcomes)
            if self.switches.outcome_noise
            else 0.0
        )
        self.outcome = np.minimum(np.maximum(self.outcome + growth + noise, 0.0), 1.0)
        L.coherence, L.plan_effective, L.effort = coherence, plan, e_share

    # -- mechanism 10: trust and engagement ----------------------------------------

    def _update_trust_engagement(self, L, prm) -> None:
        c = self._const
        pi = self.attention
        support = saturate(L.per_follower[:, 1] + L.per_follower[:, 3], prm.support_need)  # (B,)
        bias = 1 - self.neutrality
        # distances to each backbone's own programme and (for trust) to what it promotes, in one pass
        programmes = np.concatenate([self.own_agenda, L.promoted]) if self.switches.trust else self.own_agenda
        dist = tv_pairwise(self.agenda, programmes)
        dist_own = dist[:, : self.n_backbones]  # (N, B)
        # a biased backbone serves partners near its program better: fair = nu + (1 - nu)(1 - d)
        fair = dist_own * -bias
        fair += 1.0
        service = fair * support
        if self.switches.trust:
            claim = L.visibility / max(prm.visibility_base + prm.visibility_rival, 1e-12)
            contest = (1.0 - self.servant) * prm.visibility_rival * L.rivalry  # rival visibility
            fire = (self._area_sum_b(contest) ** 2 - self._area_sum_b(contest**2)) / 2  # pairwise
            # each factor is a share of trust kept, so the target stays in [0, 1]; the factors
            # that depend on the backbone alone are multiplied first (one row, not N rows)
            per_backbone = (
                (0.5 + 0.5 * self.legitimacy)
                * (1 - prm.claim_cost * claim)
                * (1 - prm.fire_cost * saturate(fire, 1.0)[self.backbone_area])
            )
            # target = (trust_base + credit_gain sigma service) (1 - c_uneq bias d_own)
            #          max(0, 1 - c_dist max(0, d_promoted - tolerance)) per_backbone,
            # written in place: 1 - c_uneq bias d_own = (1 - c_uneq) + c_uneq fair
            target = fair * (prm.credit_gain * self.servant * support * per_backbone)
            target += prm.trust_base * per_backbone
            kept = fair * prm.unequal_cost
            kept += 1.0 - prm.unequal_cost
            target *= kept
            far = np.subtract(dist[:, self.n_backbones :], prm.tolerance, out=kept)  # beyond tolerance
            np.maximum(far, 0.0, out=far)
            far *= -prm.distance_cost
            far += 1.0
            np.maximum(far, 0.0, out=far)
            target *= far
            np.maximum(target, 0.0, out=target)
            np.minimum(target, 1.0, out=target)
            target -= self.trust
            target *= L.valid
            target *= prm.trust_rate
            self.trust += target
            # legitimacy is earned by the value a backbone generates ("who says?")
            self.legitimacy += prm.legitimacy_rate * support * (1.0 - self.legitimacy) * self.backbone_active
        if self.switches.engagement:
            trust_i = np.where(L.has_backbone, self.followed_trust(), 0.5)
            served = (pi * service) @ c.ones_b  # support received (credit acts through trust)
            if self.convener_active.any():
                conv = (L.interest_f @ (self.convener_active * self.convener_facilitation)) / np.maximum(
                    L.interest_f @ c.ones_k, 1
                )
            else:  # no convener: the support partners feel is the backbones' alone (served >= 0)
                conv = 0.0
            target = (
                prm.engagement_base
                + prm.engagement_trust * (trust_i - 0.5)
                + prm.engagement_support * np.maximum(served, conv)
                - prm.burnout_cost * np.maximum(0.0, L.meeting_load - prm.burnout_tolerance)
            )
            self.engagement += prm.engagement_rate * (np.minimum(np.maximum(target, 0.0), 1.0) - self.engagement)
