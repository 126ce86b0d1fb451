"""The inbox page's own CPU a request, in process (noise on a shared machine disturbs it
less than wall times): ``time.process_time`` around ``BENCH_INBOX_CPU_N`` (40) requests
of each case of ``bench_inbox.py`` through the WSGI app with Flask's test client,
PostgreSQL's work excluded (another process), repeated ``BENCH_INBOX_CPU_REPEATS`` (5)
times; the median CPU and wall ms a page. ``BENCH_PROFILE=1`` profiles each case instead
(cProfile timed by ``time.process_time``: the ``BENCH_PROFILE_TOP`` (25) functions with the
most cumulative CPU). Its
own database (``BENCH_WA_DATABASE_URL``, see ``wa_setup.py``): run ``bench_inbox.py``
once first to make the 100,000 conversations."""

from __future__ import annotations

import cProfile
import os
import pstats
import statistics
import sys
import time

import bench_inbox
import wa_setup

N = int(os.environ.get("BENCH_INBOX_CPU_N", "40"))
REPEATS = int(os.environ.get("BENCH_INBOX_CPU_REPEATS", "5"))
PROFILE = os.environ.get("BENCH_PROFILE") == "1"
TOP = int(os.environ.get("BENCH_PROFILE_TOP", "25"))


def main() -> int:
    app = wa_setup.make_app()
    http = app.test_client(use_cookies=False)
    cookie = f"rv_session={wa_setup.session_cookie(app)}"
    base = f"http://{wa_setup.HOST}"
    print(f"{N} requests x {REPEATS} a case; load {os.getloadavg()[0]:.1f}", flush=True)
    for label, path, partial in bench_inbox.CASES:
        headers = {"Cookie": cookie, **({"HX-Request": "true"} if partial else {})}

        def page(p=path, h=headers):
            response = http.get(f"{base}{p}", headers=h)
            assert response.status_code == 200 and b"/app/conversations/" in response.data

        for _ in range(5):
            page()
        if PROFILE:
            profiler = cProfile.Profile(time.process_time)  # CPU, not the wait on PostgreSQL
            profiler.enable()
            for _ in range(N):
                page()
            profiler.disable()
            print(f"--- {label}")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(TOP)
            continue
        cpu, wall = [], []
        for _ in range(REPEATS):
            started_cpu, started_wall = time.process_time(), time.perf_counter()
            for _ in range(N):
                page()
            cpu.append((time.process_time() - started_cpu) / N * 1000)
            wall.append((time.perf_counter() - started_wall) / N * 1000)
        print(
            f"{label:26} CPU median {statistics.median(cpu):6.2f} ms (range {min(cpu):.2f}-{max(cpu):.2f}); "
            f"wall median {statistics.median(wall):6.2f} ms",
            flush=True,
        )
    print(f"load {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
