"""Rosters: the template, the questionnaire rule, the scenario a roster becomes, and bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import ROOT
from hypothesis import given
from hypothesis import strategies as st

from ci_sim.cli import main
from ci_sim.experiments.advise import assumptions
from ci_sim.experiments.roster import (
    QUESTIONS,
    RosterProblems,
    anonymize,
    anonymous_name,
    likert_rating,
    load_roster,
    read_tables,
    template_paths,
)
from ci_sim.model.scenario import ScenarioError, validate_scenario
from ci_sim.runs.runner import build_model

EXAMPLE = ROOT / "examples" / "roster_midsize_city.csv"


def test_template_writes_the_shipped_example_exactly(tmp_path):
    out = tmp_path / "city.csv"
    res = CliRunner().invoke(main, ["roster", "template", "--out", str(out)])
    assert res.exit_code == 0, res.output
    for made, shipped in zip(template_paths(out), template_paths(EXAMPLE), strict=True):
        assert made.read_text() == shipped.read_text(), made.name
    assert out.read_text().startswith("# ci-sim roster")


def test_template_refuses_to_overwrite(tmp_path):
    out = tmp_path / "city.xlsx"
    assert CliRunner().invoke(main, ["roster", "template", "--out", str(out)]).exit_code == 0
    before = out.read_bytes()
    res = CliRunner().invoke(main, ["roster", "template", "--out", str(out)])
    assert res.exit_code == 2 and "does not exist yet" in res.output and out.read_bytes() == before


def test_xlsx_and_csv_rosters_make_the_same_scenario(tmp_path):
    out = tmp_path / "city.xlsx"
    CliRunner().invoke(main, ["roster", "template", "--out", str(out)])
    a, b = (load_roster(p).scenario_data("x") for p in (out, EXAMPLE))
    assert {**a, "description": ""} == {**b, "description": ""} and "city.xlsx" in a["description"]


def test_the_example_becomes_the_issues_city():
    r = load_roster(EXAMPLE)
    data = r.scenario_data("city")
    sc = validate_scenario(data)
    assert len(r.organizations) == 60 and r.contested() == ["early_childhood"]
    assert sc.community.partners == 57  # every organization but the three claimants
    area = sc.issue_areas[0]
    assert area.funding.backbone_pool == 15000 and area.funding.program_grants == 200000
    assert area.outcomes == ["prenatal_care", "developmental_screening", "preschool_enrollment", "kindergarten_ready"]
    bb = area.backbone_list()
    assert [b["origin"] for b in bb] == ["partner_agreed", "funder_created", "self_declared"]
    # answers (4, 4, 4, 5): neutrality mean(3/4, 3/4), servant leadership mean(3/4, 4/4)
    assert bb[0]["neutrality"] == 0.75 and bb[0]["servant_leadership"] == 0.875 and bb[0]["in_kind"] == 3000
    assert sc.community.capacity_hours == pytest.approx(r.partners["hours_per_month"].mean())
    assert sum(sc.community.sector_mix.values()) == pytest.approx(1.0)
    # the model's partners are the roster's organizations, its peer ties the roster's collaborations
    m = build_model(sc, 1)
    assert [a.name for a in m.partner_agents] == list(r.partners["name"])
    assert m.capacity.tolist() == r.partners["hours_per_month"].tolist()
    assert [a.sector for a in m.partner_agents] == list(r.partners["sector"])
    names = [a.name for a in m.partner_agents]
    ties = {frozenset((names[i], names[j])) for i, j in m.peer_edges}
    assert ties == {frozenset(pair) for pair in r.collaborations} and len(m.peer_edges) == 171


@pytest.mark.parametrize(("answers", "rating"), [([1], 0.0), ([5], 1.0), ([3], 0.5), ([4, 5], 0.875), ([1, 2], 0.125)])
def test_likert_rule(answers, rating):
    assert likert_rating(answers) == rating


@given(st.lists(st.integers(1, 5), min_size=1, max_size=6), st.integers(0, 5))
def test_likert_rating_is_in_unit_range_and_monotone(answers, i):
    r = likert_rating(answers)
    assert 0.0 <= r <= 1.0
    j = i % len(answers)
    if answers[j] < 5:
        better = [*answers[:j], answers[j] + 1, *answers[j + 1 :]]
        assert likert_rating(better) > r


def test_every_rating_has_questions():
    assert {feeds for _, feeds, _ in QUESTIONS.values()} == {"neutrality", "servant_leadership"}


def test_anonymous_names():
    assert [anonymous_name(i) for i in (0, 25, 26, 27, 701, 702)] == [
        "Organization A",
        "Organization Z",
        "Organization AA",
        "Organization AB",
        "Organization ZZ",
        "Organization AAA",
    ]
    r = anonymize(load_roster(EXAMPLE))
    assert r.names[:3] == ["Organization A", "Organization B", "Organization C"]
    assert [c.name for c in r.claimants] == r.names[:3]


# --------------------------------------------------------------------------- bad input


def _edit(frame: pd.DataFrame, row: int, column: str, value) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[row, column] = value
    return frame


BAD = [
    # (change to the organizations table, expected parts of the message)
    (lambda f: _edit(f, 4, "sector", "nonproft"), ["row 6", "column sector", "'nonproft'", "did you mean 'nonprofit'"]),
    (lambda f: _edit(f, 4, "role", "patner"), ["row 6", "column role", "did you mean 'partner'"]),
    (lambda f: _edit(f, 2, "origin", "self declard"), ["row 4", "column origin", "did you mean 'self declared'"]),
    (
        lambda f: _edit(f, 5, "hours_per_month", "0"),
        ["row 7", "column hours_per_month", "positive number", "(more than 0, at most 400)"],
    ),
    (lambda f: _edit(f, 5, "hours_per_month", "401"), ["row 7", "hours_per_month", "(more than 0, at most 400)"]),
    (lambda f: _edit(f, 5, "hours_per_month", "-3"), ["row 7", "hours_per_month", "positive number"]),
    (lambda f: _edit(f, 5, "hours_per_month", "lots"), ["row 7", "'lots'", "positive number"]),
    (lambda f: _edit(f, 5, "hours_per_month", ""), ["row 7", "(blank)"]),
    (lambda f: _edit(f, 5, "name", "Ready Kids Initiative"), ["row 7", "column name", "row 3 has it too"]),
    (lambda f: _edit(f, 0, "q_no_stake", "6"), ["row 2", "q_no_stake", "1 (strongly disagree) to 5"]),
    (lambda f: _edit(f, 0, "q_no_stake", ""), ["row 2", "q_no_stake", "(blank)"]),
    (lambda f: _edit(f, 1, "preferred", "yes"), ["row 3", "preferred", "one preferred claimant per area"]),
    (lambda f: _edit(f, 0, "own_money_per_month", "-5"), ["row 2", "own_money_per_month", "0 or more"]),
    (lambda f: _edit(f, 8, "backbone_money_per_month", "100"), ["row 10", "blank unless the role is funder"]),
    (lambda f: _edit(f, 8, "origin", "self-declared"), ["row 10", "origin", "blank unless the role is backbone"]),
    (
        lambda f: f.assign(role=f["role"].replace("backbone claimant", "partner")).drop(
            columns=["origin", "own_money_per_month", "preferred", *QUESTIONS]
        ),
        ["column role", "no backbone claimant"],
    ),
    (lambda f: _edit(f, 0, "issue_areas", "housing"), ["row 2, column issue_areas", "housing", "at least one partner"]),
    (
        lambda f: _edit(f, 10, "issue_areas", "early chilhood; education"),
        ["row 12, column issue_areas", "'early chilhood'", "did you mean 'early childhood'?"],
    ),
    (
        lambda f: _edit(f, 10, "issue_areas", "early childhood; housing"),
        ["row 12, column issue_areas", "'housing'", "no outcomes", "bad_outcomes.csv"],
    ),
    (
        lambda f: _edit(f, 40, "name", " riverton ymca"),
        ["row 42, column name", "row 29 has 'Riverton YMCA'"],
    ),
    (
        lambda f: _edit(f, 6, "issue_areas", "early childhood; education; health"),
        ["row 8", "column issue_areas", "at most 2 issue areas"],
    ),
    (lambda f: _edit(f, 6, "issue_areas", "education; education"), ["row 8", "issue_areas", "each issue area once"]),
    (lambda f: f.rename(columns={"sector": "secter"}), ["column secter", "did you mean 'sector'"]),
    (lambda f: f.drop(columns=["hours_per_month"]), ["column hours_per_month", "(missing)"]),
]


def _bad_roster(tmp_path, change):
    for made, shipped in zip(template_paths(tmp_path / "bad.csv"), template_paths(EXAMPLE), strict=True):
        shutil.copy(shipped, made)
    path = tmp_path / "bad.csv"
    frame = read_tables(path)["organizations"]
    change(frame).to_csv(path, index=False)  # no comment lines now: the header is row 1, frame row i is row i + 2
    return path


def _example_copy(tmp_path):
    """The shipped example copied as c.csv (comment lines kept): its path, its lines and the index of Book Bus's line."""
    for made, shipped in zip(template_paths(tmp_path / "c.csv"), template_paths(EXAMPLE), strict=True):
        shutil.copy(shipped, made)
    path = tmp_path / "c.csv"
    lines = path.read_text().splitlines()
    return path, lines, next(i for i, line in enumerate(lines) if line.startswith("Book Bus,"))


