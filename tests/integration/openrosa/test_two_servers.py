"""The grown deployment: two gunicorn servers, one PostgreSQL database.

A tablet behind a load balancer may send one submission's POSTs to different
servers: a resend after a lost answer, the two halves of a split upload, an
edit of a record another server stored, or (two tablets, or a retry racing a
slow first try) the same record to both at once. Nothing in Ayni may assume
one process (design.md "Grown"), so each of those must end as it would on one
server. Blobs are either in the database (no shared disk) or in one directory
both servers mount.

PostgreSQL only: on SQLite two servers would share one file, which is the
embedded deployment's single server with extra steps, not the grown one.
"""

from __future__ import annotations

import csv
import hashlib
import io
import threading
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests
import sqlalchemy as sa

from app.blobs import iter_blob
from app.db.models import Blob, Submission, SubmissionAttachment, SubmissionVersion
from app.runtime import Runtime
from tests.server import LiveServer
from tests.support import (
    ADMIN_PASSWORD,
    counts,
    encuesta_xml,
    new_instance_id,
    seed,
)

pytestmark = [pytest.mark.server, pytest.mark.postgres]

HEADERS = {"X-OpenRosa-Version": "1.0"}
ROOT_PHOTO = "1732455064123.jpg"
REPEAT_PHOTO = "1732455064124.jpg"


def photo(label: str) -> bytes:
    """Distinct bytes per label, ~10 KB, starting like a JPEG."""
    return b"\xff\xd8\xff\xe0" + hashlib.sha256(label.encode()).digest() * 320


@dataclass
class Pair:
    a: LiveServer
    b: LiveServer
    blobs_runtime: Runtime  # reads blobs the way both servers store them
    project_id: int
    token: str

    def __iter__(self) -> Iterator[LiveServer]:
        return iter((self.a, self.b))

    def submission_url(self, server: LiveServer) -> str:
        key = f"/v1/key/{self.token}/projects/{self.project_id}"
        return f"{server.url}{key}/submission"


@pytest.fixture(params=["database", "shared_directory"])
def pair(request, settings, make_app) -> Iterator[Pair]:  # type: ignore[no-untyped-def]
    """Two servers on the test's PostgreSQL database, blobs in the database
    (BLOB_BACKEND=database) or in one blob directory they both use."""
    changes = {"blob_backend": "database"} if request.param == "database" else {}
    shared = settings.with_(**changes)
    runtime = make_app(**changes).extensions["ayni"]
    seeded = seed(runtime)
    a = LiveServer(shared, workers=1, threads=4).start()
    try:
        b = LiveServer(shared, workers=1, threads=4).start()
    except BaseException:
        a.stop()
        raise
    try:
        assert a.port != b.port
        yield Pair(a, b, runtime, seeded.project_id, seeded.token)
    finally:
        a.stop()
        b.stop()


def post(url: str, xml: bytes, files: dict[str, bytes], *, incomplete=False) -> int:  # type: ignore[no-untyped-def]
    parts: list[tuple] = [("xml_submission_file", ("i.xml", xml, "text/xml"))]
    parts += [(name, (name, data, "image/jpeg")) for name, data in files.items()]
    if incomplete:
        parts.append(("*isIncomplete*", (None, b"yes")))
    head = requests.head(url, headers=HEADERS, timeout=10)
    assert head.status_code == 204
    return requests.post(url, files=parts, headers=HEADERS, timeout=30).status_code


def stored_photos(session, pair: Pair, instance_id: str) -> dict[str, bytes | None]:  # type: ignore[no-untyped-def]
    """name -> stored bytes of the attachments of that version."""
    rows = session.execute(
        sa.select(SubmissionAttachment.name, Blob.sha256)
        .join(
            SubmissionVersion,
            SubmissionVersion.id == SubmissionAttachment.submission_version_id,
        )
        .outerjoin(Blob, Blob.id == SubmissionAttachment.blob_id)
        .where(SubmissionVersion.instance_id == instance_id)
    ).all()
    store = pair.blobs_runtime.blobs
    return {
        name: b"".join(iter_blob(session, store, sha)) if sha else None
        for name, sha in rows
    }


def export(server: LiveServer, project_id: int) -> zipfile.ZipFile:
    token = requests.post(
        f"{server.url}/v1/sessions",
        json={"email": "admin@localhost", "password": ADMIN_PASSWORD},
        timeout=10,
    ).json()["token"]
    response = requests.get(
        f"{server.url}/v1/projects/{project_id}/forms/encuesta/submissions.csv.zip",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(response.content))


def root_rows(archive: zipfile.ZipFile) -> list[dict[str, str]]:
    with archive.open("encuesta.csv") as raw:
        return list(csv.DictReader(io.TextIOWrapper(raw, "utf-8", newline="")))


