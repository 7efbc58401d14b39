-- Factor ranking for the gemeente, per domain and per life phase (see macros/ranking_mart.sql).
{{ ranking_mart('factor_ranking') }}