@pytest.mark.parametrize(("change", "expected"), BAD)
def test_bad_rosters_exit_2_naming_row_column_value_and_nothing_is_written(tmp_path, change, expected):
    path = _bad_roster(tmp_path, change)
    out = tmp_path / "advice"
    res = CliRunner().invoke(main, ["advise", str(path), "--out", str(out), "-r", "2", "--steps", "12"])
    assert res.exit_code == 2, res.output
    assert str(path) in res.output
    for part in expected:
        assert part in res.output, (part, res.output)
    assert not out.exists()


def test_a_csv_roster_without_its_outcomes_file_names_the_file_expected(tmp_path):
    path = _bad_roster(tmp_path, lambda f: f)
    (tmp_path / "bad_outcomes.csv").unlink()
    res = CliRunner().invoke(main, ["roster", "check", str(path)])
    [line] = [line for line in res.output.splitlines() if line.startswith("error:")]
    assert res.exit_code == 2 and "row 2, column issue_areas" in line and "'early childhood'" in line, line
    assert "the outcomes table is missing" in line and "bad_outcomes.csv beside bad.csv" in line
    assert "only education has default" in line


def _workbook(path, sheets: dict):
    """The template as a workbook at ``path``, its sheets renamed (``sheets``: name -> new name, or None: left out)."""
    CliRunner().invoke(main, ["roster", "template", "--out", str(path.with_name("template.xlsx"))])
    with pd.ExcelWriter(path) as xl:
        for name, frame in pd.read_excel(path.with_name("template.xlsx"), sheet_name=None).items():
            if sheets.get(name, name) is not None:
                frame.to_excel(xl, sheet_name=sheets.get(name, name), index=False)


