{#- The factor scores of fct_factor_score (published) and int_factor_score (internal, for the
    statistics), one SQL. Per area, year and factor: a standardised score relative to the
    municipality. Each indicator value is oriented (higher = more of the factor: more risk for a
    risk factor, more protection for a protective one), then standardised against the areas of the
    same level, gemeente and year: z = (area value - gemeente value) / standard deviation across
    those areas. The factor score is the mean z of its indicators. Percentile ranks areas of one
    level within the gemeente; trends compare with the previous year and the baseline: the area's first score from the
    baseline year on (var('baseline_year', 'null'), default the first year). The reference and the spread come from
    every value (int_indicator_value) for the internal scores. withhold=true (the published mart):
    only from the values fct_indicator_value publishes, an area's z of an indicator whose value it
    withholds is left out, and an area without any other indicator of the factor gets no score.
    (A spread over withheld values too would give their sum of squares back: a published z is
    (value - gemeente value) / spread, so spread = |value - gemeente value| / |z|, and with the
    withheld cells' total from the parent and whole counts of 1-9 that pinned down 113 withheld
    demo cells exactly; found by a disclosure review.) Where values are withheld, a published
    spread needs at least var('min_areas_for_spread') published areas; with fewer there is no
    published z for that indicator, level and year. Incomplete aggregates (int_indicator_value.is_complete false) are
    left out of both, internal and published: where the gemeente's own value is incomplete, the
    indicator has no reference that year and no area gets a z for it. Areas whose values are equal
    have no spread and no z, also where summing in another order left them a rounding error apart
    (a spread below ``1e-9`` of the largest value): such a "spread" of 1e-15 gave z-scores of -1
    to 1 from rounding alone, and which ones depended on the order in which DuckDB's threads summed
    (the recorded Rotterdam subset, 2023: two wijken at 44.0 and 43.999...; found when a loaded
    test machine scored them 0 and 1). -#}
{% macro factor_scores(withhold) %}
with values_ as (
    select
        v.*,
        {{ gemeente_of('v.area_code') }} as gemeente_code,
        i.factor_id,
        f.factor_type,
        case
            when (f.factor_type = 'risk') = (i.direction = 'higher_is_worse') then 1 else -1
        end as orientation,
        {%- if withhold %}
        -- published: not withheld by fct_indicator_value (small cell or complementary suppression)
        not exists (
            select 1 from {{ ref('fct_indicator_value') }} as w
            where w.area_code = v.area_code and w.year = v.year and w.indicator_id = v.indicator_id and w.is_suppressed
        ) as is_published
        {%- else %}
        true as is_published
        {%- endif %}
    from {{ ref('int_indicator_value') }} as v
    inner join {{ ref('indicators') }} as i on i.indicator_id = v.indicator_id
    inner join {{ ref('factors') }} as f on f.factor_id = i.factor_id
    where i.measures = 'factor' and v.value is not null
      -- an aggregate summed from fewer child areas than expected is not the area's value (nor, for
      -- the gemeente, a reference to standardise against): left out, internal scores included
      and v.is_complete
),

reference as (
    select indicator_id, year, area_code as gemeente_code, value as gemeente_value
    from values_ where area_level = 'gemeente' and is_published
),

spread as (
    select
        indicator_id, year, gemeente_code, area_level,
        stddev_samp(value) filter (where is_published) as sd,
        max(abs(value)) filter (where is_published) as largest,
        count(*) filter (where is_published) as areas
    from values_ where area_level <> 'gemeente'
    group by all
    {%- if withhold %}
    -- where values are withheld, a spread of fewer published areas is too unstable to standardise on
    -- (2 published wijken of 12 gave z-scores of 46): no z for that indicator, level and year; a
    -- gemeente with few areas and none withheld keeps its spread
    having count(*) filter (where is_published) >= {{ var('min_areas_for_spread') }}
        or count(*) filter (where is_published) = count(*)
    {%- endif %}
),

z as (
    select
        v.area_code, v.area_level, v.year, v.factor_id, v.factor_type, v.indicator_id,
        -- no spread, or only rounding: no z
        case when s.sd > 1e-9 * s.largest then v.orientation * (v.value - r.gemeente_value) / s.sd end as z
    from values_ as v
    inner join reference as r using (indicator_id, year, gemeente_code)
    inner join spread as s using (indicator_id, year, gemeente_code, area_level)
    -- an area whose value the published marts withhold gets no z for it: else its score would
    -- give that value back
    where v.area_level <> 'gemeente' and v.is_published
),

scores as (
    select
        area_code, area_level, year, factor_id, factor_type,
        avg(z) as score,
        count(z) as indicators_used
    from z
    where z is not null
    group by all
),

baseline as (
    -- per area and factor its first score from the baseline year on (a factor of the adult survey,
    -- held in even years, is first scored the year after an odd baseline year)
    select area_code, factor_id, min(year) as baseline_year
    from scores
    where year >= (select coalesce({{ var('baseline_year', 'null') }}, min(year)) from scores)
    group by all
)

select
    s.area_code,
    s.area_level,
    s.year::integer as year,
    s.factor_id,
    s.factor_type,
    s.score,
    100 * percent_rank() over (partition by s.area_level, {{ gemeente_of('s.area_code') }}, s.year, s.factor_id order by s.score) as percentile,
    s.score - lag(s.score) over (partition by s.area_code, s.factor_id order by s.year) as change_from_previous_year,
    (lag(s.year) over (partition by s.area_code, s.factor_id order by s.year))::integer as previous_year,
    b.baseline_year::integer as baseline_year,
    case when s.year > b.baseline_year then s.score - first_value(case when s.year = b.baseline_year then s.score end ignore nulls)
        over (partition by s.area_code, s.factor_id order by s.year rows between unbounded preceding and unbounded following)
    end as change_from_baseline,
    s.indicators_used::integer as indicators_used
from scores as s
left join baseline as b on b.area_code = s.area_code and b.factor_id = s.factor_id
{% endmacro %}
