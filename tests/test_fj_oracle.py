"""Exact oracle: with trust, engagement and attention frozen, agendas follow a linear
Friedkin–Johnsen system whose fixed point has a closed form. The test builds that system
independently from the model's parameters and compares the simulated agendas to it."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small

from ci_sim import build_model

FROZEN = {"trust": False, "engagement": False, "attention": False, "outcome_noise": False}


def fixed_point(model) -> np.ndarray:
    """x* = (I − ΛW)^{-1} (I − Λ) x(0) for partners plus backbones as (partly) stubborn nodes."""
    n, b = model.n_partners, model.n_backbones
    pi = model.attention * model.last.valid
    w, s = model.influence_weights()
    lam = model.openness
    peers = model.peer_matrix.toarray()
    mass = pi.sum(axis=0)
    W = np.zeros((n + b, n + b))
    W[:n, :n] = (1 - w)[:, None] * np.eye(n) + (w * (1 - s))[:, None] * peers
    W[:n, n:] = (w * s)[:, None] * pi
    followed = mass > 0
    W[n:, :n][followed] = (pi / np.where(mass > 0, mass, 1)).T[followed]
    nu = np.where(followed, model.neutrality, 0.0)  # an unfollowed backbone promotes its own agenda
    Lam = np.diag(np.concatenate([lam, nu]))
    x0 = np.vstack([model.agenda0, model.own_agenda])
    x = np.linalg.solve(np.eye(n + b) - Lam @ W, (np.eye(n + b) - Lam) @ x0)
    return x[:n]


@pytest.mark.parametrize(
    "areas",
    [
        [{"name": "education", "backbones": {"count": 3, "neutrality": 0.4, "coordination": "none"}}],
        [
            {
                "name": "education",
                "share": 0.5,
                "backbones": [{"name": "a", "neutrality": 0.9}, {"name": "b", "neutrality": 0.1}],
            },
            {"name": "health", "share": 0.3, "outcomes": ["h1", "h2", "h3"], "backbones": {"count": 1}},
            {"name": "housing", "share": 0.2, "outcomes": ["u1", "u2"], "backbones": {"count": 0}},
        ],
    ],
    ids=["one-area-three-backbones", "three-areas-one-without-backbone"],
)
def test_agendas_reach_friedkin_johnsen_fixed_point(areas):
    sc = small(issue_areas=areas, mechanisms=FROZEN, parameters={"openness_mean": 0.6})
    model = build_model(sc, seed=11)
    expected = fixed_point(model)
    for _ in range(2500):
        model.step()
    assert np.abs(model.agenda - expected).max() < 1e-6
    # and the system really moved: the fixed point is far from where agendas started
    assert np.abs(model.agenda0 - expected).max() > 1e-2


def test_oracle_detects_a_wrong_system():
    """The comparison has teeth: with the backbone share of influence set to zero in the
    oracle, the prediction is off by far more than the tolerance."""
    sc = small(mechanisms=FROZEN, parameters={"openness_mean": 0.6, "backbone_share": 0.9})
    model = build_model(sc, seed=3)
    expected = fixed_point(model)
    for _ in range(2500):
        model.step()
    model_wrong = build_model(
        small(mechanisms=FROZEN, parameters={"openness_mean": 0.6, "backbone_share": 0.0}), seed=3
    )
    assert np.abs(model.agenda - fixed_point(model_wrong)).max() > 1e-3
    assert np.abs(model.agenda - expected).max() < 1e-6
