{#- The published form of a ranking table written by the ML stage (ml.factor_ranking and
    ml.factor_ranking_area share their columns). -#}
{% macro ranking_mart(table_name) %}
select
    scope_type, scope_id, area_code, factor_id, factor_type, rankable,
    impact, impact_ci90_lower, impact_ci90_upper,
    rank_median, rank_ci90_lower, rank_ci90_upper, p_top5,
    room_for_improvement, rank_by_room_for_improvement, direct_share, explanation,
    n_draws::integer as n_draws, method_version, run_id, computed_at::timestamp as computed_at
from {{ source('ml', table_name) }}
{% endmacro %}
