-- link_id is '<factor_id>__<subgoal_id>' and '<from_factor_id>__<to_factor_id>'; together with the
-- unique test on link_id this forbids duplicate pairs. Returns the offending links.
select 'factor_subgoal_links' as seed, link_id
from {{ ref('factor_subgoal_links') }}
where link_id <> factor_id || '__' || subgoal_id
union all
select 'factor_factor_links' as seed, link_id
from {{ ref('factor_factor_links') }}
where link_id <> from_factor_id || '__' || to_factor_id
