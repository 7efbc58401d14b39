{{ config(severity = 'warn') }}
-- A risk factor normally worsens a sub-goal and a protective factor improves it. An exception is
-- allowed (a warning, not an error) but should be explained in the link's rationale.
select l.link_id, f.factor_type, l.effect_direction
from {{ ref('factor_subgoal_links') }} as l
inner join {{ ref('factors') }} as f on f.factor_id = l.factor_id
where (f.factor_type = 'risk' and l.effect_direction <> 'worsens')
   or (f.factor_type = 'protective' and l.effect_direction <> 'improves')
