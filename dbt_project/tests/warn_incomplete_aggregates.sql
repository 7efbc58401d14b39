{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'fct_indicator_value'}}}) }}
-- Every wijk and gemeente value withheld as incomplete (fewer child areas present than its sources deliver, e.g. buurt rows quarantined on arrival), by indicator, area and year: a warning, so the run shows which aggregates are missing and why
select v.indicator_id, v.area_code, v.year, v.children_present, v.children_expected, c.children_missing
from {{ ref('fct_indicator_value') }} as v
left join {{ ref('int_aggregate_completeness') }} as c
    on c.indicator_id = v.indicator_id and c.year = v.year and c.area_code = v.area_code
   and c.derived_from_level = v.derived_from_level
where not v.is_complete
