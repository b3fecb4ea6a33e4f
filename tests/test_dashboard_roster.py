"""The dashboard's "Your partnership" view without a browser: uploads, problems, the advice, downloads.

The page itself is driven in test_dashboard_browser.py; here the functions it shows.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import ROOT, import_or_skip

from ci_sim.cli import main
from ci_sim.experiments.roster import load_roster, template_paths, template_tables, write_template
from ci_sim.model.scenario import ScenarioError
from ci_sim.viz.dashboard_roster import (
    MAX_FILE_BYTES,
    OUTPUT_ZIP,
    SETTINGS_FILE,
    Partnership,
    Problem,
    page_settings,
    problems,
    quick_look_note,
    ranking_rows,
    row_name,
    save_uploads,
    size_problem,
    template_bytes,
    zip_folder,
)

EXAMPLE = ROOT / "examples" / "roster_midsize_city.csv"


def _example_files() -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in template_paths(EXAMPLE)]


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def _edited(row: int, column: str, value) -> list[tuple[str, bytes]]:
    """The example with one cell of the organizations table changed (no comment lines: frame row i is row i + 2)."""
    tables = template_tables()
    orgs = tables["organizations"].astype(str)
    orgs.loc[row, column] = value
    return [
        ("city.csv", _csv(orgs)),
        ("city_outcomes.csv", _csv(tables["outcomes"])),
        ("city_collaborations.csv", _csv(tables["collaborations"])),
    ]


@pytest.fixture
def partnership():
    p = Partnership()
    yield p
    p.close()


def test_the_example_roster_has_no_problems_and_stays_in_the_pages_folder(partnership, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing may be written in the working directory
    p = partnership
    p.upload(list(reversed(_example_files())))  # any order: the roster is told from its side tables
    assert p.problems == [] and p.roster is not None
    assert p.roster_name == "roster_midsize_city.csv"
    assert p.summary[0] == "60 organizations, 3 backbone claimants; contested areas: early_childhood"
    assert p.roster.names == load_roster(EXAMPLE).names and len(p.roster.collaborations) == 171
    assert all(f.is_relative_to(p.folder) for f in p.folder.rglob("*"))
    assert list(tmp_path.iterdir()) == []
    assert not p.folder.is_relative_to(ROOT)
    folder = p.folder
    p.close()
    assert not folder.exists()


BAD = [
    # (row of the organizations frame, column, value, expected row, column, value, words of what is allowed)
    (4, "sector", "nonproft", "6", "sector", "nonproft", "did you mean 'nonprofit'"),
    (5, "hours_per_month", "-3", "7", "hours_per_month", "-3", "positive number of hours"),
    # a claimant (no collaboration names it: renaming a partner also leaves its collaborations unknown)
    (2, "name", "Ready Kids Initiative", "4", "name", "Ready Kids Initiative", "row 3 has it too"),
    (0, "q_no_stake", "6", "2", "q_no_stake", "6", "1 (strongly disagree) to 5"),
    (4, "role", "patner", "6", "role", "patner", "did you mean 'partner'"),
]


@pytest.mark.parametrize(("i", "column", "value", "row", "col", "shown", "allowed"), BAD)
def test_a_bad_roster_gives_its_row_column_and_value(partnership, i, column, value, row, col, shown, allowed):
    p = partnership
    p.upload(_edited(i, column, value))
    assert p.roster is None and p.summary == []
    assert len(p.problems) == 1  # one bad cell: one problem
    problem = p.problems[0]
    assert (problem.file, problem.row, problem.column, problem.value) == ("city.csv", row, col, shown)
    assert allowed in problem.allowed


def test_a_problem_in_a_row_names_its_organization_counting_the_files_comment_lines(partnership, tmp_path):
    # the template as ci-sim roster template writes it: 15 comment lines before the header
    roster = tmp_path / "city.csv"
    write_template(roster)
    text = roster.read_text()
    comments = sum(line.startswith("#") for line in text.splitlines())
    assert comments > 0
    orgs = template_tables()["organizations"]
    i = 4  # frame row 4: file line comments + 1 (header) + 4 + 1
    name = orgs.loc[i, "name"]
    line = next(x for x in text.splitlines() if x.startswith(f"{name},"))
    roster.write_text(text.replace(line, line.replace(f",{orgs.loc[i, 'sector']},", ",nonproft,", 1)))
    files = [(f.name, f.read_bytes()) for f in template_paths(roster)]
    partnership.upload(files)
    [problem] = partnership.problems
    assert problem.row == str(comments + 1 + i + 1) and problem.column == "sector"
    assert text.splitlines()[int(problem.row) - 1] == line  # the row is the file's line
    assert problem.organization == name


def test_a_problem_outside_the_organizations_rows_names_no_organization(partnership):
    tables = template_tables()
    collab = pd.concat(
        [tables["collaborations"], pd.DataFrame([["Nobody", "Book Bus"]], columns=tables["collaborations"].columns)]
    )
    files = [("c.csv", _csv(tables["organizations"])), ("c_collaborations.csv", _csv(collab))]
    partnership.upload(files + [("c_outcomes.csv", _csv(tables["outcomes"]))])
    [problem] = partnership.problems
    assert problem.file == "c_collaborations.csv" and problem.row and problem.organization == ""
    partnership.upload([("people.csv", b"first,last\nAda,Lovelace\n")])  # a column problem: no row
    [problem] = partnership.problems
    assert problem.row == "" and problem.organization == ""


def test_every_bad_row_is_shown_at_once_in_row_order(partnership):
    tables = template_tables()
    orgs = tables["organizations"].astype(str)
    orgs.loc[30, "hours_per_month"] = "lots"
    orgs.loc[4, "sector"] = "nonproft"
    orgs.loc[12, "role"] = "patner"
    orgs.loc[12, "sector"] = "busines"  # a second problem in one row: the row's first is shown
    files = [("city.csv", _csv(orgs)), ("city_outcomes.csv", _csv(tables["outcomes"]))]
    partnership.upload(files + [("city_collaborations.csv", _csv(tables["collaborations"]))])
    shown = [(x.row, x.organization, x.column, x.value) for x in partnership.problems]
    names = orgs["name"]
    assert shown == [
        ("6", names[4], "sector", "nonproft"),
        ("14", names[12], "sector", "busines"),
        ("32", names[30], "hours_per_month", "lots"),
    ]
    assert partnership.roster is None


def test_a_problem_in_a_side_table_names_the_file_as_uploaded(partnership):
    tables = template_tables()
    collab = pd.concat(
        [
            tables["collaborations"],
            pd.DataFrame([["Riverton Public Schols", "Book Bus"]], columns=tables["collaborations"].columns),
        ]
    )
    files = [
        ("My Partnership.csv", _csv(tables["organizations"])),
        ("city_outcomes.csv", _csv(tables["outcomes"])),
        ("city_collaborations.csv", _csv(collab)),  # another prefix: saved beside the roster under its name
    ]
    partnership.upload(files)
    [problem] = partnership.problems
    assert problem.file == "city_collaborations.csv" and problem.column == "organization_a"
    assert problem.row == str(len(collab) + 1) and "did you mean 'Riverton Public Schools'" in problem.allowed


NOT_ROSTERS = [
    ([("notes.txt", b"name\n")], "notes.txt", ".csv or .xlsx"),
    ([("photo.csv", bytes(range(256)) * 4)], "photo.csv", "CSV UTF-8"),
    ([("quote.csv", b'name,sector\n"Riverton,nonprofit\n')], "quote.csv", "one row per line"),
    ([("book.xlsx", b"PK\x03\x04 not really a workbook")], "book.xlsx", "Excel workbook"),
    ([("empty.csv", b"")], "empty.csv", "a header row"),
    ([("people.csv", b"first,last\nAda,Lovelace\n")], "people.csv", "a known column"),
    ([], "upload", "a roster"),
    ([("a.csv", b"x"), ("b.csv", b"y")], "upload", "one roster at a time"),
    ([("city_outcomes.csv", b"area,outcome\n")], "upload", "the roster itself"),
    ([("a.xlsx", b"x"), ("a_outcomes.csv", b"y")], "a.xlsx", "one .xlsx workbook alone"),
    ([("a.csv", b"x"), ("a_outcomes.csv", b"y"), ("b_outcomes.csv", b"z")], "b_outcomes.csv", "one outcomes table"),
    ([("big.csv", b"x" * (MAX_FILE_BYTES + 1))], "big.csv", "at most 5 MB"),
]


@pytest.mark.parametrize(("files", "file", "allowed"), NOT_ROSTERS)
def test_a_file_that_is_not_a_roster_is_refused_with_a_message(partnership, files, file, allowed):
    partnership.upload(files)
    assert partnership.roster is None
    [problem] = partnership.problems
    assert problem.file == file and allowed in problem.allowed, problem


def test_row_name_is_blank_for_a_row_the_table_does_not_have():
    orgs = pd.DataFrame({"name": ["  Ada Center ", "", "Bo Trust"], "sector": ["nonprofit", "funder", "funder"]})
    orgs.attrs["rows"] = [17, 18, 20]  # row 19 was an empty line the reader skipped
    assert [row_name(orgs, r) for r in (16, 17, 18, 19, 20, 21)] == ["", "Ada Center", "", "", "Bo Trust", ""]
    assert row_name(orgs.drop(columns="name"), 17) == ""
    twice = pd.DataFrame([["A", "B"]], columns=["name", "name"])  # the loader reads the first
    twice.attrs["rows"] = [2]
    assert row_name(twice, 2) == "A"


def test_an_upload_the_second_read_cannot_read_still_shows_its_problem(partnership, monkeypatch):
    import ci_sim.viz.dashboard_roster as dr

    def broken(path):
        raise OSError("gone")

    monkeypatch.setattr(dr, "read_tables", broken)
    partnership.upload(_edited(4, "sector", "nonproft"))
    [problem] = partnership.problems
    assert (problem.row, problem.column, problem.organization) == ("6", "sector", "")


def test_the_template_download_is_a_workbook_the_loader_reads(tmp_path):
    import_or_skip("openpyxl")
    path = tmp_path / "downloaded.xlsx"
    path.write_bytes(template_bytes())
    assert path.read_bytes()[:2] == b"PK"
    assert load_roster(path).names == load_roster(EXAMPLE).names
    assert list(tmp_path.iterdir()) == [path]  # the temporary copy is gone


def test_a_quick_look_says_so_and_twenty_runs_do_not():
    assert quick_look_note(20) == quick_look_note(40) == ""
    note = quick_look_note(4)
    assert note.startswith("A quick look with 4 paired runs per strategy") and "20 or more" in note


def test_page_settings_give_the_equivalent_advise_command():
    s = page_settings("Lakeside.csv", 4, False, steps=36)
    assert (s["runs_per_strategy"], s["anonymized"], s["metric"], s["steps"], s["posterior"]) == (
        4,
        False,
        "indicators_improving",
        36,
        "strive",
    )
    assert s["seed"] == 2026 and s["merge_year"] == 2 and s["explain"] is True  # run_advice's defaults
    command = s["command_line"]
    assert command[:3] == ["ci-sim", "advise", "Lakeside.csv"]
    assert command[command.index("--replications") + 1] == "4" and command[command.index("--steps") + 1] == "36"
    assert "--anonymize" not in command and "--no-reasons" not in command
    hidden = page_settings("Lakeside.csv", 10, True, explain=False)
    assert hidden["roster"] == "roster (anonymized)" and "Lakeside" not in json.dumps(hidden)
    assert "--anonymize" in hidden["command_line"] and "--no-reasons" in hidden["command_line"]


def test_the_advise_command_of_the_page_settings_is_one_the_cli_accepts():
    s = page_settings("roster.csv", 4, True, steps=36, merge_year=1, explain=False)
    ctx = main.commands["advise"].make_context("advise", s["command_line"][2:])
    assert (ctx.params["replications"], ctx.params["steps"], ctx.params["merge_year"]) == (4, 36, 1)
    assert ctx.params["anonymize"] is True and ctx.params["reasons"] is False
    assert ctx.params["metric"] == s["metric"] and ctx.params["posterior"] == s["posterior"]


def test_a_file_too_big_is_refused_before_it_is_read():
    assert size_problem("ok.csv", MAX_FILE_BYTES) is None
    problem = size_problem("big.xlsx", 12 * 2**20)
    assert isinstance(problem, ScenarioError) and problem.value == "12.0 MB" and "at most 5 MB" in problem.allowed


def test_uploads_are_saved_inside_the_folder_whatever_their_names(tmp_path):
    files = [("..\\..\\evil.csv", b"a"), ("../../x/evil_outcomes.csv", b"b")]
    path, names = save_uploads(files, tmp_path / "up")
    assert path == tmp_path / "up" / "evil.csv" and (tmp_path / "up" / "evil_outcomes.csv").read_bytes() == b"b"
    assert names == {"evil.csv": "evil.csv", "evil_outcomes.csv": "evil_outcomes.csv"}
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["evil.csv", "evil_outcomes.csv", "up"]


def test_problems_read_the_loaders_key_paths():
    assert problems(ScenarioError("/tmp/x/city.csv", "row 7, column sector", "nonproft", "one of: nonprofit")) == [
        Problem("city.csv", "7", "sector", "nonproft", "one of: nonprofit")
    ]
    assert problems(ScenarioError("/t/c.xlsx (sheet organizations)", "column secter", "secter", "a known column")) == [
        Problem("c.xlsx (sheet organizations)", "", "secter", "secter", "a known column")
    ]
    # a row with more values than the header: a row, no column
    assert problems(ScenarioError("/t/city.csv", "row 61", "15 values", "at most 14 values")) == [
        Problem("city.csv", "61", "", "15 values", "at most 14 values")
    ]
    [whole] = problems(ScenarioError("/t/saved.csv", "", None, "one row per organization"), {"saved.csv": "mine.csv"})
    assert whole == Problem("mine.csv", "", "", "", "one row per organization")


def test_ranking_rows_say_shares_in_percent_and_differences_in_points():
    ranking = pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "strategy": ["Merge now", "Keep as is", "Shared data"],
            "mean": [0.75, 0.5, 0.7],
            "ci_low": [0.6, 0.4, 0.55],
            "ci_high": [0.9, 0.6, 0.85],
            "diff": [0.0, -0.25, -0.05],
            "diff_ci_low": [0.0, -0.35, -0.15],
            "diff_ci_high": [0.0, -0.15, 0.05],
            "verdict": ["recommended", "worse", "too close to call"],
        }
    )
    rows = ranking_rows(ranking)
    assert [r["Strategy"] for r in rows] == ["Merge now", "Keep as is", "Shared data"]
    assert rows[0]["Indicators improving"] == "75% (60% to 90%)" and rows[0]["Against the recommended"] == ""
    assert rows[1]["Against the recommended"] == "-25 points (-35 to -15)"
    assert rows[2]["Verdict"] == "too close to call"
    assert ranking_rows(ranking, "meeting_hours")[1]["Against the recommended"] == "-0.25 (-0.35 to -0.15)"


def test_zip_holds_every_result_file_and_no_hidden_one(tmp_path):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "1_keep.yaml").write_text("a: 1\n")
    (tmp_path / "brief_a4.pdf").write_bytes(b"%PDF-1.7")
    (tmp_path / ".staging").write_text("x")
    with zipfile.ZipFile(io.BytesIO(zip_folder(tmp_path))) as z:
        assert sorted(z.namelist()) == ["advice/brief_a4.pdf", "advice/scenarios/1_keep.yaml"]
        assert z.read("advice/brief_a4.pdf") == b"%PDF-1.7"


def test_a_file_that_is_not_csv_text_is_bad_input_for_roster_check_too(tmp_path):
    path = tmp_path / "picture.csv"
    path.write_bytes(bytes(range(256)))
    res = CliRunner().invoke(main, ["roster", "check", str(path)])
    assert res.exit_code == 2 and str(path) in res.output and "CSV UTF-8" in res.output, res.output


def _texts(folder: Path) -> dict[str, str]:
    """The text of every result file (the PDFs' text read with pypdf)."""
    import pypdf

    out = {}
    for f in folder.rglob("*"):
        if f.suffix == ".pdf":
            out[f.name] = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(f).pages).split())
        elif f.suffix == ".parquet":
            out[f.name] = pd.read_parquet(f).to_csv()
        elif f.is_file():
            out[f.name] = f.read_text()
    return out


