{#- Primary keys of contracted tables: enforced by an assertion in the model's transaction, not by
    an index.

    dbt-duckdb builds a table with an enforced contract as ``create table (typed columns and
    constraints); insert ...``, all in the model's transaction. With the primary key declared
    there, DuckDB checks every inserted row against the growing key index and writes that index at
    commit. At national scale (benchmarks/national_run.py) that cost more than the query itself:
    fct_indicator_value 50.5 s and fct_indicator_series 36.8 s as dbt runs them.

    So the DDL leaves the primary key out (this dispatch override of dbt's
    get_table_columns_and_constraints; every other constraint, the not-null keys included, is
    rendered as dbt renders it), and dbt_project.yml runs assert_primary_key as a post-hook in the
    model's transaction: it fails the model on a repeated key and names it, and dbt rolls the
    transaction back, so the table stays as it was before the run (tests/marts/test_dbt_guards.py).
    The key is declared in the contract (dbt docs show it) and held by this assertion, by the
    unique_key data tests and by the Great Expectations suites.

    No index of the key is kept. Adding it after the commit (``alter table ... add primary key``,
    until 2026-11-27) cost 14 s of every national build (fct_indicator_value 5.6 s,
    fct_indicator_series 5.9 s, fct_factor_score 1.7 s, plus a checkpoint each to free the index's
    memory, which DuckDB held until then: 383 MiB for fct_indicator_series), while nothing used it:
    the marts are rebuilt whole by every run and written by nothing else, and the serving copy that
    BI tools read never had the index (it copies the rows). -#}
{% macro duckdb__get_table_columns_and_constraints() -%}
  {%- set other_constraints = model['constraints'] | rejectattr('type', 'equalto', 'primary_key') | list -%}
  {%- set raw_column_constraints = adapter.render_raw_columns_constraints(raw_columns=model['columns']) -%}
  {%- set raw_model_constraints = adapter.render_raw_model_constraints(raw_constraints=other_constraints) -%}
  (
    {% for c in raw_column_constraints -%}
      {{ c }}{{ "," if not loop.last or raw_model_constraints }}
    {% endfor %}
    {% for c in raw_model_constraints -%}
      {{ c }}{{ "," if not loop.last }}
    {% endfor -%}
  )
{%- endmacro %}

{#- The primary key columns of the model being built: a list per primary key constraint of an
    enforced contract (none for other models). -#}
{% macro primary_keys() -%}
  {%- set keys = [] -%}
  {%- if config.get('contract').enforced and config.get('materialized') == 'table' -%}
    {%- for pk in model['constraints'] | selectattr('type', 'equalto', 'primary_key') -%}
      {%- do keys.append(pk['columns']) -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return(keys) }}
{%- endmacro %}

{#- Fails (DuckDB's error()) on the first key value that occurs more than once, naming the table,
    the key and the value. An empty key part is refused by the key columns' not-null constraints
    (every mart declares them: tests/marts/test_docs.py). -#}
{% macro assert_primary_key() -%}
  {%- for columns in primary_keys() -%}
    select error('{{ this }}: the primary key (' || '{{ columns | join(", ") }}' || ') = ('
                 || concat_ws(', ', {% for c in columns %}{{ c }}::varchar{{ ", " if not loop.last }}{% endfor %})
                 || ') occurs ' || n || ' times')
    from (
        select {{ columns | join(', ') }}, count(*) as n
        from {{ this }}
        group by all
        having count(*) > 1
        limit 1
    );
  {%- endfor -%}
{%- endmacro %}
