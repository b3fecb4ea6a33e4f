"""Speed of the simulation core against Mesa's own BoltzmannWealth example.

Prints µs per partner-step of `nine_backbones` (120 steps, model-level metrics recorded
every step, no per-agent sampling) at 150 and 2,000 partners, and µs per agent-step of
Mesa's BoltzmannWealth (shipped inside the mesa package) at the same agent counts, in the
same process. Targets (DESIGN): at most 0.25x Mesa's per-agent cost; one 2,000-partner,
nine-backbone, 120-step run under 0.5 s.

Usage:
    python benchmarks/bench_core.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario, BoltzmannWealth

from ci_sim import load_scenario, run_scenario

ROOT = Path(__file__).resolve().parents[1]
STEPS = 120


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def time_ci_sim(partners: int, repeats: int) -> float:
    sc = load_scenario(ROOT / "scenarios" / "nine_backbones.yaml", [f"community.partners={partners}"])
    run_scenario(sc, seed=1, steps=5)  # warm up imports and caches
    return best_of(repeats, lambda: run_scenario(sc, seed=1, steps=STEPS))


def time_boltzmann(agents: int, repeats: int) -> float:
    side = max(10, math.isqrt(agents))

    def run():
        model = BoltzmannWealth(BoltzmannScenario(n=agents, width=side, height=side, rng=1))
        for _ in range(STEPS):
            model.step()

    return best_of(repeats, run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    header = ("agents", "ci-sim run (s)", "ci-sim µs/partner-step", "Mesa Boltzmann µs/agent-step", "ratio")
    print(f"{header[0]:>7} {header[1]:>15} {header[2]:>23} {header[3]:>29} {header[4]:>6}")
    runs = {}
    for n in (150, 2000):
        ours = time_ci_sim(n, args.repeats)
        theirs = time_boltzmann(n, args.repeats)
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


if __name__ == "__main__":
    main()
