"""The benchmark data set of QUALITY.md, made fast: ``flask --app wsgi seed bench``.

One reseller (host ``bench.localhost``, owner ``owner@bench.test``) with the given
number of clients and two other resellers with a few thousand each. Every client
gets users (a login and an account each, plus accountants whose one login has
accounts in about twenty clients), a subscription when it has or had a plan, its
monthly payments, and, in the bench reseller, contacts and past 24-hour session
windows. The client's billing summary columns are derived from its own payments and
subscription the way ``billing.summary.refresh_client_summary`` derives them, and
its folded search and sort columns with the app's :func:`tenant.models.fold` and
:func:`tenant.models.sort_key`.

On PostgreSQL the rows go in with COPY inside one transaction (foreign-key triggers
off for it when the role may do that: the generator makes the references itself);
on SQLite with ``executemany``. Ids are reserved up front, so no pass reads back
what an earlier one wrote. Seeded: every run makes the same data, its dates counted
back from today.
"""

from __future__ import annotations

import time

from sqlalchemy import select, text

from auth.passwords import hash_password
from billing.models import Plan
from core.extensions import db
from core.models import Reseller, ResellerHost
from core.timeutil import utcnow
from reseller.resellers import create_reseller
from seeds.bench_profile import (
    BENCH_HOST,
    BENCH_OWNER,
    BENCH_PASSWORD,
    OTHER_CLIENTS,
    OTHER_RESELLERS,
    PLANS,
    SEED,
)
from seeds.bench_rows import ResellerData
from seeds.bench_tickets import analyze_tables, bench_desks_present, load_tickets
from seeds.bench_writer import BulkWriter
from tenant import client_counts


def _make_reseller(name: str, host: str, owner: str, password_hash: str) -> tuple[Reseller, list[Plan]]:
    reseller, login = create_reseller(name=name, host=host, owner_email=owner, require_staff_2fa=False)
    login.password_hash = password_hash
    login.verified_at = utcnow()
    plans = [
        Plan(
            reseller_id=reseller.id,
            name=p,
            price_cents=c,
            period="monthly",
            sessions_per_period=s,
            retired_at=utcnow() if retired else None,
        )
        for p, c, s, _share, retired in PLANS
    ]
    db.session.add_all(plans)
    db.session.flush()
    return reseller, plans


def bench_present() -> bool:
    hosts = (BENCH_HOST, *(host for _name, host in OTHER_RESELLERS))
    return db.session.scalar(select(ResellerHost.id).where(ResellerHost.host.in_(hosts)).limit(1)) is not None


def seed_bench(
    *,
    clients: int = 100_000,
    users_per_client: int = 5,
    payments_per_client: int = 20,
    windows_per_client: int = 50,
    tickets: int = 1_000_000,
) -> str:
    """Create the bench resellers and their data in one transaction, then ANALYZE.

    Refuses (returns a message, changes nothing) when any bench reseller already
    exists: drop the database, or the three resellers, to make it again.
    """
    if bench_present():
        return (
            f"Bench data already present ({BENCH_HOST}); nothing done. "
            "Drop and re-create the database to make it again."
        )
    started = time.perf_counter()
    password_hash = hash_password(BENCH_PASSWORD)
    totals: dict[str, int] = {}
    number_from = 1
    jobs = [("Revenda Bench", BENCH_HOST, BENCH_OWNER, clients, windows_per_client)]
    jobs += [(name, host, f"owner@{host}", OTHER_CLIENTS, 0) for name, host in OTHER_RESELLERS]
    made = [
        (_make_reseller(name, host, owner, password_hash), count, windows)
        for name, host, owner, count, windows in jobs
    ]
    writer = BulkWriter()
    for (reseller, plans), count, windows in made:
        data = ResellerData(writer, reseller, plans, password_hash)
        data.fill(count, users_per_client, payments_per_client, windows, number_from)
        number_from += count
        for key, value in data.counts.items():
            totals[key] = totals.get(key, 0) + value
    tickets_from = time.perf_counter()
    plan = [(reseller.id, tickets if k == 0 else 0) for k, ((reseller, _p), _c, _w) in enumerate(made)]
    totals.update(load_tickets(writer, plan, password_hash, SEED))
    tickets_took = time.perf_counter() - tickets_from
    # The list's totals are kept by triggers (migration 0017), which the load may switch
    # off: count them from the rows, as the daily check would.
    for (reseller, _plans), _count, _windows in made:
        client_counts.repair(reseller.id)
    db.session.commit()
    loaded = time.perf_counter() - started
    tables = sorted(
        set(writer.timings)
        | {"resellers", "plans", "roles", "reseller_hosts", "client_counts", *analyze_tables()}
    )
    if db.engine.dialect.name == "postgresql":
        # VACUUM too: it sets the visibility map the list's index-only COUNT relies on.
        with db.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(tables)}")
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    elapsed = time.perf_counter() - started
    parts = ", ".join(f"{v:,} {k}" for k, v in totals.items())
    slowest = ", ".join(
        f"{k} {v:.0f} s" for k, v in sorted(writer.timings.items(), key=lambda kv: -kv[1])[:4]
    )
    checks = "" if writer.references_checked else " (foreign-key triggers off during the load)"
    windows_note = "" if windows_per_client else " No session windows (--windows-per-client 0)."
    windows_note += (
        f" Desks and tickets took {tickets_took:.0f} s." if tickets else " No tickets (--tickets 0)."
    )
    return (
        f"Bench data in {elapsed:.0f} s (load {loaded:.0f} s{checks}; {slowest}; then ANALYZE):"
        f" {parts}."
        f"{windows_note}\nLog in at http://{BENCH_HOST}:5000 as {BENCH_OWNER} / {BENCH_PASSWORD} "
        "(every bench user and reseller owner has that password too)."
    )


def add_bench_tickets(tickets: int = 1_000_000) -> str:
    """Desks and tickets for bench data made before they existed (``seed bench-tickets``):
    the same as ``seed bench`` adds, in one transaction, then ANALYZE. Refuses (changes
    nothing) when the bench reseller has desks already, or there is no bench data."""
    hosts = (BENCH_HOST, *(host for _name, host in OTHER_RESELLERS))
    ids = [db.session.scalar(select(ResellerHost.reseller_id).where(ResellerHost.host == h)) for h in hosts]
    if None in ids:
        return "No bench data: run `seed bench` (it adds the tickets itself)."
    if bench_desks_present(ids[0]):
        return "Bench desks already present; nothing done."
    started = time.perf_counter()
    writer = BulkWriter()
    plan = [(reseller_id, tickets if k == 0 else 0) for k, reseller_id in enumerate(ids)]
    totals = load_tickets(writer, plan, hash_password(BENCH_PASSWORD), SEED)
    db.session.commit()
    loaded = time.perf_counter() - started
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(analyze_tables())}")
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    parts = ", ".join(f"{v:,} {k}" for k, v in totals.items())
    return f"Bench desks and tickets in {time.perf_counter() - started:.0f} s (load {loaded:.0f} s): {parts}."
