{#
  Use a custom schema (+schema in dbt_project.yml) as-is, e.g. `factor_model`, `staging`, `marts`,
  instead of dbt's default `<target_schema>_<custom_schema>`. Without a custom schema the target
  schema is used.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
