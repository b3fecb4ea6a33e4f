"""Speed and memory of sweeps (a benchmark, not a test).

Prints:

1. runs per second of ``experiments/backbones_sweep.yaml`` (120 months, 150 partners) with
   1 and 2 worker processes, and the speed-up (goal: 2 workers at least 1.7x one);
2. the peak memory (RSS and PSS summed over the sweep's process and all its worker
   processes, sampled every 0.1 s) of sweeps of increasing size without time series (goal: under 500 MB for 10,000
   runs, and flat as the run count grows);
3. the wall time of ``experiments/sobol_main.yaml`` at a given Saltelli base N (256 in the
   file); at a smaller N the time at the file's N is extrapolated (linear in the run count)
   and labelled as such;
4. with ``--against REV`` (default: 0dd7a73, the last commit whose step was vectorized numpy),
   the speed of 1. for that revision too, side by side in the same invocation (checked out in
   a temporary git worktree), and the ratio (goal: the compiled step at least 4x);
5. the first-task latency of a fresh worker (a process-pool worker and a Dask worker): from
   asking a new worker for one 120-month run to its result, kernels loaded from the cache.

Each sweep runs in its own ``ci-sim sweep`` process, as a user would run it.

Usage:
    python benchmarks/bench_sweep.py [--speed-runs 540] [--memory-runs 1000 10000]
        [--memory-steps 12] [--sobol-samples 256] [--against REV] [--skip speed memory sobol against first]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
BACKBONES = ROOT / "experiments" / "backbones_sweep.yaml"
SOBOL = ROOT / "experiments" / "sobol_main.yaml"
POINTS = 9 * 3 * 2  # backbones_sweep's grid


def tree_memory(proc: psutil.Process, pss: bool) -> tuple[int, int]:
    """RSS and PSS of a process and all its descendants, in bytes.

    RSS counts pages shared between the processes (the Python and numpy libraries mapped by
    each) once per process; PSS splits them among the processes sharing them, so the PSS sum
    is what the sweep really occupies.
    """
    rss_sum = pss_sum = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            info = p.memory_full_info() if pss else p.memory_info()
        except psutil.Error:  # a worker that just ended
            continue
        rss_sum += info.rss
        pss_sum += getattr(info, "pss", info.rss)
    return rss_sum, pss_sum


def sweep(
    experiment: Path,
    out: Path,
    workers: int,
    sets: list[str],
    pss: bool = False,
    extra: tuple[str, ...] = (),
    src: Path | None = None,
) -> dict:
    """Run one ``ci-sim sweep`` process; return its wall time, peak memory and manifest.

    Memory is sampled every 0.1 s (RSS) or 0.25 s (RSS and PSS: reading PSS costs CPU,
    so the speed measurements sample RSS only).
    """
    cmd = [sys.executable, "-m", "ci_sim.cli", "sweep", str(experiment), "-w", str(workers), "-q", "--out", str(out)]
    for s in sets:
        cmd += ["--set", s]
    cmd += list(extra)
    t0 = time.perf_counter()
    env = None if src is None else {**os.environ, "PYTHONPATH": str(src)}  # another revision's code
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env)
    ps = psutil.Process(proc.pid)
    peak = [0, 0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                rss, shared = tree_memory(ps, pss)
            except psutil.Error:
                return
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], shared)
            stop.wait(0.25 if pss else 0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = proc.wait()
    wall = time.perf_counter() - t0
    stop.set()
    sampler.join()
    if code != 0:
        raise SystemExit(f"sweep failed with exit status {code}: {' '.join(cmd)}")
    manifest = json.loads((out / "manifest.json").read_text())
    return {"wall": wall, "peak_mb": peak[0] / 2**20, "peak_pss_mb": peak[1] / 2**20, "manifest": manifest}


def steady_rate(out: Path) -> float:
    """Runs per second between the first and the last part file (worker start-up excluded).

    Part files are named ``part-<time_ns>-...``: the runs of every part after the first,
    over the time from the first part to the last.
    """
    import pandas as pd

    parts = sorted((out / "runs").glob("part-*.parquet"))
    if len(parts) < 2:
        return float("nan")
    stamps = [int(p.name.split("-")[1]) / 1e9 for p in parts]
    runs_after_first = sum(len(pd.read_parquet(p, columns=["run_id"])) for p in parts[1:])
    return runs_after_first / (stamps[-1] - stamps[0])


def bench_speed(runs: int, tmp: Path, src: Path | None = None, label: str = "this checkout") -> dict[int, float]:
    reps = max(1, math.ceil(runs / POINTS))
    n = reps * POINTS
    print(f"1. speed of {label}: backbones_sweep.yaml, {n} runs (120 months, 150 partners)")
    rates, steady = {}, {}
    for workers in (1, 2):
        load = psutil.getloadavg()[0]
        out = tmp / f"speed{workers}-{label.replace(' ', '_')}"
        res = sweep(BACKBONES, out, workers, [f"replications={reps}"], extra=("--flush-seconds=2",), src=src)
        inner = res["manifest"]["wall_seconds"]
        rates[workers], steady[workers] = n / inner, steady_rate(out)
        print(
            f"   {workers} worker(s): {rates[workers]:5.1f} runs/s over the whole sweep ({inner:.1f} s), "
            f"{steady[workers]:5.1f} runs/s once the workers are up; load average before: {load:.2f}"
        )
    print(
        f"   speed-up 2 vs 1 worker: {rates[2] / rates[1]:.2f}x over the whole sweep, "
        f"{steady[2] / steady[1]:.2f}x once the workers are up (goal >= 1.7x)"
    )
    return rates


def bench_against(rev: str, runs: int, tmp: Path, ours: dict[int, float]) -> None:
    """Speed of revision ``rev`` beside this checkout's (measured just before), and the ratio."""
    print(f"4. against {rev}:")
    tree = tmp / "against"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), rev], check=True)
    try:
        theirs = bench_speed(runs, tmp, src=tree / "src", label=f"revision {rev}")
        for w in (1, 2):
            print(f"   {w} worker(s): this checkout {ours[w]:.1f} runs/s, {rev} {theirs[w]:.1f} runs/s: "
                  f"{ours[w] / theirs[w]:.2f}x (goal >= 4x per worker)")  # fmt: skip
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)


