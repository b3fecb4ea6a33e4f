"""Experiment files (validation, designs, --set), sensitivity analysis and the EMA adapter."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import ROOT

from ci_sim.cli import main
from ci_sim.experiments.experiment import load_experiment
from ci_sim.model.scenario import ScenarioError
from ci_sim.runs.runner import replication_seed, run_scenario

BASE = """
name: exp
base: single_backbone
set: {steps: 12, community.partners: 30}
replications: 1
metrics: [outcome_improvement, alignment]
"""

TOL = "factors: [{path: parameters.tolerance, levels: [0.1]}]"
BAD = {
    "unknown factor path": ("design: grid\nfactors: [{path: community.partnrs, levels: [10, 20]}]", "factors.0.path"),
    "empty range": ("design: lhs\nfactors: [{path: parameters.tolerance, range: [0.3, 0.3]}]", "factors.0.range"),
    "inverted range": ("design: lhs\nfactors: [{path: parameters.tolerance, range: [0.5, 0.1]}]", "factors.0.range"),
    "empty levels": ("design: grid\nfactors: [{path: parameters.tolerance, levels: []}]", "factors.0.levels"),
    "unknown design": ("design: taguchi\nfactors: [{path: parameters.tolerance, range: [0.1, 0.5]}]", "design"),
    "zero replications": (f"design: grid\n{TOL}\nreplications: 0", "replications"),
    "non-numeric factor for sobol": (
        "design: sobol\nsamples: 8\nfactors: [{path: issue_areas.0.backbones.coordination, levels: [none, joint]}]",
        "factors.0.levels",
    ),
    "sobol samples not a power of 2": (
        "design: sobol\nsamples: 12\nfactors: [{path: parameters.tolerance, range: [0.1, 0.5]}]",
        "samples",
    ),
    "level the scenario refuses": (
        "design: grid\nfactors: [{path: issue_areas.0.backbones.neutrality, levels: [0.5, 1.5]}]",
        "factors.0 (issue_areas.0.backbones.neutrality=1.5)",
    ),
    "grid over a range without num": (
        "design: grid\nfactors: [{path: parameters.tolerance, range: [0.1, 0.5]}]",
        "factors.0.num",
    ),
    "unknown metric": (f"design: grid\n{TOL}\nmetrics: [happiness]", "metrics.0"),
    "unknown base": (f"design: grid\n{TOL}\nbase: atlantis", "base"),
    "unknown key": (f"design: grid\n{TOL}\nreplicatons: 3", "replicatons"),
    "one level for a sampler": (
        "design: lhs\nfactors: [{path: parameters.tolerance, levels: [0.3]}]",
        "factors.0.levels",
    ),
    "repeated grid level": (
        "design: grid\nfactors: [{path: parameters.tolerance, levels: [0.3, 0.3]}]",
        "factors.0.levels",
    ),
    "num beside levels": (
        "design: grid\nfactors: [{path: parameters.tolerance, levels: [0.3], num: 3}]",
        "factors.0.num",
    ),
    "num for a sampler": (
        "design: lhs\nfactors: [{path: parameters.tolerance, range: [0.1, 0.5], num: 3}]",
        "factors.0.num",
    ),
    "integer factor over a fractional range": (
        "design: lhs\nfactors: [{path: parameters.tolerance, range: [0.1, 0.5], integer: true}]",
        "factors.0.range",
    ),
    "more grid points than integers": (
        "design: grid\nfactors: [{path: issue_areas.0.backbones.count, range: [1, 3], num: 5}]",
        "factors.0.num",
    ),
    "odd morris levels": (
        "design: morris\nlevels: 3\nfactors: [{path: parameters.tolerance, range: [0.1, 0.5]}]",
        "levels",
    ),
    "second order without sobol": (
        f"design: lhs\nsecond_order: true\n{TOL.replace('levels: [0.1]', 'range: [0.1, 0.5]')}",
        "second_order",
    ),
    "the scenario seed as a factor": ("design: grid\nfactors: [{path: seed, levels: [1, 2]}]", "factors.0.path"),
    "same factor twice": (
        "design: grid\nfactors: [{path: parameters.tolerance, levels: [0.1]}, {path: parameters.tolerance, levels: [0.2]}]",
        "factors.1.path",
    ),
}


def _bad_text(case: str) -> str:
    extra, _ = BAD[case]
    text = BASE
    for line in extra.splitlines():  # the case's keys replace the base's
        key = line.split(":", 1)[0]
        text = "\n".join(t for t in text.splitlines() if not t.startswith(key + ":"))
    return text + "\n" + extra + "\n"


@pytest.mark.parametrize("case", list(BAD))
@pytest.mark.parametrize("command", ["sweep", "sensitivity"])
def test_bad_experiment_exits_2_naming_the_key_and_writes_nothing(tmp_path, case, command):
    path = tmp_path / "bad.yaml"
    path.write_text(_bad_text(case))
    out = tmp_path / "out"
    res = CliRunner().invoke(main, [command, str(path), "-w", "1", "-q", "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert BAD[case][1] in res.output and "bad.yaml" in res.output and res.output.startswith("error:")
    assert "Traceback" not in res.output
    assert not out.exists()


def test_sensitivity_refuses_a_grid_before_running(tmp_path):
    path = tmp_path / "grid.yaml"
    path.write_text(BASE + "design: grid\n" + TOL + "\n")
    res = CliRunner().invoke(main, ["sensitivity", str(path), "-q", "--out", str(tmp_path / "out")])
    assert res.exit_code == 2 and "design" in res.output and "sobol or morris" in res.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["backbones_sweep", "sobol_main", "sobol_indicators"])
def test_shipped_experiments_are_valid(name):
    exp = load_experiment(ROOT / "experiments" / f"{name}.yaml")
    assert exp.n_runs >= 100
    if name == "backbones_sweep":
        assert sorted(exp.points["issue_areas.0.backbones.count"].unique()) == list(range(1, 10))
    if name == "sobol_main":
        assert len(exp.spec.factors) >= 8 and len(exp.points) == 256 * (len(exp.spec.factors) + 2)
        assert pd.api.types.is_integer_dtype(exp.points["issue_areas.0.backbones.count"])
    if name == "sobol_indicators":  # list elements as factors: the trend range's two ends, never crossed
        low, high = exp.points["issue_areas.0.population.trend.0"], exp.points["issue_areas.0.population.trend.1"]
        assert (low < high).all() and low.nunique() > 1000 and high.nunique() > 1000
        assert exp.base["issue_areas"][0]["population"]["indicators"] == [8, 8, 8, 8, 7, 7, 7]  # 53, as Strive
        assert pd.api.types.is_integer_dtype(exp.points["issue_areas.0.population.cohort"])


def test_designs_are_seeded_cover_the_ranges_and_round_integers_fairly(tmp_path):
    text = BASE + (
        "design: lhs\nsamples: 900\nfactors:\n  - {path: parameters.tolerance, range: [0.1, 0.5]}\n"
        "  - {path: issue_areas.0.backbones.count, range: [1, 9]}\n"
    )
    (tmp_path / "a.yaml").write_text(text)
    a, b = load_experiment(tmp_path / "a.yaml"), load_experiment(tmp_path / "a.yaml")
    pd.testing.assert_frame_equal(a.points, b.points)
    tol = a.points["parameters.tolerance"]
    assert len(a.points) == 900 and tol.between(0.1, 0.5).all() and tol.nunique() == 900
    counts = a.points["issue_areas.0.backbones.count"].value_counts()
    assert sorted(counts.index) == list(range(1, 10))
    assert counts.min() >= 95 and counts.max() <= 105  # every integer about 1/9 of the points
    (tmp_path / "c.yaml").write_text(text.replace("seed", "x").replace("samples: 900", "samples: 900\nseed: 9"))
    assert not load_experiment(tmp_path / "c.yaml").points.equals(a.points)


def test_grid_is_the_full_factorial_and_seeds_depend_only_on_the_replication(tmp_path):
    text = BASE.replace("replications: 1", "replications: 2") + (
        "design: grid\nfactors:\n  - {path: issue_areas.0.backbones.count, levels: [1, 3]}\n"
        "  - {path: issue_areas.0.backbones.coordination, levels: [none, joint, shared_data]}\n"
    )
    (tmp_path / "g.yaml").write_text(text)
    exp = load_experiment(tmp_path / "g.yaml")
    assert len(exp.points) == 6 and exp.n_runs == 12
    assert set(map(tuple, exp.points.to_numpy().tolist())) == {
        (c, k) for c in (1, 3) for k in ("none", "joint", "shared_data")
    }
    tasks = list(exp.tasks())
    assert [t.run_id for t in tasks] == list(range(12))
    # common random numbers: one seed per replication, shared by every point, the seed
    # `ci-sim run` gives that replication
    assert {t.seed for t in tasks if t.replication == 0} == {replication_seed(exp.spec.seed, 0)}
    assert {t.seed for t in tasks if t.replication == 1} == {replication_seed(exp.spec.seed, 1)}
    skipped = {t.run_id: t.seed for t in exp.tasks(skip={0, 5, 7})}
    assert set(skipped) == set(range(12)) - {0, 5, 7}
    assert all(skipped[t.run_id] == t.seed for t in tasks if t.run_id in skipped)


def test_integers_are_rounded_only_where_the_scenario_takes_integers(tmp_path):
    # neither value is in the base file: their types come from the schema defaults
    path = tmp_path / "i.yaml"
    path.write_text(
        BASE + "design: grid\nfactors:\n  - {path: parameters.table_hours, range: [1.0, 8.0], num: 3}\n"
        "  - {path: community.network.degree, range: [2, 10], num: 3}\n"
    )
    points = load_experiment(path).points
    assert sorted(points["parameters.table_hours"].unique()) == [1.0, 4.5, 8.0]
    assert pd.api.types.is_integer_dtype(points["community.network.degree"])
    assert sorted(points["community.network.degree"].unique()) == [2, 6, 10]


def test_set_overrides_the_experiment_or_its_base(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text(BASE + "design: lhs\nsamples: 10\nfactors: [{path: parameters.tolerance, range: [0.1, 0.5]}]\n")
    exp = load_experiment(path, ["samples=4", "steps=7", "community.partners=20", "replications=3"])
    assert len(exp.points) == 4 and exp.spec.replications == 3
    assert exp.base["steps"] == 7 and exp.base["community"]["partners"] == 20
    assert exp.fingerprint() != load_experiment(path).fingerprint()
    with pytest.raises(ScenarioError, match="set.community.partnrs"):
        load_experiment(path, ["community.partnrs=20"])


SENSITIVITY = BASE + (
    "factors:\n  - {path: parameters.table_hours, range: [0.0, 8.0]}\n"
    "  - {path: parameters.fire_cost, range: [0.0, 0.5]}\n"
    "  - {path: issue_areas.0.backbones.count, range: [1, 5]}\n"
)
FACTORS = {"parameters.table_hours", "parameters.fire_cost", "issue_areas.0.backbones.count"}


@pytest.mark.parametrize("design", ["morris", "sobol"])
def test_sensitivity_writes_indices_and_a_figure(tmp_path, design):
    path = tmp_path / "s.yaml"
    path.write_text(SENSITIVITY + f"design: {design}\nsamples: {6 if design == 'morris' else 8}\n")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["sensitivity", str(path), "-w", "1", "-q", "--out", str(out)])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out / "sensitivity.csv")
    expected = ["S1", "S1_conf", "ST", "ST_conf"] if design == "sobol" else ["mu_star", "mu_star_conf", "sigma"]
    assert list(table.columns) == ["method", "metric", "factor", *expected, "noise_share", "warnings"]
    assert (table["method"] == design).all() and set(table["factor"]) == FACTORS
    assert set(table["metric"]) == {"outcome_improvement", "alignment"}
    value = "mu_star" if design == "morris" else "ST"
    assert table[value].notna().all() and (table[value].abs() > 0).any()
    assert list((out / "figures").glob("sensitivity*.png")) and list((out / "figures").glob("sensitivity*.svg"))


def test_sensitivity_reuses_a_finished_sweep_and_checks_it_is_the_same_experiment(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SENSITIVITY + "design: morris\nsamples: 4\n")
    sweep_dir = tmp_path / "sweep"
    assert CliRunner().invoke(main, ["sweep", str(path), "-q", "-w", "1", "--out", str(sweep_dir)]).exit_code == 0
    parts = sorted((sweep_dir / "runs").iterdir())
    res = CliRunner().invoke(main, ["sensitivity", str(path), "--from", str(sweep_dir)])
    assert res.exit_code == 0, res.output
    assert sorted((sweep_dir / "runs").iterdir()) == parts  # nothing ran again
    first = pd.read_csv(sweep_dir / "sensitivity.csv")
    again = CliRunner().invoke(main, ["sensitivity", str(path), "--from", str(sweep_dir), "--out", str(tmp_path / "b")])
    assert again.exit_code == 0
    pd.testing.assert_frame_equal(first, pd.read_csv(tmp_path / "b" / "sensitivity.csv"))  # seeded
    other = CliRunner().invoke(main, ["sensitivity", str(path), "--from", str(sweep_dir), "--set", "samples=5"])
    assert other.exit_code == 2 and "fingerprint" in other.output
    meta = json.loads((sweep_dir / "experiment.json").read_text())
    assert meta["spec"]["design"] == "morris" and meta["n_points"] == 4 * 4


def test_sensitivity_with_points_that_never_ran_exits_3_and_says_so(tmp_path):
    # each value is valid alone, but a merge at or after the horizon is refused when a run starts
    path = tmp_path / "f.yaml"
    path.write_text(
        "name: f\nbase: consolidation\nset: {community.partners: 30, steps: 30, events.0.at: 12}\ndesign: morris\n"
        "samples: 8\nmetrics: [outcome_improvement]\nfactors:\n  - {path: steps, range: [13, 30]}\n"
        "  - {path: events.0.at, range: [1, 24]}\n"
    )
    res = CliRunner().invoke(main, ["sensitivity", str(path), "-w", "1", "-q", "--out", str(tmp_path / "out")])
    assert res.exit_code == 3, res.output
    assert "design points have no successful run" in res.output and "--resume" in res.output
    assert not (tmp_path / "out" / "sensitivity.csv").exists()


def _at_path(scenario, path: str):
    """The value at a dotted key path of a validated scenario (list indices as numbers)."""
    node = scenario
    for part in path.split("."):
        node = node[int(part)] if part.isdigit() else getattr(node, part)
    return node


@pytest.mark.filterwarnings("ignore:ipyparallel not installed")
def test_ema_values_reach_the_scenario_and_match_ci_sim_run(tmp_path, monkeypatch):
    from ema_workbench import perform_experiments

    import ci_sim.experiments.ema as ema
    from ci_sim.experiments.ema import LEVERS, UNCERTAINTIES, build_model

    seen = []  # (scenario, seed) of every run EMA makes, in order

    def recording(scenario, seed, **kwargs):
        seen.append((scenario, seed))
        return run_scenario(scenario, seed, **kwargs)

    monkeypatch.setattr(ema, "run_scenario", recording)
    model = build_model(steps=6, replications=2, seed=3)
    assert {u.name for u in model.uncertainties} == set(UNCERTAINTIES)
    assert {lever.name for lever in model.levers} == set(LEVERS)
    experiments, outcomes = perform_experiments(model, scenarios=3, policies=2)
    assert len(experiments) == 6 and len(seen) == 6 * 2
    paths = {name: spec[0] for name, spec in {**UNCERTAINTIES, **LEVERS}.items()}
    for i, row in experiments.iterrows():
        runs = seen[2 * i : 2 * i + 2]
        assert [seed for _, seed in runs] == [replication_seed(3, r) for r in range(2)]
        for scenario, _ in runs:  # every sampled value is the value the run used
            for name, path in paths.items():
                want = row[name]
                want = want.item() if isinstance(want, np.generic) else want
                assert _at_path(scenario, path) == want, (i, name, _at_path(scenario, path), want)
    # the values varied, so the check above could see a value ignored
    for name in paths:
        assert experiments[name].nunique() > 1, name
    # the same values and seed through `ci-sim run --set`: the same numbers
    for i in (0, 5):
        row = experiments.iloc[i]
        sets = []
        for name, path in paths.items():
            value = row[name].item() if isinstance(row[name], np.generic) else row[name]
            text = str(value).lower() if isinstance(value, bool) else repr(value) if isinstance(value, float) else value
            sets += ["--set", f"{path}={text}"]
        out = tmp_path / f"run{i}"
        res = CliRunner().invoke(
            main, ["run", "nine_backbones", "-r", "2", "-t", "6", "-s", "3", "-q", "--out", str(out), *sets]
        )
        assert res.exit_code == 0, res.output
        summary = pd.read_csv(out / "summary.csv")
        for metric in outcomes:
            assert outcomes[metric][i] == pytest.approx(summary[metric].mean(), rel=1e-12, abs=1e-12), metric


@pytest.mark.parametrize("literal", ["1", "0", "1.0"])
def test_integer_comes_from_the_schema_type_not_the_yaml_literal(tmp_path, literal):
    # servant_leadership is a float field: a base that writes it as `1` must not round it to 0 and 1
    path = tmp_path / "f.yaml"
    base = BASE.replace(
        "set: {steps: 12, community.partners: 30}",
        f"set: {{steps: 12, community.partners: 30, issue_areas.0.backbones.servant_leadership: {literal}, "
        "events: [{at: 5, funder_shift: {backbone_pool: 100}}]}",
    )
    path.write_text(
        base + "design: lhs\nsamples: 20\nfactors:\n"
        "  - {path: issue_areas.0.backbones.servant_leadership, range: [0, 1]}\n"
        "  - {path: issue_areas.0.backbones.count, range: [1, 3]}\n"
        "  - {path: events.0.at, range: [1, 10]}\n"
        "  - {path: events.0.funder_shift.backbone_pool, range: [0, 1000]}\n"
    )
    points = load_experiment(path).points
    servant = points["issue_areas.0.backbones.servant_leadership"]
    assert pd.api.types.is_float_dtype(servant) and servant.nunique() == 20 and servant.between(0, 1).all()
    assert pd.api.types.is_integer_dtype(points["issue_areas.0.backbones.count"])
    assert pd.api.types.is_integer_dtype(points["events.0.at"])  # `at: int` in the event's schema
    assert pd.api.types.is_float_dtype(points["events.0.funder_shift.backbone_pool"])  # written 100, typed float


def test_a_sweep_run_is_the_ci_sim_run_replication_with_the_points_values(tmp_path):
    from ci_sim.experiments.evaluators import SerialEvaluator
    from ci_sim.experiments.sweep import read_runs, run_sweep
    from ci_sim.model.scenario import apply_overrides, validate_scenario

    path = tmp_path / "g.yaml"
    path.write_text(
        BASE.replace("replications: 1", "replications: 2")
        + "design: grid\nfactors: [{path: issue_areas.0.backbones.count, levels: [1, 3]}]\n"
    )
    exp = load_experiment(path)
    run_sweep(exp, tmp_path / "out", SerialEvaluator(), progress=False)
    runs = read_runs(tmp_path / "out")
    for row in runs.itertuples():
        scenario = validate_scenario(apply_overrides(exp.base, exp.overrides(row.point)))
        final = run_scenario(scenario, replication_seed(exp.spec.seed, row.replication)).final
        assert row.outcome_improvement == final["outcome_improvement"] and row.alignment == final["alignment"]
