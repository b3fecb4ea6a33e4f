"""`ci-sim dashboard` end to end: the server, headless Chromium, sliders, Step, the plots, a roster's advice.

The browser test drives Debian's ``chromium`` (not a Playwright browser download) with
Playwright. Without chromium it is skipped, except in CI (``CI=true``), where it fails:
CI installs chromium (``apt-get install -y chromium``). Set ``CI_SIM_SCREENSHOT=path.png``
to keep a screenshot of the dashboard after twelve months with nine backbones.

The port and Ctrl-C tests need no browser.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, import_or_skip

import_or_skip("solara")  # skipped without solara, except under CI=true: there it fails

from ci_sim.viz.dashboard_server import CHROMIUM_ARGS  # noqa: E402

START_TIMEOUT = 90.0  # seconds for the server to answer (Solara imports are slow on a busy machine)
STEP_TIMEOUT = 30_000  # ms for one Step to show up in the page


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


def _images(page, selector: str) -> list[list[int]]:
    """Natural size of every image matching ``selector``, [0, 0] for one that did not load."""
    return page.evaluate(
        """(sel) => Array.from(document.querySelectorAll(sel))
                  .map(img => img.complete ? [img.naturalWidth, img.naturalHeight] : [0, 0])""",
        selector,
    )


def _choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the select labelled ``label`` (a vuetify menu)."""
    page.locator(".v-select", has_text=label).first.click()
    page.locator(".menuable__content__active .v-list-item", has_text=option).first.click()


def _step(page, months: int) -> None:
    for _ in range(months):
        month = int(page.locator(".ci-status").inner_text().split()[1])
        page.get_by_role("button", name="Step +1 month").click()
        page.get_by_text(f"Month {month + 1} of").wait_for(timeout=STEP_TIMEOUT)


def _numbers(page) -> dict[str, list[str]]:
    """The numbers panel: row label -> [this month, start]."""
    rows = page.evaluate(
        """() => Array.from(document.querySelectorAll('.ci-numbers tr')).slice(1).map(
            tr => [tr.querySelector('th').childNodes[0].textContent.trim(),
                   ...Array.from(tr.querySelectorAll('td')).map(td => td.innerText.trim())])"""
    )
    return {r[0]: r[1:] for r in rows}


