"""The demo's HTML report: one self-contained file for trainers and community leaders.

Everything the page needs is inside it: the style sheet is inline and every image is a
base64 ``data:`` URI, so the file opens from a USB stick or an e-mail attachment with no
server and no network, and shows the same thing everywhere. It references nothing outside
itself (no links, scripts, fonts or images from elsewhere).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from ci_sim.experiments.compare import NEEDS_TWO
from ci_sim.runs.results import atomic_write
from ci_sim.viz import plots
from ci_sim.viz.indicators import FUNCTIONS
from ci_sim.viz.words import plain_description

CSS = """
:root { --ink: #1d2430; --muted: #5b6472; --line: #d9dde3; --soft: #f4f6f8; --accent: #0072B2; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
       font: 17px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 24px 60px; }
h1 { font-size: 2.0em; line-height: 1.2; margin: 0.2em 0 0.1em; }
h2 { font-size: 1.45em; margin: 1.8em 0 0.5em; padding-bottom: 0.2em; border-bottom: 2px solid var(--line); }
h3 { font-size: 1.15em; margin: 1.3em 0 0.4em; }
p.meta { color: var(--muted); margin-top: 0; }
.lead { font-size: 1.12em; }
.story p { max-width: 62em; }
.callout { background: var(--soft); border-left: 5px solid var(--accent); padding: 12px 18px; margin: 18px 0; }
figure { margin: 18px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { color: var(--muted); font-size: 0.92em; margin-top: 6px; max-width: 62em; }
.gifs figure img { width: 820px; }
td.unit { white-space: nowrap; }
table { border-collapse: collapse; width: 100%; margin: 12px 0 6px; font-size: 0.93em; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.num .ci { display: block; color: var(--muted); font-size: 0.85em; }
td.best { font-weight: 700; }
tr.fn td { background: #e8f1f8; font-weight: 700; border-top: 2px solid var(--accent); }
td.ind { color: var(--muted); font-style: italic; }
.small { font-size: 0.9em; color: var(--muted); }
code { background: var(--soft); padding: 1px 4px; border-radius: 3px; }
ul.scen li { margin-bottom: 6px; }
img.still { display: none; }
@media print {
  body { font-size: 12pt; }
  /* an animation prints as a still of its final month (a printer shows a GIF's first frame) */
  .gifs img.anim { display: none; }
  .gifs img.still { display: block; width: 100%; }
  /* no heading alone at a page foot; figures and table rows stay whole */
  h1, h2, h3 { break-after: avoid-page; page-break-after: avoid; }
  h2 + *, h3 + * { break-before: avoid-page; page-break-before: avoid; }
  .keep { break-inside: avoid-page; page-break-inside: avoid; }
  figure, tr { break-inside: avoid-page; page-break-inside: avoid; }
}
"""


# --------------------------------------------------------------------------- small helpers


def data_uri(path: Path) -> str:
    """The file as a ``data:`` URI (PNG, GIF, JPEG or SVG by extension)."""
    mime = {".png": "image/png", ".gif": "image/gif", ".jpg": "image/jpeg", ".svg": "image/svg+xml"}
    kind = mime.get(Path(path).suffix.lower())
    if kind is None:
        raise ValueError(f"{path}: cannot embed a {Path(path).suffix} file")
    return f"data:{kind};base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def digits_for(metric: str) -> int:
    """Decimals to show for a metric: hours and counts 1, shares and indices 2, outcome gains 3."""
    unit = plots.metric_unit(metric)
    if unit.startswith(("hours", "number", "$")):
        return 1
    return 3 if metric == "outcome_improvement" else 2


def fmt(value: float, digits: int, signed: bool = False) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    text = f"{value:+,.{digits}f}" if signed else f"{value:,.{digits}f}"
    return text.replace("-", "−")


def cell(mean: float, lo: float, hi: float, digits: int, signed: bool = False, best: bool = False) -> str:
    """A table cell: the mean, and its 95% CI underneath (or why there is none)."""
    cls = "num best" if best else "num"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return f'<td class="{cls}">{fmt(mean, digits, signed)}<span class="ci">[95% CI {NEEDS_TWO}]</span></td>'
    return (
        f'<td class="{cls}">{fmt(mean, digits, signed)}'
        f'<span class="ci">[{fmt(lo, digits, signed)}, {fmt(hi, digits, signed)}]</span></td>'
    )


def final_frame_uri(path: Path) -> str:
    """The last frame of a GIF as a PNG ``data:`` URI (the still a printed report shows)."""
    with Image.open(path) as gif:
        gif.seek(gif.n_frames - 1)
        out = io.BytesIO()
        gif.convert("RGB").save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def figure(path: Path, alt: str, caption: str) -> str:
    return f'<figure><img src="{data_uri(path)}" alt="{esc(alt)}"><figcaption>{caption}</figcaption></figure>'


# --------------------------------------------------------------------------- the story


def _get(compare: pd.DataFrame, scenario: str, metric: str) -> pd.Series | None:
    rows = compare[(compare["scenario"] == scenario) & (compare["metric"] == metric)]
    return None if rows.empty else rows.iloc[0]


def _clear(row: pd.Series, at_least: float = 0.0) -> bool:
    """The difference's 95% CI excludes zero and the difference is at least ``at_least`` in size.

    The second condition keeps differences that are certain but negligible (common random
    numbers make even a 0.001 difference "significant") out of the story and the bold type.
    """
    excludes_zero = row["diff_ci_low"] > 0 or row["diff_ci_high"] < 0
    return bool(excludes_zero and abs(row["diff"]) >= at_least)


def _points(x: float) -> str:
    """An outcome change on the 0–1 scale in percentage points (as the dashboard says it)."""
    return f"{100 * abs(x):.1f} percentage point{'s' if round(100 * abs(x), 1) != 1 else ''}"


_NUMBER_WORDS = "zero one two three four five six seven eight nine ten eleven twelve".split()


def _count(n: int, thing: str) -> str:
    """``3, "outcome"`` -> "three outcomes"."""
    word = _NUMBER_WORDS[n] if n < len(_NUMBER_WORDS) else str(n)
    return f"{word} {thing}{'s' if n != 1 else ''}"


def _humane(name: str) -> str:
    return name.replace("_", " ")


def outcomes_phrase(areas: Mapping[str, Sequence[str]] | None) -> str:
    """What the community works on, in words.

    "seven education outcomes, from kindergarten readiness to employment", or "five outcomes
    in three issue areas (education, health, housing)".
    """
    if not areas:
        return "its community outcomes"
    if len(areas) == 1:
        ((area, outcomes),) = areas.items()
        text = _count(len(outcomes), f"{_humane(area)} outcome")
        if len(outcomes) > 2:
            text += f", from {_humane(outcomes[0])} to {_humane(outcomes[-1])}"
        elif len(outcomes) == 2:
            text += f" ({_humane(outcomes[0])} and {_humane(outcomes[1])})"
        return text
    names = ", ".join(map(_humane, areas))
    return f"{_count(_n_outcomes(areas), 'outcome')} in {_count(len(areas), 'issue area')} ({names})"


def _n_outcomes(areas: Mapping[str, Sequence[str]]) -> int:
    return sum(len(o) for o in areas.values())


def _the_outcomes(info: Mapping) -> str:
    """The outcomes by number ("the seven outcomes"; "the outcomes" when not told which)."""
    areas = info.get("areas")
    return f"the {_count(_n_outcomes(areas), 'outcome')}" if areas else "the outcomes"


def story_paragraphs(compare: pd.DataFrame, info: Mapping) -> list[str]:
    """The plain-language story, written from the numbers (HTML paragraphs).

    Every claim is conditional on the results: a difference is called clear only when its
    95% confidence interval excludes zero.
    """
    titles = {n: d["title"] for n, d in info["scenarios"].items()}
    base = info["baseline"]
    years = info["steps"] / 12
    span = f"{years:.0f} years" if years >= 2 else f"{info['steps']} months"
    goal = esc(outcomes_phrase(info.get("areas")))
    paras = [
        f"A community of partner organizations (nonprofits, school districts, public agencies, funders, "
        f"businesses, colleges and community groups) works for {span} to improve {goal}. "
        f"A <b>backbone</b> organization supports them: it keeps the "
        f"common agenda in front of everyone, runs the shared data system, supports the working groups, "
        f"advocates for policy and brings in aligned funding. We simulated the same community "
        f"{info['replications']} times in each situation below, with the same random draws for each, so the "
        f"differences come from the situations and not from luck."
    ]
    b_out, b_al, b_tr = (_get(compare, base, m) for m in ("outcome_improvement", "alignment", "mean_trust"))
    if b_out is not None and b_al is not None and b_tr is not None:
        paras.append(
            f"<b>{esc(titles[base])}.</b> Partners' agendas converge: alignment reaches {b_al['mean']:.2f} "
            f"(0 means everyone pulls their own way, 1 one shared agenda), partners' trust in the backbone "
            f"reaches {b_tr['mean']:.2f}, and the outcomes improve by {_points(b_out['mean'])}."
        )
    for name, title in titles.items():
        if name == base:
            continue
        out = _get(compare, name, "outcome_improvement")
        if out is None or not np.isfinite(out["diff"]):
            continue
        sentences = [f"<b>{esc(title)}.</b> Outcomes improve by {_points(out['mean'])}"]
        if _clear(out, at_least=0.001):
            word = "less" if out["diff"] < 0 else "more"
            lo, hi = sorted((abs(out["diff_ci_low"]), abs(out["diff_ci_high"])))
            sentences[0] += (
                f", {_points(out['diff'])} {word} than with {esc(titles[base]).lower()} "
                f"(95% confidence interval: {100 * lo:.1f} to {_points(hi)} {word})."
            )
        else:
            sentences[0] += f", about the same as with {esc(titles[base]).lower()} (no clear difference)."
        details = []
        for metric, what in (
            ("alignment", "alignment"),
            ("mean_trust", "trust in the backbone"),
            ("engagement", "partners' engagement"),
            ("action_plan_quality", "the quality of the working groups' action plans"),
        ):
            row, row_b = _get(compare, name, metric), _get(compare, base, metric)
            if row is not None and row_b is not None and _clear(row, at_least=0.01):
                details.append(
                    f"{what} is {'lower' if row['diff'] < 0 else 'higher'} "
                    f"({row['mean']:.2f} instead of {row_b['mean']:.2f})"
                )
        camps = _get(compare, name, "factions")
        if camps is not None and camps["mean"] >= 1.5:
            details.append(f"partners split into about {camps['mean']:.0f} camps around rival tables")
        hours, hours_b = _get(compare, name, "meeting_hours"), _get(compare, base, "meeting_hours")
        if hours is not None and hours_b is not None and _clear(hours, at_least=0.5):
            details.append(
                f"each partner spends {hours['mean']:.1f} hours a month in meetings instead of {hours_b['mean']:.1f}"
            )
        if details:
            sentences.append("Here " + "; ".join(details) + ".")
        paras.append(" ".join(sentences))
    paras.append(
        "Nothing in the model penalizes the number of backbones directly. Whatever several backbones cost "
        "comes from mechanisms a user can switch off or vary: partners' attention split between tables, "
        "duplicated meetings, one funding pool split over several fixed overheads, rival agendas, separate data "
        "systems and contests for visibility. Conveners, by contrast, each lead the working group of one outcome, "
        "under one backbone."
    )
    return [f"<p>{p}</p>" for p in paras]


# --------------------------------------------------------------------------- tables


def comparison_tables(compare: pd.DataFrame, info: Mapping) -> str:
    """The comparison table (mean and 95% CI per scenario) and the differences to the baseline."""
    titles = {n: d["title"] for n, d in info["scenarios"].items()}
    names = [n for n in titles if n in set(compare["scenario"])]
    base = info["baseline"]
    metrics = list(dict.fromkeys(compare["metric"]))
    head = "".join(f"<th>{esc(titles[n])}</th>" for n in names)
    rows = []
    for m in metrics:
        d = digits_for(m)
        cells = []
        for n in names:
            r = _get(compare, n, m)
            cells.append(cell(r["mean"], r["ci_low"], r["ci_high"], d) if r is not None else "<td>–</td>")
        rows.append(
            f"<tr><td>{esc(plots.metric_label(m))}</td><td>{esc(plots.metric_unit(m))}</td>{''.join(cells)}</tr>"
        )
    means = (
        f"<table><thead><tr><th>Measure (final month)</th><th>Unit</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    others = [n for n in names if n != base]
    head = "".join(f"<th>{esc(titles[n])}</th>" for n in others)
    rows = []
    for m in metrics:
        d = digits_for(m)
        cells = []
        for n in others:
            r = _get(compare, n, m)
            if r is None or not np.isfinite(r["diff"]):
                cells.append("<td>–</td>")
                continue
            bold = _clear(r, at_least=0.5 * 10 ** (-d))  # certain and visible at the digits shown
            cells.append(cell(r["diff"], r["diff_ci_low"], r["diff_ci_high"], d, signed=True, best=bold))
        rows.append(
            f"<tr><td>{esc(plots.metric_label(m))}</td><td>{esc(plots.metric_unit(m))}</td>{''.join(cells)}</tr>"
        )
    diffs = (
        f"<h3>Differences to {esc(titles[base]).lower()}</h3>"
        f"<p class='small'>Paired by replication (the same random draws in every scenario). "
        f"<b>Bold</b>: the 95% confidence interval excludes zero, a clear difference.</p>"
        f"<table><thead><tr><th>Measure</th><th>Unit</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    return means + diffs


def indicator_section(indicators: pd.DataFrame, info: Mapping) -> str:
    """The six backbone functions, the slides' indicators and the simulated measures per scenario."""
    titles = {n: d["title"] for n, d in info["scenarios"].items()}
    names = [n for n in titles if n in set(indicators["scenario"])]
    head = "".join(f"<th>{esc(titles[n])}</th>" for n in names)
    rows = []
    for function, _ in FUNCTIONS:
        part = indicators[indicators["function"] == function]
        rows.append(f'<tr class="fn"><td colspan="{3 + len(names)}">{esc(function)}</td></tr>')
        for measure in dict.fromkeys(part["measure"]):
            mrows = part[part["measure"] == measure].set_index("scenario").reindex(names)
            first = mrows.iloc[0]
            digits = int(first["digits"])
            means = mrows["mean"].to_numpy(dtype=float)
            shown = np.round(means, digits)
            best = np.zeros(len(names), dtype=bool)
            if np.isfinite(shown).all() and np.ptp(shown) > 0:  # bold every mean tied for best as shown
                best = shown == (shown.max() if first["better"] == "higher" else shown.min())
            cells = "".join(
                cell(r["mean"], r["ci_low"], r["ci_high"], digits, best=bool(best[i]))
                for i, (_, r) in enumerate(mrows.iterrows())
            )
            arrow = "↑" if first["better"] == "higher" else "↓"
            rows.append(
                f'<tr><td class="ind">{esc(first["indicator"])}</td>'
                f"<td>{esc(measure)}</td><td class='unit'>{esc(first['unit'])} "
                f"<span title='better when {first['better']}'>{arrow}</span></td>{cells}</tr>"
            )
    return (
        "<table><thead><tr><th>Indicator (Collective Impact Forum)</th><th>Simulated measure</th><th>Unit</th>"
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


# --------------------------------------------------------------------------- the page


def build_report(
    info: Mapping,
    compare: pd.DataFrame,
    indicators: pd.DataFrame,
    figures: Mapping[str, Path],
    gifs: Mapping[str, tuple[Path, int]],
    versions: Mapping[str, str],
) -> str:
    """The report as one HTML string (see :func:`write_report` for the arguments)."""
    titles = {n: d["title"] for n, d in info["scenarios"].items()}
    years = info["steps"] / 12
    span = f"{years:.0f} years" if years >= 2 else f"{info['steps']} months"
    scen = "".join(
        f"<li><b>{esc(d['title'])}</b>: {esc(plain_description(d['description']))}</li>"
        for n, d in info["scenarios"].items()
    )
    gif_html = "".join(
        f'<figure><img class="anim" src="{data_uri(path)}" alt="Animated partner network: {esc(titles.get(n, n))}">'
        f'<img class="still" src="{final_frame_uri(path)}" alt="Partner network in the final month: '
        f'{esc(titles.get(n, n))}">'
        f"<figcaption><b>{esc(titles.get(n, n))}</b>: replication {rep} (the one closest to the median "
        f"outcome improvement), one frame every {info['frame_every']} months (printed: the final month)."
        "</figcaption></figure>"
        for n, (path, rep) in gifs.items()
    )
    fig_ts = figure(
        figures["timeseries"],
        "Alignment, trust and outcome improvement over time, per situation",
        "Lines are the mean over the simulations, shaded bands the 95% confidence interval of that mean. "
        "Alignment: how close partners' agendas are to their common agenda (0–1). Trust: partners' trust in "
        "the backbone they follow (0–1). Outcome improvement: the average gain of "
        f"{_the_outcomes(info)} since the start, in percentage points (from 0.40 to 0.50 is 10 percentage points).",
    )
    fig_hours = figure(
        figures["hours"],
        "Hours per partner per month by activity and situation",
        "Hours per partner per month in the final month (mean over simulations). Every hour in meetings, "
        "reporting to data systems or fundraising is an hour not spent on programs.",
    )
    fig_diff = figure(
        figures["differences"],
        "Differences to the baseline with 95% confidence intervals",
        "The same differences as a picture: a dot right of the line means higher than with "
        + esc(titles[info["baseline"]]).lower()
        + ".",
    )
    version_text = ", ".join(f"{esc(k)} {esc(v)}" for k, v in versions.items())
    body = f"""
<header>
<h1>One backbone or nine? A simulated collective-impact partnership</h1>
<p class="meta">ci-sim training demo · {info["replications"]} simulations per situation · {esc(span)} ·
generated {esc(info["started"][:16].replace("T", " "))} UTC</p>
</header>

<section class="story">
<h2>The story in plain language</h2>
{"".join(story_paragraphs(compare, info))}
<div class="callout">This is a simulation, not a forecast: the community, its organizations and the size of
every effect are stylized. It shows how the mechanisms the practitioners describe play out together, so that a
group can discuss them; its numbers are not predictions for any real community.</div>
<h3>The situations compared</h3>
<ul class="scen">{scen}</ul>
</section>

<section>
<div class="keep"><h2>What happens over {esc(span)}</h2>
{fig_ts}</div>
</section>

<section>
<h2>Watching the partnership</h2>
<p>Each dot is a partner organization, coloured by the backbone it mostly follows and sized by its engagement;
grey lines are the ties between partners. Squares are backbones, each at a fixed place (faded: a backbone nobody
follows); diamonds under the network are conveners, one per outcome, sized by the quality of their action plan.
Partners gather around the backbone they follow, so rival camps show as separate clusters, and a partner that
changes allegiance walks from one camp to another. A shaded circle marks a <b>camp</b> that counts as a faction:
the first choice of at least 10% of the partners.</p>
<div class="gifs">{gif_html}</div>
</section>

<section>
<div class="keep"><h2>Where a partner's month goes</h2>
{fig_hours}</div>
</section>

<section>
<h2>The numbers, with 95% confidence intervals</h2>
<p class="small">Values in the final month: the mean over {info["replications"]} simulations, and underneath
in brackets its 95% confidence interval (Student's t). The interval says how precisely the simulations pin
down the average; it is not the range of possible communities.</p>
{comparison_tables(compare, info)}
{fig_diff}
</section>

<section>
<h2>Backbone effectiveness indicators</h2>
<p>The Collective Impact Forum's slides <i>Navigating the Backbone Role</i> (2019) list illustrative
effectiveness indicators for each of the backbone's six functions. The simulation does not survey partners,
but several of its measures correspond to those indicators; here they are, per function and situation (final
month, mean and 95% confidence interval; ↑ or ↓: which direction is better; <b>bold</b>: the best mean).
"Backbone staff time" rows show the effort that reaches each function after overheads and visibility work,
all backbones together.</p>
{indicator_section(indicators, info)}
<p class="small">Not modelled: residents and community members themselves (partner engagement stands in for
"community members increasingly take action"), and policymakers (the model measures the coherent advocacy
they receive, not the policies they adopt). Rows in parentheses add context: the change since the start, or
the backbone effort that reaches the function.</p>
</section>

<section>
<h2>How this was made</h2>
<p class="small">Made with <code>ci-sim demo</code> (an agent-based model built on Mesa):
{info["replications"]} replications of each scenario over {info["steps"]} months, base seed
{info["base_seed"]}; replication <i>i</i> uses the same seed in every scenario. Versions: {version_text}.
The data behind this page are in the same folder: <code>compare.csv</code>, <code>indicators.csv</code>,
<code>summary.csv</code>, <code>timeseries.parquet</code> and <code>manifest.json</code>. Sources: StriveTogether,
"backbone vs convener"; Collective Impact Forum, "Navigating the Backbone Role"; "Backbone of what? And who
says?" (see the project's source texts).</p>
</section>
"""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>ci-sim demo: one backbone or nine?</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n<main>{body}</main>\n</body>\n</html>\n"
    )


def write_report(
    path: Path,
    info: Mapping,
    compare: pd.DataFrame,
    indicators: pd.DataFrame,
    figures: Mapping[str, Path],
    gifs: Mapping[str, tuple[Path, int]],
    versions: Mapping[str, str],
) -> Path:
    """Write the self-contained HTML report.

    Args:
        path: the HTML file to write (atomically).
        info: ``scenarios`` ({name: {title, description}}), ``baseline``, ``replications``,
            ``steps``, ``base_seed``, ``started`` (ISO time), ``frame_every``.
        compare: the comparison table (columns of ``ci-sim compare``).
        indicators: from :func:`ci_sim.viz.demo.indicator_table`.
        figures: PNG paths by role: ``timeseries``, ``hours``, ``differences``.
        gifs: per scenario, the GIF path and the replication it shows.
        versions: package versions for the footer.

    Returns:
        ``path``.
    """
    text = build_report(info, compare, indicators, figures, gifs, versions)
    atomic_write(Path(path), lambda p: p.write_text(text, encoding="utf-8"))
    return Path(path)
