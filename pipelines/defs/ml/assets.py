"""Thin Dagster assets around models_ml: associations, chains, merge, ranking (group ``ml``).

Each asset reads what it needs from the warehouse, calls plain functions in ``models_ml`` and
writes one table in schema ``ml``; dbt publishes them as marts with contracts
(``dbt_project/models/marts/ml``). The associations, chains and merge also write the covariances of
their estimates (``ml.association_local_cov``, ``ml.chain_strength_cov``, ``ml.effect_merged_cov``;
internal, not published: models_ml/README.md), which the ranking's Monte Carlo draws carry.
"""

import time

import dagster as dg
from dagster_duckdb import DuckDBResource

from models_ml import associations, chains, merge, ranking, ranking_model, ranking_text
from pipelines.defs.ml.panels import run_panels
from pipelines.defs.ml.progress import outcome_progress
from pipelines.defs.ml.tables import (
    ML_SCHEMA, published_note, read_table, read_table_if_exists, table_metadata, write_table,
)
from pipelines.defs.sources.assets import WAREHOUSE_POOL
from pipelines.defs.sources.metadata import markdown_table

GROUP = "ml"
CAVEAT = "Ecological (area-level) associations, not individual causal effects."


def key(name: str) -> dg.AssetKey:
    return dg.AssetKey([GROUP, name])


def dbt_key(*parts: str) -> dg.AssetKey:
    return dg.AssetKey(list(parts))


SCORES = dbt_key("intermediate", "int_factor_score")  # every area's score; the published mart withholds some
PUBLISHED_SCORES = dbt_key("marts", "fct_factor_score")  # the ranking's room for improvement: ranking.load_scores
VALUES = dbt_key("intermediate", "int_indicator_value")
AREAS = dbt_key("marts", "dim_area")
SEEDS = [dbt_key("factor_model", s) for s in ("indicators", "factor_subgoal_links", "factors", "subgoals",
                                              "factor_life_phases", "factor_factor_links", "literature_weights")]


@dg.asset(key=key("association_local"), group_name=GROUP, kinds={"python", "scikitlearn", "duckdb"},
          deps=[VALUES, AREAS, *SEEDS[:3]], pool=WAREHOUSE_POOL, metadata=table_metadata("association_local"),
          description=("Local factor-outcome associations: per outcome indicator, a two-way fixed-effects regression "
                       "on the standardised factor scores of the factors linked to its sub-goal (their indicators on the link "
                       "scale where their counts allow: models_ml.association_scores), with cluster-robust "
                       "(cluster jackknife by area; by wijk for a factor scored per wijk; by gemeente from 20 gemeenten "
                       "on) 90% intervals and diagnostics, corrected for the sampling error of the factor scores "
                       "where they are reliable enough (errors in variables; column reliability); too thin data says so "
                       "(status not_estimable, with the "
                       f"reason) instead of a number. {CAVEAT}" + published_note("association_local")
                       + f" Also writes `{ML_SCHEMA}.association_local_cov` (internal): the covariance of the "
                       "estimates of each outcome's joint regression, for the ranking's draws."))
def association_local(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        panels = run_panels(context, con, warehouse.database)
        context.log.info(f"Estimating {len(panels)} outcomes")
        result, cov = associations.estimate_associations_with_covariance(
            panels, progress=outcome_progress(context, "associations"))
        rows = write_table(con, "association_local", result, context.run.run_id)
        cov_rows = write_table(con, "association_local_cov", cov, context.run.run_id)
    status = result["status"].value_counts().to_dict()
    missing = associations.outcomes_without_estimate(result)
    if len(missing):
        context.log.warning(
            f"{len(missing)} of {len(panels)} outcomes have no estimate for any factor (the ranking has no local "
            "evidence on them): " + "; ".join(f"{r.outcome_indicator_id} ({r.reason})" for r in missing.itertuples()))
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows, "outcomes": len(panels), "estimated": int(status.get("estimated", 0)),
        "not_estimable": int(status.get("not_estimable", 0)),
        "outcomes_without_estimate": len(missing), "covariance_rows": cov_rows,
        **({"outcomes_without_estimate_list": dg.MetadataValue.md(markdown_table(missing.to_dict("records")))}
           if len(missing) else {}),
        "method_version": associations.METHOD_VERSION, "caveat": CAVEAT,
    })


