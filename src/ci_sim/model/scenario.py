"""Scenario files: the schema, safe YAML loading, ``--set`` overrides and clear errors.

A scenario is plain data (YAML) describing one community: its partners, its issue areas
with their outcomes, backbones and conveners, the events that change a run midway, and the
mechanism parameters. Everything is validated before anything runs; every problem is
reported as a :class:`ScenarioError` naming the file, the key path, the bad value and what
is allowed, so the CLI can exit with status 2 and write nothing. A file says which format it
is written in (``format``, :data:`FORMAT_VERSION`); an older one is upgraded when read
(:func:`upgrade_scenario_data`), a newer one refused.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

SECTORS = (
    "nonprofit",
    "school_district",
    "public_agency",
    "funder",
    "business",
    "higher_ed",
    "community_group",
)
Sector = Literal[
    "nonprofit",
    "school_district",
    "public_agency",
    "funder",
    "business",
    "higher_ed",
    "community_group",
]
Origin = Literal["partner_agreed", "funder_created", "self_declared"]
Coordination = Literal["none", "shared_data", "shared_agenda", "joint"]
#: Funders' allocation rules (docs/ODD.md §7.2): split by legitimacy and visibility; fund only the
#: most legitimate backbone; fund the area's backbones only as one joint backbone of backbones.
FunderRule = Literal["split_by_visibility", "one_agreed", "joint"]
FUNDER_RULES: tuple[str, ...] = FunderRule.__args__
#: The coordination levels in order (docs/ODD.md §7.11): each removes more of the costs of several backbones.
COORDINATION_LEVELS: tuple[str, ...] = Coordination.__args__

#: The cradle-to-career outcomes used when an ``education`` area lists none.
EDUCATION_OUTCOMES = [
    "kindergarten_readiness",
    "early_grade_reading",
    "middle_grade_math",
    "high_school_graduation",
    "postsecondary_enrollment",
    "postsecondary_completion",
    "employment",
]

#: The scenario file format this ci-sim reads and writes: the top-level key ``format``. A file
#: without it is format 1 (written before the key existed, ci-sim 0.1); older formats are
#: upgraded on reading (:data:`UPGRADES`), newer ones refused. Raise it, and add an upgrade,
#: when a key is renamed, removed or changes meaning; adding a key with a default does not need it.
FORMAT_VERSION = 2

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]


def check_name(name: str) -> str:
    """A name is printable text: it labels tables and figures and (made safe) names folders.

    Raises:
        ValueError: control characters (NUL, newline, tab...) in the name.
    """
    if any(not ch.isprintable() for ch in name):
        raise ValueError("printable text without control characters (such as NUL, tab or newline)")
    if not name.strip():
        raise ValueError("a name with at least one visible character")
    return name


Name = Annotated[str, Field(min_length=1), AfterValidator(check_name)]


class ScenarioError(ValueError):
    """A scenario (or experiment) file that cannot be used, with a message for people.

    Attributes:
        source: the file (or ``--set``) the problem comes from.
        path: dotted key path of the bad entry ("" for the whole file).
        value: the offending value, if any.
        allowed: what would have been accepted.
    """

    def __init__(self, source: str, path: str, value: Any, allowed: str):
        self.source, self.path, self.value, self.allowed = source, path, value, allowed
        shown = _short(value)
        where = f"{source}: {path}" if path else f"{source}"
        super().__init__(f"{where}: bad value {shown}; {allowed}")

    def __reduce__(self):
        # raised in a worker process (a sweep's check of the worker's code) and re-raised here
        return type(self), (self.source, self.path, self.value, self.allowed)


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _PathError(ValueError):
    """Raised inside validators to report a precise key path."""

    def __init__(self, path: str, value: Any, allowed: str):
        super().__init__(allowed)
        self.path, self.value, self.allowed = path, value, allowed


class _Strict(BaseModel):
    """Base for every section: unknown keys are errors, not silently ignored.

    Types are strict (an integer field takes integers only: not ``2.0``, not ``true``; a
    number field takes no booleans or text), every number must be finite (no ``.inf`` or
    ``.nan``), and assigning to a field of a validated object is validated too, so a
    scenario changed in Python cannot hold values a file could not.
    """

    model_config = ConfigDict(
        extra="forbid", validate_default=True, strict=True, allow_inf_nan=False, validate_assignment=True
    )

    def _set_resolved(self, name: str, value: Any) -> None:
        # validators store resolved values this way: a plain assignment would be validated
        # again (validate_assignment) and re-enter the validator that is running
        object.__setattr__(self, name, value)


# --------------------------------------------------------------------------- sections


class Network(_Strict):
    """Peer network among partners: drawn (networkx, from the model's generator), or given as ``edges``.

    ``edges`` (only with ``community.organizations``): pairs of organization names, the ties of
    the peer network P (docs/ODD.md §5); each joins two partners active in one issue area (peers
    influence agendas within an area), no pair twice, no organization with itself. With edges,
    ``kind``, ``degree`` and ``rewire`` are not used and must keep their defaults.
    """

    kind: Literal["small_world", "random", "scale_free"] = "small_world"
    degree: int = Field(6, ge=2, le=50, description="mean number of peers")
    rewire: Unit = Field(0.1, description="small-world rewiring probability")
    edges: list[Annotated[list[Name], Field(min_length=2, max_length=2)]] | None = Field(
        None, description="the peer ties as pairs of organization names (needs community.organizations)"
    )


class Organization(_Strict):
    """One partner organization of ``community.organizations`` (docs/ODD.md §5: given partners)."""

    name: Name
    sector: Sector
    areas: list[Name] = Field(
        min_length=1,
        max_length=2,
        description="its issue area, or its home area and a second area (the second takes w = second_area_weight)",
    )
    hours: float = Field(gt=0, le=400, description="hours a month it gives to the work (its capacity c_i)")

    @model_validator(mode="after")
    def _two_different_areas(self) -> Organization:
        if len(self.areas) == 2 and self.areas[0] == self.areas[1]:
            raise _PathError("areas", self.areas, "two different issue areas, or one")
        return self


#: community keys that ``organizations`` determines (resolved from the list; a given value must agree),
#: and how to change each one with organizations listed (what the refusal says, e.g. to a sweep)
ORGANIZATION_KEYS = {
    "partners": "add or remove organizations",
    "sector_mix": "change organizations' sectors: community.organizations.N.sector",
    "capacity_hours": "to vary hours, vary community.organizations.N.hours",
    "second_area_share": "change organizations' areas: community.organizations.N.areas",
}


class Community(_Strict):
    """The partner organizations of the community.

    Either described in aggregate (``partners``, ``sector_mix``, ``capacity_hours``,
    ``second_area_share``: the model draws each partner), or listed one by one in
    ``organizations`` (a community leader's roster): then each partner's sector, area(s) and
    hours are the list's, and the aggregate keys are resolved from it (a value given for one of
    them must agree with the list).
    """

    partners: int = Field(150, ge=1, le=100_000)
    sector_mix: dict[Sector, NonNeg] = Field(
        default_factory=lambda: {
            "nonprofit": 0.45,
            "school_district": 0.1,
            "public_agency": 0.1,
            "funder": 0.1,
            "business": 0.1,
            "higher_ed": 0.05,
            "community_group": 0.1,
        }
    )
    capacity_hours: float = Field(40.0, gt=0, le=400, description="mean hours/month a partner gives to the work")
    network: Network = Field(default_factory=Network)
    second_area_share: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="share of partners active in a second issue area (docs/ODD.md §5, §7.1); needs two areas or "
        "more; 0: every partner works in one area",
    )
    second_area_weight: float = Field(
        0.3,
        gt=0.0,
        le=0.5,
        description="w: the share of a two-area partner's initial agenda and capacity that goes to its second area",
    )

    @field_validator("sector_mix")
    @classmethod
    def _mix_sums_to_one(cls, mix: dict[str, float]) -> dict[str, float]:
        total = sum(mix.values())
        if not mix or abs(total - 1.0) > 1e-6:
            raise ValueError(f"shares must sum to 1 (they sum to {total:.6g})")
        return mix

    organizations: list[Organization] | None = Field(
        None, description="the partners one by one (name, sector, areas, hours); the aggregate keys follow from it"
    )

    @model_validator(mode="after")
    def _resolve_organizations(self) -> Community:
        orgs = self.organizations
        if orgs is None:
            if self.network.edges is not None:
                raise _PathError(
                    "network.edges", "(a list of ties)", "peer ties name organizations: list community.organizations"
                )
            return self
        if not orgs:
            raise _PathError("organizations", orgs, "at least one organization (or leave the key out)")
        names = [o.name for o in orgs]
        if len(set(names)) != len(names):
            twice = sorted({n for n in names if names.count(n) > 1})
            raise _PathError("organizations", twice, "organization names must be unique")
        n = len(orgs)
        resolved = {
            "partners": n,
            "sector_mix": {
                s: sum(o.sector == s for o in orgs) / n for s in SECTORS if any(o.sector == s for o in orgs)
            },
            "capacity_hours": sum(o.hours for o in orgs) / n,
            "second_area_share": sum(len(o.areas) == 2 for o in orgs) / n,
        }
        for key in ORGANIZATION_KEYS:
            given, value = getattr(self, key), resolved[key]
            if key in self.model_fields_set and not _agrees(given, value):
                raise _PathError(
                    key,
                    given,
                    f"with organizations listed, {key} follows from the list ({_short(value)}); leave it out "
                    f"({ORGANIZATION_KEYS[key]})",
                )
            self._set_resolved(key, value)
        if self.network.edges is not None:
            self._check_edges(orgs)
        return self

    def _check_edges(self, orgs: list[Organization]) -> None:
        net = self.network
        for key in ("kind", "degree", "rewire"):
            default = Network.model_fields[key].default
            if getattr(net, key) != default:
                raise _PathError(
                    f"network.{key}",
                    getattr(net, key),
                    f"with network.edges given it is not used; leave it out ({default!r})",
                )
        areas = {o.name: set(o.areas) for o in orgs}
        seen: set[frozenset[str]] = set()
        for i, (a, b) in enumerate(net.edges):
            for j, name in enumerate((a, b)):
                if name not in areas:
                    near = difflib.get_close_matches(name, list(areas), n=1)
                    hint = f" (did you mean {near[0]!r}?)" if near else ""
                    raise _PathError(f"network.edges.{i}.{j}", name, f"one of the organizations{hint}")
            if a == b:
                raise _PathError(f"network.edges.{i}", [a, b], "a tie joins two different organizations")
            if not areas[a] & areas[b]:
                raise _PathError(
                    f"network.edges.{i}",
                    [a, b],
                    f"a tie joins two partners of one issue area (peers influence agendas within an area): "
                    f"{a!r} works in {sorted(areas[a])}, {b!r} in {sorted(areas[b])}",
                )
            pair = frozenset((a, b))
            if pair in seen:
                raise _PathError(f"network.edges.{i}", [a, b], "each tie once (this pair is listed before)")
            seen.add(pair)


def _agrees(given: Any, value: Any) -> bool:
    """A given aggregate key agrees with the one resolved from the organizations (to rounding)."""
    if isinstance(value, dict):
        return (
            isinstance(given, dict)
            and set(given) - set(value) <= {k for k, v in given.items() if v == 0}
            and all(abs(given.get(k, 0.0) - v) <= 1e-6 for k, v in value.items())
        )
    return abs(given - value) <= 1e-6 * max(1.0, abs(value))


class BackboneSpec(_Strict):
    """One backbone organization (or, with ``count``, a group of identical ones)."""

    name: str | None = None
    count: int = Field(1, ge=0, le=50)
    neutrality: Unit = 0.8
    servant_leadership: Unit = 0.8
    origin: Origin = "partner_agreed"
    coordination: Coordination | None = None
    in_kind: NonNeg = Field(5000.0, description="own contribution, $/month")
    funding_weight: NonNeg = Field(1.0, description="funders' preference multiplier")


class Conveners(_Strict):
    """Conveners: one per outcome, each running that outcome's working group."""

    per_outcome: bool = False
    outcomes: list[str] | None = None
    facilitation: Unit = 0.8
    in_kind: NonNeg = Field(3000.0, description="convener's own spending, $/month")


class Funding(_Strict):
    """Money flowing into one issue area each month."""

    backbone_pool: NonNeg = Field(40000.0, description="funders' backbone money, $/month")
    backbone_per_partner: NonNeg = Field(
        0.0, description="funders' backbone money per partner of the area, $/partner/month, added to backbone_pool"
    )
    program_grants: NonNeg = Field(400000.0, description="grants to partners, $/month")
    rule: FunderRule = Field(
        "split_by_visibility",
        description="how funders allocate the backbone pool among the area's backbones (docs/ODD.md §7.2)",
    )


class Population(_Strict):
    """The population indicators of an area's outcomes (docs/ODD.md §7.12): trend, shocks, measurement.

    Levels and changes are shares of the population (0–1 scale; 0.01 is one percentage point).
    """

    trend: list[float] = Field(
        # the posterior median of experiments/calibrate_strive.yaml (docs/ODD.md §8.5)
        default_factory=lambda: [-0.0062, 0.0062],
        description="range [low, high] of the counterfactual trend of each outcome, per year, drawn per run",
    )
    trend_spread: NonNeg = Field(
        0.005, le=0.1, description="sd of an indicator's own trend around its outcome's, per year"
    )
    shock_rate: float = Field(0.05, ge=0, le=12, description="expected persistent exogenous shocks per year")
    shock_mean: float = Field(-0.01, ge=-0.5, le=0.5, description="mean size of a shock (a recession: negative)")
    shock_sd: NonNeg = Field(0.02, le=0.5, description="sd of a shock's size")
    cohort: int = Field(3000, ge=10, le=10_000_000, description="people measured for each indicator each year")
    indicators: int | list[int] = Field(
        1, description="measured indicators per outcome: one number for all, or one per outcome"
    )

    @field_validator("trend")
    @classmethod
    def _ordered(cls, trend: list[float]) -> list[float]:
        if len(trend) != 2 or not (-0.2 <= trend[0] <= trend[1] <= 0.2):
            raise ValueError("a range [low, high] with -0.2 <= low <= high <= 0.2 (share points per year)")
        return trend

    @field_validator("indicators")
    @classmethod
    def _counts(cls, n: int | list[int]) -> int | list[int]:
        counts = n if isinstance(n, list) else [n]
        if not counts or any(c < 1 or c > 100 for c in counts):
            raise ValueError("1 to 100 indicators per outcome (a number, or a list with one number per outcome)")
        return n


class IssueArea(_Strict):
    """An issue area with its outcomes, backbones and conveners."""

    name: Name
    outcomes: list[str] | None = None
    share: float | None = Field(None, gt=0, le=1)
    backbones: BackboneSpec | list[BackboneSpec] = Field(default_factory=BackboneSpec)
    coordination: Coordination | None = None
    conveners: Conveners = Field(default_factory=Conveners)
    funding: Funding = Field(default_factory=Funding)
    population: Population = Field(default_factory=Population)

    @model_validator(mode="after")
    def _resolve(self) -> IssueArea:
        if self.outcomes is None:
            if self.name != "education":
                raise _PathError("outcomes", None, "list the area's outcomes (only education has defaults)")
            self._set_resolved("outcomes", list(EDUCATION_OUTCOMES))
        if not self.outcomes:
            raise _PathError("outcomes", self.outcomes, "at least one outcome is needed")
        if len(set(self.outcomes)) != len(self.outcomes):
            raise _PathError("outcomes", self.outcomes, "outcome names must be unique")
        for j, k in enumerate(self.conveners.outcomes or []):
            if k not in self.outcomes:
                raise _PathError(f"conveners.outcomes.{j}", k, f"one of the area's outcomes {self.outcomes}")
        counts = self.population.indicators
        if isinstance(counts, list) and len(counts) != len(self.outcomes):
            raise _PathError(
                "population.indicators", counts, f"one number per outcome ({len(self.outcomes)}), or a single number"
            )
        specs = self.backbones if isinstance(self.backbones, list) else [self.backbones]
        coords = {s.coordination for s in specs if s.coordination is not None}
        if self.coordination is not None:
            coords.add(self.coordination)
        if len(coords) > 1:
            raise _PathError("coordination", sorted(coords), "one coordination value per area")
        self._set_resolved("coordination", coords.pop() if coords else "none")
        if self.funding.rule == "joint" and self.coordination != "joint":
            if coords:  # the file asked for another level
                raise _PathError(
                    "funding.rule",
                    "joint",
                    f"funders who fund a joint backbone of backbones need coordination 'joint' (the area says "
                    f"{self.coordination!r}); set coordination: joint or leave it out",
                )
            self._set_resolved("coordination", "joint")
        return self

    def indicator_counts(self) -> list[int]:
        """Measured indicators of each outcome, in outcome order."""
        n = self.population.indicators
        return list(n) if isinstance(n, list) else [n] * len(self.outcomes)

    def backbone_list(self) -> list[dict[str, Any]]:
        """Expand ``count`` groups into one resolved mapping per backbone, with names."""
        specs = self.backbones if isinstance(self.backbones, list) else [self.backbones]
        out: list[dict[str, Any]] = []
        for spec in specs:
            for j in range(spec.count):
                d = spec.model_dump(exclude={"count", "coordination"})
                if spec.name is None:
                    d["name"] = f"{self.name}_backbone_{len(out) + 1}"
                elif spec.count > 1:
                    d["name"] = f"{spec.name}_{j + 1}"
                out.append(d)
        return out


class Parameters(_Strict):
    """Mechanism constants. Each is documented (default, range, rationale) in docs/ODD.md."""

    # 1. attention and meetings
    attention_beta: float = Field(4.0, ge=0, le=30, description="concentration of attention on trusted backbones")
    attend_threshold: Unit = Field(
        0.5, description="without attendance choice: sits at tables with this share of its top table's attention"
    )
    attend_cost: NonNeg = Field(
        1.5, le=20, description="value a table or group must give per share of free hours it takes (attendance choice)"
    )
    attend_stake: NonNeg = Field(0.5, le=5, description="worth of a seat where an even share of the money is steered")
    attend_engagement: Unit = Field(
        0.2, description="participation threshold e_min: below it a partner's tables and groups are worth nothing"
    )
    max_tables: int = Field(2, ge=1, le=50, description="most backbone tables a partner sits at")
    table_hours: NonNeg = Field(3.0, description="hours/month per backbone table attended")
    working_group_hours: NonNeg = Field(2.0, description="hours/month per working group attended")
    interest_threshold: float = Field(1.0, ge=0, le=5, description="joins outcome k's group if a_ik >= this/K")
    # 2-3. agendas
    openness_mean: Unit = Field(0.8, description="mean openness lambda (Beta distributed)")
    influence_min: Unit = Field(0.05, description="agenda weight w with no trusted backbone")
    influence_max: Unit = Field(0.35, description="agenda weight w at full trust")
    backbone_share: Unit = Field(0.6, description="share s of influence from backbones (rest: peers)")
    agenda_concentration: float = Field(
        6.0, gt=0, le=100, description="Dirichlet concentration of partner agendas around their sector profile"
    )
    backbone_focus: float = Field(
        0.7, gt=0, le=100, description="Dirichlet concentration of a backbone's own program agenda"
    )
    # 4. trust
    trust_rate: Unit = Field(0.06, description="monthly relaxation rate of trust to its target")
    trust_base: Unit = Field(0.55, description="trust target of an ordinary backbone")
    trust_homophily: Unit = Field(0.35, description="initial trust gain for agenda closeness")
    credit_gain: NonNeg = Field(0.35, description="trust gained from credit passed to partners")
    claim_cost: Unit = Field(0.4, description="share of trust lost at full visible credit claiming")
    unequal_cost: Unit = Field(0.3, description="share of trust lost to unequal service (bias x distance)")
    tolerance: Unit = Field(0.3, description="bounded-confidence agenda distance (TV)")
    distance_cost: NonNeg = Field(1.0, description="trust lost per unit distance beyond tolerance")
    fire_cost: Unit = Field(
        0.25, description="share of trust lost as unattended political fires grow (half of it at a fire of size 1)"
    )
    fire_base: NonNeg = Field(0.3, le=5, description="political fires that emerge in any partnership, per area")
    results_trust: Unit = Field(0.2, description="trust target gained (lost) per unit of visibly good (bad) results")
    legitimacy_partner_agreed: Unit = 1.0
    legitimacy_funder_created: Unit = 0.8
    legitimacy_self_declared: Unit = 0.6
    legitimacy_rate: Unit = Field(0.03, description="monthly rate at which the value partners see earns legitimacy")
    legitimacy_loss: Unit = Field(0.25, description="rate of legitimacy lost for value not seen, relative to the gain")
    # 5. budget and staff
    overhead: NonNeg = Field(6000.0, description="fixed overhead per backbone, $/month")
    staff_wage: float = Field(50.0, gt=0, description="$ per backbone staff hour")
    visibility_base: Unit = Field(0.2, description="effort share a visibility-seeking backbone spends on visibility")
    visibility_rival: Unit = Field(0.4, description="extra visibility/recruitment share under rivalry")
    funding_visibility: NonNeg = Field(2.0, description="how much visibility attracts pool money")
    effort_vision: Unit = 0.15
    effort_aligned: Unit = 0.3
    effort_measurement: Unit = 0.2
    effort_engagement: Unit = 0.1
    effort_policy: Unit = 0.1
    effort_resources: Unit = 0.15
    support_need: float = Field(1.5, gt=0, description="backbone hours/partner-month giving half-saturated support")
    # 6. shared measurement
    report_hours: NonNeg = Field(2.0, description="partner hours/month per data system reported to")
    data_half_hours: float = Field(40.0, gt=0, description="measurement hours/month for half data-system quality")
    data_rate: Unit = Field(0.08, description="monthly rate of change of data quality and capacity")
    own_data_cost: NonNeg = Field(1200.0, description="$/month for a partner running its own data system")
    own_data_capacity: Unit = Field(0.4, description="data capacity of a partner's own system")
    partner_wage: float = Field(40.0, gt=0, description="$ value of a partner hour")
    # 7. resources
    fundraising_nonprofit: Unit = Field(0.6, description="initial fundraising share, nonprofits")
    fundraising_other: Unit = Field(0.15, description="initial fundraising share, other sectors (funders 0)")
    resources_half_hours: float = Field(60.0, gt=0, description="mobilizing hours/month for half the funding aligned")
    resources_rate: Unit = Field(0.04, description="monthly rate of funding alignment and fundraising change")
    program_cost: float = Field(150.0, gt=0, description="$ of program grants buying one program hour")
    funder_results: Unit = Field(0.3, description="backbone pool gained (lost) per unit of visibly good (bad) results")
    funder_coherence: Unit = Field(0.3, description="share of the backbone pool at stake on the coherence of the ask")
    funder_rate: Unit = Field(0.03, description="monthly rate at which funders' backbone money moves to its target")
    # 8. plans
    plan_rate: Unit = Field(0.08, description="monthly rate of plan building")
    plan_decay: Unit = Field(0.02, description="monthly decay of a plan on the shelf")
    plan_update: Unit = Field(0.3, description="yearly plan refresh gain at full data completeness")
    thin_facilitation: Unit = Field(0.5, description="facilitation of a backbone-run working group at full staff")
    group_convergence: Unit = Field(
        0.5, description="share of a convened group member's peer influence that comes from its working groups"
    )
    convened_influence: Unit = Field(0.2, description="agenda weight w added at full convener facilitation")
    facilitation_half_hours: float = Field(
        10.0, gt=0, description="backbone hours/month per group for half facilitation"
    )
    # 9. outcomes
    outcome_rate: NonNeg = Field(0.03, description="monthly growth of changed practice x_k at full aligned effort")
    effort_half: float = Field(0.3, gt=0, description="aligned effort share for half the growth")
    outcome_noise: NonNeg = Field(0.002, description="sd of the monthly drift of a population level")
    population_effect: Unit = Field(
        0.154,  # the posterior median of experiments/calibrate_strive.yaml (docs/ODD.md §8.5)
        description="population level gained at fully changed practice (share)",
    )
    population_lag: float = Field(
        24.0, ge=1, le=240, description="mean delay (months) from changed practice to population indicators"
    )
    effect_spread: Unit = Field(0.5, description="indicator sensitivities drawn from [1 - spread, 1 + spread]")
    policy_gain: NonNeg = Field(0.3, description="outcome growth bonus at full policy alignment")
    policy_half_hours: float = Field(30.0, gt=0, description="policy hours/month for half the bonus")
    # 10. engagement
    engagement_rate: Unit = Field(0.08, description="monthly relaxation rate of engagement")
    engagement_base: Unit = Field(0.5)
    engagement_trust: NonNeg = Field(0.4, description="engagement gained per unit trust above 0.5")
    engagement_support: NonNeg = Field(0.3, description="engagement gained from support (backbone or convener)")
    burnout_tolerance: Unit = Field(0.25, description="meeting share of capacity before burnout")
    burnout_cost: NonNeg = Field(0.8, description="engagement lost per unit meeting share beyond tolerance")
    engagement_results: Unit = Field(0.1, description="engagement target gained (lost) per unit of visible results")
    # 11. jockeying (mechanisms.jockeying)
    visibility_value: NonNeg = Field(
        5000.0, description="what a claimant counts a unit of visibility effort as worth, $/month"
    )
    claim_margin: float = Field(0.0, ge=-1e6, le=1e6, description="net $/month a claimant needs to expect to claim")
    claims_per_year: int = Field(3, ge=0, le=50, description="organizations per area weighing a claim each year")
    claimant_in_kind: NonNeg = Field(5000.0, description="a claimant's own contribution, $/month")
    exit_followers: Unit = Field(
        0.25, description="a backbone with fewer followers than this share of an even split exits (merges)"
    )


def _switch(meaning: str) -> Any:
    return Field(True, description=meaning)


class Mechanisms(_Strict):
    """Switches: each mechanism or channel can be switched off (docs/ODD.md §7, "switches").

    A dynamic switched off is frozen at its initial value; a channel switched off is replaced
    by what it would be without it (written in each description). ``ci-sim decompose`` switches
    them off one at a time.
    """

    attention: bool = _switch("attention follows trust (off: frozen at month 0)")
    trust: bool = _switch("trust and legitimacy move (off: frozen at month 0)")
    engagement: bool = _switch("engagement moves (off: frozen at month 0)")
    agendas: bool = _switch("partners' agendas move by social influence (off: frozen)")
    outcome_noise: bool = _switch("population levels drift at random (off: no drift)")
    counterfactual: bool = _switch(
        "population trends and exogenous shocks (off: levels move only with the partnership)"
    )
    sampling_noise: bool = _switch("yearly measurements carry sampling error (off: measured = true level)")
    results_feedback: bool = _switch(
        "results partners see in the shared data feed trust, credit, legitimacy, engagement and funders (off: ignored)"
    )
    grant_capacity: bool = _switch("program grants buy program hours (off: grants buy nothing)")
    funder_response: bool = _switch("funders' backbone money follows results and coherent asks (off: fixed pool)")
    attendance_choice: bool = _switch(
        "partners weigh a table's value against its hours (off: the fixed attention-threshold rule)"
    )
    convener_network: bool = _switch("convened working groups' members converge (off: conveners only build plans)")
    political_fires: bool = _switch("political fires cost trust unless the backbone puts them out (off: no fires)")
    visibility_contests: bool = _switch("visibility-seeking backbones spend effort on visibility (off: none)")
    duplicated_meetings: bool = _switch("one table and one group per backbone attended (off: hours as for one)")
    fragmented_data: bool = _switch("backbones without shared data run separate systems (off: one system)")
    fragmented_plans: bool = _switch("each backbone runs its own working groups and plans (off: one group per outcome)")
    competing_agendas: bool = _switch("each backbone promotes its own agenda (off: one common agenda per area)")
    jockeying: bool = Field(
        False,
        description="organizations claim the backbone role when it pays, backbones exit or merge when followers "
        "or money dry up (off, the default: the scenario's backbones stay)",
    )


# --------------------------------------------------------------------------- events


class _Event(_Strict):
    at: int = Field(ge=0, description="step (month) at which the event happens")
    area: str | None = None


class MergeSpec(_Strict):
    keep: int | str = Field(1, description="how many to keep (the most followed) or a backbone name")
    others_become: Literal["conveners", "exit"] = "conveners"


class MergeEvent(_Event):
    merge_backbones: MergeSpec


class ExitEvent(_Event):
    backbone_exits: str


class AddConvenersSpec(_Strict):
    outcomes: list[str] | Literal["all"] = "all"
    facilitation: Unit = 0.8


class AddConvenersEvent(_Event):
    add_conveners: AddConvenersSpec


class FunderShiftSpec(_Strict):
    backbone_pool: NonNeg | None = None
    program_grants: NonNeg | None = None
    to_backbone: str | None = None


class FunderShiftEvent(_Event):
    funder_shift: FunderShiftSpec


Event = MergeEvent | ExitEvent | AddConvenersEvent | FunderShiftEvent
EVENT_KINDS = {
    "merge_backbones": MergeEvent,
    "backbone_exits": ExitEvent,
    "add_conveners": AddConvenersEvent,
    "funder_shift": FunderShiftEvent,
}


def describe_events(events: list[tuple[int, dict[str, Any]]]) -> str:
    """``"events.0 (merge_backbones at month 24), ..."`` for messages."""
    out = []
    for i, ev in events:
        kind = ev.get("kind") or next((k for k in ev if k in EVENT_KINDS), "event")
        out.append(f"events.{i} ({kind} at month {ev.get('at')})")
    return ", ".join(out)


class Funders(_Strict):
    """The community's funders (docs/ODD.md §7.2)."""

    shared_pool: bool = Field(
        False,
        description="one backbone pool for all areas: the areas' pools are added up and split among every "
        "area's backbones by their pull (off: each area's pool funds its own backbones)",
    )


class Output(_Strict):
    agent_period: int = Field(0, ge=0, description="sample per-agent state every N steps (0: never)")


class Scenario(_Strict):
    """A whole scenario: the community, its issue areas, events and parameters."""

    format: int = Field(
        FORMAT_VERSION,
        ge=FORMAT_VERSION,
        le=FORMAT_VERSION,
        description="the scenario file format; older files are upgraded when read (upgrade_scenario_data)",
    )
    name: Name
    description: str = ""
    steps: int = Field(120, ge=1, le=10_000)
    replications: int = Field(20, ge=1, le=100_000)
    seed: int = Field(2026, ge=0)
    community: Community = Field(default_factory=Community)
    issue_areas: list[IssueArea] = Field(min_length=1)
    events: list[dict[str, Any]] = Field(default_factory=list)
    dropped_events: list[dict[str, Any]] = Field(
        default_factory=list,
        description="events at or after the horizon that the user chose to run without (--allow-dropped-events); "
        "kept here so the manifest records them; the model never applies them",
    )
    funders: Funders = Field(default_factory=Funders)
    parameters: Parameters = Field(default_factory=Parameters)
    mechanisms: Mechanisms = Field(default_factory=Mechanisms)
    output: Output = Field(default_factory=Output)

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        names = [a.name for a in self.issue_areas]
        if len(set(names)) != len(names):
            raise _PathError("issue_areas", names, "area names must be unique")
        seen: dict[str, str] = {}
        for i, area in enumerate(self.issue_areas):
            for k in area.outcomes:
                if k in seen:
                    raise _PathError(
                        f"issue_areas.{i}.outcomes",
                        k,
                        f"outcome already used by area {seen[k]!r}; outcome names must be unique across areas",
                    )
                seen[k] = area.name
        bnames: dict[str, str] = {}
        for i, area in enumerate(self.issue_areas):
            for b in area.backbone_list():
                if b["name"] in bnames:
                    raise _PathError(f"issue_areas.{i}.backbones", b["name"], "backbone names must be unique")
                bnames[b["name"]] = area.name
        self._check_organization_areas(names, bnames)
        if self.community.second_area_share > 0 and len(self.issue_areas) < 2:
            raise _PathError(
                "community.second_area_share",
                self.community.second_area_share,
                "partners can be active in a second area only with two issue areas or more (use 0 with one area)",
            )
        shares = [a.share for a in self.issue_areas]
        if any(s is not None for s in shares):
            if any(s is None for s in shares) or abs(sum(shares) - 1) > 1e-6:
                raise _PathError("issue_areas", shares, "give every area a share, summing to 1, or none")
        events = [self._check_event(i, e, bnames, seen) for i, e in enumerate(self.events)]
        late = [(i, e) for i, e in enumerate(events) if e["at"] >= self.steps]
        if late:
            raise _PathError(
                f"events.{late[0][0]}.at" if len(late) == 1 else "events",
                late[0][1]["at"] if len(late) == 1 else [e["at"] for _, e in late],
                f"events before the horizon (0 <= at < steps = {self.steps}); these would never happen: "
                + describe_events(late),
            )
        self._check_event_sequence(events, bnames)
        self._set_resolved("events", events)
        return self

    def _check_organization_areas(self, areas: list[str], backbones: dict[str, str]) -> None:
        """Each listed organization works in issue areas of the scenario; every area has a partner; no area shares.

        No organization has a backbone's name (``backbones``: name -> area): ties and events name
        them, and in a roster a name is one organization, a partner or a claimant.
        """
        orgs = self.community.organizations
        if orgs is None:
            return
        for i, o in enumerate(orgs):
            if o.name in backbones:
                raise _PathError(
                    f"community.organizations.{i}.name",
                    o.name,
                    f"a name no backbone has ({o.name!r} is a backbone of {backbones[o.name]!r}): the organizations "
                    "are the partners; a backbone is listed in its area's backbones",
                )
            for j, area in enumerate(o.areas):
                if area not in areas:
                    raise _PathError(f"community.organizations.{i}.areas.{j}", area, f"one of the issue areas {areas}")
        for i, area in enumerate(self.issue_areas):
            if area.share is not None:
                raise _PathError(
                    f"issue_areas.{i}.share",
                    area.share,
                    "with community.organizations listed, each area's partners follow from the list; leave it out",
                )
            if not any(area.name in o.areas for o in orgs):
                raise _PathError(
                    "community.organizations", area.name, f"at least one organization working in {area.name!r}"
                )

    def _check_event(self, i: int, raw: Any, bnames: dict[str, str], outcomes: dict[str, str]) -> dict[str, Any]:
        path = f"events.{i}"
        if not isinstance(raw, dict):
            raise _PathError(path, raw, "an event is a mapping with 'at' and one of " + ", ".join(EVENT_KINDS))
        # a validated scenario holds its events resolved (with "kind"); validating it again
        # (an assignment) must accept them as they are
        raw = {k: v for k, v in raw.items() if k != "kind"}
        kinds = [k for k in raw if k in EVENT_KINDS]
        if len(kinds) != 1:
            raise _PathError(path, sorted(raw), "exactly one event kind: " + ", ".join(EVENT_KINDS))
        try:
            ev = EVENT_KINDS[kinds[0]].model_validate(raw)
        except ValidationError as exc:
            err = _from_validation(exc, "")
            raise _PathError(".".join(p for p in (path, err.path) if p), err.value, err.allowed) from None
        areas = [a.name for a in self.issue_areas]
        if ev.area is not None and ev.area not in areas:
            raise _PathError(f"{path}.area", ev.area, f"one of the issue areas {areas}")
        area = ev.area or (bnames.get(getattr(ev, "backbone_exits", "") or "") or areas[0])
        out = ev.model_dump()
        out["kind"] = kinds[0]
        out["area"] = area
        in_area = [b for b, a in bnames.items() if a == area]
        if isinstance(ev, ExitEvent) and ev.backbone_exits not in bnames:
            raise _PathError(f"{path}.backbone_exits", ev.backbone_exits, f"one of the backbones {sorted(bnames)}")
        if isinstance(ev, ExitEvent) and bnames[ev.backbone_exits] != area:
            raise _PathError(
                f"{path}.backbone_exits",
                ev.backbone_exits,
                f"a backbone of {area} {in_area}: {ev.backbone_exits!r} is a backbone of "
                f"{bnames[ev.backbone_exits]}, so this exit could do nothing in {area}",
            )
        if (
            isinstance(ev, MergeEvent)
            and isinstance(ev.merge_backbones.keep, str)
            and ev.merge_backbones.keep not in in_area
        ):
            raise _PathError(
                f"{path}.merge_backbones.keep",
                ev.merge_backbones.keep,
                f"a number or one of the backbones of {area}: {in_area}",
            )
        if isinstance(ev, MergeEvent) and isinstance(ev.merge_backbones.keep, int) and ev.merge_backbones.keep < 1:
            raise _PathError(f"{path}.merge_backbones.keep", ev.merge_backbones.keep, "keep at least 1 backbone")
        if (
            isinstance(ev, FunderShiftEvent)
            and ev.funder_shift.to_backbone is not None
            and ev.funder_shift.to_backbone not in in_area
        ):
            raise _PathError(
                f"{path}.funder_shift.to_backbone",
                ev.funder_shift.to_backbone,
                f"one of the backbones of {area}: {in_area}",
            )
        if isinstance(ev, AddConvenersEvent) and ev.add_conveners.outcomes != "all":
            area_out = [k for k, a in outcomes.items() if a == area]
            for j, k in enumerate(ev.add_conveners.outcomes):
                if k not in area_out:
                    raise _PathError(
                        f"{path}.add_conveners.outcomes.{j}", k, f"one of the outcomes of {area}: {area_out}"
                    )
        return out

    @staticmethod
    def _check_event_sequence(events: list[dict[str, Any]], bnames: dict[str, str]) -> None:
        """Refuse events that could do nothing given the backbones left by earlier events.

        Events are replayed in the order the model applies them (by month, then as listed).
        Each area's backbones are followed by name while that is known; after a merge that
        keeps the N most followed, only their number is known (which ones depends on the run).
        """
        alive: dict[str, set[str] | None] = {}  # area -> names left (None: unknown which)
        count: dict[str, int] = {}
        for a in set(bnames.values()):
            alive[a] = {b for b, x in bnames.items() if x == a}
            count[a] = len(alive[a])
        order = sorted(range(len(events)), key=lambda i: events[i]["at"])
        for i in order:
            ev, path = events[i], f"events.{i}"
            area, at = ev["area"], ev["at"]
            names, n = alive.get(area, set()), count.get(area, 0)
            when = f"at month {at}"
            if ev["kind"] == "merge_backbones":
                keep = ev["merge_backbones"]["keep"]
                if n < 2:
                    raise _PathError(
                        f"{path}.merge_backbones",
                        ev["merge_backbones"],
                        f"a merge needs at least two backbones in {area}; it has {n} {when}, so the merge could do "
                        "nothing",
                    )
                if isinstance(keep, int) and keep >= n:
                    raise _PathError(
                        f"{path}.merge_backbones.keep",
                        keep,
                        f"fewer than the {n} backbones of {area} {when} (keeping {keep} of {n} merges nothing)",
                    )
                if isinstance(keep, str) and names is not None and keep not in names:
                    raise _PathError(
                        f"{path}.merge_backbones.keep", keep, f"a backbone still in {area} {when}: {sorted(names)}"
                    )
                alive[area] = {keep} if isinstance(keep, str) else None
                count[area] = 1 if isinstance(keep, str) else keep
            elif ev["kind"] == "backbone_exits":
                name = ev["backbone_exits"]
                if (names is not None and name not in names) or n < 1:
                    raise _PathError(
                        f"{path}.backbone_exits",
                        name,
                        f"a backbone still in {area} {when}: {sorted(names or [])} ({name!r} has already "
                        "exited or merged, so this exit could do nothing)",
                    )
                if names is not None:
                    names.discard(name)
                count[area] = n - 1
            elif ev["kind"] == "funder_shift":
                target = ev["funder_shift"]["to_backbone"]
                if target is not None and names is not None and target not in names:
                    raise _PathError(
                        f"{path}.funder_shift.to_backbone",
                        target,
                        f"a backbone still in {area} {when}: {sorted(names)}",
                    )

    def sha256(self) -> str:
        """A stable hash of the resolved scenario (for manifests and caches).

        Keys added since format 2 (:data:`HASH_OMITS_WHEN_UNSET`) are left out while unset, so a
        scenario that does not use them keeps the hash it had (a sweep or calibration started
        before them still resumes).
        """
        data = self.model_dump(mode="json")
        for path in HASH_OMITS_WHEN_UNSET:
            *parents, key = path
            node = data
            for part in parents:
                node = node[part]
            if node.get(key) is None:
                node.pop(key, None)
        blob = json.dumps(data, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()


#: optional keys added after format 2 with no effect while unset: not in :meth:`Scenario.sha256` then
HASH_OMITS_WHEN_UNSET = (("community", "organizations"), ("community", "network", "edges"))


# --------------------------------------------------------------------------- loading


#: Largest YAML file read, in bytes. Scenarios and experiments are a few kilobytes; a limit
#: stops a runaway (or hostile) file before it costs minutes and gigabytes.
MAX_YAML_BYTES = 1_000_000
#: Most nodes a YAML document may hold once its aliases are expanded: nested aliases
#: ("billion laughs") make a few hundred bytes stand for billions of values.
MAX_YAML_NODES = 100_000

_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{t}" for t in ("map", "seq", "str", "int", "float", "bool", "null", "timestamp", "merge")
}


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, reading ``1e3`` as a number (YAML 1.2 does; 1.1 says text)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9]+(\.[0-9]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _yaml_problem(root: yaml.Node) -> tuple[str, Any, str] | None:
    """The first reason to refuse a composed document (before building any Python value).

    Checks, in this order: the document expands to at most :data:`MAX_YAML_NODES` nodes
    (aliases followed) and no alias refers to itself; every tag is plain YAML; no key
    appears twice in one mapping (PyYAML would silently keep the last one).

    Returns:
        ``(key path, bad value, what is allowed)`` or None.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        # memoised by node identity: an alias is the same node object, so this is linear
        # in the text even when the expansion is astronomically large
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _PathError("", node.start_mark.line + 1, "no alias inside the value it names (a loop)")
        active.add(key)
        if isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(v) for v in node.value)
        else:
            total = 1
        active.discard(key)
        sizes[key] = total
        return total

    try:
        total = size(root)
    except _PathError as exc:
        return f"line {exc.value}", "&anchor ... *alias", exc.allowed
    if total > MAX_YAML_NODES:
        return (
            "",
            f"{total:,} values once aliases are expanded",
            f"at most {MAX_YAML_NODES:,} (nested aliases multiply; write the values out)",
        )

    def walk(node: yaml.Node, path: list[str]) -> tuple[str, Any, str] | None:
        if node.tag not in _PLAIN_TAGS:
            return (
                ".".join(path),
                node.tag.replace("tag:yaml.org,2002:", "!!"),
                "plain YAML only (mappings, lists, numbers, strings); tags that build Python objects are refused",
            )
        if isinstance(node, yaml.MappingNode):
            lines: dict[Any, int] = {}
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else None
                if name is not None and key.tag != "tag:yaml.org,2002:merge":
                    line = key.start_mark.line + 1
                    if name in lines:
                        return (
                            ".".join([*path, str(name)]),
                            name,
                            f"each key once in a mapping: {name!r} is on line {lines[name]} and again on line {line}",
                        )
                    lines[name] = line
                found = walk(key, path) or walk(value, [*path, str(name)])
                if found:
                    return found
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                found = walk(item, [*path, str(i)])
                if found:
                    return found
        return None

    return walk(root, [])


def parse_yaml(text: str, source: str, loader: type[yaml.SafeLoader] = _Loader) -> Any:
    """Parse YAML text safely: plain types only, unique keys, bounded alias expansion.

    Args:
        text: the YAML text (a whole file, or a ``--set`` value).
        source: the file (or option) it came from, for messages.
        loader: the loader class (the default reads files; ``--set`` values use their own).

    Returns:
        The plain Python value (dicts, lists, strings, numbers, booleans, None, dates).

    Raises:
        ScenarioError: malformed YAML, a repeated key (both lines named), a tag that builds
            Python objects, nesting too deep, or aliases expanding past :data:`MAX_YAML_NODES`.
    """
    loader = loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        problem = _yaml_problem(root)
        if problem:
            raise ScenarioError(source, *problem)
        return loader.construct_document(root)
    except yaml.YAMLError as exc:
        raise ScenarioError(source, _mark(exc), getattr(exc, "problem", None) or str(exc), "well-formed YAML") from None
    except RecursionError:
        raise ScenarioError(source, "", "deeply nested YAML", "at most a few hundred levels of nesting") from None
    finally:
        loader.dispose()


def _load_yaml(path: Path) -> Any:
    """Read a YAML file with :func:`parse_yaml`, refusing files over :data:`MAX_YAML_BYTES`."""
    source = str(path)
    if not path.exists():
        raise ScenarioError(source, "", source, "no such file")
    if not path.is_file():
        raise ScenarioError(source, "", source, "not a regular file")
    try:
        with path.open("rb") as fh:
            blob = fh.read(MAX_YAML_BYTES + 1)  # never more than the limit, whatever stat says
    except OSError as exc:
        raise ScenarioError(source, "", source, f"a readable file ({exc.strerror})") from None
    if len(blob) > MAX_YAML_BYTES:
        size = path.stat().st_size
        raise ScenarioError(
            source,
            "",
            f"{size / 1e6:.1f} MB" if size > MAX_YAML_BYTES else "a file larger than the limit",
            f"a YAML file of at most {MAX_YAML_BYTES / 1e6:g} MB (scenarios and experiments are a few kB)",
        )
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(source, "", source, f"UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_yaml(text, source)


def _mark(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""


class _ValueLoader(_Loader):
    """The loader of ``--set`` values: ``inf`` and ``nan`` are read as floats.

    People type them that way on a command line (YAML spells them ``.inf``, ``.nan``);
    read anywhere in the value (``[0, inf]`` too), they are refused by validation as "not a
    finite number" rather than as "not a number".
    """


_ValueLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(inf|Inf|INF|infinity|Infinity|nan|NaN|NAN)$"),
    list("-+iInN"),
)


def parse_value(text: str, source: str = "--set") -> Any:
    """Parse a ``--set`` value the way a scenario file would (numbers, booleans, lists...).

    Text that is not well-formed YAML is taken as a string; ``inf`` and ``nan`` are read as
    the floats they name (and then refused by validation as not finite).

    Raises:
        ScenarioError: a value with a repeated key, a Python tag or runaway aliases.
    """
    try:
        return parse_yaml(text, source, loader=_ValueLoader)
    except ScenarioError as exc:
        if exc.allowed == "well-formed YAML":
            return text
        raise


def apply_overrides(
    data: dict[str, Any], overrides: list[str] | dict[str, Any], source: str = "--set"
) -> dict[str, Any]:
    """Apply dotted-path overrides (``a.b.0.c=value``) to raw scenario data.

    Each path must already exist in ``data`` (after defaults are not filled in, so a key
    that the file leaves to its default can be set only if it is a known schema key).

    Raises:
        ScenarioError: a malformed override or a path that does not exist.
    """
    data = copy.deepcopy(data)
    items = overrides.items() if isinstance(overrides, dict) else [_split_override(o, source) for o in overrides]
    for key, value in items:
        _set_path(data, key, value, source)
    return data


def _split_override(text: str, source: str) -> tuple[str, Any]:
    if "=" not in text:
        raise ScenarioError(source, text, text, "KEY=VALUE with a dotted key path, e.g. community.partners=300")
    key, _, value = text.partition("=")
    return key.strip(), parse_value(value, f"{source} {text}")


def _set_path(data: Any, key: str, value: Any, source: str) -> None:
    parts = key.split(".")
    node = data
    schema: Any = Scenario
    for depth, part in enumerate(parts):
        here = ".".join(parts[: depth + 1])
        last = depth == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError(source, here, part, f"a list index from 0 to {len(node) - 1}")
            idx = int(part)
            if last:
                node[idx] = value
            else:
                node = node[idx]
            continue  # list items keep the element model that model_in_annotation found for the list
        if not isinstance(node, dict):
            raise ScenarioError(source, here, part, f"{'.'.join(parts[:depth])} holds a value, not a mapping or list")
        fields = _fields(schema)
        if part not in node and (fields is None or part not in fields):
            allowed = sorted(set(node) | set(fields or []))
            raise ScenarioError(source, here, part, f"no such key; known keys here: {', '.join(map(str, allowed))}")
        if last:
            node[part] = value
            return
        if part not in node:
            node[part] = {}
        node = node[part]
        schema = fields.get(part) if fields else None


def _fields(schema: Any) -> dict[str, Any] | None:
    """Map field name -> nested schema class (or None) for a pydantic model class."""
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        out = {}
        for name, f in schema.model_fields.items():
            out[name] = model_in_annotation(f.annotation)
        return out
    return None


def model_in_annotation(annotation: Any) -> Any:
    """The pydantic model class inside an annotation (``Foo``, ``Foo | None``, ``list[Foo]``...), or None."""
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = model_in_annotation(arg)
        if found is not None:
            return found
    return None


#: How each older scenario format becomes the next: format -> (what changed, upgrade of the raw mapping).
UPGRADES: dict[int, tuple[str, Any]] = {
    1: (
        "no key was renamed or removed and none changed meaning; format 2 only added keys, each with a "
        "default (format itself, population, funders, more mechanisms and parameters), so a format-1 "
        "file is read as it is",
        lambda data: data,
    ),
}


def scenario_format(data: dict[str, Any], source: str) -> int:
    """The format a raw scenario mapping is written in: its ``format`` key, 1 without one.

    Raises:
        ScenarioError: ``format`` is not a whole number, is below 1, or is newer than
            :data:`FORMAT_VERSION` (the file was written for a newer ci-sim).
    """
    if "format" not in data:
        return 1
    value = data["format"]
    known = ", ".join(map(str, range(1, FORMAT_VERSION + 1)))
    if type(value) is not int or value < 1:
        raise ScenarioError(
            source,
            "format",
            value,
            f"a whole number, the scenario format: one of {known} ({FORMAT_VERSION} is this ci-sim's own)",
        )
    if value > FORMAT_VERSION:
        from ci_sim import __version__

        raise ScenarioError(
            source,
            "format",
            value,
            f"a format this ci-sim ({__version__}) reads: {known}; the file was written for a newer ci-sim: "
            "upgrade ci-sim (pip install --upgrade ci-sim) to run it",
        )
    return value


def upgrade_scenario_data(data: dict[str, Any], source: str = "<scenario>") -> dict[str, Any]:
    """Raw scenario data of any known format as the current one (``format`` first; a copy if upgraded).

    Each step applies :data:`UPGRADES`; a file already in :data:`FORMAT_VERSION` is returned as it is.

    Raises:
        ScenarioError: see :func:`scenario_format`.
    """
    found = scenario_format(data, source)
    if found == FORMAT_VERSION:
        return data
    for step in range(found, FORMAT_VERSION):
        data = UPGRADES[step][1](data)
    return {"format": FORMAT_VERSION, **{k: v for k, v in data.items() if k != "format"}}


def upgrade_scenario_text(text: str, source: str = "<scenario>") -> str | None:
    """A scenario file's text in the current format, or None if it already is (``ci-sim upgrade``).

    The ``format`` line is set (or put before the first key, after any leading comments) and
    the rest of the text is kept, comments too, when that reads back as the upgraded data;
    otherwise (an upgrade that changes keys, a file written as one flow mapping) the upgraded
    data are written out as YAML, without the comments.

    Raises:
        ScenarioError: the text is not YAML, not a mapping, or its format is not one this ci-sim reads.
    """
    data = parse_yaml(text, source)
    if not isinstance(data, dict):
        raise ScenarioError(source, "", data, "a scenario is a YAML mapping with at least 'name' and 'issue_areas'")
    if scenario_format(data, source) == FORMAT_VERSION:
        return None
    upgraded = upgrade_scenario_data(data, source)
    line = f"format: {FORMAT_VERSION}\n"
    lines = text.splitlines(keepends=True)
    at = next((i for i, x in enumerate(lines) if re.match(r"format\s*:", x)), None)
    if at is not None:
        lines[at] = line
    else:
        lines.insert(next((i for i, x in enumerate(lines) if x.strip() and not x.lstrip().startswith("#")), 0), line)
    edited = "".join(lines)
    try:
        if parse_yaml(edited, source) == upgraded:
            return edited
    except ScenarioError:
        pass
    return yaml.safe_dump(upgraded, sort_keys=False, allow_unicode=True)


def validate_scenario(data: Any, source: str = "<scenario>") -> Scenario:
    """Validate raw data into a :class:`Scenario`, upgrading an older format first.

    Raises:
        ScenarioError: the first problem, with its key path.
    """
    if not isinstance(data, dict):
        raise ScenarioError(source, "", data, "a scenario is a YAML mapping with at least 'name' and 'issue_areas'")
    data = upgrade_scenario_data(data, source)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _from_validation(exc, source) from None
    except _PathError as exc:
        raise ScenarioError(source, exc.path, exc.value, exc.allowed) from None


_TYPE_TAG = re.compile(
    r"^([A-Z]\w*|(list|dict|literal|function-\w+|tagged-union|json-or-python)\[.*\]|int|str|float|bool|none)$"
)


def _from_validation(exc: ValidationError, source: str) -> ScenarioError:
    # With unions pydantic reports one error per member; the deepest is the one that
    # matched the shape of the input (e.g. the list form of ``backbones``).
    errors = exc.errors()
    err = max(errors, key=lambda e: len(e["loc"]))
    # pydantic names union members and tags in the location; keep the real keys only
    loc = [str(p) for p in err["loc"] if not _TYPE_TAG.match(str(p))]
    ctx_err = (err.get("ctx") or {}).get("error")
    if isinstance(ctx_err, _PathError):
        return ScenarioError(source, ".".join([*loc, ctx_err.path]), ctx_err.value, ctx_err.allowed)
    msg = err["msg"]
    if err["type"] in _TYPE_MESSAGES:
        msg = _TYPE_MESSAGES[err["type"]]
    elif err["type"] == "extra_forbidden":
        return ScenarioError(source, ".".join(loc), loc[-1] if loc else None, _unknown_key(loc))
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return ScenarioError(source, ".".join(loc), err.get("input"), msg)


def _unknown_key(loc: list[str]) -> str:
    """What to say of an unknown scenario key: the nearest known key, and the known keys there."""
    schema: Any = Scenario
    for part in loc[:-1]:
        fields = _fields(schema)
        if part.isdigit() or fields is None:
            continue  # list items keep the element model
        schema = fields.get(part)
    known = sorted(_fields(schema) or [])
    near = difflib.get_close_matches(loc[-1], known, n=1) if loc and known else []
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    where = f"; known keys here: {', '.join(known)}" if known else ""
    return f"unknown key{hint}{where} (the scenario format: README, docs/ODD.md §8.2)"


#: pydantic's strict-type errors, said the way a scenario author needs to hear them
_TYPE_MESSAGES = {
    "finite_number": "not a finite number: infinity and NaN are refused; give a finite number",
    "int_type": "an integer: a whole number written without a decimal point (true/false and text are not numbers)",
    "float_type": "a number (true/false and text are not numbers)",
    "bool_type": "true or false",
    "string_type": "text (put it in quotes)",
    "list_type": "a list, e.g. [a, b]",
    "dict_type": "a mapping, e.g. {key: value}",
}


def load_scenario(
    path: str | Path,
    overrides: list[str] | dict[str, Any] | None = None,
    *,
    steps: int | None = None,
    drop_late_events: bool = False,
) -> Scenario:
    """Load, override and validate a scenario file.

    Args:
        path: a YAML scenario file, or the name of a shipped scenario (e.g. ``"nine_backbones"``).
        overrides: ``["key.path=value", ...]`` or ``{"key.path": value}``.
        steps: a horizon (months) replacing the file's ``steps`` (the CLI's ``--steps``).
        drop_late_events: remove the events at or after the horizon instead of refusing
            them; they are listed in the scenario's ``dropped_events`` (and so in manifests).

    Returns:
        The validated :class:`Scenario`.

    Raises:
        ScenarioError: the file is missing, not YAML, or not a valid scenario. A problem
            that an override (or ``steps``) brings in names that option, not the file.
    """
    p = Path(path)
    if not p.exists() and not p.suffix:
        shipped = shipped_scenario_dir() / f"{p.name}.yaml"
        if shipped.exists():
            p = shipped
        else:
            names = sorted(f.stem for f in shipped_scenario_dir().glob("*.yaml"))
            near = difflib.get_close_matches(p.name, names, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            allowed = f"no such file, and no shipped scenario of that name{hint}; `ci-sim scenarios` lists them"
            raise ScenarioError(str(p), "", str(path), allowed)
    original = _load_yaml(p)
    data = original
    changed: dict[str, str] = {}  # key path -> the option that set it (for messages)
    if overrides or steps is not None:
        if not isinstance(data, dict):
            raise ScenarioError(str(p), "", data, "a scenario is a YAML mapping")
    if overrides:
        data = apply_overrides(data, overrides)
        pairs = overrides.items() if isinstance(overrides, dict) else [o.partition("=")[::2] for o in overrides]
        changed |= {k.strip(): f"--set {k.strip()}={v}" for k, v in pairs}
    if steps is not None:
        data = {**data, "steps": steps}
        changed["steps"] = f"--steps {steps}"
    if drop_late_events:
        data = _drop_late_events(data)
    try:
        return validate_scenario(data, str(p))
    except ScenarioError as exc:
        if not changed:
            raise
        raise _blame(exc, changed, original, str(p)) from None


def _blame(exc: ScenarioError, changed: dict[str, str], original: Any, source: str) -> ScenarioError:
    """Name the option that made a scenario invalid, not the file it was applied to."""
    allowed = exc.allowed
    if "would never happen" in allowed:
        allowed += "; to run without them say so: --allow-dropped-events"
    for key, option in changed.items():
        if exc.path and (exc.path == key or exc.path.startswith(key + ".") or key.startswith(exc.path + ".")):
            return ScenarioError(option, exc.path, exc.value, allowed)
    if exc.path.startswith("events") and "steps" in changed:
        return ScenarioError(changed["steps"], exc.path, exc.value, allowed)
    try:
        validate_scenario(copy.deepcopy(original), source)
    except ScenarioError:
        return ScenarioError(exc.source, exc.path, exc.value, allowed)  # the file itself is at fault
    return ScenarioError(f"{', '.join(changed.values())} (applied to {source})", exc.path, exc.value, allowed)


def _drop_late_events(data: dict[str, Any]) -> dict[str, Any]:
    """Move the events at or after the horizon into ``dropped_events`` (raw data, copied)."""
    events = data.get("events")
    horizon = data.get("steps", Scenario.model_fields["steps"].default)
    if not isinstance(events, list) or isinstance(horizon, bool) or not isinstance(horizon, int):
        return data  # validation reports the malformed value
    late = [e for e in events if isinstance(e, dict) and type(e.get("at")) is int and e["at"] >= horizon]
    if not late:
        return data
    return {
        **data,
        "events": [e for e in events if not any(e is x for x in late)],
        "dropped_events": [*data.get("dropped_events", []), *late],
    }


def shipped_scenario_dir() -> Path:
    """The ``scenarios/`` folder shipped with the project (next to ``src/``)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        cand = parent / "scenarios"
        if cand.is_dir() and any(cand.glob("*.yaml")):
            return cand
    return Path("scenarios")
