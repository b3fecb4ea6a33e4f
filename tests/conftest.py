"""Shared test helpers: paths, small scenarios, paired confidence intervals."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from ci_sim.model.scenario import load_scenario, validate_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def in_ci() -> bool:
    """Whether the tests run in CI (``CI=true``), where nothing optional may be skipped."""
    return os.environ.get("CI", "").lower() == "true"


def import_or_skip(name: str):
    """Import an optional module: skip the tests without it, but under ``CI=true`` fail.

    ``pytest.importorskip`` would also skip in CI, where the dashboard's dependencies are
    installed: a broken install (or an import error inside the module) would then pass as a
    quiet skip. In CI the import error is raised, so collection fails and says why.
    """
    if in_ci():
        return importlib.import_module(name)
    return pytest.importorskip(name)


def shipped(name: str, overrides=None):
    """A shipped scenario by name, with optional overrides."""
    return load_scenario(SCENARIOS / f"{name}.yaml", overrides)


def small_scenario(**changes):
    """A small valid scenario as raw data (tests change what they need)."""
    data = {
        "name": "small",
        "steps": 24,
        "replications": 2,
        "seed": 7,
        "community": {"partners": 40},
        "issue_areas": [{"name": "education", "backbones": {"count": 3, "coordination": "none"}}],
    }
    data.update(changes)
    return data


def small(**changes):
    return validate_scenario(small_scenario(**changes))


def paired_ci(a, b, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of the paired differences a - b and its t confidence interval."""
    d = np.asarray(a, float) - np.asarray(b, float)
    half = stats.t.ppf(0.5 + level / 2, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half)


@pytest.fixture
def project_root() -> Path:
    return ROOT
