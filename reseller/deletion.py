"""Deleting a client (SPEC "Clients", Delete; seed 000 "Processo de Exclusão de Cliente").

Three steps in the panel: a warning that counts what will be removed; a one-time code
(e-mailed, or read from the staff member's authenticator app); the confirmation, which
in one transaction hides the client everywhere, ends its users' sessions, cancels its
subscription and writes the purge deadline. A background purge then removes every row
and file of the client, well within the 48 hours staff are promised.

The purge itself is in ``reseller.purge`` (runs, leases, the due ones) and
``reseller.purge_batches`` (the batches); its jobs are in ``reseller.tasks``.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from flask import current_app, has_request_context, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from auth import codes, totp
from auth import sessions as auth_sessions
from auth.models import Account
from billing import subscriptions
from billing.errors import BillingRejected
from billing.models import ExtraPack, Payment, Subscription
from billing.stripe.gateway import StripeUnavailable
from billing.summary import current_subscription
from core import audit, branding, links, mail
from core.config import MAX_PURGE_DELAY_HOURS
from core.extensions import db
from core.models import AuditEvent, Reseller
from core.timeutil import utcnow
from desk.ticket_models import Ticket, TicketAttachment
from reseller import tasks
from reseller.models import ClientDeletion, ClientDeletionCode
from reseller.purge import enqueue_purge
from reseller.purge_batches import sole_logins
from reseller.states import PurgeStatus
from tenant.domain_models import ClientDomain
from tenant.inbox_models import Contact, Conversation, Message, SessionWindow, Team
from tenant.models import Client, CustomFieldValue

PURPOSE = "delete-client"


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
    "ticket_attachments": _l("Ticket attachments"),
    "payments": _l("Invoices and payments"),
    "subscriptions": _l("Subscriptions (plans)"),
    "extra_packs": _l("Extra-conversation packs"),
    "custom_field_values": _l("Custom field values"),
    "domains": _l("Domains"),
    "files": _l("Files (photo)"),
}


def deletion_counts(client: Client) -> dict[str, int]:
    """How many rows (and files) of each kind the deletion removes, counted by queries
    scoped to the client."""

    def count(model, *where) -> int:
        return db.session.scalar(
            select(func.count())
            .select_from(model)
            .where(model.client_id == client.id, model.reseller_id == client.reseller_id, *where)
        )

    return {
        "users": count(Account),
        "logins": db.session.scalar(select(func.count()).select_from(sole_logins(client.id).subquery())),
        "teams": count(Team),
        "contacts": count(Contact),
        "conversations": count(Conversation),
        "messages": count(Message),
        "session_windows": count(SessionWindow),
        "tickets": count(Ticket),
        "ticket_attachments": count(TicketAttachment),
        "payments": count(Payment),
        "subscriptions": count(Subscription),
        "extra_packs": count(ExtraPack),
        "custom_field_values": count(CustomFieldValue),
        "domains": count(ClientDomain),
        "files": 1 if client.photo_path else 0,
    }


def kept_audit_entries(client: Client) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.client_id == client.id, AuditEvent.reseller_id == client.reseller_id)
    )


def deletion_rows(reseller_id: int, limit: int = 200) -> list:
    """The reseller's deletions, latest first: (deletion, the client's name, the name
    of who asked: the staff member, or the API client); the client's name is ``None``
    once purged."""
    return db.session.execute(
        select(
            ClientDeletion, Client.trade_name, func.coalesce(Account.name, ClientDeletion.requested_by_label)
        )
        .outerjoin(Client, (Client.id == ClientDeletion.client_id) & (Client.reseller_id == reseller_id))
        .outerjoin(
            Account,
            (Account.id == ClientDeletion.requested_by_account_id) & (Account.reseller_id == reseller_id),
        )
        .where(ClientDeletion.reseller_id == reseller_id)
        .order_by(ClientDeletion.requested_at.desc(), ClientDeletion.id.desc())
        .limit(limit)
    ).all()


def purge_delay(reseller: Reseller | None = None) -> timedelta:
    """How long a deleted client stays recoverable: the reseller's own delay when it set
    one, else the platform's; never above the cap that keeps the 48-hour promise."""
    hours = current_app.config["CLIENT_PURGE_DELAY_HOURS"]
    own = reseller.purge_delay_hours if reseller is not None else None
    if own is not None:
        hours = own
    return timedelta(hours=min(max(hours, 0), MAX_PURGE_DELAY_HOURS))


# --- step 2: the one-time code ------------------------------------------------------------


def uses_authenticator(staff: Account) -> bool:
    """Staff with an authenticator app confirm with it; the others get an e-mailed code."""
    return staff.login.has_totp


def _digest(row: ClientDeletionCode, code: str) -> str:
    # Bound to this row, this client and this staff account.
    return codes.keyed_digest(PURPOSE, str(row.id), str(row.client_id), str(row.account_id), code)


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
        or row.attempts >= codes.CODE_MAX_TRIES
    ):
        return None
    return row


