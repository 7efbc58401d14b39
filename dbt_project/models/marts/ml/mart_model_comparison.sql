-- Every model's cross-validated error per outcome (areas held out), beside the default.
-- columns and types: mart_model_comparison.yml (macros/ml_mart.sql)
{{ ml_mart('model_comparison') }}
