"""`POST /v1/projects/<pid>/forms/<fid>/submissions`: a raw XML submission, as
pyODK and scripts send it (no multipart, no attachments)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from app.api.openapi import operation
from app.api.schemas.submissions import SubmissionSchema
from app.errors import InvalidInputError
from app.httpauth import resolve_actor
from app.runtime import current_runtime, write_transaction
from app.submissions import service as submissions_service

bp = Blueprint("api_submissions", __name__)


@bp.post("/v1/projects/<int:project_id>/forms/<xml_form_id>/submissions")
@operation(
    "Create a submission from its XML",
    tag="Submissions",
    body="application/xml",
    response=SubmissionSchema,
    query={"deviceID": "the sending device"},
)
def submission_create(project_id: int, xml_form_id: str) -> Response:
    actor = resolve_actor()
    xml = request.get_data(cache=False)
    if not xml.strip():
        raise InvalidInputError(
            "El cuerpo de la solicitud está vacío.", "The request body is empty."
        )
    upload = submissions_service.Upload(
        xml=xml,
        device_id=request.args.get("deviceID"),
        user_agent=request.headers.get("User-Agent"),
        xml_content_types=(request.content_type,),
    )
    with write_transaction() as session:
        result = submissions_service.ingest_submission(
            session,
            current_runtime().blobs,
            project_id=project_id,
            upload=upload,
            actor=actor,
            expected_xml_form_id=xml_form_id,
            limits=current_runtime().settings.limits,
        )
        body = SubmissionSchema().dump(result.submission)
    return jsonify(body)
