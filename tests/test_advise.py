"""``ci-sim advise``: strategies from a roster, agreement with ``ci-sim compare``, the brief, anonymity."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import ROOT, import_or_skip

from ci_sim.cli import main
from ci_sim.experiments.advise import build_strategies, changes, checkpoints, rank, reason_lines
from ci_sim.experiments.roster import load_roster
from ci_sim.model.scenario import load_scenario

pypdf = import_or_skip("pypdf")
import_or_skip("weasyprint")

EXAMPLE = ROOT / "examples" / "roster_midsize_city.csv"
METRICS = ["indicators_improving", "meeting_hours", "hours_fundraising", "outcome_improvement"]
#: tiny runs: 3 paired replications, 3 years, the merge in year 1
FAST = ["-r", "3", "--steps", "36", "--merge-year", "1", "--seed", "5", "--posterior", "strive", "-w", "1", "-q"]


@pytest.fixture(scope="module")
def advice(tmp_path_factory):
    out = tmp_path_factory.mktemp("advise") / "advice"
    res = CliRunner().invoke(main, ["advise", str(EXAMPLE), "--out", str(out), *FAST])
    assert res.exit_code == 0, res.output
    return out, res.output


@pytest.fixture(scope="module")
def anonymous(tmp_path_factory):
    out = tmp_path_factory.mktemp("anon") / "advice"
    res = CliRunner().invoke(main, ["advise", str(EXAMPLE), "--out", str(out), "--anonymize", *FAST])
    assert res.exit_code == 0, res.output
    return out


def test_strategies_open_to_the_city():
    r = load_roster(EXAMPLE)
    labels = [s.label for s in build_strategies(r, steps=120, merge_year=2)]
    assert labels == [
        "Keep as is",
        "Merge now",
        "Merge in year 2",
        "One backbone, the others convene",
        "Claimants share one data system",
        "Claimants share one agenda and data",
        "Claimants act as one joint backbone",
    ]
    merge = build_strategies(r)[1].data["events"][0]
    assert merge["merge_backbones"] == {"keep": "Riverton Early Learning Alliance", "others_become": "exit"}
    # a merge at or after the horizon would never happen: left out
    assert "Merge in year 2" not in [s.label for s in build_strategies(r, steps=24, merge_year=2)]
    # no preferred claimant: keep the most followed
    r.claimants[0].preferred = False
    assert build_strategies(r)[1].data["events"][0]["merge_backbones"]["keep"] == 1


def test_advise_writes_rerunnable_strategy_files(advice):
    out, output = advice
    spec = (out / "strategies.yaml").read_text()
    files = sorted((out / "scenarios").glob("*.yaml"))
    assert len(files) == 7 and spec.count("scenario: scenarios/") == 7
    for f in files:
        assert load_scenario(f).steps == 36
    ranking = pd.read_csv(out / "ranking.csv")
    assert ranking["rank"].tolist() == list(range(1, 8)) and ranking["verdict"].iloc[0] == "recommended"
    assert f"1. {ranking.strategy.iloc[0]}:" in output
    man = json.loads((out / "manifest.json").read_text())
    assert man["posterior"]["name"] == "strive" and man["replications"] == 3


def test_advise_agrees_with_compare_on_the_written_files(advice, tmp_path):
    out, _ = advice
    again = tmp_path / "compare"
    args = ["compare", str(out / "strategies.yaml"), "--posterior", "strive", "-w", "1", "-q", "--out", str(again)]
    for m in METRICS:
        args += ["--metric", m]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    mine, theirs = (pd.read_csv(d / "compare.csv") for d in (out, again))
    pd.testing.assert_frame_equal(mine, theirs)
    s_mine, s_theirs = (pd.read_csv(d / "summary.csv") for d in (out, again))
    pd.testing.assert_frame_equal(s_mine, s_theirs)
    # the ranking, recomputed from compare's runs, is the one advise wrote
    pd.testing.assert_frame_equal(rank(s_theirs, "indicators_improving", 5), pd.read_csv(out / "ranking.csv"))


def test_ranking_calls_close_strategies_too_close():
    rng = np.random.default_rng(1)
    base = rng.normal(0.5, 0.1, 30)
    summary = pd.DataFrame(
        {
            "scenario": ["a"] * 30 + ["b"] * 30 + ["c"] * 30,
            "replication": list(range(30)) * 3,
            "indicators_improving": np.concatenate([base, base + 0.2, base + 0.2 + rng.normal(0, 0.01, 30)]),
        }
    )
    r = rank(summary, "indicators_improving", seed=0)
    assert r.strategy.iloc[-1] == "a" and r.verdict.iloc[-1] == "worse"
    assert r["diff"].iloc[-1] == pytest.approx(base.mean() - r["mean"].iloc[0])  # paired: the mean difference
    assert r.verdict.iloc[1] == "too close to call"
    # less is better for meeting hours
    hours = summary.rename(columns={"indicators_improving": "meeting_hours"})
    assert rank(hours, "meeting_hours", seed=0).strategy.iloc[0] == "a"


def test_checkpoints():
    assert checkpoints(120) == [60, 120] and checkpoints(90) == [60] and checkpoints(36) == [36]


def _pdf_pages(path):
    return [p.extract_text() for p in pypdf.PdfReader(path).pages]


@pytest.mark.parametrize("size", ["a4", "letter"])
def test_the_pdfs_first_page_is_the_whole_brief(advice, size):
    out, _ = advice
    pages = _pdf_pages(out / f"brief_{size}.pdf")
    first = " ".join(pages[0].split())
    best = pd.read_csv(out / "ranking.csv").strategy.iloc[0]
    assert f"Recommended: {best}" in first and "Runner-up" in first
    assert "not a forecast" in first and "Assumptions read from the roster" in first
    assert "Who keeps the backbone role" in first and "Riverton Early Learning Alliance" in first
    assert "paired runs per strategy" in first  # the last line of the assumptions: all of page 1 is on it
    assert "Full tables" not in first
    assert len(pages) >= 2 and pages[1].lstrip().startswith("Full tables")
    html = (out / "brief.html").read_text()
    assert "not a forecast" in html and f"Recommended: {best}" in html


def test_anonymize_leaves_no_roster_name_in_any_output(anonymous):
    names = load_roster(EXAMPLE).names
    texts = {}
    for f in anonymous.rglob("*"):
        if f.is_dir():
            continue
        if f.suffix == ".pdf":
            texts[f] = " ".join(" ".join(_pdf_pages(f)).split())
        elif f.suffix == ".parquet":
            texts[f] = pd.read_parquet(f).to_csv()
        else:
            texts[f] = f.read_text()
    assert len(texts) >= 10 and any(f.suffix == ".pdf" for f in texts)
    for f, text in texts.items():
        for name in names:
            assert name not in text, (name, f.name)
    assert "Organization A" in texts[anonymous / "brief.html"]


def test_a_bad_metric_or_posterior_writes_nothing(tmp_path):
    out = tmp_path / "a"
    res = CliRunner().invoke(main, ["advise", str(EXAMPLE), "--out", str(out), "--metric", "happiness", *FAST])
    assert res.exit_code == 2 and "happiness" in res.output and not out.exists()
    res = CliRunner().invoke(main, ["advise", str(EXAMPLE), "--out", str(out), "-r", "2", "--posterior", "nope"])
    assert res.exit_code == 2 and "nope" in res.output and not out.exists()


def test_the_briefs_numbers_at_the_horizon_are_compare_csvs_in_leaders_units(advice):
    out, _ = advice
    summary, table = pd.read_csv(out / "summary.csv"), pd.read_csv(out / "compare.csv")
    series = pd.read_parquet(out / "timeseries.parquet")
    best = pd.read_csv(out / "ranking.csv").strategy.iloc[0]
    partners = len(load_roster(EXAMPLE).partners)
    got = changes(summary, series, best, "Keep as is", 36, partners, 5).set_index("measure")
    for measure, metric, scale in [
        ("Share of indicators improving", "indicators_improving", 100.0),
        ("Partner hours in meetings", "meeting_hours", 1.0),
        ("Partner hours fundraising", "hours_fundraising", 1.0 / partners),
    ]:
        row = table[(table.scenario == best) & (table.metric == metric)].iloc[0]
        for mine, theirs in [("diff", "diff"), ("low", "diff_ci_low"), ("high", "diff_ci_high")]:
            assert got.loc[measure, mine] == pytest.approx(row[theirs] * scale, rel=1e-9, abs=1e-12), (measure, mine)


def test_reasons_name_only_mechanisms_whose_share_is_clear():
    rows = [
        {"method": "one_at_a_time", "kind": "channel", "channel": c, "share": s, "share_lo": lo, "share_hi": hi}
        for c, s, lo, hi in [
            ("engagement", 0.2, 0.19, 0.21),
            ("grant_capacity", 0.3, 0.27, 0.31),
            ("trust", 0.4, -0.1, 0.9),  # the largest share, but its interval includes 0: not a clear reason
        ]
    ]
    lines = reason_lines(pd.DataFrame(rows), "One", "Keep as is")
    assert len(lines) == 2 and lines[0].startswith("30% (95% range 27–31%) runs through: program grants")
    assert "(engagement)" in lines[1] and not any("trust" in x for x in lines)
    unclear = pd.DataFrame([{**rows[2]}])
    assert "No single mechanism clearly carries" in reason_lines(unclear, "One", "Keep as is")[0]


def test_advise_explains_the_recommendation_unless_asked_not_to(advice, tmp_path):
    out, _ = advice
    best = pd.read_csv(out / "ranking.csv").strategy.iloc[0]
    html = (out / "brief.html").read_text()
    if best != "Keep as is":
        table = pd.read_csv(out / "decomposition.csv")
        assert set(table["metric"]) == {"outcome_improvement"}
        assert "counterfactual" not in set(table["channel"]) and "Main reasons" in html
    quiet = tmp_path / "quiet"
    res = CliRunner().invoke(main, ["advise", str(EXAMPLE), "--out", str(quiet), "--no-reasons", *FAST])
    assert res.exit_code == 0 and not (quiet / "decomposition.csv").exists()
    assert "Main reasons" not in (quiet / "brief.html").read_text()


def test_without_weasyprint_advise_says_how_to_install_it_before_any_run(tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_weasyprint(name, *args, **kwargs):
        if name == "weasyprint":
            raise ImportError("No module named 'weasyprint'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_weasyprint)
    out = tmp_path / "a"
    res = CliRunner().invoke(main, ["advise", str(EXAMPLE), "--out", str(out), *FAST])
    assert res.exit_code == 2 and "ci-sim[leaders]" in res.output and not out.exists()


@pytest.mark.parametrize(
    ("verdicts", "said"),
    [
        (["recommended", "too close to call", "worse"], "<b>Runner-up: B</b>, too close to call against"),
        (["recommended", "too close to call", "too close to call"], "Too close to call: “B” and “C” against"),
        (["recommended", "worse", "worse"], "<b>Runner-up: B</b>, clearly behind"),
    ],
)
def test_the_headline_says_when_the_runner_up_is_too_close_to_call(verdicts, said):
    from ci_sim.viz.brief import BriefContent, _headline

    ranking = pd.DataFrame(
        {"strategy": ["A", "B", "C"], "mean": [0.9, 0.8, 0.7], "ci_low": [0.8, 0.7, 0.6], "ci_high": [1, 0.9, 0.8]}
    ).assign(verdict=verdicts)
    content = BriefContent(
        "t", "indicators_improving", "Indicators improving", ranking, None, None, "K", [], [], None, 3, 120
    )
    text = _headline(content)
    assert "<b>Recommended: A.</b>" in text and "90% (95% range 80–100%)" in text and said in text


def test_a_tie_for_first_place_is_said_as_a_tie():
    from ci_sim.viz.brief import headline

    ranking = pd.DataFrame(
        {
            "strategy": ["Merge now", "One backbone, the others convene", "Keep as is"],
            "mean": [0.75, 0.75, 0.5],
            "ci_low": [0.6, 0.6, 0.4],
            "ci_high": [0.9, 0.9, 0.6],
            "verdict": ["recommended", "too close to call", "worse"],
        }
    )
    text = headline(ranking, "indicators_improving", "Indicators improving", 120)
    assert "Recommended: Merge now, tied with “One backbone, the others convene”.</b>" in text
    assert "the model cannot choose between them" in text and "highest" not in text
    assert "<b>Runner-up: Keep as is</b>, clearly behind" in text


def test_without_a_preferred_claimant_the_brief_names_whom_the_runs_kept(tmp_path):
    # the roster marks no preferred claimant: the merge keeps the most followed, known from the runs' events.csv
    from ci_sim.experiments.advise import role_lines
    from ci_sim.experiments.roster import read_tables, template_paths

    for made, shipped in zip(template_paths(tmp_path / "c.csv"), template_paths(EXAMPLE), strict=True):
        made.write_bytes(shipped.read_bytes())
    frame = read_tables(tmp_path / "c.csv")["organizations"]
    frame["preferred"] = ""
    frame.to_csv(tmp_path / "c.csv", index=False)
    out = tmp_path / "advice"
    res = CliRunner().invoke(main, ["advise", str(tmp_path / "c.csv"), "--out", str(out), "--no-reasons", *FAST])
    assert res.exit_code == 0, res.output
    events = pd.read_csv(out / "events.csv", keep_default_na=False)
    merged = events[events.scenario == "Merge now"]
    assert merged["replication"].tolist() == [0, 1, 2] and (merged["at"] == 0).all()
    claimants = {c.name for c in load_roster(tmp_path / "c.csv").claimants}
    for kept, left in zip(merged["kept"], merged["left"], strict=True):
        assert kept in claimants and set(left.split("; ")) == claimants - {kept}
    roster = load_roster(tmp_path / "c.csv")
    strategy = build_strategies(roster, steps=36, merge_year=1)[1]
    text = " ".join(role_lines(roster, strategy, 1, events))
    counts = merged["kept"].value_counts()
    if len(counts) == 1:
        assert f"{counts.index[0]} keeps the backbone role" in text and "in all 3 runs" in text
    else:
        for name, k in counts.items():
            assert f"{name} in {k} of 3 runs" in text
    # the same lines from invented runs: one keeper in every run, or a split said as a split
    one = merged.assign(kept="Ready Kids Initiative")
    assert "Ready Kids Initiative keeps the backbone role (merge at once): in all 3 runs" in " ".join(
        role_lines(roster, strategy, 1, one)
    )
    split = merged.assign(kept=["Ready Kids Initiative", "Bright Beginnings Network", "Ready Kids Initiative"])
    said = " ".join(role_lines(roster, strategy, 1, split))
    assert "Ready Kids Initiative in 2 of 3 runs, Bright Beginnings Network in 1 of 3 runs" in said


def test_an_anonymized_manifest_does_not_say_the_rosters_file_name(tmp_path, monkeypatch):
    # the file name may name the partnership (anonymize replaces the roster's source for that reason)
    import json
    import sys

    from ci_sim.experiments.roster import template_paths

    roster = tmp_path / "riverton_partnership.csv"
    for made, shipped in zip(template_paths(roster), template_paths(EXAMPLE), strict=True):
        made.write_bytes(shipped.read_bytes())
    out = tmp_path / "advice"
    argv = ["advise", str(roster), "--out", str(out), "--anonymize", "--no-reasons", *FAST]
    monkeypatch.setattr(sys, "argv", ["ci-sim", *argv])  # the manifest records the process's command line
    res = CliRunner().invoke(main, argv)
    assert res.exit_code == 0, res.output
    said = json.loads((out / "manifest.json").read_text())["command_line"]
    assert said == ["ci-sim", "advise", "roster (anonymized)", *argv[2:]]
    assert "riverton_partnership" not in (out / "manifest.json").read_text()


def test_role_lines_agree_in_number_with_one_other_claimant():
    from ci_sim.experiments.advise import role_lines

    r = load_roster(EXAMPLE)
    r.claimants = r.claimants[:2]  # the preferred Riverton Early Learning Alliance and Ready Kids Initiative
    by_kind = {s.kind: s for s in build_strategies(r, steps=36, merge_year=1)}
    merge = " ".join(role_lines(r, by_kind["merge"], 1))
    assert "Ready Kids Initiative gives up the backbone role and takes part as a partner." in merge
    convene = " ".join(role_lines(r, by_kind["conveners"], 1))
    assert "Ready Kids Initiative convenes working groups" in convene and "with its own money" in convene
    assert "both claimants stay backbones" in " ".join(role_lines(r, by_kind["keep"], 1))
    three = load_roster(EXAMPLE)
    assert "give up the backbone role and take part as partners." in " ".join(
        role_lines(three, build_strategies(three)[1], 2)
    )


def test_a_two_area_roster_with_five_claimants_still_fits_the_brief_on_page_1(tmp_path):
    # two contested areas, five claimants, partners in both areas: page 1 gives up detail (the full
    # assumptions move to the tables) rather than spill onto page 2
    from ci_sim.experiments.roster import read_tables, template_paths

    for made, shipped in zip(template_paths(tmp_path / "c.csv"), template_paths(EXAMPLE), strict=True):
        made.write_bytes(shipped.read_bytes())
    frame = read_tables(tmp_path / "c.csv")["organizations"].astype(object)
    frame.loc[40:47, "issue_areas"] = "education"
    frame.loc[48:55, "issue_areas"] = "early childhood; education"
    for i in (40, 41):  # two partners become education's claimants
        frame.loc[i, ["role", "origin", "own_money_per_month"]] = ["backbone claimant", "self declared", 2000]
        frame.loc[i, ["q_neutral_inclusive", "q_no_stake", "q_behind_scenes", "q_partners_credit"]] = [3, 3, 2, 4]
    frame.loc[:, "preferred"] = ""
    frame.to_csv(tmp_path / "c.csv", index=False)
    out = tmp_path / "advice"
    res = CliRunner().invoke(main, ["advise", str(tmp_path / "c.csv"), "--out", str(out), *FAST])
    assert res.exit_code == 0, res.output
    for size in ("a4", "letter"):
        pages = _pdf_pages(out / f"brief_{size}.pdf")
        first = " ".join(pages[0].split())
        assert "Each strategy applies in every contested area at once (early childhood, education)" in first
        assert "Who keeps the backbone role" in first and "not a forecast" in first
        assert "paired runs per strategy" in first, size  # the assumptions end on page 1
        assert pages[1].lstrip().startswith("Full tables"), size
        rest = " ".join(" ".join(pages[1:]).split())
        assert "Assumptions read from the roster, in full" in rest and f"{frame.loc[41, 'name']} (education)" in rest
