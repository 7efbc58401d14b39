-- The area division per year: code, name, level and parent, in the project's naming convention.
select
    jaar as year,
    gebiedscode as area_code,
    gebiedsnaam as area_name,
    soort as area_level,
    bovenliggende_code as parent_code,
    _source_file as source_file,
    _source_row as source_row
from {{ source('raw', 'gebiedsindeling') }}
