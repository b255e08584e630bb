"""ODK Central's submissions API: `/v1/projects/<pid>/forms/<fid>/submissions…`.

The list (plain and `X-Extended-Metadata`, newest first, `limit`/`offset`,
`deleted=true`), creating a submission from raw XML and editing it (`PUT`,
via `meta/deprecatedID`), its review state (`PATCH`), soft delete and
restore, its XML, its files (list, download, upload, clear), comments,
versions (metadata, XML, files), diffs, audit entries, submitters and
encryption keys. Creating a submission and uploading its files also answer
under an app user's `/v1/key/<token>/` prefix, as in Central.

Every read is governance's (`app.submissions.reading`, `history`): a record
the caller may not read in full answers exactly as a missing one (404.1), on
every path. An instanceID of a later version is redirected (301) to the
record's `versions/` resource, as Central does, only for a record the caller
reads in full.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, jsonify, request, stream_with_context

from app.api.common import extended, json_body, success
from app.api.openapi import operation
from app.api.schemas.accounts import AuditSchema, ExtendedAuditSchema
from app.api.schemas.common import SuccessSchema
from app.api.schemas.submissions import (
    CommentInputSchema,
    CommentSchema,
    ExtendedCommentSchema,
    ExtendedSubmissionVersionSchema,
    ReviewInputSchema,
    SubmissionAttachmentSchema,
    SubmissionSchema,
    SubmissionVersionSchema,
    SubmitterSchema,
    dump_submission,
)
from app.blobs import iter_blob
from app.errors import UnparseableError
from app.governance.records import Attachment
from app.governance.visibility import SubmissionNotFoundError, Viewer
from app.httpauth import resolve_actor
from app.runtime import current_runtime, read_session, write_transaction
from app.submissions import files, history, lifecycle, reading, review
from app.submissions import service as submissions_service

bp = Blueprint("api_submissions", __name__)

BASE = "/v1/projects/<int:project_id>/forms/<xml_form_id>/submissions"
KEY_BASE = "/v1/key/<token>" + BASE.removeprefix("/v1")
ONE = BASE + "/<instance_id>"
TAG = "Submissions"
EXTENDED = {"X-Extended-Metadata": "`true`: Central's extended metadata"}
XML = "application/xml"
# Central shows these inline; every other file is a download.
INLINE_TYPES = ("image/png", "image/gif", "image/jpeg")
SPOOL_BYTES = 1_000_000
MAX_META = 255


def _viewer(project_id: int, token: str | None = None) -> Viewer:
    return Viewer(actor=resolve_actor(token), project_id=project_id)


def _user_agent() -> str | None:
    """The User-Agent, with Central's `ODK-Client` header before it."""
    parts = [request.headers.get("ODK-Client"), request.headers.get("User-Agent")]
    joined = " ".join(p.strip() for p in parts if p and p.strip())
    return joined[:MAX_META] or None


def _xml_body() -> bytes:
    """The raw XML body. Its declared type is not checked (Central does not
    either): whether it is XML is the parser's to say (400.1)."""
    xml = request.get_data(cache=False)
    if not xml.strip():
        raise UnparseableError(
            "El cuerpo de la solicitud está vacío: se esperaba el XML del envío.",
            f"Could not parse the given data ({len(xml)} chars) as xml.",
            details={"format": "xml", "rawLength": len(xml)},
        )
    return xml


def _upload(xml: bytes) -> submissions_service.Upload:
    return submissions_service.Upload(
        xml=xml,
        device_id=request.args.get("deviceID") or None,
        user_agent=_user_agent(),
        xml_content_types=("text/xml",),
    )


def _xml_response(xml: bytes) -> Response:
    return Response(xml, mimetype=XML, content_type=f"{XML}; charset=utf-8")


def _redirect_to_version(
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    viewer: Viewer,
    suffix: str,
) -> Response | None:
    """Central's 301 from a later version's instanceID to
    `…/submissions/<first instanceID>/versions/<it>`, for a record the viewer
    reads in full; None when there is no such record."""
    root = reading.root_of_version(
        read_session(), project_id, xml_form_id, instance_id, viewer
    )
    if root is None:
        return None
    url = (
        f"/v1/projects/{project_id}/forms/{quote(xml_form_id, safe='')}"
        f"/submissions/{quote(root, safe='')}/versions/"
        f"{quote(instance_id, safe='')}{suffix}"
    )
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return Response(
        f"Moved Permanently. Redirecting to {url}",
        status=301,
        headers={"Location": url},
        mimetype="text/plain",
    )


