-- Is every wijk and gemeente value that int_indicator_value sums from lower areas complete? Per
-- indicator, year and aggregate (a wijk from its buurten, a gemeente from its buurten or wijken,
-- whichever level int_indicator_base holds for it): the child areas expected and those present.
--
-- Expected: the child areas of that year's area division (stg_gebiedsindeling; plus any child the
-- base rows hold) that a source of the indicator delivers: its own source (for the GGD monitor its
-- indicator code) or the source of its denominator has a row for the area, loaded or quarantined,
-- in any year (int_source_coverage). An area a source never reports (no residents, or outside what
-- it covers) is not expected. Present: an expected child for which every such source has a loaded
-- row in this year. A child whose row is there but without this figure (CBS's '.' below 500
-- residents) or with a zero denominator is present: the source reports it and the sum is what the
-- source allows. A child whose row was quarantined, or that a source delivers in other years but not
-- in this one, is missing: its figures are not in the sum, and fct_indicator_value withholds the
-- aggregate (suppression_reason 'incomplete').
with indicators as (
    select * from {{ ref('indicators') }}
),

indicator_sources as (
    -- the sources an indicator's figures come from
    select indicator_id, source, case when source = 'ggd_monitor' then source_code else '' end as source_code
    from indicators
    union
    select indicator_id, denominator_source, ''
    from indicators
    where denominator_source is not null and denominator_source <> source
),

coverage as (
    select * from {{ ref('int_source_coverage') }}
),

covered as (
    -- the areas a source delivers at all: a row, loaded or quarantined, in any year
    select distinct source, source_code, area_code from coverage
),

loaded as (
    select distinct source, source_code, year, area_code from coverage where rows_loaded > 0
),

base as (
    select indicator_id, year, area_code, area_level, {{ gemeente_of('area_code') }} as gemeente_code
    from {{ ref('int_indicator_base') }}
    where area_level in ('buurt', 'wijk')
),

summed_levels as (
    -- per indicator, year and gemeente: the level its aggregates are summed from (one level only)
    select distinct indicator_id, year, gemeente_code, area_level from base
),

children as (
    -- the candidate child areas: that year's division at that level, and whatever the base rows hold
    select l.indicator_id, l.year, l.area_level, d.area_code
    from summed_levels as l
    inner join {{ ref('stg_gebiedsindeling') }} as d
        on d.year = l.year and d.area_level = l.area_level and {{ gemeente_of('d.area_code') }} = l.gemeente_code
    union
    select indicator_id, year, area_level, area_code from base
),

child_status as (
    select
        c.indicator_id,
        c.year,
        c.area_level,
        c.area_code,
        bool_or(v.area_code is not null) as is_expected,
        bool_or(v.area_code is not null and l.area_code is null) as is_missing
    from children as c
    inner join indicator_sources as s on s.indicator_id = c.indicator_id
    left join covered as v
        on v.source = s.source and v.source_code = s.source_code and v.area_code = c.area_code
    left join loaded as l
        on l.source = s.source and l.source_code = s.source_code and l.year = c.year and l.area_code = c.area_code
    group by all
),

parents as (
    -- a buurt counts towards its wijk and its gemeente, a wijk towards its gemeente
    select *, {{ wijk_of('area_code') }} as parent_code from child_status where area_level = 'buurt'
    union all
    select *, {{ gemeente_of('area_code') }} from child_status
)

select
    indicator_id,
    year::integer as year,
    parent_code as area_code,
    {{ area_level('parent_code') }} as area_level,
    area_level as derived_from_level,
    (count(*) filter (where is_expected))::integer as children_expected,
    (count(*) filter (where is_expected and not is_missing))::integer as children_present,
    string_agg(area_code, ',' order by area_code) filter (where is_missing) as children_missing
from parents
group by all
