"""The CLI contract: files, columns, manifest, listing, help."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import SCENARIOS

from ci_sim import MODEL_VERSION
from ci_sim.cli import main
from ci_sim.model.scenario import FORMAT_VERSION

CONTRACT = [
    "alignment",
    "factions",
    "mean_trust",
    "engagement",
    "meeting_hours",
    "fundraising_share",
    "data_completeness",
    "action_plan_quality",
    "outcome_mean",
    "outcome_improvement",
]


def test_run_writes_the_contracted_files(tmp_path):
    out = tmp_path / "run"
    res = CliRunner().invoke(
        main, ["run", "nine_backbones", "-r", "3", "--steps", "12", "--out", str(out), "--agent-period", "6"]
    )
    assert res.exit_code == 0, res.output
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns[:2]) == ["replication", "seed"]
    assert set(CONTRACT) <= set(summary.columns)
    assert "outcome_kindergarten_readiness" in summary.columns and "outcome_employment" in summary.columns
    assert summary["replication"].tolist() == [0, 1, 2]
    series = pd.read_parquet(out / "timeseries.parquet")
    assert len(series) == 3 * 13 and set(CONTRACT) <= set(series.columns)
    assert series.groupby("replication")["step"].apply(list).iloc[0] == list(range(13))
    agents = pd.read_parquet(out / "agents.parquet")
    assert sorted(agents["step"].unique()) == [0, 6, 12] and len(agents) == 3 * 3 * 150
    man = json.loads((out / "manifest.json").read_text())
    assert {"ci_sim", "model_version", "python", "mesa", "numpy"} <= set(man["versions"])
    assert man["versions"]["model_version"] == MODEL_VERSION and man["posterior"] is None
    assert man["scenario"]["format"] == FORMAT_VERSION
    assert len(man["scenario_sha256"]) == 64 and man["seeds"] == summary["seed"].tolist()
    assert man["scenario"]["issue_areas"][0]["backbones"]["count"] == 9
    assert man["wall_seconds"] > 0 and man["started"] <= man["ended"]
    assert "95% CI" in res.output


def test_scenarios_lists_every_shipped_scenario_with_its_description():
    res = CliRunner().invoke(main, ["scenarios"])
    assert res.exit_code == 0
    names = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))
    assert len(names) >= 12
    for name in names:
        line = next(line for line in res.output.splitlines() if line.startswith(name + " "))
        assert len(line.split(None, 1)[1]) > 30, f"{name} needs a description"


def test_shipped_scenarios_are_valid():
    res = CliRunner().invoke(main, ["validate", *map(str, sorted(SCENARIOS.glob("*.yaml")))])
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("command", sorted(main.commands))
def test_help_says_what_it_does_with_an_example(command):
    res = CliRunner().invoke(main, [command, "--help"])
    assert res.exit_code == 0
    assert "Example" in res.output and "ci-sim " + command in res.output


def test_run_never_overwrites_results(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "summary.csv").write_text("earlier results\n")
    res = CliRunner().invoke(main, ["run", "nine_backbones", "-r", "1", "--steps", "3", "-q", "--out", str(out)])
    assert res.exit_code == 2
    assert "--out" in res.output and "never overwritten" in res.output
    assert [p.name for p in out.iterdir()] == ["summary.csv"]
    assert (out / "summary.csv").read_text() == "earlier results\n"


def test_a_run_that_dies_while_writing_leaves_no_folder(tmp_path, monkeypatch):
    import ci_sim.cli

    def die(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(ci_sim.cli, "write_json", die)  # the manifest is written last
    out = tmp_path / "run"
    res = CliRunner().invoke(main, ["run", "nine_backbones", "-r", "1", "--steps", "3", "-q", "--out", str(out)])
    assert res.exit_code == 1 and isinstance(res.exception, OSError)
    assert list(tmp_path.iterdir()) == [], "neither the folder nor its staging copy is left behind"
