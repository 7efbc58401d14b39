{#- ``priority`` is a list per scope (scope_type, scope_id, area_code): its rankable factors take the
    places 1..n once each, its unrankable ones none, and a factor with a lower median rank never
    has a later place. Returns the offending rows. -#}
{% test priority_lists_each_scope(model) %}
with placed as (
    select *,
           row_number() over (partition by scope_type, scope_id, area_code, rankable order by priority) as nth
    from {{ model }}
)
select scope_type, scope_id, area_code, factor_id, rankable, priority, rank_median
from placed
where (rankable and (priority is null or priority <> nth))
   or (not rankable and priority is not null)
union all
select a.scope_type, a.scope_id, a.area_code, a.factor_id, a.rankable, a.priority, a.rank_median
from {{ model }} as a
join {{ model }} as b
  on a.scope_type = b.scope_type and a.scope_id = b.scope_id and a.area_code = b.area_code
 and a.rank_median < b.rank_median and a.priority > b.priority
{% endtest %}
