{#- The source_code under which int_source_coverage records an indicator's source: the GGD monitor
    is covered per survey (its source_code), every other source as a whole (''). -#}
{% macro coverage_source_code(source, source_code) -%}
    case when {{ source }} = 'ggd_monitor' then {{ source_code }} else '' end
{%- endmacro %}
