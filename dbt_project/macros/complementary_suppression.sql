{#- Complementary suppression of one set of cells, as a subquery of (area_code, year, key) picks.
    ``cells``: a relation with area_code, area_level, year, the ``key`` column (what a cell is a value
    of: an indicator, or a denominator), parent_code (the wijk of a buurt, the gemeente of a wijk),
    denominator (the cell's size) and is_suppressed. ``not_published``: optionally the name of a
    boolean column of ``cells`` marking withheld cells whose figure the source itself does not
    publish (CBS's '.'); they are withheld cells like ours (is_suppressed true).
    A published wijk (gemeente) is the sum of its buurten (wijken), or the source's own figure that
    includes them, so one withheld child among published ones could be worked out by subtraction: where a
    published parent has exactly one withheld child, its smallest published sibling is picked too.
    Exactly one counts either way: all withheld children, the source's '.' ones included (else the
    parent minus the published children gives the '.' back), or only those withheld by us (so that
    none of our cells rests on a '.' staying unknown). Where the picked sibling is a wijk, its
    smallest buurt is picked as well (else the wijk could be summed from its buurten), and so for
    any withheld wijk under a published gemeente none of whose buurten is withheld by us. Used by
    fct_indicator_value per indicator, and per shared denominator. -#}
{% macro complementary_picks(cells, key, not_published=none) %}
{%- set by_source = 'c.' ~ not_published if not_published else 'false' %}
(
    with children as (
        -- per parent, year and key: the number of withheld children (all of them, and those withheld
        -- by us), and the smallest published child (smallest denominator first, an unknown one
        -- before any; then by code). Aggregates, not window functions: at national scale
        -- (6 million cells) the windows took most of fct_indicator_value's time
        select
            c.parent_code, c.year, c.{{ key }},
            count(*) filter (where c.is_suppressed) as suppressed_siblings,
            count(*) filter (where c.is_suppressed and not {{ by_source }}) as suppressed_siblings_ours,
            arg_min(c.area_code, {'size': coalesce(c.denominator::double, '-infinity'::double), 'code': c.area_code})
                filter (where not c.is_suppressed) as smallest_published
        from {{ cells }} as c
        where c.parent_code is not null
        group by c.parent_code, c.year, c.{{ key }}
    ),

    -- the smallest published sibling of a lone withheld child whose parent is published
    complementary as (
        select c.smallest_published as area_code, c.year, c.{{ key }}
        from children as c
        inner join {{ cells }} as p
            on p.area_code = c.parent_code and p.year = c.year and p.{{ key }} = c.{{ key }}
        where c.smallest_published is not null and (c.suppressed_siblings = 1 or c.suppressed_siblings_ours = 1)
          and not p.is_suppressed
    ),

    -- wijken withheld under a published gemeente: those picked above, and those withheld for their own
    -- reasons. A sum withheld for its own reasons always has a withheld buurt (a small sum has a small
    -- part), but the source's own wijk figure, taken where a buurt is '.', or a partial sum withheld as
    -- incomplete, can be withheld while every buurt that has a figure is published
    withheld_wijken as (
        select * from complementary
        union
        select w.area_code, w.year, w.{{ key }}
        from {{ cells }} as w
        inner join {{ cells }} as p
            on p.area_code = w.parent_code and p.year = w.year and p.{{ key }} = w.{{ key }}
        where w.area_level = 'wijk' and w.is_suppressed and not p.is_suppressed
    ),

    -- such a wijk, none of whose buurten is withheld by us yet, loses its smallest buurt too, so that it
    -- cannot be summed from them
    complementary_buurt as (
        select c.smallest_published as area_code, c.year, c.{{ key }}
        from children as c
        inner join withheld_wijken as w
            on c.parent_code = w.area_code and c.year = w.year and c.{{ key }} = w.{{ key }}
        where c.smallest_published is not null and c.suppressed_siblings_ours = 0
    )

    select * from complementary
    union
    select * from complementary_buurt
)
{% endmacro %}
