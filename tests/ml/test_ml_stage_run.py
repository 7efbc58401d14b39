"""The ML stage inside the demo run: its marts are published, labelled and explained."""

from __future__ import annotations

import re

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest

from models_ml import estimators, ranking_text
from models_ml.panel import build_panels
from pipelines.defs.ml.panels import run_panels

pytestmark = pytest.mark.slow

SYNTHETIC = "SYNTHETIC demo data (Demostad): invented figures. "


def test_every_ml_mart_has_rows_with_run_id_and_method_version(con, demo_run):
    _, result = demo_run
    for mart in ("fct_association_local", "fct_effect_merged", "fct_chain_strength", "mart_factor_ranking",
                 "mart_factor_ranking_area", "mart_model_comparison"):
        rows, runs, versions = con.execute(
            f"select count(*), count(distinct run_id), min(method_version) from marts.{mart}").fetchone()
        assert rows > 0 and runs == 1 and versions, mart
        (run_id,) = con.execute(f"select min(run_id) from marts.{mart}").fetchone()
        assert run_id == result.run_id


def test_thin_data_says_so_instead_of_a_number(con):
    rows = con.execute("""select status, estimate, reason from marts.fct_association_local""").fetchall()
    assert {r[0] for r in rows} <= {"estimated", "not_estimable"}
    assert all(r[1] is None and r[2] for r in rows if r[0] == "not_estimable")
    notes = {r[0] for r in con.execute("select distinct note from marts.fct_association_local").fetchall()}
    assert notes == {"SYNTHETIC demo data (Demostad): invented figures. "
                     "Ecological (area-level) association, not an individual causal effect."}


def test_every_published_ml_result_of_the_demo_says_it_is_synthetic(con):
    """The demo's figures are invented while its literature is real, so a screenshot of its ranking could
    pass for a real result (a policy adviser's review): every row of every ML mart says SYNTHETIC in its
    note (dbt var synthetic, set for the demo by the settings); the stage's own tables do not."""
    for mart in ("fct_association_local", "fct_effect_merged", "fct_chain_strength", "mart_factor_ranking",
                 "mart_factor_ranking_area", "mart_model_comparison"):
        (rows, labelled) = con.execute(f"select count(*), count(*) filter (where note like '{SYNTHETIC}%') "
                                       f"from marts.{mart}").fetchone()
        assert rows > 0 and labelled == rows, mart
    (plain,) = con.execute("select count(*) from ml.factor_ranking where note like 'SYNTHETIC%'").fetchone()
    assert plain == 0


def test_rankings_cover_the_city_every_domain_life_phase_and_wijk(con):
    scopes = dict(con.execute("select scope_type, count(distinct scope_id) from marts.mart_factor_ranking group by 1").fetchall())
    assert scopes == {"gemeente": 1, "domain": 3, "life_phase": 6}
    (wijken,) = con.execute("select count(distinct area_code) from marts.mart_factor_ranking_area").fetchone()
    (expected,) = con.execute("select count(*) from marts.dim_area where area_level = 'wijk' and is_current").fetchone()
    assert wijken == expected == 12
    top = con.execute("""select factor_id, rank_median, rank_ci90_lower, rank_ci90_upper, p_top5, explanation
                         from marts.mart_factor_ranking where scope_type = 'gemeente' and rankable
                         order by rank_median limit 5""").fetchall()
    for factor, rank, lower, upper, p, explanation in top:
        assert lower <= rank <= upper and 0 <= p <= 1
        assert "de winst komt vooral bij" in explanation and "niet op bewezen oorzakelijke effecten" in explanation
        assert "% lokale gegevens" in explanation and "% aannames zonder bron" in explanation


def test_merged_effects_label_their_sources(con):
    sources = dict(con.execute("select source, count(*) from marts.fct_effect_merged group by 1").fetchall())
    assert sources.get("merged", 0) > 0 and sources.get("literature_only", 0) > 0
    (placeholders,) = con.execute("""select count(*) from marts.fct_effect_merged
                                    where literature_is_placeholder and citation is not null""").fetchone()
    assert placeholders == 0


