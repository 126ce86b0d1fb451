"""Run every benchmark (``make bench``); exit status 1 when a target is missed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = ("bench_client_list.py", "bench_export.py", "bench_identity.py", "bench_webhooks.py")


def main() -> int:
    status = 0
    for name in BENCHES:
        print(f"\n===== {name} =====", flush=True)
        status |= subprocess.call([sys.executable, str(HERE / name)], cwd=HERE.parent)
    return status


if __name__ == "__main__":
    sys.exit(main())
