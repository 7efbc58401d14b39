"""Fast replay of the demo pipeline for known-answer tests, and the true value of the estimand.

Running Dagster + dbt for each of 50 synthetic datasets is too slow, so ``DbtReplay`` does what
the pipeline does, in-process, at about 2-3 s per dataset:

1. ``compile_dbt`` runs ``dbt compile`` and ``dbt seed`` once, into a temporary folder (the
   project's own ``target/`` and warehouse are not touched);
2. per seed, ``DbtReplay.build`` generates the demo extracts (``pipelines.demo``), ingests them
   with ``pipelines.ingest.ingest_source`` (the same contract-checked loader as the assets, the area
   division first, as the assets' dependencies order it) into a
   new DuckDB file named ``warehouse.duckdb`` (the compiled SQL refers to ``"warehouse"."schema".
   "table"``), copies the ``factor_model`` seed tables, and executes the dbt-compiled SQL of every
   staging, intermediate and marts model in the manifest's dependency order, with the model's
   materialisation (view or table).

So the statistics are tested on exactly what the dbt marts compute. No Dagster import.

``true_effects`` computes the true value of the estimand of ``models_ml.associations`` from the
ground-truth files of a generated dataset (see ``models_ml/README.md``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT = PROJECT_ROOT / "dbt_project"
REPLAY_SCHEMAS = ("staging", "intermediate", "marts")
REPLAY_SKIP_SOURCE_SCHEMAS = ("ml",)  # sources written by the statistics stage itself


def _dbt_executable() -> str:
    exe = Path(sys.executable).with_name("dbt")
    return str(exe) if exe.exists() else "dbt"


def compile_dbt(work_dir: Path) -> tuple[Path, Path]:
    """``dbt compile`` (manifest and compiled SQL) and ``dbt seed`` into ``work_dir``.

    Returns (target dir, seed warehouse path). Takes about 15-20 s.
    """
    work_dir = Path(work_dir)
    target = work_dir / "dbt_target"
    seed_dir = work_dir / "seed_db"
    seed_dir.mkdir(parents=True, exist_ok=True)
    seed_db = seed_dir / "warehouse.duckdb"
    env = {**os.environ, "FACTORENMODEL_WAREHOUSE": str(seed_db)}
    common = ["--profiles-dir", str(DBT_PROJECT), "--project-dir", str(DBT_PROJECT),
              "--target-path", str(target), "--log-path", str(work_dir / "dbt_logs"), "--quiet"]
    for cmd in (["seed", "--full-refresh"], ["compile"]):
        proc = subprocess.run([_dbt_executable(), *cmd, *common], env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"dbt {cmd[0]} failed:\n{proc.stdout}\n{proc.stderr}")
    return target, seed_db


@dataclass
class ReplayModel:
    schema: str
    name: str
    materialized: str
    sql: str


def replay_models(target: Path) -> list[ReplayModel]:
    """The staging, intermediate and marts models of the manifest, in dependency order."""
    manifest = json.loads((Path(target) / "manifest.json").read_text())
    nodes = {k: n for k, n in manifest["nodes"].items()
             if n["resource_type"] == "model" and n["schema"] in REPLAY_SCHEMAS}
    # models that read a source outside the raw extracts (e.g. the ML stage's own output tables,
    # source('ml', ...)) are downstream of the statistics and are not replayed, nor their dependants
    raw = {k for k, n in manifest.get("sources", {}).items() if n.get("schema") not in REPLAY_SKIP_SOURCE_SCHEMAS}
    skip = {k for k, n in nodes.items()
            if any(d.startswith("source.") and d not in raw for d in n["depends_on"]["nodes"])}
    changed = True
    while changed:
        new_skip = {k for k, n in nodes.items() if k not in skip and any(d in skip for d in n["depends_on"]["nodes"])}
        skip |= new_skip
        changed = bool(new_skip)
    nodes = {k: n for k, n in nodes.items() if k not in skip}
    order: list[str] = []
    seen: set[str] = set()

    def visit(k: str) -> None:
        if k in seen or k not in nodes:
            return
        seen.add(k)
        for dep in nodes[k]["depends_on"]["nodes"]:
            visit(dep)
        order.append(k)

    for k in sorted(nodes):
        visit(k)
    out = []
    for k in order:
        n = nodes[k]
        compiled = Path(target) / "compiled" / n["package_name"] / n["original_file_path"]
        out.append(ReplayModel(n["schema"], n["alias"] or n["name"], n["config"]["materialized"],
                               compiled.read_text()))
    return out


def dbt_project_hash() -> str:
    """Hash of everything ``dbt compile`` / ``dbt seed`` read (models, macros, seeds, project and
    profiles files), to reuse a compiled replay only while the dbt project is unchanged."""
    import hashlib

    h = hashlib.sha256()
    for path in sorted(DBT_PROJECT.rglob("*")):
        rel = path.relative_to(DBT_PROJECT)
        if not path.is_file() or rel.parts[0] in ("target", "logs", "dbt_packages"):
            continue
        h.update(str(rel).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def compile_dbt_cached(cache_dir: Path) -> tuple[Path, Path]:
    """``compile_dbt`` into ``cache_dir/<dbt_project_hash()>``, or reuse that folder. A new compile
    goes into a private folder that is renamed into place when complete, so concurrent runs never
    see a half-written cache."""
    folder = Path(cache_dir) / dbt_project_hash()
    target, seed_db = folder / "dbt_target", folder / "seed_db" / "warehouse.duckdb"
    if (target / "manifest.json").exists() and seed_db.exists():
        return target, seed_db
    tmp = Path(cache_dir) / f".{folder.name}.{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    compile_dbt(tmp)
    try:
        tmp.rename(folder)
    except OSError:  # another run finished first
        shutil.rmtree(tmp, ignore_errors=True)
    return target, seed_db


class DbtReplay:
    """Build a warehouse per generated dataset without Dagster or dbt at run time.

    With ``cache_dir`` the dbt compile and seed (15-20 s) are reused across runs while the dbt
    project is unchanged (``compile_dbt_cached``)."""

    def __init__(self, work_dir: Path, cache_dir: Path | None = None):
        self.work_dir = Path(work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        if cache_dir is None:
            self.target, self.seed_db = compile_dbt(self.work_dir)
        else:
            self.target, self.seed_db = compile_dbt_cached(Path(cache_dir))
        self.models = replay_models(self.target)
        with duckdb.connect(str(self.seed_db), read_only=True) as con:
            self.seed_tables = [r[0] for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'factor_model' "
                "order by 1").fetchall()]

    def build(self, seed: int, config=None, run_dir: Path | None = None) -> Path:
        """Generate the demo with ``seed``/``config`` and build its warehouse; returns the run folder
        (with ``warehouse.duckdb`` and ``demo/ground_truth``)."""
        from data_contracts.contract import load_contracts
        from pipelines.demo.generator import generate_demo
        from pipelines.ingest import ingest_source
        from pipelines.ingest.area_division import division_first

        run_dir = Path(run_dir or self.work_dir / f"run_{seed}")
        if run_dir.exists():
            shutil.rmtree(run_dir)
        run_dir.mkdir(parents=True)
        result = generate_demo(run_dir / "demo", seed=seed, config=config)
        db = run_dir / "warehouse.duckdb"
        con = duckdb.connect(str(db))
        try:
            for contract in division_first(load_contracts().values()):  # area codes are checked against it
                ingest_source(contract, result.extract_dir, con)
            con.execute(f"attach '{self.seed_db}' as seeds (read_only)")
            con.execute("create schema if not exists factor_model")
            for t in self.seed_tables:
                con.execute(f'create table factor_model."{t}" as select * from seeds.factor_model."{t}"')
            con.execute("detach seeds")
            for m in self.models:
                con.execute(f'create schema if not exists "{m.schema}"')
                kind = "view" if m.materialized == "view" else "table"
                con.execute(f'create or replace {kind} "{m.schema}"."{m.name}" as {m.sql}')
        finally:
            con.close()
        return run_dir


# --------------------------------------------------------------------------- the true estimand

def _gt(ground_truth_dir: Path, name: str) -> pd.DataFrame:
    """A ground-truth CSV, read once per dataset (``evaluate_seed`` clears the cache)."""
    key = (str(ground_truth_dir), name)
    if key not in _GT_CACHE:
        _GT_CACHE[key] = pd.read_csv(Path(ground_truth_dir) / f"{name}.csv")
    return _GT_CACHE[key].copy()


_GT_CACHE: dict[tuple[str, str], pd.DataFrame] = {}


def true_effects(ground_truth_dir: Path, associations: pd.DataFrame | None = None) -> pd.DataFrame:
    """True value of the estimand for every (factor, outcome) pair, from the ground-truth files.

    The estimand (models_ml/README.md): change in the outcome, in SDs of its latent panel
    distribution at the outcome's level, per SD of the latent factor at the level at which the
    factor enters the regression. The outcome latent y is linear in the factors (``effect_sd`` per
    unit of z), and the link-scale indicator signal is ``orientation * scale * y``, so on the
    standardised scales

        truth = effect_sd * SD(z_factor) / SD(y_outcome)

    with both SDs over the area-year panel of the level used: buurt panels from
    ``latent_factors.csv``/``latent_outcomes.csv``; wijk panels from the mean of the buurt values
    per wijk and year (the generator uses population-weighted means of its atoms; the unweighted
    buurt mean is a close approximation). Factors without a planted effect on the outcome have
    truth 0. With ``associations`` (the output of ``estimate_associations``) the level of each pair
    follows its row (``area_level``; ``wijk_score_for_buurt`` means the factor enters at wijk
    level); without it, every planted pair is returned at the buurt level.
    """
    gt = Path(ground_truth_dir)
    planted = _gt(gt, "planted_effects")
    lf = _gt(gt, "latent_factors")
    lo = _gt(gt, "latent_outcomes")
    areas = _gt(gt, "areas")
    parent = dict(zip(areas["area_code"], areas["parent_code"]))
    lf["wijk"] = lf["area_code"].map(parent)
    lo["wijk"] = lo["area_code"].map(parent)
    sd_z = {"buurt": lf.groupby("factor_id")["z"].std(),
            "wijk": lf.groupby(["factor_id", "wijk", "year"])["z"].mean().groupby("factor_id").std()}
    sd_y = {"buurt": lo.groupby("outcome_indicator_id")["y"].std(),
            "wijk": lo.groupby(["outcome_indicator_id", "wijk", "year"])["y"].mean()
            .groupby("outcome_indicator_id").std()}
    if associations is None:
        pairs = planted[["factor_id", "outcome_indicator_id"]].assign(area_level="buurt", flags="")
    else:
        pairs = associations[["factor_id", "outcome_indicator_id", "area_level", "flags"]].copy()
    pairs = pairs.merge(planted[["factor_id", "outcome_indicator_id", "effect_sd"]], how="left")
    pairs["effect_sd"] = pairs["effect_sd"].fillna(0.0)
    factor_level = np.where((pairs["area_level"] == "wijk") | pairs["flags"].str.contains("wijk_score_for_buurt"),
                            "wijk", "buurt")
    sz = [sd_z[lv].get(f, np.nan) for lv, f in zip(factor_level, pairs["factor_id"])]
    sy = [sd_y[lv].get(o, np.nan) for lv, o in zip(pairs["area_level"], pairs["outcome_indicator_id"])]
    pairs["factor_level"] = factor_level
    pairs["true_effect"] = pairs["effect_sd"] * np.asarray(sz) / np.asarray(sy)
    return pairs.drop(columns=["flags"])


def measured_score_truth(panel, ground_truth_dir: Path) -> dict[str, float]:
    """What the within regression on the *measured* factor scores targets, given the truth.

    The planted signal of the outcome, ``s = sum_f effect_sd * z_f / SD(y)`` (latent factor scores
    of the panel's areas and years; wijk means for a wijk panel), is regressed (area and year
    effects removed) on the panel's standardised measured factor scores. The result is the planted
    effect as the pipeline's factor scores can see it: attenuated by their measurement error (indicator
    noise, sampling noise of small counts and survey samples, interpolated survey years, wijk
    scores for buurten). The gap between this and ``true_effects`` is the measurement-error bias;
    coverage of this target measures whether the standard errors are right.
    """
    from models_ml.associations import within_transform

    gt = Path(ground_truth_dir)
    planted = _gt(gt, "planted_effects")
    planted = planted[planted["outcome_indicator_id"] == panel.outcome_indicator_id]
    df = panel.data
    if planted.empty or not panel.factors or len(df) <= len(panel.factors):
        return {f: 0.0 for f in panel.factors} if planted.empty else {}
    lo = _gt(gt, "latent_outcomes")
    lo = lo[lo["outcome_indicator_id"] == panel.outcome_indicator_id]
    if panel.area_level == "wijk":
        parent = _gt(gt, "areas").set_index("area_code")["parent_code"]
        lo = lo.assign(area_code=lo["area_code"].map(parent)).groupby(["area_code", "year"], as_index=False)["y"].mean()
    z = _latent_factors(gt, planted["factor_id"], panel.area_level)
    signal = sum(e * z[f] for f, e in zip(planted["factor_id"], planted["effect_sd"])) / lo["y"].std()
    s = signal.reindex(pd.MultiIndex.from_frame(df[["area_code", "year"]])).to_numpy()
    ok = np.isfinite(s)
    area = pd.factorize(df["area_code"][ok], sort=True)[0]
    year = pd.factorize(df["year"][ok], sort=True)[0]
    xw = within_transform(df.loc[ok, panel.factors].to_numpy(float), area, year)
    sw = within_transform(s[ok], area, year)
    beta, *_ = np.linalg.lstsq(xw, sw, rcond=None)
    return dict(zip(panel.factors, beta))


def _latent_factors(ground_truth_dir: Path, factors, level: str) -> pd.DataFrame:
    """The latent scores of ``factors`` per (area_code, year) at ``level`` (columns: factors; wijk:
    the mean of its buurten's latent scores, as ``true_effects`` defines the wijk-level estimand)."""
    key = (str(ground_truth_dir), f"latent_factors_wide_{level}")
    if key not in _GT_CACHE:  # pivoted once per dataset and level, not per panel
        lf = _gt(Path(ground_truth_dir), "latent_factors")
        if level == "wijk":
            parent = _gt(Path(ground_truth_dir), "areas").set_index("area_code")["parent_code"]
            lf = lf.assign(area_code=lf["area_code"].map(parent)).groupby(["area_code", "year", "factor_id"],
                                                                             as_index=False)["z"].mean()
        _GT_CACHE[key] = lf.pivot_table(index=["area_code", "year"], columns="factor_id", values="z")
    wide = _GT_CACHE[key]
    return wide[[f for f in dict.fromkeys(factors) if f in wide.columns]].dropna(how="all")


def true_within_reliability(panel, ground_truth_dir: Path) -> dict[str, float]:
    """The within-area reliability each buurt-level factor score of a buurt ``panel`` really has: the
    squared correlation, after removing the panel's area and year effects, between the score and
    the latent factor. ``associations.measurement_error_rows`` estimates it from the sampling error
    alone (the ``reliability`` column); the gap is the score's error that is not sampling error
    (indicator noise, a score that is not linear in the latent factor). Wijk panels and wijk scores
    standing in for buurten are left out: a wijk value is a population-weighted aggregate, the
    latent wijk mean of ``true_effects`` an unweighted one, so their correlation understates the
    score's reliability."""
    from models_ml.associations import effect_codes, within_transform

    df = panel.data
    factors = [f for f in panel.factors if "wijk_score_for_buurt" not in panel.factor_flags.get(f, [])]
    if panel.area_level != "buurt" or not factors:
        return {}
    codes = effect_codes(df["area_code"], df["year"])
    z = _latent_factors(Path(ground_truth_dir), factors, "buurt").reindex(
        pd.MultiIndex.from_frame(df[["area_code", "year"]]))
    out = {}
    for f in factors:
        t = z[f].to_numpy(float) if f in z else np.full(len(df), np.nan)
        ok = np.isfinite(t)
        if ok.sum() < 3:
            continue
        xw = within_transform(df.loc[ok, f].to_numpy(float), codes.area[ok], codes.time[ok])
        tw = within_transform(t[ok], codes.area[ok], codes.time[ok])
        out[f] = float((xw @ tw) ** 2 / ((xw @ xw) * (tw @ tw))) if xw @ xw > 0 and tw @ tw > 0 else float("nan")
    return out


def _true_chains(links: pd.DataFrame, ground_truth_dir: Path) -> pd.DataFrame:
    """The factor -> factor links with their planted path coefficient (0 for links not planted), SE 0."""
    planted = pd.read_csv(Path(ground_truth_dir) / "planted_chains.csv")
    coef = {(r.from_factor_id, r.to_factor_id): r.coefficient_sd for r in planted.itertuples(index=False)}
    out = links[["link_id", "from_factor_id", "to_factor_id", "effect_direction"]].copy()
    out["coefficient"] = [coef.get(k, 0.0) for k in zip(out["from_factor_id"], out["to_factor_id"])]
    out["std_error"] = 0.0
    return out


def true_subgoal_effects(truth: pd.DataFrame, associations: pd.DataFrame) -> pd.DataFrame:
    """True factor -> sub-goal effects on the merge's Cohen's d scale, with standard error 0.

    Every (factor, outcome) truth (``true_effects`` with the association rows, so at the level the
    estimate uses) is converted with ``merge.to_cohens_d`` and averaged over the outcome indicators
    of the sub-goal, as ``merge.combine_outcomes`` does with the estimates (there with
    inverse-variance weights; the truth has no variance, so equal weights). Columns as
    ``merge_effects`` needs for ``ranking_model.build_model``: factor_id, subgoal_id, d_merged, se_merged.
    """
    from models_ml.merge import to_cohens_d

    t = truth.assign(subgoal_id=associations["subgoal_id"].to_numpy())
    t["true_effect"] = t["true_effect"].where(t["effect_sd"] != 0, 0.0).fillna(0.0)
    t["d"] = to_cohens_d(t["true_effect"], np.zeros(len(t)))[0]
    out = t.groupby(["factor_id", "subgoal_id"], as_index=False)["d"].mean()
    return out.rename(columns={"d": "d_merged"}).assign(se_merged=0.0)


TIE_DECIMALS = 9
"""True impacts are rounded to this many decimals before ranking. A factor without any planted
effect has true impact 0, but the matrix algebra of the ranking (``D (I - B)^-1``, products with
the room for improvement) leaves it at +-1e-17 or so; unrounded, Spearman would rank those factors
by floating-point noise instead of treating them as the tie they are (the first measurement of
the ceiling, 0.84, was lowered by exactly that; rounded it is 0.91)."""


def rank_interval_covers(lower, upper, true_impact) -> np.ndarray:
    """Per factor of one ranking: whether its rank interval [lower, upper] contains its true rank,
    the rank of its ``true_impact`` among the others (1 = most impact); a factor tied with others in
    the truth has the range of ranks the tie spans."""
    impact = np.asarray(true_impact, dtype=float)
    best = (impact[None, :] > impact[:, None]).sum(axis=1) + 1
    worst = (impact[None, :] >= impact[:, None]).sum(axis=1)
    return (np.asarray(lower, dtype=float) <= worst) & (best <= np.asarray(upper, dtype=float))


def ranking_known_answer(con, associations: pd.DataFrame, truth: pd.DataFrame, ground_truth_dir: Path,
                         n_draws: int = 200, with_literature: bool = False, gemeente: str | None = None,
                         merge_config=None, local_cov: pd.DataFrame | None = None) -> dict[str, float]:
    """Spearman correlation of the estimated city-wide ranking with the true one, for one dataset.

    Estimated: ``merge_effects`` of the local associations *without literature* (the seed's
    literature weights, 30 cited figures about real populations and 69 placeholders, are not part
    of the planted truth of the synthetic Demostad; with literature the test would measure
    agreement with them), chain strengths from
    ``chains.estimate_chains``, ``ranking.rank_factors`` with ``n_draws`` Monte Carlo draws;
    its ``rank_median`` in the ``gemeente`` scope over the rankable factors.
    True: the same ``rank_factors`` on a model built from ``true_subgoal_effects`` (SE 0) and the
    planted chain coefficients (SE 0; links that were not planted have strength 0), with the same
    factor scores and hence the same room for improvement; its ``impact`` (identical in every
    draw). ``with_literature=True`` merges with the seed's literature weights as the pipeline does
    (measured: no better). Returns ``spearman`` (of -rank_median with the true impact; ties get average ranks),
    ``spearman_ceiling`` (the same for an oracle that knows the true effect of every pair the data
    can estimate and, like the estimator, nothing of the pairs it cannot: what no estimator on
    these data can beat), the number of factors compared, ``rank_interval_coverage`` (share of the
    factors whose 90% rank interval contains their true rank; a factor tied with others in the
    truth has the range of ranks of its tie), ``rank_interval_width`` (mean width in ranks) and
    ``chain_coverage`` (share of the planted chains estimated locally whose 90% interval, t with
    areas - 1 degrees of freedom, contains the planted coefficient).
    ``gemeente``: which gemeente's ranking to compare when the data hold several (the associations
    are then estimated on all of them, as the pipeline does); ``merge_config``: the merge's settings
    for the estimate (default ``MergeConfig()``). ``local_cov``: the covariance of the local
    estimates (``associations.estimate_associations_with_covariance``): with it the draws carry the
    covariance of the merged effects and of the chain strengths, as the pipeline's (``evaluate_seed``
    passes it); without it every effect is drawn independently (ranking-1.5.0).
    """
    from scipy import stats
    from scipy.stats import spearmanr

    from models_ml import chains, merge, ranking, ranking_model

    factor_model = ranking.load_factor_model(con)
    factors, subgoals, phases = factor_model.factors, factor_model.subgoals, factor_model.life_phases
    links = chains.load_links(con)
    published = ranking.load_scores(con)  # the ranking's room for improvement; the chains read the association scores
    no_literature = pd.DataFrame(columns=["link_id", "factor_id", "subgoal_id", "effect_size_d", "se_d",
                                          "evidence_grade", "is_placeholder", "citation"])
    chain_est, chain_cov = chains.estimate_from_warehouse(con)
    planted_chains = _true_chains(links, ground_truth_dir)
    true_model = ranking_model.build_model(factors, subgoals, true_subgoal_effects(truth, associations),
                                           planted_chains)
    exact_gaps = ranking.RankingConfig(n_draws=1, score_error=False)  # the truth's gaps are the scores' gaps
    tru, _ = ranking.rank_factors(true_model, published, phases, exact_gaps)
    def pick(r: pd.DataFrame, truth_side: bool = False) -> pd.DataFrame:
        # the truth's and the oracle's factors without any (known) effect are not linked to a sub-goal,
        # so ranking-1.6.0 does not rank them; their true impact is 0, and they stay in the comparison
        # with the estimate's ranking of them (else the noisiest part of it, where the estimate ranks
        # factors whose true impact is 0, would drop out of the criterion)
        r = r[r["scope_type"] == "gemeente"]
        r = r.assign(impact=r["impact"].fillna(0.0)) if truth_side else r[r["rankable"]]
        if gemeente is not None:
            r = r[r["scope_id"] == gemeente]
        elif r["scope_id"].nunique() > 1:
            raise ValueError("several gemeenten ranked: say which one to compare (gemeente=...)")
        return r.set_index("factor_id")

    literature = merge.load_literature(con) if with_literature else no_literature
    merged = merge.merge_effects(associations, literature, merge_config)
    if local_cov is None:
        est_model = ranking_model.build_model(factors, subgoals, merged, chain_est)
    else:
        est_model = ranking_model.build_model(
            factors, subgoals, merged, chain_est,
            merge.merged_covariance(associations, local_cov, literature, merged, merge_config), chain_cov)
    est, _ = ranking.rank_factors(est_model, published, phases, ranking.RankingConfig(n_draws=n_draws))
    true_impact = pick(tru, truth_side=True)[["impact"]].round(TIE_DECIMALS)  # exact zeros tie (see TIE_DECIMALS)
    both = pick(est)[["rank_median", "rank_ci90_lower", "rank_ci90_upper"]].join(true_impact, how="inner")
    rho = spearmanr(-both["rank_median"].astype(float), both["impact"].astype(float)).statistic
    inside = rank_interval_covers(both["rank_ci90_lower"], both["rank_ci90_upper"], both["impact"])
    # the ceiling: every pair the data can estimate known exactly (its true effect, SE ~0), the
    # pairs it cannot estimate unknown (as for the estimator), chains exact
    ok = (associations["status"] == "estimated").to_numpy()
    exact = associations.copy()
    t = truth["true_effect"].where(truth["effect_sd"] != 0, 0.0).fillna(0.0).to_numpy()
    exact.loc[ok, "estimate"], exact.loc[ok, "std_error"] = t[ok], 1e-9
    oracle_model = ranking_model.build_model(factors, subgoals, merge.merge_effects(
        exact, no_literature, merge.MergeConfig(tau=0.0, local_weight=1.0, shrink_local_only=False)),
        planted_chains)  # SE ~0 everywhere: the one draw is the point value
    ora, _ = ranking.rank_factors(oracle_model, published, phases, exact_gaps)
    both_o = (pick(ora, truth_side=True)[["impact"]].round(TIE_DECIMALS).rename(columns={"impact": "oracle"})
              .join(true_impact, how="inner").loc[lambda f: f.index.isin(both.index)])  # the factors the estimate ranks
    rho_o = spearmanr(both_o["oracle"].astype(float), both_o["impact"].astype(float)).statistic
    planted = planted_chains.set_index("link_id")["coefficient"]
    local = chain_est.set_index("link_id")
    local = local[(local["source"] == "local") & (planted.reindex(local.index) != 0)]
    t_chain = stats.t.ppf(0.95, np.maximum(local["n_areas"].to_numpy(dtype=float) - 1, 1))
    chain_covered = (local["coefficient"] - planted[local.index]).abs() <= t_chain * local["std_error"]
    return {"spearman": float(rho), "spearman_ceiling": float(rho_o), "n_factors": int(len(both)),
            "chain_coverage": float(chain_covered.mean()) if len(local) else float("nan"),
            "rank_interval_coverage": float(inside.mean()),
            "rank_interval_width": float((both["rank_ci90_upper"] - both["rank_ci90_lower"]).mean())}


def evaluate_seed(replay: DbtReplay, seed: int, config=None, association_config=None,
                  keep: bool = False, ranking: bool = True, merge_config=None) -> pd.DataFrame:
    """Build one dataset, estimate the associations and attach the truth.

    Columns added: ``effect_sd``, ``true_effect`` (the estimand, ``true_effects``), ``covered``
    (90% interval contains it), ``measured_truth`` (``measured_score_truth``) and
    ``covered_measured``, ``seed``; with ``ranking`` also ``ranking_spearman`` (the same value on
    every row of the dataset; ``ranking_known_answer``, with ``merge_config``; for a ``config`` of
    several gemeenten, the ranking of the first).
    """
    from models_ml.associations import estimate_associations_with_covariance
    from models_ml.panel import build_panels

    run_dir = replay.build(seed, config)
    gt = run_dir / "demo" / "ground_truth"
    try:
        with duckdb.connect(str(run_dir / "warehouse.duckdb"), read_only=True) as con:
            panels = build_panels(con)
        est, local_cov = estimate_associations_with_covariance(panels, association_config)
        truth = true_effects(gt, est)
        measured = {(p.outcome_indicator_id, f): b for p in panels for f, b in measured_score_truth(p, gt).items()}
        if ranking:
            with duckdb.connect(str(run_dir / "warehouse.duckdb"), read_only=True) as con:
                # with several gemeenten (a region sharing one panel): the ranking of the first one
                gemeente = config.gemeente_codes[0] if config is not None and config.n_gemeenten > 1 else None
                rank = ranking_known_answer(con, est, truth, gt, gemeente=gemeente, merge_config=merge_config,
                                            local_cov=local_cov)
    finally:
        _GT_CACHE.clear()
        if not keep:
            shutil.rmtree(run_dir, ignore_errors=True)
    out = est.join(truth[["effect_sd", "factor_level", "true_effect"]])
    out["covered"] = (out["ci90_lower"] <= out["true_effect"]) & (out["true_effect"] <= out["ci90_upper"])
    out["measured_truth"] = [measured.get(k, np.nan) for k in zip(out["outcome_indicator_id"], out["factor_id"])]
    out["covered_measured"] = (out["ci90_lower"] <= out["measured_truth"]) & (out["measured_truth"] <= out["ci90_upper"])
    out["seed"] = seed
    if ranking:
        out["ranking_spearman"] = rank["spearman"]
        out["ranking_spearman_ceiling"] = rank["spearman_ceiling"]
        out["ranking_rank_coverage"] = rank["rank_interval_coverage"]
        out["ranking_rank_width"] = rank["rank_interval_width"]
        out["chain_coverage"] = rank["chain_coverage"]
    return out


def summarise(results: pd.DataFrame, min_effect: float = 0.2) -> dict[str, float]:
    """Coverage and sign-recovery figures over many ``evaluate_seed`` results."""
    est = results[results["status"] == "estimated"]
    planted = est[est["effect_sd"] != 0]
    big = results[results["effect_sd"].abs() >= min_effect]
    sign_ok = (np.sign(big["estimate"]) == np.sign(big["effect_sd"])) & (big["status"] == "estimated")
    per_pair = sign_ok.groupby([big["factor_id"], big["outcome_indicator_id"]]).mean()
    estimable = big["status"].eq("estimated").groupby([big["factor_id"], big["outcome_indicator_id"]]).mean()
    return {
        "datasets": results["seed"].nunique(),
        "pairs_estimated": len(est),
        "coverage_all": float(est["covered"].mean()),
        "coverage_zero_effects": float(est.loc[est["effect_sd"] == 0, "covered"].mean()),
        "coverage_planted": float(planted["covered"].mean()),
        "coverage_measured_all": float(est["covered_measured"].mean()),
        "coverage_measured_planted": float(planted["covered_measured"].mean()),
        "planted_pairs_ge_min": int(len(per_pair)),
        "planted_pairs_estimable": int((estimable > 0).sum()),
        "sign_recovery_min_over_estimable_pairs": float(per_pair[estimable > 0].min()) if (estimable > 0).any() else float("nan"),
        "pairs_with_sign_recovery_ge_95pct": int((per_pair[estimable > 0] >= 0.95).sum()),
        "sign_recovery_by_pair": per_pair.round(3).to_dict(),
        **subgoal_mean_coverage(results),
        **_ranking_summary(results),
    }


def subgoal_mean_coverage(results: pd.DataFrame) -> dict[str, float]:
    """Whether ``merge.combine_outcomes``'s standard error of a sub-goal effect holds, which treats
    the sub-goal's outcome indicators as independent although they are measured in the same areas:
    per dataset, factor and sub-goal with at least two estimated outcomes, the mean d over those
    outcomes (``combine_outcomes``) against the mean of their true d. Returns how many such means
    there are, the share their 90% normal interval (``d_local +- 1.645 se_local``) covers, and the
    SD of ``(d_local - true d) / se_local`` (1 when the standard error is right, above 1 when it is
    optimistic)."""
    from scipy import stats

    from models_ml.merge import combine_outcomes, outcome_effects, to_cohens_d

    rows = results[(results["status"] == "estimated") & results["true_effect"].notna()].copy()
    rows["true_d"] = to_cohens_d(rows["true_effect"], 0.0)[0]
    keys = ["seed", "factor_id", "subgoal_id"]
    got = combine_outcomes(rows, by=("seed",)).set_index(keys)
    got = got[got["n_outcomes_local"] >= 2]
    truth = outcome_effects(rows).groupby(keys)["true_d"].mean().reindex(got.index)
    z = ((got["d_local"] - truth) / got["se_local"]).astype(float)
    return {"subgoal_means": int(len(z)),
            "coverage_subgoal_means": float((z.abs() <= stats.norm.ppf(0.95)).mean()) if len(z) else float("nan"),
            "subgoal_mean_z_sd": float(z.std()) if len(z) > 1 else float("nan")}


def _ranking_summary(results: pd.DataFrame) -> dict[str, float]:
    if "ranking_spearman" not in results:
        return {}
    rho = results.groupby("seed")["ranking_spearman"].first()
    return {"ranking_spearman_median": float(rho.median()), "ranking_spearman_mean": float(rho.mean()),
            "ranking_spearman_min": float(rho.min()), "ranking_spearman_share_ge_0_8": float((rho >= 0.8).mean()),
            **({"ranking_spearman_ceiling_median": float(results.groupby("seed")["ranking_spearman_ceiling"].first().median())}
               if "ranking_spearman_ceiling" in results else {}),
            **({"ranking_rank_interval_coverage": float(results.groupby("seed")["ranking_rank_coverage"].first().mean()),
                "ranking_rank_interval_width": float(results.groupby("seed")["ranking_rank_width"].first().mean())}
               if "ranking_rank_coverage" in results else {}),
            **({"chain_coverage_planted": float(results.groupby("seed")["chain_coverage"].first().mean())}
               if "chain_coverage" in results else {})}


def score_error_known_answer(seed: int, score_error: bool = True, n_gemeenten: int = 6, n_wijken: int = 12,
                             n_factors: int = 10, n_draws: int = 400, effect_se: float = 0.0,
                             score_shrinkage: bool = True) -> dict[str, float]:
    """How often the per-wijk 90% rank intervals contain the true rank when the wijk scores carry
    sampling error (``RankingConfig.score_error``), on one simulated dataset.

    Truth: every factor has an effect on each of two sub-goals (no chains), every wijk
    has a true, noise-free score (N(0, 1)) and a sampling SD (0.05-0.9, a quarter of them above 0.6,
    about the spread of the demo's published wijk scores). The true per-wijk ranking is
    ``rank_factors`` on the true scores with exact gaps; the estimate ranks the observed scores
    (true + N(0, SD^2)), given their error variances, with ``n_draws`` draws. ``effect_se`` 0: the
    effects are known exactly, so that all of the rank uncertainty is the scores' (without
    ``score_error`` the intervals are a point); otherwise they are estimated, true + N(0,
    effect_se^2), with that standard error. Returns ``coverage`` (share of the (wijk, rankable factor) cases whose interval contains
    the true rank, ties as in ``rank_interval_covers``), ``width`` (median width in ranks) and
    ``impact_ratio``: the city-wide median impacts summed over every gemeente and factor, over the
    true city-wide impacts summed (1: no bias; above 1, noise taken for room for improvement).
    ``score_shrinkage``: ``RankingConfig.score_shrinkage``.
    """
    from models_ml import ranking, ranking_model

    rng = np.random.default_rng(seed)
    fids = [f"f{j:02d}" for j in range(n_factors)]
    factors = pd.DataFrame({"factor_id": fids, "factor_type": np.where(np.arange(n_factors) % 3 == 2, "protective", "risk"),
                            "name_nl": fids})
    subgoals = pd.DataFrame({"subgoal_id": ["a", "b"], "domain_id": ["a", "b"], "name_nl": ["A", "B"]})
    effects = pd.DataFrame([(f, s, rng.uniform(0.05, 0.5) * (1 if factors["factor_type"][j] == "risk" else -1), 0.0)
                            for j, f in enumerate(fids) for s in ("a", "b")],
                           columns=["factor_id", "subgoal_id", "d_merged", "se_merged"])
    no_chains = pd.DataFrame(columns=["from_factor_id", "to_factor_id", "coefficient", "std_error"])
    model = ranking_model.build_model(factors, subgoals, effects, no_chains)
    estimated = effects.assign(d_merged=effects["d_merged"] + effect_se * rng.standard_normal(len(effects)),
                               se_merged=effect_se)
    est_model = ranking_model.build_model(factors, subgoals, estimated, no_chains)
    codes = [f"WK{9000 + g:04d}{w:02d}" for g in range(n_gemeenten) for w in range(n_wijken)]
    grid = pd.MultiIndex.from_product([codes, fids], names=["area_code", "factor_id"]).to_frame(index=False)
    true_score = rng.standard_normal(len(grid))
    sd = rng.uniform(0.05, 0.9, len(grid))
    truth = grid.assign(area_level="wijk", year=2024, score=true_score, error_var=0.0)
    observed = truth.assign(score=true_score + sd * rng.standard_normal(len(grid)), error_var=sd**2)
    phases = pd.DataFrame(columns=["factor_id", "life_phase_id"])
    true_city, tru = ranking.rank_factors(model, truth, phases, ranking.RankingConfig(n_draws=1, score_error=False))
    est_city, est = ranking.rank_factors(est_model, observed, phases, ranking.RankingConfig(
        n_draws=n_draws, score_error=score_error, score_shrinkage=score_shrinkage))
    city_impact = [c.loc[c["scope_type"] == "gemeente", "impact"].sum() for c in (est_city, true_city)]
    est = est.assign(true_impact=tru["impact"].round(TIE_DECIMALS).to_numpy())[est["rankable"]]
    covered = np.concatenate([rank_interval_covers(w["rank_ci90_lower"], w["rank_ci90_upper"], w["true_impact"])
                              for _, w in est.groupby("area_code")])
    return {"coverage": float(covered.mean()),
            "width": float((est["rank_ci90_upper"] - est["rank_ci90_lower"]).median()),
            "impact_ratio": float(city_impact[0] / city_impact[1])}
