"""Kill test: Collect-like tablets keep sending while gunicorn is SIGKILLed again
and again; afterwards the CSV export must hold exactly what the tablets were
told was kept.

It migrates a fresh database (a SQLite file in a temporary directory, or the
PostgreSQL database given by --database-url, by default
`<TEST_DATABASE_URL>_killtest`, which is DROPPED AND RECREATED), seeds the test
form of `tests/support.py` (a photo at the root, a photo in each `asistentes`
repeat entry) and an app user, and starts a real gunicorn in its own process
group (`tests.server.LiveServer`). Then N client threads send their
submissions the way Collect does: HEAD, then a multipart POST with a distinct
instanceID, a distinct photo at the root and in 1-3 repeat entries; some are
split into two POSTs (the first carrying `*isIncomplete*`=yes, openrosa.md
§4.2). Meanwhile a killer SIGKILLs the whole server group --kills times, each
0.2-1.5 s after the server came back, and restarts it on the same port. A
client resends the whole submission, identical XML, after any failure or any
answer but 201 (openrosa.md §4.4), until every POST of one attempt got 201.

Verification goes through the API, as an analyst would: a Bearer session for
the admin, then `submissions.csv.zip` with media. Every acknowledged
submission must be in the root table exactly once, every repeat entry in the
repeat table under the right PARENT_KEY, every photo in `media/` with the
sha256 of the bytes sent. Figures are printed; the exit status is 1 if
anything was lost, duplicated, corrupted or missing.

    .venv/bin/python bench/killtest.py                      # SQLite
    .venv/bin/python bench/killtest.py --backend postgres
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench.common  # noqa: E402
from app import create_app  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db import create_db_engine  # noqa: E402
from app.db.models import Submission, SubmissionAttachment, SubmissionVersion  # noqa: E402
from tests.server import LiveServer  # noqa: E402
from tests.support import ADMIN_PASSWORD, encuesta_xml, seed  # noqa: E402

FORM_ID = "encuesta"
REPEAT = "asistentes"
USER_AGENT = "org.odk.collect.android/v2026.3.3 Dalvik/2.1.0 (ayni-killtest)"
HEADERS = {"X-OpenRosa-Version": "1.0", "User-Agent": USER_AGENT}
TIMEOUT = (5, 60)  # Collect: 30 s connect, 60 s read
BACKOFF = (0.05, 0.3)  # seconds a client waits before resending
FIRST_MEDIA_NAME = 1732455064123  # Collect names media <epoch-millis>.jpg


# --- what the tablets send -------------------------------------------------------


@dataclass(frozen=True)
class Photo:
    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Planned:
    """One filled-in form on one tablet, and what became of sending it."""

    instance_id: str
    nombre: str
    root_photo: Photo
    repeats: list[tuple[str, Photo]]  # (asistente, photo) per repeat entry
    split_at: int | None  # photos in the first POST of a split upload
    xml: bytes = b""
    attempts: int = 0
    acknowledged: bool = False

    @property
    def photos(self) -> list[Photo]:
        return [self.root_photo, *(photo for _name, photo in self.repeats)]

    def posts(self) -> list[tuple[list[tuple], list[str]]]:
        """The multipart bodies of one attempt as Collect would send them, each
        with the names of the photos it carries."""
        xml_part = ("xml_submission_file", ("instance.xml", self.xml, "text/xml"))

        def body(photos: list[Photo], *extra: tuple) -> tuple[list[tuple], list[str]]:
            parts = [(p.name, (p.name, p.data, "image/jpeg")) for p in photos]
            return [xml_part, *parts, *extra], [p.name for p in photos]

        photos = self.photos
        if self.split_at is None:
            return [body(photos)]
        # No filename and no type: Collect's marker part (openrosa.md §4.2).
        incomplete = ("*isIncomplete*", (None, b"yes"))
        return [
            body(photos[: self.split_at], incomplete),
            body(photos[self.split_at :]),
        ]


def plan_client(
    rng: random.Random, client: int, count: int, split_share: float
) -> list[Planned]:
    """`count` submissions for tablet number `client`, all names and bytes distinct."""
    planned = []
    for n in range(count):
        media_number = FIRST_MEDIA_NAME + client * 1_000_000 + n * 10

        def photo(offset: int, media_number: int = media_number) -> Photo:
            # A JPEG's markers around random bytes: several KB, never repeated.
            body = rng.randbytes(rng.randint(3 * 1024, 12 * 1024))
            return Photo(
                f"{media_number + offset}.jpg", b"\xff\xd8\xff\xe0" + body + b"\xff\xd9"
            )

        repeats = [
            (f"Asistente {client}-{n}-{i}", photo(i + 1))
            for i in range(rng.randint(1, 3))
        ]
        total = 1 + len(repeats)
        split_at = rng.randint(1, total - 1) if rng.random() < split_share else None
        sub = Planned(
            instance_id=f"uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}",
            nombre=f"Tableta {client} formulario {n}",
            root_photo=photo(0),
            repeats=repeats,
            split_at=split_at,
        )
        sub.xml = encuesta_xml(
            sub.instance_id,
            nombre=sub.nombre,
            foto=sub.root_photo.name,
            asistentes=tuple((name, p.name) for name, p in sub.repeats),
        )
        planned.append(sub)
    return planned


# --- the run ---------------------------------------------------------------------


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    heads: int = 0
    posts: int = 0
    created: int = 0  # POSTs answered 201
    retries: int = 0  # whole submissions sent again
    stored_unanswered: int = 0  # POSTs committed whose answer a kill cut off
    in_flight: int = 0
    failures: Counter = field(default_factory=Counter)  # status or exception name
    kills: int = 0
    kills_in_flight: int = 0  # kills that cut at least one request short
    restart_seconds: list[float] = field(default_factory=list)
    abort: threading.Event = field(default_factory=threading.Event)
    killer_error: str | None = None

    def add(self, **deltas: int) -> None:
        with self.lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def fail(self, reason: str) -> None:
        with self.lock:
            self.failures[reason] += 1


class ServerHolder:
    """The gunicorn currently serving; replaced at every kill, same port."""

    def __init__(self, settings: Settings, workers: int, threads: int) -> None:
        self.settings, self.workers, self.threads = settings, workers, threads
        self.server = LiveServer(settings, workers=workers, threads=threads)
        self.port = self.server.port
        self.server.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def restart(self) -> None:
        last: Exception | None = None
        for _ in range(5):
            server = LiveServer(
                self.settings,
                workers=self.workers,
                threads=self.threads,
                port=self.port,
            )
            try:
                self.server = server.start()
                return
            except RuntimeError as exc:  # the port not free yet, a slow boot
                last = exc
                time.sleep(1)
        raise RuntimeError(f"server did not come back: {last}")


def request(stats: Stats, http: requests.Session, method: str, url: str, **kw):
    stats.add(in_flight=1)
    try:
        return http.request(method, url, timeout=TIMEOUT, **kw)
    except requests.RequestException as exc:
        stats.fail(type(exc).__name__)
        return None
    finally:
        stats.add(in_flight=-1)


def send_once(
    stats: Stats, http: requests.Session, url: str, sub: Planned
) -> bool | tuple[list[str], datetime]:
    """One attempt at sending `sub` as Collect does: HEAD, then every POST.

    True when every POST got 201; for a POST that got no answer at all, the
    photos it carried and when it left; False otherwise.
    """
    stats.add(heads=1)
    head = request(stats, http, "HEAD", url)
    if head is None:
        return False
    if head.status_code != 204:
        stats.fail(f"HEAD {head.status_code}")
        return False
    for files, names in sub.posts():
        stats.add(posts=1)
        left = datetime.now(UTC)
        post = request(stats, http, "POST", url, files=files)
        if post is None:
            return names, left
        if post.status_code != 201:
            stats.fail(f"POST {post.status_code}")
            return False
        stats.add(created=1)
    return True


def stored_since(
    engine: sa.Engine, instance_id: str, names: list[str], since: datetime
) -> bool:
    """Whether a POST that got no answer was committed anyway: every photo it
    carried is attached to the record, written at or after it left."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                SubmissionAttachment.name,
                SubmissionAttachment.blob_id,
                SubmissionAttachment.created_at,
                SubmissionAttachment.updated_at,
            )
            .join(
                SubmissionVersion,
                SubmissionVersion.id == SubmissionAttachment.submission_version_id,
            )
            .where(
                SubmissionVersion.instance_id == instance_id,
                SubmissionAttachment.name.in_(names),
            )
        ).all()
    written = {
        name
        for name, blob_id, created, updated in rows
        if blob_id is not None and max(created, updated or created) >= since
    }
    return written == set(names)


