"""Mesa agents of ci-sim: partners, backbones and conveners.

The agents are real :class:`mesa.Agent` objects (identity, role, visualisation and
per-agent data), but their state lives in numpy arrays owned by the model, which the
compiled mechanisms work on. Each agent is a *view*: its properties read and write its row
of the model's arrays (in place: the arrays are shared with the compiled state). Nothing
here is called inside the step.
"""

from __future__ import annotations

import numpy as np
from mesa import Agent, Model


class PartnerAgent(Agent):
    """A partner organization (nonprofit, school district, funder, ...).

    Attributes:
        index: row of this partner in the model's partner arrays.
        sector: the partner's sector.
        area: name of the partner's (home) issue area.
        name: the organization's name (``community.organizations``), or None for a drawn partner.
    """

    def __init__(self, model: Model, index: int, sector: str, area: str, name: str | None = None):
        super().__init__(model)
        self.index = index
        self.sector = sector
        self.area = area
        self.name = name

    @property
    def agenda(self) -> np.ndarray:
        """Current agenda over the area's outcomes (a point on the simplex)."""
        m = self.model
        return m.agenda[self.index, m.partner_outcome_mask[self.index]]

    @property
    def trust(self) -> dict[str, float]:
        """Trust in each active backbone of the partner's area, by backbone name."""
        m = self.model
        return {b.name: float(m.trust[self.index, b.index]) for b in m.backbones_in(self.area)}

    @property
    def engagement(self) -> float:
        return float(self.model.engagement[self.index])

    @engagement.setter
    def engagement(self, value: float) -> None:
        self.model.engagement[self.index] = value

    @property
    def openness(self) -> float:
        return float(self.model.openness[self.index])

    @property
    def capacity(self) -> float:
        """Hours per month the partner gives to the work."""
        return float(self.model.capacity[self.index])

    @property
    def fundraising_share(self) -> float:
        return float(self.model.fundraising[self.index])

    @property
    def data_capacity(self) -> float:
        return float(self.model.data_capacity[self.index])

    @property
    def followed_backbone(self) -> BackboneAgent | None:
        """The backbone this partner gives most attention to (None without backbones)."""
        j = int(self.model.followed_backbones()[self.index])
        return None if j < 0 else self.model.backbone_agents[j]


class BackboneAgent(Agent):
    """A backbone organization of one issue area.

    Attributes:
        index: column of this backbone in the model's backbone arrays.
        name: unique name (events refer to it).
        area: name of its issue area.
        origin: partner_agreed, funder_created or self_declared.
    """

    def __init__(self, model: Model, index: int, name: str, area: str, origin: str):
        super().__init__(model)
        self.index = index
        self.name = name
        self.area = area
        self.origin = origin

    @property
    def active(self) -> bool:
        return bool(self.model.backbone_active[self.index])

    @property
    def neutrality(self) -> float:
        return float(self.model.neutrality[self.index])

    @property
    def servant_leadership(self) -> float:
        return float(self.model.servant[self.index])

    @property
    def own_agenda(self) -> np.ndarray:
        m = self.model
        return m.own_agenda[self.index, m.outcome_area == m.area_index[self.area]]

    @property
    def data_quality(self) -> float:
        return float(self.model.data_quality[self.index])

    @property
    def staff_hours(self) -> float:
        return float(self.model.last.staff_hours[self.index])

    @property
    def followers(self) -> float:
        """Attention mass: the number of partners following it, in partner units."""
        return float(self.model.last.mass[self.index])


class ConvenerAgent(Agent):
    """A convener of one outcome's working group (StriveTogether's convener role).

    Attributes:
        outcome: index of the outcome it convenes.
        name: a readable name.
    """

    def __init__(self, model: Model, outcome: int, name: str):
        super().__init__(model)
        self.outcome = outcome
        self.name = name

    @property
    def outcome_name(self) -> str:
        return self.model.outcome_names[self.outcome]

    @property
    def facilitation(self) -> float:
        return float(self.model.convener_facilitation[self.outcome])

    @property
    def plan_quality(self) -> float:
        return float(self.model.convener_plan[self.outcome])
