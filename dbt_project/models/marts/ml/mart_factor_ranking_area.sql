-- Factor ranking per wijk.
-- columns and types: mart_factor_ranking.yml, shared with mart_factor_ranking (macros/ml_mart.sql)
{{ ml_mart('factor_ranking_area') }}
