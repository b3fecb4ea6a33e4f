"""``ci-sim robustness``: the share of a parameter space where a check holds, and PRIM's boxes.

The oracle is a check built to fail in a known half of the space: arm A pins the fixed
overhead at the midpoint of the factor's range (6,000 $/month) and arm B takes the sampled
value, so on ``money_overhead`` (the overhead one backbone pays, exactly) the paired
difference A − B is 6,000 − overhead at every point and every seed: the check holds exactly
where the overhead is below the midpoint. A 20-point Latin hypercube puts exactly 10 points in
each half (its strata are twentieths of the range), so the share is exactly 1/2, and PRIM
must box the upper half of the overhead and leave the other factor alone.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import ROOT

from ci_sim.cli import main
from ci_sim.experiments.evaluators import SerialEvaluator
from ci_sim.experiments.facts import CHECKS
from ci_sim.experiments.robustness import (
    PrimSpec,
    load_robustness,
    point_table,
    prim_boxes,
    robustness_table,
    run_robustness,
    wilson,
)
from ci_sim.runs.seeds import replication_seed

MID = 6000.0
TINY = f"""\
name: tiny
set: {{steps: 12, community.partners: 40}}
design: lhs
samples: 20
factors:
  - {{path: parameters.overhead, range: [0.0, 12000.0]}}
  - {{path: parameters.table_hours, range: [1.0, 8.0]}}
replications: 2
seed: 7
checks:
  - name: overhead_below_mid
    a: {{scenario: single_backbone, set: {{parameters.overhead: {MID}}}}}
    b: {{scenario: single_backbone}}
    metric: money_overhead
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("robustness") / "tiny.yaml"
    path.write_text(TINY)
    rob = load_robustness(path)
    runs = run_robustness(rob, SerialEvaluator(), progress=False)
    points = point_table(rob, runs)
    boxes = prim_boxes(rob, points)
    return path, rob, runs, points, boxes, robustness_table(rob, points, runs, boxes)


def test_paired_difference_is_the_known_one_at_every_point(tiny):
    _, rob, runs, points, _, _ = tiny
    assert len(points) == 20 and (points["n"] == 2).all()
    np.testing.assert_allclose(points["diff"], MID - points["parameters.overhead"], rtol=0, atol=1e-6)
    assert (points["holds"] == (points["parameters.overhead"] < MID)).all()
    # common random numbers: replication r has one seed in both arms and at every point
    for rep, seeds in runs.groupby("replication")["seed"]:
        assert set(seeds) == {replication_seed(7, rep)}


def test_share_is_exactly_one_half_with_the_wilson_interval(tiny):
    *_, table = tiny
    row = table.iloc[0]
    assert (row["points"], row["holds"], row["share"]) == (20, 10, 0.5)
    # Wilson (1927) by hand: centre (p + z²/2n)/(1 + z²/n), half-width z/(1 + z²/n)·sqrt(p(1-p)/n + z²/4n²)
    z, n, p = 1.959963984540054, 20, 0.5
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert row["share_lo"] == pytest.approx(centre - half, abs=1e-9)
    assert row["share_hi"] == pytest.approx(centre + half, abs=1e-9)
    assert wilson(0, 0)[0] != wilson(0, 0)[0]  # NaN: no points, no share


def test_prim_boxes_the_upper_half_of_the_right_factor(tiny):
    _, _, _, points, boxes, table = tiny
    assert len(boxes) == 1
    box = boxes[0]
    assert list(box.limits) == ["parameters.overhead"], "the other factor plays no part"
    low, high, r_low, r_high, _, _ = box.limits["parameters.overhead"]
    below = points.loc[points["parameters.overhead"] < MID, "parameters.overhead"].max()
    above = points.loc[points["parameters.overhead"] > MID, "parameters.overhead"].min()
    assert below < low <= above and (high, r_low, r_high) == (12000.0, 0.0, 12000.0)
    assert (box.coverage, box.density, box.points) == (1.0, 1.0, 10)
    assert table.iloc[0]["where_it_fails"].startswith("parameters.overhead ≥")


