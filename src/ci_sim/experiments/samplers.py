"""Design points of an experiment: full-factorial grids and SALib samplers.

- ``grid``: every combination of the factors' levels (``levels``, or ``num`` points evenly
  spread over a ``range``);
- ``lhs``: SALib's Latin hypercube (``samples`` points);
- ``sobol``: SALib's Saltelli/Sobol' sequence (``samples`` is the base N, a power of 2;
  N·(D+2) points, or N·(2D+2) with second-order indices);
- ``morris``: SALib's Morris trajectories (``samples`` trajectories of D+1 points on a grid
  of ``levels`` levels).

Samplers are seeded with the experiment's seed, so the points are the same on every load
(a resumed sweep, ``sensitivity --from``). Integer factors (the scenario schema types the field
``int``, or ``integer: true``) are rounded; for ``lhs`` and ``sobol`` their interval is widened
by half a unit on each side first, so that every integer of the range is equally likely.
"""

from __future__ import annotations

import itertools
import typing
from typing import Any

import numpy as np
import pandas as pd

from ci_sim.model.scenario import ScenarioError, model_in_annotation


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


def schema_annotation(path: str, scenario: Any) -> Any:
    """The type annotation the scenario schema gives the field at a dotted key path.

    The path is walked through the validated scenario (so a union such as ``backbones:`` one
    spec or a list of specs resolves to the form the scenario uses) and, where the scenario
    keeps raw mappings (events), through the event kind's schema class.

    Returns:
        The annotation of the last key (e.g. ``Annotated[float, ...]`` or ``int``), or
        ``None`` when the path leaves the schema (a list index out of range, an unknown key).
    """
    from pydantic import BaseModel

    from ci_sim.model.scenario import EVENT_KINDS

    node: Any = scenario
    annotation: Any = None
    for part in path.split("."):
        if isinstance(node, list | tuple):
            if not (part.isdigit() and int(part) < len(node)):
                return None
            node = node[int(part)]
            annotation = None
            continue
        if isinstance(node, BaseModel):
            schema: Any = type(node)
        elif isinstance(node, dict):
            # raw mappings: an event (its kind's class), or a section typed by the parent field
            kind = next((k for k in EVENT_KINDS if k in node), None)
            schema = EVENT_KINDS[kind] if kind is not None and part in EVENT_KINDS[kind].model_fields else None
            schema = schema or model_in_annotation(annotation)
        else:
            return None
        if schema is None or part not in schema.model_fields:
            return None
        annotation = schema.model_fields[part].annotation
        node = getattr(node, part) if isinstance(node, BaseModel) else node.get(part)
    return annotation


def _base_types(annotation: Any) -> set[type]:
    """The plain types an annotation allows: ``Annotated[float, ...] | None`` -> {float, NoneType}."""
    if isinstance(annotation, type):
        return {annotation}
    if typing.get_origin(annotation) is typing.Annotated:
        return _base_types(typing.get_args(annotation)[0])
    out: set[type] = set()
    for arg in typing.get_args(annotation):
        out |= _base_types(arg)
    return out


def is_integer(factor, base: dict[str, Any], scenario: Any = None) -> bool:
    """Whether a numeric factor takes integers.

    Declared with ``integer:``, else as the scenario schema types the field (``count: int``
    is an integer, ``servant_leadership: float`` is not, whatever literal the base file
    writes: ``1`` in YAML is an int but the field is a float). Only where the path leaves
    the schema does it fall back to the values: integers if every value given for the
    factor is written as an int.
    """
    if factor.integer is not None:
        return factor.integer
    annotation = schema_annotation(factor.path, scenario) if scenario is not None else None
    types = _base_types(annotation) - {type(None)} if annotation is not None else set()
    if types & {int, float}:
        return int in types and float not in types
    return all(isinstance(v, int) and not isinstance(v, bool) for v in (factor.levels or factor.range))


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
