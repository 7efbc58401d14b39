-- Local factor-outcome associations from the area-by-year panel (ecological, not causal).
-- columns and types: fct_association_local.yml (macros/ml_mart.sql)
{{ ml_mart('association_local') }}
