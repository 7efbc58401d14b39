"""The factor scores the association panels regress on: ``int_factor_score``'s scores, with each
indicator on its **link scale** where its counts allow (no Dagster; SQL run in DuckDB).

``macros/factor_scores.sql`` scores a factor as the mean over its indicators of ``z = orientation *
(value - gemeente value) / spread``, on the indicators' own scale (percentages, rates per 1000,
means). That is the published score, and the ranking's room for improvement stays on it. For the
associations it has a flaw: the outcomes are modelled on their link scale (``panel``: logit of a
percentage, log of a rate), and a percentage moves with a factor by ``p (1 - p)`` times as much as
its logit does, so within an area the score follows the factor with a slope that differs from area
to area. Regressed on such a score, an effect is attenuated by more than the score's sampling error,
which the errors-in-variables correction (``associations``) divides out, and the correction leaves
the rest: on the known-answer datasets the scores of ``werkloosheid``, ``armoede``,
``criminaliteit_buurt`` and ``schulden`` had a true within-area reliability 0.11-0.13 below what the
correction assumed (``benchmarks/score_reliability.py``).

So the association scores take every indicator on the link scale of its unit (``panel.LINK_BY_UNIT``)
before standardising, the gemeente's reference value too, **unless its counts are small**: an
indicator (per area level) whose median count per area and year (of the smaller of events and
non-events for a percentage) is below ``MIN_COUNT_FOR_LINK`` stays on its own scale. The log or logit
of a handful of events is dominated by its noise, and that noise is far from the normal error the
correction assumes (births and Veilig Thuis reports per buurt: the link scale gave reliability
estimates of 0.09 for a true 0.24). An indicator without counts (a survey prevalence with a standard
error, a mean) goes on the link scale.

The sampling error variance of every score is computed as ``panel.load_factor_score_errors`` does it
(``sum_i var(z_i) / k^2``), with the variance of a link-scale value by the delta method at the
area's pooled rate over the years: ``1 / (n r (1 - r))`` for a logit, ``1 / (n r)`` for a log; from a
standard error ``(se / m / (p (1 - p)))^2`` and ``(se / value)^2``. The rest is the macro's
(internal scores: every complete value; a spread over the areas of the same level, gemeente and
year; no z where the spread is only rounding). An indicator on its own scale gets exactly the
macro's z, so a factor all of whose indicators stay on their own scale has ``int_factor_score``'s
score (``tests/ml/test_association_scores.py``).
"""

from __future__ import annotations

import pandas as pd

from models_ml.panel import COUNT_UNITS, LINK_BY_UNIT

MIN_COUNT_FOR_LINK = 20
"""From this median count per area and year an indicator enters the association scores on its link
scale; measured on the known-answer datasets: ``schulden`` (median 28 debt-counselling cases per
buurt) came 0.05 closer to its true reliability on the link scale, the birth figures and Veilig
Thuis reports (1-10 per buurt) moved further from it."""

