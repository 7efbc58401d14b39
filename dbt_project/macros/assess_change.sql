{#- better / worse / within_noise / not_assessed for a change between two values, each with a
    standard error: a change is real when |change| > 1.96 x sqrt(se1^2 + se2^2). -#}
{% macro assess_change(change, se_now, se_then, direction) -%}
    case
        when {{ change }} is null then 'no_comparison'
        when {{ se_now }} is null or {{ se_then }} is null then 'not_assessed'
        when abs({{ change }}) <= 1.96 * sqrt({{ se_now }} ^ 2 + {{ se_then }} ^ 2) then 'within_noise'
        when ({{ change }} > 0) = ({{ direction }} = 'higher_is_better') then 'better'
        else 'worse'
    end
{%- endmacro %}
