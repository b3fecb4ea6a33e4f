"""Sweeps: the same numbers on every executor, failures recorded, resume after SIGKILL."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from ci_sim.cli import EXIT_RUNS_FAILED, main
from ci_sim.experiments.evaluators import DaskEvaluator, ProcessPoolEvaluator, SerialEvaluator
from ci_sim.experiments.experiment import load_experiment
from ci_sim.experiments.sweep import code_fingerprint, read_runs, read_timeseries, run_sweep

SMALL = """
name: small_sweep
base: single_backbone
set: {steps: 12, community.partners: 40}
design: grid
factors:
  - {path: issue_areas.0.backbones.count, levels: [1, 2, 3]}
  - {path: issue_areas.0.backbones.neutrality, levels: [0.3, 0.9]}
replications: 2
seed: 11
metrics: [outcome_improvement, alignment, mean_trust]
timeseries: true
"""

# each level is valid alone, but an event at month 40 of a 24-month run is refused when the
# run starts: a legitimate run-time failure
FAILING = """
name: failing
base: consolidation
set: {steps: 60, community.partners: 40, events.0.at: 12}
design: grid
factors:
  - {path: steps, levels: [24, 60]}
  - {path: events.0.at, levels: [12, 40]}
replications: 1
metrics: [outcome_improvement]
"""

RESUMABLE = """
name: resumable
base: nine_backbones
set: {steps: 60}
design: grid
factors:
  - {path: issue_areas.0.backbones.count, levels: [1, 2, 3, 4, 5, 6, 7, 8, 9]}
  - {path: issue_areas.0.backbones.servant_leadership, levels: [0.2, 0.5, 0.8]}
