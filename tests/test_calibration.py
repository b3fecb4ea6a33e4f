"""Calibration (ABC-SMC with pyabc) and parameter uncertainty (``--posterior``).

- recovery on known truth: targets simulated by the model itself at known parameters; the 90%
  posterior interval must cover the truth and be at most half as wide as the prior's;
- the deterministic sampler reproduces by seed; an interrupted calibration resumes;
- the shipped posterior validates against the schema in every shipped scenario;
- ``--posterior`` runs reproduce by seed and are paired across strategies; a sweep factor
  overrides the draw of the same parameter and says so;
- the malformed-input table of calibration files and posteriors (exit 2, nothing written).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import ROOT, SCENARIOS, small_scenario

from ci_sim.cli import main
from ci_sim.experiments.calibration import load_calibration, run_calibration, simulate
from ci_sim.model.scenario import ScenarioError, load_scenario
from ci_sim.runs.posterior import Posterior, load_posterior, shipped_posteriors, with_values

pytest.importorskip("pyabc")

TRUTH = {"parameters.outcome_rate": 0.03, "parameters.population_effect": 0.12}
PRIORS = [
    {"path": "parameters.outcome_rate", "range": [0.005, 0.08]},
    {"path": "parameters.population_effect", "range": [0.02, 0.3]},
]


def _base(tmp_path):
    """A small one-backbone community (40 partners, three years) as a scenario file."""
    data = small_scenario(steps=36)
    data["issue_areas"][0]["backbones"]["count"] = 1
    path = tmp_path / "base.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _calibration(tmp_path, targets, **changes):
    spec = {
        "name": "recover",
        "scenarios": [{"base": str(_base(tmp_path)), "targets": targets}],
        "priors": PRIORS,
        "population": 60,
        "generations": 3,
        "seed": 11,
        "predictive": 10,
    }
    spec.update(changes)
    path = tmp_path / "cal.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _truth_targets(tmp_path):
    """Targets simulated at the known parameters (the mean of five runs), with a standard error each."""
    cal = load_calibration(
        _calibration(
            tmp_path,
            [
                {"name": "practice", "metric": "practice_changed", "month": 36, "value": 0.5, "sd": 1.0},
                {"name": "effect", "metric": "partnership_effect", "month": 36, "value": 0.5, "sd": 1.0},
            ],
        )
    )
    stats = [simulate(cal, TRUTH, 1000 + s) for s in range(5)]
    return [
        {
            "name": "practice",
            "metric": "practice_changed",
            "month": 36,
            "value": float(np.mean([s["practice"] for s in stats])),
            "sd": 0.01,
        },
        {
            "name": "effect",
            "metric": "partnership_effect",
            "month": 36,
            "value": float(np.mean([s["effect"] for s in stats])),
            "sd": 0.001,
        },
    ]


def test_recovers_known_parameters_and_learns(tmp_path):
    # five generations of 40 particles: the threshold falls to about one standard error
    cal = load_calibration(_calibration(tmp_path, _truth_targets(tmp_path), population=40, generations=5))
    result = run_calibration(cal, tmp_path / "out", deterministic=True, quiet=True)
    summary = result.summary.set_index("parameter")
    for path, truth in TRUTH.items():
        row = summary.loc[path]
        assert row.q05 <= truth <= row.q95, (path, truth, row.q05, row.q95)
        assert row.width_ratio <= 0.5, (path, row.width_ratio)  # a calibration that learns nothing fails
    assert result.simulations >= 5 * 40
    post = load_posterior(tmp_path / "out" / "posterior.parquet")
    assert post.params == list(TRUTH)
    assert post.samples["weight"].sum() == pytest.approx(1.0)
    man = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert man["simulations"] == result.simulations
    assert "deterministic" in man["reproducibility"]


def _tiny(tmp_path, **changes):
    targets = [{"name": "improving", "metric": "indicators_improving", "month": 24, "successes": 10, "trials": 14}]
    return _calibration(tmp_path, targets, **{"population": 15, "generations": 2, "predictive": 3, **changes})


def test_deterministic_sampler_reproduces_by_seed(tmp_path):
    path = _tiny(tmp_path)
    runner = CliRunner()
    for out in ("a", "b"):
        res = runner.invoke(main, ["calibrate", str(path), "--deterministic", "-q", "--out", str(tmp_path / out)])
        assert res.exit_code == 0, res.output
    a = pd.read_parquet(tmp_path / "a" / "posterior.parquet")
    b = pd.read_parquet(tmp_path / "b" / "posterior.parquet")
    pd.testing.assert_frame_equal(a, b)
    for name in ("marginals", "pairs", "predictive", "epsilons"):
        assert (tmp_path / "a" / "figures" / f"{name}.png").stat().st_size > 1000


def test_resume_continues_from_the_history_or_says_why_not(tmp_path):
    runner = CliRunner()
    one = _tiny(tmp_path, generations=1)
    out = tmp_path / "out"
    assert runner.invoke(main, ["calibrate", str(one), "--deterministic", "-q", "--out", str(out)]).exit_code == 0
    assert len(pd.read_csv(out / "generations.csv")) == 1
    # the same calibration asked for more generations goes on from the history
    two = _tiny(tmp_path, generations=3)
    res = runner.invoke(main, ["calibrate", str(two), "--deterministic", "-q", "--resume", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert len(pd.read_csv(out / "generations.csv")) == 3
    assert json.loads((out / "manifest.json").read_text())["resumed"] is True
    # another calibration's folder: refused with the reason
    other = _tiny(tmp_path, seed=99)
    res = runner.invoke(main, ["calibrate", str(other), "--resume", "--out", str(out)])
    assert res.exit_code == 2
    assert "fingerprint" in res.output and "another calibration" in res.output
    # nothing to resume
    res = runner.invoke(main, ["calibrate", str(one), "--resume", "--out", str(tmp_path / "none")])
    assert res.exit_code == 2 and "does not exist" in res.output


# --------------------------------------------------------------------------- posteriors


def _posterior_file(tmp_path, frame: pd.DataFrame, name="post.parquet"):
    path = tmp_path / name
    frame.to_parquet(path)
    return path


def _two_samples(tmp_path):
    frame = pd.DataFrame(
        {
            "parameters.population_effect": [0.05, 0.25],
            "issue_areas.*.population.trend.1": [0.002, 0.015],
            "weight": [0.5, 0.5],
        }
    )
    return _posterior_file(tmp_path, frame)


@pytest.mark.parametrize("name", shipped_posteriors())
def test_shipped_posterior_validates_in_every_shipped_scenario(name):
    post = load_posterior(name)
    assert post.params and np.isclose(post.samples["weight"].sum(), 1.0)
    extremes = [post.samples[post.params].min().to_dict(), post.samples[post.params].max().to_dict(), post.median()]
    for file in sorted(SCENARIOS.glob("*.yaml")):
        sc = load_scenario(file)
        for values in extremes:
            with_values(sc, values)  # raises ScenarioError if a value or path is refused


def test_draws_are_seeded_by_replication_alone_and_follow_the_weights(tmp_path):
    frame = pd.DataFrame({"parameters.population_effect": [0.05, 0.25], "weight": [0.2, 0.8]})
    post = load_posterior(_posterior_file(tmp_path, frame))
    draws = [post.draw(5, i)["parameters.population_effect"] for i in range(2000)]
    assert draws[:50] == [post.draw(5, i)["parameters.population_effect"] for i in range(50)]
    share = np.mean(np.isclose(draws, 0.25))
    assert abs(share - 0.8) < 3 * np.sqrt(0.8 * 0.2 / 2000)


def test_run_with_posterior_reproduces_by_seed(tmp_path):
    post = _two_samples(tmp_path)
    runner = CliRunner()
    outs = []
    for k in range(2):
        out = tmp_path / f"run{k}"
        args = ["run", "single_backbone", "-r", "3", "-t", "12", "-q", "--posterior", str(post), "--out", str(out)]
        assert runner.invoke(main, args).exit_code == 0
        outs.append(pd.read_csv(out / "summary.csv"))
    pd.testing.assert_frame_equal(*outs)
    assert set(outs[0]["parameters.population_effect"]) <= {0.05, 0.25}
    man = json.loads((tmp_path / "run0" / "manifest.json").read_text())
    assert man["posterior"]["parameters"] == ["parameters.population_effect", "issue_areas.*.population.trend.1"]


def test_compare_with_posterior_pairs_draws_and_seeds_across_strategies(tmp_path):
    post = _two_samples(tmp_path)
    out = tmp_path / "cmp"
    args = ["compare", "single_backbone", "nine_backbones", "-r", "6", "-t", "12", "-w", "1", "-q"]
    res = CliRunner().invoke(main, [*args, "--posterior", str(post), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "parameter uncertainty" in res.output
    s = pd.read_csv(out / "summary.csv")
    a = s[s.scenario == "single_backbone"].set_index("replication")
    b = s[s.scenario == "nine_backbones"].set_index("replication")
    cols = ["seed", "parameters.population_effect", "issue_areas.*.population.trend.1"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert a["parameters.population_effect"].nunique() == 2  # six draws of two samples: both appear
    # the draw really changes the run: the same seed with the other sample gives another effect
    sc = load_scenario(SCENARIOS / "single_backbone.yaml", ["steps=12"])
    assert with_values(sc, {"parameters.population_effect": 0.05}).parameters.population_effect == 0.05


def test_sweep_factor_overrides_the_posterior_draw_and_says_so(tmp_path):
    post = _two_samples(tmp_path)
    exp = tmp_path / "exp.yaml"
    exp.write_text(
        yaml.safe_dump(
            {
                "name": "sw",
                "base": "single_backbone",
                "set": {"steps": 6, "community.partners": 30},
                "factors": [{"path": "parameters.population_effect", "levels": [0.1, 0.2]}],
                "replications": 2,
                "metrics": ["alignment"],
            }
        )
    )
    out = tmp_path / "sw"
    res = CliRunner().invoke(main, ["sweep", str(exp), "-w", "1", "-q", "--posterior", str(post), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "parameters.population_effect" in res.output and "not the posterior's draw" in res.output
    from ci_sim.experiments.sweep import read_runs

    runs = read_runs(out)
    assert set(runs["parameters.population_effect"]) == {0.1, 0.2}  # the factor's values ran
    trend = runs.pivot(index="replication", columns="point", values="issue_areas.*.population.trend.1")
    assert (trend[0] == trend[1]).all()  # the same draw at every point of a replication (paired)
    man = json.loads((out / "manifest.json").read_text())
    assert man["posterior_overridden_by_factors"] == ["parameters.population_effect"]


# --------------------------------------------------------------------------- bad input


def _bad_cal(tmp_path, mutate):
    spec = {
        "name": "bad",
        "scenarios": [
            {
                "base": "single_backbone",
                "set": {"steps": 60},
                "targets": [
                    {"name": "y4", "metric": "indicators_improving", "month": 48, "successes": 34, "trials": 53}
                ],
            }
        ],
        "priors": [{"path": "parameters.population_effect", "range": [0.02, 0.3]}],
    }
    mutate(spec)
    path = tmp_path / "bad_cal.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _target(spec):
    return spec["scenarios"][0]["targets"][0]


BAD_CALIBRATIONS = {
    "unknown target metric": (
        lambda s: _target(s).update(metric="indicator_improving"),
        "scenarios.0.targets.0.metric",
        "indicator_improving",
        "one of",
    ),
    "inverted prior range": (
        lambda s: s["priors"][0].update(range=[0.3, 0.02]),
        "priors.0.range",
        "0.3",
        "low < high",
    ),
    "prior outside the schema's bounds": (
        lambda s: s["priors"][0].update(range=[0.5, 1.5]),
        "priors.0.range",
        "1.5",
        "a value the scenario accepts",
    ),
    "prior on an unknown parameter": (
        lambda s: s["priors"][0].update(path="parameters.no_such"),
        "priors.0.range",
        "parameters.no_such",
        "known keys here",
    ),
    "share target outside [0, 1]": (
        lambda s: s["scenarios"][0]["targets"].__setitem__(
            0, {"name": "y4", "metric": "indicators_improving", "month": 48, "value": 1.2, "sd": 0.05}
        ),
        "scenarios.0.targets.0.value",
        "1.2",
        "a share in [0, 1]",
    ),
    "successes greater than trials": (
        lambda s: _target(s).update(successes=60),
        "scenarios.0.targets.0.successes",
        "60",
        "at most trials (53)",
    ),
    "target month beyond the horizon": (
        lambda s: _target(s).update(month=72),
        "scenarios.0.targets.0.month",
        "72",
        "within the scenario's horizon",
    ),
    "base scenario that fails validation": (
        lambda s: s["scenarios"][0]["set"].update({"community.partners": -3}),
        "scenarios.0 (base scenario single_backbone: community.partners)",
        "-3",
        "a valid scenario",
    ),
    "unknown base": (
        lambda s: s["scenarios"][0].update(base="no_such_scenario"),
        "base",
        "no_such_scenario",
        "shipped scenario name",
    ),
    "share and level at once": (
        lambda s: _target(s).update(value=0.6, sd=0.1),
        "scenarios.0.targets.0",
        "y4",
        "either successes and trials",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CALIBRATIONS))
def test_bad_calibration_exits_2_names_file_path_value_and_writes_nothing(case, tmp_path):
    mutate, key, value, allowed = BAD_CALIBRATIONS[case]
    path = _bad_cal(tmp_path, mutate)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["calibrate", str(path), "--out", str(out)])
    assert res.exit_code == 2, res.output
    message = res.output
    assert str(path) in message, message
    assert key in message, message
    assert value in message, message
    assert allowed in message, message
    assert not out.exists()


BAD_POSTERIORS = {
    "unknown name": (None, "no_such_posterior", "a shipped posterior name"),
    "no weight column": (pd.DataFrame({"parameters.population_effect": [0.1]}), "weight", "a weight column"),
    "negative weight": (
        pd.DataFrame({"parameters.population_effect": [0.1, 0.2], "weight": [1.0, -0.5]}),
        "weight",
        "non-negative weights",
    ),
    "non-finite value": (
        pd.DataFrame({"parameters.population_effect": [0.1, np.nan], "weight": [1.0, 1.0]}),
        "parameters.population_effect (row 1)",
        "a finite number",
    ),
    "path the scenario lacks": (
        pd.DataFrame({"parameters.no_such": [0.1], "weight": [1.0]}),
        "parameters.no_such",
        "known keys here",
    ),
    "value the schema refuses": (
        pd.DataFrame({"parameters.population_effect": [1.5], "weight": [1.0]}),
        "parameters.population_effect",
        "less than or equal to 1",
    ),
}


@pytest.mark.parametrize("case", list(BAD_POSTERIORS))
def test_bad_posterior_exits_2_and_writes_nothing(case, tmp_path):
    frame, key, allowed = BAD_POSTERIORS[case]
    spec = "no_such_posterior" if frame is None else str(_posterior_file(tmp_path, frame))
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main, ["run", "single_backbone", "-r", "2", "-t", "3", "--posterior", spec, "-o", str(out)]
    )
    assert res.exit_code == 2, res.output
    assert key in res.output and allowed in res.output, res.output
    assert not out.exists()


def test_not_a_parquet_file_is_refused(tmp_path):
    bad = tmp_path / "post.parquet"
    bad.write_text("not parquet")
    with pytest.raises(ScenarioError, match="a Parquet file written by ci-sim calibrate"):
        load_posterior(bad)


def test_shipped_calibration_file_loads_and_names_the_strive_counts():
    cal = load_calibration(ROOT / "experiments" / "calibrate_strive.yaml")
    assert cal.observed() == {"improving_year4": 34 / 53, "improving_year5": 40 / 53}
    assert len(cal.spec.priors) >= 2
    assert isinstance(Posterior, type)
