"""Advice for a community: the strategies open to its partnership, run and ranked (``ci-sim advise``).

From a roster (:mod:`ci_sim.experiments.roster`) this builds the community's scenario and one
scenario per strategy open to each area with two or more backbone claimants:

- **keep as is**: every claimant stays a backbone, no coordination;
- **merge now**: at month 0 the claimants merge into one, keeping the roster's ``preferred``
  claimant, or (none marked) the most followed one (``merge_backbones: {keep: 1}``); the others
  leave the backbone role (``others_become: exit``);
- **merge in year N**: the same merge at month ``12 N``;
- **one backbone, the others convene**: the merge now, the others becoming conveners
  (``others_become: conveners``, docs/ODD.md §7.3);
- **shared data / shared agenda / joint**: the claimants stay and coordinate at that level
  (the scenario's ``coordination``, docs/ODD.md §7.11).

Each is written as a scenario file with a strategies file listing them (``strategies.yaml``),
then run by :func:`ci_sim.viz.advice.run_advice` (which also writes the brief) exactly as
``ci-sim compare strategies.yaml`` runs them (:func:`~ci_sim.experiments.compare.compare_and_write`):
paired replications (common
random numbers) and, with a posterior, replication ``i`` of every strategy takes the same draw of
the calibrated parameters. Strategies are ranked by the mean of one metric at the horizon (default
``indicators_improving``, the share of indicators better than in the baseline year); each is
compared with the best by the paired difference and its percentile-bootstrap 95% CI, and a
strategy whose interval includes zero is "too close to call" against the best.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ci_sim.experiments.compare import CONFIDENCE, bootstrap_paired, compare_table, pair_stream
from ci_sim.experiments.roster import Roster
from ci_sim.model.scenario import Community

#: metrics for which less is better (ranking direction); every other metric: more is better
LOWER_IS_BETTER = {
    "meeting_hours",
    "fundraising_share",
    "nonprofit_fundraising_share",
    "hours_fundraising",
    "hours_meetings",
    "hours_reporting",
    "duplicate_meeting_hours",
    "factions",
    "data_cost",
    "visibility_effort",
    "political_fires",
    "money_unspent",
    "money_overhead",
}
#: what the brief reports besides the ranking metric
BRIEF_METRICS = ["indicators_improving", "meeting_hours", "hours_fundraising", "outcome_improvement"]
#: channels left out of the brief's reasons: they are how the world and its measurement vary (population
#: trends and shocks, sampling error), not what the partnership does; switched off, a count of
#: indicators improving changes for reasons no strategy controls
NOT_REASONS = ("counterfactual", "sampling_noise")
#: the metric the reasons decompose: the population-level gain behind the indicators. A count of indicators
#: improving moves in steps of one indicator, too coarse to split among mechanisms with a few dozen runs
REASON_METRIC = "outcome_improvement"
#: what the claimants do under each coordination level (the strategies' descriptions)
COORDINATION_DOING = {
    "shared_data": "they keep one shared data system",
    "shared_agenda": "they keep one shared agenda and data system",
    "joint": "they act as one joint backbone",
}
COORDINATION_WORDS = {
    "shared_data": "Claimants share one data system",
    "shared_agenda": "Claimants share one agenda and data",
    "joint": "Claimants act as one joint backbone",
}


#: who a merge keeps when the roster marks no preferred claimant (``merge_backbones: {keep: 1}``)
MOST_FOLLOWED = "the claimant most partners follow at the time of the merge"


@dataclass
class Strategy:
    """One strategy: its label, file name, plain description and scenario data."""

    label: str
    slug: str
    kind: str
    description: str
    data: dict[str, Any]


def _merge_event(roster: Roster, area: str, at: int, others: str) -> dict[str, Any]:
    pref = [c.name for c in roster.claimants_of(area) if c.preferred]
    return {"at": at, "area": area, "merge_backbones": {"keep": pref[0] if pref else 1, "others_become": others}}


def keeper(roster: Roster, area: str) -> tuple[str | None, str]:
    """Who keeps the backbone role in a merge, and why (None: the most followed, known only in a run)."""
    claimants = roster.claimants_of(area)
    pref = [c for c in claimants if c.preferred]
    if pref:
        c = pref[0]
        return c.name, (
            f"the roster marks it as the partners' preferred claimant ({c.origin.replace('_', ' ')}; neutrality "
            f"{c.neutrality:.2f}, servant leadership {c.servant_leadership:.2f} from the questionnaire)"
        )
    return None, f"{MOST_FOLLOWED} (the model finds it in each run)"


def build_strategies(
    roster: Roster, steps: int = 120, replications: int = 20, seed: int = 2026, merge_year: int = 2
) -> list[Strategy]:
    """The strategies open to the roster's community, keep-as-is first (the comparison's baseline).

    Strategies apply to every contested area (two or more claimants) at once. "Merge in year N"
    is left out when month ``12 N`` is at or after the horizon (it would never happen).
    """
    base = roster.scenario_data("Keep as is", steps, replications, seed)
    areas = roster.contested()
    out = [Strategy("Keep as is", "keep_as_is", "keep", "Every claimant stays a backbone; no coordination.", base)]
    if not areas:
        return out
    # a strategy applies in every contested area at once: the descriptions say where
    names = [a.replace("_", " ") for a in areas]
    where = f"In {names[0]}" if len(names) == 1 else f"In each contested area ({', '.join(names)})"

    def variant(label: str, slug: str, kind: str, description: str, events=(), coordination=None) -> Strategy:
        data = {**yaml.safe_load(yaml.safe_dump(base)), "name": label, "events": list(events)}
        if coordination:
            for spec in data["issue_areas"]:
                if spec["name"] in areas:
                    spec["coordination"] = coordination
        return Strategy(label, slug, kind, description, data)

    out.append(
        variant(
            "Merge now",
            "merge_now",
            "merge",
            f"{where}, the claimants merge at once into one backbone; the others leave the role.",
            [_merge_event(roster, a, 0, "exit") for a in areas],
        )
    )
    if 12 * merge_year < steps:
        out.append(
            variant(
                f"Merge in year {merge_year}",
                f"merge_year_{merge_year}",
                "merge",
                f"As things are until month {12 * merge_year}; then, {where.lower()}, the claimants merge into one "
                "backbone and the others leave the role.",
                [_merge_event(roster, a, 12 * merge_year, "exit") for a in areas],
            )
        )
    out.append(
        variant(
            "One backbone, the others convene",
            "one_backbone_conveners",
            "conveners",
            f"{where}, the claimants merge at once into one backbone; the others each convene working groups on "
            "outcomes.",
            [_merge_event(roster, a, 0, "conveners") for a in areas],
        )
    )
    for level, words in COORDINATION_WORDS.items():
        out.append(
            variant(
                words,
                f"coordinate_{level}",
                "coordination",
                f"{where}, every claimant stays a backbone and {COORDINATION_DOING[level]}.",
                coordination=level,
            )
        )
    return out


def write_strategies(
    strategies: list[Strategy],
    folder: Path,
    name: str,
    replications: int,
    seed: int,
    posterior: str | None = None,
    metric: str = "indicators_improving",
) -> Path:
    """Write ``scenarios/<slug>.yaml`` per strategy and ``strategies.yaml`` (for ``ci-sim compare``) in ``folder``.

    ``strategies.yaml`` opens with the command that reruns them with the same numbers (the
    ``posterior`` by name and the ranking ``metric``).
    """
    from ci_sim.runs.results import atomic_write

    (folder / "scenarios").mkdir(parents=True, exist_ok=True)
    listed = []
    for i, st in enumerate(strategies, 1):
        rel = f"scenarios/{i}_{st.slug}.yaml"
        text = yaml.safe_dump(st.data, sort_keys=False, allow_unicode=True)
        atomic_write(folder / rel, lambda p, text=text: p.write_text(text, encoding="utf-8"))
        listed.append({"name": st.label, "scenario": rel, "description": st.description})
    spec = {"name": name, "replications": replications, "seed": seed, "strategies": listed}
    path = folder / "strategies.yaml"
    rerun = f"ci-sim compare strategies.yaml{f' --posterior {posterior}' if posterior else ''} --metric {metric}"
    text = f"# rerun with the same numbers: {rerun}\n" + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))
    return path


def rank(summary: pd.DataFrame, metric: str, seed: int) -> pd.DataFrame:
    """Strategies ranked by the mean of ``metric``, each compared with the best (paired).

    Returns:
        One row per strategy, best first: ``rank``, ``strategy``, ``mean``, ``ci_low``, ``ci_high``
        (Student-t 95% CI), ``diff``, ``diff_ci_low``, ``diff_ci_high`` (paired difference to the
        best and its percentile-bootstrap 95% CI, from :func:`~ci_sim.experiments.compare.compare_table`
        with the best as baseline) and ``verdict`` ("recommended", "too close to call" when the
        interval includes 0, or "worse").
    """
    means = summary.groupby("scenario", sort=False)[metric].mean()
    order = means.sort_values(ascending=metric in LOWER_IS_BETTER, kind="stable").index.tolist()
    table = compare_table(summary, [metric], baseline=order[0], seed=seed).set_index("scenario")
    rows = []
    for i, name in enumerate(order):
        r = table.loc[name]
        if i == 0:
            verdict = "recommended"
        elif np.isfinite(r["diff_ci_low"]) and r["diff_ci_low"] <= 0 <= r["diff_ci_high"]:
            verdict = "too close to call"
        elif not np.isfinite(r["diff_ci_low"]):
            verdict = "too close to call"  # no interval (one replication): nothing can be called
        else:
            verdict = "worse"
        rows.append(
            {
                "rank": i + 1,
                "strategy": name,
                **{k: r[k] for k in ("mean", "ci_low", "ci_high", "diff", "diff_ci_low", "diff_ci_high")},
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows)


def checkpoints(steps: int) -> list[int]:
    """Months the brief reports: after 5 and 10 years where the horizon reaches, else the horizon."""
    months = [m for m in (60, 120) if m <= steps]
    return months or [steps]


def values_at(summary: pd.DataFrame, series: pd.DataFrame, month: int, steps: int, metric: str) -> pd.DataFrame:
    """``metric`` of each (scenario, replication) after ``month`` months (the horizon: the final values)."""
    if month >= steps:
        return summary[["scenario", "replication", metric]]
    return series.loc[series["step"] == month, ["scenario", "replication", metric]]


def changes(
    summary: pd.DataFrame,
    series: pd.DataFrame,
    strategy: str,
    baseline: str,
    steps: int,
    partners: int,
    seed: int,
) -> pd.DataFrame:
    """What ``strategy`` changes against ``baseline`` after each checkpoint, in leaders' units.

    Rows: (month, measure): the share of indicators improving (level in %, change in percentage
    points), meeting hours per partner per month, fundraising hours per partner per month
    (``hours_fundraising`` over the partners). Columns ``level`` (the strategy's mean) with
    ``level_unit``, ``diff`` and ``low``/``high`` (the paired difference and its bootstrap 95% CI)
    with ``diff_unit``. The bootstrap draws :func:`~ci_sim.experiments.compare.pair_stream` of
    (strategy, baseline, metric), with the month added before the horizon: at the horizon the
    brief's numbers are ``compare.csv``'s in leaders' units (the measures are linear in the
    metrics, and percentiles follow linear maps).
    """
    per_partner = "hours per partner a month"
    measures = [
        ("indicators_improving", "Share of indicators improving", "%", "percentage points", 100.0),
        ("meeting_hours", "Partner hours in meetings", per_partner, per_partner, 1.0),
        ("hours_fundraising", "Partner hours fundraising", per_partner, per_partner, 1.0 / partners),
    ]
    rows = []
    for month in checkpoints(steps):
        for metric, label, level_unit, diff_unit, scale in measures:
            v = values_at(summary, series, month, steps, metric)
            a = v[v.scenario == strategy].set_index("replication")[metric]
            b = v[v.scenario == baseline].set_index("replication")[metric].reindex(a.index)
            rng = pair_stream(seed, strategy, baseline, metric, *(() if month >= steps else (month,)))
            s = bootstrap_paired(a.to_numpy() * scale, b.to_numpy() * scale, rng, level=CONFIDENCE)
            rows.append(
                {
                    "month": month,
                    "measure": label,
                    "level": float(a.mean() * scale),
                    "level_unit": level_unit,
                    "diff": s["diff"],
                    "low": s["diff_ci_low"],
                    "high": s["diff_ci_high"],
                    "diff_unit": diff_unit,
                }
            )
    return pd.DataFrame(rows)


def and_join(names: list[str]) -> str:
    """Names in a sentence: "A", "A and B", "A, B and C"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def kept_counts(events: pd.DataFrame | None, strategy: str, area: str) -> list[tuple[str, int]]:
    """How many runs of ``strategy`` each backbone kept the role in ``area``'s merge, most first.

    ``events``: the comparison's ``events.csv`` (:data:`~ci_sim.experiments.compare.EVENT_COLUMNS`).
    """
    if events is None or events.empty:
        return []
    rows = events[(events["scenario"] == strategy) & (events["area"] == area) & (events["event"] == "merge_backbones")]
    counts = rows["kept"].fillna("").value_counts()
    return sorted(((name, int(k)) for name, k in counts.items() if name), key=lambda x: (-x[1], x[0]))


