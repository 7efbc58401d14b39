{#- Complementary suppression holds: no published wijk (gemeente) has exactly one suppressed buurt
    (wijk), which its total minus the published ones would give away; and no suppressed wijk with a
    published gemeente can be summed from its buurten because all of them are published.
    Rows of figures the source does not publish (suppression_reason not_published, CBS's '.') are not
    children here: they are the source's secret, not withheld by us, and the source publishes the same
    parent beside them (see fct_indicator_value). Returns the offending parents. -#}
{% test no_cell_recoverable_by_subtraction(model) %}
with c as (
    select *,
           {{ parent_of('area_level', 'area_code') }} as parent_code
    from {{ model }}
    where suppression_reason is distinct from 'not_published'
)
select p.area_code, p.year, p.indicator_id, 'exactly one suppressed child' as problem
from c
inner join {{ model }} as p on p.area_code = c.parent_code and p.year = c.year and p.indicator_id = c.indicator_id
where not p.is_suppressed
group by p.area_code, p.year, p.indicator_id
having count(*) filter (where c.is_suppressed) = 1
union all
select w.area_code, w.year, w.indicator_id, 'suppressed wijk whose buurten are all published'
from c as w
inner join {{ model }} as g on g.area_code = w.parent_code and g.year = w.year and g.indicator_id = w.indicator_id
inner join c as b on b.parent_code = w.area_code and b.year = w.year and b.indicator_id = w.indicator_id
where w.area_level = 'wijk' and w.is_suppressed and not g.is_suppressed
group by w.area_code, w.year, w.indicator_id
having bool_and(not b.is_suppressed)
{% endtest %}
