"""Submissions of a form: the filtered, paged table; one submission with its
answers by label, media inline, location map, review state, comments and
edit history; and its media files. Everything shown comes through
`app.submissions.reading`, which reads through knowledge governance."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask import (
    Response,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import login_required
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from app.blobs import iter_blob
from app.forms import service as forms_service
from app.forms.xform import Field, FormSchema
from app.governance.records import RecordFilter, first_value
from app.runtime import current_runtime, read_session, write_transaction
from app.submissions import reading, review
from app.submissions.errors import ReviewInputError
from app.web import session as web_session
from app.web.geo import from_landmark, map_svg
from app.web.i18n import gettext, label_of
from app.web.presenters import Answer, answers, choice_label, field_label
from app.web.views import bp
from app.web.views.common import (
    day_range,
    flash_error,
    parse_day,
    project_context,
)

PER_PAGE = 25
INLINE_TYPES = ("image/", "audio/", "video/")
_INDEX = re.compile(r"\[(\d+)\]")


def _filter_field(schema: FormSchema, *names: str) -> Field | None:
    """A select outside repeats named like one of `names` (filter options)."""
    for item in schema.fields:
        if item.kind == "field" and item.repeat is None and item.name in names:
            return item
    return None


def _filters() -> tuple[RecordFilter, dict[str, Any]]:
    since, until = parse_day("since"), parse_day("until")
    start, end = day_range(since, until)
    states = tuple(s for s in request.args.getlist("state") if s)
    values = {
        "since": since.isoformat() if since else "",
        "until": until.isoformat() if until else "",
        "ayllu": request.args.get("ayllu", ""),
        "mesa": request.args.get("mesa", ""),
        "states": states,
        "submitter": request.args.get("submitter", ""),
    }
    return (
        RecordFilter(
            since=start,
            until=end,
            ayllu=values["ayllu"] or None,
            mesa=values["mesa"] or None,
            review_states=states,
            **reading.submitter_filter(values["submitter"] or None),
        ),
        values,
    )


MAX_PAGE = 10**6  # 25 million submissions; also keeps OFFSET a 64-bit integer


def _page_number() -> int:
    """`?page=` as a page number; anything else (`²`, which `isdigit` calls a
    digit but `int` refuses, or a number past any offset the database takes)
    is the first page, as for any other nonsense."""
    raw = request.args.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 7:
        return 1
    return int(raw) if 0 < int(raw) <= MAX_PAGE else 1


@bp.get("/projects/<int:project_id>/forms/<xml_form_id>/submissions")
@login_required
def submission_list(project_id: int, xml_form_id: str) -> str:
    filters, values = _filters()
    viewer = web_session.viewer(project_id)
    session = read_session()
    context = project_context(project_id)
    form = forms_service.get_form(session, project_id, xml_form_id)
    schema = forms_service.schema_of(forms_service.current_version(session, form))
    page = reading.list_submissions(
        session,
        project_id,
        xml_form_id,
        viewer,
        filters,
        page=_page_number(),
        per_page=PER_PAGE,
    )
    submitters = reading.list_submitters(session, project_id, xml_form_id, viewer)
    form_info = {"xml_form_id": form.xml_form_id, "title": form.title}
    ayllu_field = _filter_field(schema, "ayllu")
    mesa_field = _filter_field(schema, "mesa", "mesas")
    rows = [
        {
            "record": record,
            "name": _record_name(record.values, record.instance_id),
            "ayllu": (
                choice_label(ayllu_field, str(first_value(record.values, "ayllu")))
                if ayllu_field and first_value(record.values, "ayllu")
                else ""
            ),
        }
        for record in page.records
    ]
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    return render_template(
        "web/submissions.html",
        form=form_info,
        page=page,
        rows=rows,
        values=values,
        submitters=submitters,
        ayllu_field=ayllu_field,
        mesa_field=mesa_field,
        states=reading.REVIEW_STATES,
        page_args=args,
        nav="forms",
        **context,
    )


def _record_name(values: dict[str, Any], instance_id: str) -> str:
    meta = values.get("meta") if isinstance(values.get("meta"), dict) else {}
    name = (meta or {}).get("instanceName")
    return str(name) if name else instance_id.removeprefix("uuid:")[:13]


def _path_label(schema: FormSchema, path: str) -> str:
    """ "asistentes[2]/sexo" → "Asistente 2 › Sexo", with the form's labels."""
    parts, plain = [], []
    for segment in path.split("/"):
        name = _INDEX.sub("", segment)
        plain.append(name)
        item = schema.field("/".join(plain))
        label = field_label(item) if item else name
        index = _INDEX.search(segment)
        parts.append(f"{label} {index.group(1)}" if index else label)
    return " › ".join(parts)


def _value_text(schema: FormSchema, path: str, value: Any) -> str:
    if value is None:
        return "—"
    item = schema.field(_INDEX.sub("", path))
    if item is not None and item.type == "select1":
        return choice_label(item, str(value))
    if item is not None and item.type == "select":
        return ", ".join(choice_label(item, v) for v in str(value).split())
    return str(value)


