-- Risk and protective factors with their life world, the life phases they apply to and the
-- number of indicators that measure them.
with phases as (
    select factor_id, string_agg(life_phase_id, ',' order by life_phase_id) as life_phase_ids
    from {{ ref('factor_life_phases') }}
    group by factor_id
),

measured as (
    select factor_id, count(*) as indicator_count
    from {{ ref('indicators') }}
    where measures = 'factor'
    group by factor_id
)

select
    f.factor_id,
    f.factor_type,
    f.name_nl,
    f.name_en,
    f.description,
    f.life_world_id,
    w.name_nl as life_world_name_nl,
    coalesce(p.life_phase_ids, '') as life_phase_ids,
    coalesce(m.indicator_count, 0)::integer as indicator_count
from {{ ref('factors') }} as f
inner join {{ ref('life_worlds') }} as w on w.life_world_id = f.life_world_id
left join phases as p on p.factor_id = f.factor_id
left join measured as m on m.factor_id = f.factor_id
