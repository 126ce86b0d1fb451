"""The inbox page (``GET /app/``) of a client with ``BENCH_WA_CONVERSATIONS`` (100,000)
conversations, each with its contact and one message (``wa_setup.add_conversations``:
30 % open, 30 % in the queue, the rest spread over ten agents), seen by a chat level 6
user (every tab): the median server time of the request through the WSGI app (full page
and htmx partial; the default tab "mine", and "all" and "queue"), against the *floor*:
every SQL statement that request sent, captured with its parameters and replayed by raw
psycopg in one transaction, as the app sends them. Page and floor take turns. Target
(issue 17): ≤ 15 ms. When a case misses, or with ``BENCH_STATEMENTS=1``, each statement
is listed with its median time in the replay. Its own database (``BENCH_WA_DATABASE_URL``,
see ``wa_setup.py``)."""

from __future__ import annotations

import os
import statistics
import sys
import time

import psycopg
import wa_setup
from common import RUNS, WARMUP, machine, medians_ms, save
from sqlalchemy import event

from core.extensions import db

TARGET_MS = 15.0
CASES = (
    ("mine (default), full", "/app/", False),
    ("mine (default), partial", "/app/", True),
    ("all, full", "/app/?view=all", False),
    ("queue, full", "/app/?view=queue", False),
)


def captured(app, get) -> list[tuple[str, object]]:
    """The statements (and parameters) one request sends."""
    seen: list[tuple[str, object]] = []

    def listen(_conn, _cursor, statement, parameters, _context, _executemany) -> None:
        seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listen)
    try:
        get()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return seen


def replay(raw: psycopg.Connection, statements, times: list[list[float]] | None = None) -> None:
    with raw.cursor() as cursor:
        for n, (statement, parameters) in enumerate(statements):
            began = time.perf_counter()
            cursor.execute(statement, parameters)
            if cursor.description:
                cursor.fetchall()
            if times is not None:
                times[n].append((time.perf_counter() - began) * 1000)
    raw.commit()


def breakdown(raw, statements) -> list[tuple[float, str]]:
    times: list[list[float]] = [[] for _ in statements]
    for _ in range(WARMUP):
        replay(raw, statements)
    for _ in range(RUNS):
        replay(raw, statements, times)
    return [
        (statistics.median(t), " ".join(s.split())[:150])
        for t, (s, _p) in zip(times, statements, strict=True)
    ]


def main() -> int:
    app = wa_setup.make_app()
    began = time.perf_counter()
    count = wa_setup.add_conversations()
    made = time.perf_counter() - began
    base = f"http://{wa_setup.HOST}"
    cookie = f"rv_session={wa_setup.session_cookie(app)}"
    http = app.test_client(use_cookies=False)  # the Cookie header as given
    raw = psycopg.connect(wa_setup.DATABASE_URL)
    before = machine()
    print(
        f"inbox of a client with {count:,} conversations ({made:.0f} s to make or find); a level 6 user; "
        f"medians of {RUNS} runs after {WARMUP} warm-ups, page and floor taking turns; load {before}",
        flush=True,
    )
    print(f"{'case':26} {'page':>7} {'floor':>7} {'stmts':>6} {'ratio':>6}  verdict")
    results, show = [], os.environ.get("BENCH_STATEMENTS") == "1"
    for label, path, partial in CASES:
        headers = {"Cookie": cookie, **({"HX-Request": "true"} if partial else {})}

        def page(p=path, h=headers):
            response = http.get(f"{base}{p}", headers=h)
            assert response.status_code == 200 and b"/app/conversations/" in response.data, (
                response.status_code
            )

        for _ in range(WARMUP):
            page()
        statements = captured(app, page)
        measured = medians_ms({"page": page, "floor": lambda s=statements: replay(raw, s)})
        page_ms, floor_ms = measured["page"], measured["floor"]
        ok = page_ms <= TARGET_MS
        print(
            f"{label:26} {page_ms:7.1f} {floor_ms:7.1f} {len(statements):>6} {page_ms / floor_ms:6.2f}  "
            f"{'ok' if ok else f'MISSED (> {TARGET_MS:.0f} ms)'}",
            flush=True,
        )
        listed = breakdown(raw, statements) if show or not ok else []
        for ms, text in listed:
            print(f"    {ms:7.2f} ms  {text}")
        results.append(
            {
                "case": label,
                "path": path,
                "partial": partial,
                "page_ms": round(page_ms, 2),
                "floor_ms": round(floor_ms, 2),
                "statements": len(statements),
                "ok": ok,
                "statement_ms": [(round(ms, 3), text) for ms, text in listed],
            }
        )
    after = machine()
    path = save(
        "inbox", {"conversations": count, "machine_before": before, "machine_after": after, "cases": results}
    )
    print(f"load {before} → {after}; results in {path}")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
