"""decompose: each mechanism switched off in both arms, paired seeds, shares of the gap with CIs."""

from __future__ import annotations

import json
from itertools import combinations
from math import factorial

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import Field

from ci_sim.cli import main
from ci_sim.experiments import decompose as dec
from ci_sim.model.columns import KEY_METRICS
from ci_sim.model.scenario import Mechanisms
from ci_sim.runs.seeds import replication_seed

CONTRACT = ["metric", "channel", "gap", "gap_without", "share", "share_lo", "share_hi"]
#: single_backbone whose trust moves a third as fast: the only difference acts through mechanisms.trust
#: (credit_gain is read only by the trust update, and only while the switch is on)
SLOW_TRUST = """name: no_credit
steps: 120
seed: 2026
community: {partners: 150}
issue_areas:
  - name: education
    backbones: {count: 1, neutrality: 0.9, servant_leadership: 0.9, origin: partner_agreed, coordination: none}
    conveners: {per_outcome: false}
parameters: {credit_gain: 0.0}
"""


def _decompose(tmp_path, *args, name="out", workers="1"):
    out = tmp_path / name
    res = CliRunner().invoke(main, ["decompose", *args, "-q", "-w", workers, "--out", str(out)])
    assert res.exit_code == 0, res.output
    return res, pd.read_csv(out / "decomposition.csv"), pd.read_csv(out / "runs.csv"), out


def _rows(table, method=dec.ONE_AT_A_TIME):
    return table[table["method"] == method]


# --------------------------------------------------------------------------- exact oracles


def test_a_scenario_against_itself_has_no_gap_and_no_shares(tmp_path):
    res, table, runs, _ = _decompose(tmp_path, "single_backbone", "single_backbone", "-r", "3", "--steps", "12")
    # the same scenario and seeds: every paired difference is exactly 0, in every variant
    assert (table["gap"] == 0).all() and (table["gap_lo"] == 0).all() and (table["gap_hi"] == 0).all()
    assert table["share"].isna().all() and table["share_lo"].isna().all() and table["share_hi"].isna().all()
    assert (table["note"] == dec.NOT_THERE).all()
    assert res.output.count(dec.NOT_THERE) == 7  # one per key metric, no share printed
    assert "share of gap [95% CI]" not in res.output  # no share column at all
    assert set(runs["scenario"]) == {"single_backbone", "single_backbone (2)"}


def test_a_difference_that_acts_only_through_trust_is_all_trust(tmp_path):
    """B differs from A only in credit_gain (read by the trust update alone): with trust off in both, A and B are the same runs.

    So the gap without trust is exactly 0, trust's share exactly 1 (its bootstrap interval
    too), the gap through no channel exactly 0, and the interactions exactly minus the other
    channel's share; the Shapley values follow by hand from the runs.
    """
    (tmp_path / "slow.yaml").write_text(SLOW_TRUST)
    metrics = "outcome_improvement,mean_trust,alignment,engagement"
    _, table, runs, _ = _decompose(
        tmp_path,
        "single_backbone",
        str(tmp_path / "slow.yaml"),
        *("-r", "4", "--steps", "24", "--channels", "trust,agendas", "--metrics", metrics, "--shapley"),
    )
    off = runs[runs["channels_off"] == "trust"].set_index(["replication", "arm"])["mean_trust"].unstack()
    assert (off["A"] == off["B"]).all()  # the runs themselves: identical with trust off
    one = _rows(table)
    there = one[one["note"] != dec.NOT_THERE]
    assert {"outcome_improvement", "mean_trust", "engagement"} <= set(there["metric"])  # the oracle is exercised
    for metric, part in there.groupby("metric"):
        r = part.set_index("channel")
        assert r.loc["trust", "gap_without"] == 0.0
        assert r.loc["trust", ["share", "share_lo", "share_hi"]].tolist() == [1.0, 1.0, 1.0], metric
        assert r.loc[dec.NO_CHANNEL, "share"] == 0.0
        assert r.loc[dec.INTERACTIONS, "share"] == pytest.approx(-r.loc["agendas", "share"], abs=1e-12)
        # exact Shapley over {trust, agendas}: v(S) is the gap with only S on
        gap, v_trust = r.loc["trust", "gap"], r.loc["agendas", "gap_without"]  # agendas off: only trust on
        v_agendas = v_none = 0.0  # trust off in both arms: no gap
        shap = _rows(table, dec.SHAPLEY)
        s = shap[shap["metric"] == metric].set_index("channel")
        assert s.loc["trust", "contribution"] == pytest.approx(((v_trust - v_none) + (gap - v_agendas)) / 2, rel=1e-12)
        assert s.loc["agendas", "contribution"] == pytest.approx(
            ((v_agendas - v_none) + (gap - v_trust)) / 2, rel=1e-12
        )
        assert s.loc[dec.REMAINDER, "share"] == 0.0


