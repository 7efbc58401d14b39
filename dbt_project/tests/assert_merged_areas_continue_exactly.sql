{{ config(meta={'dagster': {'ref': {'name': 'fct_indicator_series'}}}) }}
-- Where whole areas moved into a new code (a merge), the new code's series before the change is
-- the exact sum of the old codes' counts, and it is flagged comparable over time.
with merges as (
    select old_code, new_code, year as change_year
    from {{ ref('stg_gebiedswijzigingen') }}
    where share = 1
),

old_counts as (
    select m.new_code as area_code, b.indicator_id, b.year,
        sum(b.numerator) as numerator, sum(b.denominator) as denominator
    from {{ ref('int_indicator_base') }} as b
    inner join merges as m on m.old_code = b.area_code and b.year < m.change_year
    where b.numerator is not null and b.denominator is not null
    group by all
)

select o.*, s.numerator as series_numerator, s.is_comparable_over_time
from old_counts as o
left join {{ ref('fct_indicator_series') }} as s
    on s.area_code = o.area_code and s.indicator_id = o.indicator_id and s.year = o.year
where s.area_code is null
   or not s.is_comparable_over_time
   or (not s.is_suppressed and abs(s.numerator - o.numerator) > 1e-6 * greatest(1, o.numerator))
