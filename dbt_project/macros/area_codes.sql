{#- Area codes as CBS writes them: GM0599 (gemeente), WK059901 (wijk), BU05990101 (buurt).
    CBS pads codes with spaces to 10 characters; staging trims them. -#}

{% macro area_level(code) -%}
    case left({{ code }}, 2) when 'GM' then 'gemeente' when 'WK' then 'wijk' when 'BU' then 'buurt' end
{%- endmacro %}

{% macro gemeente_of(code) -%}
    'GM' || substr({{ code }}, 3, 4)
{%- endmacro %}

{% macro wijk_of(code) -%}
    case when left({{ code }}, 2) in ('WK', 'BU') then 'WK' || substr({{ code }}, 3, 6) end
{%- endmacro %}

{#- The order of the levels, finest first: buurt 1, wijk 2, gemeente 3. -#}
{% macro level_rank(level) -%}
    case {{ level }} when 'buurt' then 1 when 'wijk' then 2 when 'gemeente' then 3 end
{%- endmacro %}

{#- The area a buurt's or wijk's figure adds up to: the wijk of a buurt, the gemeente of a wijk;
    null for a gemeente. -#}
{% macro parent_of(level, code) -%}
    case {{ level }} when 'buurt' then {{ wijk_of(code) }} when 'wijk' then {{ gemeente_of(code) }} end
{%- endmacro %}
