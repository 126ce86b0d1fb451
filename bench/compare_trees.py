"""Two checkouts of the app, side by side on the bench database, request by request.

    .venv/bin/python bench/compare_trees.py BEFORE_DIR AFTER_DIR [PATH ...]

Each checkout runs in its own process (its own modules), logged in as the bench owner
with its own ``bench/common.py``; the driver asks each in turn for the same page (the
order alternating every round), so both are measured under the same load from whatever
else the machine runs, which a shared 2-core machine never stops doing. Prints, per page,
the median server time of each and the median of the paired ratios (after / before).
The database must be at a revision both checkouts know (copy the newer migrations into
the older checkout's ``migrations/versions/``).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROUNDS = int(os.environ.get("BENCH_RUNS", "30"))
WARMUP = 5
PATHS = (
    "/reseller/clients",
    "/reseller/clients?status=active",
    "/reseller/clients?trade_name=padaria",
    "/reseller/clients?sort=sessions_remaining&dir=desc",
    "/reseller/clients?id=50000",
)

# Runs inside each checkout: the app of that checkout, one request per line read.
WORKER = r"""
import os, sys, time
tree = sys.argv[1]
os.chdir(tree)
sys.path[:0] = [os.path.join(tree, "bench"), tree]
import common
app = common.make_app()
http, base = common.logged_in_client(app)
print("ready", flush=True)
for line in sys.stdin:
    path, _, partial = line.strip().partition(" ")
    headers = {"HX-Request": "true"} if partial == "partial" else {}
    started = time.perf_counter()
    response = http.get(base + path, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    print(f"{response.status_code} {elapsed:.4f}", flush=True)
"""


class Tree:
    def __init__(self, directory: str):
        self.directory = str(Path(directory).resolve())
        python = Path(self.directory) / ".venv" / "bin" / "python"
        self.process = subprocess.Popen(
            [str(python), "-c", WORKER, self.directory],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "APP_ENV": "testing"},
        )
        while (line := self.process.stdout.readline()) and line.strip() != "ready":
            pass
        if not line:
            raise SystemExit(f"{self.directory}: the app did not start (run its bench once to see why)")

    def get(self, path: str, kind: str) -> float:
        self.process.stdin.write(f"{path} {kind}\n")
        self.process.stdin.flush()
        status, elapsed = self.process.stdout.readline().split()
        if status != "200":
            raise SystemExit(f"{self.directory}: {path} answered {status}")
        return float(elapsed)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    before, after = Tree(sys.argv[1]), Tree(sys.argv[2])
    paths = sys.argv[3:] or PATHS
    load = os.getloadavg()[0]
    print(f"before: {before.directory}\nafter:  {after.directory}")
    print(f"medians of {ROUNDS} paired rounds after {WARMUP} warm-ups; load average {load:.2f}")
    print(f"{'page':55} {'kind':8} {'before':>8} {'after':>8} {'after/before':>13}")
    for path in paths:
        for kind in ("partial", "full"):
            for _ in range(WARMUP):
                before.get(path, kind)
                after.get(path, kind)
            pairs = []
            for n in range(ROUNDS):
                first, second = (before, after) if n % 2 == 0 else (after, before)
                a = first.get(path, kind)
                b = second.get(path, kind)
                pairs.append((a, b) if first is before else (b, a))
            b_ms = statistics.median(p[0] for p in pairs)
            a_ms = statistics.median(p[1] for p in pairs)
            ratio = statistics.median(p[1] / p[0] for p in pairs)
            print(f"{path:55} {kind:8} {b_ms:8.2f} {a_ms:8.2f} {ratio:13.2f}", flush=True)
    before.close()
    after.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