def _synthetic_runs(effects, base, noise, replications=6, seed=0):
    """Runs where switching channel c off lowers A's metric by effects[c], B untouched; no interactions.

    A's metric = base + common noise + sum of the effects of the channels on; B's = common noise.
    """
    rng = np.random.default_rng(seed)
    common = rng.normal(0, noise, replications)
    channels = list(effects)
    rows = []
    for k in range(len(channels) + 1):
        for off in combinations(channels, k):
            on_sum = sum(e for c, e in effects.items() if c not in off)
            for i in range(replications):
                label = dec.off_label(frozenset(off))
                rows.append(
                    {"arm": "A", "channels_off": label, "replication": i, "step": 12, "m": base + on_sum + common[i]}
                )
                rows.append({"arm": "B", "channels_off": label, "replication": i, "step": 12, "m": common[i]})
    return pd.DataFrame(rows), channels


def test_an_additive_model_is_decomposed_exactly_by_both_methods():
    effects = {"a": 0.3, "b": 0.1, "c": -0.05}
    runs, channels = _synthetic_runs(effects, base=0.15, noise=0.2)
    gap = 0.15 + sum(effects.values())
    for permutations in (None, 7):  # without interactions every order of the channels gives the same values
        plan = dec.shapley_coalitions(channels, permutations, 1)
        table = dec.decomposition_table(runs, ["m"], channels, 1, plan, resamples=200)
        r = _rows(table, dec.SHAPLEY).set_index("channel")
        for c, e in effects.items():
            assert r.loc[c, "share"] == pytest.approx(e / gap, abs=1e-12)
    for method in (dec.ONE_AT_A_TIME, dec.SHAPLEY):
        r = _rows(table, method).set_index("channel")
        for c, e in effects.items():
            assert r.loc[c, "share"] == pytest.approx(e / gap, abs=1e-12)
            # the effects are the same in every replication: the intervals collapse onto them
            assert r.loc[c, "share_lo"] == pytest.approx(e / gap, abs=1e-12)
            assert r.loc[c, "share_hi"] == pytest.approx(e / gap, abs=1e-12)
    r = _rows(table).set_index("channel")
    assert r.loc[dec.NO_CHANNEL, "share"] == pytest.approx(0.15 / gap, abs=1e-12)
    assert r.loc[dec.INTERACTIONS, "share"] == pytest.approx(0.0, abs=1e-12)
    assert _rows(table, dec.SHAPLEY).set_index("channel").loc[dec.REMAINDER, "share"] == pytest.approx(0.15 / gap)


