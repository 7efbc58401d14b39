-- Factor ranking for the gemeente, per domain and per life phase.
-- columns and types: mart_factor_ranking.yml (macros/ml_mart.sql)
{{ ml_mart('factor_ranking') }}
