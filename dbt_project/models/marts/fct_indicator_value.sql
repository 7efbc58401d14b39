-- The value of every indicator for every area (buurt, wijk, gemeente) and year, with numerator,
-- denominator, unit, source, confidence interval and the level it was derived from (the finest
-- level the source gives for the gemeente, see int_indicator_base). Disclosure control: a value
-- based on fewer than var('min_persons') persons (denominator), or counting between 1 and
-- min_persons - 1 persons (numerator of a count-based unit), or, for a percentage, leaving out
-- between 1 and min_persons - 1 persons (10 of 11 toddlers in VVE says which one is not), is
-- suppressed: value, counts and interval null, flag set (suppression_reason 'small_cell').
--
-- Complementary suppression (suppression_reason 'complementary'): a published wijk (gemeente) is
-- the sum of its buurten (wijken), so one suppressed buurt among published ones could be worked
-- out by subtraction. Where exactly one child of a published parent is suppressed, its smallest
-- published sibling is suppressed too; where that sibling is a wijk, its smallest buurt as well
-- (else the wijk could be summed from its buurten). Per year and indicator.
--
-- Incomplete aggregates (suppression_reason 'incomplete'): a wijk or gemeente summed from fewer child
-- areas than its sources deliver (some buurt rows quarantined on arrival, say) is not the area's
-- figure; it is withheld like a small cell (is_complete false, children_expected and
-- children_present say how many; int_aggregate_completeness). Its parent is then incomplete too, so
-- it never makes complementary suppression withhold a sibling.
{% set min_persons = var('min_persons') %}
with v as (
    select * from {{ ref('int_indicator_value') }}
),

i as (
    select * from {{ ref('indicators') }}
),

flagged as (
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

with_parent as (
    select
        *,
        case area_level when 'buurt' then {{ wijk_of('area_code') }}
                        when 'wijk' then {{ gemeente_of('area_code') }} end as parent_code
    from flagged
    where value is not null or is_suppressed
),

-- per parent, year and indicator: the number of suppressed children, and the published children
-- by size (smallest denominator first)
children as (
    select
        c.*,
        count(*) filter (where c.is_suppressed) over parent_group as suppressed_siblings,
        row_number() over (partition by c.parent_code, c.year, c.indicator_id, c.is_suppressed
                           order by c.denominator nulls first, c.area_code) as size_order
    from with_parent as c
    where c.parent_code is not null
    window parent_group as (partition by c.parent_code, c.year, c.indicator_id)
),

-- the smallest published sibling of a lone suppressed child whose parent is published
complementary as (
    select c.area_code, c.year, c.indicator_id
    from children as c
    inner join with_parent as p
        on p.area_code = c.parent_code and p.year = c.year and p.indicator_id = c.indicator_id
    where not c.is_suppressed and c.suppressed_siblings = 1 and c.size_order = 1 and not p.is_suppressed
),

-- a wijk suppressed that way, none of whose buurten is suppressed yet, loses its smallest buurt
-- too, so that it cannot be summed from them
complementary_buurt as (
    select c.area_code, c.year, c.indicator_id
    from children as c
    inner join complementary as w
        on c.parent_code = w.area_code and c.year = w.year and c.indicator_id = w.indicator_id
    where c.area_level = 'buurt' and c.suppressed_siblings = 0 and c.size_order = 1
),

suppressed as (
    select
        f.* exclude (is_suppressed, is_small_cell, is_incomplete, parent_code),
        f.is_suppressed or k.area_code is not null as is_suppressed,
        case
            when f.is_incomplete then 'incomplete'
            when f.is_small_cell then 'small_cell'
            when k.area_code is not null then 'complementary'
        end as suppression_reason
    from with_parent as f
    left join (select * from complementary union select * from complementary_buurt) as k
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
    is_complete
from suppressed
