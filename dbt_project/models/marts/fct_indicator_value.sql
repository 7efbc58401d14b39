-- The value of every indicator for every area (buurt, wijk, gemeente) and year, with numerator,
-- denominator, unit, source, confidence interval and the level it was derived from (the finest
-- level the source gives for the gemeente, see int_indicator_base). Disclosure control: a value
-- based on fewer than var('min_persons') persons (denominator), or counting between 1 and
-- min_persons - 1 persons (numerator of a count-based unit), or, for a percentage, leaving out
-- between 1 and min_persons - 1 persons (10 of 11 toddlers in VVE says which one is not), is
-- suppressed: value, counts and interval null, flag set (suppression_reason 'small_cell').
--
-- Complementary suppression (suppression_reason 'complementary'): a published wijk (gemeente) is
-- the sum of its buurten (wijken), so one withheld buurt among published ones could be worked
-- out by subtraction. Where exactly one child of a published parent is withheld, its smallest
-- published sibling is withheld too; where that sibling is a wijk, its smallest buurt as well
-- (else the wijk could be summed from its buurten). Per year and indicator
-- (macros/complementary_suppression.sql), and per shared denominator (below).
--
-- Incomplete aggregates (suppression_reason 'incomplete'): a wijk or gemeente summed from fewer child
-- areas than its sources deliver (some buurt rows quarantined on arrival, say) is not the area's
-- figure; it is withheld like a small cell (is_complete false, children_expected and
-- children_present say how many; int_aggregate_completeness). Its parent is then incomplete too, so
-- it makes complementary suppression withhold a sibling only where the parent carries the source's
-- own figure (below).
--
-- The source's own wijk or gemeente figure (int_indicator_value takes it where a child is delivered
-- without the figure, CBS's '.') is a published parent like a sum, and complementary suppression
-- covers it the same way: its total minus its published children is what is withheld, by us and as
-- '.' by the source. So the '.' children count as withheld children (rows with suppression_reason
-- 'not_published', below): where one of them is the only withheld child, its smallest published
-- sibling is withheld too, else the parent minus the published children gives the '.' back (a
-- review found it in the demo: wijk WK999907 minus its six published buurten gave buurt
-- BU99990703's three income figures in every year, 30 cells, e.g. 10 of its 175 households with a
-- low income in 2024). And where exactly one child is withheld by us, its smallest
-- published sibling is withheld as under a sum however many '.' children it has, so that none of
-- our cells rests only on a '.' staying unknown.
--
-- Figures the source does not publish (suppression_reason 'not_published'): an area that the
-- indicator's source delivers this year without this figure (CBS's '.', e.g. the income of a buurt
-- too small to publish; int_indicator_source_rows.is_indicator_row false: the area's row is there
-- with the denominator only) has a row here, withheld like the others (value, counts and interval
-- null, is_suppressed true), so that a BI user sees a withheld figure with its reason instead of a
-- missing row. Such a row adds nothing to a sum (the parent takes the source's own figure,
-- int_indicator_value) and keeps its reason; it takes part in complementary suppression as a
-- withheld cell (above), and the cells withheld to protect it say 'complementary'.
{% set min_persons = var('min_persons') %}
-- v, flagged and with_parent are each read twice; DuckDB would keep each whole (every column of 6
-- million rows at national scale) and spill them to disk beyond memory_limit (3 GB spilled, 13-15 s).
-- "not materialized": each reader computes only the columns it needs, nothing spills (7-8 s; the
-- same rows; dbt_project/README.md, "Memory").
with v as not materialized (
    select * from {{ ref('int_indicator_value') }}
),

i as (
    select * from {{ ref('indicators') }}
),

flagged as not materialized (
    select
        v.*,
        i.unit,
        i.source,
        -- a value whose basis is unknown (no denominator) is suppressed too
        coalesce(
            v.denominator < {{ min_persons }}
            or (i.unit in ('percentage', 'rate_per_1000', 'count')
                and v.numerator > 0 and v.numerator < {{ min_persons }})
            or (i.unit = 'percentage'
                and v.denominator - v.numerator > 0 and v.denominator - v.numerator < {{ min_persons }})
        , true) as is_small_cell,
        -- an aggregate summed from fewer child areas than its sources deliver
        not v.is_complete as is_incomplete,
        is_small_cell or is_incomplete as is_suppressed
    from v
    inner join i on i.indicator_id = v.indicator_id
),

