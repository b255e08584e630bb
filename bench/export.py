"""Export benchmark: 10 000 and 100 000 `reunion_cdp` submissions with repeats,
exported as CSV zip and XLSX, and read through the OData feed; prints wall
time, time to the first byte, bytes out, the reading process's peak RSS and
CPU time, and records per second for each.

Submissions are built once by the test instance builder (three attendees, three
agreements, three commitments, photos named) and bulk-inserted with fresh
instanceIDs, so generation takes seconds; the export itself runs the real
service (`app.exports.service`) in a child process whose peak RSS is measured
alone. Backends: SQLite file and PostgreSQL `<TEST_DATABASE_URL>_bench`.

The `odata` leg reads `Submissions` as pyODK and Power BI do: pages of
`--odata-top` rows (1000 by default), each next page by its
`@odata.nextLink` (`$skiptoken`), through the whole HTTP stack (a test client
of the app, signed in as the site admin), until no link is left; its first
byte is the first page's.

    .venv/bin/python bench/export.py --sizes 10000,100000 --backends sqlite,postgres
    .venv/bin/python bench/export.py --sizes 10000 --formats odata --odata-top 1000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.auth import accounts, sessions  # noqa: E402
from app.auth.actors import actor_for_user  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db.models import Submission, SubmissionVersion  # noqa: E402
from app.exports import service as exports_service  # noqa: E402
from app.forms import service as forms_service  # noqa: E402
from app.forms.compiler import compile_xlsform  # noqa: E402
from app.forms.xform import parse_xform  # noqa: E402
from app.submissions.parser import extract_values, parse_instance  # noqa: E402
from bench.common import prepare  # noqa: E402
from tests.integration.forms.instances import build_instance  # noqa: E402
from tests.support import seed  # noqa: E402

FORM = ROOT / "xlsforms" / "reunion_cdp.xlsx"
ODATA_TOP = 1000


def peak_rss_mb() -> float:
    """This process's own peak RSS. Linux keeps `ru_maxrss` across the exec
    of a spawned child, so it would report the parent's peak (the populate
    step); the kernel's high-water mark of this address space does not."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def populate(runtime, size: int) -> int:  # type: ignore[no-untyped-def]
    """Publish reunion_cdp and bulk-insert `size` submissions; return form id."""
    seeded = seed(runtime)
    compiled = compile_xlsform(FORM.read_bytes(), filename=FORM.name)
    with runtime.db.transaction() as session:
        result = forms_service.publish_form(
            session, runtime.blobs, project_id=seeded.project_id, compiled=compiled
        )
        form_id, version_id = result.form.id, result.version.id
    schema = parse_xform(compiled.xml)
    templates = []
    for n in range(20):
        built = build_instance(
            schema, compiled.xml, {"nombre": f"Persona {n}", "temas": f"Tema {n}"}
        )
        _info, root = parse_instance(built.xml)
        templates.append((built.xml, built.instance_id, extract_values(root, schema)))
    start = datetime(2025, 1, 1, tzinfo=UTC)
    batch = 2000
    with runtime.db.engine.begin() as conn:
        for offset in range(0, size, batch):
            subs, versions = [], []
            for i in range(offset, min(offset + batch, size)):
                xml, old_id, values = templates[i % len(templates)]
                iid = f"uuid:{uuid.UUID(int=i + 1)}"
                xml = xml.replace(old_id.encode(), iid.encode())
                values = {
                    **values,
                    "meta": {**values.get("meta", {}), "instanceID": iid},
                }
                created = start + timedelta(minutes=i)
                subs.append(
                    {
                        "id": i + 1,
                        "form_id": form_id,
                        "instance_id": iid,
                        "review_state": "received",
                        "created_at": created,
                        "device_id": "collect:bench",
                    }
                )
                versions.append(
                    {
                        "id": i + 1,
                        "submission_id": i + 1,
                        "form_id": form_id,
                        "form_version_id": version_id,
                        "instance_id": iid,
                        "xml": xml,
                        "xml_sha256": hashlib.sha256(xml).hexdigest(),
                        "field_values": values,
                        "current": True,
                        "created_at": created,
                    }
                )
            conn.execute(sa.insert(Submission), subs)
            conn.execute(sa.insert(SubmissionVersion), versions)
            conn.execute(
                sa.update(Submission)
                .where(Submission.id.between(offset + 1, offset + len(subs)))
                .values(current_version_id=Submission.id)
            )
    return form_id