@dg.asset(key=key("chain_strength"), group_name=GROUP, kinds={"python", "duckdb"},
          deps=[VALUES, *SEEDS[:3], SEEDS[5]], pool=WAREHOUSE_POOL, metadata=table_metadata("chain_strength"),
          description=("Strength of every factor -> factor link (the chains): standardised within-area coefficient of "
                       "the downstream factor's score on the upstream one (association scores, as the associations'; corrected for "
                       "the scores' sampling error where "
                       f"they are reliable enough), or a weak prior where data lack. {CAVEAT}"
                       + published_note("chain_strength") + f" Also writes `{ML_SCHEMA}.chain_strength_cov` "
                       "(internal): the covariance of the strengths estimated in one joint regression."))
def chain_strength(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        result, cov = chains.estimate_from_warehouse(con)
        rows = write_table(con, "chain_strength", result, context.run.run_id)
        write_table(con, "chain_strength_cov", cov, context.run.run_id)
    local = int((result["source"] == "local").sum())
    against = chains.against_direction(result)
    clearly = chains.against_direction(result, clearly=True)
    if len(clearly):
        context.log.warning(
            f"{len(clearly)} of {local} local chain strengths clearly contradict the factor model's direction (90% "
            f"interval on the other side of 0): {', '.join(clearly['link_id'])}. The ranking uses them as estimated; "
            "check the link or the data.")
    if len(against) > len(clearly):
        context.log.info(
            f"{len(against) - len(clearly)} more local chain strengths have the opposite sign but are compatible with "
            f"the direction (90% interval includes 0): {', '.join(sorted(set(against['link_id']) - set(clearly['link_id'])))}.")
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "local": local,
                                          "against_direction": len(against),
                                          "clearly_against_direction": len(clearly),
                                          "links_clearly_against_direction": ", ".join(clearly["link_id"]) or "none",
                                          "method_version": chains.METHOD_VERSION})


@dg.asset(key=key("effect_merged"), group_name=GROUP, kinds={"python", "duckdb"},
          deps=[key("association_local"), SEEDS[6]], pool=WAREHOUSE_POOL, metadata=table_metadata("effect_merged"),
          description=("Merged effect per factor -> sub-goal link on Cohen's d (positive = worse): the local estimate "
                       "(converted from a standardised coefficient; local-only pairs shrunk towards 0 by an "
                       "empirical-Bayes prior) pooled with the literature weight by precision weighting "
                       "(normal-normal), local evidence down-weighted; literature-only and local-only labelled, "
                       f"placeholder literature flagged. {CAVEAT}" + published_note("effect_merged")
                       + f" Also writes `{ML_SCHEMA}.effect_merged_cov` (internal): the covariance of two factors' "
                       "merged effects on one sub-goal, propagated from the local estimates' covariance."))
def effect_merged(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        local, literature = read_table(con, "association_local"), merge.load_literature(con)
        result = merge.merge_effects(local, literature)
        local_cov = read_table_if_exists(con, "association_local_cov")
        if local_cov is None:
            context.log.warning(f"{ML_SCHEMA}.association_local_cov is missing (materialise ml/association_local): "
                                "the merged effects get no covariance and the ranking draws them independently")
        cov = merge.merged_covariance(local, local_cov, literature, result)
        rows = write_table(con, "effect_merged", result, context.run.run_id)
        write_table(con, "effect_merged_cov", cov, context.run.run_id)
    placeholders = int(result["literature_is_placeholder"].fillna(False).astype(bool).sum())
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, **{f"source_{k}": int(v) for k, v in
                                                                        result["source"].value_counts().items()},
                                          "pairs_with_placeholder_literature": placeholders,
                                          "covariance_rows": len(cov),
                                          "method_version": merge.METHOD_VERSION})


