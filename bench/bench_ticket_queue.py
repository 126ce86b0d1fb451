"""Staff ticket queue (issue 13, Speed): page 1 of ``/reseller/tickets`` for each filter and
each sort (the contract in the helpers' brief), and deep pages (200 and 400, the last the
counted total links to), as the htmx partial and as the full page, against its *floor*:
the bare SQL the page needs (the page's rows of ``tickets`` with the client's and the
assignee's names, LIMIT per page OFFSET the pages before), as literal SQL sent by raw
psycopg. Targets: page 1 ≤ 15 ms; every page ≤ 1.5 × floor. The verdict takes the slower
of the two views.

The owner of the bench reseller works every desk. When the route does not exist in this
build the bench says "route missing" and measures the floors alone.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/revenda_bench \\
        .venv/bin/python bench/bench_ticket_queue.py
"""

from __future__ import annotations

import os
import re
import statistics
import sys
from urllib.parse import urlencode

import psycopg
from common import DATABASE_URL, RUNS, WARMUP, logged_in_client, machine, make_app, medians_ms, save
from sqlalchemy import func, select

from auth.models import Account, Login
from core.extensions import db
from core.models import ResellerHost
from desk.states import BLOCKING_KINDS, Priority, SlaState, StatusKind
from desk.ticket_models import Ticket
from seeds.bench_data import BENCH_HOST, BENCH_OWNER

PAGE1_TARGET_MS = 15.0
RATIO_TARGET = 1.5
PATH = "/reseller/tickets"  # the contract's route (the bench is outside the app: no url_for)
PER_PAGE = 25
SORTS = {
    "number": "t.number",
    "created_at": "t.created_at",
    "updated_at": "t.updated_at",
    "priority": "t.priority_rank",
    "first_response_due_at": "t.first_response_due_at",
    "resolution_due_at": "t.resolution_due_at",
    "last_activity_at": "t.last_activity_at",
}


def cases(owner_id: int, staff_id: int, client_id: int, number: int) -> list[tuple[str, dict]]:
    filters = [("default (open work)", {}), ("status=all", {"status": "all"})]
    filters += [(f"status={kind}", {"status": kind.value}) for kind in StatusKind]
    filters += [(f"priority={p}", {"priority": p.value}) for p in Priority]
    filters += [
        ("assignee=me", {"assignee": "me"}),
        ("assignee=none", {"assignee": "none"}),
        ("assignee=<staff>", {"assignee": str(staff_id)}),
        ("client=<id>", {"client": str(client_id)}),
    ]
    filters += [(f"sla={s}", {"sla": s.value}) for s in SlaState]
    filters += [("q=text", {"q": "fatura"}), ("q=#number", {"q": f"#{number}"})]
    out = list(filters)
    for sort in SORTS:
        for direction in ("asc", "desc"):
            out.append((f"sort {sort} {direction}", {"sort": sort, "dir": direction}))
    # Deep pages (like the client list's middle and last): the total is counted up to
    # 10,000, so page 400 of 25 is the last one the page links show.
    for page in (200, 400):
        out.append((f"page {page}", {"page": page}))
        out.append((f"page {page}, sort number desc", {"page": page, "sort": "number", "dir": "desc"}))
        out.append((f"page {page}, due desc", {"page": page, "dir": "desc"}))
    return out


