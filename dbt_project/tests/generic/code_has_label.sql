{#- Every code in the column has a Dutch label: a row of dim_code_label with this code_set and the
    code (empty cells aside). Returns each code that has none, so a new code (a new suppression reason,
    unit or assessment) cannot reach a policy adviser without its label. -#}
{% test code_has_label(model, column_name, code_set) %}
select distinct m.{{ column_name }} as code, '{{ code_set }}' as code_set
from {{ model }} as m
where m.{{ column_name }} is not null
  and not exists (
      select 1 from {{ ref('dim_code_label') }} as l
      where l.code_set = '{{ code_set }}' and l.code = m.{{ column_name }}
  )
{% endtest %}
