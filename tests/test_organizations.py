"""Given partners (``community.organizations``) and given peer ties (``community.network.edges``), ODD §5.

A community leader's roster lists its organizations one by one; the model's partners are then
those organizations (sector, home and second area, hours) and its peer network their listed ties,
with nothing drawn. The malformed-input cases are in tests/test_bad_input.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small
from hypothesis import given, settings
from hypothesis import strategies as st

from ci_sim.model.scenario import SECTORS, validate_scenario
from ci_sim.runs.runner import build_model, run_scenario

AREAS = [{"name": "education"}, {"name": "health", "outcomes": ["asthma", "obesity"]}]


def organization(i: int, sector: str, areas: list[str], hours: float) -> dict:
    return {"name": f"org {i}", "sector": sector, "areas": areas, "hours": hours}


ORGS = st.lists(
    st.tuples(
        st.sampled_from(SECTORS),
        st.sampled_from([["education"], ["health"], ["education", "health"], ["health", "education"]]),
        st.floats(0.5, 400),
    ),
    min_size=2,
    max_size=30,
).filter(lambda rows: {"education", "health"} <= {a for _, areas, _ in rows for a in areas})


@settings(max_examples=30, deadline=None)
@given(rows=ORGS, seed=st.integers(0, 2**32))
def test_the_models_partners_are_the_organizations(rows, seed):
    orgs = [organization(i, s, a, h) for i, (s, a, h) in enumerate(rows)]
    sc = small(community={"organizations": orgs}, issue_areas=AREAS)
    n = len(orgs)
    # the aggregate keys follow from the list
    assert sc.community.partners == n
    assert sum(sc.community.sector_mix.values()) == pytest.approx(1.0)
    assert sc.community.capacity_hours == pytest.approx(np.mean([h for _, _, h in rows]))
    assert sc.community.second_area_share == pytest.approx(sum(len(a) == 2 for _, a, _ in rows) / n)
    m = build_model(sc, seed)
    index = {"education": 0, "health": 1}
    assert m.capacity.tolist() == [h for _, _, h in rows]  # each organization's own hours, not drawn
    assert m.partner_area.tolist() == [index[a[0]] for _, a, _ in rows]
    assert m.partner_area2.tolist() == [index[a[1]] if len(a) == 2 else -1 for _, a, _ in rows]
    assert [a.sector for a in m.partner_agents] == [s for s, _, _ in rows]
    assert [a.name for a in m.partner_agents] == [o["name"] for o in orgs]
    per_area = [sum(area in a for _, a, _ in rows) for area in index]
    assert m.partners_per_area.tolist() == per_area
    # a partner's agenda stays on the outcomes of its area(s)
    on = m.outcome_area[None, :] == m.partner_area[:, None]
    on |= m.outcome_area[None, :] == m.partner_area2[:, None]
    assert np.all(m.agenda[~on] == 0)


def test_given_ties_are_the_peer_network_and_a_partner_without_ties_keeps_its_own_agenda():
    orgs = [organization(i, "nonprofit", ["education"], 20.0) for i in range(5)]
    ties = [["org 0", "org 1"], ["org 1", "org 2"], ["org 3", "org 0"]]
    sc = small(community={"organizations": orgs, "network": {"edges": ties}})
    m = build_model(sc, 1)
    assert sorted(map(tuple, m.peer_edges.tolist())) == [(0, 1), (1, 2), (3, 0)]
    P = m.peer_matrix.toarray()
    # P_ij = 1 / deg(i) over i's peers; org 4 has none: P_44 = 1
    expected = np.zeros((5, 5))
    for i, peers in {0: [1, 3], 1: [0, 2], 2: [1], 3: [0], 4: [4]}.items():
        expected[i, peers] = 1 / len(peers)
    np.testing.assert_array_equal(P, expected)


def test_a_scenario_with_organizations_round_trips_and_runs_the_same():
    orgs = [organization(i, SECTORS[i % 7], [["education"], ["health"], ["education", "health"]][i % 3], 10.0 + i)
            for i in range(12)]  # fmt: skip
    ties = [["org 0", "org 3"], ["org 2", "org 5"], ["org 1", "org 2"]]
    sc = small(community={"organizations": orgs, "network": {"edges": ties}}, issue_areas=AREAS, steps=6)
    again = validate_scenario(sc.model_dump(mode="json"))
    assert again == sc and again.sha256() == sc.sha256()
    a, b = run_scenario(sc, 3), run_scenario(again, 3)
    assert a.timeseries.equals(b.timeseries)


def test_listing_the_organizations_changes_nothing_else_the_model_draws():
    # the same organizations with and without their ties: the ties are the only difference in the network
    orgs = [organization(i, "nonprofit", ["education"], 25.0) for i in range(8)]
    drawn = build_model(small(community={"organizations": orgs}), 2)
    tied = build_model(small(community={"organizations": orgs, "network": {"edges": [["org 0", "org 1"]]}}), 2)
    assert len(drawn.peer_edges) > 1 and tied.peer_edges.tolist() == [[0, 1]]
    np.testing.assert_array_equal(drawn.agenda0, tied.agenda0)
    np.testing.assert_array_equal(drawn.openness, tied.openness)


@pytest.mark.parametrize(
    ("name", "digest"),
    [
        # the hashes of ci-sim 0.2.0 (before organizations and edges existed): unchanged, so resumes still match
        ("single_backbone", "8c3bd387a4655efaee5e9b454ee54a28eda1de0e991e4c8d292156abaa2a40b3"),
        ("nine_backbones", "caf6cebf195ff0acccba12d278c653967c344488fd2bf6282c1b68fbf4f94980"),
        ("strive_cincinnati", "9eea4162b9d60544c640946b1e9a5f54ab2ea98d60930515a9054931177b7105"),
    ],
)
def test_a_scenario_without_organizations_keeps_its_hash(name, digest):
    from ci_sim.model.scenario import load_scenario

    assert load_scenario(name).sha256() == digest


def test_organizations_and_ties_are_in_the_hash():
    orgs = [organization(i, "nonprofit", ["education"], 25.0) for i in range(4)]
    plain = small(community={"organizations": orgs})
    tied = small(community={"organizations": orgs, "network": {"edges": [["org 0", "org 1"]]}})
    other = small(community={"organizations": [*orgs[:3], organization(3, "nonprofit", ["education"], 26.0)]})
    assert len({plain.sha256(), tied.sha256(), other.sha256(), small().sha256()}) == 4
