"""XLSX export of every client of the bench reseller: time and peak memory of the
app's export (query streamed + openpyxl write-only) against the floor, openpyxl
write-only writing the same ten-column rows already in memory. Each side runs in
its own process so its peak RSS is its own. Targets (QUALITY.md): ≤ 15 s, ≤ 1.3 ×
floor, ≤ 150 MB."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import make_app, save

TIME_TARGET_S = 15.0
RATIO_TARGET = 1.3
RSS_TARGET_MB = 150.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_app() -> dict:
    from flask_babel import force_locale
    from sqlalchemy import select
    from werkzeug.datastructures import MultiDict

    app = make_app()
    with app.app_context():
        from core.extensions import db
        from core.models import ResellerHost
        from reseller.bench_data import BENCH_HOST
        from reseller.client_list import ClientFilters
        from reseller.exports import export_rows, write_xlsx

        reseller_id = db.session.scalar(
            select(ResellerHost.reseller_id).where(ResellerHost.host == BENCH_HOST)
        )
        baseline = _peak_mb()
        with tempfile.TemporaryDirectory() as folder, app.test_request_context("/"), force_locale("pt_BR"):
            target = Path(folder) / "clients.xlsx"
            filters = ClientFilters.from_args(MultiDict({"status": "all"}))
            started = time.perf_counter()
            rows = export_rows(db.session, reseller_id, filters)
            written = write_xlsx(target, rows)
            seconds = time.perf_counter() - started
            size = target.stat().st_size
    return {
        "rows": written,
        "seconds": seconds,
        "peak_rss_mb": _peak_mb(),
        "before_mb": baseline,
        "bytes": size,
    }


def child_floor() -> dict:
    from openpyxl import Workbook
    from sqlalchemy import select
    from werkzeug.datastructures import MultiDict

    app = make_app()
    with app.app_context():
        from core.extensions import db
        from core.models import ResellerHost
        from reseller.bench_data import BENCH_HOST
        from reseller.client_list import ClientFilters
        from reseller.exports import EXPORT_COLUMNS

        reseller_id = db.session.scalar(
            select(ResellerHost.reseller_id).where(ResellerHost.host == BENCH_HOST)
        )
        with app.test_request_context("/"):
            filters = ClientFilters.from_args(MultiDict({"status": "all"}))
            from reseller.client_list import base_select

            stmt = filters.order(filters.apply(base_select(reseller_id, *EXPORT_COLUMNS)))
            data = [
                [r[0], r[1], r[2], r[3], r[4], r[6], "Não", r[8], r[9], r[10].date()]
                for r in db.session.execute(stmt)
            ]
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "floor.xlsx"
        started = time.perf_counter()
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Clientes")
        ws.append(
            ["ID", "Nome", "Razão", "Plano", "Status", "Sessões", "Suspenso", "Venc.", "Pgto.", "Criado"]
        )
        for row in data:
            ws.append(row)
        wb.save(target)
        seconds = time.perf_counter() - started
    return {"rows": len(data), "seconds": seconds, "peak_rss_mb": _peak_mb()}


def run_child(kind: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    import lxml  # noqa: F401 - the floor and the app both need openpyxl's lxml writer

    make_app()  # migrate and seed once, before the timed children
    app_result = run_child("app")
    floor_result = run_child("floor")
    ratio = app_result["seconds"] / floor_result["seconds"]
    ok = (
        app_result["seconds"] <= TIME_TARGET_S
        and ratio <= RATIO_TARGET
        and app_result["peak_rss_mb"] <= RSS_TARGET_MB
    )
    print(
        f"export of {app_result['rows']:,} clients: {app_result['seconds']:.2f} s, "
        f"peak RSS {app_result['peak_rss_mb']:.0f} MB "
        f"(process before export {app_result['before_mb']:.0f} MB), "
        f"{app_result['bytes'] / 1e6:.1f} MB file"
    )
    print(
        f"floor (openpyxl write-only, rows in memory): {floor_result['seconds']:.2f} s, "
        f"peak RSS {floor_result['peak_rss_mb']:.0f} MB"
    )
    print(f"ratio {ratio:.2f} (target ≤ {RATIO_TARGET}); {'ok' if ok else 'MISSED'}")
    save("export", {"app": app_result, "floor": floor_result, "ratio": ratio, "ok": ok})
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child_app() if sys.argv[2] == "app" else child_floor()))
    else:
        sys.exit(main())
