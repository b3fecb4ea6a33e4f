"""`ci-sim dashboard` end to end: the server, headless Chromium, sliders, Step, the plots.

The browser test drives Debian's ``chromium`` (not a Playwright browser download) with
Playwright. Without chromium it is skipped, except in CI (``CI=true``), where it fails:
CI installs chromium (``apt-get install -y chromium``). Set ``CI_SIM_SCREENSHOT=path.png``
to keep a screenshot of the dashboard after twelve months with nine backbones.

The port and Ctrl-C tests need no browser.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import import_or_skip

import_or_skip("solara")  # skipped without solara, except under CI=true: there it fails

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
START_TIMEOUT = 90.0  # seconds for the server to answer (Solara imports are slow on a busy machine)
STEP_TIMEOUT = 30_000  # ms for one Step to show up in the page
FIGURES = 4  # network, alignment/trust, outcomes, partner time


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _chromium() -> str:
    """Path of Debian's chromium; skip without it (fail in CI, which must install it)."""
    path = shutil.which("chromium")
    problem = None
    if path is None:
        problem = "Debian's chromium is not installed (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright Python package is not installed (pip install playwright)"
    if problem:
        if _in_ci():
            pytest.fail(f"{problem}; CI=true, so the browser test must run")
        pytest.skip(problem)
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ci_sim() -> list[str]:
    """The installed ``ci-sim`` next to this Python, else ``python -m ci_sim.cli``."""
    exe = Path(sys.executable).with_name("ci-sim")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "ci_sim.cli"]


def _start_dashboard(port: int, log: Path, *args: str) -> subprocess.Popen:
    """Start ``ci-sim dashboard`` and wait until it serves the page."""
    with log.open("w") as out:  # the child keeps its own copy of the file descriptor
        proc = subprocess.Popen([*_ci_sim(), "dashboard", *args, "--port", str(port)], stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"ci-sim dashboard exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    _interrupt(proc)
    pytest.fail(f"ci-sim dashboard did not serve {url} within {START_TIMEOUT:.0f} s:\n{log.read_text()}")


def _interrupt(proc: subprocess.Popen, timeout: float = 30) -> int:
    """Ctrl-C the dashboard command; its exit status (kill it if it hangs, and fail)."""
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"ci-sim dashboard did not stop within {timeout} s of Ctrl-C")


def _local(address: str, port: int) -> bool:
    """Whether the page fetched ``address`` from the dashboard server or its own memory."""
    return address.startswith((f"http://127.0.0.1:{port}/", f"ws://127.0.0.1:{port}/", "blob:", "data:"))


def _figure_items(page):
    """Grid items holding an image (the matplotlib components)."""
    return page.locator(".vue-grid-item:not(.vue-grid-placeholder)").filter(has=page.locator("img"))


def _drawn_images(page) -> list[list[int]]:
    """Natural size of every image in the grid items, [0, 0] for one that did not load."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.vue-grid-item:not(.vue-grid-placeholder) img'))
                  .map(img => img.complete ? [img.naturalWidth, img.naturalHeight] : [0, 0])"""
    )


