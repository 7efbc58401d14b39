-- An indicator measures exactly one thing, consistent with `measures`:
-- measures = 'factor'  -> factor_id set, subgoal_id empty;
-- measures = 'subgoal' -> subgoal_id set, factor_id empty.
-- Returns the offending indicators.
select indicator_id, measures, factor_id, subgoal_id
from {{ ref('indicators') }}
where not (
       (measures = 'factor'  and factor_id is not null and subgoal_id is null)
    or (measures = 'subgoal' and subgoal_id is not null and factor_id is null)
)
