-- Factor ranking per wijk (see macros/ranking_mart.sql).
{{ ranking_mart('factor_ranking_area') }}
