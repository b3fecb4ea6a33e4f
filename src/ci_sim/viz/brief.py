"""The one-page brief of ``ci-sim advise``: HTML, and PDF (A4 and Letter) rendered with WeasyPrint.

Page 1 is the brief for a board, in plain language: the recommended strategy and the runner-up
(or "too close to call"), what changes after 5 and 10 years in leaders' units with 95% ranges,
who keeps the backbone role and what the other claimants do, what the model cannot know, and the
assumptions read from the roster. Later pages hold the full tables. The PDF needs the optional
dependency ``weasyprint`` (``pip install ci-sim[leaders]``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

#: page sizes of the PDF files: file suffix -> CSS page size
PAGE_SIZES = {"a4": "A4", "letter": "letter"}
#: the heading that opens the full tables (page 2 onwards)
TABLES_HEADING = "Full tables"


@dataclass
class BriefContent:
    """What the brief says; every text is already in the community's words (names anonymized if asked)."""

    title: str
    metric: str
    metric_label: str
    ranking: pd.DataFrame  # advise.rank
    recommended_changes: pd.DataFrame  # advise.changes for the recommended strategy
    runner_up_changes: pd.DataFrame | None
    baseline: str
    role_lines: list[str]
    assumptions: list[str]
    posterior: str | None
    replications: int
    steps: int
    strategy_notes: dict[str, str] = field(default_factory=dict)
    compare_table: pd.DataFrame | None = None
    reasons: list[str] = field(default_factory=list)  # the main reasons (advise.reason_lines), if decomposed
    scope: str = ""  # where the strategies apply (e.g. every contested area at once), said under the changes
    assumptions_short: list[str] | None = None  # a shorter list for page 1 when the whole one does not fit


def _e(text: object) -> str:
    return html.escape(str(text))


def _num(x: float, digits: int = 1) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:+.{digits}f}"


def _range(low: float, high: float, digits: int = 1) -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return "range n/a (needs 2 or more runs)"
    return f"{low:+.{digits}f} to {high:+.{digits}f}"


def _when(month: int) -> str:
    return f"after {month // 12} years" if month % 12 == 0 else f"after {month} months"


def _changes_table(blocks: list[tuple[str, pd.DataFrame]]) -> str:
    """One compact table: per strategy and measure, the change after each checkpoint with its 95% range."""
    months = sorted(blocks[0][1]["month"].unique())
    head = "<th>change against keeping things as they are</th>" + "".join(f"<th>{_e(_when(m))}</th>" for m in months)
    rows = []
    for strategy, frame in blocks:
        rows.append(f"<tr><th colspan='{1 + len(months)}'>{_e(strategy)}</th></tr>")
        for measure, part in frame.groupby("measure", sort=False):
            unit = "points" if part.diff_unit.iloc[0] == "percentage points" else "h a month per partner"
            cells = "".join(
                f"<td>{_num(r.diff)} ({_range(r.low, r.high)})</td>" for r in part.sort_values("month").itertuples()
            )
            rows.append(f"<tr><td>{_e(measure)}, {unit}</td>{cells}</tr>")
    return f"<table class='changes'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _headline(c: BriefContent) -> str:
    return headline(c.ranking, c.metric, c.metric_label, c.steps)


def _names(names: list[str]) -> str:
    """Strategy names in a sentence, each in quotes (a name may hold a comma): “A”, “B” and “C”."""
    from ci_sim.experiments.advise import and_join

    return and_join([f"“{n}”" for n in names])


def headline(ranking: pd.DataFrame, metric: str, label: str, steps: int) -> str:
    """The brief's lead paragraph (HTML): the recommendation, the runner-up, and what is too close to call.

    Strategies with exactly the recommended one's mean are said to be tied with it (the order among
    them is the file's, not a finding); strategy names in a list are quoted.

    Args:
        ranking: :func:`~ci_sim.experiments.advise.rank`'s table, best first.
        metric: the ranking metric's column name.
        label: its words (``metric_label``).
        steps: the horizon in months.
    """
    r = ranking
    best = r.iloc[0]
    tied = r.strategy[(r["mean"] == best["mean"]) & (r.index != r.index[0])].tolist()
    horizon = f"{steps // 12 if steps % 12 == 0 else steps} {'years' if steps % 12 == 0 else 'months'}"
    if is_share(metric):
        value = f"{best['mean'] * 100:.0f}% (95% range {best.ci_low * 100:.0f}–{best.ci_high * 100:.0f}%)"
        what = f"expected share of {_e(label.lower())} after {horizon}"
    else:
        value = f"{best['mean']:.3g} ({best.ci_low:.3g}–{best.ci_high:.3g})"
        what = f"expected {_e(label.lower())} at the horizon"
    if tied:
        text = (
            f"<p class='lead'><b>Recommended: {_e(best.strategy)}, tied with {_e(_names(tied))}.</b> They give the "
            f"same {what}: {value}; the model cannot choose between them."
        )
    else:
        text = f"<p class='lead'><b>Recommended: {_e(best.strategy)}.</b> It gives the highest {what}: {value}."
    rest = r[~r.strategy.isin([best.strategy, *tied])]
    if rest.empty:
        return text + "</p>"
    second = rest.iloc[0]
    close = rest[rest.verdict == "too close to call"].strategy.tolist()
    text += f" <b>Runner-up: {_e(second.strategy)}</b>"
    if close:
        which = ", too close to call" if close == [second.strategy] else f". Too close to call: {_e(_names(close))}"
        text += (
            f"{which} against the recommendation (the 95% range of the paired difference includes zero, so the "
            "model cannot tell them apart).</p>"
        )
    else:
        text += ", clearly behind (the 95% range of the paired difference excludes zero).</p>"
    return text


