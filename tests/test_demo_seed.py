"""The demo holds still: the periodic sweeps find nothing to do on a freshly seeded
demo, that day and every day of the following week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from auth import permissions as perm
from auth.models import Account, Login
from billing.models import Payment, Subscription
from core import jobs
from core.extensions import db
from core.models import AuditEvent, Reseller
from core.timeutil import LOCAL_TZ
from desk.models import Desk, DeskClient
from desk.states import EntryKind, EventType, StatusKind
from desk.ticket_models import Ticket, TicketEntry
from portal import knowledge
from portal.terms import current_version, must_accept
from seeds.demo import DEMO_HOST, seed_demo
from tenant.domain_models import ClientDomain
from tenant.domains import domain_of_email
from tenant.inbox_models import SessionWindow
from tenant.models import Client


def picture() -> dict:
    """What the demo shows of each client's billing, and how much history there is."""
    shown = {}
    for client in db.session.scalars(select(Client).order_by(Client.id)):
        db.session.refresh(client)
        subs = db.session.scalars(
            select(Subscription).where(Subscription.client_id == client.id).order_by(Subscription.id)
        )
        payments = db.session.scalars(
            select(Payment).where(Payment.client_id == client.id).order_by(Payment.id)
        )
        shown[client.trade_name] = {
            "client": (
                client.status,
                client.suspended,
                client.suspension_reason,
                client.inactivated_at,
                client.plan_id,
                client.plan_name,
                client.due_date,
                client.payment_status,
                client.payment_type,
                client.last_payment_date,
                client.sessions_quota,
                client.sessions_consumed,
                client.extra_balance,
            ),
            "subscriptions": [
                (s.status, s.plan_id, s.next_plan_id, s.current_period_start, s.current_period_end)
                for s in subs
            ],
            "payments": [(p.status, p.kind, p.due_date, p.amount_cents) for p in payments],
        }
    shown["audit events"] = db.session.scalar(select(func.count(AuditEvent.id)))
    return shown


def run_every_periodic_job() -> None:
    assert {"billing.deadlines.sweep_deadlines", "billing.consistency.check_summaries"} <= set(jobs.PERIODIC)
    for func_path in jobs.PERIODIC:
        jobs.execute(func_path)


# Seeded just before local midnight, the sweeps then run on the next calendar day.
@pytest.mark.parametrize("seeded_at", [(15, 0), (23, 58)])
def test_the_periodic_sweeps_leave_the_fresh_demo_unchanged_for_a_week(app, seeded_at):
    seeded = datetime.now(LOCAL_TZ).replace(hour=seeded_at[0], minute=seeded_at[1], second=0)
    with app.app_context():
        with time_machine.travel(seeded, tick=False):
            seed_demo()
            db.session.commit()
        reseller = db.session.scalar(select(Reseller).where(Reseller.name == "Demo Revenda"))
        assert reseller is not None and DEMO_HOST in {h.host for h in reseller.hosts}
        before = picture()
        assert len(before) == 31
        for days in range(8):
            with time_machine.travel(seeded + timedelta(days=days, minutes=10), tick=False):
                run_every_periodic_job()
            after = picture()
            changed = {k: (before[k], after[k]) for k in before if before[k] != after.get(k)}
            assert changed == {}, f"day {days}: {changed}"


def test_each_active_demo_client_consumed_exactly_the_windows_it_opened_this_period(app):
    """The list's sessions consumed and the client page's sessions used (its windows) agree."""
    with app.app_context():
        seed_demo()
        db.session.commit()
        rows = db.session.execute(
            select(Client.trade_name, Client.sessions_consumed, Subscription.current_period_start)
            .join(Subscription, Subscription.client_id == Client.id)
            .where(Client.status == "active")
        ).all()
        assert len(rows) >= 10 and any(consumed > 0 for _name, consumed, _start in rows)
        for name, consumed, start in rows:
            since = datetime.combine(start, datetime.min.time(), tzinfo=LOCAL_TZ).astimezone(UTC)
            opened = db.session.scalar(
                select(func.count(SessionWindow.id))
                .join(Client, Client.id == SessionWindow.client_id)
                .where(Client.trade_name == name, SessionWindow.opened_at >= since.replace(tzinfo=None))
            )
            assert opened == consumed, name


def seeded_demo() -> Reseller:
    """The demo, freshly seeded (inside an application context)."""
    seed_demo()
    db.session.commit()
    return db.session.scalar(select(Reseller).where(Reseller.name == "Demo Revenda"))


