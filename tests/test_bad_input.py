"""Bad input: each malformed scenario or ``--set`` value exits 2 with one message naming the
file (or option), the key path, the bad value and what is allowed, and writes nothing."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner
from conftest import ROOT, SCENARIOS

from ci_sim.cli import main
from ci_sim.model.scenario import Mechanisms

#: every switch that decompose takes as a channel by default (the ``*_noise`` ones are not)
DEFAULT_CHANNELS = [m for m in Mechanisms.model_fields if not m.endswith("_noise")]

GOOD = "name: x\nissue_areas: [{name: education, backbones: {count: 2}}]\n"
TWO_AREAS = (
    "name: x\nissue_areas:\n"
    "  - {name: education, backbones: {name: strive, count: 2}}\n"
    "  - {name: health, outcomes: [obesity, asthma], backbones: {name: hb}}\n"
)
FILE = "bad.yaml"
ORGS = (
    "name: x\ncommunity:\n  organizations:\n"
    "    - {name: Book Bus, sector: nonprofit, areas: [education], hours: 20}\n"
    "    - {name: City Hall, sector: public_agency, areas: [education, health], hours: 10}\n"
    "    - {name: Clinic, sector: nonprofit, areas: [health], hours: 30}\n"
)
ORG_AREAS = "issue_areas: [{name: education}, {name: health, outcomes: [asthma]}]\n"
# nested aliases: 9 levels of 9 copies stand for 9**9 (387 million) strings in 600 bytes
LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)

# id: (scenario text, extra command-line arguments, where (file or option), key path, bad value, allowed)
CASES = {
    # ---------------------------------------------------------------- schema
    "unknown key": (
        "name: x\ncommunity: {partnrs: 5}\nissue_areas: [{name: education}]\n",
        [],
        FILE,
        "community.partnrs",
        "'partnrs'",  # the key is what is wrong, not its value
        "unknown key (did you mean 'partners'?); known keys here:",
    ),
    "text for an integer": (
        "name: x\nsteps: ten\nissue_areas: [{name: education}]\n",
        [],
        FILE,
        "steps",
        "'ten'",
        "an integer",
    ),
    "negative count": (
        "name: x\ncommunity: {partners: -5}\nissue_areas: [{name: education}]\n",
        [],
        FILE,
        "community.partners",
        "-5",
        "greater than or equal to 1",
    ),
    "second area with one area": (
        "name: x\ncommunity: {second_area_share: 0.2}\nissue_areas: [{name: education}]\n",
        [],
        FILE,
        "community.second_area_share",
        "0.2",
        "only with two issue areas or more",
    ),
    "organization in an unknown area": (
        ORGS.replace("areas: [health], hours: 30", "areas: [housing], hours: 30") + ORG_AREAS,
        [],
        FILE,
        "community.organizations.2.areas.0",
        "'housing'",
        "one of the issue areas ['education', 'health']",
    ),
    "organization with one area twice": (
        ORGS.replace("[education, health]", "[health, health]") + ORG_AREAS,
        [],
        FILE,
        "community.organizations.1.areas",
        "['health', 'health']",
        "two different issue areas, or one",
    ),
    "organization in three areas": (
        ORGS.replace("[education, health]", "[education, health, jobs]") + ORG_AREAS,
        [],
        FILE,
        "community.organizations.1.areas",
        "['education', 'health', 'jobs']",
        "at most 2 items",
    ),
    "organization with no hours": (
        ORGS.replace("hours: 30", "hours: 0") + ORG_AREAS,
        [],
        FILE,
        "community.organizations.2.hours",
        "0",
        "greater than 0",
    ),
    "organizations named twice": (
        ORGS.replace("name: Clinic", "name: Book Bus") + ORG_AREAS,
        [],
        FILE,
        "community.organizations",
        "['Book Bus']",
        "organization names must be unique",
    ),
    "partners disagreeing with the organizations": (
        ORGS + "  partners: 150\n" + ORG_AREAS,
        [],
        FILE,
        "community.partners",
        "150",
        "with organizations listed, partners follows from the list (3); leave it out",
    ),
    "a --set that disagrees with the organizations": (
        ORGS + ORG_AREAS,
        ["--set", "community.capacity_hours=40"],
        "--set community.capacity_hours=40",
        "community.capacity_hours",
        "40.0",
        "capacity_hours follows from the list (20.0)",
    ),
    "organization named like a backbone": (
        # a tie or an event naming it would mean either one: the names of partners and backbones are one list
        ORGS.replace("name: Clinic", "name: hb") + TWO_AREAS.replace("name: x\n", ""),
        [],
        FILE,
        "community.organizations.2.name",
        "'hb'",
        "a name no backbone has ('hb' is a backbone of 'health')",
    ),
    "area share with organizations": (
        ORGS + "issue_areas: [{name: education, share: 0.5}, {name: health, outcomes: [asthma], share: 0.5}]\n",
        [],
        FILE,
        "issue_areas.0.share",
        "0.5",
        "each area's partners follow from the list; leave it out",
    ),
    "area without an organization": (
        ORGS.replace("[education, health]", "[education]").replace("areas: [health]", "areas: [education]") + ORG_AREAS,
        [],
        FILE,
        "community.organizations",
        "'health'",
        "at least one organization working in 'health'",
    ),
    "peer tie to an unknown organization": (
        ORGS + "  network: {edges: [[Book Bus, City Hal]]}\n" + ORG_AREAS,
        [],
        FILE,
        "community.network.edges.0.1",
        "'City Hal'",
        "one of the organizations (did you mean 'City Hall'?)",
    ),
    "peer tie across areas": (
        ORGS + "  network: {edges: [[Book Bus, Clinic]]}\n" + ORG_AREAS,
        [],
        FILE,
        "community.network.edges.0",
        "['Book Bus', 'Clinic']",
        "a tie joins two partners of one issue area",
    ),
    "peer tie twice": (
        ORGS + "  network: {edges: [[Book Bus, City Hall], [City Hall, Book Bus]]}\n" + ORG_AREAS,
        [],
        FILE,
        "community.network.edges.1",
        "['City Hall', 'Book Bus']",
        "each tie once",
    ),
    "peer tie with itself": (
        ORGS + "  network: {edges: [[Clinic, Clinic]]}\n" + ORG_AREAS,
        [],
        FILE,
        "community.network.edges.0",
        "['Clinic', 'Clinic']",
        "a tie joins two different organizations",
    ),
    "peer tie of three": (
        ORGS + "  network: {edges: [[Clinic, City Hall, Book Bus]]}\n" + ORG_AREAS,
        [],
        FILE,
        "community.network.edges.0",
        "['Clinic', 'City Hall', 'Book Bus']",
        "at most 2 items",
    ),
    "drawn-network key with given ties": (
        ORGS + "  network: {degree: 8, edges: [[Book Bus, City Hall]]}\n" + ORG_AREAS,
        [],
        FILE,
        "community.network.degree",
        "8",
        "with network.edges given it is not used",
    ),
    "peer ties without organizations": (
        "name: x\ncommunity: {network: {edges: [[a, b]]}}\nissue_areas: [{name: education}]\n",
        [],
        FILE,
        "community.network.edges",
        "'(a list of ties)'",
        "peer ties name organizations: list community.organizations",
    ),
    "second area weight above one half": (
        "name: x\ncommunity: {second_area_weight: 0.7}\nissue_areas: [{name: education}]\n",
        [],
        FILE,
        "community.second_area_weight",
        "0.7",
        "less than or equal to 0.5",
    ),
    "negative backbone count": (
        "name: x\nissue_areas: [{name: education, backbones: [{name: a}, {name: b, count: -1}]}]\n",
        [],
        FILE,
        "issue_areas.0.backbones.1.count",
        "-1",
        "greater than or equal to 0",
    ),
    "neutrality above 1": (
        "name: x\nissue_areas: [{name: education, backbones: {neutrality: 1.5}}]\n",
        [],
        FILE,
        "issue_areas.0.backbones.neutrality",
        "1.5",
        "less than or equal to 1",
    ),
    "sector mix not summing to 1": (
        "name: x\ncommunity: {sector_mix: {nonprofit: 0.5, funder: 0.2}}\nissue_areas: [{name: education}]\n",
        [],
        FILE,
        "community.sector_mix",
        "'nonprofit': 0.5",
        "must sum to 1",
    ),
    "no issue areas": ("name: x\nissue_areas: []\n", [], FILE, "issue_areas", "[]", "at least 1 item"),
    "negative seed": (GOOD + "seed: -1\n", [], FILE, "seed", "-1", "greater than or equal to 0"),
    "area without outcomes": (
        "name: x\nissue_areas: [{name: health}]\n",
        [],
        FILE,
        "issue_areas.0.outcomes",
        "None",
        "list the area's outcomes",
    ),
    "repeated outcome": (
        "name: x\nissue_areas: [{name: health, outcomes: [a, a]}]\n",
        [],
        FILE,
        "issue_areas.0.outcomes",
        "['a', 'a']",
        "unique",
    ),
    "convener for an unknown outcome": (
        "name: x\nissue_areas: [{name: education, conveners: {outcomes: [astrology]}}]\n",
        [],
        FILE,
        "issue_areas.0.conveners.outcomes.0",
        "'astrology'",
        "one of the area's outcomes",
    ),
    # ---------------------------------------------------------------- non-finite numbers (item 3)
    "infinite horizon": (GOOD + "steps: .inf\n", [], FILE, "steps", "inf", "an integer"),
    "NaN hours": (
        GOOD + "parameters: {table_hours: .nan}\n",
        [],
        FILE,
        "parameters.table_hours",
        "nan",
        "not a finite number",
    ),
    "infinite capacity": (
        GOOD + "community: {capacity_hours: .inf}\n",
        [],
        FILE,
        "community.capacity_hours",
        "inf",
        "not a finite number",
    ),
    "minus infinity in money": (
        GOOD.replace("count: 2}", "count: 2, in_kind: -.inf}"),
        [],
        FILE,
        "issue_areas.0.backbones.in_kind",
        "-inf",
        "not a finite number",
    ),
    # ---------------------------------------------------------------- loose types (item 4)
    "decimal point in an integer": (GOOD + "steps: 120.0\n", [], FILE, "steps", "120.0", "without a decimal point"),
    "boolean as an integer": (GOOD + "steps: true\n", [], FILE, "steps", "True", "true/false and text are not numbers"),
    "2.000 partners": (
        "name: x\ncommunity: {partners: 2.000}\nissue_areas: [{name: education}]\n",
        [],
        FILE,
        "community.partners",
        "2.0",
        "without a decimal point",
    ),
    "yes as a count": (
        "name: x\nissue_areas: [{name: education, backbones: {count: yes}}]\n",
        [],
        FILE,
        "issue_areas.0.backbones.count",
        "True",
        "an integer",
    ),
    "boolean as a number": (
        "name: x\nissue_areas: [{name: education, backbones: {neutrality: true}}]\n",
        [],
        FILE,
        "issue_areas.0.backbones.neutrality",
        "True",
        "a number",
    ),
    "quoted number": (
        "name: x\nissue_areas: [{name: education, backbones: {neutrality: '0.5'}}]\n",
        [],
        FILE,
        "issue_areas.0.backbones.neutrality",
        "'0.5'",
        "a number",
    ),
    "number as a switch": (GOOD + "mechanisms: {trust: 1}\n", [], FILE, "mechanisms.trust", "1", "true or false"),
    "fractional month": (
        GOOD + "events: [{at: 2.5, merge_backbones: {keep: 1}}]\n",
        [],
        FILE,
        "events.0.at",
        "2.5",
        "an integer",
    ),
    # ---------------------------------------------------------------- repeated keys (item 5)
    "repeated top-level key": (
        "name: x\nsteps: 120\nissue_areas: [{name: education}]\nsteps: 6\n",
        [],
        FILE,
        "steps",
        "'steps'",
        "line 2 and again on line 4",
    ),
    "repeated nested key": (
        "name: x\nissue_areas:\n  - name: education\n    backbones: {count: 3, count: 1}\n",
        [],
        FILE,
        "issue_areas.0.backbones.count",
        "'count'",
        "each key once",
    ),
    # ---------------------------------------------------------------- events (items 1 and 6)
    "event naming an unknown backbone": (
        GOOD + "events: [{at: 3, backbone_exits: ghost}]\n",
        [],
        FILE,
        "events.0.backbone_exits",
        "'ghost'",
        "one of the backbones",
    ),
    "event naming an unknown outcome": (
        GOOD + "events: [{at: 3, add_conveners: {outcomes: [astrology]}}]\n",
        [],
        FILE,
        "events.0.add_conveners.outcomes.0",
        "'astrology'",
        "one of the outcomes of education",
    ),
    "event after the horizon": (
        GOOD + "steps: 120\nevents: [{at: 130, merge_backbones: {keep: 1}}]\n",
        [],
        FILE,
        "events.0.at",
        "130",
        "would never happen",
    ),
    "unknown event kind": (
        GOOD + "events: [{at: 3, teleport: {}}]\n",
        [],
        FILE,
        "events.0",
        "'teleport'",
        "exactly one event kind",
    ),
    "merge in an area without backbones": (
        "name: x\nissue_areas: [{name: education, backbones: {count: 0}}]\nevents: [{at: 3, merge_backbones: {keep: 1}}]\n",
        [],
        FILE,
        "events.0.merge_backbones",
        "'keep': 1",
        "it has 0 at month 3",
    ),
    "merge with a single backbone": (
        "name: x\nissue_areas: [{name: education}]\nevents: [{at: 3, merge_backbones: {keep: 1}}]\n",
        [],
        FILE,
        "events.0.merge_backbones",
        "'keep': 1",
        "at least two backbones",
    ),
    "keep 5 of two": (
        GOOD + "events: [{at: 3, merge_backbones: {keep: 5}}]\n",
        [],
        FILE,
        "events.0.merge_backbones.keep",
        "5",
        "fewer than the 2 backbones of education",
    ),
    "exit of another area's backbone": (
        TWO_AREAS + "events: [{at: 3, area: health, backbone_exits: strive_1}]\n",
        [],
        FILE,
        "events.0.backbone_exits",
        "'strive_1'",
        "is a backbone of education",
    ),
    "same backbone exits twice": (
        GOOD
        + "events: [{at: 3, backbone_exits: education_backbone_1}, {at: 5, backbone_exits: education_backbone_1}]\n",
        [],
        FILE,
        "events.1.backbone_exits",
        "'education_backbone_1'",
        "already exited or merged",
    ),
    "money to a merged-away backbone": (
        GOOD
        + "events: [{at: 3, merge_backbones: {keep: education_backbone_1}},"
        + " {at: 5, funder_shift: {to_backbone: education_backbone_2}}]\n",
        [],
        FILE,
        "events.1.funder_shift.to_backbone",
        "'education_backbone_2'",
        "a backbone still in education at month 5",
    ),
    # ---------------------------------------------------------------- names (item 14)
    "NUL in the name": (
        'name: "a\\0b"\nissue_areas: [{name: education}]\n',
        [],
        FILE,
        "name",
        "'a\\x00b'",
        "without control characters",
    ),
    "newline in the name": (
        'name: "a\\nb"\nissue_areas: [{name: education}]\n',
        [],
        FILE,
        "name",
        "'a\\nb'",
        "without control characters",
    ),
    # ---------------------------------------------------------------- YAML itself (items 5, 16)
    "malformed YAML": (
        "name: x\nissue_areas: [{name: education\n",
        [],
        FILE,
        "line 3",
        "expected ','",
        "well-formed YAML",
    ),
    "YAML tag building a Python object": (
        'name: x\nissue_areas: [{name: !!python/object/apply:os.system ["echo owned"]}]\n',
        [],
        FILE,
        "issue_areas.0.name",
        "!!python/object/apply:os.system",
        "plain YAML only",
    ),
    "nested aliases": (LAUGHS + GOOD, [], FILE, "", "values once aliases are expanded", "at most 100,000"),
    "alias inside itself": ("a: &a [1, *a]\n" + GOOD, [], FILE, "line 1", "*alias", "a loop"),
    "oversized file": (GOOD + "# " + "x" * 1_100_000 + "\n", [], FILE, "", "1.1 MB", "at most 1 MB"),
    "nesting too deep": (
        "x: " + "[" * 3000 + "]" * 3000 + "\n" + GOOD,
        [],
        FILE,
        "",
        "deeply nested",
        "levels of nesting",
    ),
    # ---------------------------------------------------------------- --set values (items 3, 4, 21)
    "--set to a path that does not exist": (
        GOOD,
        ["--set", "community.nonexistent=3"],
        "--set",
        "community.nonexistent",
        "'nonexistent'",
        "no such key",
    ),
    "--set to a list index out of range": (
        GOOD,
        ["--set", "issue_areas.3.name=x"],
        "--set",
        "issue_areas.3",
        "'3'",
        "a list index from 0 to 0",
    ),
    "--set making a value invalid": (
        GOOD,
        ["--set", "community.partners=-5"],
        "--set community.partners=-5",
        "community.partners",
        "-5",
        "greater than or equal to 1",
    ),
    "--set infinity": (
        GOOD,
        ["--set", "parameters.table_hours=inf"],
        "--set parameters.table_hours=inf",
        "parameters.table_hours",
        "inf",
        "not a finite number",
    ),
    "--set NaN": (
        GOOD,
        ["--set", "parameters.outcome_rate=nan"],
        "--set parameters.outcome_rate=nan",
        "parameters.outcome_rate",
        "nan",
        "not a finite number",
    ),
    "--set yes as a count": (
        GOOD,
        ["--set", "issue_areas.0.backbones.count=yes"],
        "--set issue_areas.0.backbones.count=yes",
        "issue_areas.0.backbones.count",
        "True",
        "an integer",
    ),
    "--set 2.000 partners": (
        GOOD,
        ["--set", "community.partners=2.000"],
        "--set community.partners=2.000",
        "community.partners",
        "2.0",
        "without a decimal point",
    ),
    # ---------------------------------------------------------------- population indicators (ODD §7.12)
    "population trend range inverted": (
        "name: x\nissue_areas: [{name: education, population: {trend: [0.01, -0.01]}}]\n",
        [],
        FILE,
        "issue_areas.0.population.trend",
        "[0.01, -0.01]",
        "a range [low, high] with -0.2 <= low <= high <= 0.2",
    ),
    "population trend outside [-0.2, 0.2]": (
        "name: x\nissue_areas: [{name: education, population: {trend: [-0.3, 0.01]}}]\n",
        [],
        FILE,
        "issue_areas.0.population.trend",
        "[-0.3, 0.01]",
        "a range [low, high] with -0.2 <= low <= high <= 0.2",
    ),
    "population trend with three numbers": (
        "name: x\nissue_areas: [{name: education, population: {trend: [-0.01, 0.0, 0.01]}}]\n",
        [],
        FILE,
        "issue_areas.0.population.trend",
        "[-0.01, 0.0, 0.01]",
        "a range [low, high]",
    ),
    "indicators list of the wrong length": (
        "name: x\nissue_areas: [{name: education, population: {indicators: [2, 2]}}]\n",
        [],
        FILE,
        "issue_areas.0.population.indicators",
        "[2, 2]",
        "one number per outcome (7), or a single number",
    ),
    "zero indicators": (
        "name: x\nissue_areas: [{name: education, population: {indicators: 0}}]\n",
        [],
        FILE,
        "issue_areas.0.population.indicators",
        "0",
        "1 to 100 indicators per outcome",
    ),
    "zero indicators for one outcome": (
        "name: x\nissue_areas: [{name: education, population: {indicators: [8, 8, 8, 0, 7, 7, 7]}}]\n",
        [],
        FILE,
        "issue_areas.0.population.indicators",
        "[8, 8, 8, 0, 7, 7, 7]",
        "1 to 100 indicators per outcome",
    ),
    "cohort below 10": (
        "name: x\nissue_areas: [{name: education, population: {cohort: 5}}]\n",
        [],
        FILE,
        "issue_areas.0.population.cohort",
        "5",
        "greater than or equal to 10",
    ),
    "negative shock rate": (
        "name: x\nissue_areas: [{name: education, population: {shock_rate: -0.1}}]\n",
        [],
        FILE,
        "issue_areas.0.population.shock_rate",
        "-0.1",
        "greater than or equal to 0",
    ),
    "--set population trend inverted": (
        GOOD,
        ["--set", "issue_areas.0.population.trend=[0.02, 0.01]"],
        "--set issue_areas.0.population.trend=",
        "issue_areas.0.population.trend",
        "[0.02, 0.01]",
        "a range [low, high] with -0.2 <= low <= high <= 0.2",
    ),
    # ---------------------------------------------------------------- file format (issue 12)
    "format newer than this ci-sim": (
        "format: 3\nname: x\nissue_areas: [{name: education}]\n",
        [],
        FILE,
        "format",
        "3",
        "the file was written for a newer ci-sim: upgrade ci-sim",
    ),
    "format not a whole number": (
        "format: 2.0\nname: x\nissue_areas: [{name: education}]\n",
        [],
        FILE,
        "format",
        "2.0",
        "a whole number, the scenario format: one of 1, 2",
    ),
    "format as text": (
        "format: '2'\nname: x\nissue_areas: [{name: education}]\n",
        [],
        FILE,
        "format",
        "'2'",
        "a whole number, the scenario format",
    ),
    "format below 1": (
        "format: 0\nname: x\nissue_areas: [{name: education}]\n",
        [],
        FILE,
        "format",
        "0",
        "one of 1, 2 (2 is this ci-sim's own)",
    ),
    "--set format newer than this ci-sim": (
        "format: 2\n" + GOOD,
        ["--set", "format=3"],
        "--set format=3",
        "format",
        "3",
        "upgrade ci-sim",
    ),
    "--set without =": (
        GOOD,
        ["--set", "community.partners"],
        "--set",
        "community.partners",
        "'community.partners'",
        "KEY=VALUE",
    ),
    "--set value with a repeated key": (
        GOOD,
        ["--set", "community={partners: 30, partners: 40}"],
        "--set community=",
        "partners",
        "'partners'",
        "each key once",
    ),
    "--set horizon before an event": (
        GOOD + "events: [{at: 10, merge_backbones: {keep: 1}}]\n",
        ["--set", "steps=6"],
        "--set steps=6",
        "events.0.at",
        "10",
        "--allow-dropped-events",
    ),
    "--steps before an event": (
        GOOD + "events: [{at: 10, merge_backbones: {keep: 1}}]\n",
        ["--steps", "6"],
        "--steps 6",
        "events.0.at",
        "10",
        "would never happen: events.0 (merge_backbones at month 10)",
    ),
}


def _assert_refused(folder, monkeypatch, text: str, argv: list[str], where: str, key: str, value: str, allowed: str):
    """Run ``argv`` in ``folder`` holding FILE (``text``): exit 2, one line naming where, the key (if
    any), the value and what is allowed; nothing written there (or in a results/ folder there)."""
    monkeypatch.chdir(folder)  # a default results/ folder would land here
    (folder / FILE).write_text(text)
    res = CliRunner().invoke(main, argv)
    assert res.exit_code == 2, res.output
    message = res.output.strip()
    assert message.startswith("error: ") and message.count("\n") == 0, message  # one message, one line
    assert message.startswith(f"error: {where}"), message
    if key:
        assert f": {key}" in message, message
    assert f"bad value {value}" in message or value in message, message
    assert allowed in message, message
    assert "Traceback" not in message
    assert sorted(p.name for p in folder.iterdir()) == [FILE]  # nothing written, here or in results/


def test_table_is_large_enough():
    assert len(CASES) >= 40


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
    assert proc.stderr.startswith("error: --set community.partners=-5")  # the option, not the file
    assert not out.exists()


# ------------------------------------------------------------------ decompose (issue 11, item 4)
SHORT = "name: short\nsteps: 24\nissue_areas: [{name: education}]\n"
# id: (extra arguments after `decompose`, where (file or option), key path, bad value, allowed)
DECOMPOSE_CASES = {
    "unknown scenario": (
        ["single_bakcbone", "nine_backbones"],
        "single_bakcbone",
        "",
        "'single_bakcbone'",
        "did you mean 'single_backbone'?",
    ),
    "bad --set": (
        ["single_backbone", "nine_backbones", "--set", "community.partners=-5"],
        "--set community.partners=-5",
        "community.partners",
        "-5",
        "greater than or equal to 1",
    ),
    "unknown channel": (
        ["single_backbone", "nine_backbones", "--channels", "trust,atention"],
        "--channels",
        "",
        "'atention'",
        "unknown channel (did you mean 'attention'?); a mechanism switch; allowed: attention, trust",
    ),
    "no channel named": (
        ["single_backbone", "nine_backbones", "--channels", ","],
        "--channels",
        "",
        "','",
        "one or more",
    ),
    "channel named twice": (
        ["single_backbone", "nine_backbones", "--channels", "trust,trust"],
        "--channels",
        "",
        "'trust'",
        "each channel once",
    ),
    "channel already off in a scenario": (
        ["single_backbone", "nine_backbones", "--channels", "trust", "--set", "mechanisms.trust=false"],
        "single_backbone",
        "mechanisms.trust",
        "False",
        "a channel switched on in both scenarios",
    ),
    "every default channel off": (
        ["single_backbone", "nine_backbones"]
        + [x for m in DEFAULT_CHANNELS for x in ("--set", f"mechanisms.{m}=false")],
        "decompose",
        "mechanisms",
        "attention",
        "at least one mechanism switched on in both scenarios",
    ),
    "different horizons": (
        [FILE, "single_backbone"],
        "decompose",
        "steps",
        "'short': 24, 'single_backbone': 120",
        "scenarios with one horizon",
    ),
    "month after the horizon": (
        ["single_backbone", "nine_backbones", "--steps", "12", "--month", "13"],
        "--month",
        "",
        "13",
        "a month from 0 to the horizon, 12",
    ),
    "unknown metric": (
        ["single_backbone", "nine_backbones", "--metrics", "alignment,alignmnt"],
        "--metric",
        "",
        "'alignmnt'",
        "a metric every scenario reports",
    ),
    "a strategies file for a scenario": (
        [str(ROOT / "experiments" / "strategies.yaml"), "single_backbone"],
        "decompose",
        "",
        "'one backbone'",
        "two scenarios (files or shipped names), A and B",
    ),
}


def _case(case: str) -> tuple[str, list[str], list[str]]:
    """FILE's text, the command line and the expected (where, key, value, allowed) of a row of either table."""
    if case in CASES:
        text, extra, *expected = CASES[case]
        return text, ["run", FILE, "-q", "-r", "1", "--out", "out", *extra], expected
    args, *expected = DECOMPOSE_CASES[case.removeprefix("decompose: ")]
    return SHORT, ["decompose", *args, "-q", "-r", "2", "-w", "1"], expected


@pytest.mark.parametrize("case", [*CASES, *(f"decompose: {c}" for c in DECOMPOSE_CASES)])
def test_bad_scenario_exits_2_with_one_clear_message_and_writes_nothing(case, tmp_path, monkeypatch):
    text, argv, expected = _case(case)
    _assert_refused(tmp_path, monkeypatch, text, argv, *expected)
