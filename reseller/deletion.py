"""Deleting a client (SPEC "Clients", Delete; seed 000 "Processo de Exclusão de Cliente").

Three steps in the panel: a warning that counts what will be removed; a one-time code
(e-mailed, or read from the staff member's authenticator app); the confirmation, which
in one transaction hides the client everywhere, ends its users' sessions, cancels its
subscription and writes the purge deadline. A background purge then removes every row
and file of the client, well within the 48 hours staff are promised.

The deadline lives in ``client_deletions`` and a periodic sweep starts the purges that
are due, so a lost job or a dead worker only delays one. The purge is idempotent: each
batch is a transaction of its own and progress is simply "what rows remain", so running
it again after a crash at any point finishes the work, and running it twice is harmless.
"""

from __future__ import annotations

import hmac
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flask import current_app, has_request_context, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, delete, exists, func, or_, select, update

from auth import identity
from auth import services as auth_services
from auth.models import Account, Login
from core import audit, jobs, links, mail
from core.extensions import db
from core.models import AuditEvent, Reseller
from core.timeutil import utcnow
from reseller.models import (
    PURGE_CANCELLED,
    PURGE_RUNNING,
    PURGED,
    ClientDeletion,
    ClientDeletionCode,
)
from tenant.models import Client

log = logging.getLogger(__name__)

PURPOSE = "delete-client"
# A purge whose heartbeat is older than this died (worker killed): it may be taken over.
PURGE_LEASE = timedelta(minutes=5)
PURGE_JOB_TIMEOUT = 3600
SWEEP_EVERY_SECONDS = 600
# Tables that mention a client but are not the client's data: the audit log is the
# history and stays; the deletion row is the tombstone.
KEPT_TABLES = {"audit_events", "client_deletions"}
# Audit events of the deletion itself: their details are ids and counts, kept whole.
TOMBSTONE_ACTIONS = (
    "client.deletion_requested",
    "client.deletion_code_sent",
    "client.deletion_code_wrong",
    "client.deletion_confirmed",
    "client.deletion_cancelled",
    "client.deletion_refused",
    "client.purge_started",
    "client.purged",
)


class DeletionRefused(Exception):
    """The deletion (or its cancellation) cannot go on; nothing changed. The message is
    safe to show."""


# --- step 1: what will be removed ---------------------------------------------------------

COUNT_LABELS = {
    "users": _l("Users (their accounts in this client)"),
    "logins": _l("Logins left without any account (e-mail and password)"),
    "teams": _l("Teams"),
    "contacts": _l("Contacts"),
    "conversations": _l("Conversations"),
    "messages": _l("Messages"),
    "session_windows": _l("Conversation windows (sessions used)"),
    "tickets": _l("Tickets"),
    "payments": _l("Invoices and payments"),
    "subscriptions": _l("Subscriptions (plans)"),
    "extra_packs": _l("Extra-conversation packs"),
    "custom_field_values": _l("Custom field values"),
    "files": _l("Files (photo)"),
}


def _sole_logins(client_id: int):
    """Logins whose every account belongs to this client: without it they hold nothing."""
    in_client = select(Account.id).where(Account.login_id == Login.id, Account.client_id == client_id)
    elsewhere = select(Account.id).where(
        Account.login_id == Login.id, or_(Account.client_id.is_(None), Account.client_id != client_id)
    )
    return select(Login.id).where(exists(in_client), ~exists(elsewhere))


def deletion_counts(client: Client) -> dict[str, int]:
    """How many rows (and files) of each kind the deletion removes, counted by queries
    scoped to the client."""
    from billing.models import ExtraPack, Payment, Subscription
    from tenant.inbox_models import Contact, Conversation, Message, SessionWindow, Team
    from tenant.models import CustomFieldValue, Ticket

    def count(model, *where) -> int:
        return db.session.scalar(
            select(func.count())
            .select_from(model)
            .where(model.client_id == client.id, model.reseller_id == client.reseller_id, *where)
        )

    return {
        "users": count(Account),
        "logins": db.session.scalar(select(func.count()).select_from(_sole_logins(client.id).subquery())),
        "teams": count(Team),
        "contacts": count(Contact),
        "conversations": count(Conversation),
        "messages": count(Message),
        "session_windows": count(SessionWindow),
        "tickets": count(Ticket),
        "payments": count(Payment),
        "subscriptions": count(Subscription),
        "extra_packs": count(ExtraPack),
        "custom_field_values": count(CustomFieldValue),
        "files": 1 if client.photo_path else 0,
    }


