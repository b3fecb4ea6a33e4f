"""The dashboard's "Your partnership" view without the page: uploads, problems, the advice run, downloads.

A community leader uploads a roster (docs/roster.md), sees what is wrong with it by row and
column, runs the advice of ``ci-sim advise`` and downloads the brief and the strategy files.
The page (:mod:`ci_sim.viz.dashboard`) only shows what :class:`Partnership` holds.

Privacy: a roster names real organizations, so everything stays on this machine, in one
temporary folder per browser page (:func:`tempfile.mkdtemp`, never the repository or the working
directory), removed when the page closes or its server-side state is culled
(:meth:`Partnership.close`).

The checks are the roster loader's own (:func:`ci_sim.experiments.roster.load_roster`, as
``ci-sim roster check`` runs it): every bad row of a table is reported (its first problem), so the
page shows them all with row, column, value and what is allowed, and the leader uploads again after
fixing them.
"""

from __future__ import annotations

import functools
import inspect
import io
import json
import logging
import re
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

import pandas as pd

from ci_sim.experiments.advise import roster_summary
from ci_sim.experiments.roster import SHEETS, Roster, anonymize, load_roster, read_tables, write_template
from ci_sim.model.columns import metric_label
from ci_sim.model.scenario import ScenarioError
from ci_sim.viz.brief import headline, is_share

#: Largest file accepted, bytes (a roster of a thousand organizations is about 200 kB).
MAX_FILE_BYTES = 5 * 2**20
#: Paired runs per strategy offered on the page; ``ci-sim advise`` runs 20.
RUN_CHOICES = (4, 10, 20, 40)
DEFAULT_RUNS = 20
#: Fewer paired runs than this are a quick look, not advice for a board (the page says so).
BOARD_RUNS = 20
#: The shipped calibrated posterior the advice draws parameters from, as ``ci-sim advise``.
POSTERIOR = "strive"
#: What the advice ranks by (``ci-sim advise --metric``'s default) and its horizon in months.
METRIC, STEPS = "indicators_improving", 120
#: The side tables of a CSV roster: file name ending -> sheet (``city_outcomes.csv``).
SIDE_ENDINGS = {f"_{sheet}.csv": sheet for sheet in SHEETS[1:]}
WHAT_TO_UPLOAD = (
    "a roster: one .xlsx workbook, or a .csv file with its _outcomes.csv and _collaborations.csv if it has them"
)
OUTPUT_ZIP = "advice.zip"
#: The example roster the page offers (``ci-sim roster template --out roster_template.xlsx``).
TEMPLATE_NAME = "roster_template.xlsx"
#: The page's advice settings, written beside the results (the manifest has the equivalent command).
SETTINGS_FILE = "page_settings.json"


@dataclass(frozen=True)
class Problem:
    """One problem with an upload, in the roster's terms (every field plain text for the page)."""

    file: str
    row: str
    column: str
    value: str
    allowed: str
    organization: str = ""  # the row's name cell, when the problem is in a row of the organizations table


def problems(
    exc: ScenarioError, names: dict[str, str] | None = None, organizations: pd.DataFrame | None = None
) -> list[Problem]:
    """A roster loader's error as rows for the page: file, row, organization, column, bad value, what is allowed.

    Args:
        exc: the error; its ``path`` is ``"row R, column C"``, ``"row R"``, ``"column C"`` or another key path
            (:func:`ci_sim.experiments.roster.load_roster` names them so).
        names: file name as saved -> as uploaded, so the page names the leader's own files.
        organizations: the uploaded organizations table as
            :func:`~ci_sim.experiments.roster.read_tables` reads it (attrs ``source`` and
            ``rows``), so that a problem in one of its rows names that row's organization.

    Returns:
        One row per problem: every bad row of a roster table
        (:class:`~ci_sim.experiments.roster.RosterProblems`), else the one problem.
    """
    if len(getattr(exc, "problems", [])) > 1:
        return [row for one in exc.problems for row in problems(one, names, organizations)]
    path = exc.path or ""
    found = re.fullmatch(r"row (\d+)(?:, column (.+))?", path)  # a row too long for its header has no column
    row, column = (found.group(1), found.group(2) or "") if found else ("", path)
    if not found and path.startswith("column "):
        column = path.removeprefix("column ")
    file = Path(exc.source).name if exc.source else ""
    for saved, uploaded in (names or {}).items():
        file = file.replace(saved, uploaded)
    value = "" if exc.value is None else str(exc.value)
    organization = row_name(organizations, int(row)) if row and _same_table(exc, organizations) else ""
    return [Problem(file, row, column, value, str(exc.allowed), organization)]


