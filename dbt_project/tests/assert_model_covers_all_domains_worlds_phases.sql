-- The model covers all ages and all of life: every domain and every sub-goal is reached by at
-- least 3 factors, every life world holds at least 3 factors and every life phase has at least 3
-- factors. Returns the under-covered dimension members.
{% set min_factors = 3 %}

with domain_cov as (
    select 'domain' as dimension, d.domain_id as member_id, count(distinct l.factor_id) as n_factors
    from {{ ref('domains') }} as d
    left join {{ ref('subgoals') }} as s on s.domain_id = d.domain_id
    left join {{ ref('factor_subgoal_links') }} as l on l.subgoal_id = s.subgoal_id
    group by d.domain_id
),

subgoal_cov as (
    select 'subgoal', s.subgoal_id, count(distinct l.factor_id)
    from {{ ref('subgoals') }} as s
    left join {{ ref('factor_subgoal_links') }} as l on l.subgoal_id = s.subgoal_id
    group by s.subgoal_id
),

world_cov as (
    select 'life_world', w.life_world_id, count(distinct f.factor_id)
    from {{ ref('life_worlds') }} as w
    left join {{ ref('factors') }} as f on f.life_world_id = w.life_world_id
    group by w.life_world_id
),

phase_cov as (
    select 'life_phase', p.life_phase_id, count(distinct fp.factor_id)
    from {{ ref('life_phases') }} as p
    left join {{ ref('factor_life_phases') }} as fp on fp.life_phase_id = p.life_phase_id
    group by p.life_phase_id
),

all_cov as (
    select * from domain_cov
    union all select * from subgoal_cov
    union all select * from world_cov
    union all select * from phase_cov
)

select * from all_cov where n_factors < {{ min_factors }}
