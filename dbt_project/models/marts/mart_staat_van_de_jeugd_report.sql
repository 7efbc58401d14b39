-- The Staat van de Jeugd as a report of one year: for every report year, each indicator's newest
-- measurement up to that year, so that the report of 2024 also shows the youth-monitor indicators
-- measured in 2023 (the GGD's youth and adult surveys alternate years; mart_staat_van_de_jeugd has
-- a row only where a year was measured). A measurement is carried at most
-- var('report_max_age_years') years (default 4): an indicator measured longer ago is left out
-- rather than shown as current. The row is the measurement's row of mart_staat_van_de_jeugd, with
-- its assessments, plus the report year and how old the measurement is.
with measured as (
    select * from {{ ref('mart_staat_van_de_jeugd') }}
),

report_years as (
    select distinct gemeente_code, year as report_year from measured
),

newest as (
    {{ newest_measurement('report_years', 'report_year', 'measured', 'gemeente_code', ['gemeente_code', 'indicator_id']) }}
)

select
    gemeente_code,
    report_year::integer as report_year,
    indicator_id,
    indicator_name_nl,
    direction,
    life_phase_id,
    is_youth,
    year::integer as measurement_year,
    (report_year - year)::integer as years_since_measurement,
    value,
    ci_lower,
    ci_upper,
    standard_error,
    previous_year,
    change_from_previous,
    assessment_previous,
    baseline_year,
    change_from_baseline,
    assessment_baseline
from newest
where recency = 1
