"""The inbox list as the page shows it (issue 17: 50 rows of a client with 100,000
conversations in ≤ 15 ms): one statement reads the page's conversations with what each
row shows (contact, phone, team, assignee, the newest message for the preview, the
messages from the contact the account has not read), and the rows are written once in
Python, ready for the template (the link, the phone as the account may see it, the
dates in the user's language).

The statement is built once per (chat level, tab, size) with bound parameters, so
SQLAlchemy keys and compiles it once and psycopg prepares it once; Core rows, no ORM
objects. Who sees what is :func:`tenant.inbox.visibility`, the rule of
``visible_conversations``, with the account's teams as a subquery of the same
statement."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from flask import url_for
from sqlalchemy import Integer, bindparam, select

from auth.models import Account
from core.extensions import db
from core.formatting import ago_writer, datetime_writer, number_writer
from tenant import inbox, reads
from tenant.inbox_models import Contact, Conversation, Message, Team
from tenant.live import preview
from tenant.phones import shown_phone


class InboxRow(NamedTuple):
    """One conversation of the list, every value as the row shows it."""

    id: int
    href: str
    name: str
    phone: str
    team: str | None  # the team's name; None: no team
    preview: str
    iso: str  # the last message's moment for <time datetime>
    title: str  # the same moment in the user's language and zone
    ago: str
    unread: int  # messages from the contact the account has not read
    unread_text: str
    assignee: str | None  # the assignee's name; None: in the queue


def _account_id():
    return bindparam("account_id", type_=Integer)


@lru_cache(maxsize=64)
def _page_statement(level: int, view: str, limit: int):
    c = Conversation.__table__.c
    account = _account_id()
    teams = inbox.teams_of_account(account)
    where = [
        c.reseller_id == bindparam("reseller_id", type_=Integer),
        c.client_id == bindparam("client_id", type_=Integer),
        c.status == bindparam("status"),
    ]
    rule = inbox.visibility(level, account, teams)
    if rule is not None:
        where.append(rule)
    narrow = {
        "mine": c.assigned_account_id == account,
        "queue": c.assigned_account_id.is_(None),
        "team": c.team_id.in_(teams),
    }
    if view in narrow:
        where.append(narrow[view])
    # The page first (the walk of the index stops at ``limit`` rows), then what its rows show.
    page = (
        select(
            c.id,
            c.contact_id,
            c.team_id,
            c.assigned_account_id,
            c.last_message_at,
            c.last_message_id,
            c.last_inbound_message_id,
        )
        .where(*where)
        .order_by(c.last_message_at.desc(), c.id.desc())
        .limit(limit)
        .subquery("page")
    )
    contact, team, assignee = Contact.__table__, Team.__table__, Account.__table__
    newest = Message.__table__.alias("newest")
    return (
        select(
            page.c.id,
            page.c.last_message_at,
            contact.c.name,
            contact.c.phone,
            team.c.name,
            assignee.c.name,
            newest.c.body,
            reads.unread_since_marker(page.c.id, page.c.last_inbound_message_id),
        )
        .select_from(page)
        .outerjoin(contact, contact.c.id == page.c.contact_id)
        .outerjoin(team, team.c.id == page.c.team_id)
        .outerjoin(assignee, assignee.c.id == page.c.assigned_account_id)
        .outerjoin(newest, newest.c.id == page.c.last_message_id)
        .order_by(page.c.last_message_at.desc(), page.c.id.desc())
    )


def rows(account, *, view: str, status: str, limit: int) -> list[InboxRow]:
    """The conversations of one inbox tab (``mine``, ``queue``, ``team``, ``all``) in
    ``status`` that ``account`` sees, newest first, as the list shows them."""
    found = db.session.execute(
        _page_statement(account.chat_level, view, limit),
        {
            "account_id": account.id,
            "reseller_id": account.reseller_id,
            "client_id": account.client_id,
            "status": str(status),
        },
    ).all()
    if not found:
        return []
    # The route is /conversations/<id>: its URL built once, each row's id put at its end.
    link = url_for("tenant.conversation", conversation_id=0)
    prefix = link[:-1] if link.endswith("/0") else None
    when, ago, number = datetime_writer(), ago_writer(), number_writer()
    shown = []
    for cid, at, name, phone, team, assignee, body, unread in found:
        moment: datetime = at
        shown.append(
            InboxRow(
                id=cid,
                href=f"{prefix}{cid}" if prefix else url_for("tenant.conversation", conversation_id=cid),
                name=name,
                phone=shown_phone(account, phone),
                team=team,
                preview=preview(body) if body is not None else "",
                iso=f"{moment.isoformat()}Z",
                title=when(moment),
                ago=ago(moment),
                unread=unread or 0,
                unread_text=number(unread or 0),
                assignee=assignee,
            )
        )
    return shown
