"""SLA deadline computation (``desk.sla.compute``): median time per ticket over many
tickets with ~20 events each (replies both ways, pauses, resolution and reopening, an
SLA change), on the office calendar with Brazil's holidays and two own dates. Pure
computation: no database. Target (issue 13): ≤ 1 ms a ticket.

Two figures: *warm*, one calendar shared by every ticket (a reseller's sweep or page:
its working days are converted once), and *cold*, a new calendar for each ticket.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta

from common import machine, save

from core.business_hours import BusinessCalendar
from desk.sla import ClientReply, Created, StaffReply, StatusChanged, Targets, TargetsChanged, compute

TARGET_US = 1000.0
TICKETS = int(os.environ.get("BENCH_SLA_TICKETS", "5000"))
EVENTS = 20
HOURS = {day: [("08:00", "12:00"), ("13:00", "18:00")] for day in range(5)}
OWN_DATES = (date(2026, 2, 16), date(2026, 2, 17))  # Carnival, not a national holiday
TARGETS = Targets(first_response=60, next_response=120, resolution=540)


def ticket(rng: random.Random) -> tuple[list, datetime]:
    """A history of ``EVENTS`` events over a few weeks of 2026, and a ``now`` after it."""
    at = datetime(2026, 1, 5, 11) + timedelta(minutes=rng.randrange(330 * 24 * 60))
    events: list = [Created(at)]
    paused = False
    while len(events) < EVENTS:
        at += timedelta(minutes=rng.randrange(5, 16 * 60))
        roll = rng.random()
        if roll < 0.35:
            events.append(StaffReply(at))
        elif roll < 0.65:
            events.append(ClientReply(at))
        elif roll < 0.85:
            paused = not paused
            events.append(StatusChanged(at, pauses=paused))
        elif roll < 0.95:
            paused = False
            events.append(StatusChanged(at, resolves=rng.random() < 0.5))
        else:
            events.append(TargetsChanged(at, Targets(30, 60, rng.choice((240, 540, 1080)))))
    return events, at + timedelta(minutes=rng.randrange(24 * 60))


def per_ticket_us(tickets, make_calendar) -> list[float]:
    samples = []
    for events, now in tickets:
        calendar = make_calendar()
        started = time.perf_counter()
        compute(calendar, TARGETS, events, now)
        samples.append((time.perf_counter() - started) * 1e6)
    return samples


def main() -> int:
    rng = random.Random(13)
    tickets = [ticket(rng) for _ in range(TICKETS)]
    shared = BusinessCalendar(HOURS, holidays=OWN_DATES)
    per_ticket_us(tickets[:200], lambda: shared)  # warm-up: imports, holidays per year
    warm = per_ticket_us(tickets, lambda: shared)
    cold = per_ticket_us(tickets, lambda: BusinessCalendar(HOURS, holidays=OWN_DATES))
    result = {
        "tickets": TICKETS,
        "events_per_ticket": EVENTS,
        "warm_median_us": statistics.median(warm),
        "warm_p95_us": statistics.quantiles(warm, n=20)[-1],
        "cold_median_us": statistics.median(cold),
        "cold_p95_us": statistics.quantiles(cold, n=20)[-1],
        "machine": machine(),
    }
    ok = result["warm_median_us"] <= TARGET_US and result["cold_median_us"] <= TARGET_US
    result["ok"] = ok
    print(f"{TICKETS} tickets, {EVENTS} events each")
    for kind in ("warm", "cold"):
        median, p95 = result[f"{kind}_median_us"], result[f"{kind}_p95_us"]
        print(f"{kind:>4}: median {median:.0f} µs, p95 {p95:.0f} µs a ticket (target ≤ {TARGET_US:.0f} µs)")
    print(f"load {result['machine']}")
    print("ok" if ok else "MISSED")
    save("sla", result)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
