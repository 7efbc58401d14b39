-- Which areas each source delivers, per year: one row per source (for the GGD monitor per indicator
-- code), area and year with the rows loaded into raw and the rows quarantined on arrival. Every row
-- of an extract is one or the other, so an area with quarantined rows and no loaded row in a year is
-- an area the source delivered but whose figures are missing (int_aggregate_completeness).
-- Quarantined rows whose year could not be read have year null.
with loaded as (
    {% for source_name in ['cbs_kerncijfers', 'gemeente_registraties', 'politie_jeugdverdachten', 'duo_onderwijs'] %}
    select '{{ source_name }}' as source, '' as source_code, year, area_code from {{ ref('stg_' ~ source_name) }}
    union all
    {% endfor %}
    select 'ggd_monitor', source_code, year, area_code from {{ ref('stg_ggd_monitor') }}
),

quarantined as (
    select source, coalesce(source_code, '') as source_code, year, area_code
    from {{ ref('stg_quarantined_areas') }}
    where area_code is not null and area_code <> ''
)

select
    source,
    source_code,
    area_code,
    year::integer as year,
    count(*) filter (where is_loaded)::integer as rows_loaded,
    count(*) filter (where not is_loaded)::integer as rows_quarantined
from (
    select *, true as is_loaded from loaded
    union all
    select *, false from quarantined
) as delivered
group by all
