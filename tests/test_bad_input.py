"""Bad input: each malformed scenario exits 2 with the key path in the message and writes
nothing."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner
from conftest import SCENARIOS

from ci_sim.cli import main

GOOD = "name: x\nissue_areas: [{name: education, backbones: {count: 2}}]\n"

CASES = {
    "unknown key": ("name: x\ncommunity: {partnrs: 5}\nissue_areas: [{name: education}]\n", [], "community.partnrs"),
    "wrong type": ("name: x\nsteps: ten\nissue_areas: [{name: education}]\n", [], "steps"),
    "negative count": (
        "name: x\ncommunity: {partners: -5}\nissue_areas: [{name: education}]\n",
        [],
        "community.partners",
    ),
    "negative backbone count": (
        "name: x\nissue_areas: [{name: education, backbones: [{name: a}, {name: b, count: -1}]}]\n",
        [],
        "issue_areas.0.backbones.1.count",
    ),
    "neutrality above 1": (
        "name: x\nissue_areas: [{name: education, backbones: {neutrality: 1.5}}]\n",
        [],
        "issue_areas.0.backbones.neutrality",
    ),
    "sector mix not summing to 1": (
        "name: x\ncommunity: {sector_mix: {nonprofit: 0.5, funder: 0.2}}\nissue_areas: [{name: education}]\n",
        [],
        "community.sector_mix",
    ),
    "event naming an unknown backbone": (
        GOOD + "events: [{at: 3, backbone_exits: ghost}]\n",
        [],
        "events.0.backbone_exits",
    ),
    "event naming an unknown outcome": (
        GOOD + "events: [{at: 3, add_conveners: {outcomes: [astrology]}}]\n",
        [],
        "events.0.add_conveners.outcomes.0",
    ),
    "event after the horizon": (
        GOOD + "steps: 120\nevents: [{at: 130, merge_backbones: {keep: 1}}]\n",
        [],
        "events.0.at",
    ),
    "unknown event kind": (GOOD + "events: [{at: 3, teleport: {}}]\n", [], "events.0"),
    "convener for an unknown outcome": (
        "name: x\nissue_areas: [{name: education, conveners: {outcomes: [astrology]}}]\n",
        [],
        "issue_areas.0.conveners.outcomes.0",
    ),
    "area without outcomes": ("name: x\nissue_areas: [{name: health}]\n", [], "issue_areas.0.outcomes"),
    "malformed YAML": ("name: x\nissue_areas: [{name: education\n", [], "line 3"),
    "YAML tag building a Python object": (
        'name: x\nissue_areas: [{name: !!python/object/apply:os.system ["echo owned"]}]\n',
        [],
        "issue_areas.0.name",
    ),
    "--set to a path that does not exist": (GOOD, ["--set", "community.nonexistent=3"], "community.nonexistent"),
    "--set to a list index out of range": (GOOD, ["--set", "issue_areas.3.name=x"], "issue_areas.3"),
    "--set making a value invalid": (GOOD, ["--set", "community.partners=-5"], "community.partners"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_scenario_exits_2_naming_the_key_and_writes_nothing(case, tmp_path):
    text, extra, key = CASES[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", str(path), "-q", "--out", str(out), *extra])
    assert res.exit_code == 2, res.output
    assert key in res.output, res.output
    assert "bad.yaml" in res.output or "--set" in res.output
    assert "Traceback" not in res.output
    assert not out.exists()
    assert not (tmp_path / "results").exists()


def test_missing_file(tmp_path):
    res = CliRunner().invoke(main, ["run", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "missing.yaml" in res.output and "no such file" in res.output
    assert not (tmp_path / "o").exists()


def test_validate_reports_every_bad_file_and_exits_2(tmp_path):
    (tmp_path / "a.yaml").write_text(CASES["unknown key"][0])
    res = CliRunner().invoke(main, ["validate", str(SCENARIOS / "single_backbone.yaml"), str(tmp_path / "a.yaml")])
    assert res.exit_code == 2
    assert "ok" in res.output and "community.partnrs" in res.output


def test_console_script_exit_status_and_message(tmp_path):
    """The real command (not the in-process runner): the issue's example."""
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ci_sim.cli",
            "run",
            str(SCENARIOS / "single_backbone.yaml"),
            "--set",
            "community.partners=-5",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "community.partners" in proc.stderr and "-5" in proc.stderr
    assert not out.exists()
