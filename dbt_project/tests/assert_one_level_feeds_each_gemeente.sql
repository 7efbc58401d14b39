{{ config(meta={'dagster': {'ref': {'name': 'int_indicator_value'}}}) }}
-- The finest level available feeds the marts, and only that level: per indicator, year and
-- gemeente, int_indicator_base holds rows of one level (buurten, or wijken, or the gemeente's own
-- row; never buurt and wijk figures together, which would count people twice), and every value of
-- int_indicator_value says it was derived from that level: as given where its level is that level,
-- summed from it (is_aggregate) where its level is coarser, or, where a child is delivered without
-- the figure, the source's own figure for the wijk or gemeente (derived from its own level,
-- children_without_figure > 0; assert_source_figures_replace_partial_sums). Returns the offending rows.
with base_levels as (
    select indicator_id, year, {{ gemeente_of('area_code') }} as gemeente_code,
        min(area_level) as base_level, count(distinct area_level) as levels
    from {{ ref('int_indicator_base') }}
    group by all
),

values_ as (
    select v.*, {{ gemeente_of('v.area_code') }} as gemeente_code
    from {{ ref('int_indicator_value') }} as v
)

select 'several levels feed one gemeente' as problem, indicator_id, year, gemeente_code as area_code, null as derived_from_level
from base_levels
where levels > 1
union all
select 'derived from another level than int_indicator_base holds', v.indicator_id, v.year, v.area_code, v.derived_from_level
from values_ as v
inner join base_levels as b using (indicator_id, year, gemeente_code)
where v.derived_from_level is distinct from b.base_level
  and not (not v.is_aggregate and v.children_without_figure > 0)
union all
select 'level and derivation do not fit', indicator_id, year, area_code, derived_from_level
from values_
where (not is_aggregate and derived_from_level <> area_level)
   or (is_aggregate and {{ level_rank('derived_from_level') }} >= {{ level_rank('area_level') }})
union all
select 'value without rows in int_indicator_base', v.indicator_id, v.year, v.area_code, v.derived_from_level
from values_ as v
left join base_levels as b using (indicator_id, year, gemeente_code)
where b.indicator_id is null
