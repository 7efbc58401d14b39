"""One asset per estimator module in models_ml/estimators, and the comparison of all of them.

Dropping a module that follows the interface (NAME, DESCRIPTION, make_estimator) into
models_ml/estimators makes ``ml/model_<NAME>`` appear here with no other change.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from models_ml import comparison
from models_ml.estimators import EstimatorSpec, discover
from pipelines.defs.ml.assets import AREAS, GROUP, SEEDS, VALUES, key
from pipelines.defs.ml.panels import run_panels
from pipelines.defs.ml.progress import outcome_progress
from pipelines.defs.ml.tables import ML_SCHEMA, published_note, read_table, table_metadata, write_table
from pipelines.defs.sources.metadata import markdown_table
from pipelines.defs.sources.assets import WAREHOUSE_POOL


CV_R2_MEANING = ("cv_rmse is in SDs of the outcome's signal; cv_r2 is relative to predicting each area's own mean "
                 "(0 after the within transformation): below 0, the model predicts held-out areas worse than that.")


def build_model_asset(spec: EstimatorSpec) -> dg.AssetsDefinition:
    @dg.asset(key=key(f"model_{spec.name}"), group_name=GROUP, kinds={"python", "scikitlearn", "duckdb"},
              deps=[VALUES, AREAS, *SEEDS[:3]], pool=WAREHOUSE_POOL,
              metadata=table_metadata(f"model_{spec.name}_cv"),
              description=(f"Model '{spec.name}' ({spec.module}): {spec.description} Cross-validated error per "
                           "outcome (areas held out) and permutation importance per factor, in "
                           f"`{ML_SCHEMA}.model_{spec.name}_cv` and `{ML_SCHEMA}.model_{spec.name}_importance`; "
                           f"compared in `ml/model_comparison`. {CV_R2_MEANING}"))
    def _model(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
        errors: list[tuple[str, str]] = []
        with warehouse.get_connection() as con:
            panels = run_panels(context, con, warehouse.database)
            context.log.info(f"Model '{spec.name}': cross-validating {len(panels)} outcomes")
            cv, importance = comparison.evaluate(spec, panels, errors=errors,
                                                 progress=outcome_progress(context, f"model {spec.name}"))
            write_table(con, f"model_{spec.name}_cv", cv, context.run.run_id)
            write_table(con, f"model_{spec.name}_importance", importance, context.run.run_id)
        if errors:
            context.log.error(
                f"Model '{spec.name}' ({spec.path}) failed on {len(errors)} of {len(cv)} outcomes, first on "
                f"{errors[0][0]}: {errors[0][1]}. Those rows say status 'failed' in the comparison; the other "
                "models, the ranking and the publication go on. Fix or remove the module.")
        estimated = cv[cv["status"] == "estimated"]

        def mean(column: str) -> float | None:
            return round(float(estimated[column].mean()), 4) if len(estimated) else None

        return dg.MaterializeResult(metadata={
            "dagster/row_count": len(cv), "outcomes": len(cv), "estimated": len(estimated),
            "not_estimable": int((cv["status"] == "not_estimable").sum()), "failed_outcomes": len(errors),
            "mean_cv_rmse_over_its_estimated_outcomes": mean("cv_rmse"),
            "mean_cv_r2_over_its_estimated_outcomes": mean("cv_r2"),
            "method_version": comparison.METHOD_VERSION,
            **({"first_error": f"{errors[0][0]}: {errors[0][1]}"} if errors else {}),
        })

    return _model


def stale_model_tables(con, specs: list[EstimatorSpec]) -> list[str]:
    """``ml.model_<name>_cv`` / ``_importance`` tables of models whose module is gone."""
    names = {s.name for s in specs}
    tables = [t for (t,) in con.execute(
        "select table_name from information_schema.tables where table_schema = ?", [ML_SCHEMA]).fetchall()]
    return sorted(t for t in tables
                  if t.startswith("model_") and t.endswith(("_cv", "_importance"))
                  and t.removeprefix("model_").removesuffix("_cv").removesuffix("_importance") not in names)


def build_comparison_asset(specs: list[EstimatorSpec]) -> dg.AssetsDefinition:
    @dg.asset(key=key("model_comparison"), group_name=GROUP, kinds={"python", "duckdb"},
              deps=[key(f"model_{s.name}") for s in specs], pool=WAREHOUSE_POOL,
              metadata=table_metadata("model_comparison"),
              description=("Every model's cross-validated error per outcome side by side, relative to the default "
                           f"(linear_fe). {CV_R2_MEANING}" + published_note("model_comparison")))
    def model_comparison(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
        with warehouse.get_connection() as con:
            table = comparison.comparison_table([read_table(con, f"model_{s.name}_cv") for s in specs])
            rows = write_table(con, "model_comparison", table, context.run.run_id)
            stale = stale_model_tables(con, specs)
            for name in stale:
                con.execute(f"drop table {ML_SCHEMA}.{name}")
        if stale:
            context.log.info(f"Dropped the tables of models whose module is gone: {', '.join(stale)}")
        summary = comparison.comparison_summary(table)
        failing = summary[summary["failed"] > 0]
        if len(failing):
            context.log.warning(
                "Models that failed on some outcomes (their rows say status 'failed'; the means compare every "
                "model on the outcomes all of them estimated): "
                + ", ".join(f"{r.model} ({r.failed} of {r.estimated + r.failed + r.not_estimable})"
                            for r in failing.itertuples()))
        return dg.MaterializeResult(metadata={
            "dagster/row_count": rows, "models": len(specs),
            "common_outcomes": int(summary["common_outcomes"].iloc[0]) if len(summary) else 0,
            "models_with_failures": ", ".join(failing["model"]) or "none",
            "summary": dg.MetadataValue.md(markdown_table(summary.to_dict("records"))),
            "method_version": comparison.METHOD_VERSION,
        })

    return model_comparison


def build_model_assets() -> list[dg.AssetsDefinition]:
    specs = discover()
    return [*(build_model_asset(s) for s in specs), build_comparison_asset(specs)]


__all__ = ["ML_SCHEMA", "build_model_assets"]
