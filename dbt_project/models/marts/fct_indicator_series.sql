-- Every indicator's time series in the newest area division, so that an area's trend is
-- continuous across code changes: counts of earlier years are carried into today's codes
-- (int_area_code_map). Exact where whole areas moved (a merged buurt's past is the sum of the
-- buurten it was made of); estimated, and flagged with is_comparable_over_time = false, where a
-- split divided an area by shares of residents. Disclosure control as in fct_indicator_value, and
-- a cell is withheld here too where fct_indicator_value withholds (also by complementary
-- suppression) the same code, or any of the codes it is carried from, in that year and indicator:
-- else a series could give back what the value table protects (a merged buurt's past, the sum of
-- two old buurten of which one is published, gave the other back: 10 withheld demo cells, and 18
-- more by subtraction from their wijk; found by a disclosure review).
-- An area the source delivers without the figure (CBS's '.'; fct_indicator_value's rows with
-- suppression_reason not_published) has a withheld row here too, in today's codes, instead of no
-- row; and a code it is carried into together with other areas is withheld, since the sum of the
-- others alone would not be that area's figure.
{% set min_persons = var('min_persons') %}
with base as (
    select b.*, i.multiplier, i.unit
    from {{ ref('int_indicator_base') }} as b
    inner join {{ ref('indicators') }} as i on i.indicator_id = b.indicator_id
    where b.numerator is not null and b.denominator is not null
),

-- read where it is joined, not kept as one result for both joins: DuckDB holds a CTE that is read
-- twice in memory, and with it this model ran out of the national build's memory_limit (2.5 GB)
-- depending on the order the rows were written in; as a plain scan it builds within 1 GB
withheld as not materialized (
    select area_code, year, indicator_id, suppression_reason
    from {{ ref('fct_indicator_value') }}
    where is_suppressed
),

mapped as (
    select
        m.current_code as area_code,
        b.area_level,
        b.year,
        b.indicator_id,
        b.unit,
        b.multiplier,
        sum(b.numerator * m.share) as numerator,
        sum(b.denominator * m.share) as denominator,
        bool_and(m.is_exact) as is_exact,
        bool_or(w.area_code is not null) as carries_withheld  -- a code it is carried from is withheld
    from base as b
    inner join {{ ref('int_area_code_map') }} as m on m.area_code = b.area_code
    left join withheld as w on w.area_code = b.area_code and w.year = b.year and w.indicator_id = b.indicator_id
    group by all
),

flagged_raw as (
    select
        *,
        multiplier * numerator / nullif(denominator, 0) as value,
        -- a value whose basis is unknown (no denominator) is suppressed too
        coalesce(
            denominator < {{ min_persons }}
            or (unit in ('percentage', 'rate_per_1000', 'count') and numerator > 0 and numerator < {{ min_persons }})
            or (unit = 'percentage' and denominator - numerator > 0 and denominator - numerator < {{ min_persons }})
        , true) as is_small_cell
    from mapped
),

not_published as (
    -- the areas the source delivers without the figure, in today's codes
    select m.current_code as area_code, v.year, v.indicator_id, any_value(v.area_level) as area_level,
        bool_and(m.is_exact) as is_exact
    from {{ ref('fct_indicator_value') }} as v
    inner join {{ ref('int_area_code_map') }} as m on m.area_code = v.area_code
    where v.suppression_reason = 'not_published'
    group by m.current_code, v.year, v.indicator_id
),

all_rows as (
    -- every carried cell, and a withheld row for a code carried only from areas without the figure
    -- (instead of none); one outer join rather than the flagged cells read twice (for themselves
    -- and for an anti join), which DuckDB also held in memory
    select
        coalesce(r.area_code, n.area_code) as area_code,
        coalesce(r.area_level, n.area_level) as area_level,
        coalesce(r.year, n.year) as year,
        coalesce(r.indicator_id, n.indicator_id) as indicator_id,
        r.value,
        r.numerator,
        r.denominator,
        coalesce(r.is_exact, n.is_exact) as is_exact,
        r.area_code is null or r.is_small_cell or r.carries_withheld or w.area_code is not null
            or n.area_code is not null as is_suppressed,
        case
            when r.area_code is null then 'not_published'
            when r.is_small_cell then 'small_cell'
            when w.area_code is not null then w.suppression_reason  -- the same code withheld in fct_indicator_value
            when r.carries_withheld then 'carried_from_withheld'
            when n.area_code is not null then 'not_published'
        end as suppression_reason
    from flagged_raw as r
    full outer join not_published as n
        on n.area_code = r.area_code and n.year = r.year and n.indicator_id = r.indicator_id
    left join withheld as w
        on w.area_code = r.area_code and w.year = r.year and w.indicator_id = r.indicator_id
),

series_flags as (
    select indicator_id, area_code, bool_and(is_exact) as is_comparable_over_time
    from all_rows
    group by all
)

select
    f.area_code,
    f.area_level,
    f.year::integer as year,
    f.indicator_id,
    case when f.is_suppressed then null else f.value end as value,
    case when f.is_suppressed then null else f.numerator end as numerator,
    case when f.is_suppressed then null else f.denominator end as denominator,
    f.is_exact as is_exact_in_current_division,
    s.is_comparable_over_time,
    f.is_suppressed,
    f.suppression_reason
from all_rows as f
inner join series_flags as s using (indicator_id, area_code)
