"""The hardening issue's failure kinds, each pinned by a test: horizons that drop events,
unlike comparisons, precise-looking statistics, validation after assignment, names used as
paths, output checked before the work, interrupts, validate/scenarios, help and README."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import ROOT, small_scenario
from pydantic import ValidationError

from ci_sim.cli import main
from ci_sim.experiments.experiment import load_experiment
from ci_sim.model.scenario import ScenarioError, load_scenario, validate_scenario

TINY = {
    "name": "tiny",
    "steps": 12,
    "replications": 2,
    "seed": 3,
    "community": {"partners": 20},
    "issue_areas": [{"name": "education", "backbones": {"count": 3}}],
    "events": [{"at": 8, "merge_backbones": {"keep": 1}}],
}


def _write(path, **changes):
    path.write_text(yaml.safe_dump({**TINY, **changes}))
    return path


# ------------------------------------------------------------------ 1. a horizon that drops events


@pytest.mark.parametrize("command", ["run", "compare"])
def test_horizon_before_an_event_is_refused_naming_it(command, tmp_path):
    sc = _write(tmp_path / "tiny.yaml")
    args = [command, str(sc)] + ([str(sc)] if command == "compare" else [])
    res = CliRunner().invoke(main, [*args, "-q", "-r", "2", "-t", "4", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert "--steps 4" in res.output and "merge_backbones at month 8" in res.output
    assert "--allow-dropped-events" in res.output
    assert not (tmp_path / "o").exists()


def test_allowed_dropped_events_are_said_and_recorded(tmp_path):
    sc = _write(tmp_path / "tiny.yaml")
    out = tmp_path / "o"
    res = CliRunner().invoke(main, ["run", str(sc), "-r", "1", "-t", "4", "--allow-dropped-events", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "dropped" in res.output and "merge_backbones at month 8" in res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["steps"] == 4 and manifest["scenario"]["dropped_events"][0]["at"] == 8


def test_sweep_horizon_before_an_event_is_refused(tmp_path):
    _write(tmp_path / "tiny.yaml")
    (tmp_path / "exp.yaml").write_text(
        "name: e\nbase: tiny.yaml\nfactors: [{path: issue_areas.0.backbones.neutrality, levels: [0.2, 0.8]}]\n"
    )
    res = CliRunner().invoke(main, ["sweep", str(tmp_path / "exp.yaml"), "--set", "steps=4", "-q"])
    assert res.exit_code == 2 and "would never happen" in res.output, res.output
    from ci_sim.experiments.experiment import load_experiment

    exp = load_experiment(tmp_path / "exp.yaml", ["steps=4"], drop_late_events=True)
    assert exp.base["events"] == [] and exp.drop_late_events


# ------------------------------------------------------------------ 2. comparing unlike things


def test_compare_refuses_different_horizons(tmp_path):
    a, b = _write(tmp_path / "a.yaml", name="a"), _write(tmp_path / "b.yaml", name="b", steps=10)
    res = CliRunner().invoke(main, ["compare", str(a), str(b), "-q", "-r", "2", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert "steps" in res.output and "'a': 12, 'b': 10" in res.output and "--steps" in res.output
    assert not (tmp_path / "o").exists()


def test_compare_states_a_different_community(tmp_path):
    a = _write(tmp_path / "a.yaml", name="a", events=[])
    b = _write(tmp_path / "b.yaml", name="b", events=[], community={"partners": 30})
    out = tmp_path / "o"
    res = CliRunner().invoke(
        main, ["compare", str(a), str(b), "-q", "-r", "2", "-t", "3", "-w", "1", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert res.output.startswith("NOTE: the scenarios differ")
    assert "community.partners: b has 30, a has 20" in res.output
    table = pd.read_csv(out / "compare.csv")
    assert table.loc[table.scenario == "b", "statement"].str.contains("community.partners").all()
    assert json.loads((out / "manifest.json").read_text())["differences_from_baseline"]


# ------------------------------------------------------------------ 7. statistics that look precise


NEEDS_TWO = "n/a (needs ≥ 2 replications)"


def test_one_replication_has_no_interval(tmp_path):
    sc = _write(tmp_path / "tiny.yaml", events=[])
    res = CliRunner().invoke(main, ["run", str(sc), "-r", "1", "-t", "2", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert NEEDS_TWO in res.output and "95% CI [" not in res.output


def _summary(values_a, values_b, metric="alignment"):
    rows = [{"scenario": "a", "replication": i, metric: v} for i, v in enumerate(values_a)]
    rows += [{"scenario": "b", "replication": i, metric: v} for i, v in enumerate(values_b)]
    return pd.DataFrame(rows)


def test_intervals_of_shares_stay_within_0_and_1():
    from ci_sim.experiments.compare import bootstrap_paired, compare_table, format_table  # noqa: F401

    table = compare_table(_summary([0.99, 0.6], [0.02, 0.3]), ["alignment"])
    assert (table["ci_low"] >= 0).all() and (table["ci_high"] <= 1).all()


def test_effect_size_over_a_rounding_spread_is_na():
    from ci_sim.experiments.compare import bootstrap_paired, compare_table, format_table  # noqa: F401

    a = np.full(5, 0.5) + np.arange(5) * 1e-12
    b = np.full(5, 0.4) + np.arange(5)[::-1] * 1e-12
    s = bootstrap_paired(a, b, np.random.default_rng(0))
    assert np.isnan(s["effect_size"]) and np.isnan(s["effect_size_dz"])
    table = compare_table(_summary(a, b), ["alignment"])
    text = format_table(table, ["alignment"])
    assert re.search(r"\bn/a\s*$", text.splitlines()[3]), text


def test_one_pair_gives_no_interval_or_effect_size():
    from ci_sim.experiments.compare import bootstrap_paired, compare_table, format_table  # noqa: F401

    table = compare_table(_summary([0.5], [0.4]), ["alignment"])
    b = table[table.scenario == "b"].iloc[0]
    assert np.isnan(b["ci_low"]) and np.isnan(b["diff_ci_low"]) and np.isnan(b["effect_size"])
    assert NEEDS_TWO in b["statement"]
    assert NEEDS_TWO in format_table(table, ["alignment"])


def test_compare_figure_draws_without_intervals(tmp_path):
    from ci_sim.experiments.compare import bootstrap_paired, compare_table, format_table  # noqa: F401
    from ci_sim.viz.plots import plot_compare_table

    table = compare_table(_summary([0.5], [0.4]), ["alignment"])
    assert plot_compare_table(table, tmp_path)


# ------------------------------------------------------------------ 8. changes after validation


def test_assignment_is_validated():
    sc = validate_scenario(small_scenario())
    with pytest.raises(ValidationError):
        sc.issue_areas[0].backbones.neutrality = 7.0
    with pytest.raises(ValidationError):
        sc.community.partners = 2.5
    with pytest.raises(ValidationError):
        sc.parameters.table_hours = float("inf")
    sc.steps = 60  # a valid change is still allowed...
    assert sc.steps == 60
    ev = validate_scenario(small_scenario(events=[{"at": 12, "merge_backbones": {"keep": 1}}]))
    with pytest.raises(ValidationError):  # ...and checked against the rest of the scenario
        ev.steps = 6


# ------------------------------------------------------------------ 14. names used as paths


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/abs_ci_sim", "Nine backbones: what if?", "n" * 256])
def test_names_make_safe_folders_inside_results(name, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    sc = _write(work / "s.yaml", name=name, events=[])
    res = CliRunner().invoke(main, ["run", "s.yaml", "-q", "-r", "1", "-t", "1"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]  # nothing outside
    assert sorted(p.name for p in work.iterdir()) == ["results", "s.yaml"]
    (folder,) = (work / "results").iterdir()
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,100}", folder.name) and not folder.name.startswith(".")
    assert sc.exists()


# ------------------------------------------------------------------ 15. output checked before the work


@pytest.mark.parametrize(
    "args",
    [
        ["run", "single_backbone", "-r", "1"],
        ["compare", "single_backbone", "nine_backbones", "-r", "2"],
        ["sweep", str(ROOT / "experiments" / "backbones_sweep.yaml")],
        ["demo", "-r", "2"],
        ["plot", str(ROOT / "scenarios")],
    ],
)
def test_output_inside_a_file_is_refused_before_any_work(args, tmp_path):
    blocker = tmp_path / "README.md"
    blocker.write_text("a file")
    res = CliRunner().invoke(main, [*args, "--out", str(blocker / "x")])
    assert res.exit_code == 2, res.output
    assert "README.md is a file" in res.output and "Traceback" not in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]


def test_read_only_output_is_refused(tmp_path, monkeypatch):
    import ci_sim.runs.results as results

    ro = tmp_path / "ro"
    ro.mkdir()
    # root may write anywhere, so the read-only folder is simulated where the check asks
    monkeypatch.setattr(results.os, "access", lambda path, mode: os.path.abspath(path) != str(ro))
    for args in (["run", "single_backbone", "-r", "1"], ["compare", "single_backbone", "nine_backbones", "-r", "2"]):
        res = CliRunner().invoke(main, [*args, "--out", str(ro / "x")])
        assert res.exit_code == 2 and "read-only" in res.output, res.output


# ------------------------------------------------------------------ 17. sweep: folder first, Ctrl-C


def test_sweep_names_its_folder_first_and_ctrl_c_says_how_to_resume(tmp_path):
    (tmp_path / "exp.yaml").write_text(
        f"name: slow\nbase: {ROOT / 'scenarios' / 'single_backbone.yaml'}\nset: {{steps: 120}}\n"
        "factors: [{path: issue_areas.0.backbones.neutrality, range: [0.1, 0.9], num: 50}]\nreplications: 20\n"
    )
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ci_sim.cli", "sweep", str(tmp_path / "exp.yaml"), "-w", "1", "-q", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    first = proc.stderr.readline()  # printed before any run
    assert f"results go to {out}" in first, first
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read()
    assert proc.wait(timeout=120) == 130, rest
    assert "Aborted!" not in rest
    assert f"ci-sim sweep {tmp_path / 'exp.yaml'} --workers 1 --resume --out {out}" in rest, rest


# ------------------------------------------------------------------ 18, 19. validate and scenarios


def test_validate_checks_experiment_and_strategies_files(tmp_path):
    good = [ROOT / "experiments" / "backbones_sweep.yaml", ROOT / "experiments" / "strategies.yaml"]
    (tmp_path / "bad_exp.yaml").write_text(
        "name: e\nbase: single_backbone\nfactors: [{path: community.partners, range: [10, .inf]}]\n"
    )
    (tmp_path / "bad_str.yaml").write_text(
        "name: s\nstrategies: [{name: a, scenario: single_backbone}]\nseed: 1\nseed: 2\n"
    )
    res = CliRunner().invoke(
        main, ["validate", *map(str, good), str(tmp_path / "bad_exp.yaml"), str(tmp_path / "bad_str.yaml")]
    )
    assert res.exit_code == 2, res.output
    assert (
        res.output.count("ok    ") == 2 and "experiment backbones_sweep" in res.output and "strategies:" in res.output
    )
    assert "bad_exp.yaml: factors.0.range" in res.output and "not a finite number" in res.output
    assert "bad_str.yaml: seed" in res.output and "line 3 and again on line 4" in res.output
    help_text = " ".join(CliRunner().invoke(main, ["validate", "--help"]).output.split())
    assert "first invalid" not in help_text and "Every file is checked" in help_text


@pytest.mark.parametrize("kind", ["missing", "file", "empty"])
def test_scenarios_dir_that_holds_no_scenarios_is_bad_input(kind, tmp_path):
    folder = tmp_path / "d"
    if kind == "file":
        folder.write_text("x")
    elif kind == "empty":
        folder.mkdir()
    res = CliRunner().invoke(main, ["scenarios", "--dir", str(folder)])
    assert res.exit_code == 2 and "--dir" in res.output and str(folder) in res.output, res.output


# ------------------------------------------------------------------ 21. help, README, --set blame


def test_plot_help_examples_name_folders_the_examples_make():
    text = CliRunner().invoke(main, ["plot", "--help"]).output
    made = set(re.findall(r"--out (\S+)", text))
    plotted = re.findall(r"ci-sim plot (\S+)", text)
    assert plotted and all(p in made for p in plotted), text


def test_readme_gives_one_sweep_time_and_sorted_runs():
    readme = (ROOT / "README.md").read_text()
    cli_part = readme.split("## Speed")[0]
    assert not re.search(r"540 runs, ~\d+ s", cli_part)  # the time lives in the Speed section only
    assert 'pd.read_parquet("results/backbones_sweep/<time>/runs")' not in readme
    assert "read_runs(" in cli_part


def test_set_errors_name_the_option_not_the_file():
    with pytest.raises(ScenarioError) as err:
        load_scenario(ROOT / "scenarios" / "single_backbone.yaml", ["issue_areas.0.backbones.neutrality=3"])
    assert err.value.source == "--set issue_areas.0.backbones.neutrality=3"


@pytest.mark.parametrize(
    ("sets", "named", "says"),
    [
        (["replications=two"], "--set replications=two", "an integer"),
        (["samplez=3"], "--set samplez=3", "samples"),  # the experiment's own keys are offered too
        (["base=consolidation", "steps=12"], "--set steps=12", "--allow-dropped-events"),
    ],
)
def test_experiment_set_errors_name_the_option_not_the_file(tmp_path, sets, named, says):
    args = ["validate", str(ROOT / "experiments" / "backbones_sweep.yaml")]
    for s in sets:
        args += ["--set", s]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2, res.output
    first = res.output.splitlines()[0]
    assert first.startswith("error: --set") and named in first and says in first, first
    assert not first.startswith("error: " + str(ROOT)), first


@pytest.mark.parametrize(
    "args",
    [
        ["run", "single_backbone", "--out", str(ROOT / "README.md")],  # a folder that is a file
        ["compare", "single_backbone", "nine_backbones", "-r", "1"],  # a number out of range
        ["run"],  # a missing argument
    ],
    ids=["out-is-a-file", "one-replication-compare", "missing-argument"],
)
def test_options_click_refuses_get_one_error_line_too(args):
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "--help" in lines[0], res.output
    assert "Usage:" not in res.output


def test_a_misspelt_shipped_scenario_gets_a_suggestion(tmp_path):
    res = CliRunner().invoke(main, ["run", "single_backbon", "-r", "1", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "did you mean 'single_backbone'?" in res.output and "ci-sim scenarios" in res.output
    assert not (tmp_path / "o").exists()


def test_an_experiment_file_at_fault_is_still_named_with_set(tmp_path):
    exp = tmp_path / "e.yaml"
    exp.write_text("name: e\nbase: single_backbone\nreplications: 0\nfactors: [{path: steps, levels: [2, 3]}]\n")
    with pytest.raises(ScenarioError) as err:
        load_experiment(exp, ["seed=3"])
    assert err.value.source == str(exp)


# ------------------------------------------------------------------ 3, 5. experiment files


def test_experiment_ranges_must_be_finite_also_from_set(tmp_path):
    exp = tmp_path / "e.yaml"
    exp.write_text("name: e\nbase: single_backbone\nfactors: [{path: parameters.table_hours, range: [0, 5], num: 2}]\n")
    res = CliRunner().invoke(
        main, ["sweep", str(exp), "--set", "factors.0.range=[0, inf]", "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2 and "factors.0.range" in res.output and "not a finite number" in res.output, res.output
    assert not (tmp_path / "o").exists()


def test_experiment_with_a_repeated_key_names_both_lines(tmp_path):
    exp = tmp_path / "e.yaml"
    exp.write_text(
        "name: e\nbase: single_backbone\nreplications: 3\nfactors: [{path: steps, levels: [2, 3]}]\nreplications: 1\n"
    )
    res = CliRunner().invoke(main, ["sweep", str(exp), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert "e.yaml: replications" in res.output and "line 3 and again on line 5" in res.output
    assert not (tmp_path / "o").exists()


def test_effect_size_of_a_pinned_metric_is_na():
    """One scenario pins a share at 0, the other barely varies: d would be about -6700."""
    from ci_sim.experiments.compare import bootstrap_paired

    a = np.zeros(5)
    b = 0.06 + np.array([1, -1, 2, -2, 0]) * 5e-6
    s = bootstrap_paired(a, b, np.random.default_rng(0))
    assert np.isnan(s["effect_size"]) and s["diff"] == pytest.approx(-0.06)
    ordinary = bootstrap_paired(a + np.array([0.01, 0.02, 0.0, 0.03, 0.01]), b, np.random.default_rng(0))
    assert np.isfinite(ordinary["effect_size"])


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_float_options_must_be_finite(value, tmp_path):
    exp = ROOT / "experiments" / "backbones_sweep.yaml"
    res = CliRunner().invoke(main, ["sweep", str(exp), "--flush-seconds", value, "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "--flush-seconds" in res.output and "not a finite number" in res.output, res.output
    assert not (tmp_path / "o").exists()
