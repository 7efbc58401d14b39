-- Literature effects are oriented: positive d = the factor WORSENS the sub-goal. The sign must
-- agree with the link's effect_direction (worsens -> d > 0, improves -> d < 0), the interval
-- must contain the estimate, and a carried-over figure must equal the source's d (sign flipped
-- only when sign_flipped). Returns the offending rows.
select w.link_id, l.effect_direction, w.effect_size_d, w.ci_lower_d, w.ci_upper_d, w.sign_flipped
from {{ ref('literature_weights') }} as w
inner join {{ ref('factor_subgoal_links') }} as l on l.link_id = w.link_id
where (l.effect_direction = 'worsens' and w.effect_size_d <= 0)
   or (l.effect_direction = 'improves' and w.effect_size_d >= 0)
   or not (w.ci_lower_d < w.effect_size_d and w.effect_size_d < w.ci_upper_d)
   or (not w.is_placeholder and (
          abs(w.effect_size_d - (case when w.sign_flipped then -1 else 1 end) * w.source_smd_approx) > 0.0005
       or abs(w.se_d - w.source_se_smd) > 0.0005))
