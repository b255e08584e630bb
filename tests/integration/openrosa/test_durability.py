"""What a tablet was told is kept, even when the server dies mid-burst; and two
identical submissions at the same moment on two workers are one record."""

from __future__ import annotations

import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from app.blobs import iter_blob
from app.db.models import Blob, Submission, SubmissionAttachment, SubmissionVersion
from tests.server import LiveServer
from tests.support import encuesta_xml, media_bytes, new_instance_id, seed

pytestmark = pytest.mark.server

HEADERS = {"X-OpenRosa-Version": "1.0"}


def photo_for(instance_id: str) -> bytes:
    seed_bytes = hashlib.sha256(instance_id.encode()).digest()
    # ~50 KB, different per instance, a JPEG by its first bytes.
    return media_bytes("image", seed_bytes * 1600, size=0)


def send(url: str, instance_id: str, timeout: float = 10) -> int | None:
    xml = encuesta_xml(instance_id, asistentes=())
    files = [
        ("xml_submission_file", ("i.xml", xml, "text/xml")),
        (
            "1732455064123.jpg",
            ("1732455064123.jpg", photo_for(instance_id), "image/jpeg"),
        ),
    ]
    try:
        return requests.post(
            url, files=files, headers=HEADERS, timeout=timeout
        ).status_code
    except requests.RequestException:
        return None


def stored(runtime) -> dict[str, bytes | None]:
    """instance_id -> photo bytes, for every stored submission."""
    with runtime.db.read() as session:
        rows = session.execute(
            sa.select(SubmissionVersion.instance_id, Blob.sha256)
            .join(
                SubmissionAttachment,
                SubmissionAttachment.submission_version_id == SubmissionVersion.id,
            )
            .outerjoin(Blob, Blob.id == SubmissionAttachment.blob_id)
        ).all()
        return {
            iid: (b"".join(iter_blob(session, runtime.blobs, sha)) if sha else None)
            for iid, sha in rows
        }


def test_sigkill_mid_burst_loses_nothing_that_got_201_and_resends_do_not_duplicate(
    runtime, settings
):
    seeded = seed(runtime)
    server = LiveServer(settings, workers=2, threads=4).start()
    url = f"{server.url}/v1/key/{seeded.token}/projects/{seeded.project_id}/submission"
    instance_ids = [new_instance_id() for _ in range(400)]
    results: dict[str, int | None] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def client(ids: list[str]) -> None:
        for iid in ids:
            if stop.is_set():
                return
            status = send(url, iid, timeout=5)
            with lock:
                results[iid] = status

    threads = [
        threading.Thread(target=client, args=(instance_ids[i::8],)) for i in range(8)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with lock:
            if sum(1 for s in results.values() if s == 201) >= 40:
                break
        time.sleep(0.01)
    server.kill()  # mid-burst: requests are in flight on both workers
    stop.set()
    for thread in threads:
        thread.join(timeout=30)

    acknowledged = [iid for iid, status in results.items() if status == 201]
    assert len(acknowledged) >= 40
    assert any(status != 201 for status in results.values()) or len(results) < 400

    restarted = LiveServer(settings, workers=2, threads=4).start()  # healthz 200
    try:
        kept = stored(runtime)
        for iid in acknowledged:
            assert kept[iid] == photo_for(iid), iid
        # The tablets resend everything they were not sure of, and some twice.
        key = f"/v1/key/{seeded.token}/projects/{seeded.project_id}"
        url = f"{restarted.url}{key}/submission"
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda iid: send(url, iid), instance_ids))
            statuses += list(pool.map(lambda iid: send(url, iid), instance_ids[:50]))
        assert set(statuses) == {201}
        assert requests.get(f"{restarted.url}/healthz", timeout=5).status_code == 200
    finally:
        restarted.stop()
    kept = stored(runtime)
    assert set(kept) == set(instance_ids)
    assert all(kept[iid] == photo_for(iid) for iid in instance_ids)
    with runtime.db.read() as session:
        assert session.scalar(sa.select(sa.func.count(Submission.id))) == len(
            instance_ids
        )


def test_identical_submissions_at_the_same_moment_on_two_workers_store_one_record(
    runtime, settings
):
    seeded = seed(runtime)
    # One thread per worker: two simultaneous requests are served by two processes.
    server = LiveServer(settings, workers=2, threads=1).start()
    url = f"{server.url}/v1/key/{seeded.token}/projects/{seeded.project_id}/submission"
    try:
        rounds = [new_instance_id() for _ in range(15)]
        for iid in rounds:
            barrier = threading.Barrier(2)

            def fire(
                instance_id: str = iid, gate: threading.Barrier = barrier
            ) -> int | None:
                gate.wait()
                return send(url, instance_id)

            with ThreadPoolExecutor(2) as pool:
                statuses = [f.result() for f in [pool.submit(fire), pool.submit(fire)]]
            assert statuses == [201, 201], server.log_text()[-2000:]
    finally:
        server.stop()
    with runtime.db.read() as session:
        assert session.scalar(sa.select(sa.func.count(Submission.id))) == len(rounds)
        assert session.scalar(sa.select(sa.func.count(SubmissionVersion.id))) == len(
            rounds
        )
    assert set(stored(runtime)) == set(rounds)
