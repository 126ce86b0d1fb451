"""The e-mails of a ticket's approval: to each approver when it is asked (with the link
to the portal's approvals page) or cancelled, and to the requester and the ticket's
assignee (or, unassigned, the desk's staff) when it is decided. Links are on the
reseller's canonical URL (``core.links``), never the request's host."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from auth.models import STAFF, Account
from core.branding import mail_identity
from core.extensions import db
from core.links import reseller_url
from core.mail import in_product_language, send_mail
from core.models import Reseller
from desk.hooks import client_page
from desk.models import DeskStaff
from desk.review_models import TicketApproval
from desk.states import ApprovalState
from desk.ticket_mail import STAFF_TICKET_ENDPOINT, client_ticket_url
from desk.ticket_models import Ticket


def _link(reseller: Reseller, account: Account, ticket: Ticket, page: str | None = None) -> str:
    if account.kind == STAFF:
        return reseller_url(reseller, STAFF_TICKET_ENDPOINT, ticket_id=ticket.id)
    if page and client_page(page):
        # The portal registers its pages (desk.hooks): desk never names them.
        return reseller_url(reseller, client_page(page))
    return client_ticket_url(reseller, ticket)


def _send(
    reseller: Reseller, people: list[Account], subject: str, lines: list[str], ticket, page=None
) -> int:
    sent = 0
    for account in people:
        if not account.is_usable():
            continue
        text = "\n\n".join([*lines, _("See it here: %(link)s", link=_link(reseller, account, ticket, page))])
        send_mail(account.email, subject, text, **mail_identity(reseller))
        sent += 1
    return sent


def _accounts(ids) -> list[Account]:
    ids = [i for i in dict.fromkeys(ids) if i is not None]
    if not ids:
        return []
    rows = {a.id: a for a in db.session.scalars(select(Account).where(Account.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


@in_product_language
def approvers_asked(approval: TicketApproval, ticket: Ticket, asked_by: str) -> int:
    """Tell each approver their decision is asked (``asked_by``: who asks)."""
    reseller = db.session.get(Reseller, ticket.reseller_id)
    subject = _(
        "[#%(number)d] Your approval is asked: %(subject)s", number=ticket.number, subject=ticket.subject
    )
    lines = [
        _(
            "%(name)s asks for your approval of ticket #%(number)d, %(subject)s.",
            name=asked_by,
            number=ticket.number,
            subject=ticket.subject,
        )
    ]
    if approval.note:
        lines.append(approval.note)
    people = _accounts(v.account_id for v in approval.votes)
    return _send(reseller, people, subject, lines, ticket, page="approvals")


@in_product_language
def approvers_released(approval: TicketApproval, ticket: Ticket) -> int:
    """Tell the approvers who had not decided that nothing more is needed of them."""
    reseller = db.session.get(Reseller, ticket.reseller_id)
    subject = _(
        "[#%(number)d] Approval no longer needed: %(subject)s", number=ticket.number, subject=ticket.subject
    )
    lines = [
        _(
            "The approval of ticket #%(number)d, %(subject)s, was cancelled: "
            "nothing more is needed from you.",
            number=ticket.number,
            subject=ticket.subject,
        )
    ]
    people = _accounts(v.account_id for v in approval.votes if v.decision is None)
    return _send(reseller, people, subject, lines, ticket, page="approvals")


@in_product_language
def outcome(approval: TicketApproval, ticket: Ticket, comments: list[str]) -> int:
    """Tell the requester and the assignee (unassigned: the desk's staff) how it ended."""
    reseller = db.session.get(Reseller, ticket.reseller_id)
    approved = approval.state == ApprovalState.APPROVED
    if approved:
        subject = _("[#%(number)d] Approved: %(subject)s", number=ticket.number, subject=ticket.subject)
        first = _(
            "Ticket #%(number)d, %(subject)s, was approved.", number=ticket.number, subject=ticket.subject
        )
    else:
        subject = _("[#%(number)d] Not approved: %(subject)s", number=ticket.number, subject=ticket.subject)
        first = _(
            "Ticket #%(number)d, %(subject)s, was not approved and is closed.",
            number=ticket.number,
            subject=ticket.subject,
        )
    if ticket.assignee_account_id is not None:
        staff_ids = [ticket.assignee_account_id]
    else:
        staff_ids = db.session.scalars(
            select(DeskStaff.account_id).where(
                DeskStaff.desk_id == ticket.desk_id, DeskStaff.reseller_id == ticket.reseller_id
            )
        )
    people = _accounts([ticket.requester_account_id, *staff_ids])
    return _send(reseller, people, subject, [first, *comments], ticket)