CONTRAST_JS = """(sel) => {
    const el = document.querySelector(sel);
    const rgb = s => s.match(/[0-9.]+/g).slice(0, 4).map(Number);
    const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    const lum = ([r, g, b]) => 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    let bg = [255, 255, 255];
    for (let e = el; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length < 4 || c[3] > 0) { bg = c; break; }
    }
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(bg);
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


class _Watch:
    """Everything a page reports that a test must see empty."""

    def __init__(self, page, port: int):
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("response", lambda r: self.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.on("request", lambda r: None if _local(r.url, port) else self.outside.append(r.url))


def _open(browser, port: int, **options):
    page = browser.new_page(viewport={"width": 1280, "height": 720}, **options)
    watch = _Watch(page, port)
    page.goto(f"http://127.0.0.1:{port}/", wait_until="networkidle", timeout=60_000)
    page.get_by_text("Month 0 of").wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    return page, watch


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    """One dashboard server (nine_backbones) and one Chromium for the page tests."""
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    proc = _start_dashboard(port, log, "nine_backbones")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            yield browser, port
            browser.close()
    finally:
        status = _interrupt(proc)
    assert status == 0 and _port_is_free(port)


@pytest.mark.browser
def test_main_view_fits_1280x720_and_steps(dashboard):
    browser, port = dashboard
    page, watch = _open(browser, port)
    assert page.title() == "ci-sim dashboard"
    assert page.locator("h1").count() == 1 and "backbones" in page.locator("h1").inner_text()
    # the main view (network, key plot, numbers) is on screen with no scrolling
    for selector in ("img.ci-net", ".ci-plot img", ".ci-numbers"):
        box = page.locator(selector).first.bounding_box()
        assert box and box["x"] >= 0 and box["y"] >= 0, selector
        assert box["x"] + box["width"] <= 1280 and box["y"] + box["height"] <= 720, (selector, box)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
    # pictures drawn 1:1 (so their 14-pixel text stays 14 pixels) and named
    shown = page.evaluate(
        "() => Array.from(document.querySelectorAll('img.ci-net, .ci-plot img')).map(i => [i.width, i.naturalWidth, i.alt])"
    )
    assert len(shown) == 4 and all(w == nat > 100 and alt for w, nat, alt in shown), shown
    assert page.get_by_role("button", name="Play").count() == 1
    for label in ("Backbones: 9", "Backbone neutrality: 0.50", "Partner organizations: 150"):
        assert page.get_by_text(label).count() == 1, label
    body = page.inner_text("body")
    for internal in ("shared_data", "SF1", "Play Interval", "Render Interval", "PAGE 0", "nine_backbones"):
        assert internal not in body, internal
    before = page.locator("img.ci-net").get_attribute("src")
    _step(page, 3)
    assert page.locator("img.ci-net").get_attribute("src") != before
    assert _numbers(page)["Outcome improvement"][1] == "+0.0"  # the start column stays month 0
    page.get_by_role("button", name="Play").click()
    page.get_by_text(re.compile(r"Month ([5-9]|\d\d) of 120")).wait_for(timeout=STEP_TIMEOUT)
    page.get_by_role("button", name="Pause").click()
    _choose(page, "Jump to", "year 10")
    page.get_by_text("Ten years done").wait_for(timeout=STEP_TIMEOUT)
    assert page.get_by_role("button", name="Step +1 month").is_disabled()
    if os.environ.get("CI_SIM_SCREENSHOT"):
        page.screenshot(path=os.environ["CI_SIM_SCREENSHOT"])
    page.close(run_before_unload=True)
    assert watch.errors == [] and watch.outside == [], (watch.errors, watch.outside)


@pytest.mark.browser
def test_preset_sets_every_control(dashboard):
    from ci_sim import load_scenario
    from ci_sim.viz.dashboard_runs import CONTROLS, control_defaults, control_text, coordination_words

    browser, port = dashboard
    page, watch = _open(browser, port)
    # a slider has an accessible name with its value and applies its value when let go
    slider = page.get_by_role("slider", name="Backbones: 9")
    slider.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    page.get_by_text("7 active backbones").wait_for(timeout=STEP_TIMEOUT)
    assert page.get_by_role("slider", name="Backbones: 7").get_attribute("aria-valuenow") == "7"
    _choose(page, "Starting point", "backbone with conveners")
    page.get_by_text("Conveners: on").wait_for(timeout=STEP_TIMEOUT)
    values = control_defaults(load_scenario("backbone_with_conveners"))
    for control in CONTROLS:
        if control.kind == "choice":
            assert page.get_by_text(coordination_words(values[control.key])).count() >= 1
        else:
            assert page.get_by_text(f"{control.label}: {control_text(control, values[control.key])}").count() == 1
    assert "1 active backbone" in page.inner_text(".ci-head")
    _choose(page, "Starting point", "consolidation")
    page.get_by_text("Backbones: 9").wait_for(timeout=STEP_TIMEOUT)
    _choose(page, "Jump to", "year 3")
    page.get_by_text("Month 36 of 120").wait_for(timeout=STEP_TIMEOUT)
    # its own event: the merge at month 24 (the header may be redrawn a moment after the month
    # line on a loaded machine, so wait for it rather than read it once)
    head = page.locator(".ci-head").filter(has_text="1 active backbone")
    head.wait_for(timeout=STEP_TIMEOUT)
    assert "1 active backbone" in page.inner_text(".ci-head")
    page.close(run_before_unload=True)
    assert watch.errors == [], watch.errors


@pytest.mark.browser
def test_intervention_changes_the_run_from_that_month_as_ci_sim_run(dashboard, tmp_path):
    import pandas as pd
    import yaml

    from ci_sim.model.columns import metric_label
    from ci_sim.model.scenario import shipped_scenario_dir
    from ci_sim.viz.dashboard_runs import format_metric, number_rows

    browser, port = dashboard
    page, watch = _open(browser, port)
    _step(page, 6)
    page.get_by_role("button", name="Merge the backbones").click()
    page.get_by_text("Merge the backbones at month 6").wait_for(timeout=STEP_TIMEOUT)
    assert "9 active backbones" in page.inner_text(".ci-head")  # the event applies before month 7
    _step(page, 6)
    # the status and the numbers are separate widgets: wait for the numbers of month 12 too
    page.locator(".ci-numbers th", has_text="month 12").wait_for(timeout=STEP_TIMEOUT)
    assert "1 active backbone" in page.inner_text(".ci-head")
    shown = _numbers(page)
    page.close(run_before_unload=True)

    data = yaml.safe_load((shipped_scenario_dir() / "nine_backbones.yaml").read_text())
    data["events"] = [{"at": 6, "merge_backbones": {"keep": 1, "others_become": "conveners"}}]
    path = tmp_path / "merge_at_6.yaml"
    path.write_text(yaml.safe_dump(data))
    out = tmp_path / "run"
    done = subprocess.run(
        [*_ci_sim(), "run", str(path), "-r", "1", "-q", "--out", str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    cli = pd.read_parquet(out / "timeseries.parquet").set_index("step")
    for metric in number_rows(cli):
        assert shown[metric_label(metric)][0] == format_metric(metric, cli.loc[12, metric], short=True), metric
    assert watch.errors == [], watch.errors


@pytest.mark.browser
def test_compare_view_draws_every_panel(dashboard):
    browser, port = dashboard
    page, watch = _open(browser, port, color_scheme="dark")
    page.get_by_text("Compare strategies").click()
    page.get_by_text("At the start: outcomes").wait_for(timeout=STEP_TIMEOUT)
    _choose(page, "Strategy 1", "single backbone")
    _choose(page, "Strategy 2", "nine backbones")
    _choose(page, "Strategy 3", "consolidation")
    page.locator("img.ci-net").nth(2).wait_for(timeout=STEP_TIMEOUT)
    _step(page, 12)
    page.wait_for_timeout(500)
    nets, plots = _images(page, "img.ci-net"), _images(page, ".ci-plot img")
    assert len(nets) == 3 and len(plots) == 2, (nets, plots)
    assert all(w > 100 and h > 100 for w, h in nets + plots), (nets, plots)
    gap = page.locator(".ci-gap").inner_text()
    assert gap.startswith("After 1 year: outcomes ") and "with single backbone" in gap and "with consolidation" in gap
    assert page.locator(".ci-legend").count() == 1  # one legend for every strategy
    page.get_by_role("button", name="How sure?").click()
    page.get_by_text("Running 20 paired runs").wait_for(timeout=STEP_TIMEOUT)
    page.get_by_text("95% interval").wait_for(timeout=120_000)
    assert "nine backbones minus single backbone" in page.locator(".ci-sure").inner_text()
    # dark mode: the words beside the plots stay readable
    assert page.evaluate("() => !!document.querySelector('.theme--dark')")
    for selector in (".ci-legend", ".ci-gap", ".ci-about", ".ci-status"):
        assert page.evaluate(CONTRAST_JS, selector) >= 4.5, selector
    page.close(run_before_unload=True)
    assert watch.errors == [] and watch.outside == [], (watch.errors, watch.outside)


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


ADVICE_TIMEOUT = 300_000  # ms for the advice (4 paired runs of 7 strategies and the brief) on a loaded machine


def _partnership(page) -> None:
    page.get_by_text("Your partnership").click()
    page.get_by_text("Which strategy suits your partnership?").wait_for(timeout=STEP_TIMEOUT)


@pytest.mark.browser
def test_your_partnership_checks_a_roster_runs_the_advice_and_gives_the_brief(dashboard, tmp_path):
    from ci_sim.experiments.roster import load_roster, template_paths

    browser, port = dashboard
    page, watch = _open(browser, port)
    _partnership(page)
    assert page.get_by_role("button", name="Play").count() == 0  # no months in this view
    assert page.get_by_role("button", name="Run the advice").is_disabled()
    # the example roster, for a leader without a terminal: a workbook the loader reads
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Example roster (.xlsx)").click()
    assert info.value.suggested_filename.endswith(".xlsx")
    template = tmp_path / info.value.suggested_filename
    info.value.save_as(template)
    assert len(load_roster(template).names) == 60
    chooser = page.locator("input[type=file]")
    # a broken roster: the row, the column, the value and what is allowed
    bad = tmp_path / "bad.csv"
    example = ROOT / "examples" / "roster_midsize_city.csv"
    bad.write_text(example.read_text().replace("Head Start of Riverton,nonprofit", "Head Start of Riverton,nonproft"))
    chooser.set_input_files([str(bad)])
    problem = page.locator(".ci-problems")
    problem.wait_for(timeout=STEP_TIMEOUT)
    heads = page.locator(".ci-problems th").all_inner_texts()
    assert heads == ["File", "Row", "Organization", "Column", "Value", "What is allowed"], heads
    cells = page.locator(".ci-problems td").all_inner_texts()
    assert cells[:5] == ["bad.csv", "32", "Head Start of Riverton", "sector", "nonproft"], cells
    assert "did you mean 'nonprofit'" in cells[5]
    assert "Rows are numbered as in your file" in problem.inner_text()
    assert page.get_by_role("button", name="Run the advice").is_disabled()
    # a file that is not a roster: a message, not a traceback
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    chooser.set_input_files([str(notes)])
    page.locator(".ci-problems td", has_text="notes.txt").first.wait_for(timeout=STEP_TIMEOUT)
    refusal = page.locator(".ci-problems").inner_text()
    assert ".csv or .xlsx" in refusal
    assert "Rows are numbered" not in refusal and "Row" not in page.locator(".ci-problems th").all_inner_texts()
    assert "Traceback" not in page.inner_text("body")
    # the example with its two side tables: OK
    chooser.set_input_files([str(p) for p in template_paths(example)])
    page.get_by_text("✓ Roster OK").wait_for(timeout=STEP_TIMEOUT)
    chips = " ".join(page.locator(".v-file-input .v-chip").all_inner_texts())
    for p in template_paths(example):  # whole names, "roster_midsize_city_collaborations.csv" too
        assert p.name in chips, chips
    assert "60 organizations, 3 backbone claimants" in page.locator(".ci-checked").inner_text()
    assert page.locator(".ci-problems").count() == 0
    _choose(page, "Paired runs per strategy", "4 (a quick look)")
    page.get_by_role("button", name="Run the advice").click()
    page.get_by_text("Running the advice: 4 paired runs of each strategy").wait_for(timeout=STEP_TIMEOUT)
    assert page.get_by_role("button", name="Run the advice").is_disabled()
    page.locator(".ci-lead", has_text="Recommended:").wait_for(timeout=ADVICE_TIMEOUT)
    rows = page.locator(".ci-ranking tr").all_inner_texts()
    assert len(rows) == 8 and "recommended" in rows[1], rows
    quick = page.locator(".ci-quick").inner_text()  # 4 runs: a quick look, said above the ranking
    assert quick.startswith("A quick look with 4 paired runs per strategy") and "20 or more" in quick
    assert page.get_by_text("Running").count() == 0
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Brief, A4 (PDF)").click()
    download = info.value
    assert download.suggested_filename == "brief_a4.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Everything").click()
    with zipfile.ZipFile(info.value.path()) as z:
        assert "advice/strategies.yaml" in z.namelist() and "advice/brief_letter.pdf" in z.namelist()
        settings = json.loads(z.read("advice/page_settings.json"))
        command = json.loads(z.read("advice/manifest.json"))["command_line"]
    assert settings["runs_per_strategy"] == 4 and settings["anonymized"] is False
    assert command[:3] == ["ci-sim", "advise", example.name] and command[command.index("--replications") + 1] == "4"
    page.close(run_before_unload=True)
    assert watch.errors == [] and watch.outside == [], (watch.errors, watch.outside)
