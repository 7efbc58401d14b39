-- Every row the sources give for each indicator and year, at the indicator's base level and every
-- coarser one, with numerator, denominator and value (the third derived from the two given),
-- and rows that have only the denominator (is_indicator_row false). int_indicator_base takes the
-- finest level of these; the others are read for two things: which child areas of a sum the source
-- reports without this figure (CBS's '.' for small buurten; int_aggregate_completeness), and the
-- source's own figure for a wijk or gemeente whose sum would leave those out (int_indicator_value).
{{ indicator_rows() }}
