-- CBS Kerncijfers wijken en buurten: keys renamed to the project's convention, codes trimmed,
-- every figure as a double (CBS's '.' for missing values is already null in raw).
with source as (
    select * from {{ source('raw', 'cbs_kerncijfers') }}
)

select
    jaar as year,
    trim("WijkenEnBuurten") as area_code,
    {{ area_level('trim("WijkenEnBuurten")') }} as area_level,
    trim("Gemeentenaam_1") as gemeente_name,
    columns(lambda c: c not in (
        'jaar', 'ID', 'WijkenEnBuurten', 'Gemeentenaam_1', 'SoortRegio_2', 'Codering_3',
        'IndelingswijzigingGemeenteWijkBuurt_4', '_source_file', '_source_row', '_loaded_at'
    ))::double,
    _source_file as source_file,
    _source_row as source_row
from source
