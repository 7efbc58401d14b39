-- Per area, year and factor: the published standardised score (see macros/factor_scores.sql).
-- Disclosure control: an area's z of an indicator whose value fct_indicator_value withholds (small
-- cell or complementary suppression) is left out, so that no score gives a withheld value back;
-- an area without any other indicator of the factor has no score that year. No counts are
-- published here. The statistics read the unwithheld scores of int_factor_score.
{{ factor_scores(withhold=true) }}