def _one_run() -> float:
    from ci_sim import load_scenario, replication_seed, run_scenario

    t0 = time.perf_counter()
    run_scenario(load_scenario("nine_backbones"), seed=replication_seed(2026, 0))
    return time.perf_counter() - t0


def bench_first_task() -> None:
    """A fresh worker's first task: start-up, imports, kernels from the cache, one 120-month run."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    print("5. first task of a fresh worker (nine_backbones, 120 months; kernels from the cache)")
    t0 = time.perf_counter()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        run = pool.submit(_one_run).result()
    print(
        f"   process-pool worker (spawned): {time.perf_counter() - t0:.2f} s to the result, the run itself {run:.2f} s"
    )
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            t0 = time.perf_counter()
            run = client.submit(_one_run, pure=False).result()
            took = time.perf_counter() - t0
            print(f"   fresh Dask worker (started, nothing imported): {took:.2f} s to the result, the run {run:.2f} s")


def bench_memory(counts: list[int], steps: int, tmp: Path) -> None:
    print(f"2. memory: backbones_sweep.yaml at {steps} months, no time series, 2 workers")
    peaks = []
    for runs in counts:
        reps = max(1, math.ceil(runs / POINTS))
        sets = [f"replications={reps}", f"steps={steps}", "timeseries=false"]
        res = sweep(BACKBONES, tmp / f"mem{runs}", 2, sets, pss=True)
        n = reps * POINTS
        print(
            f"   {n:6d} runs: peak memory of parent + workers: RSS sum {res['peak_mb']:4.0f} MB, "
            f"PSS sum {res['peak_pss_mb']:4.0f} MB; "
            f"{res['wall']:.0f} s, {n / res['manifest']['wall_seconds']:.0f} runs/s"
        )
        peaks.append((n, res["peak_pss_mb"]))
    if len(peaks) > 1:
        (n0, m0), (n1, m1) = peaks[0], peaks[-1]
        print(f"   from {n0} to {n1} runs ({n1 / n0:.0f}x): PSS {m1 - m0:+.0f} MB ({(m1 / m0 - 1) * 100:+.0f}%)")
    print("   goal: under 600 MB at 10,000 runs (numba adds tens of MB a process), flat as the run count grows")


def bench_sobol(samples: int, tmp: Path) -> None:
    from ci_sim.experiments.experiment import load_experiment

    full = load_experiment(SOBOL)
    exp = load_experiment(SOBOL, [f"samples={samples}"])
    res = sweep(SOBOL, tmp / "sobol", 2, [f"samples={samples}"])
    print(f"3. sobol_main.yaml, 2 workers: N={samples}: {exp.n_runs} runs in {res['wall']:.0f} s (measured)")
    if exp.n_runs != full.n_runs:
        estimate = res["manifest"]["wall_seconds"] * full.n_runs / exp.n_runs
        print(
            f"   N={full.spec.samples}: {full.n_runs} runs, about {estimate:.0f} s "
            f"(EXTRAPOLATED linearly from N={samples}, not measured)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speed-runs", type=int, default=540, help="runs per speed measurement")
    parser.add_argument("--memory-runs", type=int, nargs="+", default=[1000, 10000], help="sweep sizes for memory")
    parser.add_argument("--memory-steps", type=int, default=12, help="months per run in the memory sweeps")
    parser.add_argument("--sobol-samples", type=int, default=256, help="Saltelli base N (a power of 2)")
    parser.add_argument("--against", default="0dd7a73", help="git revision to compare speed with (default: numpy step)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["speed", "memory", "sobol", "against", "first"])
    args = parser.parse_args()
    print(f"{psutil.cpu_count()} CPUs; python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmp:
        if "speed" not in args.skip:
            ours = bench_speed(args.speed_runs, Path(tmp))
            if "against" not in args.skip:
                bench_against(args.against, args.speed_runs, Path(tmp), ours)
        if "memory" not in args.skip:
            bench_memory(args.memory_runs, args.memory_steps, Path(tmp))
        if "sobol" not in args.skip:
            bench_sobol(args.sobol_samples, Path(tmp))
        if "first" not in args.skip:
            bench_first_task()


if __name__ == "__main__":
    main()
