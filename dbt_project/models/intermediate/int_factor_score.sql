-- Per area, year and factor: the standardised score of every area, also where a value is withheld
-- by disclosure control (see macros/factor_scores.sql). Internal: the statistics (models_ml) read it;
-- the published mart is fct_factor_score, which withholds those areas' scores.
{{ factor_scores(withhold=false) }}
