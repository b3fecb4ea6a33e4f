#!/usr/bin/env bash
# Set up ci-sim in ./.venv with a Python >= 3.12 found on this machine.
#
#   scripts/setup.sh            the package, experiments, visualization and leaders (roster, brief) extras
#   scripts/setup.sh --test     ... plus the test tools and Debian's Chromium for the browser test
#
# The interpreter: $CI_SIM_PYTHON if set, else the first of python3.12, python3.13, python3.14, python3,
# python on PATH, then the oldest 3.12+ among pyenv's installed versions, /usr/local/bin, /opt and /usr/bin.
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
[ "${1:-}" = "--test" ] && with_tests=1

is_ok() { "$1" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }

find_python() {
  local c
  if [ -n "${CI_SIM_PYTHON:-}" ]; then
    is_ok "$CI_SIM_PYTHON" && { echo "$CI_SIM_PYTHON"; return 0; }
    echo "setup: CI_SIM_PYTHON=$CI_SIM_PYTHON is not a Python >= 3.12 with venv" >&2
    return 1
  fi
  for c in python3.12 python3.13 python3.14 python3 python; do
    if command -v "$c" >/dev/null 2>&1 && is_ok "$(command -v "$c")"; then command -v "$c"; return 0; fi
  done
  local roots=("${PYENV_ROOT:-$HOME/.pyenv}/versions" /usr/local/bin /opt /usr/bin)
  for c in $(ls -d "${roots[0]}"/3.1[2-9]*/bin/python3 "${roots[0]}"/3.[2-9]*/bin/python3 \
               /usr/local/bin/python3.1[2-9] /opt/*/bin/python3.1[2-9] /opt/python*/bin/python3 \
               /usr/bin/python3.1[2-9] 2>/dev/null | sort -V); do  # oldest first: 3.12 is the checked ground
    if is_ok "$c"; then echo "$c"; return 0; fi
  done
  return 1
}

if ! PY=$(find_python); then
  cat >&2 <<'MSG'
setup: no Python 3.12 or newer was found (Mesa 3.5 needs it).
  Looked at: $CI_SIM_PYTHON, python3.12/3.13/3.14/python3/python on PATH, ~/.pyenv/versions/3.12+,
  /usr/local/bin, /opt, /usr/bin.
  Install one (e.g. `pyenv install 3.12`, or your system's python3.12 package with venv),
  or point CI_SIM_PYTHON at it, then run this again.
MSG
  exit 3
fi

if [ -x .venv/bin/python ] && ! is_ok .venv/bin/python; then
  echo "setup: .venv uses $(.venv/bin/python --version 2>&1); recreating it with $PY" >&2
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $("$PY" --version) ($PY)" >&2
  "$PY" -m venv .venv
fi

extras="experiments,viz,leaders"
[ $with_tests = 1 ] && extras="$extras,test"
stamp=".venv/.ci-sim-installed-$extras"
# An install with the test extras also satisfies a plain one, so the demo after the tests (or the
# other way round) does not reinstall; any change to pyproject.toml makes every stamp stale.
up_to_date() { [ -f "$1" ] && [ ! pyproject.toml -nt "$1" ]; }
installed=0
up_to_date "$stamp" && installed=1
up_to_date ".venv/.ci-sim-installed-experiments,viz,test" && installed=1
if [ $installed = 0 ]; then
  echo "setup: installing ci-sim[$extras] into .venv (first time: a few minutes)" >&2
  # pip's output goes to a log; on failure its end is shown (without the warnings about this
  # machine's optional local package indexes, which are noise)
  log=.venv/pip-install.log
  if ! { .venv/bin/python -m pip install --quiet --upgrade pip && .venv/bin/python -m pip install --quiet -e ".[$extras]"; } >"$log" 2>&1; then
    grep -v "^WARNING: Location" "$log" | tail -n 30 >&2
    echo "setup: installing ci-sim[$extras] failed; the whole pip output is in $log" >&2
    exit 1
  fi
  .venv/bin/python -c "import ci_sim, mesa, mesa.visualization" || { echo "setup: ci-sim does not import (see above)" >&2; exit 1; }
  rm -f .venv/.ci-sim-installed-*
  touch "$stamp"
fi

# Compile the model's kernels into numba's on-disk cache now, so that no user command waits for
# the compiler (about a minute the first time and after the model's code changes; seconds after).
.venv/bin/python -m ci_sim.model.warm || { echo "setup: compiling the model's kernels failed (see above)" >&2; exit 1; }

if [ $with_tests = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  # The dashboard's browser test drives Debian's Chromium with Playwright (no browser download).
  if command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo_cmd="sudo"
    echo "setup: installing Debian's chromium for the browser test (a minute or two)" >&2
    $sudo_cmd apt-get update -qq >&2 && $sudo_cmd apt-get install -y -qq chromium >/dev/null 2>&1 \
      || echo "setup: could not install chromium; the browser test will not run" >&2
  else
    echo "setup: no apt-get here; install Chromium yourself for the browser test" >&2
  fi
fi
echo "setup: ready ($(.venv/bin/python --version))" >&2
