"""Adding one module under models_ml/estimators makes a Dagster asset appear, with no other change,
and puts the new model in the comparison table beside the default; a module that breaks the
interface is named with its file, and one that fails when fitted does not stop the publication.

The added modules are written to a temporary folder that is put on the package's search path
(``models_ml.estimators.__path__``), which is how Python finds a module dropped into the package:
the project's own folder stays untouched, so tests running beside this one never see them."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from models_ml import estimators
from pipelines.definitions import build_definitions
from tests.pipeline.runs import settings_for

KNN = '''"""k nearest neighbours: a data scientist's added model (test fixture)."""
from sklearn.neighbors import KNeighborsRegressor

NAME = "knn_test"
DESCRIPTION = "k nearest neighbours on demeaned data."


def make_estimator():
    return KNeighborsRegressor(n_neighbors=15)
'''

FAILS_WHEN_FITTED = '''"""A classifier by mistake: it cannot be fitted to a continuous outcome (test fixture)."""
from sklearn.linear_model import LogisticRegression

NAME = "classifier_test"
DESCRIPTION = "A classifier where a regressor belongs."


def make_estimator():
    return LogisticRegression()
'''


@pytest.fixture
def add_module(tmp_path, monkeypatch):
    """Write modules into a folder on the estimators package's path; forget them afterwards."""
    folder = tmp_path / "estimators"
    folder.mkdir()
    monkeypatch.setattr(estimators, "__path__", [*estimators.__path__, str(folder)])
    written = []

    def add(name: str, source: str) -> Path:
        path = folder / f"{name}.py"
        path.write_text(source, encoding="utf-8")
        written.append(name)
        return path

    yield add
    for name in written:
        sys.modules.pop(f"{estimators.__name__}.{name}", None)


@pytest.mark.slow
def test_a_new_estimator_module_becomes_an_asset_and_joins_the_comparison(add_module, demo_run, tmp_path):
    add_module("knn_test", KNN)
    add_module("classifier_test", FAILS_WHEN_FITTED)
    demo_settings, _ = demo_run
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(demo_settings.warehouse_path, data / "warehouse.duckdb")  # a copy: the session's run stays intact
    settings = settings_for(data)
    defs = build_definitions(settings)
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"ml/model_knn_test", "ml/model_classifier_test", "ml/model_linear_fe"} <= keys

    job = defs.resolve_implicit_global_asset_job_def()
    models = [dg.AssetKey(["ml", f"model_{s.name}"]) for s in estimators.discover()]
    selection = [*models, dg.AssetKey(["ml", "model_comparison"]), dg.AssetKey(["marts", "mart_model_comparison"])]
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), asset_selection=selection)
    assert result.success  # the classifier's failure does not stop the comparison or its publication
    failed = next(m for m in result.get_asset_materialization_events()
                  if m.asset_key == dg.AssetKey(["ml", "model_classifier_test"])).materialization.metadata
    assert failed["failed_outcomes"].value > 10 and "ValueError" in failed["first_error"].value
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        table = con.execute("select model, count(*), avg(cv_rmse), count(*) filter (status = 'failed') "
                            "from marts.mart_model_comparison group by 1 order by 1").fetchall()
        by_model = {row[0]: row for row in table}
        assert {"gradient_boosting", "knn_test", "linear_fe", "classifier_test"} <= set(by_model)
        assert by_model["knn_test"][1] == by_model["linear_fe"][1] > 10  # one row per outcome for every model
        assert by_model["knn_test"][2] > 0 and by_model["knn_test"][3] == 0
        not_estimable = con.execute("select count(*) from marts.mart_model_comparison "
                                    "where model = 'linear_fe' and status = 'not_estimable'").fetchone()[0]
    assert by_model["classifier_test"][3] == by_model["linear_fe"][1] - not_estimable  # failed wherever tried


@pytest.mark.parametrize("source, message", [
    ("NAME = 'broken_test'\n", r"models_ml\.estimators\.broken_test \(.*broken_test\.py\) must define DESCRIPTION, make_estimator"),
    ("from sklearn.neighbours import KNeighborsRegressor\n",
     r"models_ml\.estimators\.broken_test \(.*broken_test\.py\) could not be imported: ModuleNotFoundError: No module named 'sklearn\.neighbours'"),
    ("NAME = 5\nDESCRIPTION = 'x'\ndef make_estimator(): pass\n", r"broken_test\.py\): NAME 5 must be a string"),
    ("from sklearn.linear_model import Ridge\nNAME = 'ridge_test'\nDESCRIPTION = 'Ridge.'\nmake_estimator = Ridge()\n",
     r"broken_test\.py\): make_estimator must be a function that returns a new scikit-learn regressor, not Ridge\(\)"),
    ("NAME = 'linear_fe'\nDESCRIPTION = 'A copy.'\ndef make_estimator(): pass\n",
     r"estimator NAME used more than once: linear_fe in models_ml/estimators/linear_fe\.py and .*broken_test\.py"),
])
def test_a_module_that_breaks_the_interface_is_named_with_its_file(add_module, source, message):
    add_module("broken_test", source)
    with pytest.raises(estimators.EstimatorError, match=message):
        estimators.discover()


def test_a_class_is_a_valid_make_estimator(add_module):
    add_module("ridge_test", "from sklearn.linear_model import Ridge\nNAME = 'ridge_test'\n"
                             "DESCRIPTION = 'Ridge.'\nmake_estimator = Ridge\n")
    assert "ridge_test" in {s.name for s in estimators.discover()}
