-- gemeente_registraties: keys renamed to the project's convention (year, area_code, area_level),
-- every count as a double so that all sources unpivot alike.
with source as (
    select * from {{ source('raw', 'gemeente_registraties') }}
)

select
    jaar as year,
    buurtcode as area_code,
    {{ area_level('buurtcode') }} as area_level,
    columns(lambda c: c not in ('jaar', 'buurtcode', 'schooljaar', '_source_file', '_source_row', '_loaded_at'))::double,
    _source_file as source_file,
    _source_row as source_row
from source
