"""Knowledge governance, the service every surface goes through (design.md
"Knowledge governance", domain.md §4).

It owns two things. Consent withdrawals as server state: recording one (either
layer, any time after submission), lifting it, listing them, each in the audit
log. And the decision of what a viewer may see of a record: a
`GovernanceContext` is loaded once per export, page or aggregate (withdrawals
in force, the viewer's membership and guardianships) and then applied, without
further queries, to every record streamed; the rule table itself is
`app.governance.rules.visibility`. Surfaces must not decide on their own: they
call `ctx.apply(record, governed)` and show what it returns.

It never shows or writes content itself, never commits (the caller owns the
transaction), and takes no Flask objects.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from app.auth.actors import Actor
from app.db.models import (
    AuditLog,
    ConsentWithdrawal,
    Form,
    FormVersion,
    Submission,
    SubmissionVersion,
    User,
)
from app.db.models.governance import CONSENT_LAYERS
from app.db.types import utcnow
from app.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from app.exports.records import ExportRecord
from app.forms import service as forms_service
from app.governance import rules
from app.governance.rules import Visibility
from app.projects import service as projects_service

__all__ = [
    "ConsentAlreadyLiftedError",
    "ConsentAlreadyWithdrawnError",
    "ConsentPermissionError",
    "ConsentWithdrawalInvalidError",
    "ConsentWithdrawalNotFoundError",
    "GovernanceContext",
    "Viewer",
    "Visibility",
    "can_govern_consent",
    "find_governed_submission",
    "governance_context",
    "governed_places",
    "lift_withdrawal",
    "lift_withdrawal_as",
    "list_withdrawals",
    "may_change_consent",
    "withdraw_consent",
    "withdraw_consent_as",
    "withdrawal_history",
]

MAX_AYLLU = 64


# Errors live here rather than in a governance/errors.py: this service is their
# only raiser, and they are re-exported for the edges through this module.
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


class ConsentPermissionError(PermissionDeniedError):
    code = "consent_permission_denied"
    default_es = (
        "Solo la administración del sitio, quien gestiona el proyecto o quien "
        "custodia ese ayllu puede registrar o levantar un retiro de consentimiento."
    )
    default_en = (
        "Only a site admin, a project manager or the guardian of that ayllu may "
        "record or lift a consent withdrawal."
    )


class ConsentWithdrawalNotFoundError(NotFoundError):
    code = "consent_withdrawal_not_found"
    default_es = "No existe ese retiro de consentimiento."
    default_en = "No such consent withdrawal."


# --- Who is looking ----------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """Who a page, export or aggregate is for: an actor (None = anonymous) in
    the project whose records are shown."""

    actor: Actor | None
    project_id: int

    @property
    def is_member(self) -> bool:
        """A signed-in user with a role in this project, or a site admin.

        App users (tablets) submit; they are never viewers of exports or
        figures, so they count as outsiders here.
        """
        actor = self.actor
        if actor is None or actor.kind != "user":
            return False
        return actor.site_admin or any(
            pid == self.project_id for _role, pid, _ayllu in actor.roles
        )

    @property
    def guardian_ayllus(self) -> frozenset[str]:
        """Ayllus whose restricted knowledge this viewer keeps in the project.

        Only explicit guardian grants: site admin does not imply them (§4).
        """
        actor = self.actor
        if actor is None or actor.kind != "user":
            return frozenset()
        return frozenset(actor.guardian_ayllus(self.project_id))


# --- The decision, loaded once and applied per record -------------------------------


@dataclass(frozen=True)
class GovernanceContext:
    project_id: int
    form_id: int | None
    member: bool
    guardian_ayllus: frozenset[str]
    withdrawn_submissions: frozenset[int]
    withdrawn_ayllus: frozenset[str]

    def decide(
        self, schema_is_governed: bool, values: dict[str, Any], submission_id: int
    ) -> Visibility:
        """What this viewer may see of one record (pure: no query)."""
        ayllu = rules.record_ayllu(values)
        withdrawn = submission_id in self.withdrawn_submissions or (
            ayllu is not None and ayllu in self.withdrawn_ayllus
        )
        return rules.visibility(
            governed=schema_is_governed,
            member=self.member,
            level=rules.access_level(values),
            consented=rules.consent_granted(values),
            withdrawn=withdrawn,
            guardian=ayllu is not None and ayllu in self.guardian_ayllus,
        )

    def apply(self, record: ExportRecord, governed: bool) -> ExportRecord | None:
        """The record as this viewer may have it; None leaves it out entirely.

        COUNT_ONLY keeps only `rules.COUNT_FIELDS` and no attachments, with
        `content_hidden` set, so a writer or an aggregate can count it but has
        nothing else to show.
        """
        decision = self.decide(governed, record.values, record.submission_id)
        if decision is Visibility.HIDDEN:
            return None
        if not governed:
            return record
        level = rules.access_level(record.values)
        if decision is Visibility.COUNT_ONLY:
            return dataclasses.replace(
                record,
                values=rules.count_values(record.values),
                attachments={},
                content_hidden=True,
                access_level=level,
                access_conditions=None,
            )
        return dataclasses.replace(
            record,
            content_hidden=False,
            access_level=level,
            access_conditions=rules.access_conditions(record.values),
        )


def governance_context(
    session: Session, project_id: int, form_id: int | None, viewer: Viewer
) -> GovernanceContext:
    """Load, once, what the rules need beyond the record itself.

    `form_id` narrows individual withdrawals to one form's records (None: the
    whole project); collective withdrawals always cover the whole project.
    """
    active = sa.select(
        ConsentWithdrawal.layer,
        ConsentWithdrawal.submission_id,
        ConsentWithdrawal.ayllu,
    ).where(
        ConsentWithdrawal.project_id == project_id,
        ConsentWithdrawal.lifted_at.is_(None),
    )
    if form_id is not None:
        active = active.where(
            sa.or_(
                ConsentWithdrawal.form_id.is_(None),
                ConsentWithdrawal.form_id == form_id,
            )
        )
    submissions: set[int] = set()
    ayllus: set[str] = set()
    for layer, submission_id, ayllu in session.execute(active):
        if layer == "individual" and submission_id is not None:
            submissions.add(submission_id)
        elif layer == "colectivo" and ayllu:
            ayllus.add(ayllu)
    same_project = viewer.project_id == project_id
    return GovernanceContext(
        project_id=project_id,
        form_id=form_id,
        member=same_project and viewer.is_member,
        guardian_ayllus=viewer.guardian_ayllus if same_project else frozenset(),
        withdrawn_submissions=frozenset(submissions),
        withdrawn_ayllus=frozenset(ayllus),
    )


# --- Consent withdrawal ---------------------------------------------------------------


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


def _governed_submission(
    session: Session, project_id: int, submission_id: int
) -> tuple[Submission, Form]:
    row = session.execute(
        sa.select(Submission, Form, FormVersion)
        .join(Form, Form.id == Submission.form_id)
        .join(SubmissionVersion, SubmissionVersion.id == Submission.current_version_id)
        .join(FormVersion, FormVersion.id == SubmissionVersion.form_version_id)
        .where(Submission.id == submission_id)
    ).first()
    if row is None or row.Form.project_id != project_id:
        raise _invalid(
            "Ese envío no existe en este proyecto.",
            "No such submission in this project.",
        )
    if not rules.is_governed(forms_service.schema_of(row.FormVersion)):
        raise _invalid(
            "Ese formulario no registra saberes: no tiene consentimiento que retirar.",
            "That form records no knowledge: there is no consent to withdraw.",
        )
    return row.Submission, row.Form


def _known_ayllus(session: Session, project_id: int) -> set[str]:
    """The ayllu choices of the project's governed forms (empty: none known)."""
    versions = session.scalars(
        sa.select(FormVersion)
        .join(Form, Form.current_version_id == FormVersion.id)
        .where(Form.project_id == project_id, Form.deleted_at.is_(None))
    )
    known: set[str] = set()
    for version in versions:
        schema = forms_service.schema_of(version)
        field = schema.field("ayllu")
        if rules.is_governed(schema) and field is not None:
            known.update(choice.name for choice in field.choices)
    return known


