"""What every mechanism shares: the compiler switch and the model's two small functions.

- :func:`jit`: ``numba.njit(cache=True)``. Kernels compile once per machine and load from
  numba's on-disk cache afterwards (``NUMBA_CACHE_DIR`` chooses where; see the README). With
  ``NUMBA_DISABLE_JIT=1`` the same functions run as plain Python, for debugging.
- :func:`sat`: diminishing returns, ``sat(x, h) = x / (x + h)`` (docs/ODD.md §4, "saturation").
- :func:`tv`: total-variation distance between two agendas, ``TV(a, b) = ½ Σ_k |a_k − b_k|``
  (docs/ODD.md §2.2), the model's one distance between points of the simplex.
- :func:`tv_area`: the same distance between two agendas restricted to one area's outcomes and
  renormalized, ``TV(a|a', b|a')``: how partners active in two areas are compared within one
  (docs/ODD.md §2.2, "agenda in an area").
- :func:`power`: ``x ** β`` for attention.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

import numba
import numpy as np

_told_no_cache = False
#: LLVM fast-math flags of every kernel: reassociation and contraction only (see :func:`jit`)
FASTMATH = {"reassoc", "contract"}


def kernel_cache_dir() -> str:
    """Where the compiled kernels are cached: ``$NUMBA_CACHE_DIR`` (default ``~/.cache/ci-sim/numba``)/``<hash>``.

    The sub-folder is named by a hash of the model's sources and numba's version: numba checks
    only the file of the function it loads, not the files of the functions it calls, so a
    changed mechanism would otherwise run stale inside a cached schedule. Processes sharing
    a ``NUMBA_CACHE_DIR`` (a cluster's shared file system) share kernels of the same code only.
    """
    base = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "ci-sim", "numba"
    )
    digest = hashlib.sha256(f"numba {numba.__version__}".encode())
    model = Path(__file__).resolve().parents[1]
    for path in sorted(model.rglob("*.py")):
        digest.update(path.relative_to(model).as_posix().encode() + b"\0" + path.read_bytes())
    return os.path.join(base, digest.hexdigest()[:16])


def _writable(folder: str) -> bool:
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


numba.config.CACHE_DIR = kernel_cache_dir()
#: whether kernels are cached on disk (else every process compiles them in memory)
CACHED = _writable(numba.config.CACHE_DIR)
if CACHED and not any(Path(numba.config.CACHE_DIR).rglob("*.nbi")):  # nothing compiled yet: say why we wait
    print(
        f"ci-sim: compiling the model's kernels into {numba.config.CACHE_DIR} (once for this version of the "
        "model, about a minute; `python -m ci_sim.model.warm` does it ahead)",
        file=sys.stderr,
        flush=True,
    )


def jit(func):
    """Compile ``func`` with numba in nopython mode, cached on disk (``NUMBA_DISABLE_JIT=1``: plain Python).

    ``fastmath`` allows only reassociation and fused multiply-add (no assumptions about NaN or
    infinity), so that the compiler can vectorize the short sums over outcomes and backbones:
    measured, a 2,000-partner ten-year run took 0.19 s against 0.20 s, and results moved from
    the strict evaluation order by at most 4e-14 (relative, every output column, ten years).

    Where the cache folder (:func:`kernel_cache_dir`) cannot be written, the kernels compile
    in memory in every process instead (numba would otherwise fall back to a cache beside the
    sources, which does not notice a change in a called mechanism), and a warning says so once
    per process.
    """
    global _told_no_cache
    if CACHED:
        return numba.njit(cache=True, fastmath=FASTMATH)(func)
    if not _told_no_cache:  # once per process (each worker of a sweep compiles, and says so, too)
        _told_no_cache = True
        print(
            f"ci-sim: warning: cannot write the kernel cache in {numba.config.CACHE_DIR}; compiling in memory, "
            "which costs every new process most of a minute (set NUMBA_CACHE_DIR to a writable folder)",
            file=sys.stderr,
            flush=True,
        )
    return numba.njit(fastmath=FASTMATH)(func)


@jit
def sat(x: float, half: float) -> float:
    """Diminishing returns ``x / (x + half)``: 0 at 0, ½ at ``half``, toward 1 (``x, half >= 0``, ``half > 0``)."""
    return x / (x + half)


@jit
def tv(a: np.ndarray, b: np.ndarray) -> float:
    """Total-variation distance ``½ Σ_k |a_k − b_k|`` of two agendas (length-K rows); in [0, 1] on the simplex."""
    d = 0.0
    for k in range(a.shape[0]):
        d += abs(a[k] - b[k])
    return 0.5 * d


@jit
def in_area(S, i: int, area: int) -> bool:
    """Whether partner ``i`` is active in ``area``: its home area ``a(i)`` or its second area ``a2(i)``."""
    return S.partner_area[i] == area or S.partner_area2[i] == area


@jit
def partner_mean(S, i: int, per_area: np.ndarray) -> float:
    """A per-area quantity ``per_area`` [A] as partner ``i`` sees it: ``x_a(i)``, or ``(1 - w_i) x_a(i) + w_i x_a2(i)``.

    The second form is for a partner active in two areas (w_i: ``second_weight``, the share of
    its capacity in its second area).
    """
    a2 = S.partner_area2[i]
    if a2 < 0:
        return per_area[S.partner_area[i]]
    w = S.second_weight[i]
    return (1.0 - w) * per_area[S.partner_area[i]] + w * per_area[a2]


@jit
def area_mass(x: np.ndarray, outcome_area: np.ndarray, area: int) -> float:
    """``sum_{k in area} x_k``: the part of agenda ``x`` (length K) on the outcomes of ``area``."""
    m = 0.0
    for k in range(x.shape[0]):
        if outcome_area[k] == area:
            m += x[k]
    return m


@jit
def tv_area(a: np.ndarray, b: np.ndarray, outcome_area: np.ndarray, area: int) -> float:
    """``TV(a|area, b|area)``: :func:`tv` of the two agendas restricted to ``area``'s outcomes, each renormalized.

    ``x|area = x_k / sum_{k' in area} x_k'`` on the outcomes k of ``area`` (an agenda with no mass
    there counts as uniform over them). For agendas that lie on ``area`` alone it equals
    :func:`tv` up to rounding; the kernels call :func:`tv` for those, so one-area partners are
    computed exactly as before (docs/ODD.md §2.2).
    """
    ma, mb = area_mass(a, outcome_area, area), area_mass(b, outcome_area, area)
    n = 0.0
    for k in range(a.shape[0]):
        n += outcome_area[k] == area
    d = 0.0
    for k in range(a.shape[0]):
        if outcome_area[k] == area:
            xa = a[k] / ma if ma > 0 else 1.0 / n
            xb = b[k] / mb if mb > 0 else 1.0 / n
            d += abs(xa - xb)
    return 0.5 * d


@jit
def power(x: float, beta: float, whole: bool) -> float:
    """``x ** beta``; by repeated squaring when ``whole`` (``beta`` a whole number in [0, 64]).

    Attention raises every trust value to ``attention_beta`` (default 4) each month; measured
    at 150 partners and nine backbones, ``pow`` per element took about 20 ns against 2 ns for
    the two multiplications of squaring, a quarter of the attention kernel. The caller decides
    ``whole`` once per month, not once per element.
    """
    if not whole:
        return x**beta
    n = int(beta)
    result = 1.0
    base = x
    while n:
        if n & 1:
            result *= base
        n >>= 1
        if n:
            base *= base
    return result


@jit
def tv_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`tv` between every row of ``a`` (n, K) and every row of ``b`` (m, K): shape (n, m)."""
    out = np.empty((a.shape[0], b.shape[0]))
    for i in range(a.shape[0]):
        for j in range(b.shape[0]):
            out[i, j] = tv(a[i], b[j])
    return out