def _or_redirect(
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    suffix: str,
    answer: Callable[[Viewer], Response],
) -> Response:
    viewer = _viewer(project_id)
    try:
        return answer(viewer)
    except SubmissionNotFoundError:
        moved = _redirect_to_version(
            project_id, xml_form_id, instance_id, viewer, suffix
        )
        if moved is None:
            raise
        return moved


def _file_response(attachment: Attachment, name: str) -> Response:
    """A submission file as Central sends it: its type, inline for images,
    an ETag (the content's hash) that answers `If-None-Match` with 304."""
    runtime = current_runtime()
    sha = attachment.sha256 or ""
    etag = f'"{sha}"'
    content_type = attachment.content_type or "application/octet-stream"
    if etag in request.headers.get("If-None-Match", ""):
        response = Response(status=304)
    else:

        def generate() -> Iterator[bytes]:
            with runtime.db.read() as stream_session:
                yield from iter_blob(stream_session, runtime.blobs, sha)

        response = Response(stream_with_context(generate()), content_type=content_type)
        if attachment.size is not None:
            response.headers["Content-Length"] = str(attachment.size)
        inline = content_type.split(";", 1)[0].strip().lower() in INLINE_TYPES
        response.headers.set(
            "Content-Disposition", "inline" if inline else "attachment", filename=name
        )
    response.headers["ETag"] = etag
    # Files come from tablets: never let one run as a page of this site.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _page_number(name: str) -> int | None:
    """`limit`/`offset` as Central reads them (an integer, else ignored)."""
    raw = (request.args.get(name) or "").strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        return None
    return int(raw)


# --- the list and a new submission ------------------------------------------------


@bp.get(BASE)
@operation(
    "Listing all Submissions on a Form",
    tag=TAG,
    response=SubmissionSchema,
    many=True,
    query={
        "deleted": "`true`: only deleted submissions",
        "limit": "at most this many",
        "offset": "skip this many (newest first)",
    },
    headers=EXTENDED,
)
def submission_list(project_id: int, xml_form_id: str) -> Response:
    """Newest first; with `X-Extended-Metadata: true`, each with its
    `submitter` and its current version's."""
    viewer = _viewer(project_id)
    infos = reading.list_submission_infos(
        read_session(),
        project_id,
        xml_form_id,
        viewer,
        deleted=(request.args.get("deleted") or "").strip().lower() == "true",
        limit=_page_number("limit"),
        offset=_page_number("offset") or 0,
    )
    wide = extended()
    return jsonify([dump_submission(info, extended=wide) for info in infos])


def _create(project_id: int, xml_form_id: str, token: str | None) -> Response:
    actor = resolve_actor(token)
    upload = _upload(_xml_body())
    runtime = current_runtime()
    with write_transaction() as session:
        result = submissions_service.ingest_submission(
            session,
            runtime.blobs,
            project_id=project_id,
            upload=upload,
            actor=actor,
            expected_xml_form_id=xml_form_id,
            limits=runtime.settings.limits,
        )
        body = SubmissionSchema().dump(
            reading.submission_info(session, result.submission.id)
        )
    return jsonify(body)


@bp.post(BASE)
@operation(
    "Creating a Submission",
    tag=TAG,
    body=XML,
    response=SubmissionSchema,
    query={"deviceID": "the sending device"},
)
def submission_create(project_id: int, xml_form_id: str) -> Response:
    """The raw instance XML; its files are then uploaded one by one to
    `…/attachments/<name>`. The same XML sent again is the same submission;
    other XML under its instanceID is 409.1."""
    return _create(project_id, xml_form_id, None)


@bp.post(KEY_BASE)
@operation(
    "Creating a Submission (app user)",
    tag=TAG,
    body=XML,
    response=SubmissionSchema,
    query={"deviceID": "the sending device"},
)
def submission_create_key(token: str, project_id: int, xml_form_id: str) -> Response:
    return _create(project_id, xml_form_id, token)


@bp.get(BASE + "/submitters")
@operation("Listing Submitters", tag=TAG, response=SubmitterSchema, many=True)
def submission_submitters(project_id: int, xml_form_id: str) -> Response:
    found = reading.form_submitters(
        read_session(), project_id, xml_form_id, _viewer(project_id)
    )
    return jsonify(SubmitterSchema(many=True).dump(found))


