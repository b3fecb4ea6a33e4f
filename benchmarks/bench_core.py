"""Speed of the simulation core against Mesa's own BoltzmannWealth example.

Prints µs per partner-step of `nine_backbones` (120 steps, model construction and the
model-level metrics of every month included, no per-agent sampling) at 150 and 2,000
partners, and µs per agent-step of Mesa's BoltzmannWealth (shipped inside the mesa package)
at the same agent counts, in the same process, alternating the two. Goals (engine issue): at
most 0.25x Mesa's per-agent cost at 150 partners, 0.15x at 2,000. Then model construction on
its own, and where a month goes at 150 partners: each mechanism's kernel timed on its own
(median of many calls on a state after two years), the metrics row, and the Python around them.

Usage:
    python benchmarks/bench_core.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from pathlib import Path

from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario, BoltzmannWealth

from ci_sim import load_scenario, run_scenario

ROOT = Path(__file__).resolve().parents[1]
STEPS = 120


def ci_sim_run(partners: int):
    sc = load_scenario(ROOT / "scenarios" / "nine_backbones.yaml", [f"community.partners={partners}"])
    run_scenario(sc, seed=1, steps=5)  # warm up imports and caches
    return lambda: run_scenario(sc, seed=1, steps=STEPS)


def boltzmann_run(agents: int):
    side = max(10, math.isqrt(agents))

    def run():
        model = BoltzmannWealth(BoltzmannScenario(n=agents, width=side, height=side, rng=1))
        for _ in range(STEPS):
            model.step()

    return run


def best_of_alternating(repeats: int, ours, theirs) -> tuple[float, float]:
    """Best wall time of each of two functions, run alternately (a noisy machine hits both alike)."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, out in ((ours, times[0]), (theirs, times[1])):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return min(times[0]), min(times[1])


def median_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def breakdown(partners: int) -> None:
    """Construction, and each part of a month, at ``partners`` partners (µs, medians)."""
    import numpy as np

    from ci_sim import build_model
    from ci_sim.model import metrics, schedule
    from ci_sim.model.mechanisms import (
        agendas,
        attention,
        budget,
        hours,
        measurement,
        outcomes,
        plans,
        population,
        promoted,
        resources,
        trust,
    )

    sc = load_scenario(ROOT / "scenarios" / "nine_backbones.yaml", [f"community.partners={partners}"])
    build_model(sc, 1)
    construction = median_of(30, lambda: build_model(sc, 1))
    print(f"\nmodel construction at {partners} partners: {construction * 1e3:.2f} ms "
          f"({construction / STEPS * 1e6:.1f} µs a month over {STEPS} months)")  # fmt: skip
    m = build_model(sc, 1)
    for _ in range(24):
        m.step()
    S, P, row = m.state, m.P, np.empty(len(metrics.METRIC_NAMES) + 2 * m.n_outcomes)
    drift, shock, sampling = np.zeros(m.n_outcomes), np.zeros(m.n_areas), np.zeros(m.n_indicators)
    parts = {
        "1 attention (and validity)": lambda: (attention.validity(S), attention.attention(S, P, True)),
        "2 budget and staff": lambda: budget.budget(S, P),
        "3 promoted agendas": lambda: promoted.promoted_agendas(S, P),
        "4 agendas (Friedkin-Johnsen)": lambda: agendas.update_agendas(S, P),
        "5 hours": lambda: hours.hours(S, P),
        "6 measurement (and data cost)": lambda: (measurement.update_measurement(S, P), measurement.data_cost(S, P)),
        "7 resources": lambda: resources.update_resources(S, P),
        "8 action plans": lambda: plans.update_plans(S, P, 5),
        "9 changed practice": lambda: outcomes.update_practice(S, P),
        "12 population (a measuring month)": lambda: population.update_population(S, P, 12, drift, shock, sampling),
        "10 trust and engagement": lambda: trust.update_trust_engagement(S, P),
        "metrics row (41 + 2K)": lambda: metrics.fill(S, row),
    }
    print(f"a month at {partners} partners (µs; each part alone, median of 2,000 calls):")
    total = 0.0
    for name, fn in parts.items():
        fn()
        t = median_of(2000, fn) * 1e6
        total += t
        print(f"   {name:<32} {t:8.1f}")
    step = median_of(2000, lambda: schedule.advance(S, P, 5, drift, shock, sampling)) * 1e6
    whole = median_of(2000, lambda: (m.step(), metrics.model_metrics(m, row))) * 1e6
    print(f"   {'sum of the parts':<32} {total:8.1f}")
    print(f"   {'schedule.advance (one call)':<32} {step:8.1f}")
    print(f"   {'model.step() + metrics row':<32} {whole:8.1f}   (Python around the kernels: events, noise, calls)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-breakdown", action="store_true", help="skip construction and the per-mechanism times")
    args = parser.parse_args()
    header = ("agents", "ci-sim run (s)", "ci-sim µs/partner-step", "Mesa Boltzmann µs/agent-step", "ratio")
    print(f"{header[0]:>7} {header[1]:>15} {header[2]:>23} {header[3]:>29} {header[4]:>6}")
    runs = {}
    for n in (150, 2000):
        ours, theirs = best_of_alternating(args.repeats, ci_sim_run(n), boltzmann_run(n))
        runs[n] = (ours, theirs)
        ours_us = ours / (n * STEPS) * 1e6
        theirs_us = theirs / (n * STEPS) * 1e6
        print(f"{n:>7} {ours:>15.3f} {ours_us:>23.2f} {theirs_us:>29.2f} {ours_us / theirs_us:>6.3f}")
    # what one more partner costs, without the fixed cost of a step (the same at any size)
    extra = (2000 - 150) * STEPS
    ours_marginal = (runs[2000][0] - runs[150][0]) / extra * 1e6
    theirs_marginal = (runs[2000][1] - runs[150][1]) / extra * 1e6
    print(
        f"{'150→2000':>7} {'(marginal)':>15} {ours_marginal:>23.2f} {theirs_marginal:>29.2f} "
        f"{ours_marginal / theirs_marginal:>6.3f}"
    )
    print("goals: ratio <= 0.25 at 150 partners, <= 0.15 at 2,000")
    if not args.no_breakdown:
        breakdown(150)


if __name__ == "__main__":
    main()