def is_share(metric: str) -> bool:
    """Whether ``metric`` is a share (0–1), said in percent."""
    return metric in {"indicators_improving", "proof_point"} or metric.endswith("_share")


def _table(frame: pd.DataFrame, floats: str = "{:.3g}") -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, float):
                v = floats.format(v) if np.isfinite(v) else "–"
            cells.append(f"<td>{_e(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


CSS = """
@page { size: PAGE_SIZE; margin: 11mm 13mm; }
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; font-size: 8.8pt; line-height: 1.25; color: #111; }
h1 { font-size: 15pt; margin: 0 0 3pt 0; } h2 { font-size: 10.5pt; margin: 7pt 0 2pt 0; }
p, ul { margin: 2pt 0; } ul { padding-left: 14pt; } li { margin: 1pt 0; }
.lead { font-size: 10.5pt; } .small { font-size: 8pt; color: #333; }
.tables { break-before: page; page-break-before: always; }
table { border-collapse: collapse; margin: 4pt 0 8pt 0; font-size: 7.8pt; }
th, td { border: 0.5pt solid #999; padding: 1.5pt 4pt; text-align: left; }
table.changes { font-size: 8.4pt; margin: 2pt 0; width: 100%; }
table.changes th[colspan] { background: #eee; }
"""


#: how page 1 is made to fit one page, tried in turn (:func:`fit_level`): 0 as written; 1 the short
#: list of assumptions (the whole one moves to the full tables); 2 also a smaller type; 3 also without
#: the runner-up's changes (they stay in the full tables)
FIT_LEVELS = 4


def brief_html(c: BriefContent, size: str = "A4", level: int = 0, with_tables: bool = True) -> str:
    """The brief as one HTML document (page 1 the brief; the full tables after a page break).

    Args:
        c: what the brief says.
        size: the CSS page size (``A4``, ``letter``).
        level: how much page 1 gives up to fit one page (:data:`FIT_LEVELS`); 0: nothing.
        with_tables: False for page 1 alone (to measure it).
    """
    short = level >= 1 and c.assumptions_short is not None
    steps_words = f"{c.steps // 12} years" if c.steps % 12 == 0 else f"{c.steps} months"
    parts = [
        f"<h1>{_e(c.title)}</h1>",
        _headline(c),
        "<h2>What changes</h2>",
        _changes_table(
            [(c.ranking.iloc[0].strategy, c.recommended_changes)]
            + (
                [(c.ranking.iloc[1].strategy, c.runner_up_changes)]
                if c.runner_up_changes is not None and level < 3
                else []
            )
        ),
        f"<p class='small'>Differences to &ldquo;{_e(c.baseline)}&rdquo; in the same runs (paired), 95% ranges "
        f"in brackets.{' ' + _e(c.scope) if c.scope else ''}</p>",
    ]
    if c.reasons:
        parts += [
            f"<h2>Main reasons</h2><p>Of the gain in population outcomes over &ldquo;{_e(c.baseline)}&rdquo; "
            "(the model's decomposition: each mechanism switched off in turn):</p><ul>",
            *(f"<li>{_e(x)}</li>" for x in c.reasons),
            "</ul>",
        ]
    parts += ["<h2>Who keeps the backbone role</h2><ul>", *(f"<li>{_e(x)}</li>" for x in c.role_lines), "</ul>"]
    uncertainty = (
        f"each of the {c.replications} runs per strategy draws the model's calibrated parameters from the "
        f"posterior {_e(c.posterior)} and its own chance events, the same in every strategy"
        if c.posterior
        else f"each of the {c.replications} runs per strategy has its own chance events, the same in every strategy"
    )
    parts += [
        "<h2>What the model cannot know</h2>",
        "<p><b>This is not a forecast.</b> It compares strategies in a simulated partnership built from your "
        f"roster over {steps_words}; {uncertainty}. Ranges are 95% intervals over those runs. The model does not "
        "know your people, history or politics, nor events to come; use it to weigh strategies, not to predict "
        "numbers.</p>",
        "<h2>Assumptions read from the roster</h2><ul>",
        *(f"<li>{_e(x)}</li>" for x in (c.assumptions_short if short else c.assumptions)),
        "</ul>",
    ]
    if not with_tables:
        return _document(c, size, level, parts)
    tables = [
        f"<section class='tables'><h1>{TABLES_HEADING}</h1>",
        f"<h2>Ranking by {_e(c.metric_label.lower())} at the horizon</h2>",
        "<p class='small'>mean and 95% CI over runs; difference to the recommended strategy, paired, with its "
        "bootstrap 95% CI; too close to call when that interval includes zero.</p>",
        _table(c.ranking),
        "<h2>Changes against keeping things as they are</h2>",
        _table(c.recommended_changes.assign(strategy=c.ranking.iloc[0].strategy), "{:.2f}"),
    ]
    if c.runner_up_changes is not None:
        tables.append(_table(c.runner_up_changes.assign(strategy=c.ranking.iloc[1].strategy), "{:.2f}"))
    if short:
        tables += [
            "<h2>Assumptions read from the roster, in full</h2><ul>",
            *(f"<li>{_e(x)}</li>" for x in c.assumptions),
            "</ul>",
        ]
    if c.strategy_notes:
        tables += [
            "<h2>The strategies</h2><ul>",
            *(f"<li><b>{_e(k)}</b>: {_e(v)}</li>" for k, v in c.strategy_notes.items()),
            "</ul>",
        ]
    if c.compare_table is not None:
        from ci_sim.model.columns import metric_unit

        cols = ["scenario", "metric", "unit", "mean", "ci_low", "ci_high", "diff", "diff_ci_low", "diff_ci_high"]
        tables += [
            f"<h2>All metrics against &ldquo;{_e(c.baseline)}&rdquo; (compare.csv)</h2>",
            "<p class='small'>The model's own measures, in the units given (fundraising time here is the hours of "
            "all partners together; page 1 gives it per partner).</p>",
            _table(c.compare_table.assign(unit=c.compare_table.metric.map(metric_unit))[cols]),
        ]
    tables.append("</section>")
    return _document(c, size, level, parts + tables)


def _document(c: BriefContent, size: str, level: int, parts: list[str]) -> str:
    css = CSS.replace("PAGE_SIZE", size)
    if level >= 2:  # a smaller type for page 1's text
        css += "body { font-size: 8.2pt; line-height: 1.18; } .lead { font-size: 9.6pt; } h2 { margin: 5pt 0 1pt 0; }"
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(c.title)}</title><style>{css}</style></head><body>" + "".join(parts) + "</body></html>"
    )


