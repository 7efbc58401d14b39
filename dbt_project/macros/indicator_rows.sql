{#- Every row the sources give for each indicator and year, at the indicator's base level and every
    coarser one (a buurt indicator: buurt, wijk and gemeente rows), with numerator, denominator and
    value: any two of them may be given by the indicators seed, the third is derived (value =
    multiplier x numerator / denominator), so that higher levels can be computed from counts. Survey
    prevalences (GGD) carry their confidence interval and respondents.
    is_indicator_row: the source gives the indicator's own figure here (numerator or value; every
    survey row). False for a row that has only the denominator: the source reports the area but not
    this figure (CBS's '.' for small buurten). int_indicator_base keeps the indicator rows of the
    finest level; int_indicator_source_rows keeps them all, for the source's own wijk and gemeente
    figures and for telling which child areas lack the figure. level_rank: buurt 1, wijk 2, gemeente 3. -#}
{% macro indicator_rows() %}
with indicators as (
    select * from {{ ref('indicators') }}
),

-- read twice (denominators, singles): not materialized, so each reads only its own source columns
-- instead of a copy of the whole table
source_values as not materialized (
    select * from {{ ref('int_source_values') }}
),

denominator_parts as (
    select
        i.indicator_id,
        coalesce(i.denominator_source, i.source) as denominator_source,
        trim(part.column_name) as column_name,
        count(*) over (partition by i.indicator_id) as parts
    from indicators as i,
        unnest(string_split(i.denominator_column, '+')) as part(column_name)
    where i.source <> 'ggd_monitor' and i.denominator_column is not null
),

denominators as (
    -- a denominator exists only where every part of it is present
    select p.indicator_id, v.year, v.area_code, sum(v.value) as denominator
    from denominator_parts as p
    inner join source_values as v
        on v.source = p.denominator_source and v.source_column = p.column_name
    group by p.indicator_id, v.year, v.area_code, p.parts
    having count(*) = p.parts
),

single_columns as (
    select i.indicator_id, i.source, 'numerator' as role, i.numerator_column as column_name
    from indicators as i where i.source <> 'ggd_monitor' and i.numerator_column is not null
    union all
    select i.indicator_id, i.source, 'value', i.value_column
    from indicators as i where i.source <> 'ggd_monitor' and i.value_column is not null
),

singles as (
    select
        s.indicator_id, v.year, v.area_code,
        max(case when s.role = 'numerator' then v.value end) as numerator,
        max(case when s.role = 'value' then v.value end) as value
    from single_columns as s
    inner join source_values as v on v.source = s.source and v.source_column = s.column_name
    group by s.indicator_id, v.year, v.area_code
),

register_and_count_sources as (
    -- the indicator's own figure and its denominator; a denominator alone is kept, flagged, so that
    -- an area the source reports without this figure can be told from one it does not report
    select
        coalesce(s.indicator_id, d.indicator_id) as indicator_id,
        coalesce(s.year, d.year) as year,
        coalesce(s.area_code, d.area_code) as area_code,
        s.numerator,
        d.denominator,
        s.value,
        null::double as ci_lower,
        null::double as ci_upper,
        s.indicator_id is not null as is_indicator_row
    from singles as s
    full outer join denominators as d
        on d.indicator_id = s.indicator_id and d.year = s.year and d.area_code = s.area_code
),

survey_sources as (
    select
        i.indicator_id, g.year, g.area_code,
        null::double as numerator,
        g.respondents as denominator,
        g.value,
        g.ci_lower,
        g.ci_upper,
        true as is_indicator_row
    from indicators as i
    inner join {{ ref('stg_ggd_monitor') }} as g on g.source_code = i.source_code
    where i.source = 'ggd_monitor'
),

combined as (
    select * from register_and_count_sources
    union all
    select * from survey_sources
),

at_levels as (
    -- rows at the indicator's base level or coarser (a buurt indicator: buurt, wijk or gemeente rows)
    select
        c.*,
        {{ area_level('c.area_code') }} as area_level,
        {{ level_rank(area_level('c.area_code')) }} as level_rank
    from combined as c
    inner join indicators as i on i.indicator_id = c.indicator_id
    where c.area_code is not null
      and {{ level_rank(area_level('c.area_code')) }} >= {{ level_rank('i.area_level') }}
)

select
    c.indicator_id,
    c.year,
    c.area_code,
    c.area_level,
    c.level_rank,
    coalesce(c.numerator, c.value * c.denominator / i.multiplier) as numerator,
    coalesce(c.denominator, case when c.value > 0 then c.numerator * i.multiplier / c.value end) as denominator,
    coalesce(c.value, case when c.denominator > 0 then i.multiplier * c.numerator / c.denominator end) as value,
    c.ci_lower,
    c.ci_upper,
    c.is_indicator_row
from at_levels as c
inner join indicators as i on i.indicator_id = c.indicator_id
{% endmacro %}

{#- Whether a row of indicator figures (alias ``row``) gives the figure, i.e. both counts that an
    aggregate sums: numerator and denominator. A row without it (CBS's '.') adds nothing to a sum. -#}
{% macro gives_figure(row) -%}
    ({{ row }}.numerator is not null and {{ row }}.denominator is not null)
{%- endmacro %}
