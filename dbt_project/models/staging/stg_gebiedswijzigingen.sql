-- Area code changes: from the first year of the new code on, the old code's area (share) lies in the new code.
select
    jaar as year,
    oude_code as old_code,
    nieuwe_code as new_code,
    case soort_wijziging
        when 'splitsing' then 'split'
        when 'samenvoeging' then 'merge'
        when 'hercodering' then 'recode'
        when 'herindeling' then 'municipal_merger'
    end as change_type,
    aandeel::double as share,
    _source_file as source_file,
    _source_row as source_row
from {{ source('raw', 'gebiedswijzigingen') }}
