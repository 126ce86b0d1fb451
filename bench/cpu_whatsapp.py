"""The WhatsApp webhook's own CPU a delivery, in process (noise on a shared machine
disturbs it less than wrk's events/s): ``time.process_time`` around ``BENCH_WA_CPU_N``
(400) signed deliveries through the WSGI app with Flask's test client, jobs queued on
Redis, PostgreSQL's work excluded (another process). Repeated ``BENCH_WA_CPU_REPEATS``
(5) times; the median and the range, in ms a delivery. Its own database
(``BENCH_WA_DATABASE_URL``, see ``wa_setup.py``) and Redis (``BENCH_WA_REDIS_URL``)."""

from __future__ import annotations

import os
import statistics
import sys
import time

import bench_whatsapp
import wa_setup
from common import sqlalchemy_url

from core import create_app

N = int(os.environ.get("BENCH_WA_CPU_N", "400"))
REPEATS = int(os.environ.get("BENCH_WA_CPU_REPEATS", "5"))


def main() -> int:
    wa_setup.make_app()
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(wa_setup.DATABASE_URL),
            "REDIS_URL": wa_setup.REDIS_URL,
            "RATELIMIT_ENABLED": False,
            "WHATSAPP_ENCRYPTION_KEY": wa_setup.KEY,
        }
    )
    http, now = app.test_client(use_cookies=False), int(time.time())
    prefix = f"cpu{os.getpid()}"
    bodies = [bench_whatsapp.delivery(n, prefix, now) for n in range(N * (REPEATS + 1))]
    headers = [
        {"X-Hub-Signature-256": bench_whatsapp.signed(raw), "Content-Type": "application/json"}
        for raw in bodies
    ]
    cpu, wall = [], []
    for repeat in range(REPEATS + 1):  # the first round warms up
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        for n in range(repeat * N, (repeat + 1) * N):
            answer = http.post("http://127.0.0.1/webhooks/whatsapp", data=bodies[n], headers=headers[n])
            assert answer.status_code == 200, answer.status_code
        if repeat:
            cpu.append((time.process_time() - started_cpu) / N * 1000)
            wall.append((time.perf_counter() - started_wall) / N * 1000)
    print(
        f"CPU a delivery, in process: median {statistics.median(cpu):.3f} ms "
        f"(range {min(cpu):.3f}-{max(cpu):.3f}); wall median {statistics.median(wall):.3f} ms; "
        f"{N} deliveries x {REPEATS}; load {os.getloadavg()[0]:.1f}"
    )
    bench_whatsapp.clean()
    return 0


if __name__ == "__main__":
    sys.exit(main())
