-- Every figure of the wide source tables in one long table: source, year, area, source column, value.
-- Indicators pick their numerator, denominator and value columns from here by name (indicators seed).
{% set wide_sources = ['cbs_kerncijfers', 'gemeente_registraties', 'politie_jeugdverdachten', 'duo_onderwijs'] %}
{% for src in wide_sources %}
select '{{ src }}' as source, year, area_code, area_level, source_column, value
from (
    unpivot (
        select year, area_code, area_level,
            columns(lambda c: c not in ('year', 'area_code', 'area_level', 'gemeente_name', 'source_file', 'source_row'))
        from {{ ref('stg_' ~ src) }}
    )
    on columns(* exclude (year, area_code, area_level))
    into name source_column value value
)
{% if not loop.last %}union all{% endif %}
{% endfor %}
