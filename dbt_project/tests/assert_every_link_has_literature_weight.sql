-- literature_weights holds exactly one row per factor-to-sub-goal link (the reverse direction of
-- the relationships test). Returns links without a weight.
select l.link_id
from {{ ref('factor_subgoal_links') }} as l
left join {{ ref('literature_weights') }} as w on w.link_id = l.link_id
where w.link_id is null