@bp.get(BASE + "/keys")
@operation("Listing Encryption Keys", tag=TAG, response="application/json")
def submission_keys(project_id: int, xml_form_id: str) -> Response:
    """Always `[]`: Ayni manages no encryption keys."""
    keys = reading.encryption_keys(
        read_session(), project_id, xml_form_id, _viewer(project_id)
    )
    return jsonify(keys)


# --- one submission -----------------------------------------------------------------


@bp.get(ONE)
@operation(
    "Getting Submission metadata",
    tag=TAG,
    response=SubmissionSchema,
    headers=EXTENDED,
)
def submission_show(project_id: int, xml_form_id: str, instance_id: str) -> Response:
    def answer(viewer: Viewer) -> Response:
        info = reading.get_submission_info(
            read_session(), project_id, xml_form_id, instance_id, viewer
        )
        return jsonify(dump_submission(info, extended=extended()))

    return _or_redirect(project_id, xml_form_id, instance_id, "", answer)


@bp.get(ONE + ".xml")
@operation("Retrieving Submission XML", tag=TAG, response=XML)
def submission_xml(project_id: int, xml_form_id: str, instance_id: str) -> Response:
    def answer(viewer: Viewer) -> Response:
        return _xml_response(
            reading.current_xml(
                read_session(), project_id, xml_form_id, instance_id, viewer
            )
        )

    return _or_redirect(project_id, xml_form_id, instance_id, ".xml", answer)


@bp.put(ONE)
@operation(
    "Updating Submission Data",
    tag=TAG,
    body=XML,
    response=SubmissionSchema,
    query={"deviceID": "the sending device"},
)
def submission_edit(project_id: int, xml_form_id: str, instance_id: str) -> Response:
    """A new version: its XML names the current version's instanceID in
    `meta/deprecatedID` (missing: 400.19; not the current one: 409.9) and
    brings a new instanceID (taken: 409.8). Files the new version still
    names carry over."""
    actor = resolve_actor()
    upload = _upload(_xml_body())
    runtime = current_runtime()
    with write_transaction() as session:
        result = submissions_service.edit_submission(
            session,
            runtime.blobs,
            project_id=project_id,
            xml_form_id=xml_form_id,
            instance_id=instance_id,
            upload=upload,
            actor=actor,
            limits=runtime.settings.limits,
        )
        body = SubmissionSchema().dump(
            reading.submission_info(session, result.submission.id)
        )
    return jsonify(body)


@bp.patch(ONE)
@operation(
    "Updating Submission metadata",
    tag=TAG,
    body=ReviewInputSchema,
    response=SubmissionSchema,
)
def submission_review(project_id: int, xml_form_id: str, instance_id: str) -> Response:
    """`{"reviewState": …}`: `null` (received), `hasIssues`, `edited`,
    `approved` or `rejected`; anything else is 400.8."""
    viewer = _viewer(project_id)
    data = json_body(ReviewInputSchema())
    if "reviewState" not in data:
        info = reading.get_submission_info(
            read_session(), project_id, xml_form_id, instance_id, viewer
        )
        return jsonify(SubmissionSchema().dump(info))
    state = data["reviewState"]
    with write_transaction() as session:
        submission = review.set_review_state(
            session,
            project_id=project_id,
            xml_form_id=xml_form_id,
            instance_id=instance_id,
            state="received" if state is None else state,
            viewer=viewer,
            allowed=review.API_STATES,
        )
        body = SubmissionSchema().dump(reading.submission_info(session, submission.id))
    return jsonify(body)


@bp.delete(ONE)
@operation("Deleting a Submission", tag=TAG, response=SuccessSchema)
def submission_delete(project_id: int, xml_form_id: str, instance_id: str) -> Response:
    viewer = _viewer(project_id)
    with write_transaction() as session:
        lifecycle.delete_submission(
            session,
            project_id=project_id,
            xml_form_id=xml_form_id,
            instance_id=instance_id,
            viewer=viewer,
        )
    return success()


@bp.post(ONE + "/restore")
@operation("Restoring a deleted Submission", tag=TAG, response=SuccessSchema)
def submission_restore(project_id: int, xml_form_id: str, instance_id: str) -> Response:
    viewer = _viewer(project_id)
    with write_transaction() as session:
        lifecycle.restore_submission(
            session,
            project_id=project_id,
            xml_form_id=xml_form_id,
            instance_id=instance_id,
            viewer=viewer,
        )
    return success()


# --- files --------------------------------------------------------------------------


