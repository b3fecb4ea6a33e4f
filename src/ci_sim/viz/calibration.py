"""Diagnostics figures of a calibration (ABC-SMC): marginals, pairs, posterior predictive, thresholds.

- ``marginals.png``: each parameter's weighted posterior density (pyabc's KDE) over its
  prior range (the prior, uniform, is the flat line);
- ``pairs.png``: pyabc's KDE matrix of the last generation (densities, pairs, scatter);
- ``predictive.png``: per target, the posterior-predictive distribution of the simulated
  statistic against the observed value and its 95% interval (observed ± 1.96 standard errors);
- ``epsilons.png``: the acceptance threshold and acceptance rate per generation.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def plot_calibration(cal, post: pd.DataFrame, pred: pd.DataFrame, gens: pd.DataFrame, folder: Path) -> list[Path]:
    """Write the four figures (PNG) into ``folder``; return their paths."""
    import pyabc.visualization as pv

    folder.mkdir(parents=True, exist_ok=True)
    priors = cal.spec.priors
    df = pd.DataFrame({p.label: post[p.path] for p in priors})
    w = post["weight"].to_numpy()
    limits = {p.label: tuple(p.range) for p in priors}
    paths = []

    fig, axes = plt.subplots(1, len(priors), figsize=(3.6 * len(priors), 3.0), squeeze=False)
    for ax, p in zip(axes[0], priors, strict=True):
        pv.plot_kde_1d(df, w, x=p.label, xmin=p.range[0], xmax=p.range[1], ax=ax, label="posterior")
        if p.distribution == "uniform":
            ax.axhline(1 / (p.range[1] - p.range[0]), color="grey", ls="--", lw=1, label="prior (uniform)")
        ax.set_title(p.path, fontsize=8)
        ax.set_xlabel(p.label)
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"{cal.spec.name}: posterior marginals (last generation, weighted)")
    fig.tight_layout()
    paths.append(_save(fig, folder / "marginals.png"))

    if len(priors) > 1:
        grid = pv.plot_kde_matrix(df, w, limits=limits)
        fig = grid.flat[0].figure if hasattr(grid, "flat") else plt.gcf()
        fig.suptitle(f"{cal.spec.name}: posterior pairs", y=1.02)
        paths.append(_save(fig, folder / "pairs.png"))

    keys = cal.target_keys()
    if not pred.empty:
        fig, axes = plt.subplots(1, len(keys), figsize=(3.6 * len(keys), 3.0), squeeze=False)
        for ax, (key, t, _) in zip(axes[0], keys, strict=True):
            ax.hist(pred[key], bins=20, color="#4c72b0", alpha=0.8, label="posterior predictive")
            ax.axvline(t.observed, color="black", lw=2, label="observed")
            ax.axvspan(t.observed - 1.96 * t.error, t.observed + 1.96 * t.error, color="black", alpha=0.12)
            ax.set_title(f"{key}: {t.metric} ({t.kind})", fontsize=8)
        axes[0][0].legend(fontsize=7)
        fig.suptitle(f"{cal.spec.name}: posterior predictive against each target (band: observed ± 1.96 s.e.)")
        fig.tight_layout()
        paths.append(_save(fig, folder / "predictive.png"))

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot(gens["generation"], gens["epsilon"], "o-", label="threshold ε")
    ax.set_xlabel("generation")
    ax.set_ylabel("ε (standardized distance)")
    ax2 = ax.twinx()
    ax2.plot(gens["generation"], gens["acceptance_rate"], "s--", color="grey", label="acceptance rate")
    ax2.set_ylabel("acceptance rate")
    fig.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    paths.append(_save(fig, folder / "epsilons.png"))
    return paths


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
