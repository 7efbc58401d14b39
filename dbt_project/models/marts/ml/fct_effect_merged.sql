-- Merged effect per factor -> sub-goal link on Cohen's d (positive = the factor makes the sub-goal worse).
select
    link_id, factor_id, subgoal_id,
    d_local, se_local, d_local_unshrunk, n_outcomes_local::integer as n_outcomes_local, outcomes_local,
    d_literature, se_literature, evidence_grade, literature_is_placeholder, citation,
    d_merged, se_merged, ci90_lower, ci90_upper, local_share, source, tau, local_weight,
    note, method_version, run_id, computed_at::timestamp as computed_at
from {{ source('ml', 'effect_merged') }}
