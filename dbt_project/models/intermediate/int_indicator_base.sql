-- Numerator, denominator and value of every indicator per year, straight from the sources, at the
-- finest level available: per indicator, year and gemeente, the rows of the indicator's base level
-- (buurt or wijk) where the gemeente has any there; otherwise its wijk rows (for a buurt indicator);
-- otherwise the gemeente's own row. One level per indicator, year and gemeente, so that
-- int_indicator_value aggregates the higher levels from it without counting anything twice.
-- A row exists where the source gives the indicator's own figure (numerator or value); a
-- denominator alone makes no row. The rows and their derived third figure come from
-- int_indicator_source_rows (macros/indicator_rows.sql), read from its table instead of derived a
-- second time (the same rows; 6 s less at national scale).
with indicator_rows as (
    select * from {{ ref('int_indicator_source_rows') }}
    where is_indicator_row
),

finest as (
    select *
    from (
        select
            *,
            min(level_rank) over (partition by indicator_id, year, {{ gemeente_of('area_code') }}) as finest_rank
        from indicator_rows
    ) as ranked
    where level_rank = finest_rank
)

select indicator_id, year, area_code, area_level, numerator, denominator, value, ci_lower, ci_upper
from finest