def test_the_advice_runs_in_a_thread_and_anonymized_names_no_organization(partnership):
    import_or_skip("pypdf")
    import_or_skip("weasyprint")
    p = partnership
    p.upload(_example_files())
    changed = []
    thread = p.start(3, True, on_change=lambda: changed.append(p.running), steps=36, merge_year=1, workers=1)
    assert thread is not None and p.running
    assert p.start(3, True) is None  # one run at a time
    thread.join(timeout=600)
    assert changed == [False] and p.error == "" and p.ranking is not None
    assert p.lead.startswith("<p class='lead'><b>Recommended: ") and p.ranking.strategy.iloc[0] in p.lead
    assert len(ranking_rows(p.ranking)) == 7
    assert p.download("brief_a4.pdf").startswith(b"%PDF") and p.download("brief_letter.pdf").startswith(b"%PDF")
    with zipfile.ZipFile(io.BytesIO(p.download(OUTPUT_ZIP))) as z:
        names = z.namelist()
        settings = json.loads(z.read(f"advice/{SETTINGS_FILE}"))
        manifest = json.loads(z.read("advice/manifest.json"))
    assert "advice/strategies.yaml" in names and "advice/brief.html" in names
    assert (settings["runs_per_strategy"], settings["anonymized"], settings["steps"]) == (3, True, 36)
    assert manifest["command_line"] == settings["command_line"]  # not the server's command line
    assert p.replications == 3 and "3 paired runs" in quick_look_note(p.replications)
    assert sum(n.startswith("advice/scenarios/") and n.endswith(".yaml") for n in names) == 7
    assert p.out.is_relative_to(p.folder)
    texts = _texts(p.out)
    texts["page"] = p.lead + str(ranking_rows(p.ranking))
    for name in load_roster(EXAMPLE).names:
        for f, text in texts.items():
            assert name not in text, (name, f)
    assert "Organization A" in texts["brief.html"]


