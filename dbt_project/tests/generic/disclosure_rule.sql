{#- Disclosure control: no published (unsuppressed) value is based on fewer than min_persons
    persons, no published count of persons lies between 1 and min_persons - 1 (nor, for a percentage,
    the persons it leaves out), and a suppressed
    row shows no value and no counts. Returns the offending rows. -#}
{% test disclosure_rule(model) %}
{% set min_persons = var('min_persons') %}
select area_code, year, indicator_id, numerator, denominator
from {{ model }} as m
where not is_suppressed
  and (
      denominator is null
      or denominator < {{ min_persons }}
      or (
          numerator > 0 and numerator < {{ min_persons }}
          and indicator_id in (
              select indicator_id from {{ ref('indicators') }} where unit in ('percentage', 'rate_per_1000', 'count')
          )
      )
      or (
          denominator - numerator > 0 and denominator - numerator < {{ min_persons }}
          and indicator_id in (select indicator_id from {{ ref('indicators') }} where unit = 'percentage')
      )
  )
union all
select area_code, year, indicator_id, numerator, denominator
from {{ model }}
where is_suppressed and (value is not null or numerator is not null or denominator is not null)
{% endtest %}
