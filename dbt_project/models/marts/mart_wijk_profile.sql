-- The wijk profile of one year (Wijkprogrammering): per wijk, profile year and factor, the factor's
-- newest published wijk score up to that year, so that the profile of an even year also shows the
-- factors of the youth survey, held in odd years (fct_factor_score has a row only where a year was
-- scored). A score is carried at most var('report_max_age_years') years (default 4, as in the Staat
-- van de Jeugd report): a factor scored longer ago is left out rather than shown as current. Only
-- published scores: a wijk whose score is withheld that year carries its newest published one.
with scores as (
    select s.*, a.gemeente_code
    from {{ ref('fct_factor_score') }} as s
    inner join {{ ref('dim_area') }} as a on a.area_code = s.area_code
    where s.area_level = 'wijk' and s.score is not null
),

profile_years as (
    select distinct gemeente_code, year as profile_year from scores
),

newest as (
    {{ newest_measurement('profile_years', 'profile_year', 'scores', 'gemeente_code', ['area_code', 'factor_id']) }}
)

select
    gemeente_code,
    area_code,
    profile_year::integer as profile_year,
    factor_id,
    factor_type,
    year::integer as score_year,
    (profile_year - year)::integer as years_since_measurement,
    score,
    percentile,
    change_from_previous_year,
    previous_year,
    change_from_baseline,
    baseline_year,
    indicators_used
from newest
where recency = 1
