-- Life phases of the factor model (levensfasen), one row per phase: the labels and age ranges behind
-- every life_phase_id in the marts, and whether the phase belongs to the Staat van de Jeugd.
select
    life_phase_id,
    sort_order::integer as sort_order,
    name_nl,
    name_en,
    age_from::integer as age_from,
    age_to::integer as age_to,
    -- pregnancy up to 23 years: the phases the Staat van de Jeugd reports on
    coalesce(age_to < 23, true) and life_phase_id <> 'ouderen' as is_youth
from {{ ref('life_phases') }}
