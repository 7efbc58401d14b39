{#- Disclosure control reaches the ranking: a wijk's room for improvement (and so its impact, which
    is that gap times effects shared by every wijk) is published only where fct_factor_score
    publishes the wijk's score in the year the ranking reads (score_year: the factor's newest year
    with published wijk scores in the wijk's gemeente, ranking-1.6.1); else the gap would give a withheld score, and
    through it a small cell, back. Returns the offending ranking rows. A generic test declared in
    the ML marts' YAML, so that it runs with them (dbt's path selection of the ML marts' step) and
    never in the step that builds fct_factor_score before the ranking exists. -#}
{% test ranking_withholds_what_scores_withhold(model) %}
select r.area_code, r.factor_id, r.score_year, r.room_for_improvement, r.impact
from {{ model }} as r
where r.scope_type = 'wijk'
  and (r.room_for_improvement is not null or r.impact is not null)
  and not exists (
      select 1 from {{ ref('fct_factor_score') }} as p
      where p.area_code = r.area_code and p.factor_id = r.factor_id and p.year = r.score_year
  )
{% endtest %}
