"""Knowledge governance (domain.md §4): the one place that decides what of a
record may be stored, shown or exported.

`rules` (pure) holds the facts of a record and the rule table; `intake` (pure)
what ingest may store and whether an edit opens a record up; `records` the
record type every reader gets; `query` the SQL that reads submissions;
`visibility` the one governed read every surface uses; `consent` the consent
withdrawals kept as server state.
"""
