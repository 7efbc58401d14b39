{#- 95% intervals of a published value from its counts, for units the source gives no interval for.
    Percentages: the Wilson score interval of numerator / denominator (stays within 0-100 and is not
    empty at 0 or 100 %, where the normal approximation of the standard error is). Rates per 1,000 and
    counts: the square-root (variance-stabilised) Poisson interval, lower (sqrt(x) - z/2)^2, upper
    (sqrt(x + 1) + z/2)^2 (3.92 at x = 0, against the exact 3.69), divided by the denominator. -#}
{% macro wilson_bound(numerator, denominator, multiplier, sign) -%}
    {%- set p = '(' ~ numerator ~ ' / ' ~ denominator ~ ')' -%}
    {{ multiplier }} * (({{ p }} + 1.96 ^ 2 / (2 * {{ denominator }}))
        {{ sign }} 1.96 * sqrt(greatest({{ p }} * (1 - {{ p }}), 0) / {{ denominator }} + 1.96 ^ 2 / (4 * {{ denominator }} ^ 2)))
        / (1 + 1.96 ^ 2 / {{ denominator }})
{%- endmacro %}

{% macro poisson_lower(numerator, denominator, multiplier) -%}
    {{ multiplier }} * greatest(sqrt({{ numerator }}) - 1.96 / 2, 0) ^ 2 / {{ denominator }}
{%- endmacro %}

{% macro poisson_upper(numerator, denominator, multiplier) -%}
    {{ multiplier }} * (sqrt({{ numerator }} + 1) + 1.96 / 2) ^ 2 / {{ denominator }}
{%- endmacro %}
