"""One asset per estimator module in models_ml/estimators, and the comparison of all of them.

Dropping a module that follows the interface (NAME, DESCRIPTION, make_estimator) into
models_ml/estimators makes ``ml/model_<NAME>`` appear here with no other change.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from models_ml import comparison
from models_ml.estimators import EstimatorSpec, discover
from models_ml.panel import build_panels
from pipelines.defs.ml.assets import AREAS, GROUP, SCORES, SEEDS, VALUES, key
from pipelines.defs.ml.tables import ML_SCHEMA, read_table, write_table
from pipelines.defs.sources.assets import WAREHOUSE_POOL


def build_model_asset(spec: EstimatorSpec) -> dg.AssetsDefinition:
    @dg.asset(key=key(f"model_{spec.name}"), group_name=GROUP, kinds={"python", "scikitlearn"},
              deps=[SCORES, VALUES, AREAS, *SEEDS[:2]], pool=WAREHOUSE_POOL,
              description=(f"Model '{spec.name}' ({spec.module}): {spec.description} Cross-validated error per "
                           "outcome (areas held out) and permutation importance per factor."))
    def _model(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
        errors: list[tuple[str, str]] = []
        with warehouse.get_connection() as con:
            cv, importance = comparison.evaluate(spec, build_panels(con), errors=errors)
            write_table(con, f"model_{spec.name}_cv", cv, context.run.run_id)
            write_table(con, f"model_{spec.name}_importance", importance, context.run.run_id)
        if errors:
            context.log.error(
                f"Model '{spec.name}' ({spec.path}) failed on {len(errors)} of {len(cv)} outcomes, first on "
                f"{errors[0][0]}: {errors[0][1]}. Those rows say status 'failed' in the comparison; the other "
                "models, the ranking and the publication go on. Fix or remove the module.")
        estimated = cv[cv["status"] == "estimated"]
        return dg.MaterializeResult(metadata={
            "outcomes": len(cv), "mean_cv_rmse": float(estimated["cv_rmse"].mean()) if len(estimated) else None,
            "mean_cv_r2": float(estimated["cv_r2"].mean()) if len(estimated) else None,
            "failed_outcomes": len(errors),
            **({"first_error": f"{errors[0][0]}: {errors[0][1]}"} if errors else {}),
        })

    return _model


def build_comparison_asset(specs: list[EstimatorSpec]) -> dg.AssetsDefinition:
    @dg.asset(key=key("model_comparison"), group_name=GROUP, kinds={"python", "duckdb"},
              deps=[key(f"model_{s.name}") for s in specs], pool=WAREHOUSE_POOL,
              description="Every model's cross-validated error per outcome side by side, relative to the default (linear_fe).")
    def model_comparison(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
        with warehouse.get_connection() as con:
            table = comparison.comparison_table([read_table(con, f"model_{s.name}_cv") for s in specs])
            rows = write_table(con, "model_comparison", table, context.run.run_id)
        summary = table.groupby("model")[["cv_rmse", "cv_r2"]].mean().round(4).reset_index()
        return dg.MaterializeResult(metadata={"rows": rows, "models": len(specs),
                                              "summary": dg.MetadataValue.md(summary.to_markdown(index=False))
                                              if hasattr(summary, "to_markdown") else str(summary)})

    return model_comparison


def build_model_assets() -> list[dg.AssetsDefinition]:
    specs = discover()
    return [*(build_model_asset(s) for s in specs), build_comparison_asset(specs)]


__all__ = ["ML_SCHEMA", "build_model_assets"]
