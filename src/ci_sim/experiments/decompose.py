r"""Decomposition: which mechanisms carry the gap between two scenarios.

The channels are the scenario's mechanism switches, the boolean fields of
:class:`ci_sim.model.scenario.Mechanisms`, read from the class at run time (with their
pydantic ``description``), so a switch added to the model is a channel without any change
here. Switches whose name ends in ``_noise`` are noise, not a channel, and are left out
unless asked for by name.

For two scenarios A and B, every replication :math:`i` runs with the same seed
(:func:`~ci_sim.runs.seeds.replication_seed`) in both arms and in every variant (common
random numbers, as in :mod:`ci_sim.experiments.compare`), so the paired difference

.. math:: d_i(S) = m(A_i^{-S}) - m(B_i^{-S})

of a metric :math:`m` at month :math:`t` (the horizon unless ``month``) is measured with
the channels :math:`S` switched off in both arms. With :math:`\bar d(S)` its mean over the
:math:`R` replications:

- the gap :math:`G = \bar d(\varnothing)`;
- the share of channel :math:`c` (one at a time): :math:`s_c = (G - \bar d(\{c\})) / G`,
  the part of the gap that disappears when :math:`c` alone is switched off;
- the remainder :math:`r = 1 - \sum_c s_c`, which no single channel explains; it splits
  exactly into the gap left with every listed channel off, :math:`\bar d(C) / G` (what flows
  through no listed channel: money, overheads, the community itself) and the interactions,
  :math:`r - \bar d(C)/G` (what channels carry only together, or twice: positive when two
  channels are each needed, negative when each alone suffices).

So the shares and the remainder add up to 1 by construction. Confidence intervals (95%):
percentile bootstrap over replications, resampling replication indices jointly for every
run (both arms, every variant, every metric), with a :class:`numpy.random.Generator`
seeded from the base seed: the same command gives the same intervals. When the gap's own
interval includes 0 the gap is within its noise and the shares are n/a: a share of a gap
that is not there would be a ratio of noise.

Optionally (many more runs), the Shapley decomposition (Shapley 1953; its use for the
contributions of model components: Lundberg & Lee 2017) shares the gap out with the
interactions included: with :math:`v(S) = \bar d(C \setminus S)` the gap with only the
channels :math:`S` on,

.. math:: \phi_c = \sum_{S \subseteq C \setminus \{c\}} \frac{|S|!\,(n-|S|-1)!}{n!}\,[v(S \cup \{c\}) - v(S)],

over all :math:`2^n` coalitions (exact; :data:`EXACT_SHAPLEY_MAX` channels at most) or as
the mean marginal contribution over random orders of the channels. :math:`\sum_c \phi_c =
G - v(\varnothing)`, so the Shapley shares :math:`\phi_c / G` and the remainder
:math:`v(\varnothing) / G` (the gap with every channel off) add up to 1 too.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from ci_sim.experiments.compare import BOOTSTRAP_RESAMPLES, CONFIDENCE, _fmt, run_comparison
from ci_sim.model.scenario import Mechanisms, Scenario, ScenarioError, validate_scenario

#: switches named so are noise, not a channel (left out unless named in ``--channels``)
NOISE_SUFFIX = "_noise"
#: exact Shapley needs 2^n coalitions x 2 arms x R runs: 64 coalitions at most
EXACT_SHAPLEY_MAX = 6
#: the ``channel`` cell of the rows that are not one channel
REMAINDER, NO_CHANNEL, INTERACTIONS = "remainder", "remainder_no_channel", "remainder_interactions"
ONE_AT_A_TIME, SHAPLEY = "one_at_a_time", "shapley"
#: random streams drawn from the base seed (distinct from every replication's stream,
#: which is ``SeedSequence(seed, spawn_key=(i,))``)
BOOTSTRAP_STREAM, PERMUTATION_STREAM = 1, 2
#: the columns of decomposition.csv: the contracted ones first
COLUMNS = [
    "metric",
    "channel",
    "gap",
    "gap_without",
    "share",
    "share_lo",
    "share_hi",
    "method",
    "kind",
    "gap_lo",
    "gap_hi",
    "gap_without_lo",
    "gap_without_hi",
    "contribution",
    "month",
    "n",
    "note",
]
NOT_THERE = "gap within noise (its 95% CI includes 0): shares n/a"


def mechanism_switches() -> dict[str, str]:
    """Every mechanism switch of a scenario, with its description, in the class's order.

    The boolean fields of :class:`~ci_sim.model.scenario.Mechanisms` (read at run time: a
    switch added to the model appears here); a field without a description gets "".
    """
    return {
        name: field.description or "" for name, field in Mechanisms.model_fields.items() if field.annotation is bool
    }


def default_channels() -> list[str]:
    """The switches that are channels unless ``--channels`` says otherwise: all but ``*_noise``."""
    return [name for name in mechanism_switches() if not name.endswith(NOISE_SUFFIX)]


def parse_channels(text: str | None) -> list[str] | None:
    """``"a,b"`` into ``["a", "b"]`` (None stays None: the default channels).

    Raises:
        ScenarioError: an unknown name (with the nearest known one and the allowed ones), a
            name given twice, or no name at all.
    """
    if text is None:
        return None
    names = [n.strip() for n in text.split(",")]
    known = list(mechanism_switches())
    allowed = f"a mechanism switch; allowed: {', '.join(known)} (comma-separated)"
    if not any(names) or not all(names):
        raise ScenarioError("--channels", "", text, f"one or more names, each {allowed}")
    for name in names:
        if name not in known:
            near = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ScenarioError("--channels", "", name, f"unknown channel{hint}; {allowed}")
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise ScenarioError("--channels", "", twice, "each channel once")
    return names


def resolve_channels(requested: list[str] | None, entries: list[tuple[str, Scenario]]) -> tuple[list[str], list[str]]:
    """The channels to switch off, and notes on the default ones left out.

    A channel must be on in both scenarios: switching off what is already off measures
    nothing. Named in ``--channels``, such a channel is refused; among the default channels
    it is left out and said so.

    Returns:
        ``(channels, notes)``.

    Raises:
        ScenarioError: a requested channel is off in a scenario, or no default channel is on
            in both.
    """
    notes = []
    chosen = []
    for name in requested if requested is not None else default_channels():
        off = [label for label, sc in entries if not getattr(sc.mechanisms, name)]
        if not off:
            chosen.append(name)
        elif requested is not None:
            raise ScenarioError(
                off[0],
                f"mechanisms.{name}",
                False,
                f"a channel switched on in both scenarios ({name} is already off in {off[0]}, so switching it "
                "off measures nothing); leave it out of --channels",
            )
        else:
            notes.append(f"channel {name} left out: already off in {', '.join(off)}")
    if not chosen:
        raise ScenarioError(
            "decompose",
            "mechanisms",
            default_channels(),
            "at least one mechanism switched on in both scenarios (name them with --channels)",
        )
    return chosen, notes


def check_month(month: int | None, steps: int) -> int:
    """The month to decompose (default: the horizon).

    Raises:
        ScenarioError: a month after the horizon.
    """
    if month is None:
        return steps
    if not 0 <= month <= steps:
        raise ScenarioError("--month", "", month, f"a month from 0 to the horizon, {steps} (--steps)")
    return month


def shapley_coalitions(
    channels: Sequence[str], permutations: int | None, seed: int
) -> tuple[list[frozenset[str]], np.ndarray]:
    r"""The coalitions (sets of channels on) the Shapley values need, and their weights.

    Args:
        channels: the :math:`n` channels.
        permutations: None for the exact values over all :math:`2^n` coalitions; else the
            number of random orders of the channels to average over (drawn from ``seed``).
        seed: the base seed.

    Returns:
        ``(coalitions, W)``: :math:`\phi = W v`, with ``v[j]`` the gap with only
        ``coalitions[j]`` on; ``W`` has shape ``(n, len(coalitions))`` and each row sums to 0.

    Raises:
        ScenarioError: exact values asked for more than :data:`EXACT_SHAPLEY_MAX` channels.
    """
    n = len(channels)
    index: dict[frozenset[str], int] = {}
    weights: dict[tuple[int, int], float] = {}

    def add(c: int, coalition: frozenset[str], w: float) -> None:
        j = index.setdefault(coalition, len(index))
        weights[c, j] = weights.get((c, j), 0.0) + w

    if permutations is None:
        if n > EXACT_SHAPLEY_MAX:
            raise ScenarioError(
                "--shapley",
                "",
                f"{n} channels",
                f"at most {EXACT_SHAPLEY_MAX} channels for the exact Shapley values (2^n coalitions, each run in both "
                "arms for every replication): choose fewer with --channels, or sample orders with "
                "--shapley-permutations N",
            )
        for c, name in enumerate(channels):
            others = [x for x in channels if x != name]
            for size in range(n):
                w = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
                for members in combinations(others, size):
                    add(c, frozenset(members) | {name}, w)
                    add(c, frozenset(members), -w)
    else:
        rng = np.random.default_rng([seed, PERMUTATION_STREAM])
        for _ in range(permutations):
            on: frozenset[str] = frozenset()
            for c in rng.permutation(n):
                add(int(c), on | {channels[c]}, 1.0 / permutations)
                add(int(c), on, -1.0 / permutations)
                on = on | {channels[c]}
    W = np.zeros((n, len(index)))
    for (c, j), w in weights.items():
        W[c, j] += w
    return list(index), W


def switched_off(scenario: Scenario, off: frozenset[str], label: str) -> Scenario:
    """``scenario`` with the mechanisms ``off`` switched off (validated again, like a file).

    Raises:
        ScenarioError: the scenario is not valid with those switches off.
    """
    if not off:
        return scenario
    data = scenario.model_dump(mode="json")
    data["mechanisms"] = {**data["mechanisms"], **dict.fromkeys(off, False)}
    return validate_scenario(data, f"{label} with {', '.join(sorted(off))} off")


def off_label(off: frozenset[str]) -> str:
    """How ``runs.csv`` names a variant: the channels off, joined by ``+`` ("none" for none)."""
    return "+".join(sorted(off)) or "none"


def variants_needed(channels: Sequence[str], coalitions: Sequence[frozenset[str]] = ()) -> list[frozenset[str]]:
    """The sets of channels to switch off: none, each one, all, and the complement of each coalition."""
    every = frozenset(channels)
    wanted = [frozenset(), *(frozenset({c}) for c in channels), every, *(every - s for s in coalitions)]
    return list(dict.fromkeys(wanted))


def run_variants(
    entries: list[tuple[str, Scenario]],
    variants: Sequence[frozenset[str]],
    replications: int,
    seed: int,
    steps: int | None,
    month: int,
    evaluator,
    progress: bool = True,
    posterior=None,
) -> pd.DataFrame:
    """Run both arms in every variant with common random numbers; the metrics at ``month``.

    Every run goes through :func:`~ci_sim.experiments.compare.run_comparison`, so
    replication ``i`` has the seed ``replication_seed(seed, i)`` in both arms and every
    variant, on any executor; with a ``posterior`` it also has the same draw of the calibrated
    parameters in both arms and every variant (so the shares carry parameter uncertainty and
    stay paired).

    Returns:
        One row per run: ``arm`` ("A" or "B"), ``scenario`` (its label), ``channels_off``
        (:func:`off_label`), ``replication``, ``seed``, ``step`` (= ``month``) and every metric,
        in (arm, variant, replication) order.
    """
    tasks, keys = [], {}
    for arm, (label, scenario) in zip("AB", entries, strict=True):
        for off in variants:
            key = f"{arm}: {label} | off: {off_label(off)}"
            keys[key] = (arm, label, off_label(off))
            tasks.append((key, switched_off(scenario, off, label)))
    _, series, _ = run_comparison(
        tasks, replications, seed, steps, evaluator, progress=progress, desc="decompose", posterior=posterior
    )
    at = series[series["step"] == month].reset_index(drop=True)
    parts = pd.DataFrame([keys[k] for k in at["scenario"]], columns=["arm", "scenario", "channels_off"])
    return pd.concat([parts, at.drop(columns="scenario")], axis=1)


def _gaps(runs: pd.DataFrame, metric: str, variants: Sequence[frozenset[str]]) -> np.ndarray:
    """The paired differences A - B of ``metric``: shape (variants, replications)."""
    table = runs.pivot_table(index=["channels_off", "replication"], columns="arm", values=metric, aggfunc="first")
    diff = table["A"] - table["B"]
    return np.vstack([diff.loc[off_label(off)].sort_index().to_numpy(float) for off in variants])


def _ci(boot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tails = [50 * (1 - CONFIDENCE), 50 * (1 + CONFIDENCE)]
    with np.errstate(invalid="ignore"):
        lo, hi = np.percentile(boot, tails, axis=-1)
    return lo, hi


def decomposition_table(
    runs: pd.DataFrame,
    metrics: Sequence[str],
    channels: Sequence[str],
    seed: int,
    shapley: tuple[list[frozenset[str]], np.ndarray] | None = None,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> pd.DataFrame:
    """The decomposition of each metric's gap (the rows of ``decomposition.csv``).

    Args:
        runs: the output of :func:`run_variants` (it must hold every variant of
            :func:`variants_needed` for ``channels`` and the Shapley coalitions).
        metrics: metric columns of ``runs``.
        channels: the channels, in the order of the rows.
        seed: the base seed; the bootstrap draws from ``default_rng([seed, BOOTSTRAP_STREAM])``.
        shapley: :func:`shapley_coalitions`' output, to add the Shapley rows.
        resamples: bootstrap resamples.

    Returns:
        Columns :data:`COLUMNS`. Per metric, rows with ``method`` "one_at_a_time": one per
        channel (``kind`` "channel"), the ``remainder`` (``1 - sum of shares``) and its two
        parts (``kind`` "remainder_part"): ``remainder_no_channel`` (gap with every channel off,
        over the gap) and ``remainder_interactions``; then, with ``shapley``, rows with
        ``method`` "shapley": one per channel and the remainder (the gap with every channel
        off, over the gap). Shares are fractions of the gap (1 = all of it). In each method
        the channel rows and the remainder add up to 1 (to rounding). Where the gap's 95% CI
        includes 0 every share is NaN and ``note`` says :data:`NOT_THERE`.
    """
    every = frozenset(channels)
    coalitions, W = shapley if shapley is not None else ([], None)
    variants = variants_needed(channels, coalitions)
    row_of = {off: j for j, off in enumerate(variants)}
    replications = int(runs["replication"].nunique())
    month = int(runs["step"].iloc[0])
    # one index matrix for every metric and variant: the replications are resampled jointly
    idx = np.random.default_rng([seed, BOOTSTRAP_STREAM]).integers(0, replications, size=(resamples, replications))
    one = [row_of[frozenset({c})] for c in channels]
    rows: list[dict[str, Any]] = []
    for metric in metrics:
        d = _gaps(runs, metric, variants)
        point, boot = d.mean(axis=1), d[:, idx].mean(axis=2)  # (variants,), (variants, resamples)
        gap, gap_b = point[0], boot[0]
        glo, ghi = _ci(gap_b)
        there = bool(np.isfinite(gap) and (glo > 0 or ghi < 0))
        base = {"metric": metric, "gap": gap, "gap_lo": glo, "gap_hi": ghi, "month": month, "n": replications}
        note = "" if there else NOT_THERE

        def share(num, num_b, _gap=gap, _gap_b=gap_b, _there=there):
            if not _there:
                return np.nan, np.nan, np.nan
            with np.errstate(divide="ignore", invalid="ignore"):
                lo, hi = _ci(num_b / _gap_b)
            return num / _gap, lo, hi

        shares_b = (gap_b - boot[one]) / gap_b if there else None
        total = 0.0
        for c, j in zip(channels, one, strict=True):
            wlo, whi = _ci(boot[j])
            s, slo, shi = share(gap - point[j], gap_b - boot[j])
            total += s if there else 0.0
            rows.append(
                base
                | {"channel": c, "gap_without": point[j], "gap_without_lo": wlo, "gap_without_hi": whi}
                | {"share": s, "share_lo": slo, "share_hi": shi, "contribution": gap - point[j]}
                | {"method": ONE_AT_A_TIME, "kind": "channel", "note": note}
            )
        k = row_of[every]
        alo, ahi = _ci(boot[k])
        if there:
            rest = 1.0 - total
            rest_lo, rest_hi = _ci(1.0 - shares_b.sum(axis=0))
            none, none_lo, none_hi = share(point[k], boot[k])
            inter = rest - none
            inter_lo, inter_hi = _ci(1.0 - shares_b.sum(axis=0) - boot[k] / gap_b)
        else:
            rest = rest_lo = rest_hi = none = none_lo = none_hi = inter = inter_lo = inter_hi = np.nan
        rows.append(
            base
            | {"channel": REMAINDER, "gap_without": np.nan, "share": rest, "share_lo": rest_lo, "share_hi": rest_hi}
            | {"contribution": rest * gap, "method": ONE_AT_A_TIME, "kind": "remainder"}
            | {"note": note or "1 - sum of the channels' shares: through no listed channel, plus interactions"}
        )
        rows.append(
            base
            | {"channel": NO_CHANNEL, "gap_without": point[k], "gap_without_lo": alo, "gap_without_hi": ahi}
            | {"share": none, "share_lo": none_lo, "share_hi": none_hi, "contribution": point[k]}
            | {"method": ONE_AT_A_TIME, "kind": "remainder_part"}
            | {"note": note or "the gap left with every listed channel off, over the gap"}
        )
        rows.append(
            base
            | {"channel": INTERACTIONS, "gap_without": np.nan, "share": inter, "share_lo": inter_lo}
            | {"share_hi": inter_hi, "contribution": inter * gap, "method": ONE_AT_A_TIME, "kind": "remainder_part"}
            | {"note": note or "the remainder minus the part through no channel"}
        )
        if shapley is not None:
            v = np.array([point[row_of[every - s]] for s in coalitions])
            v_b = np.vstack([boot[row_of[every - s]] for s in coalitions])
            phi, phi_b = W @ v, W @ v_b
            for c, name in enumerate(channels):
                s, slo, shi = share(phi[c], phi_b[c])
                rows.append(
                    base
                    | {"channel": name, "gap_without": np.nan, "share": s, "share_lo": slo, "share_hi": shi}
                    | {"contribution": phi[c], "method": SHAPLEY, "kind": "channel", "note": note}
                )
            s, slo, shi = share(point[k], boot[k])
            rows.append(
                base
                | {"channel": REMAINDER, "gap_without": point[k], "gap_without_lo": alo, "gap_without_hi": ahi}
                | {"share": s, "share_lo": slo, "share_hi": shi, "contribution": point[k], "method": SHAPLEY}
                | {"kind": "remainder", "note": note or "the gap left with every listed channel off, over the gap"}
            )
    return pd.DataFrame(rows).reindex(columns=COLUMNS)


# --------------------------------------------------------------------------- terminal


def _pct(x: float) -> str:
    if not np.isfinite(x):
        return "n/a"
    x = x * 100 + 0.0  # -0.0 + 0.0 is 0.0: no "-0%"
    return f"{x:.0f}%" if abs(x) >= 9.5 else f"{x:.1f}%".replace("-0.0%", "0.0%")


def _with_ci(x: float, lo: float, hi: float, fmt) -> str:
    if not np.isfinite(x):
        return "n/a"
    return f"{fmt(x)} [{fmt(lo)}, {fmt(hi)}]" if np.isfinite(lo) and np.isfinite(hi) else fmt(x)


_ROW_NAMES = {
    REMAINDER: "remainder (1 - sum)",
    NO_CHANNEL: "  through no channel",
    INTERACTIONS: "  interactions",
}


def format_decomposition(
    table: pd.DataFrame,
    labels: tuple[str, str],
    descriptions: dict[str, str] | None = None,
    notes: Sequence[str] = (),
) -> str:
    """The terminal table: per metric, the gap A - B and each channel's share with 95% CIs.

    Args:
        table: :func:`decomposition_table`'s output.
        labels: the two scenarios' labels (A, B).
        descriptions: channel descriptions for the legend (default: :func:`mechanism_switches`).
        notes: lines to state first (differences between the scenarios, channels left out).
    """
    from ci_sim.model.columns import metric_label, metric_unit

    descriptions = mechanism_switches() if descriptions is None else descriptions
    a, b = labels
    lines = [f"NOTE: {n}" for n in notes]
    if notes:
        lines.append("")
    for metric, part in table.groupby("metric", sort=False):
        first = part.iloc[0]
        lines.append(
            f"{metric_label(metric)} ({metric}; {metric_unit(metric)}) at month {int(first['month'])}, "
            f"{int(first['n'])} paired replications"
        )
        lines.append(f"  gap {a} - {b}: {_with_ci(first['gap'], first['gap_lo'], first['gap_hi'], _fmt)}")
        if isinstance(first["note"], str) and first["note"] == NOT_THERE:
            lines.append(f"  {NOT_THERE}")
            lines.append("")
            continue
        for method, rows in part.groupby("method", sort=False):
            cells = [
                (
                    _ROW_NAMES.get(r.channel, r.channel)
                    if method == ONE_AT_A_TIME
                    else (r.channel if r.kind == "channel" else "remainder (no channel)"),
                    _with_ci(r.gap_without, r.gap_without_lo, r.gap_without_hi, _fmt),
                    _with_ci(r.share, r.share_lo, r.share_hi, _pct),
                )
                for r in rows.itertuples()
            ]
            head = "channel off (one at a time)" if method == ONE_AT_A_TIME else "channel (Shapley value)"
            w0 = max(len(head), *(len(c[0]) for c in cells)) + 2
            w1 = max(len("gap without [95% CI]"), *(len(c[1]) for c in cells)) + 2
            lines.append(f"  {head:<{w0}}{'gap without [95% CI]':<{w1}}share of gap [95% CI]")
            lines += [f"  {c0:<{w0}}{c1 if c1 != 'n/a' else '':<{w1}}{c2}" for c0, c1, c2 in cells]
        lines.append("")
    used = [c for c in dict.fromkeys(table.loc[table["kind"] == "channel", "channel"])]
    lines.append("channels (mechanism switches, off in both arms):")
    lines += [f"  {c}: {descriptions.get(c) or '(no description)'}" for c in used]
    lines.append(
        "share: the part of the gap that goes when the channel alone is switched off, (gap - gap without) / gap;\n"
        "remainder = 1 - sum of shares = the gap left with every channel off (through no channel) + interactions.\n"
        "95% CIs: paired percentile bootstrap over replications (replication i has the same seed in both arms and\n"
        "every variant). A gap whose CI includes 0 is within its noise: its shares are n/a."
    )
    if (table["method"] == SHAPLEY).any():
        lines.append(
            "Shapley: each channel's mean contribution over the orders of switching channels on; remainder: the gap\n"
            "with every channel off, over the gap."
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- files


def write_decomposition(
    out,
    table: pd.DataFrame,
    runs: pd.DataFrame,
    entries: list[tuple[str, Scenario]],
    channels: Sequence[str],
    **fields: Any,
) -> None:
    """Write ``decomposition.csv``, ``runs.csv`` and ``manifest.json`` into ``out``.

    ``fields`` are added to the manifest (seed, replications, month, notes, timings...).
    """
    from ci_sim.runs.results import manifest, write_csv, write_json

    switches = mechanism_switches()
    write_csv(table, out / "decomposition.csv")
    write_csv(runs, out / "runs.csv")
    (label_a, a), (label_b, b) = entries
    write_json(
        manifest(
            scenario_a=label_a,
            scenario_b=label_b,
            scenarios={label: sc.model_dump(mode="json") for label, sc in entries},
            scenario_sha256={label: sc.sha256() for label, sc in entries},
            dropped_events={label: sc.dropped_events for label, sc in entries if sc.dropped_events},
            channels={c: switches.get(c, "") for c in channels},
            mechanism_switches=switches,
            runs=len(runs),
            bootstrap_resamples=BOOTSTRAP_RESAMPLES,
            bootstrap_seed=f"numpy default_rng([base_seed, {BOOTSTRAP_STREAM}])",
            **fields,
        ),
        out / "manifest.json",
    )
