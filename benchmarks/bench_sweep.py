"""Speed and memory of sweeps (a benchmark, not a test).

Prints:

1. runs per second of ``experiments/backbones_sweep.yaml`` (120 months, 150 partners) with
   1 and 2 worker processes, and the speed-up (goal: 2 workers at least 1.7x one);
2. the peak memory (RSS and PSS summed over the sweep's process and all its worker
   processes, sampled every 0.1 s) of sweeps of increasing size without time series (goal: under 500 MB for 10,000
   runs, and flat as the run count grows);
3. the wall time of ``experiments/sobol_main.yaml`` at a given Saltelli base N (256 in the
   file); at a smaller N the time at the file's N is extrapolated (linear in the run count)
   and labelled as such.

Each sweep runs in its own ``ci-sim sweep`` process, as a user would run it.

Usage:
    python benchmarks/bench_sweep.py [--speed-runs 540] [--memory-runs 1000 10000]
        [--memory-steps 12] [--sobol-samples 256] [--skip speed memory sobol]
"""

from __future__ import annotations

import argparse
import json
import math
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
    experiment: Path, out: Path, workers: int, sets: list[str], pss: bool = False, extra: tuple[str, ...] = ()
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
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
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


def bench_speed(runs: int, tmp: Path) -> None:
    reps = max(1, math.ceil(runs / POINTS))
    n = reps * POINTS
    print(f"1. speed: backbones_sweep.yaml, {n} runs (120 months, 150 partners)")
    rates, steady = {}, {}
    for workers in (1, 2):
        load = psutil.getloadavg()[0]
        res = sweep(BACKBONES, tmp / f"speed{workers}", workers, [f"replications={reps}"], extra=("--flush-seconds=2",))
        inner = res["manifest"]["wall_seconds"]
        rates[workers], steady[workers] = n / inner, steady_rate(tmp / f"speed{workers}")
        print(
            f"   {workers} worker(s): {rates[workers]:5.1f} runs/s over the whole sweep ({inner:.1f} s), "
            f"{steady[workers]:5.1f} runs/s once the workers are up; load average before: {load:.2f}"
        )
    print(
        f"   speed-up 2 vs 1 worker: {rates[2] / rates[1]:.2f}x over the whole sweep, "
        f"{steady[2] / steady[1]:.2f}x once the workers are up (goal >= 1.7x)"
    )


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
    print("   goal: under 500 MB at 10,000 runs, flat as the run count grows")


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
    parser.add_argument("--skip", nargs="*", default=[], choices=["speed", "memory", "sobol"])
    args = parser.parse_args()
    print(f"{psutil.cpu_count()} CPUs; python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmp:
        if "speed" not in args.skip:
            bench_speed(args.speed_runs, Path(tmp))
        if "memory" not in args.skip:
            bench_memory(args.memory_runs, args.memory_steps, Path(tmp))
        if "sobol" not in args.skip:
            bench_sobol(args.sobol_samples, Path(tmp))


if __name__ == "__main__":
    main()
