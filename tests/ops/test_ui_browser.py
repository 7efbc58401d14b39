"""The Dagster UI in a real browser: Debian's headless chromium driven by Playwright (no browser download).

Starts ``dagster dev -w workspace.yaml`` on a free localhost port (temporary DAGSTER_HOME with the
project's dagster.yaml, temporary data folder), checks that the asset groups, the asset checks and
the schedules and sensors are visible, and launches *Materialize all* with a click. The sources are
partitioned by year, so the UI asks which partitions: *All*, then *Launch backfill*: the backfill of
every year that an operator starts from the UI. The daemon of ``dagster dev`` runs it (the sources
for every year in one run, then what is downstream); the test waits for the backfill to complete,
checks that raw holds every year and every year partition is materialised, and saves screenshots in
``test-artifacts/ops/`` (kept by CI, ignored by git).
"""

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.execution.backfill import BulkActionStatus

from data_contracts.contract import load_contracts
from pipelines.settings import PROJECT_DIR
from tests.ops.helpers import ARTIFACTS_DIR, VENV_BIN, dagster_home, free_port, instance_at, subprocess_env

CHROMIUM = Path("/usr/bin/chromium")
STARTUP_SECONDS = 180
BACKFILL_SECONDS = 600
DEMO_YEARS = [str(y) for y in range(2015, 2025)]


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
        yield f"http://127.0.0.1:{port}", log, home, tmp_path / "data"
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
def test_the_ui_shows_groups_checks_schedules_and_backfills_every_year_from_a_click(dagster_dev):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium; .ci/run installs it with apt-get)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    base, log, home, data_dir = dagster_dev
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

            # Materialize all, with a click: the sources are partitioned by year, so the dialog asks which
            # partitions; All, then Launch backfill (every year of every source, then everything downstream)
            page.goto(f"{base}/asset-groups")
            page.wait_for_load_state("networkidle")
            _dismiss_first_visit_dialogs(page)
            page.get_by_role("button", name="Materialize all").first.click()
            dialog = page.locator(".bp5-dialog")
            dialog.get_by_text("Partition selection").first.wait_for()
            dialog.get_by_role("button", name="All", exact=True).click()
            dialog.get_by_text(f"{len(DEMO_YEARS)} partitions selected").first.wait_for()
            shot(page, "backfill_dialog")
            dialog.get_by_role("button", name="Launch backfill").click()
            dialog.wait_for(state="hidden")
            shot(page, "launched")

            # while the daemon runs the backfill, the browser shows a blank page: the open asset graph
            # refetched the status of every asset as the runs wrote events, which cost the webserver
            # and the browser about 70 CPU-s (this test alone on a quiet machine: 242 -> 178 s wall,
            # 233 -> 166 CPU-s)
            page.goto("about:blank")
            backfill = _wait_for_backfill(home, log)
            page.goto(f"{base}/runs/b/{backfill.backfill_id}")
            page.wait_for_load_state("networkidle")
            shot(page, "backfill")
            assert backfill.status == BulkActionStatus.COMPLETED_SUCCESS, f"backfill ended {backfill.status}\n{log.read_text()[-3000:]}"

            page.goto(f"{base}/runs/b/{backfill.backfill_id}?tab=runs")  # the runs page groups them under the backfill
            page.wait_for_load_state("networkidle")
            page.locator("a[href*='/runs/'][href*='-']").first.wait_for()  # the backfill's runs are listed
            page.get_by_text("Success", exact=True).first.wait_for()
            shot(page, "backfill_runs")
        finally:
            shot(page, "last")
            browser.close()
    assert all(p.stat().st_size > 10_000 for p in shots)
    _assert_every_year_loaded(home, data_dir)


def _wait_for_backfill(home: Path, log: Path):
    """The one backfill the click launched, once it has finished (the daemon of dagster dev runs it)."""
    deadline = time.monotonic() + BACKFILL_SECONDS
    instance = instance_at(home)
    try:
        while True:
            backfills = instance.get_backfills()
            if backfills and backfills[0].status not in (BulkActionStatus.REQUESTED, BulkActionStatus.CANCELING,
                                                         BulkActionStatus.FAILING):
                (backfill,) = backfills
                return backfill
            if time.monotonic() > deadline:
                pytest.fail(f"the backfill did not finish within {BACKFILL_SECONDS} s: {backfills}\n{log.read_text()[-3000:]}")
            time.sleep(3)
    finally:
        instance.dispose()


def _assert_every_year_loaded(home: Path, data_dir: Path) -> None:
    """Every year partition of every source materialised, in runs that all succeeded, and raw holds every year."""
    instance = instance_at(home)
    try:
        runs = instance.get_run_records()
        assert runs and all(r.dagster_run.is_success for r in runs), [(r.dagster_run.asset_selection, r.dagster_run.status) for r in runs]
        for source in load_contracts():
            assert sorted(instance.get_materialized_partitions(dg.AssetKey(["raw", source]))) == DEMO_YEARS, source
        assert instance.get_latest_materialization_event(dg.AssetKey("serving_copy")) is not None
    finally:
        instance.dispose()
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        for source in ("cbs_kerncijfers", "gemeente_registraties", "ggd_monitor", "duo_onderwijs", "politie_jeugdverdachten",
                       "gebiedsindeling"):
            years = [str(y) for (y,) in con.execute(f"select distinct jaar from raw.{source} order by 1").fetchall()]
            assert years == DEMO_YEARS, source
