"""Design points of an experiment: full-factorial grids and SALib samplers.

- ``grid``: every combination of the factors' levels (``levels``, or ``num`` points evenly
  spread over a ``range``);
- ``lhs``: SALib's Latin hypercube (``samples`` points);
- ``sobol``: SALib's Saltelli/Sobol' sequence (``samples`` is the base N, a power of 2;
  N·(D+2) points, or N·(2D+2) with second-order indices);
- ``morris``: SALib's Morris trajectories (``samples`` trajectories of D+1 points on a grid
  of ``levels`` levels).

Samplers are seeded with the experiment's seed, so the points are the same on every load
(a resumed sweep, ``sensitivity --from``). Integer factors (the base value is an integer, or
``integer: true``) are rounded; for ``lhs`` and ``sobol`` their interval is widened by half a
unit on each side first, so that every integer of the range is equally likely.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from ci_sim.model.scenario import ScenarioError


def salib_problem(spec) -> dict[str, Any]:
    """The SALib problem dict of an experiment's (numeric) factors."""
    return {"num_vars": len(spec.factors), "names": [f.path for f in spec.factors], "bounds": _bounds(spec)}


def _bounds(spec, integers: list[bool] | None = None) -> list[list[float]]:
    bounds = []
    for j, f in enumerate(spec.factors):
        lo, hi = f.bounds
        if integers and integers[j]:
            lo, hi = lo - 0.5, hi + 0.5
        bounds.append([lo, hi])
    return bounds


def _value_at(path: str, node: Any) -> Any:
    """The value at a dotted key path in raw data or a validated scenario (None if absent)."""
    for part in path.split("."):
        if isinstance(node, list | tuple):
            if not (part.isdigit() and int(part) < len(node)):
                return None
            node = node[int(part)]
        elif isinstance(node, dict):
            if part not in node:
                return None
            node = node[part]
        elif hasattr(node, part):  # a pydantic section: defaults are filled in
            node = getattr(node, part)
        else:
            return None
    return node


def is_integer(factor, base: dict[str, Any], scenario: Any = None) -> bool:
    """Whether a numeric factor takes integers.

    Declared with ``integer:``, else as the base scenario's value (or the schema default the
    base leaves out) is typed, else if every value given for the factor is written as an int.
    """
    if factor.integer is not None:
        return factor.integer
    value = _value_at(factor.path, base)
    if value is None and scenario is not None:
        value = _value_at(factor.path, scenario)
    if value is None:
        return all(isinstance(v, int) and not isinstance(v, bool) for v in (factor.levels or factor.range))
    return isinstance(value, int) and not isinstance(value, bool)


def design_points(
    spec, base: dict[str, Any], source: str, scenario: Any = None
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """The experiment's points and the raw sampler matrix (``None`` for grids).

    Args:
        spec: the experiment spec.
        base: the base scenario as raw data.
        source: the experiment file (for messages).
        scenario: the validated base (tells the type of values the base leaves to defaults).

    Returns:
        ``points`` (one row per point, one column per factor path; integer factors rounded)
        and the sampler's matrix before rounding.
    """
    names = [f.path for f in spec.factors]
    integers = [f.numeric and is_integer(f, base, scenario) for f in spec.factors]
    sample = None
    if spec.design == "grid":
        axes = [f.levels if f.levels is not None else np.linspace(*f.range, f.num).tolist() for f in spec.factors]
        frame = pd.DataFrame(list(itertools.product(*axes)), columns=names)
    else:
        sample = _salib_sample(spec, integers, source)
        frame = pd.DataFrame(sample, columns=names)
    for f, integer in zip(spec.factors, integers, strict=True):
        if integer:
            lo, hi = f.bounds
            frame[f.path] = np.clip(np.round(frame[f.path].astype(float)), lo, hi).astype(np.int64)
    return frame, sample


def _salib_sample(spec, integers: list[bool], source: str) -> np.ndarray:
    from SALib.sample import latin, morris, sobol

    problem = salib_problem(spec)
    if spec.design == "lhs":
        problem["bounds"] = _bounds(spec, integers)
        return latin.sample(problem, spec.samples, seed=spec.seed)
    if spec.design == "sobol":
        n = spec.samples
        if n < 2 or n & (n - 1):
            raise ScenarioError(source, "samples", n, "a power of 2 (the Sobol' base N, e.g. 64, 128, 256)")
        problem["bounds"] = _bounds(spec, integers)
        return sobol.sample(problem, n, calc_second_order=spec.second_order, scramble=True, seed=spec.seed)
    if spec.design == "morris":
        return morris.sample(problem, spec.samples, num_levels=spec.levels, seed=spec.seed)
    raise ScenarioError(source, "design", spec.design, "grid, lhs, sobol or morris")  # pragma: no cover