def test_an_interaction_is_counted_twice_one_at_a_time_and_shared_by_shapley():
    """Two channels each needed for a gap of 1 (v = 1 only with both on)."""
    rows = []
    for off in ["none", "x", "y", "x+y"]:
        for i in range(4):
            rows += [
                {"arm": "A", "channels_off": off, "replication": i, "step": 1, "m": 1.0 if off == "none" else 0.0},
                {"arm": "B", "channels_off": off, "replication": i, "step": 1, "m": 0.0},
            ]
    runs = pd.DataFrame(rows)
    plan = dec.shapley_coalitions(["x", "y"], None, 3)
    table = dec.decomposition_table(runs, ["m"], ["x", "y"], 3, plan, resamples=100)
    one, shap = _rows(table).set_index("channel"), _rows(table, dec.SHAPLEY).set_index("channel")
    assert one.loc["x", "share"] == one.loc["y", "share"] == 1.0  # each alone removes the whole gap...
    assert one.loc[dec.INTERACTIONS, "share"] == -1.0  # ...so one at a time counts it twice
    assert shap.loc["x", "share"] == shap.loc["y", "share"] == 0.5  # Shapley: half each
    # sampled orders: x gets the whole gap in the orders where it comes second, y in the others
    plan = dec.shapley_coalitions(["x", "y"], 50, 3)
    shap = _rows(dec.decomposition_table(runs, ["m"], ["x", "y"], 3, plan, resamples=100), dec.SHAPLEY)
    shares = shap.set_index("channel")["share"]
    assert shares["x"] + shares["y"] == pytest.approx(1.0, abs=1e-12) and shares[dec.REMAINDER] == 0.0
    assert (shares["x"] * 50) == pytest.approx(round(shares["x"] * 50), abs=1e-9) and 0.2 < shares["x"] < 0.8
    again = dec.decomposition_table(runs, ["m"], ["x", "y"], 3, dec.shapley_coalitions(["x", "y"], 50, 3), 100)
    pd.testing.assert_frame_equal(_rows(again, dec.SHAPLEY), shap)  # the orders come from the seed


def test_exact_shapley_weights_are_the_shapley_formula():
    channels = ["a", "b", "c", "d"]
    coalitions, W = dec.shapley_coalitions(channels, None, 0)
    assert len(coalitions) == 2 ** len(channels)
    assert np.allclose(W.sum(axis=1), 0)  # each value is a sum of marginal contributions
    n = len(channels)
    j = coalitions.index(frozenset({"b", "c"}) | {"a"})
    assert W[0, j] == pytest.approx(factorial(2) * factorial(n - 2 - 1) / factorial(n))


# --------------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(
    effects=st.lists(st.floats(-1, 1), min_size=1, max_size=4),
    interaction=st.floats(-1, 1),
    noise=st.floats(0, 0.5),
    seed=st.integers(0, 2**32 - 1),
)
def test_shares_and_remainder_add_up_to_one(effects, interaction, noise, seed):
    """Whatever the runs: channels + remainder = 1, remainder = no channel + interactions (both methods)."""
    channels = [f"c{k}" for k in range(len(effects))]
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(len(channels) + 1):
        for off in combinations(channels, k):
            on = [c not in off for c in channels]
            for i in range(5):
                value = sum(e for e, o in zip(effects, on, strict=True) if o) + interaction * all(on)
                value += rng.normal(0, noise)
                rows.append(
                    {"arm": "A", "channels_off": dec.off_label(frozenset(off)), "replication": i, "step": 3, "m": value}
                )
                rows.append(
                    {"arm": "B", "channels_off": dec.off_label(frozenset(off)), "replication": i, "step": 3, "m": 0.0}
                )
    runs = pd.DataFrame(rows)
    table = dec.decomposition_table(
        runs, ["m"], channels, seed, dec.shapley_coalitions(channels, None, seed), resamples=50
    )
    if (table["note"] == dec.NOT_THERE).any():
        assert table["share"].isna().all()  # never a share of a gap that is not there
        lo, hi = table[["gap_lo", "gap_hi"]].iloc[0]
        assert lo <= 0 <= hi
        return
    one = _rows(table).set_index("channel")
    shares = one.loc[channels, "share"].sum()
    assert shares + one.loc[dec.REMAINDER, "share"] == pytest.approx(1.0, abs=1e-9)
    assert one.loc[dec.NO_CHANNEL, "share"] + one.loc[dec.INTERACTIONS, "share"] == pytest.approx(
        one.loc[dec.REMAINDER, "share"], abs=1e-9
    )
    shap = _rows(table, dec.SHAPLEY)
    assert shap["share"].sum() == pytest.approx(1.0, abs=1e-9)
    assert ((one["share_lo"] <= one["share_hi"]) | one["share_lo"].isna()).all()


# --------------------------------------------------------------------------- the command


def on_by_default() -> list[str]:
    """The default channels that are on unless a scenario switches them off."""
    return [c for c in dec.default_channels() if Mechanisms.model_fields[c].default]


