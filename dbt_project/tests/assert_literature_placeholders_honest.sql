-- Never present an invented number as literature:
-- * a placeholder has no citation, DOI, URL or source row, match_quality 'none' and grade 'placeholder',
--   and a standard error of at least 0.5: it is a weakly informative prior (the link's sign, a
--   'small' size) that the local data outweigh, not evidence (with 0.15 it weighed about 3 times
--   as much as a typical local estimate in the merge);
-- * a real (non-placeholder) figure has a citation, a source row, a DOI or URL, a positive
--   standard error and a real grade (A-D or 'ungraded').
-- Returns the offending rows with the reason.
select link_id, 'placeholder with a citation or source' as reason
from {{ ref('literature_weights') }}
where is_placeholder
  and (citation is not null or doi is not null or url is not null or source_row is not null
       or match_quality <> 'none' or evidence_grade <> 'placeholder')
union all
select link_id, 'placeholder with a standard error below 0.5 (too precise for an invented figure)' as reason
from {{ ref('literature_weights') }}
where is_placeholder and (se_d is null or se_d < 0.5)
union all
select link_id, 'literature figure without citation, source row or standard error' as reason
from {{ ref('literature_weights') }}
where not is_placeholder
  and (citation is null or source_row is null or coalesce(doi, url) is null
       or se_d is null or se_d <= 0
       or source_smd_approx is null or source_se_smd is null
       or match_quality = 'none' or evidence_grade = 'placeholder')