def test_a_workbook_without_its_outcomes_sheet_names_the_sheet(tmp_path):
    _workbook(tmp_path / "no.xlsx", {"outcomes": None})
    with pytest.raises(ScenarioError) as info:
        load_roster(tmp_path / "no.xlsx")
    assert info.value.path == "row 2, column issue_areas"
    assert "the outcomes table is missing" in info.value.allowed and "a sheet named outcomes" in info.value.allowed


def test_problems_of_every_stage_are_reported_at_once_in_file_order(tmp_path):
    # a bad cell in Book Bus's row (its name is still checked against the collaborations), two
    # preferred claimants, a bad outcome, a collaboration with an unknown organization
    path = _bad_roster(tmp_path, lambda f: _edit(_edit(f, 44, "sector", "nonproft"), 1, "preferred", "yes"))
    outcomes, collab = tmp_path / "bad_outcomes.csv", tmp_path / "bad_collaborations.csv"
    outcomes.write_text(outcomes.read_text() + "early childhood,!!\n")
    collab.write_text(collab.read_text() + "Riverton Public Schols,Book Bus\n")
    n = len(collab.read_text().splitlines())
    with pytest.raises(RosterProblems) as info:
        load_roster(path)
    found = [(Path(p.source).name, p.path) for p in info.value.problems]
    assert found == [
        ("bad.csv", "row 46, column sector"),
        ("bad.csv", "row 3, column preferred"),
        ("bad_outcomes.csv", "row 6, column outcome"),
        ("bad_collaborations.csv", f"row {n}, column organization_a"),
    ]
    res = CliRunner().invoke(main, ["roster", "check", str(path)])
    assert res.exit_code == 2 and len([line for line in res.output.splitlines() if line.startswith("error:")]) == 4


def test_cross_row_rules_are_skipped_only_when_a_bad_row_could_change_them(tmp_path):
    # the claimants' roles misspelt: no claimant can be said, only the three bad rows
    path = _bad_roster(tmp_path, lambda f: f.assign(role=f["role"].replace("backbone claimant", "backbone claimnt")))
    with pytest.raises(RosterProblems) as info:
        load_roster(path)
    assert [p.path for p in info.value.problems] == [f"row {r}, column role" for r in (2, 3, 4)]


