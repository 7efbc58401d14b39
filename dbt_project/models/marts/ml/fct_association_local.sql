-- Local factor-outcome associations from the area-by-year panel (ecological, not causal).
select
    outcome_indicator_id, subgoal_id, factor_id, area_level,
    estimate, std_error, ci90_lower, ci90_upper,
    n_areas::integer as n_areas, n_years::integer as n_years, n_obs::integer as n_obs, n_factors::integer as n_factors,
    method, alpha, vif, max_vif, condition_number, flags, status, reason, note, method_version, run_id,
    computed_at::timestamp as computed_at
from {{ source('ml', 'association_local') }}
