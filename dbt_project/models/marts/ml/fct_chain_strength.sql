-- Strength of every factor -> factor link, locally estimated or a weak prior.
-- columns and types: fct_chain_strength.yml (macros/ml_mart.sql)
{{ ml_mart('chain_strength') }}
