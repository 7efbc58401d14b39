{#- A wide source table of counts per area and year, in the project's naming convention:
    jaar -> year, the area column -> area_code (+ area_level), every other figure as double,
    lineage columns renamed. Used by the staging models of the municipal, DUO and police extracts. -#}
{% macro staging_wide_source(source_name, area_column, text_columns=[]) %}
with source as (
    select * from {{ source('raw', source_name) }}
)

select
    jaar as year,
    {{ area_column }} as area_code,
    {{ area_level(area_column) }} as area_level,
    columns(lambda c: c not in (
        'jaar', '{{ area_column }}', {% for c in text_columns %}'{{ c }}', {% endfor %}'_source_file', '_source_row', '_loaded_at'
    ))::double,
    _source_file as source_file,
    _source_row as source_row
from source
{% endmacro %}