def fit_level(c: BriefContent, size: str) -> int:
    """The first level of :data:`FIT_LEVELS` at which page 1 fits one page of ``size`` (the last if none does)."""
    import weasyprint

    for level in range(FIT_LEVELS):
        if len(weasyprint.HTML(string=brief_html(c, size, level, with_tables=False)).render().pages) == 1:
            return level
    return FIT_LEVELS - 1


def pdf_problem() -> str | None:
    """Why the PDF cannot be made here (WeasyPrint or the system's Pango missing), or None."""
    try:
        import weasyprint  # noqa: F401 - imported to see that it loads, with its system libraries
    except (ImportError, OSError) as exc:
        return (
            f"the brief's PDF needs WeasyPrint and the system's Pango ({exc}); install them: "
            "pip install 'ci-sim[leaders]' (Debian/Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0)"
        )
    return None


def write_brief(c: BriefContent, folder: Path) -> list[Path]:
    """Write ``brief.html``, ``brief_a4.pdf`` and ``brief_letter.pdf`` into ``folder``.

    Page 1 of each is fitted to one page (:func:`fit_level`); the HTML takes the A4 fit.

    Raises:
        ImportError: WeasyPrint is not installed (``pip install ci-sim[leaders]``).
    """
    import weasyprint

    from ci_sim.runs.results import atomic_write

    written = []
    levels = {size: fit_level(c, size) for size in PAGE_SIZES.values()}
    text = brief_html(c, "A4", levels["A4"])
    atomic_write(folder / "brief.html", lambda p: p.write_text(text, encoding="utf-8"))
    written.append(folder / "brief.html")
    for suffix, size in PAGE_SIZES.items():
        doc = weasyprint.HTML(string=brief_html(c, size, levels[size]))
        path = folder / f"brief_{suffix}.pdf"
        atomic_write(path, lambda p, doc=doc: doc.write_pdf(p))
        written.append(path)
    return written
