{#- Complementary suppression holds: no published wijk (gemeente) has exactly one withheld buurt
    (wijk), which its total minus the published ones would give away; and no withheld wijk with a
    published gemeente can be summed from its buurten because all of them are published.
    Rows of figures the source does not publish (suppression_reason not_published, CBS's '.') are
    withheld children like ours: a published parent with exactly one withheld child, '.' or ours,
    gives it back. And none of our own cells rests only on a '.' staying unknown: a parent fails too
    where, the '.' children aside, exactly one child is withheld and it is withheld for its own sake
    (not a complementary cell, which is withheld only to protect its siblings); and a withheld wijk
    fails where every buurt with a figure is published. Returns the offending parents. -#}
{% test no_cell_recoverable_by_subtraction(model) %}
with c as (
    select *,
           suppression_reason is not distinct from 'not_published' as is_not_published,
           {{ parent_of('area_level', 'area_code') }} as parent_code
    from {{ model }}
)
select p.area_code, p.year, p.indicator_id,
       case when count(*) filter (where c.is_suppressed) = 1 then 'exactly one withheld child'
            else 'one cell withheld by us, protected only by the source''s ''.''' end as problem
from c
inner join {{ model }} as p on p.area_code = c.parent_code and p.year = c.year and p.indicator_id = c.indicator_id
where not p.is_suppressed
group by p.area_code, p.year, p.indicator_id
having count(*) filter (where c.is_suppressed) = 1
    or (count(*) filter (where c.is_suppressed and not c.is_not_published) = 1
        and count(*) filter (where c.is_suppressed and not c.is_not_published
                             and c.suppression_reason <> 'complementary') = 1)
union all
select w.area_code, w.year, w.indicator_id, 'withheld wijk whose buurten are all published'
from c as w
inner join {{ model }} as g on g.area_code = w.parent_code and g.year = w.year and g.indicator_id = w.indicator_id
inner join c as b on b.parent_code = w.area_code and b.year = w.year and b.indicator_id = w.indicator_id
where w.area_level = 'wijk' and w.is_suppressed and not g.is_suppressed and not b.is_not_published
group by w.area_code, w.year, w.indicator_id
having bool_and(not b.is_suppressed)
{% endtest %}
