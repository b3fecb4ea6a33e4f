"""The collective-impact model: partners, backbones and conveners in one or more issue areas.

One step is one month. :class:`CollectiveImpactModel` is a thin Mesa shell: it owns the state
(numpy arrays, :mod:`ci_sim.model.state`), builds it (:mod:`ci_sim.model.initialize`, ODD §5),
applies the events (:mod:`ci_sim.model.mechanisms.events`), draws the month's random numbers
from its own generator and calls the compiled mechanisms in the documented order
(:mod:`ci_sim.model.schedule`, ODD §3). Each mechanism lives in its own module of
:mod:`ci_sim.model.mechanisms`, with its equation in the docstring:

=====================================  ======================================  ========
submodel                               module                                  ODD
=====================================  ======================================  ========
1 attention and tables                 ``mechanisms.attention``                §7.1
2 budget, staff and the six functions  ``mechanisms.budget``                   §7.2
3 promoted agendas                     ``mechanisms.promoted``                 §7.3
4 agenda update (Friedkin–Johnsen)     ``mechanisms.agendas``                  §7.4
5 hours                                ``mechanisms.hours``                    §7.5
6 shared measurement                   ``mechanisms.measurement``              §7.6
7 resources and grants                 ``mechanisms.resources``                §7.7
8 working groups and action plans      ``mechanisms.plans``                    §7.8
9 changed practice                     ``mechanisms.outcomes``                 §7.9
10 trust, legitimacy and engagement    ``mechanisms.trust``                    §7.10
11 jockeying (yearly, Python)           ``mechanisms.jockeying``                §7.17
12 population indicators               ``mechanisms.population``               §7.12
events                                 ``mechanisms.events``                   §7.13
=====================================  ======================================  ========

No term depends on the number of backbones as such: every cost of several backbones comes
from a mechanism that can be switched off or varied (attention split across tables,
duplicated working groups, overheads paid per backbone, competing agendas, fragmented data
systems, visibility contests).
"""

from __future__ import annotations

from types import SimpleNamespace

import networkx as nx
import numpy as np
from mesa import Model

from ci_sim.model import initialize
from ci_sim.model.agents import BackboneAgent, ConvenerAgent, PartnerAgent
from ci_sim.model.mechanisms import jockeying
from ci_sim.model.mechanisms.agendas import influence_weights
from ci_sim.model.mechanisms.common import tv_area, tv_matrix
from ci_sim.model.mechanisms.events import apply_due_events
from ci_sim.model.mechanisms.resources import pay_grants
from ci_sim.model.scenario import SECTORS, Scenario
from ci_sim.model.schedule import advance, derive
from ci_sim.model.state import (
    BACKBONE_ROW_FIELDS,
    DERIVED,
    PARTNER_BACKBONE_FIELDS,
    STATE_FIELDS,
    make_params,
    make_state,
)

#: one random stream per component, spawned from the model's generator (common random numbers)
#: (``second_area`` last: the streams before it are the same whether or not it exists)
STREAMS = ("partners", "agendas", "backbones", "network", "trust", "outcomes", "noise", "population", "jockeying",
           "second_area")  # fmt: skip
FUNCTIONS = ("vision", "aligned", "measurement", "engagement", "policy", "resources")


