"""dagster-dbt gives every dbt invocation a folder under ``dbt_project/target``; the dbt steps keep
the newest ``KEEP_INVOCATION_FOLDERS`` of their own and remove the rest, so a deployment's project
folder does not grow by every run."""

from __future__ import annotations

import os
import shutil
import time

import pytest

from pipelines.defs.dbt.invocation import KEEP_INVOCATION_FOLDERS, partial_parse_cache, prune_invocation_folders
from tests.pipeline.runs import materialize_all, settings_for

STEP = "factorenmodel_dbt_ml_marts"


def _old_folders(target, step: str, n: int) -> list:
    """``n`` invocation folders of ``step``, oldest first, an hour apart (and two hours ago at the latest)."""
    folders = []
    now = time.time()
    for i in range(n):
        folder = target / f"{step}-{i:07x}-abcdef{i % 10}"
        folder.mkdir(parents=True)
        (folder / "run_results.json").write_text("{}")
        stamp = now - 3600 * (n - i + 1)
        os.utime(folder, (stamp, stamp))
        folders.append(folder)
    return folders


def test_the_newest_folders_of_the_step_stay_and_nothing_else_is_touched(tmp_path):
    target = tmp_path / "target"
    old = _old_folders(target, STEP, 12)
    other = _old_folders(target, "factorenmodel_dbt", 3)
    (target / "manifest.json").write_text("{}")
    (target / "compiled").mkdir()
    current = target / f"{STEP}-1234567-7654321"
    current.mkdir()
    os.utime(current, (time.time() - 10**6, time.time() - 10**6))  # even when its clock says old

    removed = prune_invocation_folders(current, keep=4)

    assert sorted(removed) == sorted(old[:-3])  # the current one and the 3 newest others stay
    assert sorted(p.name for p in target.iterdir()) == sorted(
        [p.name for p in old[-3:]] + [p.name for p in other] + ["manifest.json", "compiled", current.name])


def test_the_folders_of_the_last_hour_stay_beyond_the_number_kept(tmp_path):
    """Deployments or test runs that share the dbt project share its target folder: a folder made in
    the last hour may belong to a dbt command still running elsewhere, so it stays."""
    target = tmp_path / "target"
    old = _old_folders(target, STEP, 3)  # two to four hours ago
    young = []
    for minutes in (10, 20, 30, 40):
        folder = target / f"{STEP}-{minutes:07d}-abcdef0"
        folder.mkdir()
        os.utime(folder, (time.time() - 60 * minutes, time.time() - 60 * minutes))
        young.append(folder)
    current = target / f"{STEP}-1234567-7654321"
    current.mkdir()

    removed = prune_invocation_folders(current, keep=2)

    assert sorted(removed) == sorted(old) and all(p.exists() for p in young)


def test_a_folder_that_is_not_an_invocation_folder_prunes_nothing(tmp_path):
    _old_folders(tmp_path / "target", STEP, 3)
    assert prune_invocation_folders(tmp_path / "target" / "compiled", keep=1) == []
    assert prune_invocation_folders(tmp_path / "elsewhere" / f"{STEP}-1234567-7654321", keep=1) == []
    assert len(list((tmp_path / "target").iterdir())) == 3


@pytest.mark.slow
def test_a_dagster_run_of_a_dbt_step_removes_that_steps_older_folders(demo_run, tmp_path, monkeypatch):
    """A real run of the ML marts' dbt step (on a copy of the session's demo run; dbt's target
    folder in this test's temporary folder, through DBT_TARGET_PATH as dagster-dbt reads it)."""
    demo_settings, _ = demo_run
    shutil.copytree(demo_settings.data_dir, tmp_path / "data", symlinks=True)
    target = tmp_path / "target"
    monkeypatch.setenv("DBT_TARGET_PATH", str(target))
    old = _old_folders(target, STEP, KEEP_INVOCATION_FOLDERS + 5)
    other = _old_folders(target, "factorenmodel_dbt", 2)

    result = materialize_all(settings_for(tmp_path / "data"), selection="key:marts/fct_chain_strength")

    assert result.success
    mine = sorted(p for p in target.iterdir() if p.name.startswith(f"{STEP}-"))
    new = [p for p in mine if p not in old]
    assert len(new) == 1 and (new[0] / "run_results.json").exists()  # this run's folder, kept
    assert sorted(set(mine) - set(new)) == old[-(KEEP_INVOCATION_FOLDERS - 1):]  # with the newest older ones
    assert all(p.exists() for p in other)


@pytest.mark.slow
def test_the_dbt_steps_parse_from_the_deployments_last_parse(demo_run, tmp_path, monkeypatch):
    """dbt could not use the parse of ``make dbt-prepare`` (its profile and vars are not the
    deployment's), so every dbt command parsed the whole project. Each command now leaves its parse
    in the data folder and the next one starts from it. The first command on this copy parses in
    full (the copy's warehouse path is another profile than the session run's parse was made for);
    the second parses nothing."""
    import json

    demo_settings, _ = demo_run
    assert partial_parse_cache(demo_settings.data_dir).is_file()  # the session's run left its parse
    shutil.copytree(demo_settings.data_dir, tmp_path / "data", symlinks=True)
    settings = settings_for(tmp_path / "data")
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))

    def parse_messages(run: str) -> list[str]:
        result = materialize_all(settings, selection="key:marts/fct_chain_strength")
        assert result.success
        (folder,) = (tmp_path / "target").glob(f"{STEP}-{result.run_id[:7]}-*")
        messages = [json.loads(line)["info"]["msg"] for line in (folder / "dbt.log").read_text().splitlines()]
        return [m for m in messages if "partial parsing" in m.lower()]

    assert any("Unable to do partial parsing because profile has changed" in m for m in parse_messages("first"))
    second = parse_messages("second")
    assert not any("Unable" in m for m in second) and any("Partial parsing enabled" in m for m in second), second