-- Shared denominators: indicators with the same denominator (same source and column: births,
-- pupils, households, ...) publish the same denominator values, so a denominator one of them
-- withholds could be worked out from what the others publish (wijk minus the published buurten of
-- one, minus a buurt another publishes: a disclosure review found 118 in the demo, two of them
-- small counts, 7 and 9 births). So the denominators are protected once, per denominator: small
-- ones (fewer than min_persons) and their complementary cells are withheld in every indicator with
-- that denominator (suppression_reason 'shared_denominator' where the indicator's own rules would
-- publish it), before each indicator's own complementary suppression. Survey sample sizes are left
-- out (they differ per question).
denominator_keys as (
    {{ denominator_keys() }}
),

denominator_cells as (
    select
        f.area_code, f.area_level, f.year, k.denominator_key,
        max(f.denominator) as denominator,
        coalesce(bool_or(f.denominator < {{ min_persons }}), false) as is_suppressed,
        {{ parent_of('f.area_level', 'f.area_code') }} as parent_code
    from flagged as f
    inner join denominator_keys as k using (indicator_id)
    where f.denominator is not null
    group by f.area_code, f.area_level, f.year, k.denominator_key
),

withheld_denominators as (
    select area_code, year, denominator_key from denominator_cells where is_suppressed
    union
    select * from {{ complementary_picks('denominator_cells', 'denominator_key') }}
),

not_published as (
    -- delivered by the indicator's own source this year, but without this figure (CBS's '.'), and
    -- so not in int_indicator_value
    select r.indicator_id, r.year, r.area_code, r.area_level, i.unit, i.source
    from {{ ref('int_indicator_source_rows') }} as r
    inner join i on i.indicator_id = r.indicator_id
    inner join {{ ref('int_source_coverage') }} as c
        on c.source = i.source
        and c.source_code = {{ coverage_source_code('i.source', 'i.source_code') }}
        and c.year = r.year and c.area_code = r.area_code and c.rows_loaded > 0
    where not r.is_indicator_row
      and not exists (
          select 1 from v
          where v.indicator_id = r.indicator_id and v.year = r.year and v.area_code = r.area_code
      )
),

-- the cells of each indicator's complementary suppression: the values, and the figures the source
-- does not publish, which are withheld cells like ours (else their parent minus the published
-- children gives them back)
with_parent as not materialized (
    select
        f.* exclude (is_suppressed),
        not f.is_suppressed and w.area_code is not null as is_shared_denominator,
        false as is_not_published,
        f.is_suppressed or w.area_code is not null as is_suppressed,
        {{ parent_of('f.area_level', 'f.area_code') }} as parent_code
    from flagged as f
    left join denominator_keys as k using (indicator_id)
    left join withheld_denominators as w
        on w.area_code = f.area_code and w.year = f.year and w.denominator_key = k.denominator_key
    where f.value is not null or f.is_suppressed or w.area_code is not null
    union all by name
    select
        indicator_id, year, area_code, area_level, unit, source,
        false as is_small_cell,
        false as is_incomplete,
        false as is_shared_denominator,
        true as is_not_published,
        true as is_suppressed,
        false as is_aggregate,
        1 as areas_aggregated,
        area_level as derived_from_level,
        true as is_complete,
        {{ parent_of('area_level', 'area_code') }} as parent_code
    from not_published
),

suppressed as (
    select
        f.* exclude (is_suppressed, is_small_cell, is_incomplete, is_shared_denominator, is_not_published, parent_code),
        f.is_suppressed or k.area_code is not null as is_suppressed,
        case
            when f.is_not_published then 'not_published'
            when f.is_incomplete then 'incomplete'
            when f.is_small_cell then 'small_cell'
            when f.is_shared_denominator then 'shared_denominator'
            when k.area_code is not null then 'complementary'
        end as suppression_reason
    from with_parent as f
    left join {{ complementary_picks('with_parent', 'indicator_id', not_published='is_not_published') }} as k
        on k.area_code = f.area_code and k.year = f.year and k.indicator_id = f.indicator_id
)

select
    area_code,
    area_level,
    year::integer as year,
    indicator_id,
    case when is_suppressed then null else value end as value,
    case when is_suppressed then null else numerator end as numerator,
    case when is_suppressed then null else denominator end as denominator,
    unit,
    source,
    case when is_suppressed then null else ci_lower end as ci_lower,
    case when is_suppressed then null else ci_upper end as ci_upper,
    case when is_suppressed then null else standard_error end as standard_error,
    is_suppressed,
    suppression_reason,
    is_aggregate,
    areas_aggregated::integer as areas_aggregated,
    derived_from_level,
    children_expected,
    children_present,
    children_without_figure,
    is_complete
from suppressed
