"""Purge of a deleted client with 1,000,000 messages (QUALITY: gone within 48 hours,
in batches that do not lock the database).

On its own PostgreSQL database (``BENCH_PURGE_DATABASE_URL``, made afresh each run): a
reseller with the client to purge (1,000,000 messages in 20,000 conversations with
20,000 contacts and windows, 10 users) and a neighbour client of the same size that
must be left whole. While the purge runs, a second connection keeps writing messages
of the neighbour and records its slowest write: a purge that held locks on shared rows
or tables would show there. Prints and saves: total time, rows/s, batches, the longest
batch transaction, the neighbour's slowest write."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import psycopg
from common import ROOT, save  # noqa: F401 - ROOT puts the project on sys.path
from flask_migrate import upgrade

from core import create_app
from core.extensions import db
from core.timeutil import utcnow
from reseller.models import ClientDeletion
from reseller.purge import purge_client
from reseller.resellers import create_reseller
from seeds.documents import make_cnpj
from tenant.models import Client

MESSAGES = int(os.environ.get("BENCH_PURGE_MESSAGES", "1000000"))
CONVERSATIONS = max(1, MESSAGES // 50)
USERS = 10
URL = os.environ.get("BENCH_PURGE_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/revenda_bench_purge")
TARGET_SECONDS = 48 * 3600


def recreate_database() -> None:
    base, name = URL.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def make_app():
    os.environ.setdefault("APP_ENV", "testing")

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": URL.replace("postgresql://", "postgresql+psycopg://", 1),
            "REDIS_URL": None,
            "RATELIMIT_ENABLED": False,
        }
    )


def fill(conn, reseller_id: int, client_id: int, tag: str) -> None:
    """Users, contacts, conversations, windows and messages of one client, in SQL."""
    conn.execute(
        """INSERT INTO logins (reseller_id, email, created_at)
           SELECT %s, 'u' || g || '@' || %s || '.test', now() FROM generate_series(1, %s) g""",
        (reseller_id, tag, USERS),
    )
    conn.execute(
        """INSERT INTO accounts (reseller_id, login_id, client_id, kind, name, active, permissions,
                                 chat_level, view_phones, created_at)
           SELECT %s, l.id, %s, 'client_user', 'User ' || l.id, true, '[]', 6, true, now()
           FROM logins l WHERE l.email LIKE %s""",
        (reseller_id, client_id, f"%@{tag}.test"),
    )
    conn.execute(
        """INSERT INTO contacts (reseller_id, client_id, name, phone, created_at)
           SELECT %s, %s, 'Contato ' || g, '55119' || lpad(g::text, 8, '0'), now()
           FROM generate_series(1, %s) g""",
        (reseller_id, client_id, CONVERSATIONS),
    )
    conn.execute(
        """INSERT INTO conversations (reseller_id, client_id, contact_id, status, created_at, last_message_at)
           SELECT reseller_id, client_id, id, 'open', now(), now() FROM contacts WHERE client_id = %s""",
        (client_id,),
    )
    conn.execute(
        """INSERT INTO session_windows (reseller_id, client_id, contact_id, conversation_id, source,
                                        opened_at, expires_at)
           SELECT reseller_id, client_id, contact_id, id, 'plan', now(), now() + interval '1 day'
           FROM conversations WHERE client_id = %s""",
        (client_id,),
    )
    conn.execute(
        """INSERT INTO messages (reseller_id, client_id, conversation_id, direction, body, is_template,
                                 created_at)
           SELECT c.reseller_id, c.client_id, c.id, 'in', 'Mensagem de teste número ' || g, false, now()
           FROM conversations c CROSS JOIN generate_series(1, %s) g WHERE c.client_id = %s""",
        (MESSAGES // CONVERSATIONS, client_id),
    )


def seed(app) -> tuple[int, int, int, int]:
    with app.test_request_context("/", base_url="http://purge.bench"):
        upgrade()
        reseller, login = create_reseller(
            name="Revenda Purge", host="purge.bench", owner_email="owner@purge.bench", require_staff_2fa=False
        )
        clients = []
        for n, name in enumerate(("Apagada", "Vizinha"), start=1):
            client = Client(
                reseller_id=reseller.id,
                trade_name=name,
                legal_name=f"{name} Ltda",
                email=f"contato@{name.lower()}.test",
                document_type="cnpj",
                document=make_cnpj(n),
            )
            db.session.add(client)
            clients.append(client)
        db.session.commit()
        doomed, neighbour = (c.id for c in clients)
        staff_id = login.accounts[0].id
        reseller_id = reseller.id
    started = time.perf_counter()
    with psycopg.connect(URL) as conn:
        fill(conn, reseller_id, doomed, "apagada")
        fill(conn, reseller_id, neighbour, "vizinha")
        conn.commit()
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"seeded 2 x {MESSAGES:,} messages in {time.perf_counter() - started:.0f} s", flush=True)
    with app.app_context():
        client = db.session.get(Client, doomed)
        client.deleted_at = utcnow()
        deletion = ClientDeletion(
            reseller_id=reseller_id,
            client_id=doomed,
            requested_by_account_id=staff_id,
            purge_due_at=utcnow() - timedelta(seconds=1),
            counts={},
            purged_rows={},
        )
        db.session.add(deletion)
        db.session.commit()
        return reseller_id, doomed, neighbour, deletion.id


class NeighbourWriter(threading.Thread):
    """Writes messages of the neighbour client while the purge runs."""

    def __init__(self, reseller_id: int, client_id: int):
        super().__init__(daemon=True)
        self.reseller_id, self.client_id = reseller_id, client_id
        self.stop = threading.Event()
        self.slowest = 0.0
        self.writes = 0

    def run(self) -> None:
        with psycopg.connect(URL, autocommit=True) as conn:
            conversation = conn.execute(
                "SELECT id FROM conversations WHERE client_id = %s LIMIT 1", (self.client_id,)
            ).fetchone()[0]
            while not self.stop.is_set():
                started = time.perf_counter()
                conn.execute(
                    """INSERT INTO messages (reseller_id, client_id, conversation_id, direction, body,
                                             is_template, created_at)
                       VALUES (%s, %s, %s, 'in', 'oi', false, now())""",
                    (self.reseller_id, self.client_id, conversation),
                )
                self.slowest = max(self.slowest, time.perf_counter() - started)
                self.writes += 1
                time.sleep(0.01)


def count(table: str, client_id: int) -> int:
    with psycopg.connect(URL) as conn:
        return conn.execute(f"SELECT count(*) FROM {table} WHERE client_id = %s", (client_id,)).fetchone()[0]


def main() -> int:
    recreate_database()
    app = make_app()
    reseller_id, doomed, neighbour, deletion_id = seed(app)
    neighbour_before = count("messages", neighbour)
    writer = NeighbourWriter(reseller_id, neighbour)
    writer.start()

    with app.app_context():
        report = purge_client(deletion_id)
    writer.stop.set()
    writer.join()
    left = count("messages", doomed) + count("conversations", doomed) + count("contacts", doomed)
    neighbour_after = count("messages", neighbour)
    result = {
        "messages": MESSAGES,
        "seconds": round(report.seconds, 1),
        "rows": report.rows,
        "rows_per_second": round(report.rows / report.seconds),
        "batches": report.batches,
        "slowest_batch_ms": round(report.slowest_batch_seconds * 1000, 1),
        "slowest_batch": report.slowest_batch,
        "neighbour_writes": writer.writes,
        "neighbour_slowest_write_ms": round(writer.slowest * 1000, 1),
        "rows_left": left,
        "neighbour_untouched": neighbour_after == neighbour_before + writer.writes,
        "by_table": report.by_table,
    }
    for key, value in result.items():
        print(f"{key:>28}: {value}")
    save("purge", result)
    ok = report.finished and left == 0 and result["neighbour_untouched"] and report.seconds < TARGET_SECONDS
    print("target (gone within 48 h, neighbour untouched):", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