def role_lines(roster: Roster, strategy: Strategy, merge_year: int, events: pd.DataFrame | None = None) -> list[str]:
    """Who keeps the backbone role under ``strategy`` and what each other claimant does, per contested area.

    Where the roster marks no preferred claimant, the merge keeps the most followed one, which
    only a run knows: ``events`` (the comparison's ``events.csv``) says whom each run kept.
    """
    lines = []
    for area in roster.contested() or list(roster.areas):
        claimants = roster.claimants_of(area)
        where = area.replace("_", " ")
        names = ", ".join(c.name for c in claimants)
        if strategy.kind in ("keep", "coordination"):
            how = {
                "keep": "each runs its own tables, data and agenda",
                "coordination": strategy.label.lower().replace("claimants ", "they "),
            }[strategy.kind]
            every = "both" if len(claimants) == 2 else f"all {len(claimants)}"
            lines.append(f"{where}: {every} claimants stay backbones ({names}); {how}.")
            continue
        name, why = keeper(roster, area)
        others = [c.name for c in claimants if c.name != name]
        month = 12 * merge_year if strategy.slug.startswith("merge_year") else 0
        when = "at once" if month == 0 else f"in year {merge_year} (month {month})"
        counts = kept_counts(events, strategy.label, area) if name is None else []
        runs = sum(k for _, k in counts)
        if name is None and len(counts) == 1:
            name = counts[0][0]
            others = [c.name for c in claimants if c.name != name]
            lines.append(
                f"{where}: {name} keeps the backbone role (merge {when}): in all {runs} runs it is {MOST_FOLLOWED}."
            )
            others_text = and_join(others)
        elif name is None and counts:
            shares = ", ".join(f"{n} in {k} of {runs} runs" for n, k in counts)
            lines.append(
                f"{where}: the claimants merge {when}; the one that keeps the role is {MOST_FOLLOWED}: {shares} "
                "(which one varies with each run's chance events, so the model cannot name a single one)."
            )
            # who does what instead, said for the most frequent keeper
            others = [c.name for c in claimants if c.name != counts[0][0]]
            others_text = f"where {counts[0][0]} keeps the role, {and_join(others)}"
        elif name is None:
            lines.append(f"{where}: the claimants merge {when}; the one that keeps the role is {why}.")
            others_text = "the others"
        else:
            lines.append(f"{where}: {name} keeps the backbone role (merge {when}) because {why}.")
            others_text = and_join(others)
        one = others_text != "the others" and len(others) == 1  # one other claimant: the verb agrees with it
        if strategy.kind == "conveners":
            lines.append(
                f"{where}: {others_text} {'convenes' if one else 'each convene'} working groups on the area's "
                "outcomes instead (engage practitioners, facilitate networks, update action plans), with "
                f"{'its' if one else 'their'} own money."
            )
        else:
            lines.append(
                f"{where}: {others_text} {'gives' if one else 'give'} up the backbone role and "
                f"{'takes' if one else 'take'} part as {'a partner' if one else 'partners'}."
            )
    return lines


