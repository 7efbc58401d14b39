{{ config(meta={'dagster': {'ref': {'name': 'fct_indicator_series'}}}) }}
-- Where a split divided an area, the new codes' series is estimated before the change and must say so.
select s.area_code, s.indicator_id, s.year
from {{ ref('fct_indicator_series') }} as s
inner join {{ ref('stg_gebiedswijzigingen') }} as c on c.new_code = s.area_code and c.share < 1
where s.is_comparable_over_time
   or (s.year < c.year and s.is_exact_in_current_division)
