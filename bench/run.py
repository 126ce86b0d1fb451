"""Run the benchmarks (``make bench``); exit status 1 when a target is missed.

``bench/run.py`` runs them all; ``bench/run.py client_list export`` only those.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = (
    "client_list",
    "peer",
    "client_page",
    "export",
    "identity",
    "webhooks",
    "purge",
    "sla",
    "sla_sweep",
    "ticket_queue",
    "mail",
    "audit",
    "api",
    "live",
    "whatsapp",
    "inbox",
)


def main(names: list[str]) -> int:
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    status = 0
    for name in names or BENCHES:
        print(f"\n===== bench_{name}.py =====", flush=True)
        status |= subprocess.call([sys.executable, str(HERE / f"bench_{name}.py")], cwd=HERE.parent) != 0
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
