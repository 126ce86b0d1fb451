"""The SLA sweep (desk.sla_sweep) over the bench's 1,000,000 tickets (issue 13, Speed):
the query that finds the tickets whose SLA event is due (target: ≤ 1 s), then the
refresh and notices of what it found. Nothing is kept: each pass is rolled back (no
e-mail is sent: the mail job is queued only on commit).

The refresh is timed two ways on the same tickets, taking turns: the sweep's own path
(``sweep_batch``: a batch's inputs read in a fixed number of queries, ``desk.sla_batch``)
and the previous one, ticket by ticket (each ticket's timeline, notices, plan, insert...
one query at a time), with the number of SQL statements each sent.

Three moments: now (what a sweep finds every minute), one hour and one day ahead (a
sweep that was down that long: its backlog). The refresh is timed on at most
``BENCH_SWEEP_REFRESH`` (default 2,000) of the tickets found, in the sweep's batches,
``BENCH_RUNS`` times each way (median).

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/revenda_bench_tickets \\
        BENCH_RUNS=3 .venv/bin/python bench/bench_sla_sweep.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import timedelta

from common import machine, make_app, median_ms, save
from sqlalchemy import event, func, select, text

from core.extensions import db
from core.scope import bypass
from core.timeutil import utcnow
from desk.sla_state import Context, refresh
from desk.sla_sweep import BATCH, LOOKAHEAD, due_ticket_ids, lock, notify, sweep_batch
from desk.ticket_models import Ticket

FIND_TARGET_MS = 1000.0
REFRESH_LIMIT = int(os.environ.get("BENCH_SWEEP_REFRESH", "2000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
AHEAD = {"now": timedelta(0), "1 hour ahead": timedelta(hours=1), "1 day ahead": timedelta(days=1)}


def find_all(now) -> list[int]:
    """Every due ticket, batch after batch, as the sweep walks them."""
    found, last = [], 0
    while ids := due_ticket_ids(now, last):
        found += ids
        last = ids[-1]
    return found


def one_by_one(ids: list[int], now) -> int:
    """The previous path: each ticket refreshed and notified on its own queries."""
    context = Context()
    sent = 0
    for ticket in lock(ids):
        refreshed = refresh(ticket, now=now, context=context)
        ticket.sla_next_event_at = refreshed.outcome.next_change_at
        sent += notify([(ticket, refreshed)], now, context)
    return sent


PATHS = {"batched": sweep_batch, "one by one": one_by_one}


class Statements:
    """Counts the SQL statements sent while it is on."""

    def __init__(self, engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self.seen)

    def seen(self, *_args) -> None:
        self.count += 1


def timed_pass(path, sample: list[int], now, statements: Statements) -> tuple[float, int, int]:
    """Milliseconds to sweep ``sample`` in the sweep's batches with ``path`` (written,
    then rolled back), new events, statements sent."""
    statements.count = 0
    started = time.perf_counter()
    sent = 0
    for first in range(0, len(sample), BATCH):
        sent += path(sample[first : first + BATCH], now)
        db.session.flush()
    elapsed = (time.perf_counter() - started) * 1000
    count = statements.count
    db.session.rollback()
    return elapsed, sent, count


def time_refresh(sample: list[int], now, statements: Statements) -> dict:
    """Each path ``RUNS`` times, taking turns: median ms, new events, statements."""
    samples: dict[str, list] = {name: [] for name in PATHS}
    for _ in range(RUNS):
        for name, path in PATHS.items():
            samples[name].append(timed_pass(path, sample, now, statements))
    out = {}
    for name, runs in samples.items():
        ms = statistics.median(run[0] for run in runs)
        out[name] = {
            "ms": round(ms, 1),
            "ms_per_ticket": round(ms / len(sample), 3),
            "new_events": runs[0][1],
            "statements": runs[0][2],
        }
    return out


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
        statements = Statements(db.engine)
        for label, ahead in AHEAD.items():
            now = utcnow() + ahead
            found = find_all(now)
            find_ms = median_ms(lambda n=now: find_all(n), runs=7, warmup=1)
            sample = found[:REFRESH_LIMIT]
            paths = time_refresh(sample, now, statements) if sample else {}
            db.session.rollback()
            verdict = "ok" if find_ms <= FIND_TARGET_MS else f"MISSED > {FIND_TARGET_MS:.0f} ms"
            print(
                f"{label:14} due within {LOOKAHEAD.seconds} s: {len(found):>7,} tickets "
                f"found in {find_ms:8.1f} ms ({verdict})",
                flush=True,
            )
            for name, result in paths.items():
                print(
                    f"{'':16}refresh + notices of {len(sample):,}, {name:10}: {result['ms']:8.1f} ms "
                    f"({result['ms_per_ticket']:.2f} ms a ticket, {result['statements']:,} statements, "
                    f"{result['new_events']:,} new events)",
                    flush=True,
                )
            results.append(
                {
                    "moment": label,
                    "found": len(found),
                    "find_ms": round(find_ms, 2),
                    "find_ok": find_ms <= FIND_TARGET_MS,
                    "refreshed": len(sample),
                    "refresh": paths,
                }
            )
    after = machine()
    print(f"load average {after['load1']} at the end", flush=True)
    data = {"tickets": total, "scheduled": scheduled, "machine": before, "machine_after": after, "runs": RUNS}
    data["moments"] = results
    path = save("sla_sweep", data)
    print(f"results in {path}")
    return 0 if all(r["find_ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
