"""``ci-sim advise`` end to end: a roster's strategies written, run, ranked, explained, and the brief written.

The pieces are in :mod:`ci_sim.experiments.advise` (strategies, ranking, changes, reasons) and
:mod:`ci_sim.viz.brief` (the page); this module joins them in one results folder.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ci_sim.experiments.advise import (
    BRIEF_METRICS,
    REASON_METRIC,
    assumptions,
    build_strategies,
    changes,
    rank,
    reason_lines,
    reasons,
    role_lines,
    scope_note,
    write_strategies,
)
from ci_sim.experiments.roster import Roster


def run_advice(
    roster: Roster,
    out: Path,
    *,
    metric: str = "indicators_improving",
    steps: int = 120,
    replications: int = 20,
    seed: int = 2026,
    merge_year: int = 2,
    posterior=None,
    evaluator=None,
    progress: bool = False,
    explain: bool = True,
    command_line: list[str] | None = None,
) -> pd.DataFrame:
    """Build, write, run and rank the strategies of ``roster``; write the results and the brief in ``out``.

    ``out`` receives: ``strategies.yaml`` and ``scenarios/*.yaml`` (rerun with ``ci-sim compare
    strategies.yaml``), ``compare.csv``, ``summary.csv``, ``timeseries.parquet`` and ``manifest.json``
    (as ``ci-sim compare`` writes them), ``ranking.csv``, ``brief.html``, ``brief_a4.pdf`` and
    ``brief_letter.pdf``; with ``explain``, ``decomposition.csv``
    (:func:`~ci_sim.experiments.advise.reasons`: which mechanisms carry the recommended strategy's
    gap to keeping things as they are). ``command_line`` goes into the manifest instead of the
    process's own (see :func:`~ci_sim.experiments.compare.write_comparison`). The folder appears
    complete or not at all.

    Returns:
        The ranking (:func:`~ci_sim.experiments.advise.rank`).

    Raises:
        ScenarioError: an unknown metric, a posterior the scenarios cannot take, an output folder
            that holds files; nothing is written.
    """
    from ci_sim.experiments.compare import check_comparable, check_metrics, compare_and_write, load_entries
    from ci_sim.experiments.evaluators import SerialEvaluator
    from ci_sim.model.columns import metric_label
    from ci_sim.runs.results import staged_dir, write_csv
    from ci_sim.viz.brief import BriefContent, write_brief

    strategies = build_strategies(roster, steps, replications, seed, merge_year)
    with staged_dir(out) as tmp:
        spec_path = write_strategies(
            strategies, tmp, "advice", replications, seed, posterior.name if posterior else None, metric
        )
        entries, _ = load_entries([spec_path])
        metrics = check_metrics(entries, [metric, *BRIEF_METRICS])
        for label, sc in entries if posterior is not None else ():
            posterior.check(sc, label)
        differences = check_comparable(entries)
        table, summary, series, events = compare_and_write(
            tmp,
            entries,
            replications,
            seed,
            None,
            evaluator or SerialEvaluator(),
            metrics,
            differences,
            progress=progress,
            desc="advise",
            posterior=posterior,
            command_line=command_line,
        )
        ranking = rank(summary, metric, seed)
        write_csv(ranking, tmp / "ranking.csv")
        base_label = strategies[0].label
        why: list[str] = []
        if explain and ranking.strategy.iloc[0] != base_label:
            decomposition = reasons(
                entries,
                ranking.strategy.iloc[0],
                REASON_METRIC,
                replications,
                seed,
                evaluator or SerialEvaluator(),
                posterior,
                progress,
            )
            write_csv(decomposition, tmp / "decomposition.csv")
            why = reason_lines(decomposition, ranking.strategy.iloc[0], base_label)
        by_label = {s.label: s for s in strategies}
        best = ranking.strategy.iloc[0]
        runner = ranking.strategy.iloc[1] if len(ranking) > 1 else None
        n = len(roster.partners)
        content = BriefContent(
            title="Your partnership: which strategy to choose",
            metric=metric,
            metric_label=metric_label(metric),
            ranking=ranking,
            recommended_changes=changes(summary, series, best, strategies[0].label, steps, n, seed),
            runner_up_changes=changes(summary, series, runner, strategies[0].label, steps, n, seed)
            if runner and runner != strategies[0].label
            else None,
            baseline=strategies[0].label,
            role_lines=role_lines(roster, by_label[best], merge_year, events),
            assumptions=assumptions(roster, steps, replications, seed, posterior.name if posterior else None),
            assumptions_short=assumptions(
                roster, steps, replications, seed, posterior.name if posterior else None, short=True
            ),
            scope=scope_note(roster),
            posterior=posterior.name if posterior is not None else None,
            replications=replications,
            steps=steps,
            strategy_notes={s.label: s.description for s in strategies},
            reasons=why,
            compare_table=table,
        )
        write_brief(content, tmp)
    return ranking