def test_names_differing_in_capitals_are_one_organization_in_the_collaborations(tmp_path):
    path = _bad_roster(tmp_path, lambda f: f)
    collab = tmp_path / "bad_collaborations.csv"
    assert ("Dads Matter", "Riverton YMCA") not in load_roster(path).collaborations
    collab.write_text(collab.read_text() + "riverton ymca , DADS MATTER\n")
    assert ("Dads Matter", "Riverton YMCA") in load_roster(path).collaborations


@pytest.mark.parametrize("quoted", [False, True])
def test_a_comma_in_issue_areas_names_the_row_and_the_separator(tmp_path, quoted):
    path, lines, n = _example_copy(tmp_path)
    header = next(i for i, line in enumerate(lines) if line.startswith("name,"))
    cell = '"early childhood, education"' if quoted else "early childhood, education"
    lines[n] = lines[n].replace("early childhood", cell)
    path.write_text("\n".join(lines) + "\n")
    res = CliRunner().invoke(main, ["roster", "check", str(path)])
    if quoted:  # a quoted cell is read whole, and a comma in it separates areas like ";"
        assert res.exit_code == 0, res.output
        areas = load_roster(path).partners.set_index("name")["issue_areas"]
        assert areas["Book Bus"] == ["early_childhood", "education"]
        return
    out = res.output.splitlines()
    assert res.exit_code == 2 and len(out) == 1, res.output
    assert out[0].startswith(f"error: {path}: row {n + 1}: ") and "15 values" in out[0], out[0]
    assert f"the header (row {header + 1}) has 14" in out[0]
    assert (
        "separate several issue areas with ';' (a comma starts a new column), or put the cell in double quotes"
        in out[0]
    )
    assert "C error" not in out[0] and "tokenizing" not in out[0]


def test_an_unclosed_quote_names_its_row(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('# a note\nname,sector\nA,nonprofit\n"Riverton,nonprofit\nB,nonprofit\n')
    res = CliRunner().invoke(main, ["roster", "check", str(path)])
    out = res.output.splitlines()
    assert res.exit_code == 2 and len(out) == 1 and "row 4" in out[0] and "never closed" in out[0], res.output


def test_a_long_first_row_is_not_read_shifted(tmp_path):
    # pandas would take the first column as the index and read every cell one column to the left
    path = tmp_path / "one.csv"
    path.write_text("name,sector,issue_areas,hours_per_month,role\nA,nonprofit,early childhood, education,10,partner\n")
    with pytest.raises(RosterProblems) as info:
        load_roster(path)
    [problem] = info.value.problems
    assert (problem.path, problem.value) == ("row 2", "6 values") and "the header (row 1) has 5" in problem.allowed


def test_blank_lines_are_skipped_and_rows_still_counted_as_in_the_file(tmp_path):
    path, lines, n = _example_copy(tmp_path)
    lines[n] = lines[n].replace("Book Bus,nonprofit", "Book Bus,nonproft")
    lines[n - 3 : n - 3] = ["", ",,,,,,,,,,,,,"]  # an empty line and a row a spreadsheet saved empty
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RosterProblems) as info:
        load_roster(path)
    assert [p.path for p in info.value.problems] == [f"row {n + 3}, column sector"]


def test_education_takes_default_outcomes(tmp_path):
    path = _bad_roster(tmp_path, lambda f: f.assign(issue_areas="education"))
    (tmp_path / "bad_outcomes.csv").unlink()
    r = load_roster(path)
    assert r.areas["education"][0] == "kindergarten_readiness"


def test_bad_collaboration_names_the_side_file(tmp_path):
    path = _bad_roster(tmp_path, lambda f: f)
    side = tmp_path / "bad_collaborations.csv"
    side.write_text(side.read_text() + "Riverton Public Schols,Book Bus\n")
    res = CliRunner().invoke(main, ["roster", "check", str(path)])
    assert res.exit_code == 2 and str(side) in res.output
    assert "did you mean 'Riverton Public Schools'" in res.output


def test_unknown_sheet_and_suffix(tmp_path):
    _workbook(tmp_path / "odd.xlsx", {"organizations": "organisations"})
    res = CliRunner().invoke(main, ["roster", "check", str(tmp_path / "odd.xlsx")])
    assert res.exit_code == 2 and "'organisations'" in res.output and "did you mean 'organizations'" in res.output
    (tmp_path / "r.txt").write_text("name\n")
    res = CliRunner().invoke(main, ["roster", "check", str(tmp_path / "r.txt")])
    assert res.exit_code == 2 and ".csv or .xlsx" in res.output


