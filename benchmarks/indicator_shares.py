"""Share of indicators improving at years 4, 5 and 10 in every shipped scenario (a measurement, not a test).

For each shipped scenario, R replications (replication i with seed ``replication_seed(seed, i)``,
the same in every scenario: common random numbers) at the scenario's defaults. Prints, per
year, the mean of ``indicators_improving`` (share of measured indicators above the
baseline-year measurement, docs/ODD.md §7.12) with its 95% t interval, and the proof-point
rate (share of replications with at least 60% improving) with its 95% Wilson interval; then
StrivePartnership's reported shares for comparison: 34 of 53 (64%) after four years and 40 of 53
(75%) after five (Kania & Kramer 2011; StriveTogether, "The Strive Story"; docs/ODD.md §8.4).

Usage:
    python benchmarks/indicator_shares.py [--replications 20] [--scenarios NAME ...]
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy import stats

from ci_sim import load_scenario, replication_seed, run_scenario
from ci_sim.experiments.compare import mean_ci
from ci_sim.model.scenario import shipped_scenario_dir

YEARS = (4, 5, 10)
STRIVE = {4: 34 / 53, 5: 40 / 53}  # StrivePartnership's reported shares improving


def wilson(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion."""
    z = stats.norm.ppf(0.5 + level / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def shares(name: str, replications: int) -> dict[int, np.ndarray]:
    """``indicators_improving`` at the end of each year of YEARS, one value per replication."""
    sc = load_scenario(name)
    out = {year: np.empty(replications) for year in YEARS}
    for i in range(replications):
        ts = run_scenario(sc, replication_seed(sc.seed, i), steps=12 * max(YEARS)).timeseries.set_index("step")
        for year in YEARS:
            out[year][i] = ts.loc[12 * year, "indicators_improving"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--scenarios", nargs="*", default=None)
    args = parser.parse_args()
    names = args.scenarios or sorted(p.stem for p in shipped_scenario_dir().glob("*.yaml"))
    r = args.replications
    print(f"share of indicators improving (mean [95% CI]), proof-point rate (≥60%; [95% Wilson CI]), {r} replications")
    head = " | ".join(f"year {y}: share; proof point" for y in YEARS)
    print(f"| scenario | indicators | {head} |")
    print("|---|---|" + "---|" * len(YEARS))
    for name in names:
        values = shares(name, r)
        n_ind = sum(sum(a.indicator_counts()) for a in load_scenario(name).issue_areas)
        cells = []
        for year in YEARS:
            m, lo, hi = mean_ci(values[year], bounds=(0.0, 1.0))
            hits = int((values[year] >= 0.6 - 1e-12).sum())
            plo, phi = wilson(hits, r)
            cells.append(f"{m:.2f} [{lo:.2f}, {hi:.2f}]; {hits / r:.2f} [{plo:.2f}, {phi:.2f}]")
        print(f"| {name} | {n_ind} | " + " | ".join(cells) + " |")
    strive = " | ".join(f"{STRIVE[y]:.2f}" if y in STRIVE else "–" for y in YEARS)
    print(f"| StrivePartnership (reported) | 53 | {strive} |")


if __name__ == "__main__":
    main()
