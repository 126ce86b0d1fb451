"""Webhook intake under gunicorn (2 workers, the machine's 2 cores), load from wrk on
the same machine: events/s of the app's /webhooks/stripe (verify + inbox + enqueue on
Redis) against the floor, a bare Flask handler that verifies and inserts. Targets
(QUALITY.md): ≥ 500 events/s and within 1.5× of the floor."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg
from common import DATABASE_URL, ROOT, make_app, save
from redis import Redis

SECRET = "whsec_bench_secret"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
DURATION = os.environ.get("BENCH_WEBHOOK_DURATION", "8s")
# App and floor take turns this many times (the machine's speed drifts); medians count.
ROUNDS = int(os.environ.get("BENCH_WEBHOOK_ROUNDS", "3"))
EVENTS = 40000
TARGET_EPS = 500.0
RATIO_TARGET = 1.5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_events(path: Path, prefix: str) -> None:
    now = int(time.time())
    with path.open("w") as out:
        for n in range(EVENTS):
            body = json.dumps(
                {
                    "id": f"evt_bench_{prefix}_{n}",
                    "object": "event",
                    "type": "invoice.payment_action_required",
                    "created": now,
                    "data": {"object": {"id": f"in_bench_{prefix}_{n}", "object": "invoice"}},
                },
                separators=(",", ":"),
            )
            mac = hmac.new(SECRET.encode(), f"{now}.{body}".encode(), hashlib.sha256).hexdigest()
            out.write(f"t={now},v1={mac}\t{body}\n")


def wait_up(port: int) -> None:
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def warm_up(port: int, requests: int = 200) -> None:
    """gunicorn listens before its workers have loaded the app: let both load (and
    open their connections) before the clock starts, with requests that store nothing."""
    for _ in range(requests):
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/webhooks/stripe", data=b"{}", headers={"Stripe-Signature": "t=1,v1=0"}
        )
        with contextlib.suppress(urllib.error.HTTPError):  # 400: bad signature, as intended
            urllib.request.urlopen(request, timeout=30).close()  # noqa: S310 - loopback http


def run(label: str, app_spec: str, env: dict, events: Path) -> float:
    port = free_port()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    server = subprocess.Popen(
        [gunicorn, "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning", app_spec],
        cwd=ROOT,
        env={**os.environ, **env},
    )
    try:
        wait_up(port)
        warm_up(port)
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                "-c32",
                f"-d{DURATION}",
                "-s",
                str(ROOT / "bench" / "wrk_events.lua"),
                f"http://127.0.0.1:{port}/webhooks/stripe",
                "--",
                str(events),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        server.terminate()
        server.wait(10)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    print(f"{label}: {rate:.0f} events/s" + (f" ({non2xx.group(1)} non-2xx)" if non2xx else ""), flush=True)
    return rate


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk (make bench installs it)")
        return 1
    make_app()  # migrated and seeded

    with tempfile.TemporaryDirectory() as folder:
        env = {
            "APP_ENV": "production",
            "SECRET_KEY": "bench-secret-key",
            "DATABASE_URL": DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1),
            "SMTP_URL": "smtp://127.0.0.1:1",
            "WHATSAPP_ENCRYPTION_KEY": "bench-whatsapp-key-".ljust(43, "x") + "=",
            "REDIS_URL": REDIS_URL,
            "STRIPE_WEBHOOK_SECRET": SECRET,
            "DEFAULT_RESELLER_HOST": "bench.localhost",
            "FLOOR_DATABASE_URL": DATABASE_URL,
            "PYTHONPATH": str(ROOT / "bench"),
        }
        app_rates, floor_rates = [], []
        try:
            for round_no in range(ROUNDS):
                app_events, floor_events = Path(folder) / "app.txt", Path(folder) / "floor.txt"
                write_events(app_events, f"app{round_no}")  # new event ids each round
                write_events(floor_events, f"floor{round_no}")
                app_rates.append(run("app (verify + inbox + enqueue)", "wsgi:app", env, app_events))
                floor_rates.append(
                    run("floor (bare Flask: verify + insert)", "webhook_floor:app", env, floor_events)
                )
        finally:
            with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
                conn.execute("DELETE FROM stripe_events WHERE event_id LIKE 'evt_bench_%'")
            Redis.from_url(REDIS_URL).flushdb()
    app_rate, floor_rate = statistics.median(app_rates), statistics.median(floor_rates)
    print(f"medians of {ROUNDS} rounds: app {app_rate:.0f} events/s, floor {floor_rate:.0f} events/s")
    ratio = floor_rate / app_rate if app_rate else float("inf")
    ok = app_rate >= TARGET_EPS and ratio <= RATIO_TARGET
    print(f"floor / app = {ratio:.2f} (target ≤ {RATIO_TARGET}); {'ok' if ok else 'MISSED'}")
    save(
        "webhooks",
        {
            "app_eps": app_rate,
            "floor_eps": floor_rate,
            "ratio": ratio,
            "ok": ok,
            "rounds": {"app": app_rates, "floor": floor_rates},
        },
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
