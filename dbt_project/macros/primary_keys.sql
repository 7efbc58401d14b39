{#- Primary keys of contracted tables, added after the table is committed instead of declared
    before its rows are inserted.

    dbt-duckdb builds a table with an enforced contract as ``create table (typed columns and
    constraints); insert ...``, all in the model's transaction. With the primary key declared
    there, DuckDB checks every inserted row against the growing key index and writes that index at
    commit. At national scale (benchmarks/national_run.py) that cost more than the query itself:
    fct_indicator_value 50.5 s and fct_indicator_series 36.8 s as dbt runs them; with the key
    checked in the transaction and added after the commit, 34.1 s and 14.5 s.

    So the DDL leaves the primary key out (this dispatch override of dbt's
    get_table_columns_and_constraints; every other constraint is rendered as dbt renders it), and
    dbt_project.yml runs two post-hooks: assert_primary_key, in the model's transaction, fails the
    model on a duplicate key and names it (dbt then rolls the transaction back, so the
    table stays as it was before the run); add_primary_key, after the commit, adds the key as a
    constraint (duckdb_constraints() lists it, as before). tests/marts/test_dbt_guards.py shows both. -#}
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

{#- The primary key as a constraint of the committed table, then a checkpoint: DuckDB keeps a new
    key's index in memory until the next checkpoint (383 MiB for fct_indicator_series at national
    scale, 0.9 s to write), and the models and tests after it had that much less of the build's
    memory_limit (int_factor_score and a test of fct_indicator_value ran out of it). -#}
{% macro add_primary_key() -%}
  {%- set keys = primary_keys() -%}
  {%- for columns in keys -%}
    alter table {{ this }} add primary key ({{ columns | join(', ') }});
  {%- endfor -%}
  {%- if keys %}
    checkpoint;
  {%- endif -%}
{%- endmacro %}
