"""Projects and their forms: lists with submission counts, uploading an
XLSForm (first version or a new one), the form's state, its media files and a
readable preview of its questions."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from app.auth import permissions
from app.blobs import iter_blob
from app.errors import AppError, InvalidInputError
from app.forms import service as forms_service
from app.forms.compiler import CompiledForm, compile_xlsform
from app.forms.errors import XlsFormInvalidError
from app.projects import service as projects_service
from app.runtime import current_runtime, read_session, write_transaction
from app.submissions import reading
from app.web import session as web_session
from app.web.i18n import gettext
from app.web.presenters import form_tree, media_references, type_label
from app.web.views import bp
from app.web.views.common import flash_error, message, project_context

MAX_XLSFORM_BYTES = 20_000_000


@bp.get("/projects")
@login_required
def project_list() -> str:
    actor = web_session.actor()
    rows = []
    session = read_session()
    for project in projects_service.list_projects(session):
        if not permissions.can(actor, "project.read", permissions.Project(project.id)):
            continue
        summaries = reading.form_summaries(
            session, project.id, web_session.viewer(project.id)
        )
        dates = [s.last_submission_at for s in summaries if s.last_submission_at]
        rows.append(
            {
                "id": project.id,
                "name": project.name,
                "description": project.description,
                "forms": len(summaries),
                "open_forms": sum(1 for s in summaries if s.state == "open"),
                "submissions": sum(s.submissions for s in summaries),
                "last": max(dates) if dates else None,
            }
        )
    return render_template(
        "web/projects.html",
        projects=rows,
        nav="projects",
        admin=permissions.can(actor, "project.create", permissions.SITE),
    )


def _project_page(
    project_id: int, *, errors: list[str] | None = None, status: int = 200
) -> tuple[str, int]:
    context = project_context(project_id)
    forms = reading.form_summaries(
        read_session(), project_id, web_session.viewer(project_id)
    )
    return (
        render_template(
            "web/project.html",
            forms=forms,
            upload_errors=errors or [],
            nav="forms",
            **context,
        ),
        status,
    )


@bp.get("/projects/<int:project_id>")
@login_required
def project_show(project_id: int) -> tuple[str, int]:
    return _project_page(project_id)


def _uploaded(name: str) -> FileStorage | None:
    upload = request.files.get(name)
    if upload is None or not upload.filename:
        return None
    return upload


def _current_media(session: Any, form: Any) -> dict[str, bytes]:
    """The media of the form's current version, so that a new version (or a
    re-upload of the same one) keeps them unless they are replaced."""
    if form is None or form.current_version_id is None:
        return {}
    version = forms_service.current_version(session, form)
    store = current_runtime().blobs
    return {
        name: b"".join(iter_blob(session, store, blob.sha256))
        for name, blob in forms_service.form_attachments(session, version)
    }


@bp.post("/projects/<int:project_id>/forms")
@login_required
def form_upload(project_id: int) -> Response | tuple[str, int]:
    """Publish an XLSForm: a new form, or a new version of `expected` form."""
    web_session.require("form.update", permissions.Project(project_id))
    expected = request.form.get("xml_form_id") or None
    upload = _uploaded("xlsform")

    def refused(errors: list[str], warnings: tuple[str, ...] = ()) -> Any:
        for warning in warnings:
            flash(warning, "warning")
        if expected:
            return _form_page(project_id, expected, errors=errors, status=422)
        return _project_page(project_id, errors=errors, status=422)

    if upload is None:
        return refused([gettext("upload.no_file")])
    data = upload.read(MAX_XLSFORM_BYTES + 1)
    if len(data) > MAX_XLSFORM_BYTES:
        return refused([gettext("upload.too_big")])
    try:
        compiled = compile_xlsform(data, filename=upload.filename or "form.xlsx")
    except XlsFormInvalidError as exc:
        summary = message(exc)
        details = [line for line in exc.errors if line not in summary]
        return refused([summary, *details], tuple(exc.warnings))
    if expected and compiled.xml_form_id != expected:
        return refused(
            [
                gettext(
                    "upload.other_form", found=compiled.xml_form_id, expected=expected
                )
            ]
        )
    runtime = current_runtime()
    try:
        project_context(project_id)
        with write_transaction() as session:
            existing = forms_service.find_form(
                session, project_id, compiled.xml_form_id
            )
            result = forms_service.publish_form(
                session,
                runtime.blobs,
                project_id=project_id,
                compiled=compiled,
                xlsform=data,
                media=_current_media(session, existing),
                actor_user_id=web_session.actor().id,
            )
            xml_form_id, title = result.form.xml_form_id, result.form.title
            version = result.version.version
    except AppError as exc:
        return refused([message(exc)], compiled.warnings)
    flash(
        gettext(f"upload.status.{result.status}", title=title, version=version),
        "success",
    )
    for warning in compiled.warnings:
        flash(warning, "warning")
    return redirect(
        url_for("web.form_show", project_id=project_id, xml_form_id=xml_form_id)
    )


def _form_page(
    project_id: int,
    xml_form_id: str,
    *,
    errors: list[str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    session = read_session()
    context = project_context(project_id)
    form = forms_service.get_form(session, project_id, xml_form_id)
    version = forms_service.current_version(session, form)
    schema = forms_service.schema_of(version)
    media = [
        {"name": name, "size": blob.size, "content_type": blob.content_type}
        for name, blob in forms_service.form_attachments(session, version)
    ]
    references = media_references(version.xml)
    summary = next(
        (
            s
            for s in reading.form_summaries(
                session, project_id, web_session.viewer(project_id)
            )
            if s.xml_form_id == xml_form_id
        ),
        None,
    )
    info = {
        "xml_form_id": form.xml_form_id,
        "title": form.title,
        "state": form.state,
        "version": version.version,
        "published_at": version.published_at,
    }
    present = {item["name"] for item in media}
    return (
        render_template(
            "web/form.html",
            form=info,
            summary=summary,
            tree=form_tree(schema),
            languages=schema.languages,
            media=media,
            missing_media=[name for name in references if name not in present],
            type_label=type_label,
            upload_errors=errors or [],
            states=forms_service.FORM_STATES,
            nav="forms",
            **context,
        ),
        status,
    )


@bp.get("/projects/<int:project_id>/forms/<xml_form_id>")
@login_required
def form_show(project_id: int, xml_form_id: str) -> tuple[str, int]:
    return _form_page(project_id, xml_form_id)


@bp.post("/projects/<int:project_id>/forms/<xml_form_id>/state")
@login_required
def form_state(project_id: int, xml_form_id: str) -> Response:
    web_session.require("form.update", permissions.Project(project_id))
    state = request.form.get("state", "")
    project_context(project_id)
    with write_transaction() as session:
        try:
            forms_service.set_form_state(
                session, project_id, xml_form_id, state, actor=web_session.actor()
            )
        except InvalidInputError as exc:
            flash_error(exc)
        else:
            flash(
                gettext("form.state_changed", state=gettext(f"state.{state}")),
                "success",
            )
    return redirect(
        url_for("web.form_show", project_id=project_id, xml_form_id=xml_form_id)
    )


@bp.post("/projects/<int:project_id>/forms/<xml_form_id>/media")
@login_required
def form_media(project_id: int, xml_form_id: str) -> Response | tuple[str, int]:
    """Add or replace media files of the current version (same XForm)."""
    web_session.require("form.update", permissions.Project(project_id))
    uploads = [f for f in request.files.getlist("media") if f and f.filename]
    if not uploads:
        return _form_page(
            project_id, xml_form_id, errors=[gettext("upload.no_file")], status=422
        )
    runtime = current_runtime()
    try:
        project_context(project_id)
        with write_transaction() as session:
            form = forms_service.get_form(session, project_id, xml_form_id)
            version = forms_service.current_version(session, form)
            media = _current_media(session, form)
            for upload in uploads:
                media[upload.filename or ""] = upload.read()
            compiled = CompiledForm(
                xml=version.xml,
                xml_form_id=form.xml_form_id,
                version=version.version,
                title=version.title,
                warnings=(),
            )
            forms_service.publish_form(
                session,
                runtime.blobs,
                project_id=project_id,
                compiled=compiled,
                media=media,
                actor_user_id=web_session.actor().id,
            )
    except InvalidInputError as exc:
        return _form_page(project_id, xml_form_id, errors=[message(exc)], status=422)
    names = ", ".join(sorted(u.filename or "" for u in uploads))
    flash(gettext("media.saved", names=names), "success")
    return redirect(
        url_for("web.form_show", project_id=project_id, xml_form_id=xml_form_id)
    )