def _geo_map(answer: Answer, element_id: str) -> Markup:
    if not answer.points:
        return Markup("")
    lat, lon, accuracy = answer.points[0]
    description = gettext(
        "map.desc",
        lat=f"{lat:.5f}",
        lon=f"{lon:.5f}",
        accuracy=f"{accuracy:.0f}" if accuracy else "—",
    )
    bearing = from_landmark(lat, lon)
    if bearing is not None:
        description += " " + _bearing_text(bearing)
    svg = map_svg(
        answer.points,
        kind=answer.field.type,
        title=gettext("map.title", label=answer.label),
        description=description,
        landmark_label=gettext("map.landmark"),
        element_id=element_id,
    )
    # Built with ElementTree from numbers and escaped labels: safe to inline.
    caption = Markup('<p class="hint">{}</p>').format(description)
    return Markup(svg) + caption  # noqa: S704


def _bearing_text(bearing: Any) -> str:
    if not bearing.direction:
        return gettext("map.at_landmark")
    distance = (
        f"{bearing.km * 1000:.0f} m" if bearing.km < 1 else f"{bearing.km:.1f} km"
    )
    return gettext(
        "map.from_landmark",
        distance=distance,
        direction=gettext(f"compass.{bearing.direction}"),
    )


@bp.get("/projects/<int:project_id>/forms/<xml_form_id>/submissions/<instance_id>")
@login_required
def submission_show(project_id: int, xml_form_id: str, instance_id: str) -> str:
    viewer = web_session.viewer(project_id)
    context = project_context(project_id)
    detail = reading.get_submission_detail(
        read_session(), project_id, xml_form_id, instance_id, viewer
    )
    schema = detail.schema
    record = detail.record
    attachments = {a.name: a for a in detail.attachments}
    versions = [
        {
            "entry": version.version,
            "changes": [
                {
                    "label": _path_label(schema, change.path),
                    "before": _value_text(schema, change.path, change.before),
                    "after": _value_text(schema, change.path, change.after),
                }
                for change in version.changes
            ],
        }
        for version in detail.versions
    ]
    conditions = []
    if record.access_conditions:
        field = schema.field("condiciones_acceso")
        conditions = [
            choice_label(field, token) if field else token
            for token in record.access_conditions.split()
        ]
    level_field = schema.field("nivel_acceso")
    return render_template(
        "web/submission.html",
        detail=detail,
        record=record,
        name=_record_name(record.values, record.instance_id),
        answers=answers(schema, record.values),
        attachments=attachments,
        versions=versions,
        conditions=conditions,
        level_label=(
            choice_label(level_field, record.access_level)
            if level_field and record.access_level
            else None
        ),
        geo_map=_geo_map,
        settable=review.SETTABLE_STATES,
        label_of=label_of,
        nav="forms",
        **context,
    )


def _back(project_id: int, xml_form_id: str, instance_id: str) -> BaseResponse:
    return redirect(
        url_for(
            "web.submission_show",
            project_id=project_id,
            xml_form_id=xml_form_id,
            instance_id=instance_id,
        )
        + "#review"
    )


@bp.post(
    "/projects/<int:project_id>/forms/<xml_form_id>/submissions/<instance_id>/review"
)
@login_required
def submission_review(project_id: int, xml_form_id: str, instance_id: str) -> Any:
    state = request.form.get("state", "")
    comment = request.form.get("comment", "")
    viewer = web_session.viewer(project_id)
    try:
        project_context(project_id)
        with write_transaction() as session:
            _form, record = reading.readable_record(
                session, project_id, xml_form_id, instance_id, viewer
            )
            if state == record.review_state:
                if not comment.strip():
                    flash(gettext("review.unchanged"), "info")
                    return _back(project_id, xml_form_id, instance_id)
                review.add_comment(
                    session,
                    project_id=project_id,
                    xml_form_id=xml_form_id,
                    instance_id=instance_id,
                    viewer=viewer,
                    body=comment,
                )
                flash(gettext("review.commented"), "success")
            else:
                review.set_review_state(
                    session,
                    project_id=project_id,
                    xml_form_id=xml_form_id,
                    instance_id=instance_id,
                    state=state,
                    viewer=viewer,
                    comment=comment,
                )
                flash(
                    gettext("review.saved", state=gettext(f"review.{state}")), "success"
                )
    except ReviewInputError as exc:
        flash_error(exc)
    return _back(project_id, xml_form_id, instance_id)


@bp.get(
    "/projects/<int:project_id>/forms/<xml_form_id>/submissions/<instance_id>"
    "/attachments/<path:name>"
)
@login_required
def submission_attachment(
    project_id: int, xml_form_id: str, instance_id: str, name: str
) -> Response:
    """A photo, recording or file of a submission the viewer may see in full."""
    runtime = current_runtime()
    viewer = web_session.viewer(project_id)
    project_context(project_id)
    entry = reading.attachment_for(
        read_session(), project_id, xml_form_id, instance_id, name, viewer
    )
    sha = entry.sha256 or ""
    content_type = entry.content_type or "application/octet-stream"

    def generate() -> Iterator[bytes]:
        with runtime.db.read() as stream_session:
            yield from iter_blob(stream_session, runtime.blobs, sha)

    response = Response(stream_with_context(generate()), content_type=content_type)
    inline = content_type.startswith(INLINE_TYPES)
    response.headers.set(
        "Content-Disposition", "inline" if inline else "attachment", filename=name
    )
    if entry.size is not None:
        response.headers["Content-Length"] = str(entry.size)
    # Files come from tablets: never let one run as a page of this site.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
