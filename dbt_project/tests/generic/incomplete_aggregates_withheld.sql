{#- An aggregate summed from fewer child areas than its sources deliver is never published as if
    complete: is_complete agrees with the child counts (present never more than expected), and a
    row with is_complete false is withheld with suppression_reason 'incomplete'. Returns the
    offending rows. -#}
{% test incomplete_aggregates_withheld(model) %}
select area_code, year, indicator_id, children_expected, children_present, is_complete, is_suppressed, suppression_reason
from {{ model }}
where children_present > children_expected
   or is_complete <> coalesce(children_present >= children_expected, true)
   or (not is_complete and (not is_suppressed or suppression_reason is distinct from 'incomplete' or value is not null))
{% endtest %}