ASSOCIATION_SCORES_STEPS = """
with v as (
    select v.indicator_id, i.factor_id, i.unit, coalesce(i.multiplier, 1)::double as m, v.year, v.area_code,
           v.area_level, v.numerator, v.denominator, v.value, v.standard_error,
           substr(v.area_code, 3, 4) as gemeente,
           case when (f.factor_type = 'risk') = (i.direction = 'higher_is_worse') then 1 else -1 end as orientation,
           i.unit in {logit_units} as logit,
           i.unit in {count_units} and v.numerator is not null and v.denominator > 0 as from_counts
    from intermediate.int_indicator_value as v
    join factor_model.indicators as i on i.indicator_id = v.indicator_id
    join factor_model.factors as f on f.factor_id = i.factor_id
    where i.measures = 'factor' and v.area_level in ('gemeente', 'wijk', 'buurt') and v.value is not null
      and v.is_complete
),
scales as (  -- per indicator and level: on the link scale unless its counts are small
    select indicator_id, area_level,
           {link} and coalesce(median(case when from_counts then
                                        case when logit then least(numerator, denominator - numerator) else numerator end
                                    end) >= {min_count}, true) as on_link
    from v where area_level <> 'gemeente' group by all
),
rates as (  -- the area's pooled rate over the years (a fraction of the denominator)
    select indicator_id, area_code,
           sum(numerator::decimal(38, 6))::double / sum(denominator::decimal(38, 6))::double as rate
    from v where from_counts group by all
),
x as (  -- every value on the scale it is standardised on, and its sampling variance there
    select v.*, s.area_level as for_level, s.on_link,
           case
               when not s.on_link then v.value
               when v.logit then case when p > 0 and p < 1 then ln(p / (1 - p)) end
               when v.value > 0 then ln(v.value)
               when v.from_counts then ln(0.5 / v.denominator * v.m)
           end as x,
           coalesce(case
               when not s.on_link and v.from_counts and v.unit = 'percentage' then v.m * v.m * r.rate * (1 - r.rate) / v.denominator
               when not s.on_link and v.from_counts then v.m * v.m * r.rate / v.denominator
               when not s.on_link then pow(v.standard_error, 2)
               when v.from_counts and v.logit then 1 / nullif(v.denominator * r.rate * (1 - r.rate), 0)
               when v.from_counts then 1 / nullif(v.denominator * r.rate, 0)
               when v.logit then pow(v.standard_error / v.m / (p * (1 - p)), 2)
               else pow(v.standard_error / nullif(v.value, 0), 2)
           end, 0) as var_x
    from (
        select *, case when from_counts and (value <= 0 or value >= m) then (numerator + 0.5) / (denominator + 1)
                       else value / m end as p
        from v
    ) as v
    join scales as s  -- a gemeente value once for every level it is the reference of
        on s.indicator_id = v.indicator_id and (s.area_level = v.area_level or v.area_level = 'gemeente')
    left join rates as r on r.indicator_id = v.indicator_id and r.area_code = v.area_code
),
reference as (  -- the gemeente's own value, on the scale of the level it is the reference for
    select indicator_id, year, gemeente, for_level, x as reference
    from x where area_level = 'gemeente'
),
spreads as (  -- across the areas of one level, gemeente and year (decimal sums: the same bits in any order)
    select indicator_id, year, gemeente, area_level, count(*) as n,
           sum(x::decimal(38, 12))::double as s1,
           sum(pow(x::decimal(38, 12), 2)::decimal(38, 12))::double as s2,
           max(abs(x)) as largest
    from x where area_level <> 'gemeente' and x is not null group by all
),
z as (
    select x.area_code, x.area_level, x.year, x.factor_id,
           x.orientation * (x.x - r.reference) / sqrt((s.s2 - s.s1 * s.s1 / s.n) / (s.n - 1)) as z,
           x.var_x / ((s.s2 - s.s1 * s.s1 / s.n) / (s.n - 1)) as var_z
    from x
    join reference as r
        on r.indicator_id = x.indicator_id and r.year = x.year and r.gemeente = x.gemeente
        and r.for_level = x.area_level
    join spreads as s
        on s.indicator_id = x.indicator_id and s.year = x.year and s.gemeente = x.gemeente
        and s.area_level = x.area_level
    where x.area_level <> 'gemeente' and x.x is not null and r.reference is not null
      and s.n > 1 and sqrt(greatest((s.s2 - s.s1 * s.s1 / s.n) / (s.n - 1), 0)) > 1e-9 * s.largest
)
"""
"""The steps of the association scores (DuckDB common table expressions); ``ASSOCIATION_SCORES_SQL``
selects the scores from them, ``indicator_scales`` the scale of each indicator."""

ASSOCIATION_SCORES_SQL = ASSOCIATION_SCORES_STEPS + """
select area_code, area_level, year::integer as year, factor_id,
       sum(z::decimal(38, 18))::double / count(*) as score,
       sum(var_z::decimal(38, 18))::double / pow(count(*), 2) as error_var,
       count(*)::integer as indicators
from z
group by all
order by factor_id, area_level, area_code, year
"""


def association_scores_sql(link_scale: bool = True, min_count: float = MIN_COUNT_FOR_LINK,
                           sql: str = ASSOCIATION_SCORES_SQL) -> str:
    """``ASSOCIATION_SCORES_SQL`` (or another ``sql`` on its steps) with its constants filled in;
    ``link_scale=False`` keeps every indicator on its own scale (the scores of ``int_factor_score``)."""
    logit_units = tuple(u for u, link in LINK_BY_UNIT.items() if link == "logit")
    return sql.format(logit_units=str(logit_units), count_units=str(COUNT_UNITS),
                      link="true" if link_scale else "false", min_count=float(min_count))


def load_association_scores(con, link_scale: bool = True, min_count: float = MIN_COUNT_FOR_LINK) -> pd.DataFrame:
    """The association scores of every buurt and wijk: area_code, area_level, year, factor_id, score,
    error_var (the score's sampling error variance), indicators."""
    return con.execute(association_scores_sql(link_scale, min_count)).df()


def indicator_scales(con, link_scale: bool = True, min_count: float = MIN_COUNT_FOR_LINK) -> pd.DataFrame:
    """Which indicators the association scores take on their link scale: indicator_id, area_level,
    on_link (the ``scales`` step of ``ASSOCIATION_SCORES_SQL``)."""
    sql = ASSOCIATION_SCORES_STEPS + "select * from scales order by indicator_id, area_level"
    return con.execute(association_scores_sql(link_scale, min_count, sql)).df()