@pytest.mark.browser
def test_dashboard_in_chromium(tmp_path):
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    port = _free_port()
    proc = _start_dashboard(port, tmp_path / "server.log", "single_backbone")
    timings["server start"] = time.perf_counter() - t0
    url = f"http://127.0.0.1:{port}/"
    page_errors: list[str] = []
    console_errors: list[str] = []
    failed: list[str] = []
    outside: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
            page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            page.on("request", lambda r: None if _local(r.url, port) else outside.append(r.url))

            t = time.perf_counter()
            page.goto(url, wait_until="networkidle", timeout=60_000)
            page.get_by_text("Month 0 of").wait_for(timeout=60_000)
            page.wait_for_timeout(3000)
            timings["page load"] = time.perf_counter() - t
            assert "1 active backbone" in page.inner_text("body")
            assert page.title() == "ci-sim dashboard"  # the tab, once the page's scripts have run

            # nine backbones: drive the slider from the keyboard, then Reset applies it
            t = time.perf_counter()
            slider = page.locator(".v-input", has_text="Backbones per issue area").locator("[role=slider]")
            slider.focus()
            for _ in range(8):
                page.keyboard.press("ArrowRight")
            assert slider.get_attribute("aria-valuenow") == "9"
            page.get_by_role("button", name="Reset").click()
            page.get_by_text("9 active backbones").wait_for(timeout=STEP_TIMEOUT)
            page.wait_for_timeout(1500)
            assert _figure_items(page).count() == FIGURES
            before = [item.screenshot() for item in _figure_items(page).all()]
            timings["slider + reset"] = time.perf_counter() - t

            t = time.perf_counter()
            for month in range(1, 13):
                page.get_by_role("button", name="Step").click()
                page.get_by_text(f"Month {month} of 120").wait_for(timeout=STEP_TIMEOUT)
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(3000)
            timings["12 steps"] = time.perf_counter() - t

            body = page.inner_text("body")
            assert "Month 12 of 120" in body and "9 active backbones" in body
            assert "Time: 12" in body  # SolaraViz's own step counter agrees
            images = _drawn_images(page)
            assert len(images) == FIGURES and all(w > 100 and h > 100 for w, h in images), images
            after = [item.screenshot() for item in _figure_items(page).all()]
            changed = [b != a for b, a in zip(before, after, strict=True)]
            assert all(changed), f"plots that did not change after 12 steps: {changed}"

            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot))
            if os.environ.get("CI_SIM_SCREENSHOT"):
                shutil.copyfile(shot, os.environ["CI_SIM_SCREENSHOT"])

            # play runs on by itself; pause stops it
            t = time.perf_counter()
            page.get_by_role("button", name="▶").click()
            page.get_by_text(re.compile(r"Month (1[4-9]|[2-9]\d) of 120")).wait_for(timeout=STEP_TIMEOUT)
            page.get_by_role("button", name="❚❚").click()
            timings["play 2+ months"] = time.perf_counter() - t
            page.wait_for_timeout(1500)
            body = page.inner_text("body")
            browser.close()
    finally:
        t = time.perf_counter()
        status = _interrupt(proc)
        timings["stop"] = time.perf_counter() - t
        print("timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))

    assert not re.search(r"traceback|error|exception", body, re.IGNORECASE), body
    assert page_errors == [], page_errors
    assert console_errors == [], console_errors
    assert failed == [], failed
    assert outside == [], f"the page asked for something other than the dashboard server: {outside}"
    assert status == 0
    assert _port_is_free(port)


def test_taken_port_is_bad_input(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [*_ci_sim(), "dashboard", "--port", str(port)], capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"port {port}" in done.stderr and "already in use" in done.stderr
    assert "--port" in done.stderr  # says what to do


def test_bad_scenario_is_bad_input(tmp_path):
    done = subprocess.run([*_ci_sim(), "dashboard", "no_such_scenario"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "no_such_scenario" in done.stderr and "no such file" in done.stderr


def test_ctrl_c_stops_server_and_frees_port(tmp_path):
    port = _free_port()
    proc = _start_dashboard(port, tmp_path / "server.log", "nine_backbones")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
        assert response.status == 200
    assert _interrupt(proc) == 0
    assert "dashboard stopped" in (tmp_path / "server.log").read_text()
    assert _port_is_free(port), "the Solara server outlived the ci-sim dashboard command"


def _pids_on_port(port: int) -> list[int]:
    """Pids of processes listening on ``port`` (from /proc; Linux)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
                inodes.add(fields[9])
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            links = {os.readlink(fd) for fd in (proc / "fd").iterdir()}
        except OSError:
            continue
        if any(f"socket:[{i}]" in links for i in inodes):
            pids.append(int(proc.name))
    return pids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_the_command_frees_the_port_and_the_tab_says_ci_sim(tmp_path):
    """SIGKILL cannot be handled: the server must notice its parent died and stop itself."""
    port = _free_port()
    proc = _start_dashboard(port, tmp_path / "server.log")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            page = response.read().decode()
        title = re.search(r"<title>(.*?)</title>", page, re.S).group(1).strip()
        assert title == "ci-sim dashboard", title
        server = [p for p in _pids_on_port(port) if p != proc.pid]
        assert server, "the Solara server should be a child process"
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 20  # bounded: the kernel signals at once, the watchdog within a second
        while time.monotonic() < deadline and not _port_is_free(port):
            time.sleep(0.2)
        assert _port_is_free(port), f"an orphaned server ({server}) still holds port {port}"
    finally:
        for pid in _pids_on_port(port):  # never leave a server behind, even when the test fails
            os.kill(pid, signal.SIGKILL)
