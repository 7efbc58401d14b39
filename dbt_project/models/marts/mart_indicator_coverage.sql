-- How much of each indicator is published per level and year, so a map or an average is not drawn
-- from a biased remainder. Disclosure control withholds counts of 1 to min_persons - 1 but publishes
-- 0, so for a rare outcome (absolute verzuim, low birth weight, young suspects) the published buurten
-- are mostly exactly those without a case: their mean is near 0 while the gemeente's value is not.
-- fit_for_maps says whether a level is published fully enough to show area by area. One row per
-- indicator, year, gemeente and level. An area whose figure the source does not publish (CBS's '.',
-- suppression_reason not_published) is a hole in a map like one withheld here: it counts among the
-- areas withheld, and areas_not_published says how many of them the source left out.
with values as (
    select * from {{ ref('fct_indicator_value') }}
),

per_level as (
    select
        indicator_id,
        year,
        {{ gemeente_of('area_code') }} as gemeente_code,
        area_level,
        count(*) as areas,
        count(*) filter (where not is_suppressed) as areas_published,
        count(*) filter (where is_suppressed) as areas_withheld,
        count(*) filter (where suppression_reason = 'not_published') as areas_not_published,
        count(*) filter (where not is_suppressed and numerator = 0) as areas_published_zero,
        avg(value) filter (where not is_suppressed) as mean_published_value
    from values
    group by all
),

gemeente as (
    select indicator_id, year, {{ gemeente_of('area_code') }} as gemeente_code, value
    from values
    where area_level = 'gemeente' and not is_suppressed
)

select
    p.indicator_id,
    p.year::integer as year,
    p.gemeente_code,
    p.area_level,
    p.areas::integer as areas,
    p.areas_published::integer as areas_published,
    p.areas_withheld::integer as areas_withheld,
    p.areas_not_published::integer as areas_not_published,
    p.areas_published_zero::integer as areas_published_zero,
    p.areas_published / p.areas as share_published,
    p.mean_published_value,
    g.value as gemeente_value,
    p.areas_published / p.areas >= {{ var('min_share_published_for_maps') }} as fit_for_maps
from per_level as p
left join gemeente as g on g.indicator_id = p.indicator_id and g.year = p.year and g.gemeente_code = p.gemeente_code