def _active(session: Session, condition: sa.ColumnElement[bool]) -> bool:
    return (
        session.scalar(
            sa.select(ConsentWithdrawal.id)
            .where(condition, ConsentWithdrawal.lifted_at.is_(None))
            .limit(1)
        )
        is not None
    )


def withdraw_consent(
    session: Session,
    *,
    project_id: int,
    layer: str,
    recorded_by_id: int,
    reason: str,
    submission_id: int | None = None,
    ayllu: str | None = None,
) -> ConsentWithdrawal:
    """Record that a consent layer was withdrawn; the records hide at once.

    `individual` names one submission (a knowledge holder withdrew);
    `colectivo` names an ayllu (its authorities withdrew), covering every
    governed record of that ayllu in the project.

    Raises:
        ProjectNotFoundError: no such project.
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
    text = _reason(reason)
    _live_user(session, recorded_by_id)
    form_id: int | None = None
    target: dict[str, Any]
    if layer == "individual":
        if submission_id is None or ayllu is not None:
            raise _invalid(
                "El retiro individual se refiere a un envío, no a un ayllu.",
                "An individual withdrawal names one submission, not an ayllu.",
            )
        submission, form = _governed_submission(session, project_id, submission_id)
        form_id = form.id
        target = {
            "submission_id": submission.id,
            "instance_id": submission.instance_id,
            "xml_form_id": form.xml_form_id,
        }
        duplicate = ConsentWithdrawal.submission_id == submission.id
    else:
        name = (ayllu or "").strip()
        if submission_id is not None or not name:
            raise _invalid(
                "El retiro colectivo se refiere a un ayllu, no a un envío.",
                "A collective withdrawal names an ayllu, not a submission.",
            )
        known = _known_ayllus(session, project_id)
        if len(name) > MAX_AYLLU or (known and name not in known):
            raise _invalid(
                f"Ayllu desconocido: «{name}».",
                f"Unknown ayllu '{name}'.",
            )
        ayllu = name
        target = {"ayllu": name}
        duplicate = sa.and_(
            ConsentWithdrawal.project_id == project_id,
            ConsentWithdrawal.layer == "colectivo",
            ConsentWithdrawal.ayllu == name,
        )
    if _active(session, duplicate):
        raise ConsentAlreadyWithdrawnError()
    withdrawal = ConsentWithdrawal(
        project_id=project_id,
        form_id=form_id,
        submission_id=submission_id,
        ayllu=ayllu,
        layer=layer,
        reason=text,
        recorded_by_id=recorded_by_id,
        created_at=utcnow(),
    )
    session.add(withdrawal)
    session.flush()
    session.add(
        AuditLog(
            action="consent.withdraw",
            actor_user_id=recorded_by_id,
            target_type="consent_withdrawal",
            target_id=str(withdrawal.id),
            details={
                "project_id": project_id,
                "layer": layer,
                **target,
                "recorded_by_id": recorded_by_id,
                "reason": text,
            },
        )
    )
    session.flush()
    return withdrawal


def lift_withdrawal(
    session: Session, withdrawal_id: int, *, by_user_id: int, reason: str
) -> ConsentWithdrawal:
    """Consent granted again: the withdrawal stops hiding its records.

    Raises:
        ConsentWithdrawalNotFoundError: no such withdrawal.
        ConsentAlreadyLiftedError: it was lifted before.
        ConsentWithdrawalInvalidError: no reason, unknown user.
    """
    withdrawal = session.get(ConsentWithdrawal, withdrawal_id)
    if withdrawal is None:
        raise ConsentWithdrawalNotFoundError()
    if withdrawal.lifted_at is not None:
        raise ConsentAlreadyLiftedError()
    text = _reason(reason)
    _live_user(session, by_user_id)
    withdrawal.lifted_at = utcnow()
    withdrawal.lifted_by_id = by_user_id
    withdrawal.lift_reason = text
    session.add(
        AuditLog(
            action="consent.lift",
            actor_user_id=by_user_id,
            target_type="consent_withdrawal",
            target_id=str(withdrawal.id),
            details={
                "project_id": withdrawal.project_id,
                "layer": withdrawal.layer,
                "submission_id": withdrawal.submission_id,
                "ayllu": withdrawal.ayllu,
                "lifted_by_id": by_user_id,
                "reason": text,
            },
        )
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


# --- Who may record a withdrawal -----------------------------------------------------
#
# domain.md §8 (q. 5) leaves open who may withdraw collective consent; until the
# GAIOC decides, the people who already answer for the project's knowledge may
# record it: site admins, the project's managers, and the guardian of the ayllu
# concerned. Tablets (app users) never may: withdrawal is told to a person.


def can_govern_consent(actor: Actor | None, project_id: int) -> bool:
    """Whether the actor may record withdrawals for at least one ayllu here
    (the console shows the consent page to these people)."""
    if actor is None or actor.kind != "user":
        return False
    return (
        actor.site_admin
        or actor.has_project_role(project_id, "manager")
        or bool(actor.guardian_ayllus(project_id))
    )


def may_change_consent(actor: Actor | None, project_id: int, ayllu: str | None) -> bool:
    """Whether the actor may record or lift a withdrawal covering `ayllu`
    (None: a record with no ayllu, which only admins and managers answer for)."""
    if actor is None or actor.kind != "user":
        return False
    if actor.site_admin or actor.has_project_role(project_id, "manager"):
        return True
    return ayllu is not None and ayllu in actor.guardian_ayllus(project_id)


@dataclass(frozen=True)
class GovernedSubmission:
    """A knowledge record found for a withdrawal: no content, only its place."""

    submission_id: int
    instance_id: str
    xml_form_id: str
    ayllu: str | None


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
    row = session.execute(
        sa.select(Submission.id)
        .join(Form, Form.id == Submission.form_id)
        .where(
            Form.project_id == project_id,
            Form.xml_form_id == xml_form_id,
            Submission.instance_id == instance_id,
        )
    ).first()
    if row is None:
        raise _invalid(
            f"No hay un envío «{instance_id}» del formulario «{xml_form_id}» "
            "en este proyecto.",
            f"No submission '{instance_id}' of form '{xml_form_id}' in this project.",
        )
    return _governed_place(session, project_id, row.id)


def _governed_place(
    session: Session, project_id: int, submission_id: int
) -> GovernedSubmission:
    submission, form = _governed_submission(session, project_id, submission_id)
    values = session.scalar(
        sa.select(SubmissionVersion.field_values).where(
            SubmissionVersion.id == submission.current_version_id
        )
    )
    return GovernedSubmission(
        submission_id=submission.id,
        instance_id=submission.instance_id,
        xml_form_id=form.xml_form_id,
        ayllu=rules.record_ayllu(values or {}),
    )


def _require_consent_rights(actor: Actor, project_id: int, ayllu: str | None) -> None:
    if not may_change_consent(actor, project_id, ayllu):
        raise ConsentPermissionError()


def withdraw_consent_as(
    session: Session,
    actor: Actor,
    *,
    project_id: int,
    layer: str,
    reason: str,
    submission_id: int | None = None,
    ayllu: str | None = None,
) -> ConsentWithdrawal:
    """`withdraw_consent`, recorded by `actor` once their right is checked
    (the record's own ayllu decides for an individual withdrawal).

    Raises: ConsentPermissionError, and whatever `withdraw_consent` raises.
    """
    covered = ayllu
    if layer == "individual" and submission_id is not None:
        covered = _governed_place(session, project_id, submission_id).ayllu
    _require_consent_rights(actor, project_id, covered)
    return withdraw_consent(
        session,
        project_id=project_id,
        layer=layer,
        recorded_by_id=actor.id,
        reason=reason,
        submission_id=submission_id,
        ayllu=ayllu,
    )


def lift_withdrawal_as(
    session: Session, actor: Actor, project_id: int, withdrawal_id: int, reason: str
) -> ConsentWithdrawal:
    """`lift_withdrawal` by `actor`, for a withdrawal of this project.

    Raises: ConsentWithdrawalNotFoundError, ConsentPermissionError, and
    whatever `lift_withdrawal` raises.
    """
    withdrawal = session.get(ConsentWithdrawal, withdrawal_id)
    if withdrawal is None or withdrawal.project_id != project_id:
        raise ConsentWithdrawalNotFoundError()
    covered = withdrawal.ayllu
    if withdrawal.submission_id is not None:
        covered = _governed_place(session, project_id, withdrawal.submission_id).ayllu
    _require_consent_rights(actor, project_id, covered)
    return lift_withdrawal(session, withdrawal_id, by_user_id=actor.id, reason=reason)


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


def withdrawal_history(session: Session, project_id: int) -> list[WithdrawalEntry]:
    """Every withdrawal of the project, newest first, lifted ones included:
    who recorded it, when and why (domain.md §4, the audit trail). It names a
    record only by form and instanceID, never by content."""
    recorder = aliased(User)
    lifter = aliased(User)
    rows = session.execute(
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
        for w, recorded_by, lifted_by, xml_form_id, instance_id in rows
    ]


def governed_places(session: Session, project_id: int) -> tuple[list[str], list[str]]:
    """(xml_form_ids of the project's knowledge forms, their ayllu choices):
    what a withdrawal can name."""
    versions = session.scalars(
        sa.select(FormVersion)
        .join(Form, Form.current_version_id == FormVersion.id)
        .where(Form.project_id == project_id, Form.deleted_at.is_(None))
        .order_by(Form.xml_form_id)
    )
    forms: list[str] = []
    ayllus: dict[str, None] = {}
    for version in versions:
        schema = forms_service.schema_of(version)
        if not rules.is_governed(schema):
            continue
        forms.append(schema.xml_form_id)
        field = schema.field("ayllu")
        if field is not None:
            ayllus.update((choice.name, None) for choice in field.choices)
    return forms, list(ayllus)