def export_child(settings: Settings, fmt: str, out: mp.Queue) -> None:
    app = create_app(settings)
    runtime = app.extensions["ayni"]
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    first_byte = None
    size = 0
    with runtime.db.read() as session:
        admin = accounts.get_user(session, "admin")
        actor = actor_for_user(session, admin)
        plan = exports_service.plan_export(
            session,
            project_id=1,
            xml_form_id="reunion_cdp",
            actor=actor,
            options=exports_service.ExportOptions(format=fmt, labels_lang="es"),
        )
    with runtime.db.read() as session:
        for chunk in exports_service.export_chunks(session, runtime.blobs, plan):
            if first_byte is None:
                first_byte = time.perf_counter() - started
            size += len(chunk)
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_before
    out.put((elapsed, first_byte or elapsed, size, peak_rss_mb(), cpu, None))


def odata_child(settings: Settings, top: int, out: mp.Queue) -> None:
    """Read every `Submissions` row page by page, following the next links."""
    app = create_app(settings)
    runtime = app.extensions["ayni"]
    with runtime.db.transaction() as session:
        admin = accounts.get_user(session, "admin")
        token = sessions.create_session(session, admin).token
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    # As Power BI and pyODK's get_table(expand="*") read a form: every repeat
    # (attendees, agreements, commitments, photos) inline in its meeting.
    url: str | None = (
        f"/v1/projects/1/forms/reunion_cdp.svc/Submissions?$top={top}&$expand=*"
    )
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    first_byte = None
    size = records = 0
    while url is not None:
        response = client.get(url, headers=headers, buffered=False)
        if response.status_code != 200:
            raise SystemExit(f"OData page {url}: {response.status_code}")
        chunks = []
        for chunk in response.response:
            if first_byte is None:
                first_byte = time.perf_counter() - started
            chunks.append(chunk if isinstance(chunk, bytes) else chunk.encode())
        response.close()
        body = b"".join(chunks)
        size += len(body)
        # Like a streaming client, read only what paging needs: the root rows
        # (each has the record's instanceID as `__id`; repeat rows have hashes)
        # and the footer's next link. Decoding 100 MB of rows would charge
        # the client's JSON work to the server in this one process.
        records += body.count(b'"__id":"uuid:')
        footer = json.loads(b"{" + body[body.rindex(b'"@odata.context"') :])
        link = footer.get("@odata.nextLink")
        url = None
        if link:
            parts = urlsplit(link)
            url = f"{parts.path}?{parts.query}"
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_before
    out.put((elapsed, first_byte or elapsed, size, peak_rss_mb(), cpu, records))


def measure(
    settings: Settings, fmt: str, odata_top: int = ODATA_TOP
) -> tuple[float, float, int, float, float, int | None]:
    ctx = mp.get_context("spawn")  # a fresh process: its peak RSS is the export's
    out: mp.Queue = ctx.Queue()
    if fmt == "odata":
        proc = ctx.Process(target=odata_child, args=(settings, odata_top, out))
    else:
        proc = ctx.Process(target=export_child, args=(settings, fmt, out))
    proc.start()
    result = out.get()
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--formats", default="csv.zip,xlsx,odata")
    parser.add_argument("--odata-top", type=int, default=ODATA_TOP)
    args = parser.parse_args()
    print(
        f"{'backend':<9} {'subs':>7} {'format':<8} {'seconds':>8} "
        f"{'1st byte s':>10} {'MB out':>7} {'peak RSS MB':>12} {'CPU s':>7} "
        f"{'subs/s':>8}"
    )
    for backend in args.backends.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            with tempfile.TemporaryDirectory(prefix="ayni-xbench-") as tmp:
                settings = prepare(backend, Path(tmp))
                app = create_app(settings)
                runtime = app.extensions["ayni"]
                populate(runtime, size)
                runtime.db.dispose()
                for fmt in args.formats.split(","):
                    elapsed, first, out_bytes, peak, cpu, rows = measure(
                        settings, fmt, args.odata_top
                    )
                    if rows is not None and rows != size:
                        raise SystemExit(f"OData gave {rows} rows of {size}")
                    print(
                        f"{backend:<9} {size:>7} {fmt:<8} {elapsed:>8.1f} "
                        f"{first:>10.2f} {out_bytes / 2**20:>7.1f} {peak:>12.1f} "
                        f"{cpu:>7.1f} {size / elapsed:>8.0f}",
                        flush=True,
                    )


if __name__ == "__main__":
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    main()