@dg.multi_asset(
    specs=[
        dg.AssetSpec(key("factor_ranking"), group_name=GROUP, kinds={"python", "duckdb"},
                     deps=[key("effect_merged"), key("chain_strength"), SCORES, PUBLISHED_SCORES, *SEEDS[2:5]],
                     metadata=table_metadata("factor_ranking"),
                     description=("Factor ranking for the municipality, per domain and per life phase: impact through "
                                  "direct and chain effects times room for improvement, with median rank, 90% rank "
                                  "interval and probability of top 5 (Monte Carlo), and an explanation per factor. "
                                  f"{CAVEAT}" + published_note("factor_ranking"))),
        dg.AssetSpec(key("factor_ranking_area"), group_name=GROUP, kinds={"python", "duckdb"},
                     deps=[key("effect_merged"), key("chain_strength"), SCORES, PUBLISHED_SCORES, *SEEDS[2:5]],
                     metadata=table_metadata("factor_ranking_area"),
                     description=("Factor ranking per wijk, the neighbourhood priorities for wijkprogrammering: the "
                                  "same impact, rank interval and explanation as the city-wide ranking, with each "
                                  f"wijk's own room for improvement. {CAVEAT}" + published_note("factor_ranking_area"))),
    ],
    name="ml__factor_ranking",  # the step's name, like the other ML steps (ml__association_local, ...)
    pool=WAREHOUSE_POOL,
)
def factor_ranking(context: dg.AssetExecutionContext, warehouse: DuckDBResource):
    start = time.perf_counter()
    config = ranking.RankingConfig()
    with warehouse.get_connection() as con:
        fm = ranking.load_factor_model(con)
        merged_cov, chain_cov = (read_table_if_exists(con, t) for t in ("effect_merged_cov", "chain_strength_cov"))
        if merged_cov is None or chain_cov is None:
            context.log.warning("No covariance tables of the merged effects or chain strengths (materialise "
                                "ml/effect_merged and ml/chain_strength): those effects are drawn independently")
        model = ranking_model.build_model(fm.factors, fm.subgoals, read_table(con, "effect_merged"),
                                          read_table(con, "chain_strength"), merged_cov, chain_cov)
        context.log.info(f"Ranking {len(model.factors)} factors on {len(model.subgoals)} sub-goals with "
                         f"{config.n_draws:,} Monte Carlo draws: the gemeente, each domain, each life phase, each wijk")
        city, areas = ranking.rank_factors(model, ranking.load_scores(con), fm.life_phases, config)
        n_city = write_table(con, "factor_ranking", city, context.run.run_id)
        n_area = write_table(con, "factor_ranking_area", areas, context.run.run_id)
    context.log.info(f"Ranked {n_city:,} city-wide and {n_area:,} wijk rows in {time.perf_counter() - start:.1f} s")
    gemeente = city[city["scope_type"] == "gemeente"]
    ranked = gemeente[gemeente["rankable"]].sort_values("rank_median")
    not_ranked = gemeente.loc[~gemeente["rankable"]].sort_values("factor_id")
    unranked = not_ranked["factor_id"].tolist()
    if unranked:
        context.log.warning(f"{len(unranked)} factors are listed, not ranked city-wide (not_ranked_reason): "
                            + ", ".join(f"{r.factor_id} ({r.not_ranked_reason})" for r in not_ranked.itertuples()))
    domains = city[city["scope_type"] == "domain"]
    unlinked = domains[domains["not_ranked_reason"] == "not_linked"]
    if len(unlinked):
        context.log.info(f"Domain rankings list {len(unlinked)} factors without any link to the domain's sub-goals "
                         "unranked: " + "; ".join(f"{d}: {', '.join(sorted(g['factor_id']))}"
                                                  for d, g in unlinked.groupby("scope_id")))
    on_placeholders = ranked.loc[ranked["evidence_placeholder"] >= ranking_text.RESTS_ON_PLACEHOLDERS,
                                 "factor_id"].tolist()
    area_ranked = areas[areas["rankable"]]
    area_on_placeholders = int((area_ranked["evidence_placeholder"] >= ranking_text.RESTS_ON_PLACEHOLDERS).sum())
    if on_placeholders:
        context.log.warning(
            f"City-wide, {len(on_placeholders)} of {len(ranked)} ranked factors rest mostly on assumptions without a "
            f"source (placeholder literature or assumed chain links; evidence_placeholder >= "
            f"{ranking_text.RESTS_ON_PLACEHOLDERS}): {', '.join(on_placeholders)}. Per wijk: {area_on_placeholders} of "
            f"{len(area_ranked)} ranked rows.")
    yield dg.MaterializeResult(asset_key=key("factor_ranking"), metadata={
        "dagster/row_count": n_city, "method_version": ranking.METHOD_VERSION, "n_draws": config.n_draws,
        "top_10": dg.MetadataValue.md(markdown_table(
            ranked.head(10)[["factor_id", "rank_median", "rank_ci90_lower", "rank_ci90_upper", "p_top5",
                             "evidence_local", "evidence_literature", "evidence_placeholder"]].round(2).to_dict("records"))),
        "factors_resting_on_placeholders": dg.MetadataValue.int(len(on_placeholders)),
        "factors_resting_on_placeholders_list": ", ".join(on_placeholders) or "none",
        "factors_not_ranked": ", ".join(unranked) or "none",
    })
    yield dg.MaterializeResult(asset_key=key("factor_ranking_area"), metadata={
        "dagster/row_count": n_area, "wijken": int(areas["area_code"].nunique()),
        "method_version": ranking.METHOD_VERSION,
        "rows_resting_on_placeholders": area_on_placeholders,
        "rows_not_ranked_by_reason": dg.MetadataValue.json(
            {str(k): int(v) for k, v in areas["not_ranked_reason"].value_counts().sort_index().items()}),
    })
