{{ config(meta={'dagster': {'ref': {'name': 'fct_indicator_series'}}}) }}
-- A cell that fct_indicator_value withholds (small cell or complementary suppression) is withheld in
-- the series too, for the same code, year and indicator: else the series would give it back.
select s.area_code, s.year, s.indicator_id
from {{ ref('fct_indicator_series') }} as s
inner join {{ ref('fct_indicator_value') }} as v using (area_code, year, indicator_id)
where v.is_suppressed and not s.is_suppressed