def kept_audit_entries(client: Client) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.client_id == client.id, AuditEvent.reseller_id == client.reseller_id)
    )


def purge_delay() -> timedelta:
    return timedelta(hours=current_app.config["CLIENT_PURGE_DELAY_HOURS"])


# --- step 2: the one-time code ------------------------------------------------------------


def uses_authenticator(staff: Account) -> bool:
    """Staff with an authenticator app confirm with it; the others get an e-mailed code."""
    return staff.login.has_totp


def _digest(row: ClientDeletionCode, code: str) -> str:
    # Bound to this row, this client and this staff account.
    return identity.keyed_digest(PURPOSE, str(row.id), str(row.client_id), str(row.account_id), code)


def latest_code(staff: Account, client: Client) -> ClientDeletionCode | None:
    return db.session.scalar(
        select(ClientDeletionCode)
        .where(
            ClientDeletionCode.account_id == staff.id,
            ClientDeletionCode.client_id == client.id,
            ClientDeletionCode.reseller_id == client.reseller_id,
        )
        .order_by(ClientDeletionCode.id.desc())
        .limit(1)
    )


def live_code(staff: Account, client: Client) -> ClientDeletionCode | None:
    """The code this staff member may still enter to delete this client, if any."""
    row = latest_code(staff, client)
    if (
        row is None
        or row.used_at is not None
        or row.expires_at <= utcnow()
        or row.attempts >= identity.CODE_MAX_TRIES
    ):
        return None
    return row


def request_code(staff: Account, client: Client) -> ClientDeletionCode:
    """Step 2: the code that lets ``staff`` delete ``client``.

    E-mailed to the staff member, or (with an authenticator app enrolled) nothing is
    sent and the app's code is asked. Asking again while a code is live is a resend:
    throttled, and the tries already spent stay spent. Raises
    :class:`identity.CodeRefused` (TOO_SOON, TOO_MANY_SENDS) when nothing may be sent now.
    """
    now = utcnow()
    method = ClientDeletionCode.TOTP if uses_authenticator(staff) else ClientDeletionCode.EMAIL
    row = live_code(staff, client)
    if row is not None and row.method == method:
        if method == ClientDeletionCode.TOTP:
            return row
        _resend(staff, client, row)
        return row
    recent = db.session.scalar(
        select(func.count())
        .select_from(ClientDeletionCode)
        .where(
            ClientDeletionCode.account_id == staff.id,
            ClientDeletionCode.created_at > now - timedelta(hours=1),
        )
    )
    if recent >= identity.MAX_CHALLENGES_PER_HOUR:
        raise identity.CodeRefused(identity.TOO_MANY_SENDS)
    row = ClientDeletionCode(
        reseller_id=client.reseller_id,
        client_id=client.id,
        account_id=staff.id,
        method=method,
        created_at=now,
        last_sent_at=now,
        expires_at=now + identity.CODE_TTL,
    )
    db.session.add(row)
    db.session.flush()
    audit.record("client.deletion_requested", client, details={"method": method})
    if method == ClientDeletionCode.EMAIL:
        code = identity.new_code()
        row.code_hash = _digest(row, code)
        _send_code(staff, client, code)
        audit.record("client.deletion_code_sent", client, details={"code_id": row.id})
    return row


def _resend(staff: Account, client: Client, row: ClientDeletionCode) -> None:
    code = identity.renew_code(row, lambda fresh: _digest(row, fresh))
    db.session.refresh(row)
    _send_code(staff, client, code)
    audit.record("client.deletion_code_sent", client, details={"code_id": row.id, "resend": True})


