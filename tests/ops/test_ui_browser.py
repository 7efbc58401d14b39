"""The Dagster UI in a real browser: Debian's headless chromium driven by Playwright (no browser download).

Starts ``dagster dev -w workspace.yaml`` on a free localhost port (temporary DAGSTER_HOME with the
project's dagster.yaml, temporary data folder), checks that the asset groups, the asset checks and
the schedules and sensors are visible, launches *Materialize all* with a click, waits for the run to
succeed, and saves screenshots in ``test-artifacts/ops/`` (kept by CI, ignored by git).
"""

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from pipelines.settings import PROJECT_DIR
from tests.ops.helpers import ARTIFACTS_DIR, VENV_BIN, dagster_home, free_port, subprocess_env

CHROMIUM = Path("/usr/bin/chromium")
STARTUP_SECONDS = 180
RUN_SECONDS = 420


def _wait_for_http(url: str, proc: subprocess.Popen, log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"dagster dev exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    pytest.fail(f"dagster dev did not answer {url} within {seconds} s:\n{log.read_text()[-4000:]}")


@pytest.fixture
def dagster_dev(tmp_path):
    home = dagster_home(tmp_path)
    port = free_port()
    log = tmp_path / "dagster_dev.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(VENV_BIN / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=PROJECT_DIR, env=subprocess_env(home, tmp_path / "data"), stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,  # its own process group: killed whole below
        )
    try:
        _wait_for_http(f"http://127.0.0.1:{port}/server_info", proc, log, STARTUP_SECONDS)
        yield f"http://127.0.0.1:{port}", log
    finally:
        # dagster dev ignores SIGTERM without a terminal: end its whole group (webserver, daemon, code server)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)


def _dismiss_first_visit_dialogs(page) -> None:
    for label in ("Dismiss", "Got it", "Close", "Skip", "No thanks", "Maybe later", "Continue"):
        button = page.get_by_role("button", name=label)
        if button.count() and button.first.is_visible():
            button.first.click()
            page.wait_for_timeout(300)
    page.keyboard.press("Escape")


@pytest.mark.slow
def test_the_ui_shows_groups_checks_schedules_and_runs_the_demo_from_a_click(dagster_dev):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium; .ci/run installs it with apt-get)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    base, log = dagster_dev
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    shots = []

    def shot(page, name: str) -> None:
        path = ARTIFACTS_DIR / f"{len(shots) + 1:02d}_{name}.png"
        page.screenshot(path=str(path), full_page=False)
        shots.append(path)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(60_000)
        try:
            # the asset graph, with every group
            page.goto(f"{base}/asset-groups")
            page.wait_for_load_state("networkidle")
            _dismiss_first_visit_dialogs(page)
            for group in ("sources", "factor_model", "staging", "marts", "publish"):
                page.get_by_text(group, exact=True).first.wait_for()
            shot(page, "asset_graph")

            # the asset checks of a source: pandera contract, rows accounted, freshness
            page.goto(f"{base}/assets/raw/ggd_monitor?view=checks")
            page.wait_for_load_state("networkidle")
            _dismiss_first_visit_dialogs(page)
            for check in ("contract_ggd_monitor", "rows_accounted_ggd_monitor", "freshness"):
                page.get_by_text(check, exact=True).first.wait_for()
            shot(page, "asset_checks")

            # schedules and sensors (all shipped stopped, alerts running)
            page.goto(f"{base}/automation")
            page.wait_for_load_state("networkidle")
            _dismiss_first_visit_dialogs(page)
            for name in ("yearly_full_refresh", "monthly_cbs_release_check", "factorenmodel_automation",
                         "alert_on_run_failure"):
                page.get_by_text(name, exact=True).first.wait_for()
            shot(page, "schedules_and_sensors")

            # Materialize all, with a click
            page.goto(f"{base}/asset-groups")
            page.wait_for_load_state("networkidle")
            _dismiss_first_visit_dialogs(page)
            page.get_by_role("button", name="Materialize all").first.click()
            page.wait_for_timeout(1000)
            confirm = page.get_by_role("button", name="Launch")  # some versions confirm in a dialog
            if confirm.count() and confirm.first.is_visible():
                confirm.first.click()
            shot(page, "launched")

            page.goto(f"{base}/runs")
            page.wait_for_load_state("networkidle")
            page.locator("a[href*='/runs/'][href*='-']").first.wait_for()  # the launched run is listed
            deadline = time.monotonic() + RUN_SECONDS
            status = None
            while time.monotonic() < deadline and status is None:
                for label in ("Success", "Failure", "Canceled"):
                    tag = page.get_by_text(label, exact=True)
                    if tag.count() and tag.first.is_visible():
                        status = label
                        break
                else:
                    page.wait_for_timeout(3000)
                    page.reload()
                    page.wait_for_load_state("networkidle")
            shot(page, "runs")
            assert status == "Success", f"run did not succeed: {status!r}\n{log.read_text()[-3000:]}"

            page.locator("a[href*='/runs/'][href*='-']").first.click()
            page.wait_for_load_state("networkidle")
            page.get_by_text("RUN_SUCCESS").first.wait_for()
            shot(page, "run_success")
        finally:
            shot(page, "last")
            browser.close()
    assert all(p.stat().st_size > 10_000 for p in shots)