def _same_table(exc: ScenarioError, table: pd.DataFrame | None) -> bool:
    return table is not None and bool(exc.source) and exc.source == table.attrs.get("source")


def row_name(organizations: pd.DataFrame, row: int) -> str:
    """The ``name`` cell of spreadsheet row ``row`` of the organizations table; "" if it has none.

    Frame row ``i`` is spreadsheet row ``attrs["rows"][i]`` (comment lines, the header and skipped
    empty rows counted, as :func:`~ci_sim.experiments.roster.read_tables` numbers them).
    """
    rows = list(organizations.attrs.get("rows", []))
    columns = list(organizations.columns)
    if "name" not in columns or row not in rows:
        return ""
    i = rows.index(row)
    cell = organizations.iat[i, columns.index("name")]  # the first "name" column, as the loader reads it
    return "" if cell is None or pd.isna(cell) else str(cell).strip()


def organizations_table(path: Path) -> pd.DataFrame | None:
    """The organizations table of a saved upload, to name the rows of its problems; None if unreadable.

    The loader's own error is what the page shows; this second read only adds names to it, so
    whatever stops it (a file the loader refused before any row) leaves the names out.
    """
    try:
        return read_tables(path).get("organizations")
    except Exception:  # noqa: BLE001 - names are a help, never a second error
        return None


def size_problem(name: str, size: int) -> ScenarioError | None:
    """Why a file of ``size`` bytes is refused before it is read (None if it is small enough)."""
    if size > MAX_FILE_BYTES:
        return ScenarioError(
            name,
            "",
            f"{size / 2**20:.1f} MB",
            f"a file of at most {MAX_FILE_BYTES // 2**20} MB (a roster of a thousand organizations is about 0.2 MB)",
        )
    return None


