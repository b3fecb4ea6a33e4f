"""Sweeps: every (point, replication) of an experiment, streamed to Parquet, resumable.

A sweep folder holds:

- ``experiment.json``: the resolved experiment (base scenario, design points, fingerprint);
- ``runs/part-*.parquet``: one row per finished run: ``run_id``, ``point``, ``replication``,
  ``seed``, ``status`` ("ok"/"error"), ``error`` (the traceback, or empty), one column per
  factor (named by its dotted path), then the final metrics. :func:`read_runs` reads them
  all sorted by ``run_id`` (``pandas.read_parquet(DIR / "runs")`` gives them in the order
  the parts were written, which is the order runs finished);
- ``timeseries/part-*.parquet`` (if the experiment keeps time series): ``run_id``,
  ``point``, ``replication``, ``step`` and the metrics;
- ``manifest.json``: versions, evaluator, counts and timings (rewritten on each resume).

``experiment.json`` also records the fingerprint of the code that decides the numbers
(:func:`code_fingerprint`): a resume with other model code, or other numpy, scipy, networkx
or Mesa versions, is refused rather than mixing numbers of two versions in one folder.

Results stream to disk as runs finish: a part file every ``flush_seconds`` seconds or
``flush_rows`` runs, whichever comes first, each written to a temporary (dot-prefixed, so never read) name and
renamed into place, so a half-written file is never read as results. A run counts as done
only once it is in a complete ``runs/`` part. A sweep killed at any moment (SIGKILL, power
cut) and started again with ``resume=True`` skips the runs already in parts and computes the
others, so every run ends up present exactly once, with the same numbers, bit for bit, as
an uninterrupted sweep: each run's seed depends only on (experiment seed, point,
replication), never on the executor, the worker count or the order of completion.

Memory stays flat however many runs: tasks are generated lazily, only a bounded window of
them is in flight, and only the rows since the last part are held.

A run that raises is recorded (``status="error"`` with its traceback, metrics NaN) and the
sweep goes on; :class:`SweepSummary` counts the failures.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import sys
import time
import traceback
import uuid
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from ci_sim.experiments.experiment import Experiment, RunTask
from ci_sim.model.scenario import ScenarioError, _drop_late_events, apply_overrides, validate_scenario
from ci_sim.runs.posterior import with_values
from ci_sim.runs.results import check_out_dir, manifest, write_json, write_parquet
from ci_sim.runs.runner import run_scenario

#: write a part at least this often (seconds): about the most work a kill can lose
FLUSH_SECONDS = 5.0
#: and at least every this many runs (bounds the memory held between parts)
FLUSH_ROWS = 500
ID_COLUMNS = ["run_id", "point", "replication", "seed", "status", "error"]
#: the modules whose code decides a run's numbers...
_MODEL_DIR = Path(__file__).resolve().parents[1] / "model"
NUMERIC_MODULES = (
    *sorted(  # every module of the model package: state, schedule, each mechanism, metrics, ...
        "ci_sim.model." + ".".join(p.relative_to(_MODEL_DIR).with_suffix("").parts)
        for p in _MODEL_DIR.rglob("*.py")
        if p.name != "__init__.py"
    ),
    "ci_sim.runs.runner",
    __name__,
)
#: ...and the libraries they compute with
NUMERIC_PACKAGES = ("numpy", "scipy", "networkx", "mesa", "numba", "llvmlite")


def numeric_versions() -> dict[str, str]:
    """The versions of :data:`NUMERIC_PACKAGES` and of Python in this process."""
    return {p: importlib.metadata.version(p) for p in NUMERIC_PACKAGES} | {"python": platform.python_version()}


@functools.cache
def code_fingerprint() -> str:
    """A hash of the code that decides a run's numbers.

    It covers ci-sim's model modules (:data:`NUMERIC_MODULES`), the versions of the libraries
    they compute with (:data:`NUMERIC_PACKAGES`) and Python's version. A resumed sweep must
    run the same code as the interrupted one, or its folder would hold numbers of two
    versions (see :func:`check_folder`).
    """
    digest = hashlib.sha256()
    for name in NUMERIC_MODULES:
        origin = importlib.util.find_spec(name).origin
        digest.update(f"\n{name}\n".encode() + Path(origin).read_bytes())
    for package, version in numeric_versions().items():
        digest.update(f"\n{package}={version}".encode())
    return digest.hexdigest()


def _worker_code() -> str:
    """The code fingerprint of the process running a task (a worker, maybe on another machine)."""
    return code_fingerprint()


def evaluate(
    task: RunTask,
    base: dict[str, Any],
    source: str,
    metrics: list[str],
    keep_timeseries: bool,
    code: str | None = None,
    drop_late_events: bool = False,
):
    """Run one task; return its row and its time series (or None).

    This is the function the executors run: it is pure (the same task gives the same
    numbers in any process) and picklable. A run that raises is returned as a row with
    ``status == "error"`` and its traceback.

    Raises:
        ScenarioError: ``code`` (the sweep's :func:`code_fingerprint`) differs from this
            worker's: a Dask worker with other ci-sim, numpy, scipy, networkx, Mesa or Python
            versions would give other numbers, so it computes nothing and the sweep stops
            (what finished is kept; ``--resume`` goes on once the workers match).
    """
    if code is not None and code != _worker_code():
        versions = ", ".join(f"{p} {v}" for p, v in numeric_versions().items())
        raise ScenarioError(
            f"worker {platform.node()} (pid {os.getpid()})",
            "code.fingerprint",
            _worker_code()[:16],
            f"the sweep's code ({code[:16]}); this worker has {versions}: "
            "install the same ci-sim and library versions on every worker",
        )
    row: dict[str, Any] = {
        "run_id": task.run_id,
        "point": task.point,
        "replication": task.replication,
        "seed": task.seed,
        "status": "ok",
        "error": "",
        **task.overrides,
        **task.posterior,
    }
    series = None
    try:
        data = apply_overrides(base, task.overrides, source)
        if drop_late_events:
            data = _drop_late_events(data)
        scenario = validate_scenario(data, source)
        if task.posterior:
            scenario = with_values(scenario, task.posterior, f"{source} (posterior draw)")
        result = run_scenario(scenario, task.seed, timeseries=keep_timeseries, agent_period=0)
        final = result.final
        row.update({m: float(final[m]) for m in metrics})
        if keep_timeseries:
            series = result.timeseries[["step", *metrics]].copy()
            series.insert(0, "replication", task.replication)
            series.insert(0, "point", task.point)
            series.insert(0, "run_id", task.run_id)
    except Exception:  # noqa: BLE001 - a failed run is recorded, the sweep goes on
        row.update(status="error", error=traceback.format_exc())
        row.update(dict.fromkeys(metrics, math.nan))
    return row, series


@dataclass
class SweepSummary:
    """What a sweep folder holds once a sweep (or its resumption) ends.

    Attributes:
        out: the sweep folder.
        total: runs in the design.
        skipped: runs found already done (resume).
        ran: runs computed by this call.
        ok: recorded runs that finished (all of the folder, not only this call's).
        failed: recorded runs that raised (idem).
        seconds: wall time of this call.
    """

    out: Path
    total: int
    skipped: int
    ran: int
    ok: int
    failed: int
    seconds: float

    @property
    def complete(self) -> bool:
        """Every run of the design is recorded."""
        return self.ok + self.failed == self.total


def _parts(folder: Path) -> list[Path]:
    return sorted(folder.glob("part-*.parquet"))


def read_runs(out: str | Path) -> pd.DataFrame:
    """All recorded runs of a sweep folder, one row each, sorted by ``run_id``."""
    parts = _parts(Path(out) / "runs")
    if not parts:
        return pd.DataFrame(columns=ID_COLUMNS)
    frame = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    return frame.sort_values("run_id", kind="stable").reset_index(drop=True)


def read_timeseries(out: str | Path) -> pd.DataFrame:
    """The kept time series of a sweep (only of runs recorded in ``runs/``)."""
    out = Path(out)
    parts = [p for p in _parts(out / "timeseries") if (out / "runs" / p.name).exists()]
    if not parts:
        return pd.DataFrame()
    frame = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    return frame.sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)


def done_run_ids(out: str | Path) -> set[int]:
    """The run_ids already in complete parts (only that column is read)."""
    done: set[int] = set()
    for part in _parts(Path(out) / "runs"):
        done.update(pd.read_parquet(part, columns=["run_id"])["run_id"].tolist())
    return done


def _fsync_dir(folder: Path) -> None:
    """Make the renames in ``folder`` durable (a power cut keeps them)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _in_use(out: Path) -> bool:
    """Whether ``out`` holds anything but leftovers of an interrupted atomic write."""
    if not out.exists():
        return False
    if not out.is_dir():
        return True
    return any(not (p.name.startswith(".") and p.name.endswith(".tmp")) for p in out.iterdir())


def check_folder(exp: Experiment, out: Path, resume: bool) -> None:
    """Refuse a folder in use (without ``resume``) or holding another sweep; writes nothing.

    Raises:
        ScenarioError: ``out`` is in use and ``resume`` is off, or it holds something other
            than a sweep of this experiment.
    """
    check_out_dir(out, "--out", may_hold_files=True)  # a file, a read-only place, a name too long
    meta = out / "experiment.json"
    if not resume and _in_use(out):
        raise ScenarioError(
            str(out),
            "--out",
            str(out),
            "an empty or new folder; this one is not empty (to finish an interrupted sweep there, add --resume)",
        )
    if resume and meta.exists():
        recorded = json.loads(meta.read_text())
        previous = recorded.get("fingerprint")
        if previous != exp.fingerprint():
            raise ScenarioError(
                str(meta),
                "fingerprint",
                previous,
                "the same experiment as the interrupted sweep (file, --set options, base scenario and design)",
            )
        code = recorded.get("code", {}).get("fingerprint")
        if code is not None and code != code_fingerprint():
            raise ScenarioError(
                str(meta),
                "code.fingerprint",
                code,
                "the ci-sim model code and numpy/scipy/networkx/Mesa versions the sweep started with "
                f"(now {code_fingerprint()[:16]}...; the numbers would differ): finish it with that "
                "version, or start a new --out folder",
            )
    elif resume and _in_use(out):
        raise ScenarioError(
            str(out), "--out", str(out), "a sweep folder (with experiment.json) to resume, or a new one"
        )


def prepare_folder(exp: Experiment, out: Path) -> set[int]:
    """Write ``experiment.json``, clean leftovers of a kill; return the run_ids already done."""
    code = {"fingerprint": code_fingerprint(), "modules": list(NUMERIC_MODULES)}
    code["versions"] = numeric_versions()
    # first: a folder with parts always says what they are
    write_json({**exp.to_json(), "code": code}, out / "experiment.json")
    (out / "runs").mkdir(exist_ok=True)
    if exp.spec.timeseries:
        (out / "timeseries").mkdir(exist_ok=True)
    # leftovers of an interrupted write are never results: remove them
    for folder in (out, out / "runs", out / "timeseries"):
        for tmp in folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
    for orphan in _parts(out / "timeseries"):
        if not (out / "runs" / orphan.name).exists():
            orphan.unlink()
    return done_run_ids(out)


def recorded_counts(out: str | Path) -> dict[str, int]:
    """How many recorded runs are ``ok`` and ``error`` (one part at a time: memory stays flat)."""
    counts = {"ok": 0, "error": 0}
    for part in _parts(Path(out) / "runs"):
        for status, n in pd.read_parquet(part, columns=["status"])["status"].value_counts().items():
            counts[status] = counts.get(status, 0) + int(n)
    return counts


def run_schema(exp: Experiment) -> tuple[list[str], dict[str, Any]]:
    """Columns and dtypes of ``runs/`` parts (the same in every part: one Parquet schema)."""
    columns = [*ID_COLUMNS, *exp.factor_paths, *exp.posterior_paths, *exp.spec.metrics]
    dtypes: dict[str, Any] = {"run_id": np.int64, "point": np.int64, "replication": np.int64, "seed": np.int64}
    dtypes |= {"status": object, "error": object}
    dtypes |= {p: exp.points[p].dtype for p in exp.factor_paths}
    dtypes |= dict.fromkeys(exp.posterior_paths, np.float64)
    dtypes |= dict.fromkeys(exp.spec.metrics, np.float64)
    return columns, dtypes


class PartWriter:
    """Holds finished runs and writes them as one part file (atomically) when asked.

    The time-series part is written first and under the same name: a run counts as done
    only once its row is in ``runs/``, and a time-series part without its runs part is a
    leftover that a resume removes.
    """

    def __init__(self, exp: Experiment, out: Path):
        self.out = out
        self.columns, self.dtypes = run_schema(exp)
        self.rows: list[dict[str, Any]] = []
        self.series: list[pd.DataFrame] = []
        self.counts = {"ok": 0, "error": 0}
        self.last_write = time.monotonic()

    def add(self, row: dict[str, Any], series: pd.DataFrame | None) -> None:
        self.rows.append(row)
        if series is not None:
            self.series.append(series)
        self.counts[row["status"]] += 1

    def write(self) -> None:
        self.last_write = time.monotonic()
        if not self.rows:
            return
        name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        if self.series:
            write_parquet(pd.concat(self.series, ignore_index=True), self.out / "timeseries" / name)
            _fsync_dir(self.out / "timeseries")
        frame = pd.DataFrame(self.rows, columns=self.columns).astype(self.dtypes)
        write_parquet(frame, self.out / "runs" / name)
        _fsync_dir(self.out / "runs")
        self.rows.clear()
        self.series.clear()


def _drain(executor, evaluator, work, pending, writer: PartWriter, bar, flush_rows: int, flush_seconds: float) -> None:
    """Keep a bounded window of runs in flight; hand each finished run to ``writer``."""
    in_flight: set = set()
    exhausted = False
    while in_flight or not exhausted:
        window = max(4, 4 * getattr(evaluator, "workers", 1))  # every worker busy, memory bounded
        while not exhausted and len(in_flight) < window:
            task = next(pending, None)
            if task is None:
                exhausted = True
            else:
                in_flight.add(executor.submit(work, task))
        if not in_flight:
            break
        finished, in_flight = wait(in_flight, timeout=flush_seconds, return_when=FIRST_COMPLETED)
        for future in finished:
            writer.add(*future.result())
            bar.update(1)
            if len(writer.rows) >= flush_rows:
                writer.write()
        if time.monotonic() - writer.last_write >= flush_seconds:
            writer.write()


def run_sweep(
    exp: Experiment,
    out: str | Path,
    evaluator,
    resume: bool = False,
    progress: bool = True,
    flush_rows: int = FLUSH_ROWS,
    flush_seconds: float = FLUSH_SECONDS,
) -> SweepSummary:
    """Run (or finish) a sweep of ``exp`` into ``out`` with ``evaluator``.

    Args:
        exp: a loaded experiment (:func:`ci_sim.experiments.experiment.load_experiment`).
        out: the sweep folder (refused if not empty, unless ``resume``).
        evaluator: a context manager giving a ``concurrent.futures`` executor
            (:mod:`ci_sim.experiments.evaluators`).
        resume: finish an interrupted sweep in ``out`` (skip the runs recorded there).
        progress: show a progress bar (rate and ETA) on stderr.
        flush_rows: write a part file at least every this many finished runs...
        flush_seconds: ...and at least this often (seconds).

    Returns:
        A :class:`SweepSummary`.

    Example:
        >>> from ci_sim.experiments.evaluators import ProcessPoolEvaluator
        >>> from ci_sim.experiments.experiment import load_experiment
        >>> exp = load_experiment("experiments/backbones_sweep.yaml", ["steps=24"])  # doctest: +SKIP
        >>> run_sweep(exp, "results/bb", ProcessPoolEvaluator(2)).ok  # doctest: +SKIP
        270
    """
    out = Path(out)
    started, t0 = datetime.now(UTC), time.perf_counter()
    check_folder(exp, out, resume)
    work = partial(
        evaluate,
        base=exp.base,
        source=exp.source,
        metrics=exp.spec.metrics,
        keep_timeseries=exp.spec.timeseries,
        code=code_fingerprint(),
        drop_late_events=exp.drop_late_events,
    )
    writer = PartWriter(exp, out)
    with evaluator as executor:  # started first: a cluster that cannot start leaves no folder behind
        done = prepare_folder(exp, out)
        bar = tqdm(
            total=exp.n_runs, initial=len(done), desc=exp.spec.name, unit="run", disable=not progress, file=sys.stderr
        )
        try:
            _drain(executor, evaluator, work, exp.tasks(skip=done), writer, bar, flush_rows, flush_seconds)
        finally:  # what finished is kept, even on Ctrl-C or a broken worker pool
            writer.write()
            bar.close()
    seconds = time.perf_counter() - t0
    counts = recorded_counts(out)
    summary = SweepSummary(
        out, exp.n_runs, len(done), writer.counts["ok"] + writer.counts["error"], counts["ok"], counts["error"], seconds
    )
    write_json(
        manifest(
            experiment=exp.spec.name,
            experiment_file=exp.source,
            fingerprint=exp.fingerprint(),
            evaluator=getattr(evaluator, "label", type(evaluator).__name__),
            workers=getattr(evaluator, "workers", None),
            runs_total=summary.total,
            runs_skipped_as_done=summary.skipped,
            runs_ran=summary.ran,
            runs_ok=summary.ok,
            runs_failed=summary.failed,
            posterior=exp.posterior.describe() if exp.posterior is not None else None,
            posterior_overridden_by_factors=exp.overridden_by_factors,
            started=started.isoformat(),
            ended=datetime.now(UTC).isoformat(),
            wall_seconds=round(seconds, 3),
        ),
        out / "manifest.json",
    )
    return summary