def _quote(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def floor_sql(reseller_id: int, owner_id: int, args: dict) -> str:
    """The page's rows as plain SQL (the contract's meaning of each parameter)."""
    where = [f"t.reseller_id = {reseller_id}"]
    status = args.get("status", "open_work")
    if status == "open_work":
        where.append(f"t.status_kind IN ({', '.join(_quote(k.value) for k in BLOCKING_KINDS)})")
    elif status != "all":
        where.append(f"t.status_kind = {_quote(status)}")
    if "priority" in args:
        where.append(f"t.priority = {_quote(args['priority'])}")
    assignee = args.get("assignee")
    if assignee == "me":
        where.append(f"t.assignee_account_id = {owner_id}")
    elif assignee == "none":
        where.append("t.assignee_account_id IS NULL")
    elif assignee:
        where.append(f"t.assignee_account_id = {int(assignee)}")
    if "client" in args:
        where.append(f"t.client_id = {int(args['client'])}")
    if "sla" in args:
        where.append(f"t.sla_state = {_quote(args['sla'])}")
    q = args.get("q", "")
    if q.startswith("#"):
        where.append(f"t.number = {int(q[1:])}")
    elif q:
        where.append(f"t.subject ILIKE {_quote('%' + q + '%')}")
    column = SORTS[args.get("sort", "resolution_due_at")]
    direction = args.get("dir", "asc").upper()
    # Only the due columns may be empty (PostgreSQL reads NULLS LAST on a NOT NULL column as
    # an order its index does not give).
    nulls = " NULLS LAST" if column.endswith("_due_at") else ""
    return (
        "SELECT t.id, t.number, t.subject, t.status_id, t.status_kind, t.priority, t.sla_state, "
        "t.first_response_due_at, t.next_response_due_at, t.resolution_due_at, t.last_activity_at, "
        "t.created_at, c.trade_name, a.name FROM tickets t JOIN clients c ON c.id = t.client_id "
        "LEFT JOIN accounts a ON a.id = t.assignee_account_id "
        f"WHERE {' AND '.join(where)} ORDER BY {column} {direction}{nulls}, t.id {direction} "
        f"LIMIT {PER_PAGE} OFFSET {(args.get('page', 1) - 1) * PER_PAGE}"
    )


def route_exists(app) -> bool:
    return any(rule.rule == PATH for rule in app.url_map.iter_rules())


def main() -> int:
    app = make_app()
    with app.app_context():
        host = select(ResellerHost.reseller_id).where(ResellerHost.host == BENCH_HOST)
        reseller_id = db.session.scalar(host)
        owner_id = db.session.scalar(
            select(Account.id).join(Login, Login.id == Account.login_id).where(Login.email == BENCH_OWNER)
        )
        tickets = db.session.scalar(select(func.count()).where(Ticket.reseller_id == reseller_id))
        staff_id, client_id = db.session.execute(
            select(Ticket.assignee_account_id, Ticket.client_id)
            .where(Ticket.reseller_id == reseller_id, Ticket.assignee_account_id.is_not(None))
            .limit(1)
        ).one()
        number = tickets // 2
    if not tickets:
        print("no tickets in the bench data: run `flask seed bench-tickets`", flush=True)
        return 1
    present = route_exists(app)
    http, base = logged_in_client(app) if present else (None, None)
    raw = psycopg.connect(DATABASE_URL, autocommit=True)
    before = machine()
    print(
        f"ticket queue over {tickets:,} tickets; medians of {RUNS} runs after {WARMUP} warm-ups; "
        f"load average {before['load1']} on {before['cpus']} CPUs"
        + ("" if present else f"\nroute missing: {PATH} is not in this build; floors only"),
        flush=True,
    )
    print(f"{'case':32} {'rows':>5} {'partial':>8} {'full':>8} {'floor':>7} {'ratio p/f':>10}  verdict")
    only = re.compile(os.environ.get("BENCH_CASES", ""))
    results = []
    for label, args in cases(owner_id, staff_id, client_id, number):
        if not only.search(label):
            continue
        sql = floor_sql(reseller_id, owner_id, args)
        rows = len(raw.execute(sql).fetchall())

        def floor(s=sql):
            raw.execute(s).fetchall()

        fns = {"floor": floor}
        if present:
            query = urlencode({"page": 1, **args})

            def partial(q=query):
                response = http.get(f"{base}{PATH}?{q}", headers={"HX-Request": "true"})
                assert response.status_code == 200, response.status_code

            def full(q=query, rows=rows):
                response = http.get(f"{base}{PATH}?{q}")
                assert response.status_code == 200, response.status_code
                shown = response.get_data(as_text=True).count("data-ticket-id=")
                assert shown == rows, f"{q}: the page shows {shown} rows, the floor {rows}"

            fns |= {"partial": partial, "full": full}
        measured = medians_ms(fns)
        floor_ms = measured["floor"]
        result = {"case": label, "rows": rows, "floor_ms": round(floor_ms, 2)}
        if present:
            view_ms = max(measured["partial"], measured["full"])
            missed = []
            if "page" not in args and view_ms > PAGE1_TARGET_MS:
                missed.append(f"> {PAGE1_TARGET_MS:.0f} ms")
            if view_ms / floor_ms > RATIO_TARGET:
                missed.append(f"> {RATIO_TARGET}× floor")
            verdict = "MISSED " + ", ".join(missed) if missed else "ok"
            ratios = f"{measured['partial'] / floor_ms:4.2f}/{measured['full'] / floor_ms:4.2f}"
            print(
                f"{label:32} {rows:>5} {measured['partial']:8.1f} {measured['full']:8.1f} {floor_ms:7.1f} "
                f"{ratios:>10}  {verdict}",
                flush=True,
            )
            result |= {
                "partial_ms": round(measured["partial"], 2),
                "full_ms": round(measured["full"], 2),
                "ratio": round(view_ms / floor_ms, 2),
                "page1_ok": "page" in args or view_ms <= PAGE1_TARGET_MS,
                "ratio_ok": view_ms / floor_ms <= RATIO_TARGET,
            }
        else:
            verdict = "floor over target" if floor_ms > PAGE1_TARGET_MS else "route missing"
            print(f"{label:32} {rows:>5} {'-':>8} {'-':>8} {floor_ms:7.1f} {'-':>10}  {verdict}", flush=True)
        results.append(result)
    summary = {
        "tickets": tickets,
        "route": "present" if present else "missing",
        "machine_before": before,
        "machine_after": machine(),
        "cases": len(results),
        "slowest_floor_ms": max(r["floor_ms"] for r in results),
        "median_floor_ms": statistics.median(r["floor_ms"] for r in results),
    }
    if present:
        summary |= {
            "page1_met": sum(r["page1_ok"] for r in results),
            "ratio_met": sum(r["ratio_ok"] for r in results),
            "worst_view_ms": max(max(r["partial_ms"], r["full_ms"]) for r in results),
            "worst_ratio": max(r["ratio"] for r in results),
        }
    path = save("ticket_queue", {"summary": summary, "pages": results})
    print(f"\n{summary}\nresults in {path}")
    if not present:
        return 2
    missed = summary["page1_met"] < len(results) or summary["ratio_met"] < len(results)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
