"""The purge's batches: every row of a deleted client removed table by table, children
before parents, each batch its own transaction that also counts itself in the tombstone
and renews the run's lease. Progress is "what rows remain", so a run that dies at any
point is finished by the next one."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import Table, and_, delete, exists, or_, select

from auth.models import Account, Login
from core import audit_chain
from core.extensions import db
from core.models import AuditEvent
from core.storage import client_prefix, get_storage
from core.timeutil import utcnow
from reseller.models import ClientDeletion

log = logging.getLogger(__name__)

# Tables that mention a client but are not the client's data: the audit log is the
# history and stays; the deletion row is the tombstone.
KEPT_TABLES = {"audit_events", "client_deletions"}


def sole_logins(client_id: int):
    """Logins whose every account belongs to this client: without it they hold nothing."""
    in_client = select(Account.id).where(Account.login_id == Login.id, Account.client_id == client_id)
    elsewhere = select(Account.id).where(
        Account.login_id == Login.id, or_(Account.client_id.is_(None), Account.client_id != client_id)
    )
    return select(Login.id).where(exists(in_client), ~exists(elsewhere))


@dataclass
class PurgeReport:
    """What one run of the purge did (for logs and the benchmark)."""

    batches: int = 0
    rows: int = 0
    peak_batch_rows: int = 0
    # The longest transaction of the run: how long any row lock was held.
    slowest_batch_seconds: float = 0.0
    slowest_batch: str = ""
    seconds: float = 0.0
    by_table: dict[str, int] = field(default_factory=dict)
    finished: bool = False


class BatchLimitReached(Exception):
    """The run reached its batch limit (tests, benchmarks): stop cleanly."""


def _table(name: str) -> Table:
    return db.metadata.tables[name]


def _client_tables() -> list[Table]:
    """Every table holding rows of one client, children before parents."""
    return [
        table
        for table in reversed(db.metadata.sorted_tables)
        if "client_id" in table.c and table.name not in KEPT_TABLES | {"clients", "accounts"}
    ]


def _login_tables() -> list[tuple[Table, object]]:
    """(table, column) of every row hanging off a login, children before parents."""
    out = []
    for table in reversed(db.metadata.sorted_tables):
        if table.name == "logins":
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name == "logins":
                out.append((table, fk.parent))
    return out


def _primary_key(table: Table):
    (column,) = table.primary_key.columns
    return column


class BatchPurge:
    """Deletes one deleted client's rows in batches, each batch its own transaction."""

    def __init__(self, deletion: ClientDeletion, batch_size: int, max_batches: int | None):
        self.deletion_id = deletion.id
        self.client_id = deletion.client_id
        self.reseller_id = deletion.reseller_id
        self.batch_size = batch_size
        self.max_batches = max_batches
        self.report = PurgeReport()
        self.batch_started = time.perf_counter()

    def commit_batch(self, label: str, rows: int) -> None:
        """Count the batch in the tombstone and renew the lease, in the batch's transaction."""
        now = utcnow()
        deletion = db.session.get(ClientDeletion, self.deletion_id)
        purged = dict(deletion.purged_rows or {})
        purged[label] = purged.get(label, 0) + rows
        deletion.purged_rows = purged
        deletion.heartbeat_at = now
        db.session.commit()
        finished = time.perf_counter()
        if finished - self.batch_started > self.report.slowest_batch_seconds:
            self.report.slowest_batch_seconds = finished - self.batch_started
            self.report.slowest_batch = label
        self.batch_started = finished
        self.report.batches += 1
        self.report.rows += rows
        self.report.peak_batch_rows = max(self.report.peak_batch_rows, rows)
        self.report.by_table[label] = self.report.by_table.get(label, 0) + rows
        if self.max_batches is not None and self.report.batches >= self.max_batches:
            raise BatchLimitReached

    def delete_in_batches(self, table: Table, *where, label: str | None = None) -> None:
        pk = _primary_key(table)
        while True:
            ids = select(pk).where(*where).limit(self.batch_size).scalar_subquery()
            rows = db.session.execute(delete(table).where(pk.in_(ids))).rowcount or 0
            if rows == 0:
                db.session.rollback()
                return
            self.commit_batch(label or table.name, rows)
            if rows < self.batch_size:
                return

    def run(self) -> None:
        cid, rid = self.client_id, self.reseller_id
        accounts = _table("accounts")
        # 0. The e-mails its users sent: stored outside its prefix, removed before their rows.
        self.delete_received_mail()
        # 1. The client's data, children first (messages, windows, conversations, ...).
        for table in _client_tables():
            self.delete_in_batches(table, table.c.client_id == cid, table.c.reseller_id == rid)
        client_accounts = select(accounts.c.id).where(accounts.c.client_id == cid)
        # The audit log stays (staff accountability), stripped of the client's personal
        # data while its users' accounts still tell who was a client user.
        self.scrub_audit()
        self.delete_stripe_events(cid)
        # 2. Its users' sessions (impersonations of them included).
        sessions = _table("auth_sessions")
        self.delete_in_batches(sessions, sessions.c.account_id.in_(client_accounts))
        # 3. Logins that only this client's accounts used: with everything hanging off them.
        while True:
            login_ids = list(db.session.scalars(sole_logins(cid).limit(self.batch_size)))
            if not login_ids:
                db.session.rollback()
                break
            rows = 0
            for table, column in _login_tables():
                rows += db.session.execute(delete(table).where(column.in_(login_ids))).rowcount or 0
            logins = _table("logins")
            dead = _table("undeliverable_addresses")  # a bounce's record of their address
            emails = select(logins.c.email).where(logins.c.id.in_(login_ids))
            rows += (
                db.session.execute(
                    delete(dead).where(dead.c.reseller_id == rid, dead.c.address.in_(emails))
                ).rowcount
                or 0
            )
            rows += db.session.execute(delete(logins).where(logins.c.id.in_(login_ids))).rowcount or 0
            self.commit_batch("logins", rows)
        # 4. Its remaining accounts (their logins keep accounts elsewhere).
        self.delete_in_batches(accounts, accounts.c.client_id == cid, accounts.c.reseller_id == rid)
        # 5. Its files: every stored object under its prefix (ticket attachments...), which no
        # row names any more, and its photo; then the client row itself.
        stored = get_storage().delete_prefix(client_prefix(rid, cid))
        if stored:
            self.commit_batch("stored_files", stored)
        clients = _table("clients")
        photo = db.session.scalar(select(clients.c.photo_path).where(clients.c.id == cid))
        if photo:
            self._remove_file(photo)
        rows = (
            db.session.execute(
                delete(clients).where(
                    clients.c.id == cid, clients.c.reseller_id == rid, clients.c.deleted_at.is_not(None)
                )
            ).rowcount
            or 0
        )
        if rows:
            self.commit_batch("clients", rows)
        else:
            db.session.rollback()

    def scrub_audit(self) -> None:
        """Keep the client's audit events (what happened, when, which account, the
        deletion's ids and counts) but not what they said about people: IP addresses,
        browsers, actors' e-mails and every text in the details (``audit_chain.scrub``).
        Their digests stay, so the reseller's audit chain still verifies."""
        last_id = 0
        while True:
            events = db.session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.client_id == self.client_id,
                    AuditEvent.reseller_id == self.reseller_id,
                    AuditEvent.id > last_id,
                )
                .order_by(AuditEvent.id)
                .limit(self.batch_size)
            ).all()
            if not events:
                db.session.rollback()
                return
            last_id = events[-1].id
            for event in events:
                audit_chain.scrub(event)
            self.commit_batch("audit_events_scrubbed", len(events))

    def delete_received_mail(self) -> None:
        """The e-mails of the client: those that reached its tickets, and those its users
        sent that never did (waiting, discarded, refused...), known by a sender only this
        client's logins have. Their raw bytes live under ``intake/<day>/``, outside the
        client's prefix: each object removed, then its row, a batch at a time (a run that
        dies half-way removes the rest next time; a missing object is no error)."""
        inbox = _table("inbound_messages")
        senders = select(Login.email).where(Login.id.in_(sole_logins(self.client_id)))
        theirs = (
            inbox.c.reseller_id == self.reseller_id,
            or_(
                inbox.c.client_id == self.client_id,
                and_(inbox.c.client_id.is_(None), inbox.c.sender.in_(senders)),
            ),
        )
        storage = get_storage()
        while True:
            rows = db.session.execute(
                select(inbox.c.id, inbox.c.storage_key)
                .where(*theirs)
                .order_by(inbox.c.id)
                .limit(self.batch_size)
            ).all()
            if not rows:
                db.session.rollback()
                return
            for _row_id, key in rows:
                storage.delete(key)
            ids = [row_id for row_id, _key in rows]
            removed = db.session.execute(delete(inbox).where(inbox.c.id.in_(ids))).rowcount or 0
            self.commit_batch("inbound_messages", removed)

    def delete_stripe_events(self, cid: int) -> None:
        """Stripe's copies of the client's events (customer e-mail, name, address) go too;
        the per-object watermarks hold ids only and stay."""
        customer = db.session.scalar(
            select(_table("clients").c.stripe_customer_id).where(_table("clients").c.id == cid)
        )
        if not customer:
            db.session.rollback()
            return
        inbox = _table("stripe_events")
        ids = list(
            db.session.scalars(
                select(inbox.c.id).where(
                    inbox.c.processed_at.is_not(None),
                    inbox.c.payload.contains(f'"{customer}"', autoescape=True),
                )
            )
        )
        db.session.rollback()
        for start in range(0, len(ids), self.batch_size):
            chunk = ids[start : start + self.batch_size]
            rows = db.session.execute(delete(inbox).where(inbox.c.id.in_(chunk))).rowcount or 0
            self.commit_batch("stripe_events", rows)

    def _remove_file(self, relative: str) -> None:
        root = Path(current_app.config["UPLOAD_DIR"]).resolve()
        path = (root / relative).resolve()
        if root not in path.parents:
            log.warning("purge of client %s: photo path outside the upload folder ignored", self.client_id)
            return
        existed = path.is_file()
        path.unlink(missing_ok=True)
        if existed:
            self.report.by_table["files"] = self.report.by_table.get("files", 0) + 1
            deletion = db.session.get(ClientDeletion, self.deletion_id)
            deletion.purged_rows = {**(deletion.purged_rows or {}), "files": 1}
            db.session.commit()
