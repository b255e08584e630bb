"""`/v1/projects/<pid>/consent/withdrawals`: consent withdrawals over the API,
Ayni's addition beside Central's resources (domain.md §4).

The same service as the console's consent page decides who may record or
lift a withdrawal (`consent.record` on the ayllu concerned) and hides the
records at once; these views only read the request. The history is open to
whoever may record a withdrawal in the project, as in the console.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from app.api.common import json_body
from app.api.openapi import operation
from app.api.schemas.consent import (
    WithdrawalCreateSchema,
    WithdrawalLiftSchema,
    WithdrawalSchema,
)
from app.auth.actors import Actor
from app.errors import PermissionDeniedError
from app.governance import consent
from app.httpauth import resolve_actor
from app.runtime import read_session, write_transaction

bp = Blueprint("api_consent", __name__)

TAG = "Consent"
BASE = "/v1/projects/<int:project_id>/consent/withdrawals"


def _recorder(project_id: int) -> Actor:
    actor = resolve_actor()
    if not consent.may_record(actor, project_id):
        raise PermissionDeniedError()
    return actor


def _entry(session: Any, project_id: int, withdrawal_id: int) -> Response:
    [entry] = consent.withdrawal_history(
        session, project_id, withdrawal_id=withdrawal_id
    )
    return jsonify(WithdrawalSchema().dump(entry))


@bp.get(BASE)
@operation(
    "A project's consent withdrawals, newest first, lifted ones included",
    tag=TAG,
    ayni=True,
    response=WithdrawalSchema,
    many=True,
)
def withdrawal_list(project_id: int) -> Response:
    _recorder(project_id)
    history = consent.withdrawal_history(read_session(), project_id)
    return jsonify(WithdrawalSchema(many=True).dump(history))


@bp.post(BASE)
@operation(
    "Record a consent withdrawal: the records it covers hide at once",
    tag=TAG,
    ayni=True,
    body=WithdrawalCreateSchema,
    response=WithdrawalSchema,
)
def withdrawal_create(project_id: int) -> Response:
    actor = _recorder(project_id)
    data = json_body(WithdrawalCreateSchema())
    with write_transaction() as session:
        submission_id = None
        if data["layer"] == "individual":
            submission_id = consent.find_governed_submission(
                session,
                project_id,
                (data["xmlFormId"] or "").strip(),
                (data["instanceId"] or "").strip(),
            ).submission_id
        withdrawal = consent.withdraw_consent(
            session,
            actor,
            project_id=project_id,
            layer=data["layer"],
            reason=data["reason"],
            submission_id=submission_id,
            ayllu=data["ayllu"],
        )
        return _entry(session, project_id, withdrawal.id)


@bp.post(f"{BASE}/<int:withdrawal_id>/lift")
@operation(
    "Lift a withdrawal when consent is granted again",
    tag=TAG,
    ayni=True,
    body=WithdrawalLiftSchema,
    response=WithdrawalSchema,
)
def withdrawal_lift(project_id: int, withdrawal_id: int) -> Response:
    actor = _recorder(project_id)
    data = json_body(WithdrawalLiftSchema())
    with write_transaction() as session:
        consent.lift_withdrawal(
            session, actor, project_id, withdrawal_id, data["reason"]
        )
        return _entry(session, project_id, withdrawal_id)
