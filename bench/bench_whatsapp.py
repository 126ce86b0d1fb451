"""WhatsApp webhook intake under gunicorn (2 workers, the machine's 2 cores), load from
wrk on the same machine (``wrk_whatsapp.lua`` cycles through pre-signed deliveries, each
a text message with its own message id): events/s of the app's ``POST /webhooks/whatsapp``
(JSON parsed, the channel found by its phone number id, its app secret unsealed, the
``X-Hub-Signature-256`` HMAC checked, the raw event stored in ``whatsapp_events`` and the
drain job queued on Redis before the 200) against the floor, ``whatsapp_floor.py``, a bare
Flask handler that checks the same HMAC and inserts the raw body. App and floor take
turns ``BENCH_WEBHOOK_ROUNDS`` (3) times; medians count. Targets (issue 17): ≥ 1,000
events/s on 2 cores, ≤ 1.5 × the floor's time. Its own database (``BENCH_WA_DATABASE_URL``,
see ``wa_setup.py``) and Redis db 10 (``BENCH_WA_REDIS_URL``)."""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from hashlib import sha256
from pathlib import Path
from string import Template

import psycopg
import wa_setup
from bench_webhooks import free_port, wait_up
from common import ROOT, machine, save, sqlalchemy_url
from redis import Redis
from sqlalchemy import event
from sqlalchemy.orm import Session

from core import create_app, scope
from core.extensions import db

DURATION = os.environ.get("BENCH_WEBHOOK_DURATION", "8s")
ROUNDS = int(os.environ.get("BENCH_WEBHOOK_ROUNDS", "3"))
EVENTS = 60000
TARGET_EPS = 1000.0
RATIO_TARGET = 1.5
FIXTURE = Template((ROOT / "tests" / "whatsapp" / "text.json").read_text())


def delivery(n: int, prefix: str, now: int) -> bytes:
    text = FIXTURE.substitute(
        PHONE_NUMBER_ID=wa_setup.PHONE_NUMBER_ID,
        WABA_ID="102290129340398",
        FROM=f"55119{n % 100000:08d}",
        WAMID=f"wamid.bench.{prefix}.{n}",
        TIMESTAMP=str(now),
    )
    return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False).encode()  # one line


def signed(raw: bytes) -> str:
    return "sha256=" + hmac.new(wa_setup.APP_SECRET.encode(), raw, sha256).hexdigest()


def write_events(path: Path, prefix: str) -> None:
    now = int(time.time())
    with path.open("w") as out:
        for n in range(EVENTS):
            raw = delivery(n, prefix, now)
            out.write(f"{signed(raw)}\t{raw.decode()}\n")


def warm_up(port: int, prefix: str, requests: int = 200) -> None:
    """gunicorn listens before its workers have loaded the app: let both load (and open
    their connections) before the clock starts, with real deliveries."""
    now = int(time.time())
    for n in range(requests):
        raw = delivery(n, f"warm-{prefix}", now)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/webhooks/whatsapp",
            data=raw,
            headers={"X-Hub-Signature-256": signed(raw), "Content-Type": "application/json"},
        )
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(request, timeout=30).close()  # noqa: S310 - loopback http


