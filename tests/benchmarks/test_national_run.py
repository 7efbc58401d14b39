"""The national benchmark's reading of a Dagster log (``benchmarks/national_run.py --one-run``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from national_run import parse_duration, step_seconds  # noqa: E402


@pytest.mark.parametrize(("text", "seconds"), [
    ("850ms", 0.85), ("56.14s", 56.14), ("2m22s", 142.0), ("1h3m", 3780.0), ("3m0s", 180.0),
])
def test_durations_as_dagster_writes_them(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "2x", "1.5", "m3"])
def test_what_is_not_a_duration_is_refused(text):
    with pytest.raises(ValueError, match="not a Dagster duration"):
        parse_duration(text)


def test_each_step_of_a_log_with_its_duration(tmp_path):
    log = tmp_path / "run.log"
    prefix = "2026-11-27 05:29:53 +0000 - dagster - DEBUG - __ASSET_JOB - 9648255f - 26814 - "
    log.write_text(
        prefix + 'raw__gebiedsindeling - STEP_START - Started execution of step "raw__gebiedsindeling".\n'
        + prefix + 'raw__gebiedsindeling - STEP_SUCCESS - Finished execution of step "raw__gebiedsindeling" in 6.12s.\n'
        + prefix + 'source_freshness - STEP_SUCCESS - Finished execution of step "source_freshness" in 363ms.\n'
        + prefix + 'factorenmodel_dbt - STEP_SUCCESS - Finished execution of step "factorenmodel_dbt" in 2m22s.\n')
    assert step_seconds(log) == pytest.approx(
        {"raw__gebiedsindeling": 6.12, "source_freshness": 0.363, "factorenmodel_dbt": 142.0})
