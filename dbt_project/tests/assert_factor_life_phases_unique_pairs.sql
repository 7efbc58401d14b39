-- A factor is listed at most once per life phase. Returns duplicated pairs.
select factor_id, life_phase_id, count(*) as n_rows
from {{ ref('factor_life_phases') }}
group by factor_id, life_phase_id
having count(*) > 1
