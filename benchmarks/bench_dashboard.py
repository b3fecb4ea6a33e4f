"""Speed and memory of the live dashboard, measured in headless Chromium as a trainer uses it.

Starts ``ci-sim dashboard`` (its Solara server in a child process), drives Debian's
``chromium`` with Playwright at 1280x720 (nothing but the dashboard server is reachable), and
prints:

- STEP latency, single view: median (and worst) of 12 presses of "Step +1 month", from the
  click until the month and a new network picture are on the page, with ``nine_backbones`` at
  150 and at 400 partners (issue 14 goals: <= 250 ms and <= 400 ms);
- STEP latency, compare view with three strategies (single backbone, nine backbones,
  consolidation) at 150 partners (goal <= 600 ms);
- PLAY time for ten years at the fastest pace, single and compare views (goals < 60 s, < 90 s);
- server memory (resident set of the Solara process) after the first page load, and after 30
  more pages opened and closed the way a browser closes a tab (``page.close(run_before_unload=True)``,
  which sends the page's close message); goal: within 50 MB.

Usage:
    python benchmarks/bench_dashboard.py [--steps 12] [--pages 30]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

from ci_sim.viz.dashboard_server import CHROMIUM_ARGS, KERNEL_CULL_SECONDS

ROOT = Path(__file__).resolve().parents[1]
VIEWPORT = {"width": 1280, "height": 720}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(scenario: str, log: Path) -> tuple[subprocess.Popen, int]:
    """``ci-sim dashboard SCENARIO`` on a free port, once it serves the page."""
    port = free_port()
    exe = Path(sys.executable).with_name("ci-sim")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "ci_sim.cli"]
    with log.open("w") as out:
        proc = subprocess.Popen([*cmd, "dashboard", scenario, "--port", str(port)], stdout=out, stderr=out)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return proc, port
        except OSError:
            time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    raise SystemExit(f"the dashboard did not start:\n{log.read_text()}")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def server_pid(proc: subprocess.Popen) -> int:
    """The Solara server: the child of the ``ci-sim dashboard`` process."""
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    return int(children[0])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def open_page(browser, port: int):
    page = browser.new_page(viewport=VIEWPORT)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route("**/*", lambda r: r.continue_() if f"127.0.0.1:{port}" in r.request.url else r.abort())
    page.goto(f"http://127.0.0.1:{port}/", wait_until="networkidle", timeout=90_000)
    page.get_by_text("Month 0 of").wait_for(timeout=90_000)
    page.wait_for_timeout(500)
    page.errors = errors
    return page


def network_sources(page) -> list[str]:
    return page.evaluate("() => Array.from(document.querySelectorAll('img.ci-net')).map(i => i.src.slice(-64))")


def step_latencies(page, steps: int) -> list[float]:
    """Seconds from a Step press until the new month and new network pictures are shown."""
    out = []
    button = page.get_by_role("button", name="Step +1 month")
    for _ in range(steps):
        month = int(page.locator(".ci-status").inner_text().split()[1])
        before = network_sources(page)
        t = time.perf_counter()
        button.click()
        page.get_by_text(f"Month {month + 1} of").wait_for(timeout=30_000)
        page.wait_for_function(
            """(before) => { const now = Array.from(document.querySelectorAll('img.ci-net')).map(i => i.src.slice(-64));
                return now.length === before.length && now.every((s, i) => s !== before[i]); }""",
            arg=before,
            timeout=30_000,
        )
        out.append(time.perf_counter() - t)
        page.wait_for_timeout(150)
    return out


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the vuetify select labelled ``label``."""
    page.locator(".v-select", has_text=label).first.click()
    page.locator(".menuable__content__active .v-list-item", has_text=option).first.click()


def play_ten_years(page) -> float:
    choose(page, "Pace", "12 months a second")
    t = time.perf_counter()
    page.get_by_role("button", name="Play").click()
    page.get_by_text("Ten years done").wait_for(timeout=300_000)
    return time.perf_counter() - t


def memory(browser, pages: int, tmp: Path) -> str:
    """Server memory after the first page load, and after ``pages`` more opened and closed.

    Each page loads, steps a month, plays a little and is closed the way a browser closes a
    tab. Then the benchmark waits for Solara's cull of disconnected pages
    (:data:`ci_sim.viz.dashboard_server.KERNEL_CULL_SECONDS`), in case the close message did not arrive.
    """
    proc, port = start("nine_backbones", tmp / "server_memory.log")
    try:
        pid = server_pid(proc)

        def visit(then_close: bool = True):
            page = open_page(browser, port)
            page.get_by_role("button", name="Step +1 month").click()
            page.get_by_text("Month 1 of").wait_for()
            page.get_by_role("button", name="Play").click()
            page.wait_for_timeout(800)
            page.get_by_role("button", name="Pause").click()
            if then_close:
                page.close(run_before_unload=True)
            return page

        first_page = visit(then_close=False)
        time.sleep(2)
        first = rss_mb(pid)
        first_page.close(run_before_unload=True)
        peak = first
        for _ in range(pages):
            visit()
            peak = max(peak, rss_mb(pid))
        time.sleep(KERNEL_CULL_SECONDS + 15)
        last = rss_mb(pid)
    finally:
        stop(proc)
    return (
        f"server memory: {first:.0f} MB after the first page load; {last:.0f} MB after {pages} more pages opened "
        f"and closed ({last - first:+.0f} MB; highest {peak:.0f} MB while they were open)"
    )


def summary(xs: list[float]) -> str:
    ms = sorted(1000 * x for x in xs)
    return f"median {statistics.median(ms):4.0f} ms (fastest {ms[0]:.0f}, worst {ms[-1]:.0f}, n={len(ms)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--pages", type=int, default=30)
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("Debian's chromium is needed: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="bench_dashboard_"))
    data = yaml.safe_load((ROOT / "scenarios" / "nine_backbones.yaml").read_text())
    data["community"]["partners"] = 400
    big = tmp / "nine_backbones_400.yaml"
    big.write_text(yaml.safe_dump(data))
    print(f"machine: {os.cpu_count()} cores; Chromium {VIEWPORT['width']}x{VIEWPORT['height']}, headless")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for scenario, partners in (("nine_backbones", 150), (str(big), 400)):
            proc, port = start(scenario, tmp / "server.log")
            try:
                page = open_page(browser, port)
                print(f"STEP, one strategy, {partners} partners: {summary(step_latencies(page, args.steps))}")
                if partners == 150:
                    page.get_by_text("Compare strategies").click()
                    page.get_by_text("After 0 months").or_(page.get_by_text("At the start")).first.wait_for()
                    choose(page, "Strategy 1", "single backbone")
                    choose(page, "Strategy 2", "nine backbones")
                    choose(page, "Strategy 3", "consolidation")
                    page.locator("img.ci-net").nth(2).wait_for()
                    page.wait_for_timeout(1000)
                    lat = step_latencies(page, args.steps)
                    print(f"STEP, compare view, 3 strategies, {partners} partners: {summary(lat)}")
                    print(f"PLAY ten years, compare view (3 strategies): {play_ten_years(page):.1f} s")
                    page.get_by_text("One strategy").click()
                    page.get_by_text("Month 0 of").wait_for()
                    print(f"PLAY ten years, one strategy: {play_ten_years(page):.1f} s")
                if page.errors:
                    print(f"page errors: {page.errors}")
                page.close(run_before_unload=True)
            finally:
                stop(proc)
        print(memory(browser, args.pages, tmp))
        browser.close()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
