"""Consent withdrawals in the console (domain.md §4): record that a knowledge
holder (individual) or an ayllu's authorities (colectivo) withdrew consent,
lift a withdrawal when consent is granted again, and read the history.

The governance service decides who may and hides the records; this page only
collects the request. A record is named by form and instanceID, never shown:
a withdrawal must be recordable for a record its recorder cannot read.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from app.errors import AppError
from app.governance import consent
from app.runtime import read_session, write_transaction
from app.web import session as web_session
from app.web.i18n import gettext
from app.web.views import bp
from app.web.views.common import flash_error, project_choices, project_context

MAX_REASON = 2000


def _page(project_id: int) -> Response:
    return redirect(url_for("web.consent_page", project_id=project_id))


@bp.get("/projects/<int:project_id>/consent")
@login_required
def consent_page(project_id: int) -> str:
    actor = web_session.actor()
    context = project_context(project_id)
    web_session.require_that(consent.may_record(actor, project_id))
    session = read_session()
    history = consent.withdrawal_history(session, project_id)
    forms, ayllus = consent.governed_places(session, project_id)
    labels = project_choices(project_id).get("ayllu", {})
    ayllus = [a for a in ayllus if consent.may_record_for(actor, project_id, a)]
    return render_template(
        "web/consent.html",
        history=history,
        governed_forms=forms,
        ayllus=[(name, labels.get(name)) for name in ayllus],
        ayllu_labels=labels,
        prefill_form=request.args.get("form", ""),
        prefill_instance=request.args.get("instance", ""),
        nav="consent",
        **context,
    )


@bp.post("/projects/<int:project_id>/consent")
@login_required
def consent_withdraw(project_id: int) -> Response:
    actor = web_session.actor()
    project_context(project_id)
    web_session.require_that(consent.may_record(actor, project_id))
    layer = request.form.get("layer", "")
    reason = (request.form.get("reason") or "")[:MAX_REASON]
    try:
        with write_transaction() as session:
            if layer == "individual":
                found = consent.find_governed_submission(
                    session,
                    project_id,
                    (request.form.get("xml_form_id") or "").strip(),
                    (request.form.get("instance_id") or "").strip(),
                )
                consent.withdraw_consent(
                    session,
                    actor,
                    project_id=project_id,
                    layer="individual",
                    submission_id=found.submission_id,
                    reason=reason,
                )
            else:
                consent.withdraw_consent(
                    session,
                    actor,
                    project_id=project_id,
                    layer=layer,
                    ayllu=request.form.get("ayllu"),
                    reason=reason,
                )
    except AppError as error:
        flash_error(error)
        return _page(project_id)
    flash(gettext("consent.withdrawn"), "success")
    return _page(project_id)


@bp.post("/projects/<int:project_id>/consent/<int:withdrawal_id>/lift")
@login_required
def consent_lift(project_id: int, withdrawal_id: int) -> Response:
    actor = web_session.actor()
    project_context(project_id)
    web_session.require_that(consent.may_record(actor, project_id))
    reason = (request.form.get("reason") or "")[:MAX_REASON]
    try:
        with write_transaction() as session:
            consent.lift_withdrawal(session, actor, project_id, withdrawal_id, reason)
    except AppError as error:
        flash_error(error)
        return _page(project_id)
    flash(gettext("consent.lifted"), "success")
    return _page(project_id)