def test_the_demo_has_two_desks_with_every_client_and_tickets_across_statuses(app):
    with app.app_context():
        reseller = seeded_demo()
        desks = db.session.scalars(
            select(Desk).where(Desk.reseller_id == reseller.id).order_by(Desk.name)
        ).all()
        assert [d.name for d in desks] == ["Financeiro", "Suporte"]
        assert all(d.sla_policy_id and d.calendar_id and d.link_new_clients for d in desks)
        clients = db.session.scalar(
            select(func.count()).select_from(Client).where(Client.reseller_id == reseller.id)
        )
        for desk in desks:
            linked = select(func.count()).select_from(DeskClient).where(DeskClient.desk_id == desk.id)
            assert db.session.scalar(linked) == clients
        kinds = set(db.session.scalars(select(Ticket.status_kind).where(Ticket.reseller_id == reseller.id)))
        assert {StatusKind.OPEN, StatusKind.PENDING_REVIEW, StatusKind.CLOSED} <= kinds
        # Each ticket was opened on its timeline and carries its SLA from that history:
        # the open ones have a resolution deadline, as a ticket opened in the panel has.
        tickets = db.session.scalars(select(Ticket).where(Ticket.reseller_id == reseller.id)).all()
        opened = (
            select(func.count())
            .select_from(TicketEntry)
            .where(
                TicketEntry.reseller_id == reseller.id,
                TicketEntry.kind == EntryKind.EVENT,
                TicketEntry.event["type"].as_string() == EventType.CREATED,
            )
        )
        assert db.session.scalar(opened) == len(tickets)
        assert all(t.resolution_due_at for t in tickets if t.status_kind == StatusKind.OPEN)


def test_the_demo_portal_shows_tickets_in_every_state_to_its_users(app):
    with app.app_context():
        reseller = seeded_demo()
        agent = db.session.scalar(
            select(Account)
            .join(Login)
            .where(Login.email == "agent@demo.test", Account.reseller_id == reseller.id)
        )
        assert perm.PORTAL in agent.permissions
        kinds = set(
            db.session.scalars(select(Ticket.status_kind).where(Ticket.requester_account_id == agent.id))
        )
        assert kinds >= {
            StatusKind.NEW,
            StatusKind.OPEN,
            StatusKind.WAITING_ON_CLIENT,
            StatusKind.PENDING_REVIEW,
            StatusKind.RESOLVED,
        }
        review = db.session.scalar(
            select(Ticket).where(
                Ticket.requester_account_id == agent.id, Ticket.status_kind == StatusKind.PENDING_REVIEW
            )
        )
        assert review.review_due_at is not None
        clients = db.session.scalars(select(Client).where(Client.reseller_id == reseller.id)).all()
        for client in clients:
            responsible = db.session.get(Account, client.responsible_account_id)
            assert set(perm.RESPONSIBLE_PERMISSIONS) <= set(responsible.permissions)
        unasked = (
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.reseller_id == reseller.id, Ticket.requester_account_id.is_(None))
        )
        assert db.session.scalar(unasked) == 0


def test_the_demo_has_client_domains_and_a_client_created_by_email(app):
    with app.app_context():
        reseller = seeded_demo()
        owned = db.session.execute(
            select(ClientDomain.domain, Client.trade_name, Client.email)
            .join(Client, Client.id == ClientDomain.client_id)
            .where(ClientDomain.reseller_id == reseller.id)
        ).all()
        assert len(owned) == 4
        # Each is the domain of its client's main e-mail, accents in punycode.
        assert all(domain_of_email(email) == domain for domain, _name, email in owned)
        assert "xn--padariapoquente-rkb.com.br" in {domain for domain, _n, _e in owned}
        flagged = db.session.scalars(
            select(Client.trade_name).where(Client.reseller_id == reseller.id, Client.email_review_pending)
        ).all()
        assert len(flagged) == 1 and flagged[0] in {name for _d, name, _e in owned}


def test_the_demo_publishes_its_terms_which_its_client_users_are_asked_to_accept(app):
    with app.app_context():
        reseller = seeded_demo()
        version = current_version(reseller.id)
        assert version.number == 1 and version.published_by_account_id is not None
        assert version.body.startswith("# Termos de uso") and "\n- " in version.body
        agent = db.session.scalar(select(Account).join(Login).where(Login.email == "agent@demo.test"))
        assert must_accept(agent)


def test_the_demo_publishes_knowledge_base_articles_for_each_audience(app):
    with app.app_context():
        reseller = seeded_demo()
        public = knowledge.search(reseller.id, knowledge.PUBLIC)
        for_clients = knowledge.search(reseller.id, knowledge.CLIENT)
        every = knowledge.search(reseller.id, knowledge.STAFF)
        assert len(public) == 1 and len(for_clients) == 3 and len(every) == 4
        assert {a.id for a in knowledge.search(reseller.id, knowledge.CLIENT, "fatura")} == {public[0].id}
        agent = db.session.scalar(select(Account).join(Login).where(Login.email == "agent@demo.test"))
        assert "portal" in agent.permissions
