"""Alerts: a failed run, or checks that failed in a run that succeeded, post one short message.

The message is JSON ``{"text": "..."}``, the shape that Slack, Mattermost and Microsoft Teams
incoming webhooks accept. The address is the deployment's ``alert_webhook_url`` (configuration file
or ``FACTORENMODEL_ALERT_WEBHOOK_URL``), never code. Every alert is also written to the run's own
event log (an engine event in the run's page in the UI) and to the sensor's log; a webhook that is
not set, not reachable or answers an error is logged there and never fails anything.

- ``alert_on_run_failure`` (run-failure sensor): one message per failed run, naming the failed
  steps and the failed checks (a failed blocking check is why a run fails before publishing).
- ``alert_on_check_failure`` (run-status sensor on success): one message per successful run in which
  checks failed (warnings: quarantined rows, a stale event-like source, an old serving copy). Failed
  runs are left to the first sensor, so a run never gives two messages.

Both ship RUNNING (they do nothing until the daemon runs; without a webhook they only log).
"""


import json
import urllib.error
import urllib.request
from collections.abc import Callable

import dagster as dg
from dagster._core.events import DagsterEventType

from pipelines.settings import Settings

WEBHOOK_TIMEOUT_SECONDS = 10.0
MAX_ITEMS = 8
MAX_TEXT = 3000


def post_webhook(url: str, text: str, timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> str | None:
    """POST ``{"text": text}`` to ``url``; the problem as a string, or None when it was accepted."""
    body = json.dumps({"text": text}).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - configured address
            if response.status >= 300:
                return f"webhook answered HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"webhook answered HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"webhook not reachable: {getattr(exc, 'reason', exc)}"
    return None


def failed_checks(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    lines = []
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = entry.dagster_event.event_specific_data
        if evaluation.passed:
            continue
        description = (evaluation.description or "").splitlines()[0] if evaluation.description else ""
        lines.append(
            f"{evaluation.asset_key.to_user_string()} `{evaluation.check_name}` ({evaluation.severity.value})"
            + (f": {description[:200]}" if description else "")
        )
    return lines


def failed_steps(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    lines = []
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE):
        error = entry.dagster_event.event_specific_data.error
        while error is not None and error.cause is not None:  # the user's error, not Dagster's wrapper
            error = error.cause
        message = (error.message if error else entry.message or "").strip().splitlines()
        lines.append(f"{entry.step_key}: {(message[0] if message else 'failed')[:300]}")
    return lines


def _bullets(title: str, items: list[str]) -> str:
    if not items:
        return ""
    shown = [f"- {i}" for i in items[:MAX_ITEMS]]
    if len(items) > MAX_ITEMS:
        shown.append(f"- ... and {len(items) - MAX_ITEMS} more")
    return f"\n{title}:\n" + "\n".join(shown)


def run_failure_text(run: dg.DagsterRun, instance: dg.DagsterInstance, deployment: str) -> str:
    text = (
        f"Factorenmodel ({deployment}): run {run.run_id} of job {run.job_name} FAILED."
        + _bullets("Failed steps", failed_steps(instance, run.run_id))
        + _bullets("Failed checks", failed_checks(instance, run.run_id))
        + "\nThe previous serving copy stays current. Open the run in the Dagster UI (Runs) for details."
    )
    return text[:MAX_TEXT]


def check_failure_text(run: dg.DagsterRun, checks: list[str], deployment: str) -> str:
    text = (
        f"Factorenmodel ({deployment}): run {run.run_id} of job {run.job_name} succeeded, "
        f"but {len(checks)} check(s) failed (warnings, not blocking)."
        + _bullets("Failed checks", checks)
    )
    return text[:MAX_TEXT]


def deliver(
    text: str,
    run: dg.DagsterRun,
    instance: dg.DagsterInstance,
    log: Callable[[str], None],
    webhook_url: str | None,
) -> str:
    """Post ``text`` and record the alert (and the delivery outcome) in the run log; the outcome."""
    if not webhook_url:
        outcome = "no webhook configured (set alert_webhook_url or FACTORENMODEL_ALERT_WEBHOOK_URL)"
    else:
        problem = post_webhook(webhook_url, text)
        outcome = f"alert NOT delivered: {problem}" if problem else "alert posted to the webhook"
    log(f"{outcome}\n{text}")
    try:
        instance.report_engine_event(f"Alert ({outcome}): {text}", run)
    except Exception as exc:  # noqa: BLE001 - recording the alert must never fail the sensor
        log(f"could not write the alert to the run log: {exc}")
    return outcome


def _deployment(settings: Settings) -> str:
    name = getattr(settings, "municipality_name", None)
    return name or ("demo Demostad" if settings.is_demo else ", ".join(sorted(settings.gemeenten)))


def build_alert_sensors(settings: Settings) -> list[dg.SensorDefinition]:
    webhook_url = getattr(settings, "alert_webhook_url", None)
    deployment = _deployment(settings)

    @dg.run_failure_sensor(
        name="alert_on_run_failure",
        monitor_all_code_locations=False,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description=(
            "Posts one short JSON message ({\"text\": ...}) per failed run to the deployment's alert webhook "
            "(failed steps and checks) and writes it to the run log. An unreachable webhook is only logged."
        ),
    )
    def alert_on_run_failure(context: dg.RunFailureSensorContext) -> None:
        text = run_failure_text(context.dagster_run, context.instance, deployment)
        deliver(text, context.dagster_run, context.instance, context.log.info, webhook_url)

    @dg.run_status_sensor(
        name="alert_on_check_failure",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitor_all_code_locations=False,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description=(
            "Posts one message per successful run in which asset checks failed (warnings: quarantined rows, "
            "stale event sources, an old serving copy) to the alert webhook and the run log."
        ),
    )
    def alert_on_check_failure(context: dg.RunStatusSensorContext) -> None:
        checks = failed_checks(context.instance, context.dagster_run.run_id)
        if not checks:
            return
        text = check_failure_text(context.dagster_run, checks, deployment)
        deliver(text, context.dagster_run, context.instance, context.log.info, webhook_url)

    return [alert_on_run_failure, alert_on_check_failure]