def request_code(staff: Account, client: Client) -> ClientDeletionCode:
    """Step 2: the code that lets ``staff`` delete ``client``.

    E-mailed to the staff member, or (with an authenticator app enrolled) nothing is
    sent and the app's code is asked. Asking again while a code is live is a resend:
    throttled, and the tries already spent stay spent. Raises
    :class:`codes.CodeRefused` (TOO_SOON, TOO_MANY_SENDS) when nothing may be sent now.
    """
    now = utcnow()
    method = ClientDeletionCode.TOTP if uses_authenticator(staff) else ClientDeletionCode.EMAIL
    row = live_code(staff, client)
    if row is not None and row.method == method:
        if method == ClientDeletionCode.TOTP:
            return row
        _resend(staff, client, row)
        return row
    codes.check_hourly_cap(ClientDeletionCode, ClientDeletionCode.account_id == staff.id)
    row = ClientDeletionCode(
        reseller_id=client.reseller_id,
        client_id=client.id,
        account_id=staff.id,
        method=method,
        created_at=now,
        last_sent_at=now,
        expires_at=now + codes.CODE_TTL,
    )
    db.session.add(row)
    db.session.flush()
    audit.record("client.deletion_requested", client, details={"method": method})
    if method == ClientDeletionCode.EMAIL:
        code = codes.issue(row, partial(_digest, row))
        _send_code(staff, client, code)
        audit.record("client.deletion_code_sent", client, details={"code_id": row.id})
    return row


def _resend(staff: Account, client: Client, row: ClientDeletionCode) -> None:
    code = codes.renew_code(row, partial(_digest, row))
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
        minutes=int(codes.CODE_TTL.total_seconds() // 60),
        when=utcnow(),
        ip=(request.remote_addr if has_request_context() else None) or "-",
        email=staff.email,
        security_url=links.reseller_url(reseller, "account.security"),
    )
    mail.send_mail(
        staff.email,
        _("%(code)s is your code to delete the client %(client)s", code=code, client=client.trade_name),
        text,
        **branding.mail_identity(reseller),
    )


def verify_code(staff: Account, client: Client, code: str) -> ClientDeletionCode:
    """Spend one try on ``code``; return the code row when it wins.

    As for login codes, the try is counted before the comparison and the code is
    marked used by a conditional UPDATE: of two concurrent submissions, one wins.
    """
    row = latest_code(staff, client)
    if row is None:
        raise codes.CodeRefused(codes.EXPIRED)

    def wrong(row: ClientDeletionCode) -> None:
        audit.record(
            "client.deletion_code_wrong", client, details={"code_id": row.id, "attempts": row.attempts}
        )

    matches = (lambda c: totp.check_totp(staff.login, c)) if row.method == ClientDeletionCode.TOTP else None
    return codes.check(row, code, partial(_digest, row), matches=matches, on_wrong=wrong)


# --- step 3: confirm ------------------------------------------------------------------------


def confirm_deletion(staff: Account, client: Client, code: str) -> ClientDeletion:
    """Delete ``client`` now, in the caller's transaction, once ``code`` wins.

    The client disappears from every list, its users' sessions end and they cannot log
    in, its channel refuses messages, its subscription is cancelled, and the purge is
    scheduled. Raises :class:`codes.CodeRefused` (commit: the spent try counts) or
    :class:`DeletionRefused` (roll back: nothing happened, the code stays usable).
    """
    verify_code(staff, client, code)
    return delete_client(client, requested_by_account_id=staff.id)


def delete_client(
    client: Client, *, requested_by_account_id: int | None, requested_by_label: str | None = None
) -> ClientDeletion:
    """The deletion itself, once its confirmation won (the panel's code, or the API's
    confirmation token: ``api.lifecycle``, which names its API client in
    ``requested_by_label``). Raises :class:`DeletionRefused` (roll back)."""
    now = utcnow()
    hidden = db.session.execute(
        update(Client)
        .where(Client.id == client.id, Client.reseller_id == client.reseller_id, Client.deleted_at.is_(None))
        .values(deleted_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if hidden != 1:
        raise DeletionRefused(_("This client was already deleted."))
    db.session.refresh(client)
    counts = deletion_counts(client)
    sessions_ended = auth_sessions.revoke_sessions(client_id=client.id)
    deletion = ClientDeletion(
        reseller_id=client.reseller_id,
        client_id=client.id,
        requested_by_account_id=requested_by_account_id,
        requested_by_label=(requested_by_label or "")[:120] or None,
        requested_at=now,
        purge_due_at=now + purge_delay(db.session.get(Reseller, client.reseller_id)),
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
    enqueue_purge(deletion, delay=deletion.purge_due_at - now)
    return deletion


def _cancel_subscription(client: Client) -> None:
    if current_subscription(client) is None:
        return
    try:
        subscriptions.cancel_plan(client, "now")
    except (BillingRejected, StripeUnavailable) as exc:
        raise DeletionRefused(str(exc)) from exc


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
        .values(cancelled_at=now, cancelled_by_account_id=staff.id, status=PurgeStatus.CANCELLED)
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


# Job aliases for one release: jobs queued by the previous release name these paths.
purge_job = tasks.purge_job  # alias for one release
sweep_job = tasks.sweep_job  # alias for one release