def save_uploads(files: list[tuple[str, bytes]], folder: Path) -> tuple[Path, dict[str, str]]:
    """Write uploaded files into ``folder`` (new, empty) as the roster loader reads them.

    A CSV roster's side tables are saved beside it as ``<roster>_outcomes.csv`` and
    ``<roster>_collaborations.csv`` whatever comes before ``_outcomes.csv`` in their names.

    Args:
        files: (file name as uploaded, contents), in any order.
        folder: where to write; created.

    Returns:
        The roster's path, and file name as saved -> as uploaded.

    Raises:
        ScenarioError: no file; a file not .csv or .xlsx; a file too big; a workbook with other
            files; no roster or two among CSV files; a side table given twice. Nothing is written.
    """
    if not files:
        raise ScenarioError("upload", "", "(no file)", WHAT_TO_UPLOAD)
    named = []
    for name, data in files:
        base = PureWindowsPath(name).name  # a browser may send a path; keep the name only
        low = base.lower()
        if not low.endswith((".csv", ".xlsx")):
            raise ScenarioError(base, "", base, f"a file ending in .csv or .xlsx: {WHAT_TO_UPLOAD}")
        too_big = size_problem(base, len(data))
        if too_big:
            raise too_big
        named.append((base, data))
    books = [n for n, _ in named if n.lower().endswith(".xlsx")]
    if books and len(named) > 1:
        others = ", ".join(n for n, _ in named if n != books[0])
        raise ScenarioError(books[0], "", others, "one .xlsx workbook alone (its sheets hold the other tables)")
    sides: dict[str, tuple[str, bytes]] = {}
    mains = []
    for name, data in named:
        sheet = next((s for end, s in SIDE_ENDINGS.items() if name.lower().endswith(end)), None)
        if sheet is None:
            mains.append((name, data))
        elif sheet in sides:
            raise ScenarioError(name, "", name, f"one {sheet} table ({sides[sheet][0]} is one too)")
        else:
            sides[sheet] = (name, data)
    if len(mains) != 1:
        shown = ", ".join(n for n, _ in mains) or ", ".join(n for n, _ in named)
        raise ScenarioError(
            "upload", "", shown, "one roster at a time" if mains else f"the roster itself too: {WHAT_TO_UPLOAD}"
        )
    main_name, main_data = mains[0]
    stem, suffix = main_name.rsplit(".", 1)
    stem = re.sub(r"[^\w\- ]", "_", stem).strip() or "roster"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.{suffix.lower()}"
    path.write_bytes(main_data)
    saved = {path.name: main_name}
    for sheet, (name, data) in sides.items():
        side = folder / f"{stem}_{sheet}.csv"
        side.write_bytes(data)
        saved[side.name] = name
    return path, saved


def ranking_rows(ranking: pd.DataFrame, metric: str = METRIC) -> list[dict[str, str]]:
    """The ranking as the page shows it: one row per strategy, numbers in leaders' units.

    Shares (the default metric) are in percent, the difference to the recommended strategy
    in percentage points; each with its 95% range. Keys: ``Rank``, ``Strategy``, the metric's
    label, ``Against the recommended`` and ``Verdict``.
    """
    share = is_share(metric)
    label = metric_label(metric)

    def value(x: float, signed: bool = False) -> str:
        if not pd.notna(x):
            return "–"
        x = x * 100 if share else x
        return f"{x:+.0f}" if signed and share else f"{x:+.3g}" if signed else f"{x:.0f}%" if share else f"{x:.3g}"

    rows = []
    for r in ranking.itertuples():
        against = (
            ""
            if r.rank == 1
            else f"{value(r.diff, True)}{' points' if share else ''} ({value(r.diff_ci_low, True)} to "
            f"{value(r.diff_ci_high, True)})"
        )
        rows.append(
            {
                "Rank": str(r.rank),
                "Strategy": str(r.strategy),
                label: f"{value(r.mean)} ({value(r.ci_low)} to {value(r.ci_high)})",
                "Against the recommended": against,
                "Verdict": str(r.verdict),
            }
        )
    return rows


def quick_look_note(replications: int) -> str:
    """What the page says above a ranking of fewer than :data:`BOARD_RUNS` paired runs ("" for more)."""
    if replications >= BOARD_RUNS:
        return ""
    return (
        f"A quick look with {replications} paired runs per strategy: for your board, run {BOARD_RUNS} or more "
        "(more strategies can then be told apart, fewer come out too close to call)."
    )


@functools.cache
def template_bytes() -> bytes:
    """The example roster as an .xlsx workbook (:func:`~ci_sim.experiments.roster.write_template`), once per server.

    Raises:
        ScenarioError: openpyxl missing (``pip install 'ci-sim[leaders]'``).
    """
    with tempfile.TemporaryDirectory(prefix="ci-sim-template-") as tmp:
        path = Path(tmp) / TEMPLATE_NAME
        write_template(path)
        return path.read_bytes()


