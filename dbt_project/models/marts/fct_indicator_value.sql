-- The value of every indicator for every area (buurt, wijk, gemeente) and year, with numerator,
-- denominator, unit, source, confidence interval and the level it was derived from (the finest
-- level the source gives for the gemeente, see int_indicator_base). Disclosure control: a value
-- based on fewer than var('min_persons') persons (denominator), or counting between 1 and
-- min_persons - 1 persons (numerator of a count-based unit), is suppressed: value, counts and
-- interval null, flag set.
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
        , true) as is_suppressed
    from v
    inner join i on i.indicator_id = v.indicator_id
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
    is_aggregate,
    areas_aggregated::integer as areas_aggregated,
    derived_from_level
from flagged
where value is not null or is_suppressed