class CollectiveImpactModel(Model):
    """A community of partners working on issue areas with backbones and conveners.

    Args:
        scenario: a validated :class:`ci_sim.model.scenario.Scenario`.
        rng: seed of the model's random generator (every random draw comes from it).

    Attributes:
        steps: months simulated so far (Mesa's counter).
        state: the record of state arrays the compiled mechanisms work on (shared with the
            attributes of the same names, e.g. ``agenda`` (N, K), ``trust`` (N, B)).
        last: the derived quantities of the current month (hours, money, completeness, ...),
            :data:`ci_sim.model.state.DERIVED`, read by :mod:`ci_sim.model.metrics`.
        partner_agents, backbone_agents, convener_agents: the Mesa agents by role.
    """

    def __init__(self, scenario: Scenario, rng: int | None = None):
        super().__init__(rng=rng)
        # scenarios that differ in one component (e.g. the number of backbones) still share
        # partners, agendas, networks, initial outcomes and noise (common random numbers)
        self.streams = dict(zip(STREAMS, self.rng.spawn(len(STREAMS)), strict=True))
        self.config = scenario
        self.params = scenario.parameters
        self.switches = scenario.mechanisms
        s = initialize.areas(scenario)
        s |= initialize.partners(scenario, self.streams["partners"])
        s |= initialize.second_areas(scenario, s, self.streams["second_area"])
        s |= initialize.backbones(scenario)
        s |= initialize.peer_network(scenario, s, self.streams["network"])
        s |= initialize.partner_state(scenario, s, self.streams)
        s |= initialize.population(scenario, s, self.streams["population"])
        s |= initialize.derived_arrays(len(s["partner_area"]), len(s["backbone_area"]), len(s["outcome_area"]),
                                       len(s["area_names"]))  # fmt: skip
        for name, value in s.items():
            setattr(self, name, value)
        self.area_index = {a: i for i, a in enumerate(self.area_names)}
        self.n_areas, self.n_outcomes = len(self.area_names), len(self.outcome_names)
        self.n_partners = len(self.partner_area)
        self.partner_agents = [
            PartnerAgent(
                self,
                i,
                SECTORS[self.partner_sector[i]],
                self.area_names[self.partner_area[i]],
                self.partner_names[i] if self.partner_names is not None else None,
            )
            for i in range(self.n_partners)
        ]
        self.backbone_agents = [
            BackboneAgent(self, j, name, self.area_names[self.backbone_area[j]], origin)
            for j, (name, origin) in enumerate(zip(self.backbone_names, self.backbone_origins, strict=True))
        ]
        self.convener_agents: list[ConvenerAgent] = []
        for a, area in enumerate(scenario.issue_areas):
            conv = area.conveners
            if conv.per_outcome or conv.outcomes:
                names = conv.outcomes or area.outcomes
                self.add_conveners(a, [self.outcome_names.index(n) for n in names], conv.facilitation, conv.in_kind)
        self.P = make_params(self.params, self.switches)
        self._no_noise = np.zeros(self.n_outcomes)
        self.n_indicators = len(self.indicator_outcome)
        self._no_sampling = np.zeros(self.n_indicators)
        populations = [a.population for a in scenario.issue_areas]
        self.shock_rate = np.array([p.shock_rate for p in populations])
        self.shock_mean = np.array([p.shock_mean for p in populations])
        self.shock_sd = np.array([p.shock_sd for p in populations])
        self._shock_p = self.shock_rate / 12.0  # a month's chance of a shock
        self._no_shock = np.zeros(self.n_areas)
        self._bind_state()
        self.events = sorted(scenario.events, key=lambda e: e["at"])
        self.event_log: list[dict] = []  # what each applied event did (mechanisms.events), for RunResult.events
        self.claimants: set[int] = set()  # partners that have claimed the backbone role (jockeying)
        self.running = True
        derive(self.state, self.P, True)  # attention, hours, ... of the initial state (month 0)
        pay_grants(self.state, self.P)

    def _bind_state(self) -> None:
        """(Re)build the state record over the model's arrays (after a shape change)."""
        self.state = make_state({name: getattr(self, name) for name in STATE_FIELDS})
        self.last = SimpleNamespace(**{name: getattr(self, name) for name in DERIVED})

    @property
    def n_backbones(self) -> int:
        """Backbones ever present (active or not): the B of the (partner, backbone) arrays."""
        return len(self.backbone_area)

    # ------------------------------------------------------------------ the step

    def step(self) -> None:
        """Advance one month: events, the yearly jockeying review (if on), the month's random numbers, mechanisms."""
        month = self.steps  # Mesa has counted this step already; the state is still at its start
        changed = apply_due_events(self, month - 1)
        if self.switches.jockeying:
            changed |= jockeying.review(self, month - 1)
        if changed:  # an event or the yearly review changed who is active
            derive(self.state, self.P, self.switches.attention)
        advance(self.state, self.P, month, *self.draw_month(month))

    def draw_month(self, month: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The month's random numbers (ODD §7.12): drift xi_k (K,), shocks of each area (A,), sampling eps_j (J,).

        Drawn whatever the switches (a switch zeroes what it turns off), so two scenarios that
        differ in a switch still share every other random number.
        """
        # standard draws, scaled here: the same numbers as normal(0, sd) and uniform(0, 1), from
        # the same stream positions, without their argument handling (measured: 9.5 -> 6.5 µs a month)
        z = self.streams["noise"].standard_normal(self.n_outcomes)
        drift = self.params.outcome_noise * z if self.switches.outcome_noise else self._no_noise
        pop = self.streams["population"]
        hit = pop.random(self.n_areas) < self._shock_p
        z = pop.standard_normal(self.n_areas)
        shock = np.where(hit, self.shock_mean + self.shock_sd * z, 0.0) if hit.any() else self._no_shock
        sampling = self._no_sampling
        if month % 12 == 0:
            sampling = pop.standard_normal(self.n_indicators) * self.switches.sampling_noise
        return drift, shock, sampling

    # ------------------------------------------------------------------ entities that come and go

    def add_conveners(self, area: int, outcomes: list[int], facilitation: float, in_kind: float) -> None:
        """Give each outcome (index) of ``area`` a convener; an existing one keeps the better skill and in-kind.

        A new convener takes over the outcome's working group and the best plan of the area's
        active backbones so far (ODD §7.13).
        """
        for k in outcomes:
            if not self.convener_active[k]:
                self.convener_agents.append(ConvenerAgent(self, k, f"convener_{self.outcome_names[k]}"))
                in_area = (self.backbone_area == area) & self.backbone_active
                if in_area.any():
                    self.convener_plan[k] = max(self.convener_plan[k], self.backbone_plan[in_area, k].max())
            self.convener_active[k] = True
            self.convener_facilitation[k] = max(self.convener_facilitation[k], facilitation)
            self.convener_in_kind[k] = max(self.convener_in_kind[k], in_kind)

    def add_backbone(
        self,
        area: str,
        name: str,
        neutrality: float,
        servant_leadership: float,
        origin: str = "self_declared",
        in_kind: float = 0.0,
        funding_weight: float = 1.0,
    ) -> BackboneAgent:
        """A new backbone claims the role in ``area`` mid-run (ODD §5 for its initial state).

        Its own programme g_b is drawn from the ``backbones`` stream, partners' initial trust
        follows the homophily rule of §5 (with noise from the ``trust`` stream), its legitimacy
        is that of its origin. Attention, budgets and hours are re-derived.

        Raises:
            ValueError: unknown area or origin, or a name already in use.
        """
        if area not in self.area_index or origin not in initialize.LEGITIMACY_FIELDS or name in self.backbone_names:
            raise ValueError(f"add_backbone: area {area!r}, origin {origin!r} or name {name!r} is not allowed")
        a = self.area_index[area]
        prm = self.params
        g = initialize.dirichlet(prm.backbone_focus * (self.outcome_area == a)[None, :], self.streams["backbones"])
        legit = getattr(prm, initialize.LEGITIMACY_FIELDS[origin])
        dist = tv_matrix(self.agenda, g)[:, 0]
        for i in np.flatnonzero(self.partner_area2 >= 0):  # two-area partners: their agenda in area a
            dist[i] = tv_area(self.agenda[i], g[0], self.outcome_area, a)
        trust0 = legit * (prm.trust_base + prm.trust_homophily * (0.5 - dist))
        trust0 = np.clip(trust0 + self.streams["trust"].normal(0, 0.03, size=self.n_partners), 0, 1)
        column = {"trust": trust0 * self.in_area(a)}
        row = {"own_agenda": g[0], "neutrality": neutrality, "servant": servant_leadership, "in_kind": in_kind,
               "funding_weight": funding_weight, "legitimacy": legit, "backbone_active": True,
               "backbone_area": a}  # fmt: skip
        for field in STATE_FIELDS:
            arr = getattr(self, field)
            if field in PARTNER_BACKBONE_FIELDS:
                new = np.zeros((arr.shape[0], arr.shape[1] + 1), dtype=arr.dtype)
                new[:, :-1] = arr
                new[:, -1] = column.get(field, 0)
            elif field in BACKBONE_ROW_FIELDS:
                new = np.zeros((arr.shape[0] + 1, *arr.shape[1:]), dtype=arr.dtype)
                new[:-1] = arr
                new[-1] = row.get(field, 0)
            else:
                continue
            setattr(self, field, new)
        self.backbone_names.append(name)
        self.backbone_origins.append(origin)
        agent = BackboneAgent(self, self.n_backbones - 1, name, area, origin)
        self.backbone_agents.append(agent)
        self._bind_state()
        derive(self.state, self.P, True)
        return agent

    def partner_leaves(self, partner: int) -> None:
        """Partner ``partner`` (index) stops taking part: no backbone, no hours, agenda and engagement held."""
        self.partner_active[partner] = False
        derive(self.state, self.P, self.switches.attention)

    def partner_returns(self, partner: int) -> None:
        """Partner ``partner`` (index) takes part again, with the trust and agenda it left with."""
        self.partner_active[partner] = True
        derive(self.state, self.P, self.switches.attention)

    # ------------------------------------------------------------------ views for metrics and pictures

    @property
    def graph(self) -> nx.Graph:
        """The peer network as a networkx graph (node i is partner i), built on first use, for pictures."""
        if getattr(self, "_graph", None) is None:
            self._graph = nx.empty_graph(self.n_partners)
            self._graph.add_edges_from(self.peer_edges.tolist())
        return self._graph

    def in_area(self, area: int) -> np.ndarray:
        """Mask (N,) of the partners active in area ``area`` (index): home or second area."""
        return (self.partner_area == area) | (self.partner_area2 == area)

    def backbones_in(self, area: str) -> list[BackboneAgent]:
        """Active backbones of an issue area."""
        a = self.area_index[area]
        return [x for x in self.backbone_agents if self.backbone_area[x.index] == a and x.active]

    def followed_backbones(self) -> np.ndarray:
        """Per partner, the index of the backbone it gives most attention to (-1 without any), shape (N,)."""
        return self.followed

    def followed_trust(self) -> np.ndarray:
        """Per partner, the attention-weighted trust in its area's backbones (0 without any), shape (N,)."""
        return (self.attention * self.trust).sum(axis=1)

    def influence_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Agenda weights of mechanism 4: ``w_i`` and ``s_i``, each shape (N,) (ODD §7.4)."""
        w, s = np.empty(self.n_partners), np.empty(self.n_partners)
        influence_weights(self.state, self.P, w, s)
        return w, s

    @property
    def partners_without_backbone(self) -> int:
        return int(self.last.without_backbone[0])
