"""Shared set-up of the benchmarks: the app on the bench database, a logged-in
client, medians. Run from the project root (``make bench``)."""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/revenda_bench")
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "100000"))


def sqlalchemy_url(url: str = DATABASE_URL) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def make_app():
    """The app on the bench database, migrated and seeded (once)."""
    os.environ.setdefault("APP_ENV", "testing")
    from core import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(),
            "REDIS_URL": None,
            "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_ENABLED": False,
            "EXPORT_SYNC_MAX_ROWS": 10**9,
        }
    )
    with app.app_context():
        from flask_migrate import upgrade
        from sqlalchemy import select

        from core.extensions import db
        from core.models import ResellerHost
        from reseller.bench_data import BENCH_HOST, seed_bench

        upgrade()
        if db.session.scalar(select(ResellerHost).where(ResellerHost.host == BENCH_HOST)) is None:
            print(seed_bench(clients=CLIENTS), flush=True)
    return app


def logged_in_client(app):
    from reseller.bench_data import BENCH_HOST, BENCH_OWNER, BENCH_PASSWORD

    http = app.test_client()
    base = f"http://{BENCH_HOST}"
    page = http.get(f"{base}/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = http.post(
        f"{base}/login", data={"email": BENCH_OWNER, "password": BENCH_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/reseller/clients", response
    return http, base


def median_ms(fn, *, runs: int = 15, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def save(name: str, data) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    return path
