"""Run the suite on PostgreSQL + Redis (when reachable) and on SQLite, saying which."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
from redis import Redis

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_TEST_URL = os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/revenda_test")
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# The browser tests' and fault drills' own database and Redis db (they run at the same time).
PG_WAITING_URL = os.environ.get(
    "TEST_PG_WAITING_URL", "postgresql://postgres@127.0.0.1:5432/revenda_test_waiting"
)
REDIS_WAITING_URL = os.environ.get("TEST_REDIS_WAITING_URL", "redis://127.0.0.1:6379/13")
# The second half of the PostgreSQL suite's own database and Redis db.
PG_SECOND_URL = os.environ.get(
    "TEST_PG_SECOND_URL", "postgresql://postgres@127.0.0.1:5432/revenda_test_second"
)
REDIS_SECOND_URL = os.environ.get("TEST_REDIS_SECOND_URL", "redis://127.0.0.1:6379/11")


def postgres_reachable() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 - any failure means "not here"
        return False


def redis_reachable() -> bool:
    try:
        return bool(Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=3).ping())
    except Exception:  # noqa: BLE001
        return False


def start(label: str, env: dict[str, str], extra: list[str]) -> tuple[str, subprocess.Popen, Path]:
    """Start one suite in the background, its output in a file (both run at once: each
    waits on its database as much as on the CPU, so together they take less time)."""
    full_env = {**os.environ, "APP_ENV": "testing", **env}
    # No shared cache file: the two runs would write it at once.
    # The slowest tests named in the log: where the next minutes of CI time are.
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--durations=15", *extra, *sys.argv[1:]]
    output = Path(tempfile.mkstemp(prefix="suite-", suffix=".log")[1])
    with output.open("w") as sink:
        process = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=sink, stderr=subprocess.STDOUT)
    return label, process, output


def finish(label: str, process: subprocess.Popen, output: Path) -> int:
    code = process.wait()
    print(f"\n===== {label} =====", flush=True)
    print(output.read_text(), flush=True)
    output.unlink(missing_ok=True)
    return code


def main() -> int:
    suites = []
    if postgres_reachable() and redis_reachable():
        # Three processes, each with its own database and Redis db: the suite in two halves
        # (whole test files, balanced), so both cores keep working once the SQLite suite
        # is done; the browser tests and the fault drills mostly wait (on Chromium, on
        # servers restarting), so they run beside the rest instead of after it.
        for half, (database, redis_db) in enumerate(
            ((PG_TEST_URL, REDIS_TEST_URL), (PG_SECOND_URL, REDIS_SECOND_URL)), start=1
        ):
            suites.append(
                start(
                    f"Suite on PostgreSQL + Redis, half {half} of 2 (RQ jobs)",
                    {"TEST_DATABASE_URL": database, "TEST_REDIS_URL": redis_db, "TEST_SHARD": f"{half}/2"},
                    ["-m", "not browser and not drill"],
                )
            )
        suites.append(
            start(
                "Browser tests and fault drills on PostgreSQL + Redis",
                {"TEST_DATABASE_URL": PG_WAITING_URL, "TEST_REDIS_URL": REDIS_WAITING_URL},
                ["-m", "browser or drill"],
            )
        )
    else:
        print("PostgreSQL or Redis is not reachable on 127.0.0.1: skipping that suite.")
    suites.append(
        start(
            "Suite on SQLite (in-process jobs; browser tests run in the PostgreSQL suite)",
            {"TEST_DATABASE_URL": "sqlite", "TEST_REDIS_URL": ""},
            ["-m", "not browser", "-q"],
        )
    )
    print(f"Running {len(suites)} suites at once; each one's output follows when it ends.", flush=True)
    results = [(label.split(" (")[0], finish(label, process, output)) for label, process, output in suites]
    print("\n===== Summary =====")
    for label, code in results:
        print(f"{label}: {'passed' if code == 0 else f'FAILED (exit {code})'}")
    return 0 if all(code == 0 for _, code in results) else 1


if __name__ == "__main__":
    sys.exit(main())