def test_cli_writes_the_same_numbers_with_one_and_two_workers(tiny, tmp_path):
    path = tiny[0]
    tables = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        res = CliRunner().invoke(main, ["robustness", str(path), "-w", workers, "-q", "--out", str(out)])
        assert res.exit_code == 0, res.output
        assert "overhead_below_mid" in res.output and "50% [30%, 70%]" in res.output
        names = {p.name for p in out.iterdir()}
        assert {"robustness.csv", "points.csv", "prim_boxes.csv", "runs.parquet", "manifest.json"} <= names
        assert (out / "figures" / "robustness.png").is_file()
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["n_runs"] == 20 * 2 * 2 and manifest["failed_runs"] == 0
        tables.append([pd.read_csv(out / n) for n in ("robustness.csv", "points.csv", "prim_boxes.csv")])
        tables[-1].append(pd.read_parquet(out / "runs.parquet"))
    for one, two in zip(*tables, strict=True):
        pd.testing.assert_frame_equal(one, two)


def test_shipped_file_and_every_check_load():
    rob = load_robustness(ROOT / "experiments" / "robustness_sf.yaml", ["samples=4"])
    assert [c.name for c in rob.checks] == list(CHECKS)
    assert len(rob.points) == 4 and rob.steps == 120
    # arms shared by checks run once: single_backbone is one arm, whatever the number of its checks
    assert [a.label for a in rob.arms].count("single_backbone") == 1


# id: (change to TINY, extra arguments, key path, bad value, allowed)
BAD = {
    "unknown metric": ("metric: money_overhead", "metric: money_overheads", "checks.0.metric", "'money_overheads'",
                       "a metric both arms report"),
    "inverted range": ("range: [0.0, 12000.0]", "range: [12000.0, 0.0]", "factors.0.range", "[12000.0, 0.0]",
                       "low < high"),
    "unknown check": ("checks:\n", "checks:\n  - sf99\n", "checks.0", "'sf99'", "all, a fact"),
    "unknown key": ("seed: 7", "seed: 7\nsamplez: 3", "samplez", "'samplez'", "unknown key"),
    "unknown arm key": ("b: {scenario: single_backbone}", "b: {scenario: single_backbone, sett: {}}", "checks.0.b.sett",
                        "'sett'", "known keys here: scenario, set"),
    "month after the horizon": ("metric: money_overhead", "metric: money_overhead\n    month: 13", "checks.0.month",
                                "13", "a month from 0 to the horizon, 12"),
    "since not before month": ("metric: money_overhead", "metric: money_overhead\n    since: 12", "checks.0.since",
                               "12", "a month before the one read"),
    "factor overwrites the comparison": ("checks:\n", "checks:\n  - sf9_outcome\n",
                                         "factors.0.path", "'issue_areas.0.funding.backbone_pool'",
                                         "a key path where the arms of every check agree"),
    "factor path missing": ("parameters.table_hours,", "parameters.table_hourz,", "factors.1.path",
                            "'parameters.table_hourz'", "a key path of the base"),
    "steps as a factor": ("parameters.table_hours, range: [1.0, 8.0]", "steps, range: [6.0, 12.0]", "factors.1.path",
                          "'steps'", "the checks read fixed months"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
def test_bad_input_exits_2_naming_file_key_value_and_allowed_and_writes_nothing(case, tmp_path):
    old, new, key, value, allowed = case
    text = TINY.replace(old, new, 1)
    if "backbone_pool" in value:  # a factor on which sf9's arms differ (8,000 against the default)
        text = text.replace("parameters.overhead, range: [0.0, 12000.0]", "issue_areas.0.funding.backbone_pool, "
                            "range: [5000.0, 60000.0]").replace("steps: 12", "steps: 120")  # fmt: skip
    assert text != TINY
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["robustness", str(path), "-q", "--out", str(out)])
    assert res.exit_code == 2, res.output
    message = res.output.strip().splitlines()[-1]
    assert message.startswith(f"error: {path}: {key}"), message
    assert f"bad value {value}" in message and allowed in message, message
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def test_bad_set_option_is_named(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    res = CliRunner().invoke(main, ["robustness", str(path), "--set", "samplez=3", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "--set samplez=3" in res.output and "samples" in res.output, res.output
    assert not (tmp_path / "o").exists()


def test_too_few_failures_are_listed_not_boxed(tiny):
    _, rob, runs, points, _, _ = tiny
    strict = dataclasses.replace(rob, spec=rob.spec.model_copy(update={"prim": PrimSpec(min_failures=11)}))
    assert prim_boxes(strict, points) == []
    row = robustness_table(strict, points, runs, []).iloc[0]
    failing = points.loc[points["holds"] == 0, "point"].tolist()
    assert row["where_it_fails"].startswith("fails at 10 point(s), too few for PRIM")
    assert row["where_it_fails"].endswith(", ".join(map(str, failing)) + " of points.csv")
