"""Sensitivity analysis: known indices through the sweep-and-analyse path, seed noise,
impossible indices, second order, incomplete sweeps.

Test functions with known Sobol' indices (Ishigami; a linear model) replace the model run
inside the sweep (``ci_sim.experiments.sweep.run_scenario``, called by each task in this
process with ``--workers 1``): the factor values travel through the design points, the
scenario overrides, the Parquet parts and the point means exactly as a model run's would.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from ci_sim.cli import EXIT_RUNS_FAILED, main
from ci_sim.experiments.sensitivity import noise_share

BASE = """
name: known
base: single_backbone
set: {steps: 12, community.partners: 30}
metrics: [outcome_improvement, alignment]
design: sobol
"""
#: three float parameters, each mapped linearly onto [-pi, pi] for the test functions
RANGES = {"table_hours": (0.0, 8.0), "fire_cost": (0.0, 0.5), "tolerance": (0.15, 0.5)}
FACTORS = "factors:\n" + "".join(
    f"  - {{path: parameters.{k}, range: [{lo}, {hi}]}}\n" for k, (lo, hi) in RANGES.items()
)

# Ishigami (a=7, b=0.1): V = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2, closed-form indices
A, B = 7.0, 0.1
V = A**2 / 8 + B * np.pi**4 / 5 + B**2 * np.pi**8 / 18 + 0.5
V1 = 0.5 * (1 + B * np.pi**4 / 5) ** 2
V2 = A**2 / 8
V13 = B**2 * np.pi**8 * (1 / 18 - 1 / 50)
ISHIGAMI_S1 = {"table_hours": V1 / V, "fire_cost": V2 / V, "tolerance": 0.0}
ISHIGAMI_ST = {"table_hours": (V1 + V13) / V, "fire_cost": V2 / V, "tolerance": V13 / V}
# linear 2 u1 + u2 (u uniform on [-pi, pi], equal variances): S1 = ST = 4/5, 1/5, 0
LINEAR = {"table_hours": 0.8, "fire_cost": 0.2, "tolerance": 0.0}


def _u(scenario) -> list[float]:
    return [-np.pi + 2 * np.pi * (getattr(scenario.parameters, k) - lo) / (hi - lo) for k, (lo, hi) in RANGES.items()]


def known_functions(scenario, seed, **_):
    """Stands in for run_scenario: Ishigami as outcome_improvement, a linear model as alignment."""
    u1, u2, u3 = _u(scenario)
    ishigami = np.sin(u1) + A * np.sin(u2) ** 2 + B * u3**4 * np.sin(u1)
    return SimpleNamespace(final={"outcome_improvement": ishigami, "alignment": 2 * u1 + u2})


@pytest.fixture
def known(monkeypatch):
    import ci_sim.experiments.sweep as sweep

    monkeypatch.setattr(sweep, "run_scenario", known_functions)


def sensitivity(tmp_path, text: str, *extra: str):
    path = tmp_path / "e.yaml"
    path.write_text(text)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["sensitivity", str(path), "-w", "1", "-q", "--out", str(out), *extra])
    return res, out


def test_sobol_indices_of_functions_with_known_indices(tmp_path, known):
    res, out = sensitivity(tmp_path, BASE + FACTORS + "samples: 512\nsecond_order: true\nreplications: 1\n")
    assert res.exit_code == 0, res.output + res.stderr
    table = pd.read_csv(out / "sensitivity.csv").set_index(["metric", "factor"])
    for name in RANGES:
        row = table.loc[("outcome_improvement", f"parameters.{name}")]
        assert row["S1"] == pytest.approx(ISHIGAMI_S1[name], abs=0.06), name
        assert row["ST"] == pytest.approx(ISHIGAMI_ST[name], abs=0.06), name
        row = table.loc[("alignment", f"parameters.{name}")]
        assert row["S1"] == pytest.approx(LINEAR[name], abs=0.03), name
        assert row["ST"] == pytest.approx(LINEAR[name], abs=0.03), name
    # second order: S2 and its interval written; Ishigami's only interaction is u1 x u3
    s2 = pd.read_csv(out / "sensitivity_s2.csv")
    assert list(s2.columns) == ["method", "metric", "factor", "factor_2", "S2", "S2_conf", "warnings"]
    assert len(s2) == 2 * 3 and s2["S2_conf"].gt(0).all()
    pairs = s2[s2["metric"] == "outcome_improvement"].set_index(["factor", "factor_2"])["S2"]
    assert pairs[("parameters.table_hours", "parameters.tolerance")] == pytest.approx(V13 / V, abs=0.05)
    assert abs(pairs[("parameters.table_hours", "parameters.fire_cost")]) < 0.05
    assert abs(pairs[("parameters.fire_cost", "parameters.tolerance")]) < 0.05
    assert (out / "figures" / "sensitivity_s2.png").is_file() and (out / "figures" / "sensitivity_s2.svg").is_file()
    svg = (out / "figures" / "sensitivity_s2.svg").read_text()
    assert f"{pairs[('parameters.table_hours', 'parameters.tolerance')]:.2f}" in svg
    assert "sensitivity_s2.csv" in res.output
    # `ci-sim plot` draws both figures again from the folder's CSV files
    again = CliRunner().invoke(main, ["plot", str(out), "--out", str(tmp_path / "figs")])
    assert again.exit_code == 0, again.output
    assert {p.name for p in (tmp_path / "figs").glob("sensitivity*.png")} == {
        "sensitivity_sobol.png",
        "sensitivity_s2.png",
    }


def test_morris_ranks_factors_of_a_linear_model_by_their_weights(tmp_path, known):
    res, out = sensitivity(tmp_path, BASE.replace("sobol", "morris") + FACTORS + "samples: 20\nreplications: 1\n")
    assert res.exit_code == 0, res.output + res.stderr
    table = pd.read_csv(out / "sensitivity.csv").set_index(["metric", "factor"])
    # SALib's elementary effects are per unit of the factor's normalized range [0, 1]: moving
    # a factor over its whole range moves u by 2 pi, so |EE| of 2 u1 + u2 is 4 pi and 2 pi
    for name, weight in (("table_hours", 2.0), ("fire_cost", 1.0), ("tolerance", 0.0)):
        row = table.loc[("alignment", f"parameters.{name}")]
        assert row["mu_star"] == pytest.approx(weight * 2 * np.pi, rel=1e-9, abs=1e-9), name
        assert row["sigma"] == pytest.approx(0.0, abs=1e-9)


def test_a_factor_without_effect_gets_no_index_from_seed_noise(tmp_path):
    """Common random numbers: the real model, with a factor that cannot act (facilitation of
    conveners in a scenario without any), gets S1 = ST = 0 exactly, and is flagged as not
    distinguishable from seed noise; a factor that acts gets a positive index."""
    text = (
        BASE.replace("metrics: [outcome_improvement, alignment]", "metrics: [outcome_improvement, mean_trust]")
        + "samples: 8\nreplications: 2\nfactors:\n"
        "  - {path: issue_areas.0.conveners.facilitation, range: [0.1, 0.9]}\n"
        "  - {path: issue_areas.0.backbones.servant_leadership, range: [0.1, 0.9]}\n"
    )
    res, out = sensitivity(tmp_path, text)
    assert res.exit_code == 0, res.output + res.stderr
    table = pd.read_csv(out / "sensitivity.csv").set_index(["metric", "factor"])
    for metric in ("outcome_improvement", "mean_trust"):
        idle = table.loc[(metric, "issue_areas.0.conveners.facilitation")]
        assert idle["S1"] == 0.0 and idle["ST"] == 0.0, (metric, idle["S1"], idle["ST"])
        assert "seed noise" in idle["warnings"]
        share = idle["noise_share"]
        assert 0.0 <= share <= 1.0  # two replications: the noise share is estimated
    acting = table.loc[("mean_trust", "issue_areas.0.backbones.servant_leadership")]
    assert acting["ST"] > 0.5 and acting["ST"] - acting["ST_conf"] > acting["noise_share"]
    assert "seed noise" not in str(acting["warnings"])
    assert "issue_areas.0.conveners.facilitation: " in res.stderr and "seed noise" in res.stderr
    share = table.loc[("mean_trust", "issue_areas.0.conveners.facilitation"), "noise_share"]
    assert f"mean_trust (seed noise {share:.0%} of the variance)" in res.stdout


def test_noise_share_is_the_seed_variance_of_the_point_means():
    # 3 points x 4 replications: y = f(point) + e(replication), e the same at every point
    f, e = np.array([0.0, 1.0, 3.0]), np.array([-0.3, 0.1, 0.5, -0.3])
    runs = pd.DataFrame(
        {
            "point": np.repeat(np.arange(3), 4),
            "replication": np.tile(np.arange(4), 3),
            "status": "ok",
            "y": (f[:, None] + e[None, :]).ravel(),
        }
    )
    means = f + e.mean()
    expected = (np.var(e, ddof=1) / 4) / np.var(means, ddof=1)
    assert noise_share(runs, "y", means) == pytest.approx(expected, rel=1e-12)
    assert np.isnan(noise_share(runs[runs["replication"] == 0], "y", means))  # one replication: unknown


@pytest.mark.parametrize(
    ("factors", "samples", "expect"),
    [
        (2, 2, ["S1 = ", "< 0 is impossible", "> 1 is impossible", "interval"]),
        (1, 8, ["ST = ", "> 1 is impossible"]),  # a one-factor Sobol' analysis above 1
    ],
    ids=["two-factors-N2", "one-factor-N8"],
)
def test_impossible_indices_are_flagged_in_terminal_csv_and_figure(tmp_path, known, factors, samples, expect):
    text = BASE + "".join(FACTORS.splitlines(keepends=True)[: factors + 1]) + f"samples: {samples}\n"
    res, out = sensitivity(tmp_path, text)
    assert res.exit_code == 0, res.output + res.stderr  # warnings, not errors
    table = pd.read_csv(out / "sensitivity.csv")
    impossible = (table["S1"] < 0) | (table["ST"] > 1)
    assert impossible.any()
    flagged = table["warnings"].fillna("")
    assert (flagged[impossible] != "").all()
    for phrase in expect:
        assert flagged.str.contains(phrase, regex=False).any(), phrase
        assert phrase in res.stderr, phrase
    assert "warning:" in res.stderr
    svg = (out / "figures" / "sensitivity_sobol.svg").read_text()
    assert "(!)" in svg and "warnings column of sensitivity.csv" in svg


def test_an_interrupted_sweep_is_not_analysed(tmp_path, known):
    path = tmp_path / "e.yaml"
    path.write_text(BASE + "".join(FACTORS.splitlines(keepends=True)[:3]) + "samples: 8\nreplications: 2\n")
    folder = tmp_path / "sweep"
    run = CliRunner().invoke(main, ["sweep", str(path), "-w", "1", "-q", "--out", str(folder), "--flush-rows", "1"])
    assert run.exit_code == 0, run.output
    parts = sorted((folder / "runs").glob("part-*.parquet"))
    assert len(parts) == 64
    # as if killed before its last part: every point still has a replication, so the indices
    # could be computed, but from part of the design
    parts[-1].unlink()
    res = CliRunner().invoke(main, ["sensitivity", str(path), "--from", str(folder)])
    assert res.exit_code == EXIT_RUNS_FAILED == 3
    assert "63 of 64 runs recorded; finish with --resume" in res.stderr
    assert not (folder / "sensitivity.csv").exists()
    resumed = CliRunner().invoke(main, ["sweep", str(path), "-w", "1", "-q", "--out", str(folder), "--resume"])
    assert resumed.exit_code == 0, resumed.output
    res = CliRunner().invoke(main, ["sensitivity", str(path), "--from", str(folder)])
    assert res.exit_code == 0, res.stderr
    assert (folder / "sensitivity.csv").is_file()
