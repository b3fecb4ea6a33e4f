"""compare: common random numbers, bootstrap CIs, plain-language lines, strategy files."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import ROOT

from ci_sim.cli import main
from ci_sim.experiments.compare import COMPARE_COLUMNS, bootstrap_paired, compare_table, statement
from ci_sim.runs.runner import replication_seed


def _compare(tmp_path, *args, reps="10", steps="60"):
    out = tmp_path / "cmp"
    res = CliRunner().invoke(main, ["compare", *args, "-r", reps, "--steps", steps, "-w", "2", "-q", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return res, pd.read_csv(out / "compare.csv"), out


def test_two_scenarios_known_to_differ_have_a_ci_excluding_zero(tmp_path):
    res, table, out = _compare(tmp_path, "single_backbone", "nine_backbones")
    assert list(table.columns[: len(COMPARE_COLUMNS)]) == COMPARE_COLUMNS
    row = table[(table.scenario == "nine_backbones") & (table.metric == "outcome_improvement")].iloc[0]
    assert row["diff"] < 0 and row["diff_ci_low"] < row["diff"] < row["diff_ci_high"] < 0
    assert "lower than single_backbone" in row["statement"] and "95% CI" in row["statement"]
    # Cohen's d divides by the spread between replications, which includes each run's own
    # counterfactual trend (ODD §7.12); the paired d_z divides by the spread of the paired differences
    assert row["effect_size"] < -0.5 and row["effect_size_dz"] < -1 and row["n"] == 10
    assert (table["baseline"] == "single_backbone").all()
    assert "Cohen's d" in res.output and "bootstrap" in res.output  # the table says how to read it
    base = table[table.scenario == "single_backbone"]
    assert base[["diff", "diff_ci_low", "diff_ci_high", "effect_size"]].isna().all().all()
    assert (base["ci_low"] <= base["mean"]).all() and (base["mean"] <= base["ci_high"]).all()
    assert "lower than single_backbone" in res.output and "Outcome improvement" in res.output
    assert {"compare.csv", "summary.csv", "timeseries.parquet", "manifest.json"} <= {p.name for p in out.iterdir()}
    # common random numbers: replication i has the same seed in every scenario
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns[:3]) == ["scenario", "replication", "seed"]
    seeds = summary.pivot(index="replication", columns="scenario", values="seed")
    assert (seeds["single_backbone"] == seeds["nine_backbones"]).all()
    assert seeds["single_backbone"].tolist() == [replication_seed(2026, i) for i in range(10)]
    series = pd.read_parquet(out / "timeseries.parquet")
    assert list(series.columns[:4]) == ["scenario", "replication", "seed", "step"] and len(series) == 2 * 10 * 61
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["baseline"] == "single_backbone" and manifest["replications"] == 10


def test_a_scenario_against_itself_has_a_ci_including_zero(tmp_path):
    _, table, _ = _compare(tmp_path, "single_backbone", "single_backbone", reps="5", steps="24")
    rows = table[table.scenario == "single_backbone (2)"]
    assert len(rows) > 0
    assert (rows["diff_ci_low"] <= 0).all() and (rows["diff_ci_high"] >= 0).all()
    assert rows["statement"].str.contains("no clear difference").all()


def test_bootstrap_ci_includes_zero_for_noise_and_excludes_it_for_a_shift():
    rng = np.random.default_rng(3)
    a = rng.normal(0, 1, 30)
    noise = bootstrap_paired(a + rng.normal(0, 0.1, 30), a, np.random.default_rng(0))
    shift = bootstrap_paired(a + 0.5 + rng.normal(0, 0.1, 30), a, np.random.default_rng(0))
    assert noise["diff_ci_low"] < 0 < noise["diff_ci_high"]
    assert 0.4 < shift["diff_ci_low"] < 0.5 < shift["diff_ci_high"] < 0.6
    # Cohen's d: the shift over the spread of the replications (SD ~1); d_z: over the SD of
    # the paired differences (~0.1), which the pairing makes small
    assert 0.3 < shift["effect_size"] < 0.7 and shift["effect_size_dz"] > 3
    again = bootstrap_paired(a + 0.5 + rng.normal(0, 0.1, 30), a, np.random.default_rng(0))
    assert again["diff_ci_low"] != shift["diff_ci_low"]  # different data, different interval
    same = bootstrap_paired(a + 0.5, a, np.random.default_rng(0))
    assert same == bootstrap_paired(a + 0.5, a, np.random.default_rng(0))  # seeded: reproducible


def test_compare_table_pairs_replications_and_speaks_plainly():
    summary = pd.DataFrame(
        {
            "scenario": ["a"] * 5 + ["b"] * 5,
            "replication": [0, 1, 2, 3, 4, 4, 3, 2, 1, 0],
            "x": [1, 2, 3, 4, 5, 6, 5, 4, 3, 2],
        }
    )
    row = compare_table(summary, ["x"]).query("scenario == 'b'").iloc[0]
    # paired by replication (not by row order): every difference is exactly +1
    assert row["diff"] == pytest.approx(1.0) and row["diff_ci_low"] == pytest.approx(1.0)
    assert row["rel_diff"] == pytest.approx(1 / 3)
    assert re.fullmatch(r"b: x 33% higher than a, 95% CI (\d+)%–(\d+)%", row["statement"])
    lo, hi = map(int, re.findall(r"(\d+)%", row["statement"])[2:])
    assert lo < 33 < hi  # relative to a's mean, which the bootstrap also resamples


def test_strategies_file_and_set(tmp_path):
    out = tmp_path / "s"
    args = ["compare", str(ROOT / "experiments" / "strategies.yaml"), "-r", "3", "--steps", "12", "-w", "2", "-q"]
    refused = CliRunner().invoke(main, [*args, "--set", "community.partners=40", "--out", str(out)])
    # 12 months would silently drop the consolidation's merge at month 24: refused unless allowed
    assert refused.exit_code == 2 and "merge_backbones at month 24" in refused.output, refused.output
    args.append("--allow-dropped-events")
    res = CliRunner().invoke(main, [*args, "--set", "community.partners=40", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "merge at month 24: 1 event(s) at or after month 12 dropped" in res.output
    table = pd.read_csv(out / "compare.csv")
    names = list(dict.fromkeys(table["scenario"]))
    assert names[0] == "one backbone" and len(names) >= 5 and "nine, joint" in names
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenarios"]["nine, joint"]["issue_areas"][0]["coordination"] == "joint"
    assert all(s["community"]["partners"] == 40 for s in manifest["scenarios"].values())
    assert list(manifest["dropped_events"]) == ["merge at month 24"]


def test_bad_compare_input_exits_2_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    for args in (["single_backbone", "atlantis"], ["single_backbone", "--metric", "happiness"]):
        res = CliRunner().invoke(main, ["compare", *args, "-r", "2", "--steps", "2", "-q", "--out", str(out)])
        assert res.exit_code == 2 and res.output.startswith("error:"), res.output
        assert not out.exists()
    bad = tmp_path / "strategies.yaml"
    bad.write_text("name: s\nstrategies:\n  - {name: a, scenario: single_backbone}\n  - {name: b, scenario: nowhere}\n")
    res = CliRunner().invoke(main, ["compare", str(bad), "-q", "--out", str(out)])
    assert res.exit_code == 2 and "strategies.1" in res.output and not out.exists()


def test_compare_never_overwrites_results(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "compare.csv").write_text("earlier results\n")
    res = CliRunner().invoke(
        main, ["compare", "single_backbone", "nine_backbones", "-r", "2", "--steps", "2", "-q", "--out", str(out)]
    )
    assert res.exit_code == 2 and "--out" in res.output and "never overwritten" in res.output
    assert [p.name for p in out.iterdir()] == ["compare.csv"]
    assert (out / "compare.csv").read_text() == "earlier results\n"


def test_plain_language_uses_percentages_only_when_their_interval_is_clear():
    s = {"diff": -0.1, "diff_ci_low": -0.2, "diff_ci_high": -0.01}
    clear = statement("x", "b", "a", s | {"rel_diff": -0.3, "rel_ci_low": -0.5, "rel_ci_high": -0.1}, True)
    assert clear == "b: x 30% lower than a, 95% CI 10%–50%"
    # a relative interval crossing zero (a ratio of resampled means) would misquote: absolute wording
    odd = statement("x", "b", "a", s | {"rel_diff": -0.3, "rel_ci_low": -0.5, "rel_ci_high": 0.02}, True)
    assert odd == "b: x 0.1 lower than a, 95% CI 0.01–0.2"
    none = statement(
        "x",
        "b",
        "a",
        s | {"diff_ci_high": 0.05, "rel_diff": -0.3, "rel_ci_low": -0.5, "rel_ci_high": 0.1},
        True,
    )
    assert none.startswith("b: no clear difference in x from a")


@pytest.mark.parametrize("name", ["single_backbone", "nine_backbones", "strive_cincinnati"])
def test_every_metric_of_every_month_lies_within_its_declared_bounds(name):
    # the bounds cut confidence intervals (a share's interval never passes 100%), so they must be true of the runs
    from ci_sim.experiments.compare import metric_bounds
    from ci_sim.model.scenario import load_scenario
    from ci_sim.runs.runner import run_scenario

    series = run_scenario(load_scenario(name), replication_seed(3, 0), steps=36).timeseries
    bounded = [m for m in series.columns if metric_bounds(m) is not None]
    assert {"indicators_improving", "proof_point", "outcome_improvement", "meeting_hours"} <= set(bounded)
    for m in bounded:
        low, high = metric_bounds(m)
        assert series[m].between(low, high).all(), (m, series[m].min(), series[m].max())


def test_a_shares_interval_from_few_runs_stops_at_100_percent():
    from ci_sim.experiments.compare import mean_ci, metric_bounds

    _, low, high = mean_ci(pd.Series([1.0, 1.0, 0.25, 1.0]), bounds=metric_bounds("indicators_improving"))
    assert 0.0 <= low and high == 1.0


def test_a_paired_interval_does_not_depend_on_the_other_metrics_and_mirrors_when_the_pair_turns():
    rng = np.random.default_rng(4)
    rows = []
    for scenario, shift in (("A", 0.0), ("B", 0.05), ("C", -0.02)):
        for rep in range(8):
            rows.append({"scenario": scenario, "replication": rep, "x": rng.normal(shift, 0.1), "y": rng.normal()})
    summary = pd.DataFrame(rows)
    both = compare_table(summary, ["x", "y"], seed=9).set_index(["scenario", "metric"])
    alone = compare_table(summary, ["x"], seed=9).set_index(["scenario", "metric"])
    cols = ["diff", "diff_ci_low", "diff_ci_high"]
    pd.testing.assert_series_equal(both.loc[("B", "x"), cols], alone.loc[("B", "x"), cols])
    turned = compare_table(summary, ["x"], baseline="B", seed=9).set_index(["scenario", "metric"])
    a, b = alone.loc[("B", "x")], turned.loc[("A", "x")]
    assert b["diff"] == pytest.approx(-a["diff"]) and b["diff_ci_low"] == pytest.approx(-a["diff_ci_high"])
    assert b["diff_ci_high"] == pytest.approx(-a["diff_ci_low"])
