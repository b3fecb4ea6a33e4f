"""Serving the live dashboard (:mod:`ci_sim.viz.dashboard`) with ``solara run``, offline.

Kept apart from the app module so that ``ci-sim dashboard`` can check its input (the
scenario, the port) without importing Solara, and so that the server runs in a child
process that a Ctrl-C (or SIGTERM) in the parent stops cleanly.

Solara settings used, so that nothing is fetched from the internet:

- ``--no-check-version``: no PyPI query at start-up.
- ``SOLARA_TELEMETRY_MIXPANEL_ENABLE=False``: no usage statistics sent.
- ``SOLARA_THEME_SHOW_BANNER=False``: no badge over the plots.
- the front-end comes from the installed ``solara-assets`` package through Solara's local
  asset proxy (``SOLARA_ASSETS_PROXY=True``, the default); only matplotlib components
  are used, since the vega assets of the altair backend are not bundled.
- ``SOLARA_THEME_TITLE``: the browser tab says "ci-sim dashboard", not Solara's default.

The server dies with the ``ci-sim dashboard`` process even when that is killed with
SIGKILL (which no handler can catch): on Linux the kernel sends the server SIGTERM when its
parent dies (``prctl(PR_SET_PDEATHSIG)``); elsewhere the server watches its parent's pid
(:func:`watch_parent`, started by :mod:`ci_sim.viz.dashboard`). Either way no orphan keeps
holding the port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

#: Environment variable naming the dashboard's base scenario (read by ci_sim.viz.dashboard).
SCENARIO_ENV = "CI_SIM_DASHBOARD_SCENARIO"
#: Seconds to wait for the server to stop after an interrupt before forcing it.
STOP_GRACE = 10.0
#: Environment variable with the pid of the ``ci-sim dashboard`` process (the server's parent).
PARENT_ENV = "CI_SIM_DASHBOARD_PARENT"
#: What the browser tab says.
TITLE = "ci-sim dashboard"
#: Seconds between the server's checks that its parent is alive (where PR_SET_PDEATHSIG is missing).
WATCH_PERIOD = 1.0
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
#: Seconds a page that lost its connection keeps its state on the server. Headless Chromium
#: closed by Playwright (``page.close(run_before_unload=True)``) did not deliver Solara's close
#: message here (the server logged a disconnect, never the close), so this bounds what a day of
#: page loads can hold.
KERNEL_CULL_SECONDS = 60
#: Flags for a headless Chromium that looks at the dashboard offline (the browser test and
#: benchmarks/bench_dashboard.py): no sandbox or GPU in containers, nothing fetched in the background.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-quic",
    "--disable-component-update",
    "--disable-sync",
]


def port_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on (taken, or an unknown host), or None if free.

    Binds a socket the way the server will (``SO_REUSEADDR`` on POSIX, so a port left in
    TIME_WAIT by a previous run still counts as free; a listening server does not).
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"cannot listen on host {host!r}: {exc.strerror}; use e.g. --host 127.0.0.1"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        if os.name == "posix":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except PermissionError:
            return f"port {port} on {host} needs special permission; choose a port above 1023 with --port"
        except OSError as exc:
            if exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
                return (
                    f"port {port} on {host} is already in use (another dashboard or server?); "
                    f"stop it or choose a free port, e.g. --port {port + 1}"
                )
            return f"cannot listen on {host}:{port}: {exc.strerror}"
    return None


def solara_command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line serving the dashboard page."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        "ci_sim.viz.dashboard:Page",
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--no-check-version",
        "--log-level",
        "warning",
    ]


def solara_env(scenario: str | Path) -> dict[str, str]:
    """The child's environment: the base scenario, and Solara kept off the internet."""
    env = dict(os.environ)
    env[SCENARIO_ENV] = str(scenario)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    env.setdefault("SOLARA_ASSETS_PROXY", "True")
    env["SOLARA_THEME_SHOW_BANNER"] = "False"  # no "runs on Solara" badge over the plots
    env["SOLARA_THEME_TITLE"] = TITLE  # the page's <title>; Solara's default is "Solara ☀️"
    env[PARENT_ENV] = str(os.getpid())
    env.setdefault("MPLBACKEND", "Agg")
    # every page runs in its own threads; glibc's default of 8 arenas per core lets a server
    # of many short visits hold on to memory it has freed
    env.setdefault("MALLOC_ARENA_MAX", "2")
    # a page that lost its connection keeps its state this long (Solara's default: 24 hours);
    # a closed tab is let go at once by its close message, when the browser delivers it
    env.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", f"{KERNEL_CULL_SECONDS}s")
    # Solara warns on every plain-http visit to a name other than "localhost"; it is expected here
    quiet = "ignore:Cookies with samesite=none:UserWarning"
    env["PYTHONWARNINGS"] = ",".join(w for w in (env.get("PYTHONWARNINGS"), quiet) if w)
    return env


