"""Scenario files: the schema, safe YAML loading, ``--set`` overrides and clear errors.

A scenario is plain data (YAML) describing one community: its partners, its issue areas
with their outcomes, backbones and conveners, the events that change a run midway, and the
mechanism parameters. Everything is validated before anything runs; every problem is
reported as a :class:`ScenarioError` naming the file, the key path, the bad value and what
is allowed, so the CLI can exit with status 2 and write nothing.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
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

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]


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
    """Base for every section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


# --------------------------------------------------------------------------- sections


class Network(_Strict):
    """Peer network among partners (networkx, drawn from the model's generator)."""

    kind: Literal["small_world", "random", "scale_free"] = "small_world"
    degree: int = Field(6, ge=2, le=50, description="mean number of peers")
    rewire: Unit = Field(0.1, description="small-world rewiring probability")


class Community(_Strict):
    """The partner organizations of the community."""

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

    @field_validator("sector_mix")
    @classmethod
    def _mix_sums_to_one(cls, mix: dict[str, float]) -> dict[str, float]:
        total = sum(mix.values())
        if not mix or abs(total - 1.0) > 1e-6:
            raise ValueError(f"shares must sum to 1 (they sum to {total:.6g})")
        return mix


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
    program_grants: NonNeg = Field(400000.0, description="grants to partners, $/month")


class IssueArea(_Strict):
    """An issue area with its outcomes, backbones and conveners."""

    name: str = Field(min_length=1)
    outcomes: list[str] | None = None
    share: float | None = Field(None, gt=0, le=1)
    backbones: BackboneSpec | list[BackboneSpec] = Field(default_factory=BackboneSpec)
    coordination: Coordination | None = None
    conveners: Conveners = Field(default_factory=Conveners)
    funding: Funding = Field(default_factory=Funding)

    @model_validator(mode="after")
    def _resolve(self) -> IssueArea:
        if self.outcomes is None:
            if self.name != "education":
                raise _PathError("outcomes", None, "list the area's outcomes (only education has defaults)")
            self.outcomes = list(EDUCATION_OUTCOMES)
        if not self.outcomes:
            raise _PathError("outcomes", self.outcomes, "at least one outcome is needed")
        if len(set(self.outcomes)) != len(self.outcomes):
            raise _PathError("outcomes", self.outcomes, "outcome names must be unique")
        for j, k in enumerate(self.conveners.outcomes or []):
            if k not in self.outcomes:
                raise _PathError(f"conveners.outcomes.{j}", k, f"one of the area's outcomes {self.outcomes}")
        specs = self.backbones if isinstance(self.backbones, list) else [self.backbones]
        coords = {s.coordination for s in specs if s.coordination is not None}
        if self.coordination is not None:
            coords.add(self.coordination)
        if len(coords) > 1:
            raise _PathError("coordination", sorted(coords), "one coordination value per area")
        self.coordination = coords.pop() if coords else "none"
        return self

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
    attend_threshold: Unit = Field(0.5, description="sits at tables with this share of its top table's attention")
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
    fire_cost: Unit = Field(0.25, description="share of trust lost to political fires (rival visibility contests)")
    legitimacy_partner_agreed: Unit = 1.0
    legitimacy_funder_created: Unit = 0.8
    legitimacy_self_declared: Unit = 0.6
    legitimacy_rate: Unit = Field(0.03, description="monthly rate at which service earns legitimacy")
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
    # 8. plans
    plan_rate: Unit = Field(0.08, description="monthly rate of plan building")
    plan_decay: Unit = Field(0.02, description="monthly decay of a plan on the shelf")
    plan_update: Unit = Field(0.3, description="yearly plan refresh gain at full data completeness")
    thin_facilitation: Unit = Field(0.5, description="facilitation of a backbone-run working group at full staff")
    facilitation_half_hours: float = Field(
        10.0, gt=0, description="backbone hours/month per group for half facilitation"
    )
    # 9. outcomes
    outcome_rate: NonNeg = Field(0.03, description="monthly outcome growth at full aligned effort")
    effort_half: float = Field(0.3, gt=0, description="aligned effort share for half the growth")
    outcome_noise: NonNeg = Field(0.002, description="sd of monthly outcome noise")
    policy_gain: NonNeg = Field(0.3, description="outcome growth bonus at full policy alignment")
    policy_half_hours: float = Field(30.0, gt=0, description="policy hours/month for half the bonus")
    # 10. engagement
    engagement_rate: Unit = Field(0.08, description="monthly relaxation rate of engagement")
    engagement_base: Unit = Field(0.5)
    engagement_trust: NonNeg = Field(0.4, description="engagement gained per unit trust above 0.5")
    engagement_support: NonNeg = Field(0.3, description="engagement gained from support (backbone or convener)")
    burnout_tolerance: Unit = Field(0.25, description="meeting share of capacity before burnout")
    burnout_cost: NonNeg = Field(0.8, description="engagement lost per unit meeting share beyond tolerance")


class Mechanisms(_Strict):
    """Switches: each dynamic can be frozen (held at its initial value)."""

    attention: bool = True
    trust: bool = True
    engagement: bool = True
    agendas: bool = True
    outcome_noise: bool = True


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


class Output(_Strict):
    agent_period: int = Field(0, ge=0, description="sample per-agent state every N steps (0: never)")


