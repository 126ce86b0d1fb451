"""Where a received e-mail's processing time goes: a worker's jobs run in process.

Stores ``BENCH_PROFILE_MESSAGES`` bench messages (default 200, ``bench_mail.message``,
200 senders who are users of a client the desk serves, as the end-to-end bench stores
them: each queues its processing job on Redis db 11), then runs RQ's ``SimpleWorker``
in burst mode in this process, as ``flask worker --no-fork`` does, over the mail queue:
the processing jobs and the jobs they queue (the acknowledgements' delivery). Twice:
once unprofiled (wall time and SQL statements per message), once under cProfile (the
cumulative time of each stage, scaled to the unprofiled time: cProfile slows Python
more than it slows waiting on PostgreSQL, so a stage's share is what the table gives).

Every message must open a ticket and queue its acknowledgement, as in the end-to-end
bench; the script refuses to report otherwise. ``BENCH_PROFILE_TOP=N`` also prints the
N functions with the most own time, ``BENCH_PROFILE_SQL=N`` the N most frequent SQL
statements (their first words) per message, ``BENCH_PROFILE_DUMP=file`` keeps the
profile for ``pstats``.

Run from the project root: ``.venv/bin/python bench/profile_mail.py``.
"""

from __future__ import annotations

import cProfile
import io
import logging
import os
import pstats
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench_mail import DESK_ADDRESS, REDIS_URL, SENDERS, ensure_database, message, prepared_app
from common import machine
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import event, func, select, text

from core import jobs
from core.extensions import db
from core.scope import bypass
from intake import inbox
from intake.models import InboundMessage
from intake.states import IntakeOutcome, ReceivedVia

MESSAGES = int(os.environ.get("BENCH_PROFILE_MESSAGES", "200"))
TOP = int(os.environ.get("BENCH_PROFILE_TOP", "0"))
SQL_TOP = int(os.environ.get("BENCH_PROFILE_SQL", "0"))
DUMP = os.environ.get("BENCH_PROFILE_DUMP")  # a file for pstats / snakeviz

# (label, file ending, function name): cumulative time of each, per message. They nest.
STAGES = [
    ("RQ worker's loop: every job of a message", None, None),
    ("  RQ: dequeue, job bookkeeping (outside the job body)", None, None),
    ("  job body (core.jobs.execute)", "core/jobs.py", "execute"),
    ("    processing one message (intake.processing._process)", "intake/processing.py", "_process"),
    ("      read the stored message", "intake/processing.py", "_read"),
    ("      parse", "intake/parsing.py", "parse"),
    ("      claim (dedupe key, savepoint)", "intake/processing.py", "_claim"),
    ("      sender's rate limit", "intake/processing.py", "_over_limit"),
    ("      machine check (is_automatic)", "intake/headers.py", "is_automatic"),
    ("      threading candidates", "intake/processing.py", "_answered_ticket"),
    ("      route (desk by address)", "intake/routing.py", "route"),
    ("      sender's account", "intake/routing.py", "sender_account"),
    ("      subject's [#n] ticket", "intake/routing.py", "named_ticket"),
    ("      bodies (history trimmed, HTML sanitised)", "intake/processing.py", "_bodies"),
    ("      open_ticket", "desk/tickets.py", "open_ticket"),
    ("        desk serves client", "desk/tickets.py", "desk_serves_client"),
    ("        ticket number", "desk/numbering.py", "next_ticket_number"),
    ("        default status", "desk/statuses.py", "default_status"),
    ("        field values", "desk/tickets.py", "validate_values"),
    ("        SLA refresh", "desk/sla_state.py", "refresh"),
    ("      attachments stored and audited", "intake/processing.py", "_attach_each"),
    ("      first entry id", "desk/tickets.py", "first_entry_id"),
    ("      copied people (Cc)", "intake/strangers.py", "copied_people"),
    ("      received Message-ID recorded", "core/mail.py", "record_received"),
    ("      acknowledgement queued", "intake/acknowledgement.py", "acknowledge"),
    ("      COMMIT (with the mail ledger, jobs dispatched)", "sqlalchemy/orm/session.py", "commit"),
    ("        jobs dispatched to Redis", "core/jobs.py", "dispatch"),
    ("    acknowledgement delivered (core.mail.deliver)", "core/mail.py", "deliver"),
    ("SQL: every statement (execute)", "sqlalchemy/engine/base.py", "_execute_context"),
    ("SQLAlchemy flush (unit of work)", "sqlalchemy/orm/session.py", "_flush"),
]


class Statements:
    """Counts the SQL statements the engine sends while enabled."""

    def __init__(self) -> None:
        self.enabled = False
        self.total = 0
        self.kinds: Counter[str] = Counter()

    def __call__(self, _conn, _cursor, statement, _params, _context, _executemany) -> None:
        if self.enabled:
            self.total += 1
            self.kinds[" ".join(statement.split()[:6])[:90]] += 1


def store(app, count: int, offset: int) -> list[int]:
    ids = []
    with app.app_context():
        for n in range(offset, offset + count):
            raw = message(n, f"pessoa{n % SENDERS}@cliente.bench")
            ids.append(inbox.store(io.BytesIO(raw), via=ReceivedVia.SMTP, envelope_recipients=[DESK_ADDRESS]))
    return ids


def drain(app, redis: Redis) -> int:
    """Run the mail queue's jobs in this process until it is empty; how many jobs."""
    worker = SimpleWorker([Queue("mail", connection=redis)], connection=redis)
    counted = jobs.call
    done = []

    def call(func_path: str, *args):
        done.append(func_path)
        return counted(func_path, *args)

    jobs.call = call
    try:
        with app.app_context():
            worker.work(burst=True, logging_level="WARNING")
    finally:
        jobs.call = counted
    return len(done)


