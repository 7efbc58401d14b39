-- DUO education figures per wijk and school year, figures as double (see macros/staging_wide_source.sql).
{{ staging_wide_source('duo_onderwijs', 'wijkcode', ['schooljaar']) }}
