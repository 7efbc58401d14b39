{#- Each period's newest measurement, for reports that show every series in one year although the
    sources measure in different years (the GGD's youth and adult surveys alternate): every row of
    ``measured`` (with a ``year`` column) joined to the periods of ``periods`` (a column
    ``period_column``, and ``match_column`` shared with ``measured``) that it may stand for, that is
    measured in the period's year or less than var('report_max_age_years') (default 4) years before,
    numbered by ``recency`` per period and ``keys`` (1 = the newest). Keep ``recency = 1``.
    Used by mart_staat_van_de_jeugd_report and mart_wijk_profile. -#}
{% macro newest_measurement(periods, period_column, measured, match_column, keys) %}
    select
        p.{{ period_column }},
        m.*,
        row_number() over (
            partition by {% for k in keys %}m.{{ k }}, {% endfor %}p.{{ period_column }} order by m.year desc
        ) as recency
    from {{ periods }} as p
    inner join {{ measured }} as m
        on m.{{ match_column }} = p.{{ match_column }}
        and m.year <= p.{{ period_column }}
        and m.year > p.{{ period_column }} - {{ var('report_max_age_years', 4) }}
{% endmacro %}