def test_local_data_outweigh_placeholder_literature(con):
    """Placeholders are invented figures (d = +-0.2, SE 0.5 by the seed's rule): where a pair has
    local data as well, the local estimate must carry most of the merged estimate's precision."""
    (n, median_share) = con.execute("""select count(*), median(local_share) from marts.fct_effect_merged
                                       where source = 'merged' and literature_is_placeholder""").fetchone()
    assert n >= 20 and median_share > 0.5, (n, median_share)
    (real_share,) = con.execute("""select median(local_share) from marts.fct_effect_merged
                                   where source = 'merged' and not literature_is_placeholder""").fetchone()
    assert real_share < median_share  # cited figures, most with small SEs, keep more weight


def test_local_data_against_an_effect_are_said_to_contradict_what_it_rests_on(con):
    """The explanation names what outweighs local data that point the other way: the literature only
    where the factor's support has cited literature, the assumptions only where it has placeholders
    (the demo has both kinds: ranking-1.6.2; before, every such text said "de literatuur")."""
    rows = con.execute("""select explanation, evidence_literature, evidence_placeholder from marts.mart_factor_ranking
                          where rankable and explanation like '%wijzen de lokale gegevens de andere kant op dan%'""").fetchall()
    said = {"literature": 0, "placeholder": 0}
    for explanation, literature, placeholder in rows:
        if "andere kant op dan de literatuur" in explanation:
            said["literature"] += 1
            assert literature > 0, explanation
        if "dan de aannames zonder bron;" in explanation or "dan de literatuur en de aannames zonder bron;" in explanation:
            said["placeholder"] += 1
            assert placeholder > 0, explanation
    assert said["literature"] > 0 and said["placeholder"] > 0, said


def test_a_merged_effect_takes_the_other_sign_than_the_literature_only_from_the_local_data(con):
    """A chain's text says that the factor the chain runs through "gaat in de gegevens zelf samen met
    betere uitkomsten" where its merged effect has the other sign than its type expects
    (``ranking_text._chain_clause``). That holds for every such effect, not only the demo's one: the
    literature, cited figures and placeholders alike, has the sign of the factor's direction (dbt test
    assert_literature_sign_matches_effect_direction), and a merged effect lies between its local and
    its literature estimate, or has the sign of the only one there is, so it can have the other sign
    only where the local estimate has it."""
    rows = con.execute("""select factor_id, subgoal_id, d_local, d_literature, d_merged from marts.fct_effect_merged
                          where d_merged is not null""").df()
    both = rows[rows["d_local"].notna() & rows["d_literature"].notna()]
    low, high = np.minimum(both["d_local"], both["d_literature"]), np.maximum(both["d_local"], both["d_literature"])
    assert len(both) > 0 and ((both["d_merged"] >= low - 1e-12) & (both["d_merged"] <= high + 1e-12)).all()
    for one, other in (("d_local", "d_literature"), ("d_literature", "d_local")):  # the demo has no local-only pair
        alone = rows[rows[one].notna() & rows[other].isna()]
        assert (np.sign(alone["d_merged"]) * np.sign(alone[one]) >= 0).all(), one
    against = rows[rows["d_literature"].notna() & (np.sign(rows["d_merged"]) * np.sign(rows["d_literature"]) < 0)]
    assert len(against) > 0, "the demo has effects against the literature's sign"
    assert (np.sign(against["d_local"]) == np.sign(against["d_merged"])).all()


