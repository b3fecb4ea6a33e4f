"""Scenario file format (issue 12): files say `format: 2`; a file without it is format 1 and is
read as it is (format 2 only added keys with defaults); `ci-sim upgrade` writes the current
format. Refusals of bad `format` values are rows of the malformed-input table (test_bad_input)."""

from __future__ import annotations

import yaml
from click.testing import CliRunner
from conftest import ROOT, SCENARIOS

from ci_sim.cli import main
from ci_sim.experiments.experiment import load_experiment
from ci_sim.model.scenario import (
    FORMAT_VERSION,
    UPGRADES,
    _load_yaml,
    load_scenario,
    parse_yaml,
    upgrade_scenario_data,
    upgrade_scenario_text,
    validate_scenario,
)

#: after scenarios/nine_backbones.yaml of ci-sim 0.1.0 (format 1: no format key), with a comment
FORMAT_1 = """\
name: nine_backbones
description: "Nine self-declared organizations jockey for the education backbone role."
steps: 120
replications: 20
seed: 2026
community:
  partners: 150
  sector_mix: {nonprofit: 0.45, school_district: 0.1, public_agency: 0.1, funder: 0.1,
               business: 0.1, higher_ed: 0.05, community_group: 0.1}
issue_areas:
  - name: education   # the cradle-to-career outcomes by default
    backbones: {count: 9, neutrality: 0.5, servant_leadership: 0.3,
                origin: self_declared, coordination: none}
    conveners: {per_outcome: false}
events: []
"""


def test_every_shipped_scenario_is_written_in_the_current_format():
    files = sorted(SCENARIOS.glob("*.yaml"))
    assert len(files) >= 16
    for f in files:
        assert _load_yaml(f).get("format") == FORMAT_VERSION, f"{f.name}: add `format: {FORMAT_VERSION}`"


def test_every_older_format_has_an_upgrade_that_says_what_changed():
    assert sorted(UPGRADES) == list(range(1, FORMAT_VERSION))
    assert all(len(why) > 40 for why, _ in UPGRADES.values())


def test_a_format_1_file_means_the_same_as_in_format_2(tmp_path):
    old, new, explicit = (tmp_path / n for n in ("old.yaml", "new.yaml", "one.yaml"))
    old.write_text(FORMAT_1)
    new.write_text("format: 2\n" + FORMAT_1)
    explicit.write_text("format: 1\n" + FORMAT_1)
    a, b, c = (load_scenario(p) for p in (old, new, explicit))
    assert a.format == b.format == c.format == FORMAT_VERSION
    assert a == b == c and a.sha256() == b.sha256() == c.sha256()
    # the raw data are not changed in place (a sweep's base is upgraded on a copy)
    raw = parse_yaml(FORMAT_1, "old")
    assert "format" not in raw and upgrade_scenario_data(raw)["format"] == FORMAT_VERSION and "format" not in raw


def test_overrides_still_reach_every_key_of_an_upgraded_file(tmp_path):
    old = tmp_path / "old.yaml"
    old.write_text(FORMAT_1)
    sc = load_scenario(old, ["community.partners=40", "format=2"])
    assert sc.community.partners == 40 and sc.format == FORMAT_VERSION
    assert load_scenario(old, ["format=1"]) == load_scenario(old)


def test_a_validated_scenario_round_trips_through_its_dump():
    sc = load_scenario(SCENARIOS / "consolidation.yaml")
    dumped = sc.model_dump(mode="json")
    assert next(iter(dumped)) == "format"  # written first, as in the files
    assert validate_scenario(dumped, "dump") == sc


def test_upgrade_text_keeps_comments_and_reads_back_as_the_upgraded_data():
    text = "# my partnership\n\n" + FORMAT_1
    new = upgrade_scenario_text(text, "old.yaml")
    assert new == "# my partnership\n\nformat: 2\n" + FORMAT_1  # one line added, nothing else touched
    assert upgrade_scenario_text(new, "new.yaml") is None  # already current
    assert upgrade_scenario_text("format: 1\n" + FORMAT_1) == "format: 2\n" + FORMAT_1
    # one flow mapping: a line cannot be inserted, so the upgraded data are written out
    flow = "{name: x, issue_areas: [{name: education}]}\n"
    dumped = upgrade_scenario_text(flow)
    assert yaml.safe_load(dumped) == {"format": 2, "name": "x", "issue_areas": [{"name": "education"}]}


