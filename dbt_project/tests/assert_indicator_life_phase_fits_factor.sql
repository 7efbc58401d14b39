-- An indicator that measures a factor describes a population in a life phase in which that factor
-- plays a role (factor_life_phases). Returns the indicators whose life phase is not one of their
-- factor's life phases.
select i.indicator_id, i.factor_id, i.life_phase_id
from {{ ref('indicators') }} as i
left join {{ ref('factor_life_phases') }} as fp
    on fp.factor_id = i.factor_id and fp.life_phase_id = i.life_phase_id
where i.measures = 'factor'
  and fp.factor_id is null
