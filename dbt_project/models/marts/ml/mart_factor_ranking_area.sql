-- Factor ranking per wijk.
-- columns and types: mart_factor_ranking_area.yml (macros/ml_mart.sql)
{{ ml_mart('factor_ranking_area') }}
