{#- Indicators that share a denominator, with its key (source and column, e.g.
    gemeente_registraties.levend_geborenen): their denominator values are the same, so disclosure
    control protects each denominator once (fct_indicator_value, test
    no_denominator_recoverable_by_subtraction). Survey sample sizes are left out: they differ per
    question. -#}
{% macro denominator_keys() %}
    select indicator_id, coalesce(nullif(denominator_source, ''), source) || '.' || denominator_column as denominator_key
    from {{ ref('indicators') }}
    where coalesce(denominator_column, '') <> '' and unit <> 'survey_prevalence'
{% endmacro %}
