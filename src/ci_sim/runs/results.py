"""Result files: where they land, how they are written (atomically) and the manifest.

Every file is written to a temporary name in its final folder and renamed into place, so a
reader never sees a half-written file; a folder of results is created only once there is
something complete to put in it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

RESULTS_ROOT = Path("results")
_UMASK = os.umask(0)
os.umask(_UMASK)


def utc_stamp() -> str:
    """A UTC timestamp usable as a folder name (``20261122T101500Z``)."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


#: Names Windows reserves for devices, with any extension ("nul.txt" too).
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
#: Longest folder name derived from a name (file systems allow 255 bytes; leave room for the hash).
_FOLDER_CHARS = 80


def folder_name(name: str) -> str:
    """A folder name derived from a scenario or experiment name, safe on every system.

    Keeps ASCII letters, digits, ``.``, ``_`` and ``-`` and turns every other run of
    characters into ``_``: no separators (``/``, ``\\``), no ``..``, no ``:`` or ``?`` (which
    Windows cannot hold), no control characters. Leading dots and dashes are dropped, the result
    is at most 80 characters, and a name that had to change gets 8 hex digits of its hash,
    so two different names never share a folder.

    Example:
        >>> folder_name("nine_backbones")
        'nine_backbones'
        >>> folder_name("../../escaped")
        'escaped-ea03bc47'
    """
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")[:_FOLDER_CHARS].rstrip("._-") or "unnamed"
    if slug.split(".")[0].lower() in _WINDOWS_RESERVED:
        slug = f"_{slug}"
    if slug != name:
        slug += "-" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return slug


def default_out_dir(*names: str) -> Path:
    """``results/<folder_name(name)>/.../<UTC timestamp>/`` (not created): always inside ``results/``.

    Each name is one folder level (``default_out_dir("decompose", "a_vs_b")``).
    """
    return RESULTS_ROOT.joinpath(*(folder_name(n) for n in names)) / utc_stamp()


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` via ``write(tmp_path)`` then rename: all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_out_dir(out: Path, source: str = "--out", may_hold_files: bool = False) -> None:
    """Check, before any work, that results can be written to the folder ``out``.

    Nothing is created. The folder may be missing (it is created when there are results),
    but its nearest existing ancestor must be a folder that this user can write to.

    Args:
        out: the output folder.
        source: the option naming it, for messages.
        may_hold_files: accept a folder that already holds files (resuming a sweep, adding figures).

    Raises:
        ScenarioError: ``out`` (or a folder it would be made in) is a file, is not writable,
            holds files (unless ``may_hold_files``), or has a name no file system accepts.
    """
    from ci_sim.model.scenario import ScenarioError

    text = str(out)
    if "\0" in text:
        raise ScenarioError(source, "", text, "a folder name without NUL characters")
    for part in out.parts:
        if len(os.fsencode(part)) > 255:
            raise ScenarioError(source, "", text, f"folder names of at most 255 bytes each ({part[:20]}... is longer)")
    if out.exists():
        if not out.is_dir():
            raise ScenarioError(source, "", text, "a folder; this is a file")
        if not may_hold_files and any(out.iterdir()):
            raise ScenarioError(source, "", text, "a new or empty folder (results are never overwritten)")
        target = out
    else:
        target = Path(os.path.abspath(out)).parent
        while not target.exists() and target != target.parent:
            target = target.parent
        if not target.is_dir():
            raise ScenarioError(source, "", text, f"a folder that can be created: {target} is a file, not a folder")
    if not os.access(target, os.W_OK | os.X_OK):
        raise ScenarioError(source, "", text, f"a folder this user can write to: {target} is read-only")


def check_new_dir(out: Path, source: str = "--out") -> None:
    """Refuse an output folder that already holds files (results are never overwritten).

    Raises:
        ScenarioError: see :func:`check_out_dir`.
    """
    check_out_dir(out, source)


@contextmanager
def staged_dir(out: Path) -> Iterator[Path]:
    """A folder to fill that appears at ``out`` only once complete.

    Files are written into a hidden sibling folder, renamed to ``out`` when the block ends
    without error and removed otherwise: a reader (or a crash) never sees half the files.

    Example:
        >>> with staged_dir(Path("results/x")) as tmp:  # doctest: +SKIP
        ...     write_csv(frame, tmp / "summary.csv")
    """
    check_new_dir(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_UMASK)  # mkdtemp makes 0700; results are ordinary folders
        if out.exists():
            out.rmdir()  # empty (checked above)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    atomic_write(path, lambda p: frame.to_csv(p, index=False))


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    atomic_write(path, lambda p: frame.to_parquet(p, index=False))


def write_json(data: Any, path: Path) -> None:
    atomic_write(path, lambda p: p.write_text(json.dumps(data, indent=2, default=str) + "\n"))


def git_commit() -> str | None:
    """The commit of the checkout ci_sim runs from, if it is a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def versions() -> dict[str, str]:
    """Versions of ci_sim, of the model it implements (docs/ODD.md), of Python and the numerical stack."""
    import mesa
    import numpy

    import ci_sim
    from ci_sim.model import MODEL_VERSION

    return {
        "ci_sim": ci_sim.__version__,
        "model_version": MODEL_VERSION,
        "python": platform.python_version(),
        "mesa": mesa.__version__,
        "numpy": numpy.__version__,
        "pandas": pd.__version__,
    }


def manifest(*, posterior: Any = None, **fields: Any) -> dict[str, Any]:
    """A manifest: versions, git commit, command line, the posterior used, plus the caller's fields.

    Args:
        posterior: what describes the posterior the parameters were drawn from (``--posterior``:
            its file, hash, ...), recorded as given; None (``null`` in the file) when the run used
            the scenario's own values.
        **fields: the caller's entries (scenario, seeds, timings...).
    """
    return {
        "versions": versions(),
        "git_commit": git_commit(),
        "command_line": sys.argv,
        "platform": platform.platform(),
        "posterior": posterior,
        **fields,
    }