class Scenario(_Strict):
    """A whole scenario: the community, its issue areas, events and parameters."""

    name: str = Field(min_length=1)
    description: str = ""
    steps: int = Field(120, ge=1, le=10_000)
    replications: int = Field(20, ge=1, le=100_000)
    seed: int = Field(2026, ge=0)
    community: Community = Field(default_factory=Community)
    issue_areas: list[IssueArea] = Field(min_length=1)
    events: list[dict[str, Any]] = Field(default_factory=list)
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
        shares = [a.share for a in self.issue_areas]
        if any(s is not None for s in shares):
            if any(s is None for s in shares) or abs(sum(shares) - 1) > 1e-6:
                raise _PathError("issue_areas", shares, "give every area a share, summing to 1, or none")
        self.events = [self._check_event(i, e, bnames, seen) for i, e in enumerate(self.events)]
        return self

    def _check_event(self, i: int, raw: Any, bnames: dict[str, str], outcomes: dict[str, str]) -> dict[str, Any]:
        path = f"events.{i}"
        if not isinstance(raw, dict):
            raise _PathError(path, raw, "an event is a mapping with 'at' and one of " + ", ".join(EVENT_KINDS))
        kinds = [k for k in raw if k in EVENT_KINDS]
        if len(kinds) != 1:
            raise _PathError(path, sorted(raw), "exactly one event kind: " + ", ".join(EVENT_KINDS))
        try:
            ev = EVENT_KINDS[kinds[0]].model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise _PathError(".".join([path, *map(str, err["loc"])]), err.get("input"), err["msg"]) from None
        if ev.at >= self.steps:
            raise _PathError(
                f"{path}.at", ev.at, f"events must happen before the horizon (0 <= at < steps = {self.steps})"
            )
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

    def sha256(self) -> str:
        """A stable hash of the resolved scenario (for manifests and caches)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()


# --------------------------------------------------------------------------- loading


def _load_yaml(path: Path) -> Any:
    source = str(path)
    if not path.exists():
        raise ScenarioError(source, "", source, "no such file")
    if not path.is_file():
        raise ScenarioError(source, "", source, "not a regular file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(source, "", source, f"cannot be read as UTF-8 text ({exc})") from None
    try:
        return yaml.safe_load(text)
    except yaml.constructor.ConstructorError as exc:
        path, tag = _tagged_node(text)
        raise ScenarioError(
            source,
            path or _mark(exc),
            tag or getattr(exc, "problem", ""),
            "plain YAML only (mappings, lists, numbers, strings); tags that build Python objects are refused",
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(source, _mark(exc), getattr(exc, "problem", str(exc)), "well-formed YAML") from None


_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("map", "seq", "str", "int", "float", "bool", "null", "timestamp")}


def _tagged_node(text: str) -> tuple[str, str]:
    """Key path and tag of the first node with a non-plain tag (found without constructing)."""

    def walk(node: yaml.Node, path: list[str]) -> tuple[str, str] | None:
        if node.tag not in _PLAIN_TAGS:
            return ".".join(path), node.tag.replace("tag:yaml.org,2002:", "!!")
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                found = walk(key, path) or walk(value, [*path, str(key.value)])
                if found:
                    return found
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                found = walk(item, [*path, str(i)])
                if found:
                    return found
        return None

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return "", ""
    return (walk(root, []) if root is not None else None) or ("", "")


def _mark(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""


def parse_value(text: str) -> Any:
    """Parse a ``--set`` value the way YAML would (numbers, booleans, lists...)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


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
    return key.strip(), parse_value(value)


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
            continue  # list items keep the element model that _model_in found for the list
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
            out[name] = _model_in(f.annotation)
        return out
    return None


def _model_in(annotation: Any) -> Any:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def validate_scenario(data: Any, source: str = "<scenario>") -> Scenario:
    """Validate raw data into a :class:`Scenario`.

    Raises:
        ScenarioError: the first problem, with its key path.
    """
    if not isinstance(data, dict):
        raise ScenarioError(source, "", data, "a scenario is a YAML mapping with at least 'name' and 'issue_areas'")
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
    if err["type"] == "extra_forbidden":
        msg = "unknown key (check the spelling; the scenario format is in the README and docs/ODD.md)"
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return ScenarioError(source, ".".join(loc), err.get("input"), msg)


def load_scenario(path: str | Path, overrides: list[str] | dict[str, Any] | None = None) -> Scenario:
    """Load, override and validate a scenario file.

    Args:
        path: a YAML scenario file, or the name of a shipped scenario (e.g. ``"nine_backbones"``).
        overrides: ``["key.path=value", ...]`` or ``{"key.path": value}``.

    Returns:
        The validated :class:`Scenario`.

    Raises:
        ScenarioError: the file is missing, not YAML, or not a valid scenario.
    """
    p = Path(path)
    if not p.exists() and not p.suffix:
        shipped = shipped_scenario_dir() / f"{p.name}.yaml"
        if shipped.exists():
            p = shipped
    data = _load_yaml(p)
    if overrides:
        if not isinstance(data, dict):
            raise ScenarioError(str(p), "", data, "a scenario is a YAML mapping")
        data = apply_overrides(data, overrides)
    return validate_scenario(data, str(p))


def shipped_scenario_dir() -> Path:
    """The ``scenarios/`` folder shipped with the project (next to ``src/``)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        cand = parent / "scenarios"
        if cand.is_dir() and any(cand.glob("*.yaml")):
            return cand
    return Path("scenarios")
