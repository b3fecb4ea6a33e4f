"""Rosters: a community's own partnership, described in a spreadsheet, made into a scenario.

A roster is a CSV file or an Excel workbook (.xlsx) with one row per organization (the sheet
``organizations``, or the CSV itself) and two optional tables: ``outcomes`` (area, outcome: the
outcomes of an area the model has no defaults for; only ``education`` has them) and
``collaborations`` (organization_a, organization_b: who already works with whom). A CSV roster
``city.csv`` takes them from ``city_outcomes.csv`` and ``city_collaborations.csv`` beside it.
Lines of a CSV starting with ``#`` before the header are comments.

Columns of ``organizations`` (docs/roster.md has the full reference):

- ``name`` (unique, whatever its capitals and spaces), ``sector`` (one of
  :data:`~ci_sim.model.scenario.SECTORS`, spaces allowed), ``issue_areas`` (one or more,
  separated by ``;``; a comma only in a quoted cell), ``hours_per_month`` (more than 0, at most
  400: the hours it gives to the collaboration), ``role`` (:data:`ROLES`);
- claimants only: ``origin`` (:data:`ORIGINS`: how it came to the role), ``own_money_per_month``
  ($ it spends on the role itself), ``preferred`` (``yes`` for the claimant the partners would keep),
  and the questionnaire :data:`QUESTIONS` (1 strongly disagree ... 5 strongly agree);
- funders: ``backbone_money_per_month`` and ``program_grants_per_month`` ($, split evenly over the
  funder's areas).

The questionnaire becomes the model's backbone ratings by :func:`likert_rating`: each answer
``a`` in 1..5 is ``(a - 1) / 4`` on the model's 0–1 scale, and a rating is the mean of its items
(:data:`QUESTIONS` says which). The items are the Collective Impact Forum's backbone
effectiveness indicators and sources of influence (Collective Impact Forum 2019, *Virtual Office
Hour: Navigating the Backbone Role*, https://www.collectiveimpactforum.org/tags/backbone) in
plain words.

Each partner organization is one of the scenario's ``community.organizations`` (its sector, its
area or two, its hours), so the model's partners are the roster's, not drawn. The collaborations
between partners of one area are the peer network (``community.network.edges``); a tie with a
backbone claimant (the model links partners to backbones by trust and attention, not as peers)
or between partners of different areas (peers influence agendas within an area) is not used, and
the brief says how many.

Every problem is a :class:`~ci_sim.model.scenario.ScenarioError` naming the file (and sheet),
the row as a spreadsheet numbers it (the header is its own row: a CSV's comment lines count, an
empty row is skipped but counted), the column, the bad value and what is allowed, with a
did-you-mean for near misses. They are raised together (:class:`RosterProblems`) so that a
leader sees everything to fix at once: the rows of the organizations table (a row's first
problem), the rules across its rows (made from what every row says; one a bad row could change
waits for it), the rows of the outcomes table and the areas without outcomes (a misspelt area
gets a did-you-mean; a missing outcomes file or sheet is named), the rows of the collaborations
table (against the names of all rows). Names are one organization whatever their capitals and
spaces. A CSV row with more values than the header (a comma between issue areas) is said as
such, with its row.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ci_sim.model.scenario import EDUCATION_OUTCOMES, SECTORS, ScenarioError, validate_scenario

#: roles an organization can have (the roster's words, spaces or underscores)
ROLES = ("partner", "backbone_claimant", "funder", "convener_candidate")
#: how a claimant came to the role -> the scenario's backbone ``origin`` (docs/ODD.md §7.4: legitimacy)
ORIGINS = {
    "agreed_by_partners": "partner_agreed",
    "created_by_funders": "funder_created",
    "self_declared": "self_declared",
    # the scenario's own words are accepted too
    "partner_agreed": "partner_agreed",
    "funder_created": "funder_created",
}
#: the questionnaire: column -> (statement rated 1..5, the model rating it feeds, its source)
QUESTIONS: dict[str, tuple[str, str, str]] = {
    "q_neutral_inclusive": (
        "Its staff are neutral and inclusive.",
        "neutrality",
        'CI Forum effectiveness indicator "BB staff are both neutral and inclusive"',
    ),
    "q_no_stake": (
        "It has no stake of its own in which partners or programs get the money.",
        "neutrality",
        'CI Forum source of influence "Honest Broker: objectivity of having no personal stake"',
    ),
    "q_behind_scenes": (
        "It stays behind the scenes.",
        "servant_leadership",
        "CI Forum \"Stay 'behind the scenes' to establish collective ownership\"",
    ),
    "q_partners_credit": (
        "Partners get the credit for results, not the organization.",
        "servant_leadership",
        'CI Forum visibility indicator "sense that backbone does not seek to take credit"',
    ),
}
LIKERT = (1, 2, 3, 4, 5)
COLUMNS = [
    "name",
    "sector",
    "issue_areas",
    "hours_per_month",
    "role",
    "origin",
    "own_money_per_month",
    "preferred",
    *QUESTIONS,
    "backbone_money_per_month",
    "program_grants_per_month",
]
REQUIRED = ["name", "sector", "issue_areas", "hours_per_month", "role"]
SHEETS = ("organizations", "outcomes", "collaborations")
SHEET_COLUMNS = {"outcomes": ["area", "outcome"], "collaborations": ["organization_a", "organization_b"]}
#: issue areas a partner can work in (the model: a home area and at most one second area, ODD §5)
MAX_PARTNER_AREAS = 2
YES, NO = ("yes", "y", "true", "1"), ("no", "n", "false", "0", "")
#: most hours a month an organization can give (about 2.5 full-time staff)
MAX_HOURS = 400
HOURS = f"a positive number of hours a month (more than 0, at most {MAX_HOURS})"
#: what separates several issue areas in a cell (a comma only inside a quoted CSV cell or in a workbook)
AREA_SEPARATORS = r"[;,]"
#: the hint for a CSV row with more values than its header
COMMA_HINT = {
    "organizations": "separate several issue areas with ';' (a comma starts a new column), or put the cell in "
    "double quotes",
    "other": "a comma starts a new column: put a cell with a comma in double quotes",
}


def likert_rating(answers: list[int]) -> float:
    """A model rating (0–1) from Likert answers (1..5): the mean of ``(a - 1) / 4``.

    1 (strongly disagree) is 0, 3 (neither) is 0.5, 5 (strongly agree) is 1: a linear rule, the
    simplest that keeps the questionnaire's order and ends. Raises ValueError on an empty list.
    """
    if not answers:
        raise ValueError("no answers")
    return sum((a - 1) / 4 for a in answers) / len(answers)


def words(text: str) -> str:
    """A roster's words as the scenario's: lower case, spaces and hyphens as ``_`` (Self-declared: self_declared)."""
    return re.sub(r"[\s\-]+", "_", str(text).strip().lower())


@dataclass
class Claimant:
    name: str
    area: str
    origin: str
    own_money: float
    preferred: bool
    neutrality: float
    servant_leadership: float
    answers: dict[str, int]


@dataclass
class Roster:
    """A validated roster: the organizations and what the scenario is built from."""

    source: str
    organizations: pd.DataFrame
    areas: dict[str, list[str]]  # area -> outcomes
    claimants: list[Claimant]
    partners: pd.DataFrame  # the rows that are partners in the model (everyone but claimants)
    area_members: dict[str, list[str]]  # area -> names of its partners
    backbone_money: dict[str, float]
    program_grants: dict[str, float]
    collaborations: list[tuple[str, str]] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return list(self.organizations["name"])

    def contested(self) -> list[str]:
        """Areas with two or more claimants (where strategies differ)."""
        return [a for a in self.areas if len(self.claimants_of(a)) >= 2]

    def claimants_of(self, area: str) -> list[Claimant]:
        return [c for c in self.claimants if c.area == area]

    def peer_ties(self) -> tuple[list[tuple[str, str]], int, int]:
        """The collaborations the model takes as peer ties, and how many it leaves out.

        Returns:
            ``(ties, with_claimant, across_areas)``: the pairs of partners who share an issue area
            (the peer network P, ODD §5), the number of pairs with a backbone claimant (the model
            links partners to backbones by trust and attention), and of pairs of partners who share
            no area (peers influence agendas within an area).
        """
        areas = dict(zip(self.partners["name"], self.partners["issue_areas"], strict=True))
        ties, with_claimant, across = [], 0, 0
        for a, b in self.collaborations:
            if a not in areas or b not in areas:
                with_claimant += 1
            elif not set(areas[a]) & set(areas[b]):
                across += 1
            else:
                ties.append((a, b))
        return ties, with_claimant, across

    def scenario_data(self, name: str, steps: int = 120, replications: int = 20, seed: int = 2026) -> dict[str, Any]:
        """The community as raw scenario data (a ``ci-sim run`` file), before any strategy.

        Partners are every organization but the claimants (who are the area's backbones), each
        listed in ``community.organizations`` with its sector, area(s) (its first listed area is
        its home area) and hours; the collaborations among them are ``community.network.edges``
        (:meth:`peer_ties`). Funders' money is split evenly over their areas.
        """
        community: dict[str, Any] = {
            "organizations": [
                {"name": n, "sector": s, "areas": list(a), "hours": float(h)}
                for n, s, a, h in zip(
                    self.partners["name"],
                    self.partners["sector"],
                    self.partners["issue_areas"],
                    self.partners["hours_per_month"],
                    strict=True,
                )
            ]
        }
        if self.collaborations:
            community["network"] = {"edges": [list(pair) for pair in self.peer_ties()[0]]}
        areas = []
        for a in self.areas:
            spec: dict[str, Any] = {"name": a, "outcomes": self.areas[a]}
            claimants = self.claimants_of(a)
            spec["backbones"] = [
                {
                    "name": c.name,
                    "neutrality": round(c.neutrality, 6),
                    "servant_leadership": round(c.servant_leadership, 6),
                    "origin": c.origin,
                    "in_kind": c.own_money,
                }
                for c in claimants
            ] or {"count": 0}
            spec["funding"] = {
                "backbone_pool": round(self.backbone_money.get(a, 0.0), 2),
                "program_grants": round(self.program_grants.get(a, 0.0), 2),
            }
            areas.append(spec)
        return {
            "format": 2,
            "name": name,
            "description": f"built by ci-sim from the roster {Path(self.source).name}",
            "steps": steps,
            "replications": replications,
            "seed": seed,
            "community": community,
            "issue_areas": areas,
            "events": [],
        }


# --------------------------------------------------------------------------- reading


def _err(source: str, row: int | None, column: str, value: Any, allowed: str) -> ScenarioError:
    where = f"row {row}, column {column}" if row is not None else f"column {column}"
    return ScenarioError(source, where, value, allowed)


def _choice(source: str, row: int, column: str, raw: Any, allowed: list[str]) -> str:
    value = words(raw)
    if value in allowed:
        return value
    near = difflib.get_close_matches(value, allowed, n=1, cutoff=0.6)
    hint = f" (did you mean {near[0].replace('_', ' ')!r}?)" if near else ""
    shown = ", ".join(a.replace("_", " ") for a in allowed)
    raise _err(source, row, column, raw, f"one of: {shown}{hint}")


def _number(source: str, row: int, column: str, raw: Any, positive: bool = False, blank: float | None = 0.0) -> float:
    if raw is None or (isinstance(raw, float) and math.isnan(raw)) or str(raw).strip() == "":
        if blank is None:
            raise _err(source, row, column, "(blank)", "a number" + (" above 0" if positive else ""))
        return blank
    text = str(raw).strip().replace(",", "").lstrip("$")
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        what = HOURS if positive else "a number of 0 or more"
        raise _err(source, row, column, raw, what)
    return value


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, float) and math.isnan(raw)) or str(raw).strip() == ""


def _numbered(frame: pd.DataFrame, first: int) -> pd.DataFrame:
    """The table without its empty rows, ``attrs["rows"]`` the row number of each row kept (first row ``first``).

    An empty row (a blank line, or a row of empty cells a spreadsheet saved) is skipped, and the
    rows after it keep the numbers a spreadsheet shows.
    """
    empty = frame.map(_blank).all(axis=1)
    rows = [first + i for i, e in enumerate(empty) if not e]
    frame = frame[~empty.to_numpy()].reset_index(drop=True)
    frame.attrs["rows"] = rows
    return frame


def _read_csv(path: Path, table: str) -> pd.DataFrame:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:  # a workbook or picture named .csv, or another encoding
        raise ScenarioError(str(path), "", path.name, f"a CSV file saved as 'CSV UTF-8' (byte {exc.start})") from None
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if not line.lstrip().startswith("#")), len(lines))
    body = "".join(lines[start:])
    if not body.strip():
        raise ScenarioError(str(path), "", "(empty)", "a header row and one row per organization")
    rows = _csv_problems(path, body, start + 1, table)
    if rows:
        raise rows
    try:
        frame = pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False, skip_blank_lines=False)
    except pd.errors.ParserError as exc:  # what the csv module let pass
        allowed = f"a CSV table with one row per line ({' '.join(str(exc).split())})"
        raise ScenarioError(str(path), "", path.name, allowed) from None
    return _numbered(frame, start + 2)  # the header is line start + 1 of the file


def _csv_problems(path: Path, body: str, header_row: int, table: str) -> RosterProblems | None:
    """The rows of a CSV table with more values than its header, or a quote never closed (None if none).

    Found with :mod:`csv` before pandas reads the table: pandas says "Expected 14 fields in line
    40, saw 15" (its line counts from the header, and a leader meets neither word), and when the
    first row is the long one it silently takes the first column as the index and shifts the
    rest. Rows are numbered as in the file (the header is ``header_row``).
    """
    where = str(path)
    reader = csv.reader(io.StringIO(body), strict=True)
    problems, row = [], header_row
    try:
        width = len(next(reader))
        for rec in reader:
            row += 1
            if len(rec) > width:
                hint = COMMA_HINT["organizations" if table == "organizations" else "other"]
                allowed = f"at most {width} values: the header (row {header_row}) has {width}; {hint}"
                problems.append(ScenarioError(where, f"row {row}", f"{len(rec)} values", allowed))
    except csv.Error:  # the end of the file inside a quoted cell: the quote opened in the next row
        problems.append(
            ScenarioError(
                where, f"row {row + 1}", "(a double quote never closed)", 'one row per line: end a quoted cell with "'
            )
        )
    return RosterProblems(problems) if problems else None


def read_tables(path: str | Path) -> dict[str, pd.DataFrame]:
    """The roster's tables by sheet name (``organizations``; ``outcomes`` and ``collaborations`` if given).

    Raises:
        ScenarioError: a missing or unreadable file, an unknown sheet, a wrong suffix.
    """
    p = Path(path)
    if not p.is_file():
        raise ScenarioError(str(p), "", str(p), "an existing roster file (.csv or .xlsx)")
    suffix = p.suffix.lower()
    tables: dict[str, pd.DataFrame] = {}
    if suffix == ".csv":
        tables["organizations"] = _read_csv(p, "organizations")
        for sheet in SHEETS[1:]:
            side = p.with_name(f"{p.stem}_{sheet}.csv")
            if side.is_file():
                tables[sheet] = _read_csv(side, sheet)
                tables[sheet].attrs["source"] = str(side)
    elif suffix == ".xlsx":
        try:
            sheets = pd.read_excel(p, sheet_name=None, dtype=str, keep_default_na=False)
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook gets the same message
            raise ScenarioError(str(p), "", p.name, f"an Excel workbook (.xlsx) ({exc})") from None
        for name, frame in sheets.items():
            key = words(name)
            if key == "readme":
                continue  # the template's notes
            if key not in SHEETS:
                near = difflib.get_close_matches(key, SHEETS, n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise ScenarioError(str(p), f"sheet {name!r}", name, f"sheets {', '.join(SHEETS)} or README{hint}")
            tables[key] = _numbered(frame, 2)
        if "organizations" not in tables:
            raise ScenarioError(str(p), "sheets", list(sheets), "a sheet named organizations")
    else:
        raise ScenarioError(str(p), "", p.suffix or p.name, "a roster file ending in .csv or .xlsx")
    for sheet, frame in tables.items():
        frame.columns = [words(c) for c in frame.columns]
        frame.attrs.setdefault("source", f"{p} (sheet {sheet})" if suffix == ".xlsx" else str(p))
    return tables


class RosterProblems(ScenarioError):
    """Every row of a roster that cannot be used, one problem per row (the first also as this error's own fields).

    Attributes:
        problems: the :class:`ScenarioError` of each bad row, in row order (file, ``row R, column C``,
            value, what is allowed).
    """

    def __init__(self, problems: list[ScenarioError]):
        first = problems[0]
        super().__init__(first.source, first.path, first.value, first.allowed)
        self.problems = list(problems)

    def __str__(self) -> str:
        return "\n".join(ScenarioError.__str__(p) for p in self.problems)

    def __reduce__(self):
        return type(self), (self.problems,)


def load_roster(path: str | Path) -> Roster:
    """Read and validate a roster.

    Refused, with the reason: an unknown or missing column; a bad sector, role, origin or answer;
    hours that are not a positive number (at most 400); money below 0; duplicate names (names
    differing only in capitals or spaces are one name); no claimant; an area without a partner; an
    area other than education without outcomes (with a did-you-mean for a misspelt area, or the
    outcomes file or sheet it is missing from); two preferred claimants in one area; a collaboration
    naming an organization not in the roster (names are matched whatever their capitals).

    The problems are gathered from every check that can still be made, in the order: rows of the
    organizations table, rules across its rows, rows of the outcomes table and areas without
    outcomes, rows of the collaborations table. A check that a bad row could change is skipped
    (no claimant, while a row's role cannot be read); one that cannot is made from what the bad
    rows say (a collaboration is checked against the name of every row that has one).

    Raises:
        RosterProblems: every problem found (each: file, ``row R, column C``, value, what is
            allowed; a row's first problem). A :class:`ScenarioError`: a file that cannot be read
            as a table, or an unknown or missing column of the organizations table.
    """
    p = Path(path)
    tables = read_tables(p)
    orgs = tables["organizations"]
    src = orgs.attrs["source"]
    for col in orgs.columns:
        if col not in COLUMNS:
            near = difflib.get_close_matches(col, COLUMNS, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise _err(src, None, col, col, f"a known column{hint}: {', '.join(COLUMNS)}")
    for col in REQUIRED:
        if col not in orgs.columns:
            raise _err(src, None, col, "(missing)", f"a column named {col} (required: {', '.join(REQUIRED)})")
    if orgs.empty:
        raise ScenarioError(src, "", "(no rows)", "one row per organization")
    facts = [_facts(r, rec) for r, rec in _records(orgs)]
    seen: dict[str, tuple[int, str]] = {}
    checked, problems = _each_row(orgs, lambda r, rec: _organization(src, r, rec, seen))
    first_use: dict[str, tuple[int, str]] = {}  # area -> (first row naming it, as written there)
    for f in facts:
        for area, raw in f.areas:
            first_use.setdefault(area, (f.row, raw))
    found, without_partner = _across_rows(src, facts, first_use)
    problems += found
    uses = {area: sum(area in dict(f.areas) for f in facts) for area in first_use}
    outcomes, found = _outcomes(tables.get("outcomes"), src, first_use, uses, without_partner, p)
    problems += found
    names: dict[str, str] = {}  # name key -> the name as its first row writes it
    for f in facts:
        if f.name:
            names.setdefault(_key(f.name), f.name)
    edges, found = _collaborations(tables.get("collaborations"), names)
    problems += found
    if problems:
        raise RosterProblems(problems)
    rows = [row for row, _ in checked]
    claimants = [c for _, c in checked if c is not None]
    frame = pd.DataFrame(rows)
    area_order = list(first_use)
    partners = frame[frame["role"] != "backbone_claimant"].reset_index(drop=True)
    members = {
        a: [n for n, ar in zip(partners["name"], partners["issue_areas"], strict=True) if a in ar] for a in area_order
    }
    money, grants = dict.fromkeys(area_order, 0.0), dict.fromkeys(area_order, 0.0)
    for row in rows:
        for a in row["issue_areas"]:
            money[a] += row["backbone_money_per_month"] / len(row["issue_areas"])
            grants[a] += row["program_grants_per_month"] / len(row["issue_areas"])
    roster = Roster(src, frame, outcomes, claimants, partners, members, money, grants, edges)
    try:
        validate_scenario(roster.scenario_data("roster"), src)
    except ScenarioError as exc:  # what the schema refuses, said against the roster
        raise ScenarioError(src, f"(as a scenario: {exc.path})", exc.value, exc.allowed) from None
    return roster


def _records(frame: pd.DataFrame) -> list[tuple[int, dict]]:
    """``(row, record)`` of every row of a table, rows numbered as a spreadsheet shows them (the header is 1)."""
    rows = frame.attrs.get("rows") or range(2, 2 + len(frame))
    return list(zip(rows, frame.to_dict("records"), strict=True))


def _each_row(frame: pd.DataFrame, check) -> tuple[list, list[ScenarioError]]:
    """``check(row, record)`` of every row of a table: the results of the good rows, the first problem of each bad one.

    Every row is checked, so that a leader sees all the rows to fix at once.
    """
    out, problems = [], []
    for r, rec in _records(frame):
        try:
            out.append(check(r, rec))
        except ScenarioError as exc:
            problems.append(exc)
    return out, problems


def _key(name: str) -> str:
    """A name as compared: capitals and runs of spaces do not make another organization (``Lakeside  ymca``)."""
    return " ".join(name.split()).casefold()


def _areas(raw: Any) -> list[tuple[str, str]]:
    """The issue areas of a cell, each ``(area, as written)``, in the cell's order (separated by ``;`` or ``,``)."""
    return [(words(a), a.strip()) for a in re.split(AREA_SEPARATORS, "" if _blank(raw) else str(raw)) if a.strip()]


@dataclass
class _Facts:
    """What a row of the organizations table says, read whatever else is wrong with it (for the rules across rows)."""

    row: int
    name: str  # "" if none
    role: str | None  # None if it cannot be read
    areas: list[tuple[str, str]]  # (area, as written), each once
    preferred: bool


def _facts(r: int, rec: dict) -> _Facts:
    name = "" if _blank(rec.get("name")) else str(rec["name"]).strip()
    role = words(rec.get("role") or "")
    areas: dict[str, str] = {}
    for area, raw in _areas(rec.get("issue_areas")):
        areas.setdefault(area, raw)
    return _Facts(
        r, name, role if role in ROLES else None, list(areas.items()), words(rec.get("preferred") or "") in YES
    )


def _across_rows(
    src: str, facts: list[_Facts], first_use: dict[str, tuple[int, str]]
) -> tuple[list[ScenarioError], set[str]]:
    """The rules across rows, made from what every row says (good or bad), skipped where a bad row could change them.

    No claimant (skipped while a role cannot be read); an area without a partner (a row whose
    role cannot be read may be its partner), at the first row naming it; two preferred claimants
    in one area. Returns the problems and the areas without a partner.
    """
    problems = []
    roles = [f.role for f in facts]
    if "backbone_claimant" not in roles and None not in roles:
        problems.append(
            ScenarioError(src, "column role", "(no backbone claimant)", "at least one row with role backbone claimant")
        )
    served = {area for f in facts if f.role != "backbone_claimant" for area, _ in f.areas}
    unserved = [area for area in first_use if area not in served]
    for area in unserved:
        row, raw = first_use[area]
        hint = _near(area, [a for a in served if a != area])
        allowed = "an area with at least one partner (a row with a role other than backbone claimant)"
        problems.append(_err(src, row, "issue_areas", raw, allowed + (f": did you mean {hint!r}?" if hint else "")))
    preferred: dict[str, str] = {}
    for f in facts:
        if f.role == "backbone_claimant" and f.preferred and len(f.areas) == 1:
            area = f.areas[0][0]
            if area in preferred:
                problems.append(
                    _err(src, f.row, "preferred", "yes", f"one preferred claimant per area ({preferred[area]!r} is)")
                )
            preferred.setdefault(area, f.name)
    return problems, set(unserved)


def _near(area: str, others: list[str]) -> str:
    """The area of ``others`` that ``area`` is most likely a misspelling of, as a leader writes it ("" if none)."""
    near = difflib.get_close_matches(area, sorted(others), n=1, cutoff=0.75)
    return near[0].replace("_", " ") if near else ""


def _outcomes_home(p: Path) -> tuple[str, str]:
    """Where a roster's outcomes are listed, and how to add a missing table: for messages."""
    if p.suffix.lower() == ".xlsx":
        return "the workbook's outcomes sheet", "add a sheet named outcomes to the workbook"
    side = f"{p.stem}_outcomes.csv"
    return side, f"put {side} beside {p.name}, or in the dashboard upload the two together"


def _organization(src: str, r: int, rec: dict, seen: dict[str, tuple[int, str]]) -> tuple[dict, Claimant | None]:
    """One row of the organizations table (spreadsheet row ``r``) checked: the row and its claimant, if it is one.

    ``seen`` (name key -> row and name) gains the row's name. Raises :class:`ScenarioError` for the row's first problem.
    """
    name = str(rec["name"]).strip()
    if not name or not name.isprintable():
        raise _err(src, r, "name", rec["name"], "the organization's name (printable text)")
    if _key(name) in seen:
        row, other = seen[_key(name)]
        if other == name:
            raise _err(src, r, "name", name, f"a name used once (row {row} has it too)")
        raise _err(
            src, r, "name", name, f"a name used once: row {row} has {other!r} (capitals and spaces do not make another)"
        )
    seen[_key(name)] = (r, name)
    sector = _choice(src, r, "sector", rec["sector"], list(SECTORS))
    role = _choice(src, r, "role", rec["role"], list(ROLES))
    areas = [a for a, _ in _areas(rec["issue_areas"])]
    if not areas:
        raise _err(src, r, "issue_areas", rec["issue_areas"], "one or more issue areas separated by ';'")
    if len(set(areas)) != len(areas):
        raise _err(src, r, "issue_areas", rec["issue_areas"], "each issue area once")
    if len(areas) > MAX_PARTNER_AREAS and role != "backbone_claimant":
        raise _err(
            src,
            r,
            "issue_areas",
            rec["issue_areas"],
            f"at most {MAX_PARTNER_AREAS} issue areas, the main one first (the model's partners work in one "
            "area or in a home area and a second)",
        )
    hours = _number(src, r, "hours_per_month", rec["hours_per_month"], positive=True, blank=None)
    if hours > MAX_HOURS:
        raise _err(src, r, "hours_per_month", rec["hours_per_month"], HOURS)
    row = {"name": name, "sector": sector, "role": role, "issue_areas": areas, "hours_per_month": hours}
    for col in ("backbone_money_per_month", "program_grants_per_month"):
        row[col] = _number(src, r, col, rec.get(col))
        if row[col] > 0 and role != "funder":
            raise _err(src, r, col, rec.get(col), "blank unless the role is funder")
    if role == "backbone_claimant":
        return row, _claimant(src, r, rec, name, areas)
    for col in ("origin", "preferred", *QUESTIONS):
        if not _blank(rec.get(col)):
            raise _err(src, r, col, rec.get(col), "blank unless the role is backbone claimant")
    return row, None


def _claimant(src: str, r: int, rec: dict, name: str, areas: list[str]) -> Claimant:
    if len(areas) != 1:
        raise _err(src, r, "issue_areas", rec["issue_areas"], "one issue area for a backbone claimant")
    if _blank(rec.get("origin")):
        raise _err(
            src, r, "origin", "(blank)", "for a claimant: agreed by partners, created by funders or self-declared"
        )
    origin = ORIGINS[_choice(src, r, "origin", rec["origin"], list(ORIGINS))]
    answers = {}
    for col in QUESTIONS:
        raw = rec.get(col)
        text = "" if _blank(raw) else str(raw).strip()
        if text not in {str(v) for v in LIKERT} and text not in {f"{v}.0" for v in LIKERT}:
            raise _err(
                src,
                r,
                col,
                raw if text else "(blank)",
                f"an answer 1 (strongly disagree) to 5 (strongly agree) to: {QUESTIONS[col][0]}",
            )
        answers[col] = int(float(text))
    pref = words(rec.get("preferred") or "")
    if pref not in YES + NO:
        raise _err(src, r, "preferred", rec.get("preferred"), "yes, or blank")
    ratings = {
        rating: likert_rating([answers[c] for c, (_, feeds, _) in QUESTIONS.items() if feeds == rating])
        for rating in ("neutrality", "servant_leadership")
    }
    return Claimant(
        name=name,
        area=areas[0],
        origin=origin,
        own_money=_number(src, r, "own_money_per_month", rec.get("own_money_per_month")),
        preferred=pref in YES,
        answers=answers,
        **ratings,
    )


def _missing_columns(frame: pd.DataFrame, sheet: str) -> list[ScenarioError]:
    cols = SHEET_COLUMNS[sheet]
    return [
        _err(frame.attrs["source"], None, col, "(missing)", f"columns {' and '.join(cols)}")
        for col in cols
        if col not in frame.columns
    ]


def _outcomes(
    frame: pd.DataFrame | None,
    src: str,
    first_use: dict[str, tuple[int, str]],
    uses: dict[str, int],
    skip: set[str],
    roster: Path,
) -> tuple[dict[str, list[str]], list[ScenarioError]]:
    """The outcomes of each area, and the problems.

    ``first_use``: area -> the first row of the organizations table naming it, as written there;
    ``uses``: area -> how many rows name it. The problems: the rows of the outcomes table, then
    each area without outcomes (but education, which has defaults, and the areas of ``skip``,
    already refused) at the first row naming it: a misspelling of an area the outcomes table
    lists or more rows name gets a did-you-mean, a new area where to list its outcomes; a missing
    table is one problem.
    """
    areas = list(first_use)
    out: dict[str, list[str]] = {a: [] for a in areas}
    problems: list[ScenarioError] = []
    listed: list[str] = []  # the areas the outcomes table names, in the roster or not
    if frame is not None:
        problems = _missing_columns(frame, "outcomes")
        if problems:  # the table cannot be read: whether an area has outcomes cannot be said
            return out, problems
        tsrc = frame.attrs["source"]

        def outcome(r: int, rec: dict) -> None:
            a, k = words(rec["area"]), words(rec["outcome"])
            listed.append(a)
            if a not in out:
                near = difflib.get_close_matches(a, areas, n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise _err(tsrc, r, "area", rec["area"], f"an issue area of the roster: {', '.join(areas)}{hint}")
            if not re.fullmatch(r"[a-z][a-z0-9_]*", k):
                raise _err(tsrc, r, "outcome", rec["outcome"], "a short name of letters, digits and spaces")
            if k in out[a]:
                raise _err(tsrc, r, "outcome", rec["outcome"], "each outcome once per area")
            out[a].append(k)

        problems = _each_row(frame, outcome)[1]
    home, add = _outcomes_home(roster)
    needed = []  # areas that need the missing table
    missing: list[tuple[int, ScenarioError]] = []  # (row, problem): said in row order
    for a in areas:
        if out[a] or a in skip:
            continue
        if a == "education":
            out[a] = list(EDUCATION_OUTCOMES)
            continue
        row, raw = first_use[a]
        # a misspelling of an area the outcomes table lists, or of one more rows name (early childhood
        # in 40 rows, early chilhood in one: not the other way round)
        likelier = {b for b in areas if uses[b] > uses[a]} | set(listed)
        near = _near(a, [b for b in likelier if b != a])
        if near:
            allowed = f"an issue area with outcomes: did you mean {near!r}? (a new area lists its outcomes in {home})"
        elif frame is None:
            needed.append(a)
            continue
        else:
            allowed = (
                f"an issue area with outcomes: {raw!r} has no outcomes; list them in {home} (columns area and outcome, "
                f"one row per outcome, e.g. {raw}, <outcome>); only education has default outcomes"
            )
        missing.append((row, _err(src, row, "issue_areas", raw, allowed)))
    if needed:
        row, raw = first_use[needed[0]]
        shown = ", ".join(first_use[a][1] for a in needed)
        allowed = (
            f"outcomes for {shown}, but the outcomes table is missing: {add} (columns area and outcome, one row "
            "per outcome; only education has default outcomes)"
        )
        missing.append((row, _err(src, row, "issue_areas", raw, allowed)))
    return out, problems + [p for _, p in sorted(missing, key=lambda m: m[0])]


def _collaborations(frame: pd.DataFrame | None, names: dict[str, str]) -> tuple[list[tuple[str, str]], list]:
    """The pairs of the collaborations table (sorted, each once) and its problems.

    ``names``: name key (:func:`_key`) -> the organization's name; a name in other capitals or
    with other spaces is that organization.
    """
    if frame is None:
        return [], []
    problems = _missing_columns(frame, "collaborations")
    if problems:
        return [], problems
    src = frame.attrs["source"]
    edges = set()

    def collaboration(r: int, rec: dict) -> None:
        pair = []
        for col in SHEET_COLUMNS["collaborations"]:
            name = names.get(_key(str(rec[col])))
            if name is None:
                near = difflib.get_close_matches(str(rec[col]).strip(), list(names.values()), n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise _err(src, r, col, rec[col], f"an organization named in the roster{hint}")
            pair.append(name)
        if pair[0] == pair[1]:
            raise _err(src, r, "organization_b", rec["organization_b"], "another organization than organization_a")
        edges.add(tuple(sorted(pair)))

    problems = _each_row(frame, collaboration)[1]
    return sorted(edges), problems


# --------------------------------------------------------------------------- the template

#: the notes written above a template (CSV comments; the README sheet of a workbook)
TEMPLATE_NOTES = [
    "ci-sim roster: one row per organization of the partnership (a fictional mid-size city).",
    "Columns: name | sector | issue_areas (separate several with ';') | hours_per_month it gives to the work |",
    "  role: partner, backbone claimant, funder or convener candidate.",
    "Backbone claimants also: origin (agreed by partners, created by funders, self-declared) |",
    "  own_money_per_month ($ it spends on the role) | preferred (yes for the one partners would keep) |",
    "  the questionnaire, each 1 = strongly disagree ... 5 = strongly agree:",
    *(f"  {col}: {text}" for col, (text, _, _) in QUESTIONS.items()),
    "Funders also: backbone_money_per_month and program_grants_per_month ($ a month, split over their areas).",
    "Outcomes of an area other than education go in the outcomes table (area, outcome);",
    "  who already works with whom in the collaborations table (organization_a, organization_b).",
    "A CSV roster city.csv reads them from city_outcomes.csv and city_collaborations.csv beside it.",
    "Reference: docs/roster.md. Then: ci-sim advise ROSTER",
]

_PARTNER_NAMES = [
    ("Riverton Public Schools", "school_district"),
    ("Eastside Elementary PTA", "community_group"),
    ("County Health Department", "public_agency"),
    ("Riverton Public Library", "public_agency"),
    ("Head Start of Riverton", "nonprofit"),
    ("Family Resource Center", "nonprofit"),
    ("Riverton Community College", "higher_ed"),
    ("State University Early Ed Lab", "higher_ed"),
    ("Parents United", "community_group"),
    ("Northside Neighborhood Association", "community_group"),
    ("Riverton Chamber of Commerce", "business"),
    ("Main Street Bank", "business"),
    ("Valley Pediatrics", "business"),
    ("Child Care Aware of Riverton", "nonprofit"),
    ("Home Visiting Partners", "nonprofit"),
    ("Literacy Now", "nonprofit"),
    ("Riverton YMCA", "nonprofit"),
    ("Boys and Girls Club", "nonprofit"),
    ("Hispanic Families Network", "community_group"),
    ("Riverton Housing Authority", "public_agency"),
    ("Department of Human Services", "public_agency"),
    ("Mothers and Babies Clinic", "nonprofit"),
    ("First Baptist Church Child Care", "community_group"),
    ("Little Acorns Preschool", "business"),
    ("Sunshine Child Development Center", "nonprofit"),
    ("Riverton Food Bank", "nonprofit"),
    ("United Way Family Hotline", "nonprofit"),
    ("Westside Community Center", "community_group"),
    ("Riverton Police Athletic League", "public_agency"),
    ("Children's Museum of Riverton", "nonprofit"),
    ("Early Intervention Services", "public_agency"),
    ("Riverton Refugee Welcome", "nonprofit"),
    ("Dads Matter", "community_group"),
    ("Book Bus", "nonprofit"),
    ("Riverton Transit", "public_agency"),
    ("Greenfield Family Practice", "business"),
    ("Speech and Hearing Center", "nonprofit"),
    ("Riverton Parks and Recreation", "public_agency"),
    ("Teen Parent Program", "nonprofit"),
    ("Southside Tenants Union", "community_group"),
    ("Riverton Workforce Board", "public_agency"),
    ("Tech Forward Riverton", "business"),
    ("Catholic Charities Riverton", "nonprofit"),
    ("Montessori School of Riverton", "business"),
    ("Riverton Dental Alliance", "nonprofit"),
    ("Grandparents Raising Grandchildren", "community_group"),
    ("Legal Aid Society", "nonprofit"),
    ("Nurse-Family Partnership Riverton", "nonprofit"),
    ("Riverton Arts for Kids", "nonprofit"),
]
_CONVENERS = [
    ("Riverton Pediatric Network", "nonprofit"),
    ("Early Childhood Council", "public_agency"),
    ("Reading Readiness Coalition", "nonprofit"),
    ("Family Voices Riverton", "community_group"),
]
_FUNDERS = [  # name, backbone $/month, program grants $/month
    ("Riverton Community Foundation", 6000, 80000),
    ("United Way of Riverton", 4000, 60000),
    ("Harmon Family Foundation", 3000, 40000),
    ("City of Riverton", 2000, 20000),
]
_CLAIMANTS = [  # name, sector, origin, own $/month, preferred, answers
    ("Riverton Early Learning Alliance", "nonprofit", "agreed by partners", 3000, "yes", (4, 4, 4, 5)),
    ("Ready Kids Initiative", "nonprofit", "created by funders", 5000, "", (3, 4, 3, 3)),
    ("Bright Beginnings Network", "nonprofit", "self-declared", 6000, "", (2, 2, 2, 1)),
]
_OUTCOMES = ["prenatal_care", "developmental_screening", "preschool_enrollment", "kindergarten_ready"]


def template_tables() -> dict[str, pd.DataFrame]:
    """The example roster: 60 organizations of a fictional mid-size city, three claimants for early childhood.

    Funders give $15,000 a month for backbone work and $200,000 in program grants. Deterministic
    (the same tables every time), so the shipped example and ``ci-sim roster template`` agree.
    """
    area = "early childhood"
    blank = dict.fromkeys(COLUMNS, "")
    rows = []
    for name, sector, origin, money, pref, answers in _CLAIMANTS:
        rows.append(
            blank
            | {
                "name": name,
                "sector": sector,
                "issue_areas": area,
                "hours_per_month": 160,
                "role": "backbone claimant",
                "origin": origin,
                "own_money_per_month": money,
                "preferred": pref,
                **dict(zip(QUESTIONS, answers, strict=True)),
            }
        )
    for name, backbone, grants in _FUNDERS:
        rows.append(
            blank
            | {
                "name": name,
                "sector": "funder",
                "issue_areas": area,
                "hours_per_month": 12,
                "role": "funder",
                "backbone_money_per_month": backbone,
                "program_grants_per_month": grants,
            }
        )
    others = [(n, s, 40, "convener candidate") for n, s in _CONVENERS]
    others += [(n, s, 8 + (i * 7) % 33, "partner") for i, (n, s) in enumerate(_PARTNER_NAMES)]
    for name, sector, hours, role in others:
        row = {"name": name, "sector": sector.replace("_", " "), "issue_areas": area, "hours_per_month": hours}
        rows.append(blank | row | {"role": role})
    orgs = pd.DataFrame(rows, columns=COLUMNS)
    outcomes = pd.DataFrame({"area": [area] * len(_OUTCOMES), "outcome": [k.replace("_", " ") for k in _OUTCOMES]})
    names = [r["name"] for r in rows if r["role"] != "backbone claimant"]
    n = len(names)
    edges = sorted({tuple(sorted((names[i], names[(i + step) % n]))) for i in range(n) for step in (1, 2, 7)})
    collab = pd.DataFrame(edges, columns=SHEET_COLUMNS["collaborations"])
    return {"organizations": orgs, "outcomes": outcomes, "collaborations": collab}


def template_paths(out: Path) -> list[Path]:
    """The files ``ci-sim roster template --out OUT`` writes (a CSV roster has two side files)."""
    if out.suffix.lower() == ".csv":
        return [out, *(out.with_name(f"{out.stem}_{s}.csv") for s in SHEETS[1:])]
    return [out]


def write_template(out: Path) -> list[Path]:
    """Write the example roster to ``out`` (.csv with its side files, or .xlsx with a README sheet).

    Raises:
        ScenarioError: another suffix, or a file that exists (nothing is overwritten or written).
    """
    from ci_sim.runs.results import atomic_write

    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise ScenarioError("--out", "", str(out), "a file name ending in .csv or .xlsx")
    if out.suffix.lower() == ".xlsx":
        try:
            import openpyxl  # noqa: F401 - pandas writes .xlsx with it
        except ImportError:
            raise ScenarioError(
                "--out", "", str(out), "a .csv file, or install openpyxl for .xlsx: pip install 'ci-sim[leaders]'"
            ) from None
    paths = template_paths(out)
    for p in paths:
        if p.exists():
            raise ScenarioError("--out", "", str(p), "a file that does not exist yet (nothing is overwritten)")
    tables = template_tables()
    if out.suffix.lower() == ".csv":
        notes = "".join(f"# {line}\n" for line in TEMPLATE_NOTES)
        for p, frame in zip(paths, tables.values(), strict=True):
            text = (notes if p == out else "") + frame.to_csv(index=False, lineterminator="\n")
            atomic_write(p, lambda tmp, text=text: tmp.write_text(text, encoding="utf-8"))
    else:

        def write(tmp: Path) -> None:
            with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
                pd.DataFrame({"notes": TEMPLATE_NOTES}).to_excel(xl, sheet_name="README", index=False)
                for sheet, frame in tables.items():
                    frame.to_excel(xl, sheet_name=sheet, index=False)

        atomic_write(out, write)
    return paths


def anonymous_name(i: int) -> str:
    """``Organization A`` ... ``Organization Z``, ``Organization AA`` ... for the i-th organization (from 0)."""
    letters = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        letters = chr(ord("A") + r) + letters
    return f"Organization {letters}"


def anonymize(roster: Roster) -> Roster:
    """The roster with every organization's name replaced by ``Organization A``... in roster order.

    The source file's name is replaced too (it may name the partnership); sectors, areas,
    hours, money and answers are kept.
    """
    import copy

    names = {n: anonymous_name(i) for i, n in enumerate(roster.names)}
    out = copy.deepcopy(roster)
    out.source = "roster (anonymized)"
    out.organizations["name"] = out.organizations["name"].map(names)
    out.partners["name"] = out.partners["name"].map(names)
    for c in out.claimants:
        c.name = names[c.name]
    out.area_members = {a: [names[n] for n in ns] for a, ns in out.area_members.items()}
    out.collaborations = [(names[a], names[b]) for a, b in out.collaborations]
    return out
