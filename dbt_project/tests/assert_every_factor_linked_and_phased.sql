-- Every factor influences at least one sub-goal and belongs to at least one life phase.
-- Returns the factors that miss either.
select f.factor_id,
       count(distinct l.subgoal_id) as n_subgoals,
       count(distinct p.life_phase_id) as n_life_phases
from {{ ref('factors') }} as f
left join {{ ref('factor_subgoal_links') }} as l on l.factor_id = f.factor_id
left join {{ ref('factor_life_phases') }} as p on p.factor_id = f.factor_id
group by f.factor_id
having count(distinct l.subgoal_id) = 0 or count(distinct p.life_phase_id) = 0
