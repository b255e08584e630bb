"""ODK Central's OData v4 feed of each form, as a reader beside the exports.

`service` answers the service document, the metadata document (`edmx`) and
the data documents: the `Submissions` table, each repeat's table and one
submission with its repeats, shaped as Central writes them (`rows`), paged
with Central's `$skiptoken`s (`options`), filtered with its `$filter`
subset (`filter`). Every row comes from governance's one read
(`app.governance.visibility`): a record the viewer may not read in full is
neither listed nor counted. No Flask here; `app.api.views.odata` is the edge.
"""