def zip_folder(folder: Path) -> bytes:
    """Every file under ``folder`` in a zip, paths relative to it (the advice's results to take away)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(folder.rglob("*")):
            if f.is_file() and not any(part.startswith(".") for part in f.relative_to(folder).parts):
                z.write(f, f"advice/{f.relative_to(folder).as_posix()}")
    return buffer.getvalue()


def advise(
    roster: Roster,
    out: Path,
    replications: int,
    anonymized: bool,
    workers: int | None = None,
    roster_name: str = "",
    **options,
):
    """Run ``ci-sim advise`` on ``roster`` into ``out`` (new): the strategies, the ranking and the brief.

    As the command: parameters drawn from the calibrated posterior :data:`POSTERIOR`; with
    ``anonymized`` every name becomes ``Organization A``... in every output. ``options`` go to
    :func:`ci_sim.viz.advice.run_advice` (``steps``, ``seed``, ``merge_year``, ``explain``).
    The manifest's command line is the equivalent ``ci-sim advise`` command (not the server's),
    and :data:`SETTINGS_FILE` in ``out`` records the page's settings (:func:`page_settings`);
    ``roster_name`` is the roster's file name as uploaded.

    Returns:
        The ranking (:func:`ci_sim.experiments.advise.rank`).

    Raises:
        ScenarioError: the brief's PDF cannot be made here (WeasyPrint missing), or what
            :func:`~ci_sim.viz.advice.run_advice` refuses; nothing is written.
    """
    from ci_sim.experiments.evaluators import make_evaluator
    from ci_sim.runs.posterior import load_posterior
    from ci_sim.viz.advice import run_advice
    from ci_sim.viz.brief import pdf_problem

    problem = pdf_problem()
    if problem:
        raise ScenarioError("brief", "", "PDF", problem)
    roster = anonymize(roster) if anonymized else roster
    settings = page_settings(roster_name or Path(roster.source).name, replications, anonymized, **options)
    ranking = run_advice(
        roster,
        out,
        metric=METRIC,
        replications=replications,
        posterior=load_posterior(POSTERIOR),
        evaluator=make_evaluator(workers),
        command_line=settings["command_line"],
        **options,
    )
    (out / SETTINGS_FILE).write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    return ranking


def page_settings(roster_name: str, replications: int, anonymized: bool, **options) -> dict:
    """The settings the page ran the advice with, and the ``ci-sim advise`` command that gives the same numbers.

    ``options`` are :func:`~ci_sim.viz.advice.run_advice`'s (``steps``, ``seed``, ``merge_year``,
    ``explain``); those not given take its defaults. An anonymized roster is named
    ``roster (anonymized)``, as ``ci-sim advise --anonymize`` names it in its manifest.
    """
    from ci_sim.viz.advice import run_advice

    defaults = {k: v.default for k, v in inspect.signature(run_advice).parameters.items()}
    used = {k: options.get(k, defaults[k]) for k in ("steps", "seed", "merge_year", "explain")}
    name = "roster (anonymized)" if anonymized else roster_name
    command = ["ci-sim", "advise", name, "--metric", METRIC, "--steps", str(used["steps"])]
    command += ["--replications", str(replications), "--seed", str(used["seed"])]
    command += ["--merge-year", str(used["merge_year"]), "--posterior", POSTERIOR]
    command += ["--anonymize"] * anonymized + ["--no-reasons"] * (not used["explain"])
    return {
        "made_by": "ci-sim dashboard, Your partnership",
        "roster": name,
        "runs_per_strategy": replications,
        "anonymized": anonymized,
        "metric": METRIC,
        "posterior": POSTERIOR,
        **used,
        "command_line": command,
    }


@dataclass
class Partnership:
    """One page's roster and advice: the upload, its problems, the run and its results.

    Its files live in :attr:`folder` (a new temporary folder) until :meth:`close`. A run happens
    in a thread of its own (:meth:`start`); :attr:`running` says so, and ``on_change`` is called
    from that thread when it ends.
    """

    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ci-sim-partnership-")))
    roster: Roster | None = None
    roster_name: str = ""
    summary: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    running: bool = False
    started: float = 0.0
    seconds: float = 0.0
    error: str = ""
    ranking: pd.DataFrame | None = None
    replications: int = 0  # paired runs per strategy behind :attr:`ranking`
    out: Path | None = None
    lead: str = ""  # the brief's lead paragraph, HTML
    closed: bool = False
    serial: int = 0  # numbers the page's upload and advice folders
    lock: threading.RLock = field(default_factory=threading.RLock)

    def upload(self, files: list[tuple[str, bytes]]) -> None:
        """Check the uploaded files: :attr:`roster` and :attr:`summary` if good, else :attr:`problems`."""
        with self.lock:
            self._clear()
            self.serial += 1
            names: dict[str, str] = {}
            try:
                path, names = save_uploads(files, self.folder / f"upload-{self.serial}")
                self.roster = load_roster(path)
            except ScenarioError as exc:
                self.problems = problems(exc, names, organizations_table(path) if names else None)
                return
            except Exception as exc:  # a file no check foresaw: say so on the page, keep the trace in the log
                logging.getLogger(__name__).exception("roster upload failed")
                shown = ", ".join(PureWindowsPath(n).name for n, _ in files)
                self.problems = [Problem(shown, "", "", "", f"a roster the checks can read ({exc})")]
                return
            self.roster_name = names[path.name]
            self.summary = roster_summary(self.roster)

    def refuse(self, exc: ScenarioError) -> None:
        """Show a problem found before the files were read (too big)."""
        with self.lock:
            self._clear()
            self.problems = problems(exc)

    def _clear(self) -> None:
        self.roster, self.roster_name, self.summary, self.problems = None, "", [], []
        self.ranking, self.out, self.lead, self.error = None, None, "", ""

    def start(
        self,
        replications: int,
        anonymized: bool,
        on_change: Callable[[], None] = lambda: None,
        **options,
    ) -> threading.Thread | None:
        """Run the advice in a thread (one at a time); None if no roster or a run is going on."""
        with self.lock:
            if self.roster is None or self.running or self.closed:
                return None
            self.running, self.started, self.error = True, time.monotonic(), ""
            self.ranking, self.out, self.lead = None, None, ""
            self.serial += 1
            serial, out, roster = self.serial, self.folder / f"advice-{self.serial}", self.roster
            name = self.roster_name

        def run() -> None:
            ranking, error = None, ""
            try:
                ranking = advise(roster, out, replications, anonymized, roster_name=name, **options)
            except ScenarioError as exc:
                error = f"The advice could not be run: {exc.allowed} ({exc.value})."
            except Exception as exc:  # say it on the page rather than lose it in the server's log
                logging.getLogger(__name__).exception("advice failed")
                error = f"The advice could not be run: {exc}"
            with self.lock:
                self.running, self.seconds, self.error = False, time.monotonic() - self.started, error
                if self.closed:  # the page went away meanwhile: leave nothing behind
                    shutil.rmtree(self.folder, ignore_errors=True)
                    return
                if ranking is not None and serial == self.serial:  # no upload since: still this roster's
                    self.ranking, self.out, self.replications = ranking, out, replications
                    steps = options.get("steps", STEPS)
                    self.lead = headline(ranking, METRIC, metric_label(METRIC), steps)
            on_change()

        thread = threading.Thread(target=run, name="ci-sim-advice", daemon=True)
        thread.start()
        return thread

    def download(self, name: str) -> bytes:
        """The bytes of a result file (``brief_a4.pdf``...), or of :data:`OUTPUT_ZIP`: the whole folder."""
        with self.lock:
            out = self.out
        if out is None:
            return b""
        return zip_folder(out) if name == OUTPUT_ZIP else (out / name).read_bytes()

    def close(self) -> None:
        """Remove the page's folder (uploads and results); a run still going removes it when it ends."""
        with self.lock:
            self.closed = True
            self.roster = None
            shutil.rmtree(self.folder, ignore_errors=True)