def test_every_ranked_text_gives_a_place_inside_its_own_interval(con):
    """"Plaats 19 van 34 (gedeeld met 7 andere factoren); met 90% zekerheid tussen plaats 19 en 26":
    the places a text gives lie inside the interval it gives (ranking-1.6.2; before, 19 of the demo's
    642 ranked texts gave a place outside it, e.g. "Plaats 19 ...; tussen plaats 20 en 25")."""
    sentence = re.compile(r"Plaats (\d+) van (\d+)(?: \(gedeeld met (\d+) andere factor(?:en)?\))?; "
                          r"met 90% zekerheid tussen plaats (\d+) en (\d+)\.")
    checked = 0
    for mart in ("mart_factor_ranking", "mart_factor_ranking_area"):
        for (explanation,) in con.execute(f"select explanation from marts.{mart} where rankable").fetchall():
            place, n, shared, lower, upper = sentence.search(explanation).groups()
            assert 1 <= int(lower) <= int(place) <= int(place) + int(shared or 0) <= int(upper) <= int(n), explanation
            checked += 1
    assert checked > 600


def test_the_ranking_asset_reports_factors_resting_on_placeholders(con, demo_run):
    _, result = demo_run
    [materialization] = [m for m in result.get_asset_materialization_events()
                         if m.asset_key == dg.AssetKey(["ml", "factor_ranking"])]
    metadata = materialization.materialization.metadata
    (expected,) = con.execute("""select count(*) from marts.mart_factor_ranking
                                 where scope_type = 'gemeente' and rankable and evidence_placeholder >= 0.5""").fetchone()
    assert metadata["factors_resting_on_placeholders"].value == expected > 0
    assert "evidence_placeholder" in metadata["top_10"].value


def _materialization(result, *path: str):
    [event] = [m for m in result.get_asset_materialization_events() if m.asset_key == dg.AssetKey(list(path))]
    return event.materialization.metadata


def test_the_ml_assets_describe_their_tables_and_say_what_is_missing(con, demo_run):
    """What a data engineer sees in the Dagster UI: row counts, the published mart's documented
    columns, the outcomes without any estimate, the factors not ranked, and a model comparison
    summary with counts per model, each matching the tables."""
    settings, result = demo_run
    graph = result.job_def.asset_layer.asset_graph
    for name, mart in [("association_local", "fct_association_local"), ("factor_ranking", "mart_factor_ranking"),
                       ("factor_ranking_area", "mart_factor_ranking_area"), ("model_comparison", "mart_model_comparison")]:
        metadata = _materialization(result, "ml", name)
        (rows,) = con.execute(f"select count(*) from marts.{mart}").fetchone()
        assert metadata["dagster/row_count"].value == rows, name
        spec_metadata = graph.get(dg.AssetKey(["ml", name])).metadata
        columns = [c.name for c in spec_metadata["dagster/column_schema"].columns]
        assert columns == [r[0] for r in con.execute(f"describe marts.{mart}").fetchall()], name
        assert all(c.description for c in spec_metadata["dagster/column_schema"].columns), name

    assoc = _materialization(result, "ml", "association_local")
    missing = [r[0] for r in con.execute("""select outcome_indicator_id from marts.fct_association_local
                                            group by 1 having bool_and(status <> 'estimated') order by 1""").fetchall()]
    assert assoc["outcomes_without_estimate"].value == len(missing) > 0
    assert all(m in assoc["outcomes_without_estimate_list"].value for m in missing)

    ranking = _materialization(result, "ml", "factor_ranking")
    unranked = [r[0] for r in con.execute("""select factor_id from marts.mart_factor_ranking
                                             where scope_type = 'gemeente' and not rankable order by 1""").fetchall()]
    assert ranking["factors_not_ranked"].value == (", ".join(unranked) or "none")
    # not_ranked_reason says in a code what the explanation says in words (the explanation's order of reasons)
    said = {"not_linked": ranking_text.NOT_LINKED, "score_withheld": "wordt hier niet gepubliceerd",
            "no_local_scores": "geen lokale gegevens"}
    reasons = set()
    for mart in ("mart_factor_ranking", "mart_factor_ranking_area"):
        for reason, explanation in con.execute(f"""select not_ranked_reason, explanation from marts.{mart}
                                                   where not rankable""").fetchall():
            assert said[reason] in explanation and all(t not in explanation for r, t in said.items() if r != reason), (
                mart, reason, explanation)
            reasons.add(reason)
    assert {"not_linked", "score_withheld"} <= reasons, reasons
    by_reason = dict(con.execute("""select not_ranked_reason, count(*) from marts.mart_factor_ranking_area
                                    where not rankable group by 1""").fetchall())
    assert _materialization(result, "ml", "factor_ranking_area")["rows_not_ranked_by_reason"].value == by_reason

    summary = _materialization(result, "ml", "model_comparison")["summary"].value
    for model, estimated in con.execute("""select model, count(*) filter (where status = 'estimated')
                                           from marts.mart_model_comparison group by 1""").fetchall():
        assert f"| {model} | {estimated} | 0 |" in summary


