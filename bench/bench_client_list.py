"""Client list: the view's server time against the bare SQL the page needs.

For each single filter (default sort) and for each sort in both directions (no
filter), page 1 and the last page: the median time of the whole request through
the WSGI app (the htmx partial and the full page), and the *floor*: the same
SELECT ... LIMIT/OFFSET plus its COUNT sent by raw psycopg. Targets (QUALITY.md):
page 1 ≤ 15 ms, every page ≤ 1.5 × floor.
"""

from __future__ import annotations

import math
import sys
from urllib.parse import urlencode

from common import DATABASE_URL, logged_in_client, make_app, median_ms, save

PAGE1_TARGET_MS = 15.0
RATIO_TARGET = 1.5


def cases(plan_id: int) -> list[tuple[str, dict]]:
    filters = [
        ("no filter", {}),
        ("trade_name", {"trade_name": "padaria sao joao"}),
        ("legal_name", {"legal_name": "ltda"}),
        ("status=active", {"status": "active"}),
        ("status=inactivated", {"status": "inactivated"}),
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


def floor_sql(app, reseller_id: int, args: dict, page: int):
    """The page's SELECT and COUNT as literal SQL (the floor runs them through psycopg)."""
    from sqlalchemy.dialects import postgresql
    from werkzeug.datastructures import MultiDict

    from reseller.client_list import LIST_COLUMNS, ClientFilters, base_select

    with app.test_request_context("/"):
        filters = ClientFilters.from_args(MultiDict(args))
        assert not filters.errors, filters.errors
        rows = filters.order(filters.apply(base_select(reseller_id, *LIST_COLUMNS)))
        rows = rows.limit(filters.per_page).offset((page - 1) * filters.per_page)
        from sqlalchemy import func

        count = filters.apply(base_select(reseller_id, func.count()))
        dialect = postgresql.dialect()

        def literal(stmt):
            return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))

        return literal(rows), literal(count), filters.per_page


def main() -> int:
    import psycopg
    from sqlalchemy import func, select

    app = make_app()
    http, base = logged_in_client(app)
    with app.app_context():
        from billing.models import Plan
        from core.extensions import db
        from core.models import ResellerHost
        from reseller.bench_data import BENCH_HOST

        reseller_id = db.session.scalar(
            select(ResellerHost.reseller_id).where(ResellerHost.host == BENCH_HOST)
        )
        plan_id = db.session.scalar(select(func.min(Plan.id)).where(Plan.reseller_id == reseller_id))
    raw = psycopg.connect(DATABASE_URL, autocommit=True)
    results = []
    failures = 0
    print(
        f"{'case':34} {'page':>6} {'rows':>7} {'partial':>8} {'full':>8} {'floor':>8} {'ratio':>6}  verdict"
    )
    for label, args in cases(plan_id):
        rows_sql, count_sql, per_page = floor_sql(app, reseller_id, args, 1)
        total = raw.execute(count_sql).fetchone()[0]
        last = max(1, math.ceil(total / per_page))
        for page in sorted({1, last}):
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

            partial_ms = median_ms(partial)
            full_ms = median_ms(full)
            floor_ms = median_ms(floor)
            ratio = partial_ms / floor_ms if floor_ms else float("inf")
            ok = ratio <= RATIO_TARGET and (page != 1 or partial_ms <= PAGE1_TARGET_MS)
            failures += not ok
            verdict = "ok" if ok else "MISSED"
            if not ok and partial_ms <= PAGE1_TARGET_MS and floor_ms < 5:
                # The floor is a few milliseconds: the ratio measures Flask's fixed cost.
                verdict = "MISSED ratio (fixed cost over a tiny floor)"
            print(
                f"{label:34} {page:>6} {total:>7} {partial_ms:8.1f} {full_ms:8.1f} {floor_ms:8.1f} "
                f"{ratio:6.2f}  {verdict}",
                flush=True,
            )
            results.append(
                {
                    "case": label,
                    "page": page,
                    "rows": total,
                    "partial_ms": round(partial_ms, 2),
                    "full_ms": round(full_ms, 2),
                    "floor_ms": round(floor_ms, 2),
                    "ratio": round(ratio, 2),
                    "ok": ok,
                }
            )
    path = save("client_list", results)
    print(f"\n{len(results)} cases, {failures} missed; results in {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