def test_a_submission_resent_to_the_other_server_is_stored_once(pair, runtime, session):
    iid = new_instance_id()
    xml = encuesta_xml(iid, foto=ROOT_PHOTO, asistentes=(("Pedro", None),))
    files = {ROOT_PHOTO: photo(iid)}

    assert post(pair.submission_url(pair.a), xml, files) == 201
    # The answer was lost on the way; Collect resends, the balancer picks B.
    assert post(pair.submission_url(pair.b), xml, files) == 201

    found = counts(runtime)
    assert found["submissions"] == 1
    assert found["submission_versions"] == 1
    assert stored_photos(session, pair, iid) == {ROOT_PHOTO: photo(iid)}


def test_a_split_upload_across_both_servers_ends_with_both_photos(
    pair, runtime, session
):
    iid = new_instance_id()
    xml = encuesta_xml(iid, foto=ROOT_PHOTO, asistentes=(("Pedro", REPEAT_PHOTO),))
    first, second = photo(f"{iid} root"), photo(f"{iid} repeat")

    assert (
        post(pair.submission_url(pair.a), xml, {ROOT_PHOTO: first}, incomplete=True)
        == 201
    )
    assert post(pair.submission_url(pair.b), xml, {REPEAT_PHOTO: second}) == 201

    assert counts(runtime)["submissions"] == 1
    assert stored_photos(session, pair, iid) == {
        ROOT_PHOTO: first,
        REPEAT_PHOTO: second,
    }
    # Each server exports what the other stored.
    for server in (pair.a, pair.b):
        archive = export(server, pair.project_id)
        (row,) = root_rows(archive)
        assert row["KEY"] == iid
        assert (row["AttachmentsPresent"], row["AttachmentsExpected"]) == ("2", "2")
        assert archive.read(f"media/{ROOT_PHOTO}") == first
        assert archive.read(f"media/{REPEAT_PHOTO}") == second


def test_the_same_new_submission_at_the_same_moment_on_both_servers_is_one_record(
    pair, runtime, session
):
    rounds = [new_instance_id() for _ in range(12)]
    for iid in rounds:
        xml = encuesta_xml(iid, foto=ROOT_PHOTO, asistentes=(("Pedro", None),))
        files = {ROOT_PHOTO: photo(iid)}
        gate = threading.Barrier(2)

        def fire(server: LiveServer, gate=gate, xml=xml, files=files) -> int:  # type: ignore[no-untyped-def]
            url = pair.submission_url(server)
            gate.wait()
            return requests.post(
                url,
                files=[
                    ("xml_submission_file", ("i.xml", xml, "text/xml")),
                    *[(n, (n, d, "image/jpeg")) for n, d in files.items()],
                ],
                headers=HEADERS,
                timeout=30,
            ).status_code

        with ThreadPoolExecutor(2) as pool:
            statuses = [f.result() for f in [pool.submit(fire, s) for s in pair]]
        assert statuses == [201, 201], (pair.a.log_text() + pair.b.log_text())[-3000:]

    found = counts(runtime)
    assert found["submissions"] == len(rounds)
    assert found["submission_versions"] == len(rounds)
    for iid in rounds:
        assert stored_photos(session, pair, iid) == {ROOT_PHOTO: photo(iid)}


def test_an_edit_sent_to_one_server_of_a_record_stored_through_the_other_works(
    pair, runtime, session
):
    original = new_instance_id()
    xml = encuesta_xml(original, foto=ROOT_PHOTO, asistentes=(("Pedro", None),))
    assert post(pair.submission_url(pair.a), xml, {ROOT_PHOTO: photo(original)}) == 201

    edit = new_instance_id()
    edited = encuesta_xml(
        edit,
        nombre="Juana Mamani",
        foto=ROOT_PHOTO,
        asistentes=(("Pedro", None),),
        deprecated_id=original,
    )
    # The photo is not sent again: it carries over from the version on A.
    assert post(pair.submission_url(pair.b), edited, {}) == 201

    submission = session.scalars(sa.select(Submission)).one()
    versions = session.scalars(
        sa.select(SubmissionVersion).order_by(SubmissionVersion.id)
    ).all()
    assert [v.instance_id for v in versions] == [original, edit]
    assert [v.current for v in versions] == [False, True]
    assert versions[1].deprecated_id == original
    assert submission.current_version_id == versions[1].id
    assert submission.review_state == "edited"
    assert stored_photos(session, pair, edit) == {ROOT_PHOTO: photo(original)}
    # The superseded version resent (a tablet that never heard back) is refused
    # by either server, not stored again.
    for server in pair:
        assert post(pair.submission_url(server), xml, {}) == 409
    assert counts(runtime)["submission_versions"] == 2
