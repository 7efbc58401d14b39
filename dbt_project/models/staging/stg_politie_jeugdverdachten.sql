-- Police registrations per buurt and year, figures as double (see macros/staging_wide_source.sql).
{{ staging_wide_source('politie_jeugdverdachten', 'buurtcode') }}