@bp.get(ONE + "/attachments")
@operation(
    "Listing expected Submission Attachments",
    tag="Attachments",
    response=SubmissionAttachmentSchema,
    many=True,
)
def submission_attachments(
    project_id: int, xml_form_id: str, instance_id: str
) -> Response:
    def answer(viewer: Viewer) -> Response:
        found = reading.list_attachments(
            read_session(), project_id, xml_form_id, instance_id, viewer
        )
        return jsonify(SubmissionAttachmentSchema(many=True).dump(found))

    return _or_redirect(project_id, xml_form_id, instance_id, "/attachments", answer)


@bp.get(ONE + "/attachments/<name>")
@operation(
    "Downloading an Attachment",
    tag="Attachments",
    response="application/octet-stream",
    headers={"If-None-Match": "the ETag of a copy already held"},
)
def submission_attachment(
    project_id: int, xml_form_id: str, instance_id: str, name: str
) -> Response:
    def answer(viewer: Viewer) -> Response:
        found = reading.attachment_for(
            read_session(), project_id, xml_form_id, instance_id, name, viewer
        )
        return _file_response(found, name)

    return _or_redirect(
        project_id, xml_form_id, instance_id, f"/attachments/{quote(name)}", answer
    )


def _upload_file(
    project_id: int, xml_form_id: str, instance_id: str, name: str, token: str | None
) -> Response:
    viewer = _viewer(project_id, token)
    runtime = current_runtime()
    # The raw body, chunked or not (pyODK sends it chunked), spooled to disk
    # past a megabyte; the application's body limit applies while reading.
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        while chunk := request.stream.read(1 << 16):
            spool.write(chunk)
        spool.seek(0)
        with write_transaction() as session:
            files.upload_attachment(
                session,
                runtime.blobs,
                project_id=project_id,
                xml_form_id=xml_form_id,
                instance_id=instance_id,
                name=name,
                stream=spool,  # type: ignore[arg-type]
                viewer=viewer,
            )
    return success()


@bp.post(ONE + "/attachments/<name>")
@operation(
    "Uploading an Attachment",
    tag="Attachments",
    body="application/octet-stream",
    response=SuccessSchema,
)
def submission_attachment_upload(
    project_id: int, xml_form_id: str, instance_id: str, name: str
) -> Response:
    """The raw bytes of a file the submission's XML names (any other name is
    404.1), checked against the field that names it."""
    return _upload_file(project_id, xml_form_id, instance_id, name, None)


@bp.post(KEY_BASE + "/<instance_id>/attachments/<name>")
@operation(
    "Uploading an Attachment (app user)",
    tag="Attachments",
    body="application/octet-stream",
    response=SuccessSchema,
)
def submission_attachment_upload_key(
    token: str, project_id: int, xml_form_id: str, instance_id: str, name: str
) -> Response:
    return _upload_file(project_id, xml_form_id, instance_id, name, token)


@bp.delete(ONE + "/attachments/<name>")
@operation(
    "Clearing a Submission Attachment", tag="Attachments", response=SuccessSchema
)
def submission_attachment_clear(
    project_id: int, xml_form_id: str, instance_id: str, name: str
) -> Response:
    viewer = _viewer(project_id)
    with write_transaction() as session:
        files.clear_attachment(
            session,
            project_id=project_id,
            xml_form_id=xml_form_id,
            instance_id=instance_id,
            name=name,
            viewer=viewer,
        )
    return success()


# --- comments, audits ---------------------------------------------------------------


@bp.get(ONE + "/comments")
@operation(
    "Listing Comments",
    tag="Comments",
    response=CommentSchema,
    many=True,
    headers=EXTENDED,
)
def submission_comments(
    project_id: int, xml_form_id: str, instance_id: str
) -> Response:
    found = reading.list_comments(
        read_session(), project_id, xml_form_id, instance_id, _viewer(project_id)
    )
    schema = ExtendedCommentSchema if extended() else CommentSchema
    return jsonify(schema(many=True).dump(found))


@bp.post(ONE + "/comments")
@operation(
    "Posting Comments", tag="Comments", body=CommentInputSchema, response=CommentSchema
)
def submission_comment_create(
    project_id: int, xml_form_id: str, instance_id: str
) -> Response:
    viewer = _viewer(project_id)
    data = json_body(CommentInputSchema())
    with write_transaction() as session:
        comment = review.add_comment(
            session,
            project_id=project_id,
            xml_form_id=xml_form_id,
            instance_id=instance_id,
            viewer=viewer,
            body=data["body"],
        )
        body = CommentSchema().dump(comment)
    return jsonify(body)


