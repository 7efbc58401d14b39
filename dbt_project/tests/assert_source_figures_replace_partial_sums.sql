{{ config(meta={'dagster': {'ref': {'name': 'int_indicator_value'}}}) }}
-- The source's own wijk or gemeente figure takes the place of a sum exactly where the sum would leave
-- out children delivered without the figure (CBS's '.'), and nowhere else:
--   - such a value is the source's own row for that area, unchanged (int_indicator_source_rows);
--   - it stands where int_aggregate_completeness counts as many children without the figure;
--   - no sum that leaves children out stands where the source gives its own figure;
--   - no sum that leaves children out is complete (fct_indicator_value would publish it).
-- Returns the offending rows.
with values_ as (
    select * from {{ ref('int_indicator_value') }}
),

source_rows as (
    select * from {{ ref('int_indicator_source_rows') }} as r
    where {{ gives_figure('r') }}
),

completeness as (
    select * from {{ ref('int_aggregate_completeness') }}
),

source_figures as (
    select * from values_ where not is_aggregate and children_without_figure > 0
),

partial_sums as (
    select * from values_ where is_aggregate and children_without_figure > 0
)

select 'not the source''s own figure' as problem, f.indicator_id, f.year, f.area_code
from source_figures as f
left join source_rows as r
    on r.indicator_id = f.indicator_id and r.year = f.year and r.area_code = f.area_code
where r.indicator_id is null
   or f.numerator is distinct from r.numerator
   or f.denominator is distinct from r.denominator
   or f.value is distinct from r.value
   or f.derived_from_level <> f.area_level
union all
select 'source figure where no child lacks the figure', f.indicator_id, f.year, f.area_code
from source_figures as f
left join completeness as c
    on c.indicator_id = f.indicator_id and c.year = f.year and c.area_code = f.area_code
   and c.children_without_figure = f.children_without_figure
where c.indicator_id is null
union all
select 'partial sum where the source gives its own figure', p.indicator_id, p.year, p.area_code
from partial_sums as p
inner join source_rows as r
    on r.indicator_id = p.indicator_id and r.year = p.year and r.area_code = p.area_code
union all
select 'partial sum counted as complete', indicator_id, year, area_code
from partial_sums
where is_complete
