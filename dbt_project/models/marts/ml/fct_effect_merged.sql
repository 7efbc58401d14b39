-- Merged effect per factor -> sub-goal link on Cohen's d (positive = the factor makes the sub-goal worse).
-- columns and types: fct_effect_merged.yml (macros/ml_mart.sql)
{{ ml_mart('effect_merged') }}
