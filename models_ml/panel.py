"""Area x year panels for the local association models (no Dagster; a DuckDB connection is passed in).

One panel per outcome indicator (``measures = 'subgoal'`` in ``factor_model.indicators``):

* rows: the areas of the outcome's base level (``buurt`` or ``wijk``) x the years the outcome is
  observed; the outcome comes from ``intermediate.int_indicator_value`` (unsuppressed);
* columns: the outcome on its **link scale, oriented so that higher = worse** (see below), its
  sampling variance on that scale, and the association score (``association_scores``: the scores
  of ``intermediate.int_factor_score``, i.e. of ``marts.fct_factor_score`` before disclosure
  control, with each indicator on its link scale where its counts allow) of every factor
  linked to the outcome's sub-goal (``factor_model.factor_subgoal_links``) at the same level.

The estimand (see ``models_ml/README.md``): the change in the outcome, in standard deviations of
its *signal* on the link scale, per one panel standard deviation of the factor score, holding the
other linked factors, the area and the year fixed (within-area association).

Transformations, in order:

1. **Outcome on the link scale.** Percentages and survey prevalences: ``logit(value / multiplier)``;
   rates per 1000, means and counts: ``log(value)``. Values of exactly 0 or 100 % are moved half a
   count inwards (``(numerator + 0.5) / (denominator + 1)``) so that the link is finite. The result
   is multiplied by the orientation (+1 for ``higher_is_worse``, -1 for ``higher_is_better``), so
   a higher outcome is always worse — the same sign convention as ``literature_weights``
   (positive d = the factor makes the sub-goal worse).
2. **Sampling variance** of the link-scale outcome, by the delta method from the indicator's
   ``standard_error`` (logit: ``(se/m) / (p (1-p))``; log: ``se / value``) for a survey prevalence
   or a value without counts; for a count unit (percentage, rate, count) with its counts, and
   wherever the standard error is missing, from the counts: by default exactly (``exact_count_variance``: the variance
   of the link transform under a Poisson / binomial count with the area's pooled rate; for small
   counts the delta method is badly biased), else (``exact_sampling_variance=False``) by the delta
   method at the observed count (logit: ``1/(x+0.5) + 1/(n-x+0.5)``; log: ``1/(x+0.5)``).
3. **Standardisation of the outcome** by its *signal* SD: ``sqrt(var_panel - mean(sampling var))``
   over the area-year panel (floored at 10 % of the panel variance). Dividing by the total SD
   would shrink the estimate by the share of binomial/Poisson noise, which differs between a small
   buurt and a large wijk; the signal SD makes estimates comparable across levels and sources.
4. **Factor scores.** A factor scored at the outcome's level enters as that score (its association
   score: ``association_scores``; since associations-1.7.0, before that ``int_factor_score``). For a buurt-level
   outcome, a factor that exists only at wijk level (GGD survey factors, for example) enters as the
   score of the buurt's wijk (``marts.dim_area.wijk_code``): every buurt of a wijk gets the same
   value, so its coefficient rests on between-wijk variation over time only (it is flagged
   ``wijk_score_for_buurt``). Survey factors are measured every other year (youth monitor in odd,
   adult monitor in even years); a missing year between two measured years is filled by **linear
   interpolation** within the area, and missing years before the first / after the last measured
   year by the nearest measured value (flagged ``interpolated_years``). This keeps factors of both
   monitors in one regression at the cost of some measurement error: a filled year carries the
   sampling errors of the measured years it is made of (``FilledScores.sources``), shared with their
   rows (``shared_error_offdiagonal``), which the associations correct for since associations-1.7.0;
   where the factor does not move linearly between two surveys, the interpolation's own error is not.
5. **Standardisation of the factors**: each factor score is divided by its SD over the panel
   (after filling), so a coefficient is "per factor SD". Centring is irrelevant under the fixed
   effects.

6. **Sampling error of the factor scores** (``OutcomePanel.factor_error_var``): every score's error
   variance from its indicators (``association_scores.load_association_scores``; on their own
   scale as ``load_factor_score_errors`` / ``factor_score_error_variance``), on the standardised scale;
   a filled year's from the measured years it is made of, and the covariances that shares
   (``OutcomePanel.factor_error_offdiag``). The associations correct for it (errors in
   variables) where a factor's scores are reliable enough.

Rows with a missing outcome are dropped; a factor with no score at all for the panel is reported
in ``OutcomePanel.missing_factors`` and left out of the regression.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

LINK_BY_UNIT = {
    "percentage": "logit",
    "survey_prevalence": "logit",
    "rate_per_1000": "log",
    "mean": "log",
    "count": "log",
}
SIGNAL_VARIANCE_FLOOR = 0.10  # the signal variance is at least this share of the panel variance


@dataclass
class OutcomePanel:
    """One outcome's panel, ready for ``associations.estimate_outcome``.

    ``data`` has one row per area and year with columns ``area_code``, ``year``, ``y`` (the
    standardised, oriented link-scale outcome), ``y_link`` (oriented link scale, not standardised),
    ``y_sampling_var`` (sampling variance of ``y_link``), and one column per factor in ``factors``
    (standardised scores).
    """

    outcome_indicator_id: str
    subgoal_id: str
    area_level: str
    link: str
    orientation: int
    data: pd.DataFrame
    factors: list[str]
    missing_factors: list[str] = field(default_factory=list)
    factor_flags: dict[str, list[str]] = field(default_factory=dict)
    outcome_sd_total: float = float("nan")
    outcome_sd_signal: float = float("nan")
    factor_sd: dict[str, float] = field(default_factory=dict)
    wijk_of: dict[str, str] = field(default_factory=dict)
    """For a buurt panel with a factor scored per wijk (``wijk_score_for_buurt``): the wijk of every
    buurt code, so that that factor's standard error can be clustered by wijk."""
    factor_error_var: pd.DataFrame | None = None
    """Sampling error variance of every factor value in ``data`` (same rows, one column per factor),
    on the standardised scale (``factor_score_error_variance`` divided by the factor's panel
    variance); NaN where unknown (a measured year without an error variance, or a year filled from one). None: not known at all (panels
    built by hand); the associations then make no errors-in-variables correction."""
    factor_error_offdiag: pd.DataFrame | None = None
    """Per row and factor: the sum of the covariances of the row's score error with the errors of the
    other rows of the same area (``shared_error_offdiagonal``), on the standardised scale: not 0
    where interpolated or carried years share a measured year's error. None with ``factor_error_var``."""


