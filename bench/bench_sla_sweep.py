"""The SLA sweep (desk.sla_sweep) over the bench's 1,000,000 tickets (issue 13, Speed):
the query that finds the tickets whose SLA event is due (target: ≤ 1 s), then the
refresh and notices of what it found, per ticket. Nothing is kept: each pass is rolled
back (no e-mail is sent: the mail job is queued only on commit).

Three moments: now (what a sweep finds every minute), one hour and one day ahead (a
sweep that was down that long: its backlog). The refresh is timed on at most
``BENCH_SWEEP_REFRESH`` (default 2,000) of the tickets found.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/revenda_bench_tickets \\
        .venv/bin/python bench/bench_sla_sweep.py
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta

from common import machine, make_app, median_ms, save
from sqlalchemy import func, select, text

from core.extensions import db
from core.scope import bypass
from core.timeutil import utcnow
from desk.sla_state import Context, refresh
from desk.sla_sweep import LOOKAHEAD, due_ticket_ids, notify
from desk.ticket_models import Ticket

FIND_TARGET_MS = 1000.0
REFRESH_LIMIT = int(os.environ.get("BENCH_SWEEP_REFRESH", "2000"))
AHEAD = {"now": timedelta(0), "1 hour ahead": timedelta(hours=1), "1 day ahead": timedelta(days=1)}


def find_all(now) -> list[int]:
    """Every due ticket, batch after batch, as the sweep walks them."""
    found, last = [], 0
    while ids := due_ticket_ids(now, last):
        found += ids
        last = ids[-1]
    return found


def refresh_batch(ids: list[int], now) -> tuple[float, int]:
    """Milliseconds to lock, refresh and record the notices of ``ids``; notices recorded."""
    started = time.perf_counter()
    context = Context()
    tickets = db.session.scalars(
        select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.id).with_for_update(skip_locked=True)
    ).all()
    sent = 0
    for ticket in tickets:
        refreshed = refresh(ticket, now=now, context=context)
        ticket.sla_next_event_at = refreshed.outcome.next_change_at
        sent += notify(ticket, refreshed, now, context)
    db.session.flush()
    return (time.perf_counter() - started) * 1000, sent


def main() -> int:
    app = make_app()
    results = []
    before = machine()
    with app.app_context(), bypass("sla-sweep"):
        total = db.session.scalar(select(func.count()).select_from(Ticket))
        scheduled = db.session.scalar(select(func.count()).where(Ticket.sla_next_event_at.is_not(None)))
        plan = db.session.execute(
            text(
                "EXPLAIN SELECT id FROM tickets WHERE sla_next_event_at IS NOT NULL "
                "AND sla_next_event_at <= now() AT TIME ZONE 'utc' ORDER BY id LIMIT 500"
            )
        ).scalars()
        print(
            f"SLA sweep over {total:,} tickets ({scheduled:,} with an SLA event to come); "
            f"load average {before['load1']} on {before['cpus']} CPUs\nplan: " + " / ".join(plan),
            flush=True,
        )
        for label, ahead in AHEAD.items():
            now = utcnow() + ahead
            found = find_all(now)
            find_ms = median_ms(lambda n=now: find_all(n), runs=7, warmup=1)
            sample = found[:REFRESH_LIMIT]
            refresh_ms, sent = refresh_batch(sample, now) if sample else (0.0, 0)
            db.session.rollback()
            per_ticket = refresh_ms / len(sample) if sample else 0.0
            verdict = "ok" if find_ms <= FIND_TARGET_MS else f"MISSED > {FIND_TARGET_MS:.0f} ms"
            print(
                f"{label:14} due within {LOOKAHEAD.seconds} s: {len(found):>7,} tickets "
                f"found in {find_ms:8.1f} ms "
                f"({verdict}); refresh + notices of {len(sample):,}: {refresh_ms:8.1f} ms "
                f"({per_ticket:.2f} ms a ticket, {sent:,} new events)",
                flush=True,
            )
            results.append(
                {
                    "moment": label,
                    "found": len(found),
                    "find_ms": round(find_ms, 2),
                    "find_ok": find_ms <= FIND_TARGET_MS,
                    "refreshed": len(sample),
                    "refresh_ms": round(refresh_ms, 1),
                    "refresh_ms_per_ticket": round(per_ticket, 3),
                    "new_events": sent,
                }
            )
    data = {"tickets": total, "scheduled": scheduled, "machine": before, "moments": results}
    path = save("sla_sweep", data)
    print(f"results in {path}")
    return 0 if all(r["find_ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
