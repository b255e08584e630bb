"""Submission ingest benchmark: gunicorn + N Collect-like clients on loopback.

For each backend (SQLite file, PostgreSQL database `<TEST_DATABASE_URL>_bench`)
it migrates a fresh database, publishes a test form, creates an app user,
starts gunicorn on 127.0.0.1, and runs N client processes that each do what
Collect does per instance: HEAD, then a multipart POST with a unique instanceID
and a ~50 KB photo. It prints submissions/s, POST latency percentiles, server
CPU milliseconds per submission and peak server RSS (all gunicorn processes
summed). The run is bounded by --seconds and by --max-requests per client.

    .venv/bin/python bench/ingest.py --clients 8 --seconds 20
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from bench.common import prepare  # noqa: E402
from tests.server import LiveServer  # noqa: E402
from tests.support import encuesta_xml, media_bytes, seed  # noqa: E402

# JPEG markers around random bytes: ingest checks a photo's first bytes.
PHOTO = media_bytes("image", os.urandom(50 * 1024 - 16), size=50 * 1024)
HEADERS = {"X-OpenRosa-Version": "1.0", "User-Agent": "ayni-bench"}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def client_loop(url: str, deadline: float, max_requests: int, out: mp.Queue) -> None:
    http = requests.Session()
    http.headers.update(HEADERS)
    latencies: list[float] = []
    errors = 0
    cpu_start = time.process_time()
    for _ in range(max_requests):
        if time.time() >= deadline:
            break
        iid = f"uuid:{uuid.uuid4()}"
        files = [
            (
                "xml_submission_file",
                ("i.xml", encuesta_xml(iid, asistentes=()), "text/xml"),
            ),
            ("1732455064123.jpg", ("1732455064123.jpg", PHOTO, "image/jpeg")),
        ]
        start = time.perf_counter()
        head = http.head(url, params={"deviceID": "collect:bench0000000000"})
        post = http.post(
            url, files=files, params={"deviceID": "collect:bench0000000000"}
        )
        elapsed = time.perf_counter() - start
        if head.status_code == 204 and post.status_code == 201:
            latencies.append(elapsed)
        else:
            errors += 1
    out.put((latencies, errors, time.process_time() - cpu_start))


def server_pids(root_pid: int) -> list[int]:
    pids = [root_pid]
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = path.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == root_pid:
            pids.append(int(path.parent.name))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / CLK_TCK


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def run(backend: str, args: argparse.Namespace) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix=f"ayni-bench-{backend}-") as tmp:
        settings = prepare(backend, Path(tmp))
        app = create_app(settings)
        seeded = seed(app.extensions["ayni"])
        app.extensions["ayni"].db.dispose()
        server = LiveServer(settings, workers=args.workers, threads=args.threads)
        server.start()
        assert server.process is not None
        key = f"/v1/key/{seeded.token}/projects/{seeded.project_id}"
        url = f"{server.url}{key}/submission"
        try:
            # Warm-up: imports, connection pools, first-request caches.
            warm: mp.Queue = mp.Queue()
            client_loop(url, time.time() + 2, 20, warm)
            pids = server_pids(server.process.pid)
            cpu_before = cpu_seconds(pids)
            peak = rss_bytes(pids)
            done = threading.Event()

            def sample() -> None:
                nonlocal peak
                while not done.wait(0.05):
                    peak = max(peak, rss_bytes(server_pids(server.process.pid)))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            out: mp.Queue = mp.Queue()
            deadline = time.time() + args.seconds
            started = time.perf_counter()
            procs = [
                mp.Process(
                    target=client_loop, args=(url, deadline, args.max_requests, out)
                )
                for _ in range(args.clients)
            ]
            for proc in procs:
                proc.start()
            results = [out.get() for _ in procs]
            elapsed = time.perf_counter() - started
            for proc in procs:
                proc.join()
            done.set()
            sampler.join()
            cpu = cpu_seconds(server_pids(server.process.pid)) - cpu_before
        finally:
            server.stop()
    latencies = sorted(lat for lats, _, _ in results for lat in lats)
    errors = sum(err for _, err, _ in results)
    client_cpu = sum(cpu for _, _, cpu in results)
    count = len(latencies)
    q = statistics.quantiles(latencies, n=100) if count >= 2 else [0.0] * 99
    return {
        "submissions": count,
        "errors": errors,
        "per_second": count / elapsed,
        "p50_ms": q[49] * 1000,
        "p95_ms": q[94] * 1000,
        "p99_ms": q[98] * 1000,
        "cpu_ms_per_submission": cpu * 1000 / max(count, 1),
        "peak_rss_mb": peak / 2**20,
        "client_cpu_ms_per_submission": client_cpu * 1000 / max(count, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--max-requests", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    print(
        f"clients={args.clients} workers={args.workers} threads={args.threads} "
        f"seconds={args.seconds} (HEAD + POST with a 50 KB photo each)"
    )
    header = (
        f"{'backend':<9} {'subs':>6} {'err':>4} {'subs/s':>8} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'p99 ms':>8} {'cpu ms/sub':>11} {'peak RSS MB':>12} "
        f"{'client cpu ms/sub':>18}"
    )
    print(header)
    failed = 0
    for backend in args.backends.split(","):
        r = run(backend, args)
        failed += int(r["errors"])
        print(
            f"{backend:<9} {r['submissions']:>6} {r['errors']:>4} "
            f"{r['per_second']:>8.1f} "
            f"{r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} {r['p99_ms']:>8.1f} "
            f"{r['cpu_ms_per_submission']:>11.2f} {r['peak_rss_mb']:>12.1f} "
            f"{r['client_cpu_ms_per_submission']:>18.2f}",
            flush=True,
        )
    # A refused submission is not a fast one: figures with errors are void.
    if failed:
        print(f"{failed} requests failed: the figures above do not count")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