def test_single_vs_nine_pairs_seeds_and_writes_its_files(tmp_path):
    res, table, runs, out = _decompose(
        tmp_path, "single_backbone", "nine_backbones", "-r", "3", "--steps", "24", "--seed", "11"
    )
    assert list(table.columns[: len(CONTRACT)]) == CONTRACT
    channels = on_by_default()  # (a default channel off in a scenario, e.g. jockeying, is skipped)
    assert "outcome_noise" not in channels and "jockeying" in dec.default_channels()
    variants = 1 + len(channels) + 1  # none off, each off, all off
    assert len(runs) == 2 * variants * 3
    # pairing: replication i has one seed in both arms and every variant, the project's seed
    seeds = runs.groupby("replication")["seed"].agg(["nunique", "first"])
    assert (seeds["nunique"] == 1).all()
    assert seeds["first"].tolist() == [replication_seed(11, i) for i in range(3)]
    assert (runs["step"] == 24).all() and (table["month"] == 24).all()
    one = _rows(table)
    assert list(dict.fromkeys(one["metric"])) == KEY_METRICS
    per_metric = one.groupby("metric")["channel"].apply(list)
    assert all(v == [*channels, dec.REMAINDER, dec.NO_CHANNEL, dec.INTERACTIONS] for v in per_metric)
    outcome = one[(one.metric == "outcome_improvement")].set_index("channel")
    assert outcome.loc["attention", "gap"] > 0 and np.isfinite(outcome.loc["attention", "share"])  # one beats nine
    assert {p.name for p in (out / "figures").iterdir()} == {"decomposition.png", "decomposition.svg"}
    man = json.loads((out / "manifest.json").read_text())
    assert man["scenario_a"] == "single_backbone" and man["scenario_b"] == "nine_backbones"
    assert list(man["channels"]) == channels and man["base_seed"] == 11 and man["month"] == 24
    assert man["seeds"] == [replication_seed(11, i) for i in range(3)] and man["runs"] == len(runs)
    assert "gap single_backbone - nine_backbones" in res.output and "remainder (1 - sum)" in res.output


def test_same_numbers_with_one_or_two_workers(tmp_path):
    args = [
        "single_backbone",
        "nine_backbones",
        "-r",
        "3",
        "--steps",
        "12",
        "--metrics",
        "outcome_improvement,alignment",
    ]
    _, serial, runs1, _ = _decompose(tmp_path, *args, name="one", workers="1")
    _, pooled, runs2, _ = _decompose(tmp_path, *args, name="two", workers="2")
    pd.testing.assert_frame_equal(serial, pooled, check_exact=True)
    pd.testing.assert_frame_equal(runs1, runs2, check_exact=True)


def test_with_a_posterior_replication_i_takes_compares_draw_in_both_arms_and_every_variant(tmp_path):
    # the variant with nothing off is compare --posterior's run, replication by replication (paired draws)
    common = ["-r", "2", "--steps", "12", "--posterior", "strive", "--seed", "3"]
    _, _, runs, out = _decompose(
        tmp_path,
        "single_backbone",
        "nine_backbones",
        *common,
        "--channels",
        "agendas",
        "--metric",
        "outcome_improvement",
    )
    again = tmp_path / "compare"
    res = CliRunner().invoke(
        main, ["compare", "single_backbone", "nine_backbones", *common, "-w", "1", "-q", "--out", str(again)]
    )
    assert res.exit_code == 0, res.output
    summary = pd.read_csv(again / "summary.csv")
    none = runs[runs["channels_off"] == "none"]
    for arm, label in (("A", "single_backbone"), ("B", "nine_backbones")):
        mine = none[none["arm"] == arm].sort_values("replication")["outcome_improvement"].to_numpy()
        theirs = summary[summary["scenario"] == label].sort_values("replication")["outcome_improvement"].to_numpy()
        np.testing.assert_array_equal(mine, theirs)
    assert json.loads((out / "manifest.json").read_text())["posterior"]["name"] == "strive"
    # without the posterior the same seeds give other numbers: the draws were used
    _, _, plain, _ = _decompose(
        tmp_path,
        "single_backbone",
        "nine_backbones",
        *common[:4],
        "--seed",
        "3",
        "--channels",
        "agendas",
        "--metric",
        "outcome_improvement",
        name="plain",
    )
    assert not np.array_equal(plain["outcome_improvement"].to_numpy(), runs["outcome_improvement"].to_numpy())