def _die_with_parent(parent: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the server get SIGTERM when ``parent`` dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    def preexec() -> None:  # runs in the child between fork and exec: keep it to system calls
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def watch_parent(period: float = WATCH_PERIOD) -> None:
    """In the server: exit when the ``ci-sim dashboard`` process is gone (a daemon thread).

    The portable twin of ``PR_SET_PDEATHSIG``: when the parent named by :data:`PARENT_ENV`
    dies (even by SIGKILL) the server is re-parented, so its parent pid changes; then it
    sends itself SIGTERM, which stops the server and frees the port. Does nothing outside a
    server started by :func:`serve`.
    """
    import threading
    import time

    parent = os.environ.get(PARENT_ENV)
    if not parent or not parent.isdigit() or int(parent) != os.getppid():
        return

    def watch() -> None:
        while os.getppid() == int(parent):
            time.sleep(period)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="ci-sim-parent-watch", daemon=True).start()


def serve(scenario: str | Path, host: str, port: int, echo: Callable[[str], None] = print) -> int:
    """Run the dashboard server until it stops or the user interrupts; return its status.

    Ctrl-C (SIGINT), SIGTERM and SIGHUP in this process stop the server: it gets one SIGINT (a
    graceful shutdown), then SIGTERM, then SIGKILL if it does not stop within
    :data:`STOP_GRACE` seconds each. The server runs in its own session on POSIX so that
    a terminal Ctrl-C reaches it once, through this process.

    Args:
        scenario: the base scenario (file path or shipped name), already validated.
        host: where to listen (already checked with :func:`port_problem`).
        port: the port to listen on (already checked).
        echo: where to print the address.

    Returns:
        The exit status: the server's, or 0 after an interrupt.
    """
    child = subprocess.Popen(
        solara_command(host, port),
        env=solara_env(scenario),
        start_new_session=os.name == "posix",
        preexec_fn=_die_with_parent(os.getpid()),  # noqa: PLW1509 - only system calls, see _die_with_parent
    )
    shown = f"[{host}]" if ":" in host else host
    echo(f"dashboard of {scenario} at http://{shown}:{port}/  (Ctrl-C stops it)")

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, interrupt) for s in _stop_signals()}
    try:
        return child.wait()
    except KeyboardInterrupt:
        stop(child)
        echo("dashboard stopped")
        return 0
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _stop_signals() -> list[int]:
    # SIGINT too: a shell starts background jobs with SIGINT ignored, and Python then keeps it ignored
    names = ("SIGINT", "SIGTERM", "SIGHUP")
    return [getattr(signal, n) for n in names if hasattr(signal, n)]


def stop(child: subprocess.Popen) -> None:
    """Stop the server: SIGINT (graceful), then terminate, then kill."""
    if child.poll() is not None:
        return
    if os.name == "posix":
        child.send_signal(signal.SIGINT)
        try:
            child.wait(STOP_GRACE)
            return
        except subprocess.TimeoutExpired:
            pass
    child.terminate()
    try:
        child.wait(STOP_GRACE)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
