"""XLSX export of every client of the bench reseller (status "all": 100,000 rows).

Three processes, one after the other, each measuring its own time and memory:

- ``job``: the app's background export, ``reseller.tasks.run_client_export`` (the
  path a 100,000-row export takes: count, progress updates, the query streamed into
  openpyxl write-only, the file moved into place);
- ``view``: the same through ``GET /reseller/clients/export.xlsx`` with the
  synchronous limit lifted (spooled file, ``send_file``);
- ``floor``: openpyxl write-only (with lxml) writing the same 100,000 ten-column
  rows, already in memory, to a file.

Peak memory is the process's peak RSS (``getrusage``) and, separately, the peak
during the export itself (``/proc/self/status`` VmHWM after resetting it).
Targets (QUALITY.md): ≤ 15 s, ≤ 1.3 × floor, peak RSS ≤ 150 MB.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC
from pathlib import Path

import lxml  # noqa: F401 - openpyxl writes through lxml when it is installed
from common import logged_in_client, machine, make_app, save
from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from auth.models import Account, Login
from core.extensions import db
from core.models import ResellerHost
from core.timeutil import LOCAL_TZ
from reseller.client_list import ClientFilters
from reseller.exports import export_rows, headers
from reseller.models import ExportJob
from reseller.tasks import run_client_export
from seeds.bench_data import BENCH_HOST, BENCH_OWNER

TIME_TARGET_S = 15.0
RATIO_TARGET = 1.3
RSS_TARGET_MB = 150.0


def _rss_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> None:
    # "5" resets VmHWM (the peak RSS) to the current RSS (Linux ≥ 4.0).
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def _measure(fn) -> dict:
    rss_before = _rss_mb("VmRSS")
    _reset_peak()
    started = time.perf_counter()
    extra = fn()
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "rss_before_mb": round(rss_before, 1),
        "export_peak_mb": round(_rss_mb("VmHWM"), 1),
        "process_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        **extra,
    }


def _bench_ids():
    reseller_id = db.session.scalar(select(ResellerHost.reseller_id).where(ResellerHost.host == BENCH_HOST))
    owner = db.session.scalar(
        select(Account.id)
        .join(Login)
        .where(Login.reseller_id == reseller_id, Login.email == BENCH_OWNER, Account.client_id.is_(None))
    )
    return reseller_id, owner


def child_job(folder: str) -> dict:
    app = make_app()
    app.config["EXPORT_DIR"] = folder
    with app.app_context():
        reseller_id, owner = _bench_ids()
        job = ExportJob(
            reseller_id=reseller_id, requested_by_account_id=owner, filters={"status": "all"}, locale="pt_BR"
        )
        db.session.add(job)
        db.session.commit()
        job_id = job.id

        def run() -> dict:
            run_client_export(job_id)
            return {}

        result = _measure(run)
        job = db.session.get(ExportJob, job_id)
        assert job.status == "done", job.status
        result.update(rows=job.done_rows, bytes=Path(job.file_path).stat().st_size)
        Path(job.file_path).unlink()
        db.session.delete(job)
        db.session.commit()
    return result


def child_view(_folder: str) -> dict:
    app = make_app()
    http, base = logged_in_client(app)

    def run() -> dict:
        response = http.get(f"{base}/reseller/clients/export.xlsx?status=all")
        assert response.status_code == 200, response.status_code
        size = len(response.get_data())
        response.close()
        return {"bytes": size}

    return _measure(run)


def child_floor(folder: str) -> dict:
    app = make_app()
    with app.app_context(), app.test_request_context("/"), force_locale("pt_BR"):
        reseller_id, _owner = _bench_ids()
        filters = ClientFilters.from_args(MultiDict({"status": "all"}))
        labels = {"active": _("Active"), "without_plan": _("Without plan"), True: _("Yes"), False: _("No")}
        inactivated = _("Inactivated")
        # The same values the app writes, made before the clock starts.
        data = [
            [
                cid,
                trade,
                legal,
                plan,
                inactivated if inactivated_at is not None else labels[status],
                remaining,
                labels[bool(suspended)],
                due,
                paid,
                created.replace(tzinfo=UTC).astimezone(LOCAL_TZ).date(),
            ]
            for cid, trade, legal, plan, status, inactivated_at, remaining, suspended, due, paid, created in (
                export_rows(db.session, reseller_id, filters)
            )
        ]
        title = headers()
    target = Path(folder) / "floor.xlsx"

    def run() -> dict:
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Clientes")
        ws.append(title)
        for row in data:
            ws.append(row)
        wb.save(target)
        return {"rows": len(data), "bytes": target.stat().st_size}

    return _measure(run)


CHILDREN = {"job": child_job, "view": child_view, "floor": child_floor}


def run_child(kind: str, folder: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, folder], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    make_app()  # migrate and seed once, before the timed children
    before = machine()
    with tempfile.TemporaryDirectory(prefix="revenda-bench-export-") as folder:
        results = {kind: run_child(kind, folder) for kind in CHILDREN}
    floor = results["floor"]["seconds"]
    ok = True
    print(
        f"XLSX export of every bench client; load average {before['load1']} on {before['cpus']} CPUs\n"
        f"{'':6} {'rows':>8} {'seconds':>8} {'× floor':>8} {'peak RSS':>9} {'export peak':>12} "
        f"{'RSS before':>11} {'file MB':>8}  verdict"
    )
    for kind, r in results.items():
        r["ratio"] = round(r["seconds"] / floor, 2)
        missed = []
        if kind != "floor":
            if r["seconds"] > TIME_TARGET_S:
                missed.append(f"> {TIME_TARGET_S:.0f} s")
            if r["ratio"] > RATIO_TARGET:
                missed.append(f"> {RATIO_TARGET}× floor")
            if r["process_peak_mb"] > RSS_TARGET_MB:
                missed.append(f"> {RSS_TARGET_MB:.0f} MB")
        r["ok"] = not missed
        ok = ok and not missed
        verdict = "—" if kind == "floor" else "MISSED " + ", ".join(missed) if missed else "ok"
        print(
            f"{kind:6} {r.get('rows', '') or '':>8} {r['seconds']:8.2f} {r['ratio']:8.2f} "
            f"{r['process_peak_mb']:7.0f}MB {r['export_peak_mb']:10.0f}MB {r['rss_before_mb']:9.0f}MB "
            f"{r['bytes'] / 1e6:8.1f}  {verdict}"
        )
    path = save("export", {"machine_before": before, "machine_after": machine(), **results, "ok": ok})
    print(
        f"targets: ≤ {TIME_TARGET_S:.0f} s, ≤ {RATIO_TARGET}× floor, ≤ {RSS_TARGET_MB:.0f} MB; "
        f"results in {path}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(CHILDREN[sys.argv[2]](sys.argv[3])))
    else:
        sys.exit(main())
