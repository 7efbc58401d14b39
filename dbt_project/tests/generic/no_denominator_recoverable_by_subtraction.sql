{#- Shared denominators: the denominators that indicators with the same denominator (source and
    column; survey sample sizes left out) publish, taken together, give no small denominator (below
    min_persons) back: no parent whose denominator some indicator publishes has exactly one child
    whose denominator none publishes and which is small (int_indicator_value). Returns the
    offending parents. Rows of figures the source does not publish (suppression_reason
    not_published, CBS's '.') are left out: their denominator is the source's to publish (CBS does,
    beside the '.'), so it is not counted as one withheld here. -#}
{% test no_denominator_recoverable_by_subtraction(model) %}
{% set min_persons = var('min_persons') %}
with keys as (
    {{ denominator_keys() }}
),
cells as (
    select
        m.area_code, m.year, k.denominator_key,
        bool_and(m.denominator is null) as withheld,
        coalesce(bool_or(t.denominator < {{ min_persons }}), false) as is_small,
        {{ parent_of('m.area_level', 'm.area_code') }} as parent_code
    from {{ model }} as m
    inner join keys as k using (indicator_id)
    left join {{ ref('int_indicator_value') }} as t
        on t.area_code = m.area_code and t.year = m.year and t.indicator_id = m.indicator_id
    where m.suppression_reason is distinct from 'not_published'
    group by m.area_code, m.area_level, m.year, k.denominator_key
)
select p.area_code, p.year, p.denominator_key
from cells as c
inner join cells as p
    on p.area_code = c.parent_code and p.year = c.year and p.denominator_key = c.denominator_key
where not p.withheld
group by p.area_code, p.year, p.denominator_key
having count(*) filter (where c.withheld) = 1 and bool_or(c.withheld and c.is_small)
{% endtest %}
