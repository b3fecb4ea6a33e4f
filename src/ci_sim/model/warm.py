"""Compile every kernel into numba's on-disk cache, so that users never wait for the compiler.

Run by ``scripts/setup.sh`` (``python -m ci_sim.model.warm``); a few seconds when the cache is
already warm, about a minute when it is not. It runs one small scenario through every code
path whose compiled form differs (the step, events, the metrics row, the agent sample, a
backbone appearing) and prints where the kernels are cached.
"""

from __future__ import annotations

import sys
import time


def warm() -> float:
    """Compile (or load) every kernel; return the seconds it took."""
    t0 = time.perf_counter()
    from ci_sim.model.mechanisms.common import CACHED, kernel_cache_dir
    from ci_sim.model.metrics import agent_snapshot, model_metrics
    from ci_sim.model.model import CollectiveImpactModel
    from ci_sim.model.scenario import load_scenario

    model = CollectiveImpactModel(load_scenario("consolidation"), rng=1)
    for _ in range(26):  # through the month-24 merge
        model.step()
        model_metrics(model)
    model.influence_weights()
    model.add_backbone(model.area_names[0], "warm-up", 0.5, 0.5)
    model.partner_leaves(0)
    model.step()
    agent_snapshot(model)
    where = kernel_cache_dir() if CACHED else "memory only (cache folder not writable)"
    print(f"ci-sim: kernels ready in {time.perf_counter() - t0:.1f} s ({where})", file=sys.stderr)
    return time.perf_counter() - t0


if __name__ == "__main__":
    warm()