replications: 4
seed: 5
metrics: [outcome_improvement, alignment, engagement]
timeseries: true
"""
RESUMABLE_RUNS = 9 * 3 * 4


def write(folder: Path, text: str, name: str = "exp.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_serial_processes_and_dask_give_identical_results(tmp_path):
    exp = load_experiment(write(tmp_path, SMALL))
    frames = {}
    for label, evaluator in {
        "serial": SerialEvaluator(),
        "processes": ProcessPoolEvaluator(2),
        "dask": DaskEvaluator("local", 2),
    }.items():
        summary = run_sweep(exp, tmp_path / label, evaluator, progress=False, flush_rows=3)
        assert summary.ok == exp.n_runs == 12 and summary.failed == 0 and summary.complete
        frames[label] = read_runs(tmp_path / label)
    serial = frames["serial"]
    assert serial["run_id"].tolist() == list(range(12))
    pd.testing.assert_frame_equal(serial, frames["processes"], check_exact=True)
    pd.testing.assert_frame_equal(serial, frames["dask"], check_exact=True)
    assert serial["outcome_improvement"].nunique() > 6  # the factors really change the runs
    # seeds: SeedSequence(experiment seed, spawn_key=(replication,)) at every point (common
    # random numbers), nothing else
    for row in serial.itertuples():
        state = np.random.SeedSequence(11, spawn_key=(row.replication,)).generate_state(1, np.uint64)
        assert row.seed == int(state[0] >> np.uint64(1))
    assert serial.groupby("replication")["seed"].nunique().eq(1).all() and serial["seed"].nunique() == 2


def test_an_existing_dask_cluster_by_address(tmp_path, monkeypatch):
    from dask.distributed import LocalCluster

    exp_file = write(tmp_path, SMALL)
    reference = tmp_path / "serial"
    assert CliRunner().invoke(main, ["sweep", str(exp_file), "-w", "1", "-q", "--out", str(reference)]).exit_code == 0
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        out = tmp_path / "cluster"
        args = ["sweep", str(exp_file), "-q", "--scheduler", cluster.scheduler_address, "--out", str(out)]
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 0, res.output
    pd.testing.assert_frame_equal(read_runs(out), read_runs(reference), check_exact=True)
    assert json.loads((out / "manifest.json").read_text())["evaluator"] == "dask"
    monkeypatch.setattr("ci_sim.experiments.evaluators.CONNECT_TIMEOUT", "1s")
    gone = CliRunner().invoke(
        main, ["sweep", str(exp_file), "-q", "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "x")]
    )
    assert gone.exit_code == 2 and "Dask scheduler" in gone.output and not (tmp_path / "x").exists()


def test_runs_stream_to_part_files_with_one_schema_and_time_series(tmp_path):
    exp = load_experiment(write(tmp_path, SMALL))
    out = tmp_path / "out"
    run_sweep(exp, out, SerialEvaluator(), progress=False, flush_rows=5)
    assert len(list((out / "runs").glob("part-*.parquet"))) == 3  # 12 runs, a part every 5
    direct = pd.read_parquet(out / "runs").sort_values("run_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(direct, read_runs(out), check_exact=True)
    assert list(direct.columns[:6]) == ["run_id", "point", "replication", "seed", "status", "error"]
    assert list(direct.columns[6:8]) == ["issue_areas.0.backbones.count", "issue_areas.0.backbones.neutrality"]
    ts = read_timeseries(out)
    assert len(ts) == 12 * 13 and set(ts["run_id"]) == set(range(12))
    assert list(ts.columns[:4]) == ["run_id", "point", "replication", "step"]
    last = ts[ts["step"] == 12].set_index("run_id")["alignment"]
    assert np.array_equal(last.sort_index().to_numpy(), direct["alignment"].to_numpy())
    meta = json.loads((out / "experiment.json").read_text())
    assert meta["n_runs"] == 12 and meta["factors"] == exp.factor_paths and len(meta["fingerprint"]) == 64


def test_a_run_that_raises_is_recorded_and_the_sweep_goes_on(tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["sweep", str(write(tmp_path, FAILING)), "-w", "2", "-q", "--out", str(out)])
    assert res.exit_code == EXIT_RUNS_FAILED == 3, res.output
    assert "1 run(s) failed" in res.output and "3 ok, 1 failed" in res.output
    runs = read_runs(out)
    assert len(runs) == 4
    bad = runs[runs["status"] == "error"]
    assert len(bad) == 1 and bad["steps"].iloc[0] == 24 and bad["events.0.at"].iloc[0] == 40
    assert "Traceback" in bad["error"].iloc[0] and "events.0.at" in bad["error"].iloc[0]
    assert bad["outcome_improvement"].isna().all()
    good = runs[runs["status"] == "ok"]
    assert good["outcome_improvement"].notna().all() and (good["error"] == "").all()
    # resuming a finished sweep with a failed run still says so
    again = CliRunner().invoke(main, ["sweep", str(write(tmp_path, FAILING)), "-q", "--resume", "--out", str(out)])
    assert again.exit_code == EXIT_RUNS_FAILED and "0 ran now" in again.output


def test_a_used_folder_is_refused_without_resume_and_a_different_experiment_with_it(tmp_path):
    exp_file = write(tmp_path, SMALL)
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["sweep", str(exp_file), "-w", "1", "-q", "--out", str(out)]).exit_code == 0
    before = sorted(p.name for p in (out / "runs").iterdir())
    again = CliRunner().invoke(main, ["sweep", str(exp_file), "-w", "1", "-q", "--out", str(out)])
    assert again.exit_code == 2 and "--resume" in again.output
    other = CliRunner().invoke(main, ["sweep", str(exp_file), "-q", "--resume", "--out", str(out), "--set", "seed=12"])
    assert other.exit_code == 2 and "same experiment" in other.output
    assert sorted(p.name for p in (out / "runs").iterdir()) == before
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("mine")
    stray = CliRunner().invoke(main, ["sweep", str(exp_file), "-q", "--out", str(tmp_path / "notes")])
    assert stray.exit_code == 2 and sorted(p.name for p in (tmp_path / "notes").iterdir()) == ["todo.txt"]


def test_leftovers_of_a_kill_are_never_read_as_results(tmp_path):
    exp = load_experiment(write(tmp_path, SMALL))
    out = tmp_path / "out"
    run_sweep(exp, out, SerialEvaluator(), progress=False, flush_rows=4)
    reference = read_runs(out)
    # what a kill during a write leaves: a half-written temp file, a time-series part whose
    # runs part never made it, and a lost part (those runs must be computed again)
    (out / "runs" / ".part-99.parquet.abc123.tmp").write_bytes(b"PAR1 half written")
    (out / "timeseries" / "part-99999999999999999999-deadbeef.parquet").write_bytes(b"orphan")
    lost = sorted((out / "runs").glob("part-*.parquet"))[1]
    lost_ids = set(pd.read_parquet(lost)["run_id"])
    lost.unlink()
    (out / "timeseries" / lost.name).unlink()
    pd.read_parquet(out / "runs")  # the temp file is invisible to readers
    summary = run_sweep(exp, out, SerialEvaluator(), resume=True, progress=False)
    assert summary.skipped == 12 - len(lost_ids) and summary.ran == len(lost_ids) and summary.complete
    assert not list((out / "runs").glob(".*.tmp"))
    pd.testing.assert_frame_equal(read_runs(out), reference, check_exact=True)
    assert len(read_timeseries(out)) == 12 * 13


def test_a_resume_with_other_model_code_is_refused(tmp_path, monkeypatch):
    exp_file = write(tmp_path, SMALL)
    out = tmp_path / "out"
    args = ["sweep", str(exp_file), "-w", "1", "-q", "--out", str(out), "--resume"]
    assert CliRunner().invoke(main, args).exit_code == 0
    meta = json.loads((out / "experiment.json").read_text())
    assert meta["code"]["fingerprint"] == code_fingerprint() and "ci_sim.model.model" in meta["code"]["modules"]
    before = sorted(p.name for p in (out / "runs").iterdir())
    assert CliRunner().invoke(main, args).exit_code == 0  # the same code: resuming is fine
    monkeypatch.setattr("ci_sim.experiments.sweep.code_fingerprint", lambda: "f" * 64)  # as after an upgrade
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2 and "code.fingerprint" in res.output and "new --out folder" in res.output
    assert sorted(p.name for p in (out / "runs").iterdir()) == before


def test_a_worker_with_other_code_computes_nothing_and_the_sweep_stops(tmp_path, monkeypatch):
    exp_file = write(tmp_path, SMALL)
    out = tmp_path / "out"
    args = ["sweep", str(exp_file), "-w", "1", "-q", "--out", str(out), "--resume"]
    monkeypatch.setattr("ci_sim.experiments.sweep._worker_code", lambda: "e" * 64)  # a cluster worker left un-upgraded
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2, res.output
    assert "worker" in res.output and "code.fingerprint" in res.output and "same ci-sim" in res.output
    assert read_runs(out).empty, "no numbers of other code are recorded"
    monkeypatch.undo()  # the workers now match: the same folder finishes
    assert CliRunner().invoke(main, args).exit_code == 0
    assert sorted(read_runs(out)["run_id"]) == list(range(12))


def test_scenario_errors_cross_process_boundaries_intact():
    import pickle

    from ci_sim.model.scenario import ScenarioError

    exc = ScenarioError("worker w1", "code.fingerprint", "abc", "the sweep's code")
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is ScenarioError and str(back) == str(exc) and back.path == "code.fingerprint"


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "ci_sim.cli", *args]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The experiment file, the runs and time series of an uninterrupted sweep, and its wall time."""
    folder = tmp_path_factory.mktemp("whole")
    exp_file = write(folder, RESUMABLE)
    t0 = time.monotonic()
    subprocess.run(_cli("sweep", str(exp_file), "-w", "2", "-q", "--out", str(folder / "out")), check=True)
    wall = time.monotonic() - t0
    reference = read_runs(folder / "out")
    assert len(reference) == RESUMABLE_RUNS
    return exp_file, reference, read_timeseries(folder / "out"), wall


