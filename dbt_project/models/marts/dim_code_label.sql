-- Dutch labels of the codes the published marts carry (seeds/factor_model/code_labels.csv), one row
-- per code set and code: join a mart column to it on code_set and code to show a policy adviser
-- 'Hoger is slechter' instead of higher_is_worse. The data test code_has_label on each labelled mart
-- column fails when a code occurs there that has no row here.
select
    code_set,
    code,
    sort_order::integer as sort_order,
    label_nl,
    description_nl
from {{ ref('code_labels') }}
