{{ config(meta={'dagster': {'ref': {'name': 'fct_indicator_series'}}}) }}
-- A cell that fct_indicator_value withholds (small cell or complementary suppression) is withheld in
-- the series too, for the same code, year and indicator, and for every code it is carried into
-- (int_area_code_map: a merged buurt's past is the sum of the old buurten): else the series would
-- give it back, directly or by subtracting the published old buurt.
select s.area_code, s.year, s.indicator_id
from {{ ref('fct_indicator_series') }} as s
inner join {{ ref('fct_indicator_value') }} as v using (area_code, year, indicator_id)
where v.is_suppressed and not s.is_suppressed
union all
select s.area_code, s.year, s.indicator_id
from {{ ref('fct_indicator_value') }} as v
inner join {{ ref('int_area_code_map') }} as m on m.area_code = v.area_code
inner join {{ ref('fct_indicator_series') }} as s
    on s.area_code = m.current_code and s.year = v.year and s.indicator_id = v.indicator_id
where v.is_suppressed and not s.is_suppressed
