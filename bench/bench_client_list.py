"""Client list: the view's server time against the bare SQL the page needs.

For each single filter (default sort) and each sort in both directions (no filter),
page 1, the middle page and the last page: the median time of the whole request
through the WSGI app, as the htmx partial (what sorting, filtering and paging fetch)
and as the full page (what opening the address renders), against the *floor*: the
plain SELECT ... ORDER BY ... LIMIT/OFFSET plus its COUNT, as literal SQL sent by raw
psycopg. Targets (QUALITY.md): page 1 ≤ 15 ms; every page ≤ 1.5 × floor. The verdict
takes the slower of the two views.
"""

from __future__ import annotations

import math
import os
import re
import statistics
import sys
from urllib.parse import urlencode

import psycopg
from common import DATABASE_URL, RUNS, WARMUP, logged_in_client, machine, make_app, medians_ms, save
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql
from werkzeug.datastructures import MultiDict

from billing.models import Plan
from core.extensions import db
from core.models import ResellerHost
from reseller.client_list import LIST_COLUMNS, ClientFilters, base_select
from seeds.bench_data import BENCH_HOST
from tenant.models import Client

PAGE1_TARGET_MS = 15.0
RATIO_TARGET = 1.5


def cases(plan_id: int) -> list[tuple[str, dict]]:
    filters = [
        ("no filter", {}),
        ("trade_name narrow", {"trade_name": "padaria sao joao"}),
        ("trade_name broad", {"trade_name": "padaria"}),
        ("legal_name", {"legal_name": "ltda"}),
        ("status=active", {"status": "active"}),
        ("status=without_plan", {"status": "without_plan"}),
        ("status=inactivated", {"status": "inactivated"}),
        ("status=all", {"status": "all"}),
        ("id", {"id": "50000"}),
        ("plan", {"plan": str(plan_id)}),
        ("suspended=yes", {"suspended": "yes"}),
        ("created range", {"created_from": "2024-01-01", "created_to": "2024-06-30"}),
        ("payment_type=pix", {"payment_type": "pix"}),
        ("payment_status=overdue", {"payment_status": "overdue"}),
    ]
    sorts = [
        "id",
        "trade_name",
        "legal_name",
        "plan_name",
        "status",
        "sessions_remaining",
        "suspended",
        "due_date",
        "last_payment_date",
        "created_at",
    ]
    out = list(filters)
    for column in sorts:
        for direction in ("asc", "desc"):
            out.append((f"sort {column} {direction}", {"sort": column, "dir": direction}))
    return out


def floor_sql(app, reseller_id: int, args: dict, page: int) -> tuple[str, str, int]:
    """The page's plain OFFSET SELECT and its COUNT as literal SQL."""

    with app.test_request_context("/"):
        filters = ClientFilters.from_args(MultiDict(args))
        assert not filters.errors, filters.errors
        rows = filters.order(filters.apply(base_select(reseller_id, *LIST_COLUMNS)))
        rows = rows.limit(filters.per_page).offset((page - 1) * filters.per_page)
        count = filters.apply(base_select(reseller_id, func.count()))
        dialect = postgresql.dialect()

        def literal(stmt) -> str:
            return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))

        return literal(rows), literal(count), filters.per_page