def test_the_command_the_page_records_gives_the_pages_numbers(partnership, tmp_path):
    import_or_skip("weasyprint")
    p = partnership
    p.upload(_example_files())
    p.start(2, False, steps=24, merge_year=1, workers=1, explain=False).join(timeout=600)
    assert p.error == "" and p.ranking is not None
    command = json.loads((p.out / SETTINGS_FILE).read_text())["command_line"]
    assert command[2] == EXAMPLE.name  # the roster as uploaded
    args = [str(EXAMPLE), *command[3:], "--out", str(tmp_path / "cli"), "--workers", "1", "-q"]
    res = CliRunner().invoke(main, command[1:2] + args)
    assert res.exit_code == 0, res.output
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "cli" / "ranking.csv"), pd.read_csv(p.out / "ranking.csv"))


def test_a_run_still_going_when_the_page_closes_leaves_nothing_behind():
    import_or_skip("weasyprint")
    p = Partnership()
    p.upload(_example_files())
    thread = p.start(2, False, steps=24, merge_year=1, workers=1, explain=False)
    p.close()
    assert not p.folder.exists()
    thread.join(timeout=600)
    assert not p.folder.exists() and p.ranking is None


def test_the_pages_session_makes_the_folder_on_first_view_and_removes_it_when_closed():
    import_or_skip("solara")
    from ci_sim.viz.dashboard import Session

    s = Session("single_backbone")
    try:
        assert s.partnership is None  # no folder for a page that never opens the view
        generation = s.generation
        s.set_view("partnership")
        assert s.generation != generation  # a month drawn ahead for the view left is dropped
        s._draw_ahead(1, s.generation)  # and a drawing ahead in this view draws the single lane, not the compare view's
        assert list(s.ahead[2]) == ["one"]
        folder = s.partnership.folder
        assert folder.is_dir() and s.horizon == 120 and s.shown_lanes() == [s.single]
        s.set_view("one")
        s.set_view("partnership")
        assert s.partnership.folder == folder  # the same roster and results when coming back
        s.close()
        assert not folder.exists() and s.closed
    finally:
        s.close()  # a failed assertion leaves no folder behind either
