-- Is every wijk and gemeente value that int_indicator_value sums from lower areas complete? Per
-- indicator, year and aggregate (a wijk from its buurten, a gemeente from its buurten or wijken,
-- whichever level int_indicator_base holds for it): the child areas expected and those present.
--
-- Expected: the child areas of that year's area division (stg_gebiedsindeling; plus any child the
-- base rows hold) that a source of the indicator delivers: its own source (for the GGD monitor its
-- indicator code) or the source of its denominator has a row for the area, loaded or quarantined,
-- in any year (int_source_coverage). An area a source never reports (no residents, or outside what
-- it covers) is not expected. Present: an expected child whose figure is in the sum: every such
-- source has a loaded row for it in this year, and that row gives this figure (numerator and
-- denominator; int_indicator_source_rows), or a denominator of 0, which adds nothing to the sum.
-- Not present, and so making the aggregate incomplete:
--   - a child whose row was quarantined, or that a source delivers in other years but not in this
--     one: its figures are not in the sum;
--   - a child whose row is there without this figure (CBS's '.' for a buurt too small to publish;
--     children_without_figure counts them): the sum would leave out its persons, so a count comes
--     out too low and a percentage leans towards the children that have it. int_indicator_value
--     then takes the source's own figure for the aggregate area where the source gives one (CBS
--     publishes its own wijk and gemeente figures, which include those buurten); otherwise the
--     partial sum is withheld like any incomplete aggregate (fct_indicator_value, 'incomplete').
with indicators as (
    select * from {{ ref('indicators') }}
),

indicator_sources as (
    -- the sources an indicator's figures come from
    select indicator_id, source, {{ coverage_source_code('source', 'source_code') }} as source_code
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
    -- that it does not (a base row's own area of the division is among the first part already: its
    -- gemeente sums from its level; so no row is there twice, without a costly distinct)
    select l.indicator_id, l.year, l.area_level, d.area_code
    from summed_levels as l
    inner join {{ ref('stg_gebiedsindeling') }} as d
        on d.year = l.year and d.area_level = l.area_level and {{ gemeente_of('d.area_code') }} = l.gemeente_code
    union all
    select b.indicator_id, b.year, b.area_level, b.area_code
    from base as b
    anti join {{ ref('stg_gebiedsindeling') }} as d
        on d.year = b.year and d.area_level = b.area_level and d.area_code = b.area_code
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

figures as (
    -- which areas the source gives this figure for; a denominator of 0 counts as given (nothing to add)
    select indicator_id, year, area_code, {{ gives_figure('r') }} or r.denominator = 0 as gives_figure
    from {{ ref('int_indicator_source_rows') }} as r
),

child_presence as (
    -- an expected child is in the sum when it is delivered this year with the figure
    select
        s.*,
        s.is_expected and not s.is_missing and coalesce(f.gives_figure, false) as is_present,
        s.is_expected and not s.is_missing and not coalesce(f.gives_figure, false) as is_without_figure
    from child_status as s
    left join figures as f
        on f.indicator_id = s.indicator_id and f.year = s.year and f.area_code = s.area_code
),

parents as (
    -- a buurt counts towards its wijk and its gemeente, a wijk towards its gemeente
    select *, {{ wijk_of('area_code') }} as parent_code from child_presence where area_level = 'buurt'
    union all
    select *, {{ gemeente_of('area_code') }} from child_presence
)

select
    indicator_id,
    year::integer as year,
    parent_code as area_code,
    {{ area_level('parent_code') }} as area_level,
    area_level as derived_from_level,
    (count(*) filter (where is_expected))::integer as children_expected,
    (count(*) filter (where is_present))::integer as children_present,
    (count(*) filter (where is_without_figure))::integer as children_without_figure,
    string_agg(area_code, ',' order by area_code) filter (where is_expected and not is_present) as children_missing
from parents
group by all
