"""Alert sensors against a real local HTTP server on 127.0.0.1 that records what it received."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest
from dagster._core.events import DagsterEventType

from pipelines.defs.ops.alerts import build_alert_sensors, post_webhook
from tests.ops.helpers import free_port
from tests.pipeline.runs import settings_for


class Recorder(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length", 0))
        type(self).received.append(
            {"path": self.path, "content_type": self.headers.get("Content-Type"), "body": json.loads(self.rfile.read(length))}
        )
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def webhook():
    received: list[dict] = []
    handler = type("Handler", (Recorder,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/factorenmodel", received
    server.shutdown()
    server.server_close()


@dg.op
def ingest_that_breaks():
    raise RuntimeError("Conflicting lock is held in warehouse.duckdb")


@dg.job
def broken_job():
    ingest_that_breaks()


@dg.asset
def raw_thing() -> dg.MaterializeResult:
    return dg.MaterializeResult()


@dg.asset_check(asset=raw_thing, name="freshness")
def stale_warning() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN, description="newest year 2019 < 2021")


@dg.asset_check(asset=raw_thing, name="contract")
def fine() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@dg.op
def fine_op():
    return 1


@dg.job
def fine_job():
    fine_op()


def _defs(tmp_path, url: str | None) -> tuple[dg.Definitions, list[dg.SensorDefinition]]:
    settings = settings_for(tmp_path, FACTORENMODEL_ALERT_WEBHOOK_URL=url or "")
    settings = type(settings)(**{**settings.__dict__, "alert_webhook_url": url})
    sensors = build_alert_sensors(settings)
    defs = dg.Definitions(
        jobs=[broken_job, fine_job, dg.define_asset_job("checked_job", selection=[raw_thing])],
        assets=[raw_thing],
        asset_checks=[stale_warning, fine],
        sensors=sensors,
    )
    return defs, sensors


def _tick(defs: dg.Definitions, sensor: dg.SensorDefinition, instance: dg.DagsterInstance, cursor: str | None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
    result = sensor.evaluate_tick(context)
    return result.cursor


def _run_all(defs, instance, failures: int):
    for _ in range(failures):
        result = defs.resolve_job_def("broken_job").execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
    assert defs.resolve_job_def("fine_job").execute_in_process(instance=instance).success
    assert defs.resolve_job_def("checked_job").execute_in_process(instance=instance).success


def test_one_message_per_failed_run_and_per_run_with_failed_checks(tmp_path, webhook):
    url, received = webhook
    defs, (on_failure, on_checks) = _defs(tmp_path, url)
    instance = dg.DagsterInstance.ephemeral()
    cursors = {s.name: _tick(defs, s, instance, None) for s in (on_failure, on_checks)}  # the daemon's first tick
    _run_all(defs, instance, failures=2)
    for _ in range(2):  # later ticks see each run once, never twice
        cursors = {s.name: _tick(defs, s, instance, cursors[s.name]) for s in (on_failure, on_checks)}

    texts = [r["body"]["text"] for r in received]
    assert all(r["path"] == "/hooks/factorenmodel" and r["content_type"] == "application/json" for r in received)
    assert all(set(r["body"]) == {"text"} for r in received)
    failed_runs = [r.run_id for r in instance.get_runs() if r.job_name == "broken_job"]
    assert len(failed_runs) == 2
    for run_id in failed_runs:
        (message,) = [t for t in texts if run_id in t]
        assert "FAILED" in message and "ingest_that_breaks" in message and "Conflicting lock" in message
    (checks_message,) = [t for t in texts if "checked_job" in t]
    assert "raw_thing `freshness` (WARN)" in checks_message and "2019" in checks_message and "`contract`" not in checks_message
    assert len(received) == 3  # the successful run without failed checks sent nothing

    # the alert is written to the failed run's own log too
    for run_id in failed_runs:
        logged = [e.message for e in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT)]
        assert any("alert posted to the webhook" in m and run_id in m for m in logged), logged


def test_an_unreachable_webhook_is_logged_and_fails_nothing(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/nobody-listens"  # a closed port on this machine
    assert "not reachable" in post_webhook(url, "hello", timeout=2)
    defs, (on_failure, _) = _defs(tmp_path, url)
    instance = dg.DagsterInstance.ephemeral()
    cursor = _tick(defs, on_failure, instance, None)
    _run_all(defs, instance, failures=1)
    _tick(defs, on_failure, instance, cursor)  # does not raise
    (run_id,) = [r.run_id for r in instance.get_runs() if r.job_name == "broken_job"]
    logged = [e.message for e in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT)]
    assert any("alert NOT delivered: webhook not reachable" in m for m in logged), logged
    # the pipeline's own runs are untouched by the alert's failure
    assert [r.status for r in instance.get_runs() if r.job_name == "fine_job"] == [dg.DagsterRunStatus.SUCCESS]


def test_without_a_webhook_alerts_go_to_the_logs_only(tmp_path):
    defs, (on_failure, _) = _defs(tmp_path, None)
    instance = dg.DagsterInstance.ephemeral()
    cursor = _tick(defs, on_failure, instance, None)
    _run_all(defs, instance, failures=1)
    _tick(defs, on_failure, instance, cursor)
    (run_id,) = [r.run_id for r in instance.get_runs() if r.job_name == "broken_job"]
    logged = [e.message for e in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT)]
    assert any("no webhook configured" in m for m in logged), logged