def run_client(
    stats: Stats,
    engine: sa.Engine,
    url: str,
    device_id: str,
    subs: list[Planned],
    rng: random.Random,
    think: float,
    max_attempts: int,
) -> None:
    http = requests.Session()
    http.headers.update(HEADERS)
    http.params = {"deviceID": device_id}  # type: ignore[assignment]
    for sub in subs:
        time.sleep(rng.uniform(0, 2 * think))  # the enumerator fills the next form
        while sub.attempts < max_attempts and not stats.abort.is_set():
            sub.attempts += 1
            outcome = send_once(stats, http, url, sub)
            if outcome is True:
                sub.acknowledged = True
                break
            stats.add(retries=1)
            time.sleep(rng.uniform(*BACKOFF))
            if isinstance(outcome, tuple) and stored_since(
                engine, sub.instance_id, *outcome
            ):
                # Kept, but the tablet was never told: the resend below is
                # exactly the case that must not make a second record.
                stats.add(stored_unanswered=1)
    http.close()


def run_killer(
    stats: Stats,
    holder: ServerHolder,
    kills: int,
    gaps: tuple[float, float],
    rng: random.Random,
    clients_done: threading.Event,
) -> None:
    for _ in range(kills):
        if clients_done.wait(rng.uniform(*gaps)):
            return  # nothing left to interrupt
        with stats.lock:
            cut_short = stats.in_flight > 0
        holder.server.kill()  # master and workers, as a power cut would
        stats.add(kills=1, kills_in_flight=int(cut_short))
        started = time.monotonic()
        try:
            holder.restart()
        except RuntimeError as exc:
            stats.killer_error = str(exc)
            stats.abort.set()  # no server: the clients would only spin
            return
        stats.restart_seconds.append(time.monotonic() - started)