def assumptions(
    roster: Roster, steps: int, replications: int, seed: int, posterior: str | None, short: bool = False
) -> list[str]:
    """The roster's facts the scenario is built on, in plain words (the brief's last section).

    ``short``: the version for a page 1 that would not fit otherwise: one line per area for its
    claimants (origins and ratings) and the two-area partners counted, not named.
    """
    p = roster.partners
    mix = p["sector"].value_counts()
    lines = [
        f"{len(p)} partner organizations (every organization but the backbone claimants), giving on average "
        f"{p['hours_per_month'].mean():.0f} hours a month each; sectors: "
        + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in mix.items())
        + ".",
    ]
    for area, outcomes in roster.areas.items():
        lines.append(
            f"{area.replace('_', ' ')}: outcomes {', '.join(o.replace('_', ' ') for o in outcomes)}; funders give "
            f"${roster.backbone_money.get(area, 0):,.0f} a month for backbone work and "
            f"${roster.program_grants.get(area, 0):,.0f} a month in program grants."
        )
    lines.append(
        "Claimants' ratings come from the questionnaire: each answer 1-5 becomes 0-1, and a rating is the mean of "
        "its two statements (docs/roster.md)."
    )
    if short:
        for area in roster.areas:
            those = roster.claimants_of(area)
            lines.append(
                f"{area.replace('_', ' ')} claimants (neutrality, servant leadership): "
                + "; ".join(
                    f"{c.name}, {c.origin.replace('_', ' ')}{', preferred' if c.preferred else ''} "
                    f"({c.neutrality:.2f}, {c.servant_leadership:.2f})"
                    for c in those
                )
                + "."
                if those
                else f"{area.replace('_', ' ')}: no claimant."
            )
    else:
        for c in roster.claimants:
            lines.append(
                f"{c.name} ({c.area.replace('_', ' ')}): {c.origin.replace('_', ' ')}, ${c.own_money:,.0f} a month of "
                f"its own; neutrality {c.neutrality:.2f}, servant leadership {c.servant_leadership:.2f}"
                + ("; the partners' preferred claimant" if c.preferred else "")
                + "."
            )
    two = [n for n, a in zip(p["name"], p["issue_areas"], strict=True) if len(a) == 2]
    if two:
        lines.append(
            f"{len(two)} partners work in two areas (the first listed is their home area; the second takes "
            f"{Community.model_fields['second_area_weight'].default:.0%} of their agenda and hours)"
            + ("; they are named in the full tables." if short else f": {', '.join(two)}.")
        )
    ties, with_claimant, across = roster.peer_ties()
    if roster.collaborations:
        unused = []
        if with_claimant:
            unused.append(f"{with_claimant} with a backbone claimant (the model links partners to backbones by trust)")
        if across:
            unused.append(f"{across} between partners of different areas (peers influence agendas within an area)")
        alone = len(p) - len({n for pair in ties for n in pair})
        lines.append(
            f"Who works with whom: the {len(ties)} collaborations between partners are the peer network"
            + (f"; not used: {'; '.join(unused)}" if unused else "")
            + (f"; {alone} partners have no listed collaboration and so no peers" if alone else "")
            + "."
        )
    else:
        lines.append("Who works with whom: not given; the model draws a peer network with 6 peers each on average.")
    lines.append(
        f"{steps} months, {replications} paired runs per strategy, seed {seed}"
        + (f", parameters drawn from the calibrated posterior {posterior}." if posterior else ", default parameters.")
    )
    return lines


