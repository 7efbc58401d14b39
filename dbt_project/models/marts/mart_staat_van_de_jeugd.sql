-- The yearly Staat van de Jeugd: per indicator and year, the municipal value, its change from the
-- previous measurement and from its baseline (its first measurement from the baseline year on), and
-- whether each change is better, worse or within noise. A change counts as real when it exceeds 1.96 standard errors of the difference
-- (sqrt(se1^2 + se2^2)): from the survey's confidence interval, or the binomial / Poisson standard
-- error of the counts. Indicators without a standard error (means) get 'not_assessed'.
with gemeente as (
    select v.*, i.direction, i.life_phase_id, p.is_youth, i.name_nl as indicator_name_nl
    from {{ ref('fct_indicator_value') }} as v
    inner join {{ ref('indicators') }} as i on i.indicator_id = v.indicator_id
    inner join {{ ref('dim_life_phase') }} as p on p.life_phase_id = i.life_phase_id
    where v.area_level = 'gemeente' and not v.is_suppressed
),

baseline as (
    -- per indicator its first published measurement from the baseline year on: a survey held in
    -- even years only starts its trend in the first even year, instead of never having one
    select g.area_code, g.indicator_id, min(g.year) as baseline_year
    from gemeente as g
    where g.year >= (select coalesce({{ var('baseline_year', 'null') }}, min(year)) from gemeente)
    group by all
),

paired as (
    select
        g.*,
        lag(g.year) over w as previous_year,
        lag(g.value) over w as previous_value,
        lag(g.standard_error) over w as previous_se,
        b.baseline_year,
        -- the baseline year's own row (and any earlier year) has nothing to compare with
        case when g.year > b.baseline_year
            then first_value(case when g.year = b.baseline_year then g.value end ignore nulls) over wall end as baseline_value,
        first_value(case when g.year = b.baseline_year then g.standard_error end ignore nulls) over wall as baseline_se
    from gemeente as g
    left join baseline as b on b.area_code = g.area_code and b.indicator_id = g.indicator_id
    window
        w as (partition by g.area_code, g.indicator_id order by g.year),
        wall as (partition by g.area_code, g.indicator_id order by g.year rows between unbounded preceding and unbounded following)
)

select
    area_code as gemeente_code,
    indicator_id,
    indicator_name_nl,
    direction,
    year,
    life_phase_id,
    is_youth,
    value,
    ci_lower,
    ci_upper,
    standard_error,
    previous_year::integer as previous_year,
    value - previous_value as change_from_previous,
    {{ assess_change('value - previous_value', 'standard_error', 'previous_se', 'direction') }} as assessment_previous,
    baseline_year::integer as baseline_year,
    value - baseline_value as change_from_baseline,
    {{ assess_change('value - baseline_value', 'standard_error', 'baseline_se', 'direction') }} as assessment_baseline
from paired