def statements_of_a_delivery(deliveries: int = 60) -> list[tuple[float, str]]:
    """What one delivery sends to PostgreSQL, in process (the app as gunicorn serves it,
    jobs queued on Redis): each statement and COMMIT with its median time, in milliseconds."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(wa_setup.DATABASE_URL),
            "REDIS_URL": wa_setup.REDIS_URL,
            "RATELIMIT_ENABLED": False,
            "WHATSAPP_ENCRYPTION_KEY": wa_setup.KEY,
        }
    )
    with app.app_context():
        engine = db.engine
    http, now = app.test_client(use_cookies=False), int(time.time())
    per_delivery: list[list[tuple[str, float]]] = []
    began: list[float] = []

    def before(*_args) -> None:
        began.append(time.perf_counter())

    def after(_conn, _cursor, statement, *_rest) -> None:
        per_delivery[-1].append((" ".join(statement.split())[:110], time.perf_counter() - began.pop()))

    def commit_begin(_conn) -> None:
        began.append(time.perf_counter())

    def commit_end(_session) -> None:  # after the COMMIT and the hooks before this one (the job's dispatch)
        if began:
            per_delivery[-1].append(
                ("COMMIT (then the drain job's dispatch to Redis)", time.perf_counter() - began.pop())
            )

    begin_in_scope, commit_with = scope._begin_in_scope, scope.commit_with

    def timed_begin(*args):  # BEGIN and the row-level security scope (and a query), one round trip
        started = time.perf_counter()
        result = begin_in_scope(*args)
        then = "; the channel's SELECT (scope.begin_with)" if len(args) > 2 else ""
        per_delivery[-1].append(
            (f"BEGIN; SELECT set_config(... the scope ...){then}", time.perf_counter() - started)
        )
        return result

    def timed_commit_with(*args) -> bool:  # the INSERT and COMMIT, one round trip, and the hooks
        started = time.perf_counter()
        done = commit_with(*args)
        if done:
            per_delivery[-1].append(
                ("INSERT ...; COMMIT (scope.commit_with, then the dispatch)", time.perf_counter() - started)
            )
        return done

    scope._begin_in_scope, scope.commit_with = timed_begin, timed_commit_with
    for n in range(deliveries + 10):
        per_delivery.append([])
        if n == 10:
            per_delivery.clear()
            per_delivery.append([])
            event.listen(engine, "before_cursor_execute", before)
            event.listen(engine, "after_cursor_execute", after)
            event.listen(engine, "commit", commit_begin)
            event.listen(Session, "after_commit", commit_end)
        raw = delivery(n, "probe", now)
        started = time.perf_counter()
        answer = http.post(
            "http://127.0.0.1/webhooks/whatsapp",
            data=raw,
            headers={"X-Hub-Signature-256": signed(raw), "Content-Type": "application/json"},
        )
        assert answer.status_code == 200, answer.status_code
        per_delivery[-1].append(("the whole request, in process", time.perf_counter() - started))
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    event.remove(engine, "commit", commit_begin)
    event.remove(Session, "after_commit", commit_end)
    scope._begin_in_scope, scope.commit_with = begin_in_scope, commit_with
    shapes = [tuple(text for text, _ in one) for one in per_delivery if one]
    common = max(set(shapes), key=shapes.count)
    samples = [one for one in per_delivery if tuple(text for text, _ in one) == common]
    return [(statistics.median(one[i][1] for one in samples) * 1000, text) for i, text in enumerate(common)]


def run(label: str, app_spec: str, env: dict, events: Path, prefix: str) -> float:
    port = free_port()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    server = subprocess.Popen(
        [gunicorn, "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning", app_spec],
        cwd=ROOT,
        env={**os.environ, **env},
    )
    try:
        wait_up(port)
        warm_up(port, prefix)
        out = subprocess.run(
            ["wrk", "-t2", "-c32", f"-d{DURATION}", "-s", str(ROOT / "bench" / "wrk_whatsapp.lua"),
             f"http://127.0.0.1:{port}/webhooks/whatsapp", "--", str(events), "2"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout  # fmt: skip
    finally:
        server.terminate()
        server.wait(10)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    print(f"{label}: {rate:.0f} events/s" + (f" ({non2xx.group(1)} non-2xx)" if non2xx else ""), flush=True)
    if non2xx:
        raise SystemExit(f"{label}: refused deliveries, the figure measures nothing")
    return rate


def clean() -> int:
    """The stored events and queued jobs gone; how many events there were."""
    with psycopg.connect(wa_setup.DATABASE_URL, autocommit=True) as conn:
        stored = conn.execute("SELECT count(*) FROM whatsapp_events").fetchone()[0]
        conn.execute("DELETE FROM whatsapp_events")
    Redis.from_url(wa_setup.REDIS_URL).flushdb()
    return stored


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk (make bench installs it)")
        return 1
    wa_setup.make_app()
    known = wa_setup.ids()
    env = {
        "APP_ENV": "production",
        "SECRET_KEY": wa_setup.SECRET_KEY,
        "DATABASE_URL": sqlalchemy_url(wa_setup.DATABASE_URL),
        "SMTP_URL": "smtp://127.0.0.1:1",
        "WHATSAPP_ENCRYPTION_KEY": wa_setup.KEY,
        "REDIS_URL": wa_setup.REDIS_URL,
        "STRIPE_WEBHOOK_SECRET": "whsec_bench_secret",
        "DEFAULT_RESELLER_HOST": wa_setup.HOST,
        "FLOOR_DATABASE_URL": wa_setup.DATABASE_URL,
        "FLOOR_WA_SECRET": wa_setup.APP_SECRET,
        "FLOOR_RESELLER_ID": str(known["reseller_id"]),
        "FLOOR_CLIENT_ID": str(known["client_id"]),
        "PYTHONPATH": str(ROOT / "bench"),
    }
    load_before = machine()
    app_rates, floor_rates = [], []
    with tempfile.TemporaryDirectory() as folder:
        try:
            for round_no in range(ROUNDS):
                app_events, floor_events = Path(folder) / "app.txt", Path(folder) / "floor.txt"
                write_events(app_events, f"app{round_no}")  # new message ids each round
                write_events(floor_events, f"floor{round_no}")
                app_rates.append(
                    run("app (verify + inbox + enqueue)", "wsgi:app", env, app_events, f"app{round_no}")
                )
                floor_rates.append(
                    run(
                        "floor (bare Flask: HMAC + insert)",
                        "whatsapp_floor:app",
                        env,
                        floor_events,
                        f"f{round_no}",
                    )
                )
        finally:
            stored = clean()
    app_rate, floor_rate = statistics.median(app_rates), statistics.median(floor_rates)
    print(f"medians of {ROUNDS} rounds: app {app_rate:.0f} events/s, floor {floor_rate:.0f} events/s")
    ratio = floor_rate / app_rate if app_rate else float("inf")
    ok = app_rate >= TARGET_EPS and ratio <= RATIO_TARGET
    load_after = machine()
    print(
        f"floor / app = {ratio:.2f} (target ≤ {RATIO_TARGET}, ≥ {TARGET_EPS:.0f}/s); "
        f"{'ok' if ok else 'MISSED'}"
    )
    print(f"rows stored (app + floor, warm-ups included): {stored:,}; load {load_before} → {load_after}")
    listed = statements_of_a_delivery() if not ok or os.environ.get("BENCH_STATEMENTS") == "1" else []
    if listed:
        print("what a delivery sends to PostgreSQL (in process, median of 60):")
        for ms, text in listed:
            print(f"    {ms:7.2f} ms  {text}")
        clean()
    save(
        "whatsapp",
        {
            "app_eps": app_rate,
            "floor_eps": floor_rate,
            "ratio": ratio,
            "ok": ok,
            "rounds": {"app": app_rates, "floor": floor_rates},
            "load_before": load_before,
            "load_after": load_after,
            "statement_ms": [(round(ms, 3), text) for ms, text in listed],
        },
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
