"""The compiled engine: one source per equation, the same numbers as before and as plain Python,
state that lets entities come and go, and a package whose imports flow one way."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, shipped, small

from ci_sim import build_model, run_scenario
from ci_sim.model.columns import METRIC_NAMES
from ci_sim.model.metrics import MEASURES, model_metrics


def relative_difference(x: np.ndarray, y: np.ndarray) -> float:
    scale = np.maximum(np.abs(x), np.abs(y))
    return float(np.where(scale > 0, np.abs(x - y) / np.where(scale > 0, scale, 1), 0).max())


def test_plain_python_kernels_give_the_compiled_numbers(tmp_path):
    """NUMBA_DISABLE_JIT=1 runs the same kernels as Python (for debugging): same numbers to 1e-12."""
    sc = small(steps=14, events=[{"at": 6, "merge_backbones": {"keep": 1, "others_become": "conveners"}}])
    code = (
        "import json, sys; from conftest import small; from ci_sim import run_scenario\n"
        "sc = small(steps=14, events=[{'at': 6, 'merge_backbones': {'keep': 1, 'others_become': 'conveners'}}])\n"
        "import numba; assert numba.config.DISABLE_JIT\n"
        "run_scenario(sc, seed=5).timeseries.to_parquet(sys.argv[1])\n"
    )
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1", "PYTHONPATH": f"{ROOT / 'tests'}{os.pathsep}{ROOT / 'src'}"}
    out = tmp_path / "plain.parquet"
    subprocess.run(
        [sys.executable, "-c", code, str(out)], env=env, capture_output=True, text=True, check=True, timeout=600
    )
    plain = pd.read_parquet(out)
    compiled = run_scenario(sc, seed=5).timeseries
    assert list(plain.columns) == list(compiled.columns)
    assert relative_difference(plain.to_numpy(float), compiled.to_numpy(float)) <= 1e-12
    assert compiled["active_conveners"].iloc[-1] == 2  # the event happened in both


def test_measures_are_the_metric_columns_in_order():
    assert tuple(f.__name__ for f in MEASURES) == METRIC_NAMES
    model = build_model(shipped("consolidation"), seed=3)
    for _ in range(30):
        model.step()
    row = model_metrics(model)
    n = len(METRIC_NAMES)
    assert len(row) == n + 2 * model.n_outcomes
    for j, f in enumerate(MEASURES):  # the one-call row equals each small function on its own
        assert row[j] == f(model.state), f.__name__
    np.testing.assert_array_equal(row[n : n + model.n_outcomes], model.outcome)
    np.testing.assert_array_equal(row[n + model.n_outcomes :], model.measured)


def test_state_arrays_are_shared_with_the_model():
    model = build_model(small(), seed=1)
    before = model.trust.copy()
    model.step()
    assert not np.array_equal(before, model.trust)  # the kernels wrote into the model's own array
    assert model.last.mass is model.mass and model.last.fn_hours is model.fn_hours


def test_a_backbone_appears_mid_run():
    sc = small(steps=36)
    model = build_model(sc, seed=2)
    for _ in range(12):
        model.step()
    agent = model.add_backbone("education", "newcomer", neutrality=0.9, servant_leadership=0.9, origin="partner_agreed")
    assert model.n_backbones == 4 and agent.index == 3 and agent.active
    assert model.trust.shape == (40, 4) and model.backbone_plan.shape[0] == 4
    assert model.last.mass[3] > 0  # partners give it attention right away
    for _ in range(24):
        model.step()
    assert np.isfinite(model_metrics(model)).all()
    assert model.last.budget[3] > 0 and model.data_quality[3] > 0
    # money is still conserved with the new column
    L = model.last
    money_out = (
        L.overhead.sum() + L.staff_money.sum() + L.grants_paid.sum() + L.pool_unspent.sum() + L.grants_unspent.sum()
    )
    assert money_out + (model.convener_in_kind * model.convener_active).sum() == pytest.approx(
        model.pool @ model.funder_factor
        + (model.in_kind * model.backbone_active).sum()
        + model.grants.sum()
        + (model.convener_in_kind * model.convener_active).sum()
    )
    with pytest.raises(ValueError, match="newcomer"):
        model.add_backbone("education", "newcomer", 0.5, 0.5)


def test_a_partner_leaves_and_returns():
    model = build_model(small(), seed=4)
    for _ in range(6):
        model.step()
    i = int(np.flatnonzero(model.last.meeting_hours > 0)[0])
    model.partner_leaves(i)
    agenda, engagement = model.agenda[i].copy(), model.engagement[i]
    assert model.attention[i].sum() == 0 and model.last.program_hours[i] == 0 and model.last.meeting_hours[i] == 0
    for _ in range(6):
        model.step()
        assert model.last.fundraising_hours[i] == 0 and not model.last.has_backbone[i]
    np.testing.assert_array_equal(model.agenda[i], agenda)
    assert model.engagement[i] == engagement
    model.partner_returns(i)
    assert model.attention[i].sum() == pytest.approx(1.0) and model.last.meeting_hours[i] > 0
    model.step()
    assert not np.array_equal(model.agenda[i], agenda)


def test_a_returning_partner_takes_attention_from_trust_when_attention_is_frozen():
    model = build_model(small(mechanisms={"attention": False}), seed=4)
    model.partner_leaves(0)
    model.partner_returns(0)
    assert model.attention[0].sum() == pytest.approx(1.0)


# ---------------------------------------------------------------------------------- the package

LAYERS = ["model", "runs", "experiments", "viz", "cli"]  # each may import only from itself and the layers before it


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "ci_sim" or len(parts) < 2:
        return None
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else None


def test_imports_flow_one_way():
    """model <- runs <- experiments <- viz <- cli, including imports inside functions."""
    wrong = []
    for path in sorted((ROOT / "src" / "ci_sim").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT / "src").with_suffix("").parts)
        own = _layer(module)
        if own is None:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                target = _layer(name)
                if target is not None and target > own:
                    wrong.append(f"{module} imports {name}")
    assert not wrong, wrong
    # and the checker has teeth
    assert _layer("ci_sim.viz.plots") > _layer("ci_sim.experiments.compare")


def test_agents_do_not_import_the_model_module():
    tree = ast.parse((ROOT / "src" / "ci_sim" / "model" / "agents.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "ci_sim.model.model" not in imported


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["scenarios"],
        ["run", "--help"],
        [
            "validate",
            *(
                str(ROOT / f)
                for f in (
                    "scenarios/nine_backbones.yaml",
                    "experiments/backbones_sweep.yaml",
                    "experiments/strategies.yaml",
                )
            ),
        ],  # fmt: skip
    ],
    ids=["help", "scenarios", "run-help", "validate"],
)
def test_the_command_line_answers_without_loading_the_compiler(args):
    code = (
        "import sys\nfrom ci_sim.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('numba', 'llvmlite'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", "import json\n" + code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_the_compiler_is_loaded_when_a_model_runs():
    """The check above can fail: building a model does load numba."""
    code = "import sys\nfrom ci_sim import load_scenario, build_model\nbuild_model(load_scenario('single_backbone'), 1)\nprint('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.stdout.strip().endswith("True"), out.stderr


def test_an_unusable_cache_folder_still_runs_and_says_so_once(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": "/proc/ci-sim-no-cache-here"}  # not writable, even by root
    code = "from ci_sim import load_scenario, run_scenario\nprint(run_scenario(load_scenario('single_backbone'), seed=1, steps=3).final['alignment'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout.strip().splitlines()[-1]) > 0
    assert out.stderr.count("compiling in memory") == 1, out.stderr
