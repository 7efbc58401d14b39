-- An indicator can only be computed (and weighted) when at least two of numerator_column,
-- denominator_column and value_column are given. Returns the offending indicators.
select indicator_id, numerator_column, denominator_column, value_column
from {{ ref('indicators') }}
where (case when nullif(trim(numerator_column), '') is not null then 1 else 0 end
     + case when nullif(trim(denominator_column), '') is not null then 1 else 0 end
     + case when nullif(trim(value_column), '') is not null then 1 else 0 end) < 2
