-- Every indicator at every level (buurt, wijk, gemeente) per year. The rows of int_indicator_base
-- (the finest level available per indicator, year and gemeente) are kept as given; the levels above
-- them are exact aggregates of their counts: sum of numerators over sum of denominators, never an
-- average of percentages. Where a gemeente has buurt rows, its wijken and the gemeente are summed
-- from the buurten; where it has only wijk rows, the gemeente is summed from the wijken; where it has
-- only its own row, that row is the value. derived_from_level says which level a value comes from.
-- Survey prevalences (measured per wijk) aggregate to the gemeente weighted by respondents.
-- An aggregate is complete when every child area that its sources deliver is in it
-- (int_aggregate_completeness: children_expected, children_present); one summed from fewer, say
-- because some buurt rows were quarantined on arrival, has is_complete false, and
-- fct_indicator_value withholds it.
-- The source's own figure instead of a partial sum: where some children are delivered without this
-- figure (CBS's '.' for small buurten; children_without_figure), the sum would leave their persons
-- out (a count too low, a percentage leaning towards the children that have it). Where the source
-- gives its own figure for that wijk or gemeente (CBS does, and it includes those buurten), that
-- figure is the value, as given: is_aggregate false, derived_from_level its own level,
-- children_without_figure says why. Where it does not, the partial sum stays, incomplete, withheld.
-- Each value carries a 95% interval: the source's (surveys), else from its counts (macros/intervals.sql:
-- Wilson for percentages, square-root Poisson for rates and counts; none for means), and a
-- standard error for judging change:
--   survey prevalence: the 95% CI half-width / 1.96 (at gemeente level: binomial on respondents);
--   percentage: binomial, multiplier x sqrt(p (1 - p) / denominator);
--   rate per 1,000 or count: Poisson, multiplier x sqrt(numerator) / denominator;
--   mean: none (change is then not assessed).
with indicators as (
    select * from {{ ref('indicators') }}
),

-- read several times: not materialized, each reader takes its own columns (peak memory 2.2 -> 1.5 GB
-- at national scale)
base as not materialized (
    select
        b.*,
        {{ wijk_of('b.area_code') }} as wijk_code,
        {{ gemeente_of('b.area_code') }} as gemeente_code
    from {{ ref('int_indicator_base') }} as b
),

complete as (
    -- rows that can be aggregated: both counts present
    select * from base as b where {{ gives_figure('b') }} and b.denominator > 0
),

completeness as (
    select * from {{ ref('int_aggregate_completeness') }}
),

own_figures as (
    -- the source's own figure for a wijk or gemeente whose sum would leave out children delivered
    -- without the figure; one completeness row per aggregate (its gemeente is summed from one level)
    select
        r.indicator_id, r.year, r.area_code, r.area_level, r.numerator, r.denominator, r.value,
        r.ci_lower, r.ci_upper, c.children_without_figure
    from {{ ref('int_indicator_source_rows') }} as r
    inner join completeness as c
        on c.indicator_id = r.indicator_id and c.year = r.year and c.area_code = r.area_code
    where c.children_without_figure > 0 and {{ gives_figure('r') }}
),

wijk_from_buurten as (
    select indicator_id, year, wijk_code as area_code, 'wijk' as area_level,
        sum(numerator) as numerator, sum(denominator) as denominator, count(*) as areas_aggregated,
        'buurt' as derived_from_level
    from complete where area_level = 'buurt'
    group by all
),

gemeente_from_below as (
    -- from the buurten or the wijken, whichever int_indicator_base holds for this gemeente (never both)
    select indicator_id, year, gemeente_code as area_code, 'gemeente' as area_level,
        sum(numerator) as numerator, sum(denominator) as denominator, count(*) as areas_aggregated,
        area_level as derived_from_level
    from complete where area_level in ('buurt', 'wijk')
    group by indicator_id, year, gemeente_code, area_level
),

