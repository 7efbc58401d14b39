-- GGD health monitor: one row per wijk, survey year, target group and GGD indicator code,
-- with the prevalence (percent), its 95% confidence interval and the number of respondents.
with source as (
    select * from {{ source('raw', 'ggd_monitor') }}
)

select
    jaar as year,
    wijkcode as area_code,
    {{ area_level('wijkcode') }} as area_level,
    doelgroep as target_group,
    indicator_code as source_code,
    indicator_omschrijving as source_label,
    percentage::double as value,
    ci_ondergrens::double as ci_lower,
    ci_bovengrens::double as ci_upper,
    aantal_respondenten::double as respondents,
    _source_file as source_file,
    _source_row as source_row
from source