# --- the database ----------------------------------------------------------------


def prepare(args: argparse.Namespace, workdir: Path) -> Settings:
    return bench.common.prepare(
        args.backend,
        workdir,
        postgres_url=args.database_url or bench.common.bench_postgres_url("_killtest"),
        blob_backend=args.blob_backend,
        secret_key="killtest",
    )


def database_counts(url: str) -> dict[str, int]:
    engine = create_db_engine(url)
    with engine.connect() as conn:

        def count(model, *where) -> int:  # type: ignore[no-untyped-def]
            query = sa.select(sa.func.count()).select_from(model).where(*where)
            return int(conn.scalar(query) or 0)

        found = {
            "submissions": count(Submission),
            "versions": count(SubmissionVersion),
            "attachments without bytes": count(
                SubmissionAttachment, SubmissionAttachment.blob_id.is_(None)
            ),
        }
    engine.dispose()
    return found


# --- verification ----------------------------------------------------------------


def export_zip(base_url: str, project_id: int) -> zipfile.ZipFile:
    signed_in = requests.post(
        f"{base_url}/v1/sessions",
        json={"email": "admin@localhost", "password": ADMIN_PASSWORD},
        timeout=30,
    )
    signed_in.raise_for_status()
    token = signed_in.json()["token"]
    response = requests.get(
        f"{base_url}/v1/projects/{project_id}/forms/{FORM_ID}/submissions.csv.zip",
        headers={"Authorization": f"Bearer {token}"},
        timeout=600,
    )
    response.raise_for_status()
    return zipfile.ZipFile(io.BytesIO(response.content))