def _send_code(staff: Account, client: Client, code: str) -> None:
    reseller = db.session.get(Reseller, client.reseller_id)
    text = render_template(
        "reseller/mail/deletion_code.txt",
        reseller=reseller,
        client=client,
        code=code,
        minutes=int(identity.CODE_TTL.total_seconds() // 60),
        when=utcnow(),
        ip=(request.remote_addr if has_request_context() else None) or "-",
        email=staff.email,
        security_url=links.reseller_url(reseller, "account.security"),
    )
    mail.send_mail(
        staff.email,
        _("%(code)s is your code to delete the client %(client)s", code=code, client=client.trade_name),
        text,
        sender_name=reseller.name,
        reply_to=reseller.support_email,
    )


def verify_code(staff: Account, client: Client, code: str) -> ClientDeletionCode:
    """Spend one try on ``code``; return the code row when it wins.

    As for login codes, the try is counted before the comparison and the code is
    marked used by a conditional UPDATE: of two concurrent submissions, one wins.
    """
    now = utcnow()
    row = latest_code(staff, client)
    if row is None:
        raise identity.CodeRefused(identity.EXPIRED)
    if row.used_at is not None:
        raise identity.CodeRefused(identity.USED)
    if row.expires_at <= now:
        raise identity.CodeRefused(identity.EXPIRED)
    counted = db.session.execute(
        update(ClientDeletionCode)
        .where(
            ClientDeletionCode.id == row.id,
            ClientDeletionCode.attempts < identity.CODE_MAX_TRIES,
            ClientDeletionCode.used_at.is_(None),
        )
        .values(attempts=ClientDeletionCode.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(row)
    if counted != 1:
        raise identity.CodeRefused(identity.USED if row.used_at is not None else identity.TOO_MANY_TRIES)
    if row.method == ClientDeletionCode.TOTP:
        right = identity.check_totp(staff.login, code)
    else:
        cleaned = "".join(ch for ch in (code or "") if ch.isdigit())
        right = (
            len(cleaned) == identity.CODE_DIGITS
            and row.code_hash is not None
            and hmac.compare_digest(row.code_hash, _digest(row, cleaned))
        )
    if not right:
        reason = identity.TOO_MANY_TRIES if row.attempts >= identity.CODE_MAX_TRIES else identity.WRONG
        audit.record(
            "client.deletion_code_wrong", client, details={"code_id": row.id, "attempts": row.attempts}
        )
        raise identity.CodeRefused(reason)
    won = db.session.execute(
        update(ClientDeletionCode)
        .where(ClientDeletionCode.id == row.id, ClientDeletionCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        raise identity.CodeRefused(identity.USED)
    return row


# --- step 3: confirm ------------------------------------------------------------------------


def confirm_deletion(staff: Account, client: Client, code: str) -> ClientDeletion:
    """Delete ``client`` now, in the caller's transaction, once ``code`` wins.

    The client disappears from every list, its users' sessions end and they cannot log
    in, its channel refuses messages, its subscription is cancelled, and the purge is
    scheduled. Raises :class:`identity.CodeRefused` (commit: the spent try counts) or
    :class:`DeletionRefused` (roll back: nothing happened, the code stays usable).
    """
    verify_code(staff, client, code)
    now = utcnow()
    hidden = db.session.execute(
        update(Client)
        .where(Client.id == client.id, Client.reseller_id == staff.reseller_id, Client.deleted_at.is_(None))
        .values(deleted_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if hidden != 1:
        raise DeletionRefused(_("This client was already deleted."))
    db.session.refresh(client)
    counts = deletion_counts(client)
    sessions_ended = auth_services.revoke_sessions(client_id=client.id)
    deletion = ClientDeletion(
        reseller_id=client.reseller_id,
        client_id=client.id,
        requested_by_account_id=staff.id,
        requested_at=now,
        purge_due_at=now + purge_delay(),
        counts=counts,
        purged_rows={},
    )
    db.session.add(deletion)
    db.session.flush()
    # Last, because it may call Stripe: if it fails, nothing above is committed.
    _cancel_subscription(client)
    audit.record(
        "client.deletion_confirmed",
        client,
        details={
            "deletion_id": deletion.id,
            "counts": counts,
            "sessions_ended": sessions_ended,
            "purge_due_at": deletion.purge_due_at.isoformat(),
        },
    )
    _enqueue_purge(deletion, delay=deletion.purge_due_at - now)
    return deletion


def _cancel_subscription(client: Client) -> None:
    from billing import services as billing_services
    from billing import stripe_gateway, subscriptions

    if billing_services.current_subscription(client) is None:
        return
    try:
        subscriptions.cancel_plan(client, "now")
    except (billing_services.BillingRejected, stripe_gateway.StripeUnavailable) as exc:
        raise DeletionRefused(str(exc)) from exc


def _enqueue_purge(deletion: ClientDeletion, delay: timedelta | None = None) -> None:
    jobs.enqueue(
        "reseller.deletion.purge_job",
        deletion.id,
        queue="maintenance",
        job_id=f"purge-client-{deletion.client_id}",
        timeout=PURGE_JOB_TIMEOUT,
        retries=3,
        delay=delay if delay and delay > timedelta(0) else None,
    )


# --- cancelling -----------------------------------------------------------------------------


def cancel_deletion(deletion: ClientDeletion, staff: Account) -> Client:
    """Bring the client back, unless its purge has started.

    Its sessions stay ended and its subscription stays cancelled (in Stripe too).
    Raises :class:`DeletionRefused` when it is too late.
    """
    now = utcnow()
    won = db.session.execute(
        update(ClientDeletion)
        .where(
            ClientDeletion.id == deletion.id,
            ClientDeletion.started_at.is_(None),
            ClientDeletion.cancelled_at.is_(None),
            ClientDeletion.finished_at.is_(None),
        )
        .values(cancelled_at=now, cancelled_by_account_id=staff.id, status=PURGE_CANCELLED)
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        raise DeletionRefused(
            _("The purge of this client has already started: its deletion can no longer be cancelled.")
        )
    db.session.execute(
        update(Client)
        .where(Client.id == deletion.client_id, Client.reseller_id == deletion.reseller_id)
        .values(deleted_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(deletion)
    client = db.session.get(Client, deletion.client_id)
    db.session.refresh(client)
    audit.record("client.deletion_cancelled", client, details={"deletion_id": deletion.id})
    return client


# --- the purge ------------------------------------------------------------------------------


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


class _Stop(Exception):
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


class _Purge:
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
            raise _Stop

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
        # 1. The client's data, children first (messages, windows, conversations, ...).
        for table in _client_tables():
            self.delete_in_batches(table, table.c.client_id == cid, table.c.reseller_id == rid)
        client_accounts = select(accounts.c.id).where(accounts.c.client_id == cid)
        # The audit log stays (staff accountability), stripped of the client's personal
        # data while its users' accounts still tell who was a client user.
        self.scrub_audit(client_accounts)
        self.delete_stripe_events(cid)
        # 2. Its users' sessions (impersonations of them included).
        sessions = _table("auth_sessions")
        self.delete_in_batches(sessions, sessions.c.account_id.in_(client_accounts))
        # 3. Logins that only this client's accounts used: with everything hanging off them.
        while True:
            login_ids = list(db.session.scalars(_sole_logins(cid).limit(self.batch_size)))
            if not login_ids:
                db.session.rollback()
                break
            rows = 0
            for table, column in _login_tables():
                rows += db.session.execute(delete(table).where(column.in_(login_ids))).rowcount or 0
            logins = _table("logins")
            rows += db.session.execute(delete(logins).where(logins.c.id.in_(login_ids))).rowcount or 0
            self.commit_batch("logins", rows)
        # 4. Its remaining accounts (their logins keep accounts elsewhere).
        self.delete_in_batches(accounts, accounts.c.client_id == cid, accounts.c.reseller_id == rid)
        # 5. Its files, then the client row itself.
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

    def scrub_audit(self, client_accounts) -> None:
        """Keep the client's audit events (what happened, when, which account) but not
        what they said about people: details, IP addresses, browsers, and the e-mail of
        a client user who acted. The deletion's own events (ids and counts) stay whole."""
        events = _table("audit_events")
        last_id = 0
        while True:
            ids = list(
                db.session.scalars(
                    select(events.c.id)
                    .where(
                        events.c.client_id == self.client_id,
                        events.c.reseller_id == self.reseller_id,
                        events.c.id > last_id,
                    )
                    .order_by(events.c.id)
                    .limit(self.batch_size)
                )
            )
            if not ids:
                db.session.rollback()
                return
            last_id = ids[-1]
            in_batch = events.c.id.in_(ids)
            db.session.execute(
                update(events)
                .where(in_batch, events.c.action.not_in(TOMBSTONE_ACTIONS))
                .values(details={}, ip=None, user_agent=None)
            )
            db.session.execute(update(events).where(in_batch).values(ip=None, user_agent=None))
            db.session.execute(
                update(events)
                .where(in_batch, events.c.actor_account_id.in_(client_accounts))
                .values(actor_label=None)
            )
            self.commit_batch("audit_events_scrubbed", len(ids))

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


def _claim(deletion_id: int) -> ClientDeletion | None:
    """Take the purge for this run: due, not cancelled, not finished, and not held by a
    live run (a dead run's lease expires). One conditional UPDATE, so of two workers
    one wins; and a cancellation, itself conditional on ``started_at``, loses or wins
    against it as a whole."""
    now = utcnow()
    first = (
        db.session.scalar(select(ClientDeletion.started_at).where(ClientDeletion.id == deletion_id)) is None
    )
    won = db.session.execute(
        update(ClientDeletion)
        .where(
            ClientDeletion.id == deletion_id,
            ClientDeletion.cancelled_at.is_(None),
            ClientDeletion.finished_at.is_(None),
            ClientDeletion.purge_due_at <= now,
            or_(ClientDeletion.heartbeat_at.is_(None), ClientDeletion.heartbeat_at < now - PURGE_LEASE),
        )
        .values(
            started_at=func.coalesce(ClientDeletion.started_at, now),
            heartbeat_at=now,
            status=PURGE_RUNNING,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        db.session.rollback()
        return None
    deletion = db.session.get(ClientDeletion, deletion_id)
    db.session.refresh(deletion)
    live = db.session.scalar(
        select(Client.id).where(Client.id == deletion.client_id, Client.deleted_at.is_(None))
    )
    if live is not None:
        # Never purge a client that is not deleted (defence in depth: cancelling clears
        # deleted_at only together with cancelled_at).
        db.session.rollback()
        log.error("purge %s refused: client %s is not deleted", deletion_id, deletion.client_id)
        return None
    if first:
        audit.record(
            "client.purge_started",
            deletion,
            reseller_id=deletion.reseller_id,
            client_id=deletion.client_id,
            details={"deletion_id": deletion.id},
        )
    db.session.commit()
    return deletion


def _release(deletion_id: int) -> None:
    """Let the next run take over at once (this one stopped or failed, but is not dead)."""
    db.session.rollback()
    db.session.execute(
        update(ClientDeletion)
        .where(ClientDeletion.id == deletion_id, ClientDeletion.finished_at.is_(None))
        .values(heartbeat_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def purge_client(
    deletion_id: int, *, batch_size: int | None = None, max_batches: int | None = None
) -> PurgeReport | None:
    """Remove every row and file of a deleted client, in batches; keep the tombstone.

    Returns ``None`` when there is nothing to do now (not due yet, cancelled, finished,
    or another run holds it). ``max_batches`` stops the run early (tests, benchmarks);
    a later run carries on where it stopped.
    """
    started = time.perf_counter()
    deletion = _claim(deletion_id)
    if deletion is None:
        return None
    purge = _Purge(deletion, batch_size or current_app.config["CLIENT_PURGE_BATCH"], max_batches)
    try:
        purge.run()
    except _Stop:
        _release(deletion_id)
        purge.report.seconds = time.perf_counter() - started
        return purge.report
    except Exception:
        _release(deletion_id)
        raise
    deletion = db.session.get(ClientDeletion, deletion_id)
    deletion.status = PURGED
    deletion.finished_at = utcnow()
    deletion.heartbeat_at = None
    audit.record(
        "client.purged",
        deletion,
        reseller_id=deletion.reseller_id,
        client_id=deletion.client_id,
        details={"deletion_id": deletion.id, "rows": dict(deletion.purged_rows or {})},
    )
    db.session.commit()
    purge.report.finished = True
    purge.report.seconds = time.perf_counter() - started
    log.info(
        "client %s purged: %s rows in %s batches, %.1f s",
        deletion.client_id,
        purge.report.rows,
        purge.report.batches,
        purge.report.seconds,
    )
    return purge.report


def purge_job(deletion_id: int) -> None:
    """Job (queue ``maintenance``, id ``purge-client-<client id>``)."""
    purge_client(deletion_id)


def due_deletions() -> list[ClientDeletion]:
    now = utcnow()
    return list(
        db.session.scalars(
            select(ClientDeletion)
            .where(
                ClientDeletion.finished_at.is_(None),
                ClientDeletion.cancelled_at.is_(None),
                ClientDeletion.purge_due_at <= now,
                or_(ClientDeletion.heartbeat_at.is_(None), ClientDeletion.heartbeat_at < now - PURGE_LEASE),
            )
            .order_by(ClientDeletion.purge_due_at)
        )
    )


def sweep_job() -> int:
    """Periodic job: queue the purge of every deletion that is due and not running,
    whether or not its own job was ever queued (Redis down, worker killed)."""
    due = due_deletions()
    for deletion in due:
        _enqueue_purge(deletion)
    db.session.commit()
    return len(due)
