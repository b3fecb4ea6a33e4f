"""Rosters: a community's own partnership, described in a spreadsheet, made into a scenario.

A roster is a CSV file or an Excel workbook (.xlsx) with one row per organization (the sheet
``organizations``, or the CSV itself) and two optional tables: ``outcomes`` (area, outcome: the
outcomes of an area the model has no defaults for; only ``education`` has them) and
``collaborations`` (organization_a, organization_b: who already works with whom). A CSV roster
``city.csv`` takes them from ``city_outcomes.csv`` and ``city_collaborations.csv`` beside it.
Lines of a CSV starting with ``#`` before the header are comments.

Columns of ``organizations`` (docs/roster.md has the full reference):

- ``name`` (unique), ``sector`` (one of :data:`~ci_sim.model.scenario.SECTORS`, spaces allowed),
  ``issue_areas`` (one or more, separated by ``;``), ``hours_per_month`` (> 0: the hours it
  gives to the collaboration), ``role`` (:data:`ROLES`);
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

Every problem raises :class:`~ci_sim.model.scenario.ScenarioError` naming the file (and sheet),
the row as a spreadsheet numbers it (the header is row 1), the column, the bad value and what
is allowed, with a did-you-mean for near misses; the rows of a table are all checked and their
problems raised together (:class:`RosterProblems`, one per bad row), so that a leader sees every
row to fix at once.
"""

