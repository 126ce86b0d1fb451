"""Shared set-up of the benchmarks: the app on the bench database (migrated, seeded
once), a logged-in test client, medians, results. Run from the project root
(``make bench``)."""

from __future__ import annotations

import itertools
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from core import create_app  # noqa: E402
from seeds.bench_data import BENCH_HOST, BENCH_OWNER, BENCH_PASSWORD, bench_present, seed_bench  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/revenda_bench")
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "100000"))
RUNS = int(os.environ.get("BENCH_RUNS", "15"))
WARMUP = 3


def sqlalchemy_url(url: str = DATABASE_URL) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def make_app():
    """The app on the bench database, migrated, and seeded when the bench reseller is missing."""
    os.environ.setdefault("APP_ENV", "testing")

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
        upgrade()
        if not bench_present():
            print(seed_bench(clients=CLIENTS), flush=True)
    return app


def logged_in_client(app):
    """A test client logged in as the bench owner, and the base URL of the bench host."""

    http = app.test_client()
    base = f"http://{BENCH_HOST}"
    page = http.get(f"{base}/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = http.post(
        f"{base}/login", data={"email": BENCH_OWNER, "password": BENCH_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/reseller/clients", response
    # A list that shows no client measures nothing (the kept totals missing, say).
    page = http.get(f"{base}/reseller/clients").get_data(as_text=True)
    assert page.count("data-client-id=") == 25, "the bench reseller's client list is empty: broken bench data"
    return http, base


def medians_ms(fns: dict, *, runs: int = RUNS, warmup: int = WARMUP) -> dict[str, float]:
    """Median wall time of each callable, in milliseconds, after ``warmup`` calls.

    The callables take turns, so a view and its floor are measured under the same load
    from whatever else runs on the machine; each round goes through the next of all their
    orders, so each one comes right after each other as often (a heavy floor query slows
    the request measured right after it: rotating a, b, c / b, c, a / c, a, b put a after
    c two rounds in three, and an htmx partial read 2-3 ms slower than its full page).
    """
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    orders = list(itertools.permutations(fns.items()))
    for run in range(runs):
        for name, fn in orders[run % len(orders)]:
            started = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def median_ms(fn, *, runs: int = RUNS, warmup: int = WARMUP) -> float:
    return medians_ms({"fn": fn}, runs=runs, warmup=warmup)["fn"]


def machine() -> dict:
    """What else the machine was doing: results taken under load are not comparable."""
    load1, load5, _load15 = os.getloadavg()
    return {"cpus": os.cpu_count(), "load1": round(load1, 2), "load5": round(load5, 2)}


def save(name: str, data) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    return path