def test_validate_says_a_file_is_of_an_older_format(tmp_path):
    (tmp_path / "old.yaml").write_text(FORMAT_1)
    res = CliRunner().invoke(main, ["validate", str(tmp_path / "old.yaml"), str(SCENARIOS / "nine_backbones.yaml")])
    assert res.exit_code == 0, res.output
    old_line, new_line = res.output.strip().splitlines()
    assert "format 1, read as format 2" in old_line and "ci-sim upgrade --in-place" in old_line
    assert "format" not in new_line


def test_upgrade_prints_writes_a_new_file_or_rewrites_in_place(tmp_path):
    old = tmp_path / "old.yaml"
    old.write_text(FORMAT_1)
    printed = CliRunner().invoke(main, ["upgrade", str(old)])
    assert printed.exit_code == 0 and printed.stdout == "format: 2\n" + FORMAT_1
    assert old.read_text() == FORMAT_1  # printing writes nothing

    out = tmp_path / "new.yaml"
    res = CliRunner().invoke(main, ["upgrade", str(old), "--out", str(out)])
    assert res.exit_code == 0 and out.read_text() == "format: 2\n" + FORMAT_1 and old.read_text() == FORMAT_1

    again = CliRunner().invoke(main, ["upgrade", str(old), "--out", str(out)])
    assert again.exit_code == 2 and "a new file" in again.output  # never overwritten

    res = CliRunner().invoke(main, ["upgrade", "--in-place", str(old), str(out)])
    assert res.exit_code == 0 and old.read_text() == out.read_text() == "format: 2\n" + FORMAT_1
    assert "already format 2" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.yaml", "old.yaml"]  # no temporary left


def test_upgrade_refuses_a_bad_file_before_writing_any(tmp_path):
    good, too_new = tmp_path / "good.yaml", tmp_path / "too_new.yaml"
    good.write_text(FORMAT_1)
    too_new.write_text("format: 3\n" + FORMAT_1)
    res = CliRunner().invoke(main, ["upgrade", "--in-place", str(good), str(too_new)])
    assert res.exit_code == 2
    assert res.output.startswith(f"error: {too_new}: format: bad value 3") and "upgrade ci-sim" in res.output
    assert good.read_text() == FORMAT_1  # nothing written, not even the good file


def test_a_sweep_fingerprint_does_not_depend_on_the_base_file_format(tmp_path):
    """Upgrading a sweep's base file (`ci-sim upgrade --in-place`) does not stop its --resume."""
    experiment = (
        (ROOT / "experiments" / "backbones_sweep.yaml").read_text().replace("base: nine_backbones", "base: base.yaml")
    )
    (tmp_path / "exp.yaml").write_text(experiment)
    (tmp_path / "base.yaml").write_text(FORMAT_1)
    before = load_experiment(tmp_path / "exp.yaml")
    (tmp_path / "base.yaml").write_text(upgrade_scenario_text(FORMAT_1))
    after = load_experiment(tmp_path / "exp.yaml")
    assert before.fingerprint() == after.fingerprint()
    assert before.base["format"] == FORMAT_VERSION


def test_a_factor_on_the_format_is_refused(tmp_path):
    text = (ROOT / "experiments" / "backbones_sweep.yaml").read_text()
    (tmp_path / "exp.yaml").write_text(text.replace("factors:\n", "factors:\n  - {path: format, levels: [1, 2]}\n"))
    res = CliRunner().invoke(main, ["validate", str(tmp_path / "exp.yaml")])
    assert res.exit_code == 2 and "factors.0.path" in res.output and "never a run's numbers" in res.output
