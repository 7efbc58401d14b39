{{ config(meta={'dagster': {'ref': {'name': 'int_indicator_value'}}}) }}
-- Wijk and gemeente values are exact aggregates of the counts below them: numerator and
-- denominator equal the sums over the base areas (the buurten, or where a gemeente has only wijk
-- figures its wijken), and value = multiplier x sum(num) / sum(den). A gemeente's own row in
-- int_indicator_base (no finer figures) is not an aggregate and is not summed here; nor is a wijk
-- or gemeente that carries the source's own figure because a child lacks the figure
-- (assert_source_figures_replace_partial_sums checks those).
with base as (
    select * from {{ ref('int_indicator_base') }}
    where numerator is not null and denominator is not null and denominator > 0
),

source_figures as (
    select indicator_id, year, area_code
    from {{ ref('int_indicator_value') }}
    where not is_aggregate and children_without_figure > 0
),

expected as (
    select indicator_id, year, {{ wijk_of('area_code') }} as area_code,
        sum(numerator) as numerator, sum(denominator) as denominator
    from base where area_level = 'buurt'
    group by all
    union all
    select indicator_id, year, {{ gemeente_of('area_code') }},
        sum(numerator), sum(denominator)
    from base where area_level in ('buurt', 'wijk')
    group by all
)

select e.*, v.numerator as got_numerator, v.denominator as got_denominator, v.value as got_value
from expected as e
left join {{ ref('int_indicator_value') }} as v
    on v.indicator_id = e.indicator_id and v.year = e.year and v.area_code = e.area_code and v.is_aggregate
inner join {{ ref('indicators') }} as i on i.indicator_id = e.indicator_id
anti join source_figures as s
    on s.indicator_id = e.indicator_id and s.year = e.year and s.area_code = e.area_code
where v.indicator_id is null
   or abs(v.numerator - e.numerator) > 1e-6 * greatest(1, abs(e.numerator))
   or abs(v.denominator - e.denominator) > 1e-6 * greatest(1, abs(e.denominator))
   or abs(v.value - i.multiplier * e.numerator / e.denominator) > 1e-9 * greatest(1, abs(v.value))
