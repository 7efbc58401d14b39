{#- What a ranked factor's impact rests on is split in three shares (local data, cited literature,
    placeholders) that are each between 0 and 1 and add up to 1; all three are null together.
    Returns the offending rows. -#}
{% test evidence_shares_add_up(model) %}
select scope_type, scope_id, area_code, factor_id,
       evidence_local, evidence_literature, evidence_placeholder
from {{ model }}
where not (
        (evidence_local is null and evidence_literature is null and evidence_placeholder is null)
     or (evidence_local between 0 and 1 and evidence_literature between 0 and 1
         and evidence_placeholder between 0 and 1
         and abs(evidence_local + evidence_literature + evidence_placeholder - 1) < 1e-9))
{% endtest %}