def main() -> int:
    app = make_app()
    http, base = logged_in_client(app)
    with app.app_context():
        reseller_id = db.session.scalar(
            select(ResellerHost.reseller_id).where(ResellerHost.host == BENCH_HOST)
        )
        plan_id = db.session.scalar(select(func.min(Plan.id)).where(Plan.reseller_id == reseller_id))
        clients = db.session.scalar(select(func.count()).where(Client.reseller_id == reseller_id))
    raw = psycopg.connect(DATABASE_URL, autocommit=True)
    results = []
    before = machine()
    print(
        f"client list of {clients:,} clients; medians of {RUNS} runs after {WARMUP} warm-ups, view and "
        f"floor taking turns; load average {before['load1']} on {before['cpus']} CPUs",
        flush=True,
    )
    header = (
        f"{'case':30} {'page':>5} {'rows':>7} {'partial':>8} {'full':>8} {'floor':>7} "
        f"{'ratio p/f':>10}  verdict"
    )
    print(header)
    only = re.compile(os.environ.get("BENCH_CASES", ""))  # e.g. BENCH_CASES='^sort id|legal'
    for label, args in cases(plan_id):
        if not only.search(label):
            continue
        _rows, count_sql, per_page = floor_sql(app, reseller_id, args, 1)
        total = raw.execute(count_sql).fetchone()[0]
        last = max(1, math.ceil(total / per_page))
        for page in sorted({1, (last + 1) // 2, last}):
            rows_sql, count_sql, _ = floor_sql(app, reseller_id, args, page)
            query = urlencode({**args, "page": page})

            def partial(q=query):
                response = http.get(f"{base}/reseller/clients?{q}", headers={"HX-Request": "true"})
                assert response.status_code == 200, response.status_code

            def full(q=query):
                assert http.get(f"{base}/reseller/clients?{q}").status_code == 200

            def floor(r=rows_sql, c=count_sql):
                raw.execute(c).fetchone()
                raw.execute(r).fetchall()

            measured = medians_ms({"partial": partial, "full": full, "floor": floor})
            partial_ms, full_ms, floor_ms = measured["partial"], measured["full"], measured["floor"]
            view_ms = max(partial_ms, full_ms)
            ratio = view_ms / floor_ms
            missed = []
            if page == 1 and view_ms > PAGE1_TARGET_MS:
                missed.append(f"page 1 > {PAGE1_TARGET_MS:.0f} ms")
            if ratio > RATIO_TARGET:
                missed.append(f"> {RATIO_TARGET}× floor")
            verdict = "MISSED " + ", ".join(missed) if missed else "ok"
            print(
                f"{label:30} {page:>5} {total:>7} {partial_ms:8.1f} {full_ms:8.1f} {floor_ms:7.1f} "
                f"{partial_ms / floor_ms:4.2f}/{full_ms / floor_ms:4.2f}  {verdict}",
                flush=True,
            )
            results.append(
                {
                    "case": label,
                    "page": page,
                    "position": "first" if page == 1 else "last" if page == last else "middle",
                    "rows": total,
                    "partial_ms": round(partial_ms, 2),
                    "full_ms": round(full_ms, 2),
                    "floor_ms": round(floor_ms, 2),
                    "ratio": round(ratio, 2),
                    "page1_ok": page != 1 or view_ms <= PAGE1_TARGET_MS,
                    "ratio_ok": ratio <= RATIO_TARGET,
                }
            )
    # The request's fixed cost: a page with one row and an index lookup for a floor.
    one_row = next((r for r in results if r["case"] == "id"), None)
    fixed = (
        (one_row["partial_ms"] - one_row["floor_ms"], one_row["full_ms"] - one_row["floor_ms"])
        if one_row
        else (float("nan"), float("nan"))
    )
    first = [r for r in results if r["page"] == 1]
    summary = {
        "clients": clients,
        "machine_before": before,
        "machine_after": machine(),
        "pages_measured": len(results),
        "page1_met": sum(r["page1_ok"] for r in first),
        "page1_cases": len(first),
        "page1_worst_ms": max(max(r["partial_ms"], r["full_ms"]) for r in first),
        "ratio_met": sum(r["ratio_ok"] for r in results),
        "ratio_median": statistics.median(r["ratio"] for r in results),
        "ratio_worst": max(r["ratio"] for r in results),
        "slowest_view_ms": max(max(r["partial_ms"], r["full_ms"]) for r in results),
        "slowest_floor_ms": max(r["floor_ms"] for r in results),
        "fixed_cost_ms": {"partial": round(fixed[0], 2), "full": round(fixed[1], 2)},
    }
    path = save("client_list", {"summary": summary, "pages": results})
    print(
        f"\npage 1 ≤ {PAGE1_TARGET_MS:.0f} ms: {summary['page1_met']}/{summary['page1_cases']} "
        f"(worst {summary['page1_worst_ms']:.1f} ms); "
        f"≤ {RATIO_TARGET}× floor: {summary['ratio_met']}/{len(results)} pages "
        f"(median ratio {summary['ratio_median']:.2f}, worst {summary['ratio_worst']:.2f}); "
        f"slowest view {summary['slowest_view_ms']:.1f} ms, "
        f"slowest floor {summary['slowest_floor_ms']:.1f} ms"
    )
    print(
        f"fixed cost of a request (one-row page minus its floor): partial {fixed[0]:.1f} ms, "
        f"full {fixed[1]:.1f} ms; load average {summary['machine_after']['load1']}; results in {path}"
    )
    missed = summary["page1_met"] < len(first) or summary["ratio_met"] < len(results)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
