"""The unknown senders queue (seed 003, issue 14): messages whose sender is nobody the
intake may write as (the reseller turned off creating clients from e-mail, a deactivated
user, a user of a client the desk does not serve) wait here for staff to decide.

- *assign*: the sender becomes a user of the client staff choose (the panel's own rule,
  ``tenant.users.add_user_to_client``: permissions checked, invitation sent) and the
  message is processed again, opening its ticket as that user. Refused when the desk the
  message came to does not serve that client.
- *discard*: the message is kept (its raw bytes stay downloadable) but leaves the queue.

Both only on the reseller's own waiting messages, audited.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from core import audit, jobs
from core.extensions import db
from core.paging import Page, page_of
from desk.models import Desk
from desk.tickets import TicketRefused, desk_serves_client
from intake.models import InboundMessage
from intake.states import IntakeOutcome
from tenant.models import Client
from tenant.users import add_user_to_client

PER_PAGE = 25


def _on_desks(stmt, desk_ids: list[int] | None):
    """Only messages to the desks the staff member works (``None``: every desk)."""
    return stmt if desk_ids is None else stmt.where(InboundMessage.desk_id.in_(desk_ids))


def waiting(reseller_id: int, desk_ids: list[int] | None, page: int = 1) -> Page:
    """One page of the reseller's waiting messages to ``desk_ids``, newest first, with
    their desks."""
    stmt = _on_desks(
        select(InboundMessage, Desk)
        .outerjoin(Desk, Desk.id == InboundMessage.desk_id)
        .where(
            InboundMessage.reseller_id == reseller_id,
            InboundMessage.outcome == IntakeOutcome.UNKNOWN_SENDER,
        ),
        desk_ids,
    )
    return page_of(
        stmt, page, PER_PAGE, InboundMessage.received_at.desc(), InboundMessage.id.desc(), scalars=False
    )


def waiting_message(reseller_id: int, desk_ids: list[int] | None, message_id: int) -> InboundMessage | None:
    """The reseller's waiting message of that id to one of ``desk_ids`` (another's, one
    to a desk the staff member does not work, or one already decided: None)."""
    return db.session.scalar(
        _on_desks(
            select(InboundMessage).where(
                InboundMessage.id == message_id,
                InboundMessage.reseller_id == reseller_id,
                InboundMessage.outcome == IntakeOutcome.UNKNOWN_SENDER,
            ),
            desk_ids,
        )
    )


def assign(row: InboundMessage, client: Client, *, actor) -> None:
    """Make the sender a user of ``client`` and process the message again (after commit)."""
    desk = db.session.get(Desk, row.desk_id) if row.desk_id else None
    if desk is None or not desk_serves_client(desk, client):
        raise TicketRefused(_("The desk this e-mail came to does not serve this client: link them first."))
    if not row.sender:
        raise TicketRefused(_("This e-mail has no sender address."))
    name = row.sender.split("@", 1)[0]
    add_user_to_client(client, actor=actor, name=name, email=row.sender)
    audit.record(
        "mail.unknown_sender_assigned",
        client,
        details={"message_id": row.id, "sender": row.sender, "client_id": client.id},
    )
    row.processed_at, row.outcome, row.last_error = None, None, None
    jobs.enqueue("intake.tasks.process_message", row.id, queue="mail")


def discard(row: InboundMessage) -> None:
    row.outcome = IntakeOutcome.DISCARDED
    audit.record(
        "mail.unknown_sender_discarded",
        None,
        details={"message_id": row.id, "sender": row.sender},
        reseller_id=row.reseller_id,
    )
