{#- The published form of a table the ML stage wrote to schema ml: its columns are the columns the
    model's YAML documents (and its enforced contract checks), each cast to the documented
    data_type, so the column list is written once, in the YAML. tests/ml/test_columns_match_marts.py
    checks that the YAML lists exactly the columns models_ml writes. -#}
{% macro ml_mart(table_name) %}
select
{%- for column in model.columns.values() %}
    cast({{ column.name }} as {{ column.data_type }}) as {{ column.name }}{{ "," if not loop.last }}
{%- endfor %}
from {{ source('ml', table_name) }}
{% endmacro %}
