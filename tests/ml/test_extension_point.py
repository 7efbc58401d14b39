"""Adding one module under models_ml/estimators makes a Dagster asset appear, with no other change,
and puts the new model in the comparison table beside the default."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from models_ml import estimators
from pipelines.definitions import build_definitions
from tests.pipeline.runs import settings_for

pytestmark = pytest.mark.slow

NEW_MODULE = '''"""k nearest neighbours: a data scientist's added model (test fixture)."""
from sklearn.neighbors import KNeighborsRegressor

NAME = "knn_test"
DESCRIPTION = "k nearest neighbours on demeaned data."


def make_estimator():
    return KNeighborsRegressor(n_neighbors=15)
'''


@pytest.fixture
def added_module():
    path = Path(estimators.__file__).parent / "knn_test.py"
    path.write_text(NEW_MODULE, encoding="utf-8")
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def test_a_new_estimator_module_becomes_an_asset_and_joins_the_comparison(added_module, demo_run, tmp_path):
    demo_settings, _ = demo_run
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(demo_settings.warehouse_path, data / "warehouse.duckdb")  # a copy: the session's run stays intact
    settings = settings_for(data)
    defs = build_definitions(settings)
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert "ml/model_knn_test" in keys and "ml/model_linear_fe" in keys

    job = defs.resolve_implicit_global_asset_job_def()
    selection = [dg.AssetKey(["ml", "model_knn_test"]), dg.AssetKey(["ml", "model_linear_fe"]),
                 dg.AssetKey(["ml", "model_gradient_boosting"]), dg.AssetKey(["ml", "model_comparison"])]
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), asset_selection=selection)
    assert result.success
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        table = con.execute("select model, count(*), avg(cv_rmse) from ml.model_comparison group by 1 order by 1").fetchall()
    models = {row[0]: row for row in table}
    assert set(models) == {"gradient_boosting", "knn_test", "linear_fe"}
    assert models["knn_test"][1] == models["linear_fe"][1] > 10  # one row per outcome for every model


def test_a_module_that_breaks_the_interface_is_named(tmp_path):
    broken = Path(estimators.__file__).parent / "broken_test.py"
    broken.write_text("NAME = 'broken_test'\n", encoding="utf-8")
    try:
        with pytest.raises(estimators.EstimatorError, match="broken_test must define DESCRIPTION, make_estimator"):
            estimators.discover()
    finally:
        broken.unlink()
