-- The model needs enough factors to be useful for ranking (and both kinds of factor).
-- Returns one row when there are fewer than 30 factors or one factor type is missing.
select count(*) as n_factors,
       count(*) filter (where factor_type = 'risk') as n_risk,
       count(*) filter (where factor_type = 'protective') as n_protective
from {{ ref('factors') }}
having count(*) < 30
    or count(*) filter (where factor_type = 'risk') = 0
    or count(*) filter (where factor_type = 'protective') = 0
