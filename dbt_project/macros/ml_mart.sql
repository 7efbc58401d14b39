{#- The published form of a table the ML stage wrote to schema ml: its columns are the columns the
    model's YAML documents (and its enforced contract checks), each cast to the documented
    data_type, so the column list is written once, in the YAML. tests/ml/test_columns_match_marts.py
    checks that the YAML lists exactly the columns models_ml writes. On the built-in demo (dbt var
    synthetic, set by the pipeline's settings) the note column starts with SYNTHETIC_NOTE, so that no
    row of a published ML result passes for a real municipality's. -#}
{% macro ml_mart(table_name) %}
select
{%- for column in model.columns.values() %}
    {%- if column.name == 'note' and var('synthetic') %}
    cast('{{ synthetic_note() }} ' || note as {{ column.data_type }}) as note{{ "," if not loop.last }}
    {%- else %}
    cast({{ column.name }} as {{ column.data_type }}) as {{ column.name }}{{ "," if not loop.last }}
    {%- endif %}
{%- endfor %}
from {{ source('ml', table_name) }}
{% endmacro %}

{% macro synthetic_note() %}SYNTHETIC demo data (Demostad): invented figures.{% endmacro %}