def test_the_sensitivity_analysis_runs_on_the_demo_warehouse(con):
    """python -m models_ml.sensitivity: the production ranking against the scale and placeholder
    variants; a scaled local d leaves the production ranking recognisable, leaving the placeholders
    out changes more (README figures: 0.976 / 0.988 / 0.872 with 1,000 draws)."""
    from models_ml.sensitivity import load_inputs, sensitivity

    results = dict(sensitivity(load_inputs(con), n_draws=200))
    assert set(results) == {"local d x 0.5", "local d x 2", "without placeholder literature"}
    for name, r in results.items():
        assert r["factors"] >= 25 and 0 <= r["top_kept"] <= 5, name
    assert min(results["local d x 0.5"]["spearman"], results["local d x 2"]["spearman"]) > 0.9
    assert results["without placeholder literature"]["spearman"] < 0.99


def test_every_ranking_row_says_the_year_of_its_room_for_improvement(con):
    """score_year: each factor's newest year with published wijk scores (fct_factor_score; ranking-1.6.0),
    the same in every row of the factor (a wijk whose score of that year is withheld is unranked for it,
    not ranked on an older year; a BI review: a youth-survey factor's gap is a year older than the
    registrations' and the ranking did not say so). A year whose wijk scores are all withheld does not
    take the factor out of the ranking (a review: vroeggeboorte_laag_geboortegewicht 2024, 4 published
    wijk values, fewer than min_areas_for_spread, was unranked everywhere though 2023 had 9 scores)."""
    rows = con.execute("""select r.factor_id, r.score_year, s.newest from marts.mart_factor_ranking_area r
                          join (select factor_id, max(year) as newest from marts.fct_factor_score
                                where area_level = 'wijk' group by 1) s using (factor_id)""").fetchall()
    assert rows and all(year == newest for _, year, newest in rows)
    assert len({year for _, year, _ in rows}) >= 2  # the survey factors lag: not one year for all
    (ranked,) = con.execute("""select count(*) from marts.mart_factor_ranking_area
                               where factor_id = 'vroeggeboorte_laag_geboortegewicht' and rankable""").fetchone()
    (published,) = con.execute("""select count(*) from marts.fct_factor_score s
                                  where factor_id = 'vroeggeboorte_laag_geboortegewicht' and area_level = 'wijk'
                                    and year = (select max(year) from marts.fct_factor_score
                                                where factor_id = s.factor_id and area_level = 'wijk')""").fetchone()
    assert ranked == published > 0


