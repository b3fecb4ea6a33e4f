"""Exact oracle: with trust, engagement and attention frozen, agendas follow a linear
Friedkin–Johnsen system whose fixed point has a closed form. The test builds that system
from the documented equations (docs/ODD.md §7.4: w_i and s_i from attention, trust and the
backbones' vision hours per follower) and the model's state alone, never from the model's
own weight computation, and compares the simulated agendas to it."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small

from ci_sim import build_model

# the channels that feed back on the weights are frozen too: funders (budgets, so vision hours per
# follower) and results; conveners are absent
FROZEN = {
    "trust": False,
    "engagement": False,
    "attention": False,
    "outcome_noise": False,
    "funder_response": False,
    "results_feedback": False,
}


def sat(x, half):
    """Saturation of ODD §0: x / (x + h)."""
    return x / (x + half)


def influence_weights(model) -> tuple[np.ndarray, np.ndarray]:
    """w_i and s_i of ODD §7.4, from the state alone (attention, trust, vision hours per follower):

    tau_i = sum_b pi_ib tau_ib,  str_i = sum_b pi_ib sat(h_bV, H_sup),
    w_i = w_min + (w_max - w_min) tau_i str_i,  s_i = s 1[has_i].
    """
    prm, last = model.params, model.last
    pi = model.attention * last.valid
    tau_bar = (pi * model.trust).sum(axis=1)
    strength = pi @ sat(last.per_follower[:, 0], prm.support_need)  # column 0: vision (V)
    w = prm.influence_min + (prm.influence_max - prm.influence_min) * tau_bar * strength
    s = prm.backbone_share * last.valid.any(axis=1)
    return w, s


def fixed_point(model) -> np.ndarray:
    """x* = (I − ΛW)^{-1} (I − Λ) x(0) for partners plus backbones as (partly) stubborn nodes."""
    n, b = model.n_partners, model.n_backbones
    pi = model.attention * model.last.valid
    w, s = influence_weights(model)
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