def _start(exp_file: Path, out: Path, *extra: str) -> subprocess.Popen:
    args = _cli("sweep", str(exp_file), "-w", "2", "-q", "--flush-rows", "4", "--out", str(out), *extra)
    # a session of its own, so the kill takes the workers too, like a power cut
    return subprocess.Popen(args, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _recorded(out: Path) -> int:
    """Runs in complete part files (parts appear by an atomic rename: never half there)."""
    return sum(pq.ParquetFile(p).metadata.num_rows for p in (out / "runs").glob("part-*.parquet"))


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:  # it had already ended
        pass
    proc.wait()


def _kill_when_recorded(proc: subprocess.Popen, out: Path, target: int, delay: float) -> None:
    """SIGKILL the sweep (and its workers) ``delay`` seconds after ``target`` runs are on disk.

    Triggered by progress, not by the clock: on a fast or a slow machine the kill lands midway.
    """
    while proc.poll() is None and (not (out / "runs").is_dir() or _recorded(out) < target):
        time.sleep(0.005)
    time.sleep(delay)
    _kill_group(proc)


def test_sweep_killed_twice_with_sigkill_then_resumed_matches_an_uninterrupted_one(tmp_path, uninterrupted):
    exp_file, reference, reference_ts, _ = uninterrupted
    seed = random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    why = f"(kill moments drawn with random.Random({seed}))"
    out = tmp_path / "broken"
    _kill_when_recorded(_start(exp_file, out), out, rng.randint(1, 40), rng.uniform(0.0, 0.03))
    first = read_runs(out)
    assert 0 < len(first) < RESUMABLE_RUNS, f"the kill must interrupt the sweep midway {why}"
    assert first["run_id"].is_unique, why
    _kill_when_recorded(_start(exp_file, out, "--resume"), out, len(first) + rng.randint(1, 30), rng.uniform(0, 0.03))
    second = read_runs(out)
    assert len(first) < len(second) < RESUMABLE_RUNS and second["run_id"].is_unique, why
    # a half-written part of the killed write may be left: it is never read, and removed on resume
    done = subprocess.run(_cli("sweep", str(exp_file), "-w", "2", "-q", "--resume", "--out", str(out)))
    assert done.returncode == 0, why
    resumed = read_runs(out)
    assert resumed["run_id"].tolist() == list(range(RESUMABLE_RUNS)), f"every run exactly once {why}"
    pd.testing.assert_frame_equal(resumed, reference, check_exact=True, obj=f"runs {why}")
    pd.testing.assert_frame_equal(read_timeseries(out), reference_ts, check_exact=True, obj=f"time series {why}")
    assert not list(out.rglob(".*.tmp")), why
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runs_skipped_as_done"] == len(second) and manifest["runs_ok"] == RESUMABLE_RUNS


def test_sweep_killed_at_a_random_moment_resumes_on_another_executor(tmp_path, uninterrupted):
    """Killed at a random moment once results are streaming (possibly during a write), then
    finished serially: the numbers do not depend on the executor.

    The kill is triggered by progress (a random number of runs on disk, then a random few
    milliseconds), not by the clock: a clock-drawn moment fell before the first part about
    half the time, when there is nothing to resume, and could fall after the end.
    """
    exp_file, reference, reference_ts, _ = uninterrupted
    seed = random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    target, delay = rng.randint(1, RESUMABLE_RUNS - 40), rng.uniform(0.0, 0.05)
    why = f"(killed {delay:.3f} s after {target} runs were on disk; random.Random({seed}))"
    out = tmp_path / "anywhere"
    proc = _start(exp_file, out)
    _kill_when_recorded(proc, out, target, delay)
    assert proc.returncode == -signal.SIGKILL, f"the sweep ended before the kill {why}"
    interrupted = read_runs(out)
    assert target <= len(interrupted) < RESUMABLE_RUNS, f"the kill must interrupt the sweep midway {why}"
    assert interrupted["run_id"].is_unique, why
    res = CliRunner().invoke(main, ["sweep", str(exp_file), "-w", "1", "-q", "--resume", "--out", str(out)])
    assert res.exit_code == 0, f"{res.output} {why}"
    assert f"{len(interrupted)} already done" in res.output, why
    pd.testing.assert_frame_equal(read_runs(out), reference, check_exact=True, obj=f"runs {why}")
    pd.testing.assert_frame_equal(read_timeseries(out), reference_ts, check_exact=True, obj=f"time series {why}")


def test_workers_end_when_the_sweep_process_is_killed_alone(tmp_path, uninterrupted):
    """``kill -9 PID`` of the sweep (not its process group) must not leave idle workers behind."""
    exp_file = uninterrupted[0]
    out = tmp_path / "orphans"
    proc = _start(exp_file, out)
    try:
        while proc.poll() is None and (not (out / "runs").is_dir() or _recorded(out) < 1):
            time.sleep(0.01)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert children, "the sweep runs its workers in processes of their own"
        proc.kill()  # SIGKILL to the sweep process only
        proc.wait()
        _, alive = psutil.wait_procs(children, timeout=60)
        assert not alive, f"workers left running after their sweep was killed: {alive}"
    finally:
        _kill_group(proc)  # whatever is left of this test's processes
