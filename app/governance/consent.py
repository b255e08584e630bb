"""Consent withdrawals as server state (domain.md §4): recording one (either
layer, any time after submission), lifting it, listing them, each in the audit
log. `app.governance.visibility` hides what a withdrawal in force covers.

Who may record or lift one is the permission table's `consent.record`, held
for every ayllu by site admins and managers and for their own ayllu by its
guardians (domain.md §8 q. 5 leaves open who may; until the GAIOC decides,
the people who already answer for the project's knowledge may). Tablets never
may: withdrawal is told to a person.

It never shows content, never commits (the caller owns the transaction), and
takes no Flask objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from app import audit
from app.auth import permissions
from app.auth.actors import Actor
from app.db.models import ConsentWithdrawal, Form, Submission, SubmissionVersion, User
from app.db.models.governance import CONSENT_LAYERS
from app.db.types import utcnow
from app.errors import ConflictError, InvalidInputError, NotFoundError
from app.forms import service as forms_service
from app.governance import rules
from app.governance.visibility import form_is_governed
from app.projects import service as projects_service

MAX_AYLLU = 64


class ConsentWithdrawalInvalidError(InvalidInputError):
    code = "consent_withdrawal_invalid"
    default_es = "El retiro de consentimiento no es válido."
    default_en = "The consent withdrawal is not valid."


class ConsentAlreadyWithdrawnError(ConflictError):
    code = "consent_already_withdrawn"
    default_es = "Ese consentimiento ya está retirado."
    default_en = "That consent is already withdrawn."


class ConsentAlreadyLiftedError(ConflictError):
    code = "consent_withdrawal_already_lifted"
    default_es = "Ese retiro de consentimiento ya fue levantado."
    default_en = "That consent withdrawal was already lifted."


class ConsentWithdrawalNotFoundError(NotFoundError):
    code = "consent_withdrawal_not_found"
    default_es = "No existe ese retiro de consentimiento."
    default_en = "No such consent withdrawal."


def _invalid(es: str, en: str) -> ConsentWithdrawalInvalidError:
    return ConsentWithdrawalInvalidError(es, en)


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        # §4: the audit trail says which layer withdrew, who, when and why.
        raise _invalid(
            "Indique el motivo: queda en el registro de auditoría.",
            "Give the reason: it goes into the audit trail.",
        )
    return text


def _live_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise _invalid(
            "El usuario que registra no existe.",
            "The user recording this does not exist.",
        )
    return user


@dataclass(frozen=True)
class GovernedSubmission:
    """A knowledge record found for a withdrawal: no content, only its place."""

    submission_id: int
    instance_id: str
    xml_form_id: str
    form_id: int
    ayllu: str | None


def _governed_place(
    session: Session, project_id: int, submission_id: int
) -> GovernedSubmission:
    row = session.execute(
        sa.select(Submission, Form, SubmissionVersion.field_values)
        .join(Form, Form.id == Submission.form_id)
        .join(SubmissionVersion, SubmissionVersion.id == Submission.current_version_id)
        .where(Submission.id == submission_id)
    ).first()
    if row is None or row.Form.project_id != project_id:
        raise _invalid(
            "Ese envío no existe en este proyecto.",
            "No such submission in this project.",
        )
    if not form_is_governed(session, row.Form.id):
        raise _invalid(
            "Ese formulario no registra saberes: no tiene consentimiento que retirar.",
            "That form records no knowledge: there is no consent to withdraw.",
        )
    return GovernedSubmission(
        submission_id=row.Submission.id,
        instance_id=row.Submission.instance_id,
        xml_form_id=row.Form.xml_form_id,
        form_id=row.Form.id,
        ayllu=rules.facts_from_values(row.field_values or {}).ayllu,
    )


def find_governed_submission(
    session: Session, project_id: int, xml_form_id: str, instance_id: str
) -> GovernedSubmission:
    """The knowledge record a holder asks to withdraw, by form and instanceID.

    Found whatever its visibility: a withdrawal must be recordable for a
    record its recorder cannot read (restricted, or already hidden).

    Raises:
        ConsentWithdrawalInvalidError: no such record, or its form records no
            knowledge.
    """
    found = session.scalar(
        sa.select(Submission.id)
        .join(Form, Form.id == Submission.form_id)
        .where(
            Form.project_id == project_id,
            Form.xml_form_id == xml_form_id,
            Submission.instance_id == instance_id,
        )
    )
    if found is None:
        raise _invalid(
            f"No hay un envío «{instance_id}» del formulario «{xml_form_id}» "
            "en este proyecto.",
            f"No submission '{instance_id}' of form '{xml_form_id}' in this project.",
        )
    return _governed_place(session, project_id, found)


def governed_places(session: Session, project_id: int) -> tuple[list[str], list[str]]:
    """(xml_form_ids of the project's knowledge forms, their ayllu choices):
    what a withdrawal can name."""
    forms: list[str] = []
    ayllus: dict[str, None] = {}
    for form, version in forms_service.list_forms(session, project_id):
        if not form_is_governed(session, form.id):
            continue
        forms.append(form.xml_form_id)
        field = forms_service.schema_of(version).field(rules.AYLLU_FIELD)
        if field is not None:
            ayllus.update((choice.name, None) for choice in field.choices)
    return sorted(forms), list(ayllus)


def _active(session: Session, condition: sa.ColumnElement[bool]) -> bool:
    return (
        session.scalar(
            sa.select(ConsentWithdrawal.id)
            .where(condition, ConsentWithdrawal.lifted_at.is_(None))
            .limit(1)
        )
        is not None
    )


def may_record(actor: Actor | None, project_id: int) -> bool:
    """Whether the actor may record withdrawals for at least one ayllu here
    (the console shows the consent page to these people)."""
    return bool(permissions.ayllus_where(actor, "consent.record", project_id))


def may_record_for(actor: Actor | None, project_id: int, ayllu: str | None) -> bool:
    """Whether the actor may record or lift a withdrawal covering `ayllu`
    (None: a record with no ayllu, which only admins and managers answer for)."""
    return permissions.can(
        actor, "consent.record", permissions.Ayllu(project_id, ayllu)
    )


def withdraw_consent(
    session: Session,
    actor: Actor,
    *,
    project_id: int,
    layer: str,
    reason: str,
    submission_id: int | None = None,
    ayllu: str | None = None,
) -> ConsentWithdrawal:
    """Record, as `actor`, that a consent layer was withdrawn; the records
    hide at once.

    `individual` names one submission (a knowledge holder withdrew);
    `colectivo` names an ayllu (its authorities withdrew), covering every
    governed record of that ayllu in the project. The actor needs
    `consent.record` on the ayllu concerned (for an individual withdrawal,
    the record's own).

    Raises:
        ProjectNotFoundError: no such project.
        PermissionDeniedError: the actor may not record it.
        ConsentWithdrawalInvalidError: unknown layer, wrong or missing target,
            no reason, unknown recording user.
        ConsentAlreadyWithdrawnError: the same target is already withdrawn.
    """
    projects_service.get_project(session, project_id)
    if layer not in CONSENT_LAYERS:
        raise _invalid(
            f"Capa de consentimiento desconocida: «{layer}» (individual o colectivo).",
            f"Unknown consent layer '{layer}' (individual or colectivo).",
        )
    form_id: int | None = None
    target: dict[str, Any]
    if layer == "individual":
        if submission_id is None or ayllu is not None:
            raise _invalid(
                "El retiro individual se refiere a un envío, no a un ayllu.",
                "An individual withdrawal names one submission, not an ayllu.",
            )
        place = _governed_place(session, project_id, submission_id)
        permissions.require(
            actor, "consent.record", permissions.Ayllu(project_id, place.ayllu)
        )
        form_id = place.form_id
        target = {
            "submission_id": place.submission_id,
            "instance_id": place.instance_id,
            "xml_form_id": place.xml_form_id,
        }
        duplicate = ConsentWithdrawal.submission_id == place.submission_id
    else:
        name = rules.normalise(ayllu or "")
        if submission_id is not None or not name:
            raise _invalid(
                "El retiro colectivo se refiere a un ayllu, no a un envío.",
                "A collective withdrawal names an ayllu, not a submission.",
            )
        known = governed_places(session, project_id)[1]
        if len(name) > MAX_AYLLU or (known and name not in known):
            raise _invalid(f"Ayllu desconocido: «{name}».", f"Unknown ayllu '{name}'.")
        permissions.require(
            actor, "consent.record", permissions.Ayllu(project_id, name)
        )
        ayllu = name
        target = {"ayllu": name}
        duplicate = sa.and_(
            ConsentWithdrawal.project_id == project_id,
            ConsentWithdrawal.layer == "colectivo",
            ConsentWithdrawal.ayllu == name,
        )
    text = _reason(reason)
    _live_user(session, actor.id)
    if _active(session, duplicate):
        raise ConsentAlreadyWithdrawnError()
    withdrawal = ConsentWithdrawal(
        project_id=project_id,
        form_id=form_id,
        submission_id=submission_id,
        ayllu=ayllu,
        layer=layer,
        reason=text,
        recorded_by_id=actor.id,
        created_at=utcnow(),
    )
    session.add(withdrawal)
    session.flush()
    audit.record(
        session,
        "consent.withdraw",
        by=actor,
        target_type="consent_withdrawal",
        target_id=withdrawal.id,
        project_id=project_id,
        layer=layer,
        **target,
        recorded_by_id=actor.id,
        reason=text,
    )
    session.flush()
    return withdrawal


def lift_withdrawal(
    session: Session, actor: Actor, project_id: int, withdrawal_id: int, reason: str
) -> ConsentWithdrawal:
    """Consent granted again: the withdrawal stops hiding its records. The
    actor needs the same right as to record it.

    Raises:
        ConsentWithdrawalNotFoundError: no such withdrawal in this project.
        PermissionDeniedError: the actor may not lift it.
        ConsentAlreadyLiftedError: it was lifted before.
        ConsentWithdrawalInvalidError: no reason, unknown user.
    """
    withdrawal = session.get(ConsentWithdrawal, withdrawal_id)
    if withdrawal is None or withdrawal.project_id != project_id:
        raise ConsentWithdrawalNotFoundError()
    covered = withdrawal.ayllu
    if withdrawal.submission_id is not None:
        covered = _governed_place(session, project_id, withdrawal.submission_id).ayllu
    permissions.require(actor, "consent.record", permissions.Ayllu(project_id, covered))
    if withdrawal.lifted_at is not None:
        raise ConsentAlreadyLiftedError()
    text = _reason(reason)
    _live_user(session, actor.id)
    withdrawal.lifted_at = utcnow()
    withdrawal.lifted_by_id = actor.id
    withdrawal.lift_reason = text
    audit.record(
        session,
        "consent.lift",
        by=actor,
        target_type="consent_withdrawal",
        target_id=withdrawal.id,
        project_id=withdrawal.project_id,
        layer=withdrawal.layer,
        submission_id=withdrawal.submission_id,
        ayllu=withdrawal.ayllu,
        lifted_by_id=actor.id,
        reason=text,
    )
    session.flush()
    return withdrawal


def list_withdrawals(
    session: Session, project_id: int, *, active_only: bool = False
) -> list[ConsentWithdrawal]:
    """The project's withdrawals, oldest first, lifted ones included unless
    `active_only` (the history is part of the audit trail)."""
    query = sa.select(ConsentWithdrawal).where(
        ConsentWithdrawal.project_id == project_id
    )
    if active_only:
        query = query.where(ConsentWithdrawal.lifted_at.is_(None))
    return list(
        session.scalars(
            query.order_by(ConsentWithdrawal.created_at, ConsentWithdrawal.id)
        )
    )


@dataclass(frozen=True)
class WithdrawalEntry:
    """One line of a project's consent history, as a person reads it."""

    id: int
    layer: str
    ayllu: str | None
    xml_form_id: str | None
    instance_id: str | None
    reason: str
    recorded_by: str
    created_at: Any
    lifted_at: Any
    lifted_by: str | None
    lift_reason: str | None


def withdrawal_history(
    session: Session, project_id: int, *, withdrawal_id: int | None = None
) -> list[WithdrawalEntry]:
    """Every withdrawal of the project (or only `withdrawal_id`), newest
    first, lifted ones included: who recorded it, when and why (domain.md §4,
    the audit trail). It names a record only by form and instanceID, never by
    content."""
    recorder = aliased(User)
    lifter = aliased(User)
    rows = (
        sa.select(
            ConsentWithdrawal,
            recorder.display_name,
            lifter.display_name,
            Form.xml_form_id,
            Submission.instance_id,
        )
        .join(recorder, recorder.id == ConsentWithdrawal.recorded_by_id)
        .outerjoin(lifter, lifter.id == ConsentWithdrawal.lifted_by_id)
        .outerjoin(Submission, Submission.id == ConsentWithdrawal.submission_id)
        .outerjoin(Form, Form.id == ConsentWithdrawal.form_id)
        .where(ConsentWithdrawal.project_id == project_id)
        .order_by(ConsentWithdrawal.created_at.desc(), ConsentWithdrawal.id.desc())
    )
    if withdrawal_id is not None:
        rows = rows.where(ConsentWithdrawal.id == withdrawal_id)
    return [
        WithdrawalEntry(
            id=w.id,
            layer=w.layer,
            ayllu=w.ayllu,
            xml_form_id=xml_form_id,
            instance_id=instance_id,
            reason=w.reason,
            recorded_by=recorded_by,
            created_at=w.created_at,
            lifted_at=w.lifted_at,
            lifted_by=lifted_by,
            lift_reason=w.lift_reason,
        )
        for w, recorded_by, lifted_by, xml_form_id, instance_id in session.execute(rows)
    ]
