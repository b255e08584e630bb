"""Applying today's intake rules to what is already stored.

Ingest stores of a sacred practice, or of one without both consents, only its
minimal record (`app.governance.intake`). Records stored before a rule was
tightened (a level spelled `" Sagrado "`, content hidden inside `meta`, a
`meta/audit` file, a comment inside `<nivel_acceso>`) may still hold what may
never be kept (domain.md §4: "must not write it anywhere"). This module finds
every stored version of every governed form that is not already its own
minimal record, rewrites it as one, drops its files and says so in the audit
log, by name of question, never by content. It is idempotent: a second run
changes nothing.

The bytes of files no other record, form or workbook uses are erased from the
blob store after the caller commits (`erase_unused_blobs`), so that a
rolled-back scrub never leaves rows pointing at erased files.

Services take the session first, flush and never commit; no Flask here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import audit
from app.db.models import (
    Form,
    FormVersion,
    Submission,
    SubmissionAttachment,
    SubmissionVersion,
)
from app.forms import service as forms_service
from app.governance import intake, rules
from app.governance.visibility import form_is_governed
from app.submissions.parser import extract_values, parse_instance


@dataclass
class ScrubReport:
    versions_checked: int = 0
    versions_rewritten: int = 0
    files_dropped: int = 0
    # Blobs the dropped files pointed at: erase them once the scrub committed.
    blob_ids: set[int] = field(default_factory=set)


def scrub_stored_knowledge(session: Session) -> ScrubReport:
    """Rewrite every stored version that keeps more than its minimal record."""
    report = ScrubReport()
    forms = session.scalars(sa.select(Form).order_by(Form.id)).all()
    for form in forms:
        if not form_is_governed(session, form.id):
            continue
        versions = session.execute(
            sa.select(SubmissionVersion, FormVersion)
            .join(FormVersion, FormVersion.id == SubmissionVersion.form_version_id)
            .where(SubmissionVersion.form_id == form.id)
            .order_by(SubmissionVersion.id)
        ).all()
        for version, form_version in versions:
            report.versions_checked += 1
            _scrub(session, version, form_version, report)
    session.flush()
    return report


def _scrub(
    session: Session,
    version: SubmissionVersion,
    form_version: FormVersion,
    report: ScrubReport,
) -> None:
    schema = forms_service.schema_of(form_version)
    _info, root = parse_instance(version.xml)
    facts = intake.facts_from_instance(root, schema)
    if facts.content_allowed:
        return
    minimal = intake.minimal_record(root, schema, facts)
    files = session.execute(
        sa.select(SubmissionAttachment.id, SubmissionAttachment.blob_id).where(
            SubmissionAttachment.submission_version_id == version.id
        )
    ).all()
    if minimal.xml == version.xml and not files:
        return  # already its own minimal record
    _info, rebuilt = parse_instance(minimal.xml)
    values = extract_values(rebuilt, schema)
    rules.stamp_facts(values, facts)
    version.xml = minimal.xml
    version.xml_sha256 = hashlib.sha256(minimal.xml).hexdigest()
    version.field_values = values
    version.instance_name = None
    if version.current:
        session.execute(
            sa.update(Submission)
            .where(Submission.id == version.submission_id)
            .values(instance_name=None)
        )
    if files:
        session.execute(
            sa.delete(SubmissionAttachment).where(
                SubmissionAttachment.id.in_([file_id for file_id, _blob in files])
            )
        )
    report.versions_rewritten += 1
    report.files_dropped += len(files)
    report.blob_ids.update(blob for _id, blob in files if blob is not None)
    audit.record(
        session,
        "submission.content_dropped",
        target_type="submission",
        target_id=version.submission_id,
        instance_id=version.instance_id,
        reason="sagrado" if facts.level == "sagrado" else "consent",
        fields=list(minimal.dropped_fields),
        other=minimal.dropped_other,
        files=len(files),
        stored_before=True,
    )
