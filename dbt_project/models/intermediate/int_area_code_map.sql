-- Where every area code that ever occurred lies in the newest area division: a code maps to
-- itself when it never changed; otherwise through its changes (recursively, for codes changed more
-- than once) to the codes that replaced it, with the share of its residents. A mapping is exact
-- when whole areas moved (merges, recodings, municipal mergers: share 1 on every step) and
-- approximate when a split divided the area (the series is then carried by estimated shares and
-- flagged as not comparable).
with recursive changes as (
    select * from {{ ref('stg_gebiedswijzigingen') }}
),

codes as (
    select distinct area_code, area_level from {{ ref('stg_gebiedsindeling') }}
),

paths(area_code, area_level, current_code, share, is_exact, steps) as (
    select area_code, area_level, area_code, 1.0::double, true, 0
    from codes
    union all
    select p.area_code, p.area_level, c.new_code, p.share * c.share, p.is_exact and c.share = 1, p.steps + 1
    from paths as p
    inner join changes as c on c.old_code = p.current_code
    where p.steps < 20
)

select area_code, area_level, current_code, share, is_exact
from paths as p
where not exists (select 1 from changes as c where c.old_code = p.current_code)