from __future__ import annotations

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
        what = "a positive number of hours a month (more than 0)" if positive else "a number of 0 or more"
        raise _err(source, row, column, raw, what)
    return value


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, float) and math.isnan(raw)) or str(raw).strip() == ""


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:  # a workbook or picture named .csv, or another encoding
        raise ScenarioError(str(path), "", path.name, f"a CSV file saved as 'CSV UTF-8' (byte {exc.start})") from None
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if not line.lstrip().startswith("#")), len(lines))
    body = "".join(lines[start:])
    if not body.strip():
        raise ScenarioError(str(path), "", "(empty)", "a header row and one row per organization")
    try:
        frame = pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False)
    except pd.errors.ParserError as exc:  # e.g. a quote never closed
        raise ScenarioError(str(path), "", path.name, f"a CSV table with one row per line ({exc})") from None
    frame.attrs["first_row"] = start + 2  # the spreadsheet row number of the first data row
    return frame


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
        tables["organizations"] = _read_csv(p)
        for sheet in SHEETS[1:]:
            side = p.with_name(f"{p.stem}_{sheet}.csv")
            if side.is_file():
                tables[sheet] = _read_csv(side)
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
            frame.attrs["first_row"] = 2
            tables[key] = frame
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
    hours that are not a positive number; money below 0; duplicate names; no claimant; an area
    without a partner; an area other than education without outcomes; two preferred claimants
    in one area; a collaboration naming an organization not in the roster.

    Raises:
        RosterProblems: one problem per bad row of the organizations table (each: file, row,
            column, value, what is allowed); a :class:`ScenarioError`: the first problem of
            anything else (a column, a side table, a rule across rows).
    """
    tables = read_tables(path)
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
    seen: dict[str, int] = {}
    checked = _each_row(orgs, lambda r, rec: _organization(src, r, rec, seen))
    rows = [row for row, _ in checked]
    claimants = [c for _, c in checked if c is not None]
    frame = pd.DataFrame(rows)
    if not claimants:
        raise ScenarioError(
            src, "column role", "(no backbone claimant)", "at least one row with role backbone claimant"
        )
    area_order = list(dict.fromkeys(a for areas in frame["issue_areas"] for a in areas))
    partners = frame[frame["role"] != "backbone_claimant"].reset_index(drop=True)
    members = {
        a: [n for n, ar in zip(partners["name"], partners["issue_areas"], strict=True) if a in ar] for a in area_order
    }
    for a, names in members.items():
        if not names:
            raise _err(
                src,
                None,
                "issue_areas",
                a.replace("_", " "),
                "areas each with at least one partner (a row with a role other than backbone claimant)",
            )
    for a in area_order:
        pref = [c.name for c in claimants if c.area == a and c.preferred]
        if len(pref) > 1:
            raise _err(src, seen[pref[1]], "preferred", "yes", f"one preferred claimant per area ({pref[0]!r} is)")
    outcomes = _outcomes(tables.get("outcomes"), area_order)
    money, grants = dict.fromkeys(area_order, 0.0), dict.fromkeys(area_order, 0.0)
    for row in rows:
        for a in row["issue_areas"]:
            money[a] += row["backbone_money_per_month"] / len(row["issue_areas"])
            grants[a] += row["program_grants_per_month"] / len(row["issue_areas"])
    edges = _collaborations(tables.get("collaborations"), seen)
    roster = Roster(src, frame, outcomes, claimants, partners, members, money, grants, edges)
    try:
        validate_scenario(roster.scenario_data("roster"), src)
    except ScenarioError as exc:  # what the schema refuses, said against the roster
        raise ScenarioError(src, f"(as a scenario: {exc.path})", exc.value, exc.allowed) from None
    return roster


def _each_row(frame: pd.DataFrame, check) -> list:
    """``check(row, record)`` of every row of a table (rows numbered as a spreadsheet shows them).

    Every row is checked, so that a leader sees all the rows to fix at once.

    Raises:
        RosterProblems: the first problem of each bad row.
    """
    first = frame.attrs.get("first_row", 2)
    out, problems = [], []
    for i, rec in enumerate(frame.to_dict("records")):
        try:
            out.append(check(first + i, rec))
        except ScenarioError as exc:
            problems.append(exc)
    if problems:
        raise RosterProblems(problems)
    return out


def _organization(src: str, r: int, rec: dict, seen: dict[str, int]) -> tuple[dict, Claimant | None]:
    """One row of the organizations table (spreadsheet row ``r``) checked: the row and its claimant, if it is one.

    ``seen`` (name -> row) gains the row's name. Raises :class:`ScenarioError` for the row's first problem.
    """
    name = str(rec["name"]).strip()
    if not name or not name.isprintable():
        raise _err(src, r, "name", rec["name"], "the organization's name (printable text)")
    if name in seen:
        raise _err(src, r, "name", name, f"a name used once (row {seen[name]} has it too)")
    seen[name] = r
    sector = _choice(src, r, "sector", rec["sector"], list(SECTORS))
    role = _choice(src, r, "role", rec["role"], list(ROLES))
    areas = [words(a) for a in str(rec["issue_areas"]).split(";") if a.strip()]
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
    if hours > 400:
        raise _err(src, r, "hours_per_month", rec["hours_per_month"], "at most 400 hours a month")
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


def _outcomes(frame: pd.DataFrame | None, areas: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {a: [] for a in areas}
    if frame is not None:
        src = frame.attrs["source"]
        for col in SHEET_COLUMNS["outcomes"]:
            if col not in frame.columns:
                raise _err(src, None, col, "(missing)", "columns area and outcome")

        def outcome(r: int, rec: dict) -> None:
            a, k = words(rec["area"]), words(rec["outcome"])
            if a not in out:
                near = difflib.get_close_matches(a, areas, n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise _err(src, r, "area", rec["area"], f"an issue area of the roster: {', '.join(areas)}{hint}")
            if not re.fullmatch(r"[a-z][a-z0-9_]*", k):
                raise _err(src, r, "outcome", rec["outcome"], "a short name of letters, digits and spaces")
            if k in out[a]:
                raise _err(src, r, "outcome", rec["outcome"], "each outcome once per area")
            out[a].append(k)

        _each_row(frame, outcome)
    for a in areas:
        if not out[a]:
            if a != "education":
                raise ScenarioError(
                    "outcomes",
                    a,
                    a,
                    "the area's outcomes in the roster's outcomes sheet (or <roster>_outcomes.csv): only "
                    "education has default outcomes",
                )
            out[a] = list(EDUCATION_OUTCOMES)
    return out


def _collaborations(frame: pd.DataFrame | None, names: dict[str, int]) -> list[tuple[str, str]]:
    if frame is None:
        return []
    src = frame.attrs["source"]
    edges = set()
    for col in SHEET_COLUMNS["collaborations"]:
        if col not in frame.columns:
            raise _err(src, None, col, "(missing)", "columns organization_a and organization_b")

    def collaboration(r: int, rec: dict) -> None:
        pair = []
        for col in SHEET_COLUMNS["collaborations"]:
            name = str(rec[col]).strip()
            if name not in names:
                near = difflib.get_close_matches(name, list(names), n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise _err(src, r, col, rec[col], f"an organization named in the roster{hint}")
            pair.append(name)
        if pair[0] == pair[1]:
            raise _err(src, r, "organization_b", pair[1], "another organization than organization_a")
        edges.add(tuple(sorted(pair)))

    _each_row(frame, collaboration)
    return sorted(edges)


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