@bp.get(ONE + "/audits")
@operation(
    "Retrieving Audit Logs",
    tag=TAG,
    response=AuditSchema,
    many=True,
    headers=EXTENDED,
)
def submission_audits(project_id: int, xml_form_id: str, instance_id: str) -> Response:
    found = reading.submission_audits(
        read_session(), project_id, xml_form_id, instance_id, _viewer(project_id)
    )
    # The same rendering as `/v1/audits`.
    schema = ExtendedAuditSchema if extended() else AuditSchema
    return jsonify(schema(many=True).dump(found))


# --- versions and diffs -------------------------------------------------------------

VERSION = ONE + "/versions/<version_id>"


@bp.get(ONE + "/versions")
@operation(
    "Listing Versions",
    tag="Submission Versions",
    response=SubmissionVersionSchema,
    many=True,
    headers=EXTENDED,
)
def submission_versions(
    project_id: int, xml_form_id: str, instance_id: str
) -> Response:
    """Newest first. A version the caller may not read in full (an older
    level or ayllu) is listed without its instanceName."""
    found = history.list_versions(
        read_session(), project_id, xml_form_id, instance_id, _viewer(project_id)
    )
    schema = ExtendedSubmissionVersionSchema if extended() else SubmissionVersionSchema
    return jsonify(schema(many=True).dump(found))


@bp.get(VERSION)
@operation(
    "Getting Version Details",
    tag="Submission Versions",
    response=SubmissionVersionSchema,
    headers=EXTENDED,
)
def submission_version(
    project_id: int, xml_form_id: str, instance_id: str, version_id: str
) -> Response:
    found = history.get_version(
        read_session(),
        project_id,
        xml_form_id,
        instance_id,
        version_id,
        _viewer(project_id),
    )
    schema = ExtendedSubmissionVersionSchema if extended() else SubmissionVersionSchema
    return jsonify(schema().dump(found))


@bp.get(VERSION + ".xml")
@operation("Getting Version XML", tag="Submission Versions", response=XML)
def submission_version_xml(
    project_id: int, xml_form_id: str, instance_id: str, version_id: str
) -> Response:
    return _xml_response(
        history.version_xml(
            read_session(),
            project_id,
            xml_form_id,
            instance_id,
            version_id,
            _viewer(project_id),
        )
    )


@bp.get(VERSION + "/attachments")
@operation(
    "Listing Version expected Attachments",
    tag="Submission Versions",
    response=SubmissionAttachmentSchema,
    many=True,
)
def submission_version_attachments(
    project_id: int, xml_form_id: str, instance_id: str, version_id: str
) -> Response:
    found = history.version_attachments(
        read_session(),
        project_id,
        xml_form_id,
        instance_id,
        version_id,
        _viewer(project_id),
    )
    return jsonify(SubmissionAttachmentSchema(many=True).dump(found))


@bp.get(VERSION + "/attachments/<name>")
@operation(
    "Downloading a Version's Attachment",
    tag="Submission Versions",
    response="application/octet-stream",
    headers={"If-None-Match": "the ETag of a copy already held"},
)
def submission_version_attachment(
    project_id: int, xml_form_id: str, instance_id: str, version_id: str, name: str
) -> Response:
    found = history.version_attachment(
        read_session(),
        project_id,
        xml_form_id,
        instance_id,
        version_id,
        name,
        _viewer(project_id),
    )
    return _file_response(found, name)


@bp.delete(VERSION + "/attachments/<name>")
@operation(
    "Clearing a Submission Version's Attachment",
    tag="Submission Versions",
    response=SuccessSchema,
)
def submission_version_attachment_clear(
    project_id: int, xml_form_id: str, instance_id: str, version_id: str, name: str
) -> Response:
    viewer = _viewer(project_id)
    with write_transaction() as session:
        files.clear_attachment(
            session,
            project_id=project_id,
            xml_form_id=xml_form_id,
            instance_id=instance_id,
            name=name,
            viewer=viewer,
            version_id=version_id,
        )
    return success()


@bp.get(ONE + "/diffs")
@operation(
    "Getting changes between Versions",
    tag="Submission Versions",
    response="application/json",
)
def submission_diffs(project_id: int, xml_form_id: str, instance_id: str) -> Response:
    """`{<version instanceID>: [{old, new, path}, …]}` against the version
    before, for the versions the caller reads in full."""
    found: dict[str, Any] = history.diffs(
        read_session(), project_id, xml_form_id, instance_id, _viewer(project_id)
    )
    return jsonify(found)