def test_rows_are_counted_as_a_spreadsheet_shows_them_comment_lines_included(tmp_path):
    path, lines, n = _example_copy(tmp_path)
    lines[n] = lines[n].replace("Book Bus,nonprofit", "Book Bus,nonproft")
    path.write_text("\n".join(lines) + "\n")
    res = CliRunner().invoke(main, ["roster", "check", str(path)])
    assert res.exit_code == 2 and f"row {n + 1}, column sector" in res.output, res.output


def test_two_area_partners_are_the_rosters_and_ties_across_areas_or_with_claimants_are_not_peers(tmp_path):
    # the last 7 organizations (partners) work in early childhood and education, five more in education only
    def change(f):
        f = f.copy()
        f.loc[48:52, "issue_areas"] = "education"
        f.loc[53:, "issue_areas"] = "early childhood; education"
        return f

    path = _bad_roster(tmp_path, change)
    r = load_roster(path)
    sc = validate_scenario(r.scenario_data("two"))
    assert [a.share for a in sc.issue_areas] == [None, None]  # the organizations say who works where
    assert sc.community.second_area_share == pytest.approx(7 / 57)
    assert sc.issue_areas[1].backbone_list() == [] and r.contested() == ["early_childhood"]
    m = build_model(sc, 3)
    two = r.partners["issue_areas"].map(len).to_numpy() == 2
    edu_only = r.partners["issue_areas"].map(lambda a: a == ["education"]).to_numpy()
    assert (m.partner_area2[two] == 1).all() and (m.partner_area2[~two] == -1).all()
    assert (m.partner_area[edu_only] == 1).all() and (m.partner_area[two] == 0).all()
    assert m.partners_per_area.tolist() == [52.0, 12.0]
    ties, with_claimant, across = r.peer_ties()
    areas = dict(zip(r.partners["name"], r.partners["issue_areas"], strict=True))
    assert across == sum(1 for a, b in r.collaborations if not set(areas[a]) & set(areas[b])) > 0
    assert with_claimant == 0 and len(ties) + across == len(r.collaborations)
    assert len(m.peer_edges) == len(ties)
    assert any(f"{across} between partners of different areas" in line for line in assumptions(r, 120, 2, 1, None))


def test_collaborations_with_a_claimant_are_counted_and_left_out(tmp_path):
    for made, shipped in zip(template_paths(tmp_path / "c.csv"), template_paths(EXAMPLE), strict=True):
        shutil.copy(shipped, made)
    side = tmp_path / "c_collaborations.csv"
    side.write_text(side.read_text() + "Ready Kids Initiative,Book Bus\nDads Matter,Bright Beginnings Network\n")
    r = load_roster(tmp_path / "c.csv")
    ties, with_claimant, across = r.peer_ties()
    assert (len(ties), with_claimant, across) == (171, 2, 0)
    sc = validate_scenario(r.scenario_data("c"))
    assert len(sc.community.network.edges) == 171
    assert any("2 with a backbone claimant" in line for line in assumptions(r, 120, 2, 1, None))


def test_roster_check_reports_every_bad_row_one_line_each_and_exits_2(tmp_path):
    import pickle

    def change(f):
        f = _edit(f, 4, "sector", "nonproft")
        f = _edit(f, 9, "hours_per_month", "-3")
        return _edit(f, 20, "role", "patner")

    path = _bad_roster(tmp_path, change)
    res = CliRunner().invoke(main, ["roster", "check", str(path)])
    lines = [line for line in res.output.splitlines() if line.startswith("error:")]
    assert res.exit_code == 2 and len(lines) == 3, res.output
    rows = ["row 6, column sector", "row 11, column hours_per_month", "row 22, column role"]
    for line, where in zip(lines, rows, strict=True):
        assert str(path) in line and where in line, line
    with pytest.raises(RosterProblems) as info:
        load_roster(path)
    assert [p.path for p in info.value.problems] == rows
    again = pickle.loads(pickle.dumps(info.value))  # raised in a worker, re-raised whole
    assert str(again) == str(info.value) and len(again.problems) == 3


def test_a_misspelt_area_points_to_the_area_most_rows_name_even_without_an_outcomes_table(tmp_path):
    path = _bad_roster(tmp_path, lambda f: _edit(f, 10, "issue_areas", "early chilhood"))
    (tmp_path / "bad_outcomes.csv").unlink()
    with pytest.raises(RosterProblems) as info:
        load_roster(path)
    first, typo = info.value.problems
    assert (first.path, first.value) == ("row 2, column issue_areas", "early childhood")
    assert "outcomes table is missing" in first.allowed and "did you mean" not in first.allowed
    assert (typo.path, typo.value) == ("row 12, column issue_areas", "early chilhood")
    assert "did you mean 'early childhood'?" in typo.allowed
