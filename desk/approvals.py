"""Approvals of a ticket asked of named client users (issue 15): any one, all, or N of M.

A ticket has at most one pending approval. While it is pending the ticket waits on the
client (the reseller's default "waiting on client" status, whose SLA pauses) and no other
status change is made (``ticket_changes.change_status``); it moves on only when the rule
is met (approved: the default open status) or can no longer be met (refused: the default
closed status), or when staff cancel it (back to open). Staff logged in as an approver
never decide for them. Each step writes an ``approval`` event (audited) on the timeline.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import or_, select

from auth import permissions as perm
from auth.access import is_impersonating
from auth.models import CLIENT_USER, Account
from core import audit
from core.extensions import db
from core.timeutil import utcnow
from core.validation import parse_int
from desk import approval_mail
from desk.review_models import TicketApproval, TicketApprovalVote
from desk.states import ApprovalRule, ApprovalState, EntryKind, EventType, StatusKind, VoteDecision
from desk.statuses import default_status
from desk.ticket_changes import change_status, pending_approval, ticket_client
from desk.ticket_models import Ticket
from desk.tickets import TicketRefused, add_entry, add_event, author_ids, clean_text, is_finished
from tenant.users import assignable_users

MAX_APPROVERS = 20
MAX_COMMENT = 2_000
MAX_NOTE = 2_000


def candidates(ticket: Ticket) -> list[Account]:
    """Who may be asked: the active users of the ticket's client (``tenant.users``) who
    use the portal, where approvals are decided."""
    users = assignable_users(ticket_client(ticket))
    return [a for a in users if perm.PORTAL in (a.permissions or [])]


def _needed(rule: ApprovalRule, raw_needed, approvers: int) -> int:
    if rule == ApprovalRule.ANY:
        return 1
    if rule == ApprovalRule.ALL:
        return approvers
    needed = parse_int(raw_needed, min=1)
    if needed is None or needed > approvers:
        raise TicketRefused(
            _("The approvals needed must be between 1 and %(n)d (the number of approvers).", n=approvers)
        )
    return needed


def request(ticket: Ticket, approver_ids, rule, needed=None, note: str = "") -> TicketApproval:
    """Ask ``approver_ids`` (users of the ticket's client) to approve the ticket under
    ``rule`` (``needed``: for N of M). Refused as a whole, nothing written, for a finished
    ticket, a second pending approval, no or too many approvers, one who is not an active
    portal user of the ticket's client, or ``needed`` out of range."""
    if ticket.status_kind == StatusKind.MERGED or is_finished(ticket):
        raise TicketRefused(_("A finished ticket is not sent for approval."))
    if pending_approval(ticket) is not None:
        raise TicketRefused(_("This ticket already waits for an approval: cancel it first."))
    ids = list(dict.fromkeys(parse_int(raw, min=1) for raw in approver_ids if str(raw).strip()))
    if not ids:
        raise TicketRefused(_("Choose at least one approver."))
    if len(ids) > MAX_APPROVERS:
        raise TicketRefused(_("Choose at most %(n)d approvers.", n=MAX_APPROVERS))
    by_id = {a.id: a for a in candidates(ticket)}
    if any(i not in by_id for i in ids):
        raise TicketRefused(
            _("Approvers must be active users of the ticket's client with access to the portal.")
        )
    try:
        chosen = ApprovalRule(rule)
    except ValueError:
        chosen = ApprovalRule.NONE
    if chosen == ApprovalRule.NONE:
        raise TicketRefused(_("Choose who must approve: any one, all, or a number of them."))
    note = clean_text(note, limit=MAX_NOTE, label=_("Note"), required=False)
    approval = TicketApproval(
        reseller_id=ticket.reseller_id,
        client_id=ticket.client_id,
        ticket_id=ticket.id,
        rule=chosen,
        needed=_needed(chosen, needed, len(ids)),
        state=ApprovalState.PENDING,
        note=note,
        requested_by_account_id=author_ids()[0],
        requested_at=utcnow(),
    )
    approval.votes = [
        TicketApprovalVote(reseller_id=ticket.reseller_id, client_id=ticket.client_id, account_id=i)
        for i in ids
    ]
    db.session.add(approval)
    db.session.flush()
    waiting = default_status(ticket.reseller_id, StatusKind.WAITING_ON_CLIENT)
    change_status(ticket, waiting, by_approval=True)
    add_event(
        ticket,
        EventType.APPROVAL,
        after={
            "approval_id": approval.id,
            "state": str(ApprovalState.PENDING),
            "rule": str(chosen),
            "needed": approval.needed,
            "approvers": ids,
        },
    )
    asker = (
        db.session.get(Account, approval.requested_by_account_id)
        if approval.requested_by_account_id
        else None
    )
    approval_mail.approvers_asked(approval, ticket, asker.name if asker else ticket.desk.name)
    return approval


def desk_rule_approvers(ticket: Ticket) -> list[Account]:
    """The approvers a desk's rule names: the client's supervisors (users who see all
    its tickets) and its responsible user, among those who may be asked."""
    responsible = ticket_client(ticket).responsible_account_id
    return [a for a in candidates(ticket) if a.id == responsible or perm.ALL_TICKETS in (a.permissions or [])]


def request_for_desk_rule(ticket: Ticket) -> TicketApproval | None:
    """A ticket just opened on a desk whose rule asks for approval: ask the client's
    supervisors and responsible user (``needed`` capped to them). Nobody to ask: no
    approval, and an internal note says why. Call it right after ``open_ticket``."""
    desk = ticket.desk
    if desk.approval_rule == ApprovalRule.NONE:
        return None
    people = desk_rule_approvers(ticket)[:MAX_APPROVERS]
    if not people:
        add_entry(
            ticket,
            EntryKind.INTERNAL_NOTE,
            body=_(
                "No approval was asked: the client has no active user who sees all its tickets "
                "or is responsible for it, with access to the portal."
            ),
        )
        audit.record("ticket.approval_skipped", ticket, details={"number": ticket.number, "desk_id": desk.id})
        return None
    needed = min(desk.approvals_needed or 1, len(people))
    note = _("The desk %(desk)s asks for approval of its new tickets.", desk=desk.name)
    return request(ticket, [a.id for a in people], desk.approval_rule, needed, note)


def locked_approval(approval_id, account: Account) -> TicketApproval | None:
    """The approval of that id asked of ``account`` (a client user), locked for its
    decision so that two last votes cannot both finish it; else ``None``. Its ticket is
    locked first, in the order staff pages lock (ticket, then approval)."""
    approval_id = parse_int(approval_id, min=1)
    if approval_id is None or account.kind != CLIENT_USER:
        return None
    mine = select(TicketApprovalVote.id).where(
        TicketApprovalVote.approval_id == TicketApproval.id, TicketApprovalVote.account_id == account.id
    )
    stmt = select(TicketApproval).where(
        TicketApproval.id == approval_id,
        TicketApproval.reseller_id == account.reseller_id,
        TicketApproval.client_id == account.client_id,
        mine.exists(),
    )
    found = db.session.scalar(stmt)
    if found is None:
        return None
    db.session.scalar(select(Ticket).where(Ticket.id == found.ticket_id).with_for_update())
    return db.session.scalar(stmt.with_for_update().execution_options(populate_existing=True))


def decide(approval: TicketApproval, account: Account, decision, comment: str = "") -> TicketApproval:
    """``account`` approves or refuses (a comment is required to refuse). Refused for
    staff logged in as the user, someone not asked, a second decision, or an approval no
    longer pending. Lock the approval first (:func:`locked_approval`)."""
    if is_impersonating():
        raise TicketRefused(_("Staff logged in as a user cannot decide an approval on the user's behalf."))
    if approval.state != ApprovalState.PENDING:
        raise TicketRefused(_("This approval is no longer pending: it takes no more decisions."))
    vote = next((v for v in approval.votes if v.account_id == account.id), None)
    if vote is None or account.kind != CLIENT_USER:
        raise TicketRefused(_("Your approval is not asked on this ticket."))
    if vote.decision is not None:
        raise TicketRefused(_("You already decided on this approval."))
    try:
        chosen = VoteDecision(decision)
    except ValueError:
        raise TicketRefused(_("Approve or refuse.")) from None
    comment = clean_text(
        comment, limit=MAX_COMMENT, label=_("Comment"), required=chosen == VoteDecision.REFUSED
    )
    ticket = db.session.get(Ticket, approval.ticket_id)
    vote.decision, vote.comment, vote.decided_at = chosen, comment, utcnow()
    add_event(
        ticket,
        EventType.APPROVAL,
        after={"approval_id": approval.id, "vote": str(chosen), "account_id": account.id, "comment": comment},
    )
    approvals = sum(v.decision == VoteDecision.APPROVED for v in approval.votes)
    refusals = sum(v.decision == VoteDecision.REFUSED for v in approval.votes)
    if approvals >= approval.needed:
        _finish(approval, ticket, ApprovalState.APPROVED, StatusKind.OPEN)
    elif refusals > len(approval.votes) - approval.needed:
        _finish(approval, ticket, ApprovalState.REFUSED, StatusKind.CLOSED)
    return approval


def _finish(approval: TicketApproval, ticket: Ticket, state: ApprovalState, kind: StatusKind) -> None:
    approval.state, approval.decided_at = state, utcnow()
    names = {
        a.id: a.name for a in db.session.scalars(select(Account).where(Account.id.in_(voter_ids(approval))))
    }
    comments = [
        f"{names.get(v.account_id, '')}: {v.comment}"
        for v in approval.votes
        if v.comment and (state == ApprovalState.APPROVED or v.decision == VoteDecision.REFUSED)
    ]
    add_event(
        ticket,
        EventType.APPROVAL,
        before={"state": str(ApprovalState.PENDING)},
        after={"approval_id": approval.id, "state": str(state), "comments": comments},
    )
    change_status(ticket, default_status(ticket.reseller_id, kind), by_approval=True)
    approval_mail.outcome(approval, ticket, comments)


def cancel(ticket: Ticket) -> TicketApproval:
    """Staff withdraw the ticket's pending approval: the ticket is back in service and
    the approvers who had not decided are told nothing more is needed."""
    approval = db.session.scalar(
        select(TicketApproval)
        .where(
            TicketApproval.ticket_id == ticket.id,
            TicketApproval.reseller_id == ticket.reseller_id,
            TicketApproval.state == ApprovalState.PENDING,
        )
        .with_for_update()
    )
    if approval is None:
        raise TicketRefused(_("This ticket has no pending approval."))
    approval.state, approval.decided_at = ApprovalState.CANCELLED, utcnow()
    add_event(
        ticket,
        EventType.APPROVAL,
        before={"state": str(ApprovalState.PENDING)},
        after={"approval_id": approval.id, "state": str(ApprovalState.CANCELLED)},
    )
    change_status(ticket, default_status(ticket.reseller_id, StatusKind.OPEN), by_approval=True)
    approval_mail.approvers_released(approval, ticket)
    return approval


# --- what the pages show -----------------------------------------------------------------


def voter_ids(approval: TicketApproval) -> list[int]:
    return [v.account_id for v in approval.votes]


def waits_for(approval: TicketApproval, account: Account) -> bool:
    """Whether ``approval`` still waits for ``account``'s decision."""
    return approval.state == ApprovalState.PENDING and any(
        v.account_id == account.id and v.decision is None for v in approval.votes
    )


def of_ticket(ticket: Ticket) -> list[TicketApproval]:
    """The ticket's approvals, newest first."""
    return list(
        db.session.scalars(
            select(TicketApproval)
            .where(TicketApproval.ticket_id == ticket.id, TicketApproval.reseller_id == ticket.reseller_id)
            .order_by(TicketApproval.id.desc())
        )
    )


def of_approver(account: Account, *, pending: bool) -> list[TicketApproval]:
    """The approvals asked of ``account``: still waiting for its decision (``pending``),
    or those it decided and those that ended without it (newest first, at most 50)."""
    stmt = (
        select(TicketApproval)
        .join(TicketApprovalVote, TicketApprovalVote.approval_id == TicketApproval.id)
        .where(
            TicketApprovalVote.account_id == account.id,
            TicketApproval.reseller_id == account.reseller_id,
            TicketApproval.client_id == account.client_id,
        )
    )
    waiting = (TicketApproval.state == ApprovalState.PENDING) & TicketApprovalVote.decision.is_(None)
    if pending:
        stmt = stmt.where(waiting).order_by(TicketApproval.id)
    else:
        stmt = stmt.where(
            or_(TicketApprovalVote.decision.is_not(None), TicketApproval.state != ApprovalState.PENDING)
        ).order_by(TicketApproval.id.desc())
    return list(db.session.scalars(stmt.limit(50)))


def people(approvals: list[TicketApproval]) -> dict[int, Account]:
    """The accounts named by ``approvals`` (approvers and who asked), by id."""
    ids = {a.requested_by_account_id for a in approvals} | {i for a in approvals for i in voter_ids(a)}
    ids.discard(None)
    if not ids:
        return {}
    return {a.id: a for a in db.session.scalars(select(Account).where(Account.id.in_(ids)))}


def tickets_of(approvals: list[TicketApproval]) -> dict[int, Ticket]:
    """The tickets of ``approvals``, by id (what an approver is told of each: its number,
    subject and desk, whether or not the ticket is theirs to read)."""
    ids = {a.ticket_id for a in approvals}
    if not ids:
        return {}
    first = approvals[0]
    rows = db.session.scalars(
        select(Ticket).where(
            Ticket.id.in_(ids), Ticket.reseller_id == first.reseller_id, Ticket.client_id == first.client_id
        )
    )
    return {t.id: t for t in rows}