def test_the_covariance_tables_travel_from_the_estimates_to_the_ranking(con, demo_run):
    """The internal tables ``ml.association_local_cov``, ``ml.chain_strength_cov`` and
    ``ml.effect_merged_cov`` (models_ml/README.md) come from the same run, scale their correlations
    by the published standard errors, and give every sub-goal a positive semi-definite covariance
    with the merged variances on its diagonal, which the ranking asset reads."""
    import numpy as np

    from models_ml import ranking, ranking_model

    _, result = demo_run
    for table in ("association_local_cov", "chain_strength_cov", "effect_merged_cov"):
        (runs, run_id) = con.execute(f"select count(distinct run_id), min(run_id) from ml.{table}").fetchone()
        assert runs == 1 and run_id == result.run_id, table
    (n_local, off) = con.execute("""
        select count(*), max(abs(c.covariance - c.correlation * a.std_error * b.std_error))
        from ml.association_local_cov c
        join marts.fct_association_local a on a.outcome_indicator_id = c.outcome_indicator_id and a.factor_id = c.factor_a
        join marts.fct_association_local b on b.outcome_indicator_id = c.outcome_indicator_id and b.factor_id = c.factor_b
        where a.status = 'estimated' and b.status = 'estimated'""").fetchone()
    (n_all,) = con.execute("select count(*) from ml.association_local_cov").fetchone()
    assert n_local == n_all > 0 and off < 1e-15
    assert con.execute("select min(correlation), max(correlation) from ml.association_local_cov").fetchone()[0] < -0.3
    merged = con.execute("select * from marts.fct_effect_merged").df()
    fm = ranking.load_factor_model(con)
    model = ranking_model.build_model(fm.factors, fm.subgoals, merged,
                                      con.execute("select * from marts.fct_chain_strength").df(),
                                      con.execute("select * from ml.effect_merged_cov").df(),
                                      con.execute("select * from ml.chain_strength_cov").df())
    assert model.d_cov is not None and model.b_cov is not None
    for sigma, se in zip(model.d_cov, model.d_se):
        np.testing.assert_array_equal(np.diagonal(sigma), se**2)
        assert np.linalg.eigvalsh(sigma).min() > -1e-12


def test_the_outcome_panels_are_built_once_per_run(demo_run):
    """association_local and every model asset estimate on the same outcome panels: the first of them
    in the run builds the panels, the others reuse them (pipelines/defs/ml/panels.py)."""
    _, result = demo_run
    lines = [(step, message) for step, message in result.log_messages if message.startswith("Outcome panels:")]
    built = [step for step, message in lines if " built in " in message]
    reused = [step for step, message in lines if " reused" in message]
    readers = {"ml__association_local", *(f"ml__model_{spec.name}" for spec in estimators.discover())}
    assert len(built) == 1 and set(built + reused) == readers and len(built + reused) == len(readers), lines


def test_each_asset_gets_its_own_copy_of_the_runs_panels(demo_run):
    """An asset that changed its panels (here: blanked every value) changes nothing for the next asset
    of the run, which gets what build_panels gives; a new run builds them anew."""
    settings, _ = demo_run
    warehouse = str(settings.warehouse_path)
    got: list[tuple[str, list]] = []

    def reader(name: str, deps: list) -> dg.AssetsDefinition:
        @dg.asset(name=name, deps=deps)
        def _read(context) -> None:
            with duckdb.connect(warehouse, read_only=True) as con:
                panels = run_panels(context, con, warehouse)
            got.append((context.run.run_id, [(p.outcome_indicator_id, p.data.copy()) for p in panels]))
            for panel in panels:  # an estimator that spoils its input
                panel.data.loc[:, panel.factors] = float("nan")

        return _read

    first = reader("first_reader", [])
    job = dg.Definitions(assets=[first, reader("second_reader", [first])]).resolve_implicit_global_asset_job_def()
    instance = dg.DagsterInstance.ephemeral()
    runs = [job.execute_in_process(instance=instance) for _ in range(2)]
    with duckdb.connect(warehouse, read_only=True) as con:
        fresh = build_panels(con)
    assert [run_id for run_id, _ in got] == [runs[0].run_id] * 2 + [runs[1].run_id] * 2
    for _, panels in got:  # each reader, the second of a run too: the panels as built, not as the first left them
        assert [outcome for outcome, _ in panels] == [p.outcome_indicator_id for p in fresh]
        for (_, data), built in zip(panels, fresh):
            pd.testing.assert_frame_equal(data, built.data)
    for run in runs:
        messages = [e.user_message for e in instance.all_logs(run.run_id) if e.user_message.startswith("Outcome panels:")]
        assert len(messages) == 2 and " built in " in messages[0] and " reused" in messages[1], messages