def read_table(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    with archive.open(name) as raw:
        return list(csv.DictReader(io.TextIOWrapper(raw, "utf-8", newline="")))


@dataclass
class Verdict:
    lost: int = 0
    duplicated: int = 0
    unexpected_rows: int = 0  # root rows no tablet sent
    wrong_rows: int = 0  # root rows whose values or attachment counts differ
    repeat_rows_wrong: int = 0  # missing, duplicated or under another parent
    corrupted: int = 0
    missing_media: int = 0
    media_files: int = 0
    root_rows: int = 0
    repeat_rows: int = 0

    @property
    def failed(self) -> bool:
        return any(
            (
                self.lost,
                self.duplicated,
                self.unexpected_rows,
                self.wrong_rows,
                self.repeat_rows_wrong,
                self.corrupted,
                self.missing_media,
            )
        )


def verify(archive: zipfile.ZipFile, subs: list[Planned]) -> Verdict:
    verdict = Verdict()
    names = set(archive.namelist())
    root = read_table(archive, f"{FORM_ID}.csv")
    repeat_table = f"{FORM_ID}-{REPEAT}.csv"
    repeats = read_table(archive, repeat_table) if repeat_table in names else []
    verdict.root_rows, verdict.repeat_rows = len(root), len(repeats)
    verdict.media_files = sum(1 for n in names if n.startswith("media/"))
    rows_by_id: dict[str, list[dict[str, str]]] = {}
    for row in root:
        rows_by_id.setdefault(row["KEY"], []).append(row)
    repeat_rows_by_key: dict[str, list[dict[str, str]]] = {}
    for row in repeats:
        repeat_rows_by_key.setdefault(row["KEY"], []).append(row)
    sent = {sub.instance_id for sub in subs}
    verdict.unexpected_rows = sum(
        len(r) for k, r in rows_by_id.items() if k not in sent
    )
    verdict.repeat_rows_wrong += sum(
        len(r) for k, r in repeat_rows_by_key.items() if k.split("/")[0] not in sent
    )
    for sub in subs:
        rows = rows_by_id.get(sub.instance_id, [])
        if not sub.acknowledged:
            continue  # never told "kept": nothing to check (counted apart)
        if not rows:
            verdict.lost += 1
            verdict.missing_media += len(sub.photos)
            continue
        verdict.duplicated += len(rows) - 1
        row = rows[0]
        expected_count = str(len(sub.photos))
        if (
            row["meta-instanceID"] != sub.instance_id
            or row["nombre"] != sub.nombre
            or row["foto"] != sub.root_photo.name
            or row["AttachmentsPresent"] != expected_count
            or row["AttachmentsExpected"] != expected_count
        ):
            verdict.wrong_rows += 1
        for n, (asistente, photo) in enumerate(sub.repeats, start=1):
            found = repeat_rows_by_key.get(f"{sub.instance_id}/{REPEAT}[{n}]", [])
            if len(found) != 1 or (
                found[0]["PARENT_KEY"] != sub.instance_id
                or found[0]["asistente"] != asistente
                or found[0]["foto_asistente"] != photo.name
            ):
                verdict.repeat_rows_wrong += 1
        extra = len(
            [k for k in repeat_rows_by_key if k.startswith(f"{sub.instance_id}/")]
        ) - len(sub.repeats)
        verdict.repeat_rows_wrong += max(extra, 0)
        for photo in sub.photos:
            member = f"media/{photo.name}"
            if member not in names:
                verdict.missing_media += 1
            elif hashlib.sha256(archive.read(member)).hexdigest() != photo.sha256:
                verdict.corrupted += 1
    return verdict


# --- report ----------------------------------------------------------------------


def blob_temp_files(settings: Settings) -> int:
    """`.incoming-*` files a kill left in the blob store (harmless, never named)."""
    assert settings.blob_dir is not None
    if not settings.blob_dir.is_dir():
        return 0
    return sum(1 for _ in settings.blob_dir.rglob(".incoming-*"))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--submissions", type=int, default=200, help="per client (default 200)"
    )
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL only; the database is DROPPED AND RECREATED "
        "(default <TEST_DATABASE_URL>_killtest)",
    )
    parser.add_argument(
        "--blob-backend", choices=("filesystem", "database"), default="filesystem"
    )
    parser.add_argument("--seed", type=int, default=None, help="random generator seed")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--think",
        type=float,
        default=0.1,
        help="mean seconds a tablet waits between two forms (default 0.1)",
    )
    parser.add_argument("--split-share", type=float, default=0.3)
    parser.add_argument("--min-gap", type=float, default=0.2)
    parser.add_argument("--max-gap", type=float, default=1.5)
    parser.add_argument("--max-attempts", type=int, default=200)
    parser.add_argument(
        "--keep", action="store_true", help="keep the work directory (logs, database)"
    )
    args = parser.parse_args()
    seed_value = args.seed if args.seed is not None else random.randrange(2**31)
    rng = random.Random(seed_value)

    workdir = Path(tempfile.mkdtemp(prefix=f"ayni-killtest-{args.backend}-"))
    settings = prepare(args, workdir)
    app = create_app(settings)
    seeded = seed(app.extensions["ayni"])
    app.extensions["ayni"].db.dispose()

    plans = [
        plan_client(
            random.Random(rng.getrandbits(64)), c, args.submissions, args.split_share
        )
        for c in range(args.clients)
    ]
    subs = [sub for plan in plans for sub in plan]
    holder = ServerHolder(settings, args.workers, args.threads)
    url = f"{holder.url}/v1/key/{seeded.token}/projects/{seeded.project_id}/submission"
    stats = Stats()
    engine = create_db_engine(settings.database_url)  # to look, never to write
    clients_done = threading.Event()
    started = time.monotonic()
    clients = [
        threading.Thread(
            target=run_client,
            args=(
                stats,
                engine,
                url,
                f"collect:killtest{c:08d}",
                plan,
                random.Random(rng.getrandbits(64)),
                args.think,
                args.max_attempts,
            ),
        )
        for c, plan in enumerate(plans)
    ]
    killer = threading.Thread(
        target=run_killer,
        args=(
            stats,
            holder,
            args.kills,
            (args.min_gap, args.max_gap),
            random.Random(rng.getrandbits(64)),
            clients_done,
        ),
    )
    try:
        for thread in clients:
            thread.start()
        killer.start()
        for thread in clients:
            thread.join()
        clients_done.set()
        sending = time.monotonic() - started
        killer.join()
        if stats.killer_error:
            print(f"ABORTED: {stats.killer_error}", file=sys.stderr)
            print(f"work directory kept: {workdir}", file=sys.stderr)
            return 2
        verify_started = time.monotonic()
        archive = export_zip(holder.url, seeded.project_id)
        verdict = verify(archive, subs)
        verifying = time.monotonic() - verify_started
    finally:
        holder.server.stop()
        engine.dispose()
    counts = database_counts(settings.database_url)
    leftovers = blob_temp_files(settings)

    acknowledged = sum(1 for sub in subs if sub.acknowledged)
    never = len(subs) - acknowledged
    photos = sum(len(sub.photos) for sub in subs)
    restarts = stats.restart_seconds
    failed = verdict.failed or never > 0
    figures = [
        ("backend", f"{args.backend} (blobs: {args.blob_backend})"),
        ("seed", seed_value),
        ("kills", f"{stats.kills} of {args.kills} asked"),
        ("kills with requests in flight", stats.kills_in_flight),
        (
            "restart seconds (mean / max)",
            f"{sum(restarts) / max(len(restarts), 1):.2f} / {max(restarts or [0]):.2f}",
        ),
        (
            "submissions",
            f"{len(subs)} ({args.clients} clients x {args.submissions}; "
            f"{sum(1 for s in subs if s.split_at)} split in two POSTs)",
        ),
        ("photos sent", photos),
        ("HEAD / POST requests", f"{stats.heads} / {stats.posts}"),
        ("201s", stats.created),
        ("retries (whole submission resent)", stats.retries),
        ("POSTs stored but unanswered (then resent)", stats.stored_unanswered),
        (
            "failed requests",
            ", ".join(f"{k}: {v}" for k, v in sorted(stats.failures.items())) or "0",
        ),
        ("acknowledged (every POST 201)", acknowledged),
        ("never acknowledged", never),
        (
            "export rows: root / repeat / media",
            (f"{verdict.root_rows} / {verdict.repeat_rows} / {verdict.media_files}"),
        ),
        (
            "database: submissions / versions",
            (f"{counts['submissions']} / {counts['versions']}"),
        ),
        ("database: attachments without bytes", counts["attachments without bytes"]),
        (".incoming-* blob files at the end", leftovers),
        ("lost", verdict.lost),
        ("duplicated", verdict.duplicated),
        ("unexpected root rows", verdict.unexpected_rows),
        ("root rows with wrong values", verdict.wrong_rows),
        ("repeat rows missing or misplaced", verdict.repeat_rows_wrong),
        ("corrupted media", verdict.corrupted),
        ("missing media", verdict.missing_media),
        ("wall time: sending / export+verify", f"{sending:.1f} s / {verifying:.1f} s"),
        ("result", "FAIL" if failed else "OK"),
    ]
    width = max(len(label) for label, _ in figures)
    for label, value in figures:
        print(f"{label:<{width}}  {value}")
    if stats.kills < args.kills:
        print(
            "note: the clients finished before every kill; raise --submissions "
            "or --think to keep them busy longer"
        )
    if failed or args.keep:
        print(f"work directory kept: {workdir} (gunicorn-*.log, database, blobs)")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
