"""The reseller API (issue 16) under load: a token issued and an authenticated read,
each at 50 requests a second for ``BENCH_API_SECONDS`` (default 20) against gunicorn
(2 workers, the machine's 2 cores, production settings behind one proxy hop that says
HTTPS), and the client list over the API beside the panel's page.

The load is an open loop: request *i* is due at ``i / 50`` s and its time is counted
from then, so a server that falls behind is charged for the wait it causes (no
coordinated omission). Targets: token p95 ≤ 20 ms, authenticated read p95 ≤ 30 ms;
the API's client list (25 rows) ≤ the panel's page 1 + 3 ms (medians in process).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import DATABASE_URL, ROOT, RUNS, logged_in_client, machine, make_app, medians_ms, save
from sqlalchemy import select

from api import credentials
from core.extensions import db
from core.models import ResellerHost
from seeds.bench_data import BENCH_HOST
from tenant.models import Client

RATE = 50
SECONDS = int(os.environ.get("BENCH_API_SECONDS", "20"))
TOKEN_P95_MS, READ_P95_MS, LIST_EXTRA_MS = 20.0, 30.0, 3.0
HEADERS = {"Host": BENCH_HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}


def server_app():
    """gunicorn's app (``bench_api:server_app()``): production settings from the
    environment, without the per-client rate limit (the load is one client)."""
    sys.path.insert(0, str(ROOT))
    from core import create_app  # noqa: PLC0415 - gunicorn imports this module first

    return create_app({"API_RATE_LIMIT": "1000000/minute"})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def open_loop(port: int, request, seconds: int = SECONDS) -> list[float]:
    """Latencies (ms) of ``RATE * seconds`` calls of ``request(conn)``, each counted from
    the moment it was due."""
    total = RATE * seconds
    due = [i / RATE for i in range(total)]
    latencies: list[float] = []
    lock = threading.Lock()
    nxt = iter(range(total))
    start = time.perf_counter() + 0.5

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                i = next(nxt, None)
            if i is None:
                break
            wait = start + due[i] - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            status = request(conn)
            elapsed = (time.perf_counter() - start - due[i]) * 1000
            assert status == 200, status
            with lock:
                latencies.append(elapsed)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94]


def call(conn, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    conn.request(method, path, body=body, headers={**HEADERS, **(headers or {})})
    response = conn.getresponse()
    data = response.read()
    return response.status, data


def main() -> int:
    app = make_app()
    with app.app_context():
        reseller_id = db.session.scalar(
            select(ResellerHost.reseller_id).where(ResellerHost.host == BENCH_HOST)
        )
        api_client, secret = credentials.create_client(
            reseller_id, "Bench", ["clients:read", "clients:write"], account=None
        )
        key, row_id, row_type = api_client.client_key, api_client.id, type(api_client)
        client_id = db.session.scalar(select(Client.id).where(Client.reseller_id == reseller_id).limit(1))
        db.session.commit()
    basic = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
    form = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": basic}

    # The API's client list beside the panel's page, in process.
    http_client, base = logged_in_client(app)
    token_response = http_client.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": basic},
        base_url="https://" + BENCH_HOST,
    )
    token = token_response.get_json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    in_process = medians_ms(
        {
            "panel page 1": lambda: http_client.get(f"{base}/reseller/clients"),
            "API list (25)": lambda: http_client.get(
                f"https://{BENCH_HOST}/api/v1/clients?limit=25", headers=bearer
            ),
        },
        runs=RUNS,
    )

    port = free_port()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    env = {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": "bench-secret-key",
        "DATABASE_URL": DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1),
        "SMTP_URL": "smtp://127.0.0.1:1",
        "WHATSAPP_ENCRYPTION_KEY": "bench-whatsapp-key-".ljust(43, "x") + "=",
        "PROXY_HOPS": "1",
        "PYTHONPATH": str(ROOT / "bench"),
    }
    env.pop("REDIS_URL", None)
    server = subprocess.Popen(
        [gunicorn, "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning", "bench_api:server_app()"],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)

        def issue(conn):
            status, data = call(conn, "POST", "/oauth/token", b"grant_type=client_credentials", form)
            return status

        status, data = call(
            http.client.HTTPConnection("127.0.0.1", port),
            "POST",
            "/oauth/token",
            b"grant_type=client_credentials",
            form,
        )
        assert status == 200, (status, data)
        live = {"Authorization": "Bearer " + json.loads(data)["access_token"]}

        def read(conn):
            return call(conn, "GET", f"/api/v1/clients/{client_id}", headers=live)[0]

        open_loop(port, read, seconds=3)  # both workers loaded, connections open
        tokens = open_loop(port, issue)
        reads = open_loop(port, read)
    finally:
        server.terminate()
        server.wait(10)

    figures = {
        "token_p95_ms": p95(tokens),
        "token_median_ms": statistics.median(tokens),
        "read_p95_ms": p95(reads),
        "read_median_ms": statistics.median(reads),
        **{f"{name} median ms": ms for name, ms in in_process.items()},
    }
    print(f"API at {RATE} requests/s for {SECONDS} s, gunicorn 2 workers ({machine()})")
    print(
        f"token issued: p95 {figures['token_p95_ms']:.1f} ms (median {figures['token_median_ms']:.1f}), "
        f"target ≤ {TOKEN_P95_MS:.0f}"
    )
    print(
        f"authenticated read: p95 {figures['read_p95_ms']:.1f} ms (median {figures['read_median_ms']:.1f}), "
        f"target ≤ {READ_P95_MS:.0f}"
    )
    extra = in_process["API list (25)"] - in_process["panel page 1"]
    print(
        f"client list: panel page 1 {in_process['panel page 1']:.1f} ms, "
        f"API {in_process['API list (25)']:.1f} ms "
        f"({extra:+.1f} ms; target ≤ +{LIST_EXTRA_MS:.0f})"
    )
    save("api", {**figures, "machine": machine()})
    with app.app_context():
        credentials.delete_client(db.session.get(row_type, row_id))
        db.session.commit()
    missed = (
        figures["token_p95_ms"] > TOKEN_P95_MS
        or figures["read_p95_ms"] > READ_P95_MS
        or extra > LIST_EXTRA_MS
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
