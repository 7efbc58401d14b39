-- Indicators: what each measures (a factor or a sub-goal outcome), its unit, direction, source,
-- base area level and how it aggregates (from numerator and denominator).
select
    i.indicator_id,
    i.name_nl,
    i.name_en,
    i.description,
    i.measures,
    i.factor_id,
    i.subgoal_id,
    coalesce(f.factor_type, 'outcome') as measures_type,
    s.domain_id,
    coalesce(s.domain_id, fs.domain_ids) as domain_ids,
    i.source,
    i.unit,
    i.multiplier::double as multiplier,
    i.direction,
    i.area_level as base_area_level,
    i.life_phase_id,
    case
        when i.unit = 'survey_prevalence' then 'respondent-weighted prevalence of wijk surveys'
        else 'sum of numerators / sum of denominators x ' || i.multiplier::varchar
    end as aggregation
from {{ ref('indicators') }} as i
left join {{ ref('factors') }} as f on f.factor_id = i.factor_id
left join {{ ref('subgoals') }} as s on s.subgoal_id = i.subgoal_id
left join (
    -- a factor works on sub-goals of several domains: all of them, in alphabetical order
    select l.factor_id, string_agg(distinct sg.domain_id, ',' order by sg.domain_id) as domain_ids
    from {{ ref('factor_subgoal_links') }} as l
    inner join {{ ref('subgoals') }} as sg on sg.subgoal_id = l.subgoal_id
    group by l.factor_id
) as fs on fs.factor_id = i.factor_id
