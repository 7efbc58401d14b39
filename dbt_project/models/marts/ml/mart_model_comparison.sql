-- Every model's cross-validated error per outcome (areas held out), beside the default.
select
    model, outcome_indicator_id, subgoal_id, area_level, cv_rmse, cv_r2, rmse_vs_default, is_default,
    n_folds::integer as n_folds, n_areas::integer as n_areas, n_obs::integer as n_obs, status,
    note, method_version, run_id, computed_at::timestamp as computed_at
from {{ source('ml', 'model_comparison') }}
