-- duo_onderwijs: keys renamed to the project's convention (year, area_code, area_level),
-- every count as a double so that all sources unpivot alike.
with source as (
    select * from {{ source('raw', 'duo_onderwijs') }}
)

select
    jaar as year,
    wijkcode as area_code,
    {{ area_level('wijkcode') }} as area_level,
    columns(lambda c: c not in ('jaar', 'wijkcode', 'schooljaar', '_source_file', '_source_row', '_loaded_at'))::double,
    _source_file as source_file,
    _source_row as source_row
from source