def link_transform(value, numerator, denominator, multiplier, link: str) -> np.ndarray:
    """The link-scale value (not oriented) of indicator values; see step 1 of the module docstring."""
    value = np.asarray(value, dtype=float)
    if link == "logit":
        p = value / np.asarray(multiplier, dtype=float)
        x = np.asarray(numerator, dtype=float)
        n = np.asarray(denominator, dtype=float)
        edge = (p <= 0) | (p >= 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            p_adj = np.where(edge & (n > 0), (x + 0.5) / (n + 1.0), p)
            p_adj = np.clip(p_adj, 1e-6, 1 - 1e-6)
            return np.log(p_adj / (1 - p_adj))
    if link == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.asarray(numerator, dtype=float)
            n = np.asarray(denominator, dtype=float)
            # half a count for zero values: value * (x + 0.5) / x equals (x + 0.5) / n * multiplier
            zero = value <= 0
            adj = np.where(zero & (n > 0), 0.5 / n * np.asarray(multiplier, dtype=float), value)
            return np.log(np.where(adj > 0, adj, np.nan))
    raise ValueError(f"unknown link {link!r}")


def link_sampling_variance(value, numerator, denominator, multiplier, standard_error, link: str) -> np.ndarray:
    """Sampling variance of the link-scale value (delta method); see step 2 of the module docstring."""
    value = np.asarray(value, dtype=float)
    m = np.asarray(multiplier, dtype=float)
    se = np.asarray(standard_error, dtype=float)
    x = np.asarray(numerator, dtype=float)
    n = np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if link == "logit":
            p = np.clip(value / m, 1e-6, 1 - 1e-6)
            from_se = (se / m / (p * (1 - p))) ** 2
            from_counts = 1.0 / (x + 0.5) + 1.0 / (n - x + 0.5)
        else:
            from_se = (se / np.where(value > 0, value, np.nan)) ** 2
            from_counts = 1.0 / (x + 0.5)
        out = np.where(np.isfinite(from_se) & (from_se > 0), from_se, from_counts)
    return out


EXACT_VARIANCE_MAX_COUNT = 30.0  # below this expected count (of events or non-events) the exact variance is used


def _poisson_pmf(k: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """``scipy.stats.poisson.pmf(k[None, :], mu[:, None])`` for counts ``k >= 0`` and ``mu > 0``, to the bit.

    scipy computes ``clip(exp(xlogy(k, mu) - gammaln(k + 1) - mu), 0, 1)`` element by element, after
    checking and broadcasting its arguments; here ``log(mu)`` (as ``xlogy(1, mu)``, the same
    function) is taken once per row and ``gammaln(k + 1)`` once per count, which is about 30 times
    faster on the national panels. ``xlogy(k, mu)`` is ``k * log(mu)`` (0 for k = 0).
    """
    from scipy import special

    k = np.asarray(k, dtype=float)
    log_mu = special.xlogy(1.0, np.asarray(mu, dtype=float))[:, None]
    xlogy = np.where(k[None, :] == 0, 0.0, k[None, :] * log_mu)
    return np.clip(np.exp(xlogy - special.gammaln(k + 1)[None, :] - np.asarray(mu, dtype=float)[:, None]), 0, 1)


def exact_count_variance(numerator, denominator, link: str, area=None) -> np.ndarray:
    """Sampling variance of the link-scale value of a count-based indicator, computed exactly.

    For small counts the delta-method variance ``1/(x+0.5)`` (log) or ``1/(x+0.5) + 1/(n-x+0.5)``
    (logit), evaluated at the *observed* count, is biased: for an expected count of 1.6 it is
    about 0.75 where the variance of ``log(max(x, 0.5))`` is 0.45, and it varies with the noise it
    measures. Because the outcome is standardised by its signal SD (panel variance minus the mean
    sampling variance), an overestimate there inflates every coefficient on rare-event outcomes
    (police figures per buurt). Here the count is modelled as Poisson (log link) or binomial
    (logit link) with its expected value from the area's pooled rate over the years
    (``sum x / sum n`` per area, ``area`` codes; the whole panel's rate without ``area``), and the
    variance of the link transform *as ``link_transform`` applies it* (zero counts at half a count)
    is summed exactly over the count distribution. Where the expected count of events and of
    non-events is at least ``EXACT_VARIANCE_MAX_COUNT`` the delta method at the expected count is used.
    """
    from scipy import stats as st

    x = np.asarray(numerator, dtype=float)
    n = np.asarray(denominator, dtype=float)
    if area is None:
        area = np.zeros(len(x), dtype=int)
    area = pd.factorize(pd.Series(area))[0]
    ok = np.isfinite(x) & np.isfinite(n) & (n > 0)
    sx = np.bincount(area[ok], weights=x[ok], minlength=area.max() + 1)
    sn = np.bincount(area[ok], weights=n[ok], minlength=area.max() + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.clip(sx / sn, 1e-6, 1 - 1e-6)[area]
    mu = n * rate
    out = np.full(len(x), np.nan)
    if link == "log":
        out = np.where(ok, 1.0 / np.maximum(mu, 1e-9), np.nan)
        small = ok & (mu < EXACT_VARIANCE_MAX_COUNT)
        if small.any():
            k = np.arange(int(EXACT_VARIANCE_MAX_COUNT + 10 * np.sqrt(EXACT_VARIANCE_MAX_COUNT) + 30))
            pmf = _poisson_pmf(k, mu[small])
            lk = np.log(np.maximum(k, 0.5))[None, :]
            m1 = (pmf * lk).sum(axis=1) / pmf.sum(axis=1)
            out[small] = (pmf * lk**2).sum(axis=1) / pmf.sum(axis=1) - m1**2
        return out
    # logit: binomial; the rare side (events or non-events) on a grid of counts 0..K, by symmetry
    out = np.where(ok, 1.0 / np.maximum(mu, 1e-9) + 1.0 / np.maximum(n - mu, 1e-9), np.nan)
    flip = ok & (n - mu < mu)
    rare_rate = np.where(flip, 1 - rate, rate)
    small = ok & (n * rare_rate < EXACT_VARIANCE_MAX_COUNT)
    if small.any():
        ni = np.round(n[small])[:, None]
        k = np.arange(int(EXACT_VARIANCE_MAX_COUNT + 10 * np.sqrt(EXACT_VARIANCE_MAX_COUNT) + 30))[None, :]
        pmf = np.where(k <= ni, st.binom.pmf(k, ni, rare_rate[small][:, None]), 0.0)
        edge = (k == 0) | (k == ni)
        p = np.where(edge, (k + 0.5) / (ni + 1.0), k / np.maximum(ni, 1))
        p = np.clip(p, 1e-9, 1 - 1e-9)
        lk = np.log(p / (1 - p))
        w = pmf / pmf.sum(axis=1, keepdims=True)
        m1 = (w * lk).sum(axis=1)
        out[small] = (w * lk**2).sum(axis=1) - m1**2
    return out


COUNT_UNITS = ("percentage", "rate_per_1000", "count")

FACTOR_VALUES_SQL = """
select v.indicator_id, i.factor_id, i.unit, i.multiplier, v.year, v.area_code, v.area_level,
       v.numerator, v.denominator, v.value, v.standard_error
from intermediate.int_indicator_value v
join factor_model.indicators i on i.indicator_id = v.indicator_id
where i.measures = 'factor' and v.area_level in ('buurt', 'wijk') and v.value is not null
"""
"""The factor indicators' values at buurt and wijk level (what ``factor_score_error_variance`` reads)."""

ERROR_VARIANCE_SQL = """
-- Every sum is taken over DECIMAL values, which DuckDB adds exactly: the result is the same to the
-- bit whatever order the tables are stored and scanned in (a sum of doubles is not), at the memory
-- of a plain hash aggregate (ordered aggregates doubled the peak at national scale).
with v as ({values}),
counted as (
    select *, unit in {count_units} and numerator is not null and denominator > 0 as from_counts from v
),
rates as (  -- the area's pooled rate over the years
    select indicator_id, area_code,
           sum(numerator::decimal(38, 6))::double / sum(denominator::decimal(38, 6))::double as rate
    from counted where from_counts group by indicator_id, area_code
),
spreads as (  -- the spread the score's z divides by: across the areas of one level, gemeente and year
    select indicator_id, year, substr(area_code, 3, 4) as gemeente, area_level,
           count(*) as n,
           sum(value::decimal(38, 6))::double as s1,
           sum(pow(value::decimal(38, 6), 2)::decimal(38, 6))::double as s2
    from v group by indicator_id, year, substr(area_code, 3, 4), area_level
),
variances as (
    select c.area_code, c.area_level, c.year, c.factor_id,
        coalesce(case
            when c.from_counts and c.unit = 'percentage'
                then pow(coalesce(c.multiplier, 1), 2) * r.rate * (1 - r.rate) / c.denominator
            when c.from_counts then pow(coalesce(c.multiplier, 1), 2) * r.rate / c.denominator
            else pow(c.standard_error, 2)
        end, 0) / ((s.s2 - s.s1 * s.s1 / s.n) / (s.n - 1)) as var_z
    from counted as c
    left join rates as r on r.indicator_id = c.indicator_id and r.area_code = c.area_code
    inner join spreads as s
        on s.indicator_id = c.indicator_id and s.year = c.year and s.area_level = c.area_level
        and s.gemeente = substr(c.area_code, 3, 4)
    where s.n > 1 and (s.s2 - s.s1 * s.s1 / s.n) > 1e-12 * s.s2
)
select area_code, area_level, year::integer as year, factor_id,
       sum(var_z::decimal(38, 18))::double / pow(count(*), 2) as error_var, count(*)::integer as indicators
from variances
group by area_code, area_level, year, factor_id
order by factor_id, area_level, area_code, year
"""


def _error_variance_sql(values: str) -> str:
    return ERROR_VARIANCE_SQL.format(values=values, count_units=str(COUNT_UNITS))


MIN_AREAS_FOR_SPREAD = 5
"""dbt's ``var('min_areas_for_spread')`` (``dbt_project.yml``; a test keeps the two equal): where
values are withheld, the published scores standardise an indicator only on a spread of at least
this many published areas."""

PUBLISHED_FACTOR_VALUES_SQL = """
with published as (  -- complete wijk values, as fct_indicator_value publishes them (value NULL: withheld)
    select v.indicator_id, i.factor_id, i.unit, i.multiplier, v.year, v.area_code, v.area_level,
           v.numerator, v.denominator, v.value, v.standard_error, 'GM' || substr(v.area_code, 3, 4) as gemeente_code
    from marts.fct_indicator_value as v
    join factor_model.indicators as i on i.indicator_id = v.indicator_id
    where i.measures = 'factor' and v.area_level = 'wijk' and v.is_complete and (v.value is not null or v.is_suppressed)
),
spread as (  -- the spreads fct_factor_score standardises on (macros/factor_scores.sql, withhold=true)
    select indicator_id, year, gemeente_code, count(value) as n_published, count(*) as n_areas
    from published group by all
    having count(value) >= {min_areas} or count(value) = count(*)
)
select p.* exclude (gemeente_code)
from published as p
join spread as s using (indicator_id, year, gemeente_code)
join marts.fct_indicator_value as r  -- the gemeente's own value is published: the reference of the z
    on r.area_code = p.gemeente_code and r.indicator_id = p.indicator_id and r.year = p.year
    and r.value is not null and r.is_complete
where p.value is not null
"""
"""The published wijk values that enter a published factor score (``marts.fct_factor_score``): the
macro's rules (a published, complete value; a published gemeente reference; a spread of enough
published areas), from published rows only."""


def load_published_score_errors(con) -> pd.DataFrame:
    """``factor_score_error_variance`` of the *published* wijk factor scores: area_code, area_level,
    year, factor_id, error_var, indicators.

    The ranking reads the published scores (``ranking.load_scores``), which are standardised on the
    spread of the published values only and average only the published indicators, so the
    internal scores' variances (``load_factor_score_errors``) are on another scale where values are
    withheld. Computed from published rows only (the pooled rate of a count over the published
    years, the spread of the published values), so nothing derived from them can give a withheld
    value back. ``indicators`` equals ``fct_factor_score.indicators_used`` of the same score.
    """
    return con.execute(published_score_errors_sql()).df()


def published_score_errors_sql() -> str:
    """The query of ``load_published_score_errors`` (``ranking.SCORES_SQL`` joins it)."""
    return _error_variance_sql(PUBLISHED_FACTOR_VALUES_SQL.format(min_areas=MIN_AREAS_FOR_SPREAD))


def area_year_positions(index: pd.MultiIndex, codes, years) -> np.ndarray:
    """Positions in an (area_code, year) ``index`` of the given pairs; -1 where it has none."""
    return index.get_indexer(pd.MultiIndex.from_arrays([codes, years]))


class AreaYearGrid:
    """``area_year_positions`` for many lookups in one (area_code, integer year) index: its positions
    on a dense area x year grid, so that a lookup is an array index instead of a MultiIndex built
    and hashed per call. ``areas(codes)`` once per set of rows, then ``positions`` per set of years."""

    def __init__(self, index: pd.MultiIndex):
        area_of, self._areas = pd.factorize(index.get_level_values(0))
        years = index.get_level_values(1).to_numpy(dtype=np.int64)
        self._first = int(years.min()) if len(years) else 0
        span = int(years.max()) - self._first + 1 if len(years) else 0
        self._grid = np.full((len(self._areas) + 1, span + 1), -1, dtype=np.int64)  # last row, column: none
        self._grid[area_of, years - self._first] = np.arange(len(index))

    def areas(self, codes) -> np.ndarray:
        """The grid row of every area code (the last, empty row where the index has none)."""
        rows = self._areas.get_indexer(pd.Index(np.asarray(codes, dtype=object)))
        return np.where(rows >= 0, rows, len(self._areas))

    def positions(self, rows: np.ndarray, years) -> np.ndarray:
        """Positions of the (area row, year) pairs in the index; -1 where it has none."""
        col = np.asarray(years, dtype=np.int64) - self._first
        span = self._grid.shape[1] - 1
        return self._grid[rows, np.where((col >= 0) & (col < span), col, span)]


def values_at(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``values`` at ``positions`` (from ``area_year_positions``); NaN where a position is -1."""
    padded = np.append(np.asarray(values, dtype=float), np.nan)
    return padded[np.where(positions >= 0, positions, len(padded) - 1)]


def load_factor_score_errors(con) -> pd.DataFrame:
    """``factor_score_error_variance`` of every factor score in the warehouse, computed in DuckDB from
    ``FACTOR_VALUES_SQL`` (at national scale the indicator values are 4 million rows: they are not
    read into pandas)."""
    return con.execute(_error_variance_sql(FACTOR_VALUES_SQL)).df()


def factor_score_error_variance(factor_values: pd.DataFrame) -> pd.DataFrame:
    """Sampling error variance of every factor score (``int_factor_score``), from its indicators.

    A factor score is the mean over its indicators of ``z = orientation * (value - gemeente value)
    / sd``, with ``sd`` the spread of the values across the areas of the same level, gemeente and
    year (``macros/factor_scores.sql``). Its sampling error variance, treating the gemeente value and
    ``sd`` as fixed and the indicators' errors as independent, is ``sum_i var(value_i) / sd_i^2 /
    k^2`` over its ``k`` indicators. ``var(value)`` of a count-based value (percentage, rate,
    count with numerator and denominator) is binomial (``m^2 r (1 - r) / n``) or Poisson
    (``m^2 r / n``) at the area's pooled rate over the years ``r = sum x / sum n`` (as
    ``exact_count_variance``: the observed count would give 0 for a zero count); otherwise the
    square of the value's standard error (surveys); a value with neither (a mean without a standard
    error) counts as measured without error, so its factor is corrected too little rather than
    too much. Returns area_code, area_level, year, factor_id, error_var.

    ``factor_values``: rows as ``FACTOR_VALUES_SQL`` gives them. The same SQL as
    ``load_factor_score_errors`` (the raw-scale error variances; the pipeline's panels read
    ``association_scores.load_association_scores``, equal on the raw scale), run in an in-memory DuckDB.
    """
    import duckdb

    with duckdb.connect() as con:
        con.register("factor_values", factor_values)
        return con.execute(_error_variance_sql("select * from factor_values")).df()


@dataclass
class FilledScores:
    """One factor's scores at one level on an area x year grid, gaps filled (see ``_fill_years``)."""

    areas: pd.Index  # area codes (rows)
    years: np.ndarray  # the requested years (columns)
    values: np.ndarray  # (areas, years) filled scores
    filled: np.ndarray  # (areas, years) True where the score was interpolated or carried to an end
    # each value as (1 - w) * score(source_prev) + w * score(source_next) of measured years (a measured
    # year: itself, w 0; an end: the nearest measured year, w 0); what its sampling error is made of
    source_prev: np.ndarray | None = None  # (areas, years) measured year
    source_next: np.ndarray | None = None  # (areas, years) measured year
    w_next: np.ndarray | None = None  # (areas, years)

    def _cells(self, codes: np.ndarray, uniques, years) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row and column of every (area, year) pair in the grid, and whether the grid has it."""
        rows = np.append(self.areas.get_indexer(pd.Index(uniques, dtype=object)), -1)[codes]
        years = np.asarray(years)
        cols = np.minimum(np.searchsorted(self.years, years), len(self.years) - 1)
        return rows, cols, (rows >= 0) & (self.years[cols] == years)

    def lookup(self, codes: np.ndarray, uniques, years) -> tuple[np.ndarray, bool]:
        """Scores of the (area, year) pairs (NaN for an unknown area) and whether any was filled.

        The areas are given factorised: ``uniques[codes]`` (codes -1: no area)."""
        rows, cols, known = self._cells(codes, uniques, years)
        out = np.full(len(rows), np.nan)
        out[known] = self.values[rows[known], cols[known]]
        return out, bool(self.filled[rows[known], cols[known]].any())

    def sources(self, codes: np.ndarray, uniques, years) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The measured years each looked-up value is made of and the weight of the second:
        ``source_prev``, ``source_next``, ``w_next`` per (area, year) pair (NaN where unknown)."""
        rows, cols, known = self._cells(codes, uniques, years)
        out = [np.full(len(rows), np.nan) for _ in range(3)]
        for o, grid in zip(out, (self.source_prev, self.source_next, self.w_next)):
            o[known] = grid[rows[known], cols[known]]
        return out[0], out[1], out[2]


def _fill_years(score: pd.Series, years: list[int]) -> FilledScores:
    """Fill an (area_code, year) series of factor scores to ``years``: gaps within each area
    linearly (by year), the ends by the nearest measured value.

    The same numbers as ``unstack("year").interpolate(method="index", axis=1, limit_area="inside")
    .ffill(axis=1).bfill(axis=1)`` (which calls ``np.interp`` area by area), computed with one
    ``np.interp`` call for all areas: every area's years are shifted by its own offset, so that no
    interpolation crosses two areas and every difference of years stays exact.
    """
    grid = score.unstack("year")
    all_years = sorted(set(grid.columns) | set(years))
    grid = grid.reindex(columns=all_years)
    values = grid.to_numpy(dtype=float, copy=True)
    before = ~np.isnan(values)
    n_rows, n_cols = values.shape
    pos = np.arange(n_cols)
    last = np.maximum.accumulate(np.where(before, pos, -1), axis=1)  # last measured column so far
    nxt = np.minimum.accumulate(np.where(before, pos, n_cols)[:, ::-1], axis=1)[:, ::-1]  # next measured
    inside = ~before & (last >= 0) & (nxt < n_cols)
    if inside.any():
        x = np.asarray(all_years, dtype=float) - float(all_years[0])
        shifted = np.arange(n_rows, dtype=float)[:, None] * (x[-1] + 1.0) + x[None, :]
        values[inside] = np.interp(shifted[inside], shifted[before], values[before])
    ends = ~before & ~inside
    if ends.any():
        rows = np.nonzero(ends)[0]
        source = np.where(last[ends] >= 0, last[ends], nxt[ends])  # ffill, then bfill for the start
        ok = source < n_cols
        values[rows[ok], np.nonzero(ends)[1][ok]] = values[rows[ok], source[ok]]
    want = np.searchsorted(all_years, years)
    done = ~np.isnan(values)
    year_of = np.asarray(all_years, dtype=float)
    prev_col = np.clip(np.where(last >= 0, last, nxt), 0, n_cols - 1)
    next_col = np.clip(np.where(nxt < n_cols, nxt, last), 0, n_cols - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        w_next = np.where(inside, (year_of[pos][None, :] - year_of[prev_col]) / (year_of[next_col] - year_of[prev_col]), 0.0)
    return FilledScores(areas=grid.index, years=np.asarray(years), values=values[:, want],
                        filled=(done & ~before)[:, want], source_prev=year_of[prev_col][:, want],
                        source_next=year_of[next_col][:, want], w_next=w_next[:, want])


def shared_error_offdiagonal(area, source_prev, source_next, w_next, error_prev, error_next) -> np.ndarray:
    """Per row: the sum of the covariances of its score's sampling error with those of the other rows
    of the same area.

    A score filled by interpolation is ``(1 - w) x_prev + w x_next`` of two measured years of its
    area, a carried one (an end) a copy of the nearest, a measured one itself (``FilledScores.sources``):
    rows that share a measured year share its error. With ``W`` the rows' weights on the measured
    years and ``d`` their error variances, the rows' error covariance is ``W diag(d) W'`` and row i's
    off-diagonal sum ``sum_k W_ik d_k c_k - sum_k W_ik^2 d_k``, with ``c_k`` the weight of all the
    area's rows on measured year k. 0 for a factor measured every year; NaN where an error variance
    is unknown. ``area``: the row's area (a buurt also where a wijk score stands in for it)."""
    prev, nxt = np.asarray(source_prev, dtype=float), np.asarray(source_next, dtype=float)
    same = prev == nxt
    wp = np.where(same, 1.0, 1.0 - np.asarray(w_next, dtype=float))
    wn = np.where(same, 0.0, np.asarray(w_next, dtype=float))
    # c_k: the rows' weights summed per (area, measured year), as integer keys (NaN year: no key)
    n = len(prev)
    codes = np.tile(pd.factorize(np.asarray(area, dtype=object))[0].astype(np.int64), 2)
    years, weights = np.concatenate([prev, nxt]), np.nan_to_num(np.concatenate([wp, wn]))
    keyed = np.isfinite(years) & (codes >= 0)
    c = np.full(2 * n, np.nan)
    if keyed.any():
        first, last = years[keyed].min(), years[keyed].max()
        key = codes[keyed] * np.int64(last - first + 1) + (years[keyed] - first).astype(np.int64)
        _, group = np.unique(key, return_inverse=True)
        c[keyed] = np.bincount(group, weights=weights[keyed])[group]
    c_p, c_n = c[:n], c[n:]
    e_p, e_n = np.asarray(error_prev, dtype=float), np.asarray(error_next, dtype=float)
    with np.errstate(invalid="ignore"):
        own = np.where(same, e_p * (c_p - 1.0), 0.0)
        mixed = wp * e_p * (c_p - wp) + wn * e_n * (c_n - wn)
    return np.where(same, own, mixed)


def load_inputs(con, link_scale: bool = True) -> dict[str, pd.DataFrame]:
    """Read what the panels need from the warehouse (one query per table), in a fixed row order:
    DuckDB returns rows in scan order, which for large tables read in parallel differs from run
    to run, and the panels' sums would then differ in the last bits.

    The factor scores and their error variances are the association scores
    (``association_scores.load_association_scores``: indicators on their link scale where their
    counts allow); ``link_scale=False``: every indicator on its own scale, the scores of
    ``intermediate.int_factor_score`` (what associations-1.6.0 and earlier regressed on)."""
    from models_ml.association_scores import load_association_scores

    q = con.execute
    scores = load_association_scores(con, link_scale=link_scale)
    return {
        "indicators": q("select indicator_id, measures, factor_id, subgoal_id, unit, multiplier, direction, area_level "
                        "from factor_model.indicators order by indicator_id").df(),
        "links": q("select link_id, factor_id, subgoal_id, effect_direction from factor_model.factor_subgoal_links order by link_id").df(),
        "values": q("select v.indicator_id, v.year, v.area_code, v.area_level, v.numerator, v.denominator, v.value, "
                    "v.standard_error from intermediate.int_indicator_value v "
                    "join factor_model.indicators i on i.indicator_id = v.indicator_id "
                    "where i.measures = 'subgoal' and v.area_level = i.area_level "
                    "order by v.indicator_id, v.area_level, v.area_code, v.year").df(),
        "factor_errors": scores[["area_code", "area_level", "year", "factor_id", "error_var", "indicators"]],
        "scores": scores[["area_code", "area_level", "year", "factor_id", "score"]],
        "areas": q("select area_code, area_level, wijk_code from marts.dim_area order by area_code").df(),
    }


def build_panels(con=None, *, inputs: dict[str, pd.DataFrame] | None = None,
                 outcomes: list[str] | None = None, exact_sampling_variance: bool = True,
                 link_scale: bool = True) -> list[OutcomePanel]:
    """One ``OutcomePanel`` per outcome indicator (optionally only those in ``outcomes``).

    Pass a DuckDB connection (``con``) to the warehouse, or ``inputs`` as returned by
    ``load_inputs`` (for tests that build the tables by hand). ``exact_sampling_variance``
    (default on) uses ``exact_count_variance`` for count-based values (step 2); off: the delta
    method at the observed count. ``link_scale`` (with ``con``): see ``load_inputs``.
    """
    if inputs is None:
        inputs = load_inputs(con, link_scale=link_scale)
    ind = inputs["indicators"]
    links = inputs["links"]
    values = inputs["values"]
    scores = inputs["scores"]
    areas = inputs["areas"]
    wijk_of = dict(zip(areas["area_code"], areas["wijk_code"]))
    # fall back on the code structure (BU + 4 gemeente digits + 2 wijk digits) for unknown buurten
    def parent_wijk(code: str) -> str | None:
        w = wijk_of.get(code)
        if isinstance(w, str) and w:
            return w
        return "WK" + code[2:8] if code.startswith("BU") and len(code) >= 8 else None

    score_wide = {
        level: g.pivot_table(index=["area_code", "year"], columns="factor_id", values="score", aggfunc="mean")
        for level, g in scores.groupby("area_level")
    }
    filled_cache: dict = {}
    errors = inputs.get("factor_errors")  # the association scores' error variances; absent in hand-built inputs
    error_wide = {} if errors is None else {
        level: g.pivot_table(index=["area_code", "year"], columns="factor_id", values="error_var", aggfunc="mean")
        for level, g in errors.groupby("area_level")}

    error_grid = {lvl: AreaYearGrid(wide.index) for lvl, wide in error_wide.items()}

    def error_of(lvl: str, f: str, pos: np.ndarray | None) -> np.ndarray:
        """The error variance of factor ``f`` at those positions; NaN where not measured (filled)."""
        if pos is None or f not in error_wide[lvl].columns:
            return np.full(0 if pos is None else len(pos), np.nan)
        return values_at(error_wide[lvl][f].to_numpy(), pos)

    def composed_errors(lvl: str, f: str, filled: FilledScores, codes: np.ndarray, uniques, row_codes: np.ndarray):
        """The error variance of every looked-up score as made of its measured years (``sources``):
        the measured year's own, or ``(1 - w)^2 e_prev + w^2 e_next`` for an interpolated one; and
        what ``shared_error_offdiagonal`` needs (source years, weight, their error variances)."""
        prev, nxt, w = filled.sources(codes, uniques, area_years)
        grid = error_grid.get(lvl)
        rows = None if grid is None else grid.areas(row_codes)
        def at(yrs: np.ndarray) -> np.ndarray:
            """The error variance of the measured years ``yrs`` (positions -1: no measured value)."""
            known = np.isfinite(yrs)
            return error_of(lvl, f, None if grid is None else grid.positions(rows, np.where(known, yrs, -1).astype(int)))
        e_p, e_n = at(prev), at(nxt)
        same = prev == nxt
        with np.errstate(invalid="ignore"):
            diag = np.where(same, e_p, (1 - w) ** 2 * e_p + w**2 * e_n)
        return diag, (prev, nxt, w, e_p, e_n)

    def fill(lvl: str, f: str, yrs: list[int]):
        """``_fill_years`` of one factor at one level, computed once per set of years."""
        key = (lvl, f, tuple(yrs))
        if key not in filled_cache:
            filled_cache[key] = _fill_years(score_wide[lvl][f].dropna(), yrs)
        return filled_cache[key]

    panels = []
    out_ind = ind[ind["measures"] == "subgoal"].sort_values("indicator_id")
    if outcomes is not None:
        out_ind = out_ind[out_ind["indicator_id"].isin(outcomes)]
    rows_of = values.groupby(["indicator_id", "area_level"], sort=False).indices  # positions, in table order
    for row in out_ind.itertuples(index=False):
        link = LINK_BY_UNIT.get(row.unit, "log")
        orient = 1 if row.direction == "higher_is_worse" else -1
        level = row.area_level
        v = values.iloc[rows_of.get((row.indicator_id, level), np.array([], dtype=int))].copy()
        mult = float(row.multiplier) if pd.notna(row.multiplier) else 1.0
        v["y_link"] = orient * link_transform(v["value"], v["numerator"], v["denominator"], mult, link)
        v["y_sampling_var"] = link_sampling_variance(v["value"], v["numerator"], v["denominator"], mult,
                                                     v["standard_error"], link)
        if exact_sampling_variance:
            # a count unit's standard error in int_indicator_value is derived from the same count
            # (sqrt(x) / n, binomial at the observed share): the delta method at the observed count
            # that the exact variance replaces; a survey's (from its confidence interval) is kept
            counts = pd.to_numeric(v["numerator"], errors="coerce").notna() & (
                pd.to_numeric(v["denominator"], errors="coerce") > 0)
            from_counts = (counts & (row.unit in COUNT_UNITS)) | ~(pd.to_numeric(v["standard_error"], errors="coerce") > 0)
            if from_counts.any():
                exact = exact_count_variance(v["numerator"], v["denominator"], link, v["area_code"].to_numpy())
                v["y_sampling_var"] = np.where(from_counts & np.isfinite(exact), exact, v["y_sampling_var"])
        v = v[np.isfinite(v["y_link"])][["area_code", "year", "y_link", "y_sampling_var"]]
        v["year"] = v["year"].astype(int)
        factors = sorted(links.loc[links["subgoal_id"] == row.subgoal_id, "factor_id"].unique())
        flags: dict[str, list[str]] = {f: [] for f in factors}
        years = sorted(v["year"].unique())
        cols = {}
        missing = []
        own = score_wide.get(level)
        wijk = score_wide.get("wijk")
        area_years = v["year"].to_numpy()
        area_codes, area_uniques = pd.factorize(v["area_code"])
        parents = None  # the wijk of every buurt row, for wijk-level factors in a buurt panel
        errs: dict[str, np.ndarray] = {}
        sources: dict[str, tuple] = {}
        row_codes = v["area_code"].to_numpy(dtype=object)
        for f in factors:
            if own is not None and f in own.columns and own[f].notna().any():
                filled = fill(level, f, years)
                cols[f], any_filled = filled.lookup(area_codes, area_uniques, area_years)
                if errors is not None:
                    errs[f], sources[f] = composed_errors(level, f, filled, area_codes, area_uniques, row_codes)
                if any_filled:
                    flags[f].append("interpolated_years")
            elif level == "buurt" and wijk is not None and f in wijk.columns and wijk[f].notna().any():
                if parents is None:
                    parents = pd.factorize(pd.Series([parent_wijk(a) for a in area_uniques], dtype=object))
                    parents = (np.append(parents[0], -1)[area_codes], parents[1])
                filled = fill("wijk", f, years)
                cols[f], any_filled = filled.lookup(parents[0], parents[1], area_years)
                if errors is not None:
                    wijk_codes = np.append(np.asarray(parents[1], dtype=object), None)[parents[0]]
                    errs[f], sources[f] = composed_errors("wijk", f, filled, parents[0], parents[1], wijk_codes)
                if any_filled:
                    flags[f].append("interpolated_years")
                flags[f].append("wijk_score_for_buurt")
            else:
                missing.append(f)
        data = v.reset_index(drop=True)
        present = [f for f in factors if f not in missing]
        for f in present:
            data[f] = np.asarray(cols[f], dtype=float)
        error_cols = {f"__error_var__{f}": f for f in present if f in errs}
        for c, f in error_cols.items():
            data[c] = np.asarray(errs[f], dtype=float)
        data["__row__"] = np.arange(len(data))
        data = data.dropna(subset=["y_link", *present]).reset_index(drop=True)
        kept = data.pop("__row__").to_numpy()
        error_var = (data[list(error_cols)].rename(columns=error_cols).reindex(columns=present)
                     if errors is not None else None)
        error_offdiag = None
        if errors is not None:
            kept_areas = data["area_code"].to_numpy(dtype=object)
            # a factor measured every year shares no error between its rows: 0 (NaN where unknown)
            error_offdiag = pd.DataFrame({f: (shared_error_offdiagonal(kept_areas, *(a[kept] for a in sources[f]))
                                              if "interpolated_years" in flags[f] else sources[f][3][kept] * 0.0)
                                          for f in present if f in sources}, columns=present, dtype=float)
        var_total = float(data["y_link"].var(ddof=1)) if len(data) > 1 else float("nan")
        var_signal = max(var_total - float(data["y_sampling_var"].mean()), SIGNAL_VARIANCE_FLOOR * var_total) \
            if len(data) > 1 else float("nan")
        sd_signal = float(np.sqrt(var_signal)) if np.isfinite(var_signal) else float("nan")
        data["y"] = (data["y_link"] - data["y_link"].mean()) / sd_signal if len(data) > 1 else np.nan
        factor_sd = {}
        for f in present:
            sd = float(data[f].std(ddof=1)) if len(data) > 1 else float("nan")
            factor_sd[f] = sd
            data[f] = (data[f] - data[f].mean()) / sd if sd and np.isfinite(sd) and sd > 0 else 0.0
            if error_var is not None:
                error_var[f] = error_var[f] / sd**2 if sd and np.isfinite(sd) and sd > 0 else np.nan
                error_offdiag[f] = error_offdiag[f] / sd**2 if sd and np.isfinite(sd) and sd > 0 else np.nan
        panels.append(OutcomePanel(
            outcome_indicator_id=row.indicator_id, subgoal_id=row.subgoal_id, area_level=level, link=link,
            orientation=orient, data=data[["area_code", "year", "y", "y_link", "y_sampling_var", *present]],
            factors=present, missing_factors=missing, factor_flags={f: flags[f] for f in present},
            outcome_sd_total=float(np.sqrt(var_total)) if np.isfinite(var_total) else float("nan"),
            outcome_sd_signal=sd_signal, factor_sd=factor_sd, factor_error_var=error_var,
            factor_error_offdiag=error_offdiag,
            wijk_of=({code: parent_wijk(code) or code for code in data["area_code"].unique()}
                     if any("wijk_score_for_buurt" in flags[f] for f in present) else {}),
        ))
    return panels