def check_outcomes(app, ids: list[int]) -> None:
    with app.app_context(), bypass("script"):
        outcomes = dict(
            db.session.execute(
                select(InboundMessage.outcome, func.count())
                .where(InboundMessage.id.in_(ids))
                .group_by(InboundMessage.outcome)
            ).all()
        )
        db.session.rollback()
    if outcomes != {IntakeOutcome.TICKET_OPENED: len(ids)}:
        raise SystemExit(f"not every message opened a ticket: {outcomes}")


def database_cpu(app) -> float:
    """CPU seconds used so far by the PostgreSQL backends of the bench database (this
    machine's ``/proc``; nobody else uses that database)."""
    with app.app_context(), bypass("script"):
        pids = db.session.scalars(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).all()
        db.session.rollback()
    return sum(_process_cpu(pid) for pid in pids)


def _process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def outbox_count(outbox: Path) -> int:
    return len(list(outbox.glob("*.eml"))) if outbox.exists() else 0


def stage_times(stats: pstats.Stats, count: int, scale: float, whole_ms: float) -> list[tuple]:
    rows = []
    for label, filename, function in STAGES:
        total, calls = 0.0, 0
        if filename is None:
            rows.append((label, None, None))
            continue
        for (path, _line, name), (_cc, nc, _tt, ct, _callers) in stats.stats.items():
            if name == function and path.endswith(filename):
                total += ct
                calls += nc
        rows.append((label, total * 1000 * scale / count, calls / count))
    # The loop is the unprofiled wall time; RQ's own cost is what the job bodies leave of it.
    rows[0] = (rows[0][0], whole_ms, None)
    rows[1] = (rows[1][0], whole_ms - rows[2][1], None)
    return rows


storing: dict[str, float] = {}  # the last run's cost of storing a message (the listener's side)


def run(app, redis: Redis, outbox: Path, statements: Statements, profiler=None) -> tuple:
    """Store MESSAGES messages, run their jobs; (seconds, CPU seconds of this process and
    of PostgreSQL, statements, jobs)."""
    stored_at, stored_cpu = time.perf_counter(), time.process_time()
    ids = store(app, MESSAGES, offset=time.time_ns() % 10**9)
    storing.update(
        ms=(time.perf_counter() - stored_at) * 1000 / MESSAGES,
        cpu_ms=(time.process_time() - stored_cpu) * 1000 / MESSAGES,
    )
    sent_before = outbox_count(outbox)
    statements.total, statements.kinds = 0, Counter()
    statements.enabled = True
    started, cpu, db_cpu = time.perf_counter(), time.process_time(), database_cpu(app)
    if profiler is not None:
        profiler.enable()
    jobs = drain(app, redis)
    if profiler is not None:
        profiler.disable()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    statements.enabled = False
    db_cpu = database_cpu(app) - db_cpu
    check_outcomes(app, ids)
    sent = outbox_count(outbox) - sent_before
    if sent != MESSAGES:
        raise SystemExit(f"{sent} acknowledgements delivered for {MESSAGES} messages")
    return elapsed, cpu, db_cpu, statements.total, jobs


def main() -> int:
    ensure_database()
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    with tempfile.TemporaryDirectory(prefix="profile-mail-") as storage:
        app = prepared_app(storage)
        # The log as a worker writes it (the outbox logs each mail), to nowhere.
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - for the whole run
        outbox = Path(storage) / "outbox"
        app.config["OUTBOX_DIR"] = str(outbox)
        statements = Statements()
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", statements)
        run(app, redis, outbox, statements)  # warm-up: compiled queries, connections
        elapsed, cpu, db_cpu, sql, jobs = run(app, redis, outbox, statements)
        plain_ms = elapsed * 1000 / MESSAGES
        print(
            f"\n{MESSAGES} messages: {plain_ms:.1f} ms a message unprofiled "
            f"({MESSAGES / elapsed:.1f}/s), of which {cpu * 1000 / MESSAGES:.1f} ms CPU of the worker "
            f"(the rest: waiting on PostgreSQL, Redis, the disk); PostgreSQL's CPU "
            f"{db_cpu * 1000 / MESSAGES:.1f} ms; {sql / MESSAGES:.1f} SQL statements "
            f"and {jobs / MESSAGES:.2f} RQ jobs a message (load {machine()['load1']})"
        )
        print(
            f"storing (the SMTP listener's side, here in the profile's process): {storing['ms']:.1f} ms "
            f"a message, of which {storing['cpu_ms']:.1f} ms CPU"
        )
        if SQL_TOP:
            for text, count in statements.kinds.most_common(SQL_TOP):
                print(f"  {count / MESSAGES:5.2f}  {text}")
        profiler = cProfile.Profile()
        profiled, _cpu, _db_cpu, _sql, _jobs = run(app, redis, outbox, statements, profiler)
        stats = pstats.Stats(profiler)
        scale = elapsed / profiled
        print(f"\n{'stage (cumulative, scaled to unprofiled)':56} {'ms/msg':>7} {'calls/msg':>9}")
        for label, ms, calls in stage_times(stats, MESSAGES, scale, plain_ms):
            calls_text = f"{calls:9.2f}" if calls is not None else ""
            print(f"{label:56} {ms:7.2f} {calls_text}")
        print(f"(profiled run {profiled * 1000 / MESSAGES:.1f} ms a message; load {machine()['load1']})")
        if TOP:
            stats.sort_stats("tottime").print_stats(TOP)
        if DUMP:
            stats.dump_stats(DUMP)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
