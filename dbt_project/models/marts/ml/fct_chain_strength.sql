-- Strength of every factor -> factor link, locally estimated or a weak prior.
select
    link_id, from_factor_id, to_factor_id, effect_direction, coefficient, std_error, area_level,
    n_areas::integer as n_areas, n_obs::integer as n_obs, source, note, method_version, run_id,
    computed_at::timestamp as computed_at
from {{ source('ml', 'chain_strength') }}
