-- Factor-to-factor links must form a directed acyclic graph (the ranking propagates indirect
-- effects along them). Walks every path from every factor, bounded by the number of links, and
-- returns each factor that can reach itself (including self-links) with the length of the cycle.
with recursive edges as (
    select from_factor_id as src, to_factor_id as dst
    from {{ ref('factor_factor_links') }}
),

walk (start_id, current_id, depth, path) as (
    select src, dst, 1, src || ' -> ' || dst
    from edges
    union all
    select w.start_id, e.dst, w.depth + 1, w.path || ' -> ' || e.dst
    from walk as w
    inner join edges as e on e.src = w.current_id
    where w.current_id <> w.start_id
      and w.depth < (select count(*) from edges)
)

select start_id as factor_id, min(depth) as cycle_length, min(path) as example_cycle
from walk
where current_id = start_id
group by start_id
