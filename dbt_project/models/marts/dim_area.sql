-- Every gemeente, wijk and buurt code that occurs in the area division of any year: its name (the
-- newest), level, parents, the years the code is valid, and where it lies in the newest division.
with division as (
    select * from {{ ref('stg_gebiedsindeling') }}
),

spans as (
    select
        area_code,
        any_value(area_level) as area_level,
        arg_max(area_name, year) as area_name,
        arg_max(parent_code, year) as parent_code,
        min(year) as valid_from_year,
        max(year) as valid_to_year
    from division
    group by area_code
),

newest as (
    select max(year) as newest_year from division
),

successors as (
    select
        area_code,
        string_agg(current_code, ',' order by current_code) as current_codes,
        bool_and(is_exact) as maps_exactly
    from {{ ref('int_area_code_map') }}
    group by area_code
)

select
    s.area_code,
    s.area_level,
    s.area_name,
    case s.area_level when 'buurt' then s.parent_code end as wijk_code,
    {{ gemeente_of('s.area_code') }} as gemeente_code,
    s.valid_from_year::integer as valid_from_year,
    s.valid_to_year::integer as valid_to_year,
    s.valid_to_year = n.newest_year as is_current,
    coalesce(m.current_codes, s.area_code) as current_area_codes,
    coalesce(m.maps_exactly, true) as maps_exactly_to_current
from spans as s
cross join newest as n
left join successors as m on m.area_code = s.area_code
