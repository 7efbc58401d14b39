-- Domains (kansrijk, veilig, gezond) and their sub-goals, one row per sub-goal.
select
    s.subgoal_id,
    s.name_nl as subgoal_name_nl,
    s.name_en as subgoal_name_en,
    s.description as subgoal_description,
    s.sort_order,
    d.domain_id,
    d.name_nl as domain_name_nl,
    d.name_en as domain_name_en
from {{ ref('subgoals') }} as s
inner join {{ ref('domains') }} as d on d.domain_id = s.domain_id
