"""The live workspace under its production serving (Procfile): pages from gunicorn's sync
workers (2, the machine's 2 cores), streams from the ``stream`` process (gthread, one
thread per stream), events through Redis. Measured with and without ``BENCH_STREAMS``
(500) open streams of one client's users (level 6: every stream receives every event):

- the inbox page's time (median, p95) from a sequential client;
- message to screen: from the signed inbound POST to each open stream's frame (p95,
  over every stream and message), target ≤ 2 s;
- that every stream received every message.

The load generator (asyncio, one socket per stream) runs on the same machine, so it
takes a share of the cores too. Its own database (``BENCH_LIVE_DATABASE_URL``) holds one
reseller, one client and 50 users; every run starts it afresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta

import psycopg
from common import ROOT, save, sqlalchemy_url

DATABASE_URL = os.environ.get(
    "BENCH_LIVE_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/revenda_bench_live"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
STREAMS = int(os.environ.get("BENCH_STREAMS", "500"))
USERS = 50
MESSAGES = int(os.environ.get("BENCH_LIVE_MESSAGES", "20"))
PAGE_RUNS = int(os.environ.get("BENCH_RUNS", "40"))
HOST = "live.bench.test"
WEB_PORT, STREAM_PORT = 18081, 18082
SECRET_KEY = "bench-live-secret-key"


def fresh_database() -> None:
    admin, _, name = DATABASE_URL.rpartition("/")
    with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def seed() -> tuple[str, str, list[str]]:
    """Migrate, then one reseller, one client (its channel) and USERS users with a
    session each: (channel key, secret, session cookies)."""
    os.environ.update(APP_ENV="testing", DATABASE_URL=DATABASE_URL, SECRET_KEY=SECRET_KEY)
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade  # noqa: PLC0415 - the bench builds its app here

    from auth.models import AuthSession  # noqa: PLC0415
    from auth.sessions import SESSION_KEY, hash_token  # noqa: PLC0415
    from core import create_app  # noqa: PLC0415
    from core.extensions import db  # noqa: PLC0415
    from core.scope import bypass  # noqa: PLC0415
    from core.timeutil import utcnow  # noqa: PLC0415
    from reseller.resellers import create_reseller  # noqa: PLC0415
    from seeds.documents import make_cnpj  # noqa: PLC0415
    from tenant.directory import ensure_channel  # noqa: PLC0415
    from tenant.models import Client  # noqa: PLC0415
    from tests.factories import Factory  # noqa: PLC0415

    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(DATABASE_URL), "REDIS_URL": None})
    with app.app_context():
        upgrade()
    cookies = []
    serializer = app.session_interface.get_signing_serializer(app)
    with app.test_request_context("/", base_url=f"http://{HOST}"), bypass("script"):
        reseller, _login = create_reseller(
            name="Live Bench", host=HOST, owner_email="owner@live.bench.test", require_staff_2fa=False
        )
        client = Client(
            reseller_id=reseller.id,
            trade_name="Ao Vivo",
            legal_name="Ao Vivo Ltda",
            email="contato@aovivo.test",
            document_type="cnpj",
            document=make_cnpj(7),
            status="active",
            sessions_quota=100_000,
        )
        db.session.add(client)
        db.session.flush()
        ensure_channel(client)
        db.session.commit()
        key, secret, client_id = client.channel_key, client.channel_secret, client.id
        reseller_id = reseller.id
    factory = Factory(app, password="bench-pass-2026")
    with app.app_context(), bypass("script"):
        for n in range(USERS):
            user = factory.user(client_id, email=f"user{n}@aovivo.test")
            token = f"bench-live-session-{n}"
            db.session.add(
                AuthSession(
                    token_hash=hash_token(token),
                    reseller_id=reseller_id,
                    login_id=user.login_id,
                    account_id=user.id,
                    expires_at=utcnow() + timedelta(days=1),
                    last_seen_at=utcnow(),
                )
            )
            db.session.commit()
            cookies.append(serializer.dumps({SESSION_KEY: token}))
    return key, secret, cookies


def start(name: str, args: list[str]) -> subprocess.Popen:
    env = dict(
        os.environ,
        APP_ENV="testing",
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        SECRET_KEY=SECRET_KEY,
        LIVE_STREAM_SECONDS="3600",
        DEFAULT_RESELLER_HOST=HOST,
    )
    log = open(ROOT / "bench" / "results" / f"live_{name}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), *args, "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )


def wait_up(port: int) -> None:
    for _ in range(200):
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2).close()  # noqa: S310
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing answers on port {port}")


def page_times(cookie: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{WEB_PORT}/app/?view=all", headers={"Host": HOST, "Cookie": f"rv_session={cookie}"}
    )
    times = []
    for n in range(PAGE_RUNS + 3):
        began = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - our own server
            assert answer.status == 200 and b"inbox-list" in answer.read()
        if n >= 3:
            times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
    }


async def open_stream(cookie: str, arrivals: dict, ready: asyncio.Event, counter: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", STREAM_PORT)
    writer.write(
        f"GET /app/stream HTTP/1.1\r\nHost: {HOST}\r\nCookie: rv_session={cookie}\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    status = await reader.readline()
    assert b" 200 " in status, status
    counter[0] += 1
    if counter[0] == STREAMS:
        ready.set()
    with contextlib.suppress(asyncio.CancelledError, ConnectionError):
        while line := await reader.readline():
            if line.startswith(b"data: ") and b'"kind":"message"' in line:
                text = json.loads(line[6:])["message"]["preview"]
                arrivals.setdefault(text, []).append(time.perf_counter())
    writer.close()


def send_message(key: str, secret: str, n: int) -> None:
    from tenant.inbox import channel_signature  # noqa: PLC0415

    body = json.dumps({"from": f"5511977{n:06d}", "text": f"bench message {n}", "id": f"bench-{n}"}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{WEB_PORT}/inbound/{key}",
        data=body,
        headers={
            "Host": HOST,
            "Content-Type": "application/json",
            "X-Signature": channel_signature(secret, body),
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - our own server
        assert answer.status == 201


async def with_streams(key: str, secret: str, cookies: list[str]) -> dict:
    arrivals: dict[str, list[float]] = {}
    ready, counter = asyncio.Event(), [0]
    tasks = [
        asyncio.create_task(open_stream(cookies[n % len(cookies)], arrivals, ready, counter))
        for n in range(STREAMS)
    ]
    await asyncio.wait_for(ready.wait(), 120)
    await asyncio.sleep(1)  # every stream has subscribed (its first frame is sent after)
    pages = await asyncio.to_thread(page_times, cookies[0])
    latencies, sent_at = [], {}
    for n in range(MESSAGES):
        sent_at[f"bench message {n}"] = time.perf_counter()
        await asyncio.to_thread(send_message, key, secret, n)
        await asyncio.sleep(0.25)
    await asyncio.sleep(5)
    for text, began in sent_at.items():
        latencies += [(t - began) * 1000 for t in arrivals.get(text, [])]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "pages_with_streams": pages,
        "deliveries": f"{len(latencies)} of {STREAMS * MESSAGES}",
        "message_to_screen_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "message_to_screen_p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 1)
        if latencies
        else None,
    }


def main() -> None:
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    fresh_database()
    key, secret, cookies = seed()
    web = start("web", ["--workers", "2", "--bind", f"127.0.0.1:{WEB_PORT}"])
    threads = str(STREAMS + 100)
    stream = start(
        "stream",
        ["--worker-class", "gthread", "--workers", "1", "--threads", threads, "--worker-connections", threads,
         "--timeout", "60", "--bind", f"127.0.0.1:{STREAM_PORT}"],
    )  # fmt: skip
    try:
        wait_up(WEB_PORT)
        wait_up(STREAM_PORT)
        result = {"streams": STREAMS, "messages": MESSAGES, "pages_without_streams": page_times(cookies[0])}
        result.update(asyncio.run(with_streams(key, secret, cookies)))
        result["load_average"] = os.getloadavg()
    finally:
        for process in (web, stream):
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:  # streams still open: no graceful end
                process.kill()
                process.wait(10)
    print(json.dumps(result, indent=2))
    save("live", result)


if __name__ == "__main__":
    main()