def scope_note(roster: Roster) -> str:
    """Where the strategies apply, when the roster has more than one contested area ("" otherwise)."""
    areas = [a.replace("_", " ") for a in roster.contested()]
    if len(areas) < 2:
        return ""
    return (
        f"Each strategy applies in every contested area at once ({', '.join(areas)}); to treat an area "
        "differently, edit the strategy files (scenarios/*.yaml) and rerun them with ci-sim compare."
    )


def roster_summary(roster: Roster) -> list[str]:
    """What ``ci-sim roster check`` (and the dashboard) says of a valid roster: counts, then the assumptions.

    The first line counts organizations, claimants and contested areas; the others are
    :func:`assumptions` without its last line (the run's settings, not yet chosen).
    """
    head = (
        f"{len(roster.organizations)} organizations, {len(roster.claimants)} backbone claimants; "
        f"contested areas: {', '.join(roster.contested()) or 'none'}"
    )
    return [head, *assumptions(roster, 120, 20, 2026, None)[:-1]]


def reasons(
    entries: list[tuple[str, Any]],
    strategy: str,
    metric: str,
    replications: int,
    seed: int,
    evaluator,
    posterior=None,
    progress: bool = False,
) -> pd.DataFrame:
    """Which mechanisms carry the gap between ``strategy`` and keeping things as they are (the brief's reasons).

    The decomposition of ``ci-sim decompose`` (:mod:`ci_sim.experiments.decompose`), one channel at
    a time, on ``metric`` at the horizon, with the default channels but :data:`NOT_REASONS`, the same seeds and, with a
    posterior, the same draws as the ranking: replication ``i`` takes draw ``i`` in both strategies and every
    variant, so the shares carry the parameter uncertainty the ranking carries.

    Returns:
        The rows of :func:`~ci_sim.experiments.decompose.decomposition_table` (``decomposition.csv``).
    """
    from ci_sim.experiments.decompose import (
        decomposition_table,
        resolve_channels,
        run_variants,
        variants_needed,
    )

    by_label = dict(entries)
    pair = [(strategy, by_label[strategy]), (entries[0][0], entries[0][1])]
    channels = [c for c in resolve_channels(None, pair)[0] if c not in NOT_REASONS]
    steps = pair[0][1].steps
    runs = run_variants(
        pair, variants_needed(channels), replications, seed, None, steps, evaluator, progress, posterior=posterior
    )
    return decomposition_table(runs, [metric], channels, seed)


def reason_lines(table: pd.DataFrame, strategy: str, baseline: str, top: int = 3) -> list[str]:
    """The main reasons in plain words: the channels with the largest shares of the gap whose 95% CI excludes 0."""
    from ci_sim.experiments.decompose import ONE_AT_A_TIME, mechanism_switches

    rows = table[(table["method"] == ONE_AT_A_TIME) & (table["kind"] == "channel")]
    if rows.empty or not np.isfinite(rows["share"]).any():
        return [
            f"The model cannot say which mechanisms carry the difference between {strategy} and {baseline}: "
            "the difference is within the runs' noise (its 95% range includes zero)."
        ]
    described = mechanism_switches()
    lines = []
    clear = rows[rows["share_lo"] > 0].sort_values("share", ascending=False).head(top)
    for r in clear.itertuples():
        what = described.get(r.channel, "").split(" (off")[0]
        lines.append(
            f"{r.share * 100:.0f}% (95% range {r.share_lo * 100:.0f}–{r.share_hi * 100:.0f}%) runs through: "
            f"{what} ({r.channel})."
        )
    return lines or [
        f"No single mechanism clearly carries the difference between {strategy} and {baseline} (each one's 95% "
        "range includes zero): it comes from several together."
    ]
