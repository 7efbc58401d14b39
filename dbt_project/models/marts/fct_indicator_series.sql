-- Every indicator's time series in the newest area division, so that an area's trend is
-- continuous across code changes: counts of earlier years are carried into today's codes
-- (int_area_code_map). Exact where whole areas moved (a merged buurt's past is the sum of the
-- buurten it was made of); estimated, and flagged with is_comparable_over_time = false, where a
-- split divided an area by shares of residents. Disclosure control as in fct_indicator_value, and
-- a cell that fct_indicator_value withholds for the same code, year and indicator (also by
-- complementary suppression) is withheld here too: else a series could give back what the value
-- table protects.
{% set min_persons = var('min_persons') %}
with base as (
    select b.*, i.multiplier, i.unit
    from {{ ref('int_indicator_base') }} as b
    inner join {{ ref('indicators') }} as i on i.indicator_id = b.indicator_id
    where b.numerator is not null and b.denominator is not null
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
        bool_and(m.is_exact) as is_exact
    from base as b
    inner join {{ ref('int_area_code_map') }} as m on m.area_code = b.area_code
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
        , true) as is_suppressed
    from mapped
),

withheld as (
    select area_code, year, indicator_id
    from {{ ref('fct_indicator_value') }}
    where is_suppressed
),

flagged as (
    select r.* exclude (is_suppressed), r.is_suppressed or w.area_code is not null as is_suppressed
    from flagged_raw as r
    left join withheld as w using (area_code, year, indicator_id)
),

series_flags as (
    select indicator_id, area_code, bool_and(is_exact) as is_comparable_over_time
    from flagged
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
    f.is_suppressed
from flagged as f
inner join series_flags as s using (indicator_id, area_code)