aggregated as (
    -- the sums, but not where the source's own figure takes their place
    select s.*
    from (
        select * from wijk_from_buurten
        union all
        select * from gemeente_from_below
    ) as s
    anti join own_figures as o
        on o.indicator_id = s.indicator_id and o.year = s.year and o.area_code = s.area_code
),

all_levels as (
    select indicator_id, year, area_code, area_level, numerator, denominator, value,
        ci_lower, ci_upper, 1 as areas_aggregated, false as is_aggregate, area_level as derived_from_level,
        null::integer as children_expected, null::integer as children_present,
        null::integer as children_without_figure
    from base
    union all
    select a.indicator_id, a.year, a.area_code, a.area_level, a.numerator, a.denominator,
        i.multiplier * a.numerator / a.denominator as value,
        null, null, a.areas_aggregated, true, a.derived_from_level,
        c.children_expected, c.children_present, c.children_without_figure
    from aggregated as a
    inner join indicators as i on i.indicator_id = a.indicator_id
    left join completeness as c
        on c.indicator_id = a.indicator_id and c.year = a.year and c.area_code = a.area_code
        and c.derived_from_level = a.derived_from_level
    union all
    -- as the source gives it, not summed: no children counted, complete
    select indicator_id, year, area_code, area_level, numerator, denominator, value,
        ci_lower, ci_upper, 1, false, area_level,
        null, null, children_without_figure
    from own_figures
)

select
    v.indicator_id,
    v.year,
    v.area_code,
    v.area_level,
    v.numerator,
    v.denominator,
    v.value,
    case
        when v.ci_lower is not null then v.ci_lower
        when i.unit = 'survey_prevalence' and v.denominator > 0
            then greatest(0, v.value - 1.96 * i.multiplier * sqrt((v.value / i.multiplier) * (1 - v.value / i.multiplier) / v.denominator))
        when i.unit = 'percentage' and v.denominator > 0 and v.numerator >= 0
            then least(v.value, greatest(0, {{ wilson_bound('v.numerator', 'v.denominator', 'i.multiplier', '-') }}))
        when i.unit in ('rate_per_1000', 'count') and v.denominator > 0 and v.numerator >= 0
            then least(v.value, {{ poisson_lower('v.numerator', 'v.denominator', 'i.multiplier') }})
    end as ci_lower,
    case
        when v.ci_upper is not null then v.ci_upper
        when i.unit = 'survey_prevalence' and v.denominator > 0
            then least(i.multiplier, v.value + 1.96 * i.multiplier * sqrt((v.value / i.multiplier) * (1 - v.value / i.multiplier) / v.denominator))
        when i.unit = 'percentage' and v.denominator > 0 and v.numerator >= 0
            then greatest(v.value, least(i.multiplier, {{ wilson_bound('v.numerator', 'v.denominator', 'i.multiplier', '+') }}))
        when i.unit in ('rate_per_1000', 'count') and v.denominator > 0 and v.numerator >= 0
            then greatest(v.value, {{ poisson_upper('v.numerator', 'v.denominator', 'i.multiplier') }})
    end as ci_upper,
    case
        when i.unit = 'survey_prevalence' and v.ci_lower is not null and v.ci_upper is not null
            then (v.ci_upper - v.ci_lower) / (2 * 1.96)
        when i.unit in ('percentage', 'survey_prevalence') and v.denominator > 0
            then i.multiplier * sqrt(greatest(v.value / i.multiplier, 0) * greatest(1 - v.value / i.multiplier, 0) / v.denominator)
        when i.unit in ('rate_per_1000', 'count') and v.denominator > 0 and v.numerator >= 0
            then i.multiplier * sqrt(v.numerator) / v.denominator
    end as standard_error,
    v.areas_aggregated,
    v.is_aggregate,
    v.derived_from_level,
    v.children_expected,
    v.children_present,
    v.children_without_figure,
    coalesce(v.children_present >= v.children_expected, true) as is_complete
from all_levels as v
inner join indicators as i on i.indicator_id = v.indicator_id
