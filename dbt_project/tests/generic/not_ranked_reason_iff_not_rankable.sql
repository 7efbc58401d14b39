{#- A ranking row says why a factor is not ranked exactly when it is not: not_ranked_reason is null
    for every rankable row and set for every other. Returns the offending rows. -#}
{% test not_ranked_reason_iff_not_rankable(model) %}
select scope_type, scope_id, area_code, factor_id, rankable, not_ranked_reason
from {{ model }}
where rankable = (not_ranked_reason is not null)
{% endtest %}