def test_month_and_channels_options(tmp_path):
    _, table, runs, out = _decompose(
        tmp_path,
        "single_backbone",
        "nine_backbones",
        *("-r", "2", "--steps", "12", "--month", "6", "--channels", "agendas,outcome_noise", "--metric", "alignment"),
    )
    assert (runs["step"] == 6).all() and (table["month"] == 6).all()
    assert set(runs["channels_off"]) == {"none", "agendas", "outcome_noise", "agendas+outcome_noise"}
    assert set(table["metric"]) == {"alignment"}
    assert not (out / "figures" / "decomposition_shapley.png").exists()


def test_a_default_channel_already_off_is_left_out_and_said_so(tmp_path):
    res, table, runs, out = _decompose(
        tmp_path, "single_backbone", "nine_backbones", "-r", "2", "--steps", "6", "--set", "mechanisms.trust=false"
    )
    assert "trust" not in set(table["channel"]) and not runs["channels_off"].str.contains("trust").any()
    assert "channel trust left out: already off in single_backbone, nine_backbones" in res.output
    assert json.loads((out / "manifest.json").read_text())["channels_left_out"]


def test_channels_are_read_from_the_model_with_their_descriptions(monkeypatch):
    """A switch added to Mechanisms is a channel with its description; a *_noise one is not, unless named."""

    class Grown(Mechanisms):
        jockeying: bool = Field(True, description="organizations claim the backbone role")
        shock_noise: bool = True
        rule: str = "split"  # not a switch

    monkeypatch.setattr(dec, "Mechanisms", Grown)
    assert dec.default_channels() == [*dec.default_channels()[:-1], "jockeying"]
    assert "shock_noise" not in dec.default_channels() and "rule" not in dec.mechanism_switches()
    assert dec.mechanism_switches()["jockeying"] == "organizations claim the backbone role"
    assert dec.parse_channels("jockeying,shock_noise") == ["jockeying", "shock_noise"]


def test_exact_shapley_is_refused_beyond_its_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(dec, "EXACT_SHAPLEY_MAX", 2)
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(
        main, ["decompose", "single_backbone", "nine_backbones", "--channels", "trust,agendas,attention", "--shapley"]
    )
    assert res.exit_code == 2 and res.output.count("\n") == 1
    assert "at most 2 channels" in res.output and "--channels" in res.output and "--shapley-permutations" in res.output
    assert list(tmp_path.iterdir()) == []
    res = CliRunner().invoke(
        main,
        ["decompose", "single_backbone", "nine_backbones", "--channels", "trust,agendas,attention"]
        + ["--shapley-permutations", "4", "-r", "2", "--steps", "6", "-w", "1", "-q", "--metric", "engagement"],
    )
    assert res.exit_code == 0, res.output
    assert "Shapley" in res.output


def test_at_month_0_no_mechanism_has_acted_yet(tmp_path):
    """Exact oracle: before the first step no switch changes anything, so every share is 0 and the
    whole gap (trust from legitimacy, SF7) flows through no channel."""
    _, table, _, out = _decompose(
        tmp_path, "single_backbone", "self_declared_backbone", "-r", "3", "--steps", "2", "--month", "0"
    )
    trust = _rows(table)[table["metric"] == "mean_trust"].set_index("channel")
    assert trust.loc["trust", "gap"] > 0 and trust.loc["trust", "note"] != dec.NOT_THERE
    assert (trust.loc[on_by_default(), "share"] == 0.0).all()
    assert trust.loc[dec.NO_CHANNEL, "share"] == 1.0 and trust.loc[dec.INTERACTIONS, "share"] == 0.0
    # and ci-sim plot redraws the folder's figure
    res = CliRunner().invoke(main, ["plot", str(out), "--out", str(tmp_path / "figs")])
    assert res.exit_code == 0, res.output
    assert {p.name for p in (tmp_path / "figs").iterdir()} == {"decomposition.png", "decomposition.svg"}
