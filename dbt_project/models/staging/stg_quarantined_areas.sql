-- The area of every quarantined row of the sources that give figures per area (and, for the GGD
-- monitor, the indicator code), with the year partition the row belongs to (null when its year
-- could not be read). A quarantined row shows that its source delivers that area even though none
-- of its figures reached raw: int_source_coverage counts on it when it judges whether an aggregate
-- is complete.
--
-- quarantine.<source> is written by the same Dagster asset as raw.<source> (raw/<source>), so it is
-- read directly rather than declared as a second dbt source of that asset key (dagster-dbt allows one
-- dbt resource per key); the depends_on lines below put raw/<source> upstream of this model.
{%- for source_name in ['cbs_kerncijfers', 'gemeente_registraties', 'politie_jeugdverdachten', 'duo_onderwijs', 'ggd_monitor'] %}
-- depends_on: {{ source('raw', source_name) }}
{%- endfor %}
{% set area_columns = {
    'cbs_kerncijfers': 'WijkenEnBuurten',
    'gemeente_registraties': 'buurtcode',
    'politie_jeugdverdachten': 'buurtcode',
    'duo_onderwijs': 'wijkcode',
    'ggd_monitor': 'wijkcode',
} %}
{% for source_name, area_column in area_columns.items() %}
select
    '{{ source_name }}' as source,
    _year as year,
    upper(trim("{{ area_column }}")) as area_code,
    {% if source_name == 'ggd_monitor' %}trim(indicator_code){% else %}null::varchar{% endif %} as source_code,
    _reason as reason,
    _source_file as source_file,
    _source_row as source_row
from quarantine.{{ adapter.quote(source_name) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
